//! The one entitlement decision, shared by the edge, the API and the local
//! stack: may this verified token watch this title now, and why.
//!
//! Order: the catalogue (when the deployment keeps one: a title it does not
//! list, or one outside its licensing window, is refused to everyone; a
//! free one is open to every signed-in viewer), then the premium groups,
//! then the token's `reelgate:ent` claim (no I/O), then the store. A plan
//! watches only the titles whose tiers include the plan's tier. Claims are a snapshot taken when the token was
//! issued, so they are trusted to say "yes" until the grant's own end, but
//! a "no" is final only while the token is young (`claims_may_deny_for`
//! seconds after `iat`) and its list was complete; otherwise the store is
//! asked. That keeps non-paying viewers off the store without making a
//! purchase wait for the next token.
//!
//! The store can only be consulted through a [`NeedsStore`], so no caller
//! can skip the group or the claims, or read the store first.

use super::claims::{ClaimsError, TokenEntitlements};
use super::grant::{GrantSource, Plan, Snapshot};
use super::title::Title;
use crate::ids::VideoId;
use crate::jwt::Claims;
use crate::time::EpochSeconds;

/// Why access was granted; logged and returned to the client. Its serde
/// form is `as_str`'s (the edge's log line, `shared::edge_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A free title: any signed-in viewer.
    Free,
    PremiumGroup,
    PremiumPlan,
    Purchase,
    Rental,
    Admin,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::PremiumGroup => "premium_group",
            Self::PremiumPlan => "premium_plan",
            Self::Purchase => "purchase",
            Self::Rental => "rental",
            Self::Admin => "admin",
        }
    }
}

/// A yes, with the moment it stops being true (`None`: not before the
/// token itself expires). Cookie and URL lifetimes are capped by it, so a
/// rental ending in two minutes never gets five-minute cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entitled {
    pub basis: Basis,
    pub until: Option<EpochSeconds>,
}

/// Why a viewer may not watch a title. [`Denial::as_str`] is the detailed
/// reason for logs; [`Denial::status`] and [`Denial::reason`] are what the
/// edge and the API answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The catalogue does not list the title.
    #[error("no such title")]
    UnknownTitle,
    /// Outside the title's licensing window: refused even to owners.
    #[error("this title is not available now")]
    NotAvailable,
    /// The viewer's plan is active, but the title is not in its tier, and
    /// no grant covers it.
    #[error("this title is not in your plan's tier")]
    NotInTier,
    /// A young, complete claim list does not hold the title.
    #[error("the token's entitlements do not include this title")]
    NotInClaims,
    /// The store holds neither an active plan nor a grant for the title.
    #[error("you do not hold this title")]
    NotHeld,
    #[error("the rental of this title has ended")]
    RentalEnded,
    #[error("this title was refunded")]
    Revoked,
}

impl Denial {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownTitle => "unknown_title",
            Self::NotAvailable => "not_available",
            Self::NotInTier => "not_in_tier",
            Self::NotInClaims => "not_in_claims",
            Self::NotHeld => "not_held",
            Self::RentalEnded => "rental_ended",
            Self::Revoked => "revoked",
        }
    }

    /// The HTTP status of the refusal, the same at the edge and the API.
    pub fn status(self) -> u16 {
        match self {
            Self::UnknownTitle => 404,
            _ => 403,
        }
    }

    /// The stable reason the edge (`{"error": …}`) and the API (problem
    /// `reason`) answer: `title_not_found`, `not_available`, `not_in_tier`
    /// (a plan of another tier: upgrade or buy), else `not_entitled`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::UnknownTitle => "title_not_found",
            Self::NotAvailable => "not_available",
            Self::NotInTier => "not_in_tier",
            Self::NotInClaims | Self::NotHeld | Self::RentalEnded | Self::Revoked => "not_entitled",
        }
    }
}

/// Why the claims could not decide, so the store must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreReason {
    /// The token carries no `reelgate:ent` claim (the trigger skipped it).
    NoClaim,
    /// The claim does not parse: it is ignored, never half-read.
    MalformedClaim(ClaimsError),
    /// The trigger stopped at its grant limit: the list cannot say no.
    IncompleteClaim,
    /// The token is older than `claims_may_deny_for`: a purchase since may
    /// be missing from it.
    StaleClaim,
    /// The claim holds an active plan without its tier (a token from the
    /// trigger before tiers): it cannot say which titles the plan covers.
    UntieredPlan,
}

impl StoreReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoClaim => "no_claim",
            Self::MalformedClaim(_) => "malformed_claim",
            Self::IncompleteClaim => "incomplete_claim",
            Self::StaleClaim => "stale_claim",
            Self::UntieredPlan => "untiered_plan",
        }
    }
}

/// The claims could not decide: read the (user, title) snapshot and finish
/// the decision with [`NeedsStore::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the decision is not finished until the store answers"]
pub struct NeedsStore {
    reason: StoreReason,
    video: VideoId,
    /// The catalogue's title (`None`: the deployment keeps no catalogue).
    title: Option<Title>,
    now: EpochSeconds,
}

/// The three outcomes of [`Rules::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Entitled(Entitled),
    Denied(Denial),
    NeedsStore(NeedsStore),
}

/// The settings the decision depends on, borrowed from the host's config.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Members of any of these Cognito groups watch every title.
    pub premium_groups: &'a [String],
    /// Seconds after `iat` during which a complete claim list may say no
    /// without asking the store. 0: claims only ever say yes (the API,
    /// which reads the table's home region strongly and cheaply).
    pub claims_may_deny_for: u64,
    /// Whether the deployment keeps a catalogue (title items). With one,
    /// an unlisted title is refused (`title_not_found`) and free titles,
    /// tiers and windows apply. Without one (a deployment from before the
    /// catalogue), every title is a paid title every plan covers, always.
    pub catalogue: bool,
}

impl Rules<'_> {
    pub fn in_premium_group(&self, claims: &Claims) -> bool {
        self.premium_groups
            .iter()
            .any(|group| claims.in_group(group))
    }

    /// Premium for every title: by group (when the token is known), else by
    /// an active plan. Used where a viewer's holdings are listed.
    pub fn premium(
        &self,
        claims: Option<&Claims>,
        plan: Option<&Plan>,
        now: EpochSeconds,
    ) -> Option<Entitled> {
        if claims.is_some_and(|claims| self.in_premium_group(claims)) {
            return Some(Entitled {
                basis: Basis::PremiumGroup,
                until: None,
            });
        }
        plan.filter(|plan| plan.is_active(now))
            .map(|plan| Entitled {
                basis: Basis::PremiumPlan,
                until: Some(plan.premium_until),
            })
    }

    /// Decides from the catalogue and the token alone, or says why the
    /// store must be asked. `title` is the catalogue's item for `video`
    /// (`None`: not listed; ignored without a catalogue); an item for
    /// another id counts as not listed.
    pub fn decide(
        &self,
        claims: &Claims,
        video: &VideoId,
        title: Option<&Title>,
        now: EpochSeconds,
    ) -> Decision {
        let title = match title.filter(|title| title.id == *video) {
            _ if !self.catalogue => None,
            None => return Decision::Denied(Denial::UnknownTitle),
            Some(title) if !title.is_available(now) => {
                return Decision::Denied(Denial::NotAvailable);
            }
            Some(title) => Some(title),
        };
        let entitled = |basis, until| {
            Decision::Entitled(Entitled {
                basis,
                until: cap(title, until),
            })
        };
        if title.is_some_and(|title| title.free) {
            return entitled(Basis::Free, None);
        }
        if self.in_premium_group(claims) {
            return entitled(Basis::PremiumGroup, None);
        }
        let needs_store = |reason| {
            Decision::NeedsStore(NeedsStore {
                reason,
                video: video.clone(),
                title: title.cloned(),
                now,
            })
        };
        let token = match claims
            .entitlements
            .as_deref()
            .map(TokenEntitlements::decode)
        {
            None => return needs_store(StoreReason::NoClaim),
            Some(Err(error)) => return needs_store(StoreReason::MalformedClaim(error)),
            Some(Ok(token)) => token,
        };
        let plan_until = token.premium_until.filter(|until| now < *until);
        // Whether the active plan covers the title: `Some(None)` when the
        // claim cannot say (no tier in it, and the catalogue asks).
        let plan_covers = plan_until.map(|_| match title {
            None => Some(true),
            Some(title) => token.tier.as_ref().map(|t| title.in_tier(t.as_str())),
        });
        if let (Some(until), Some(Some(true))) = (plan_until, plan_covers) {
            return entitled(Basis::PremiumPlan, Some(until));
        }
        match token.grants.iter().find(|(id, _)| id == video) {
            Some((_, None)) => return entitled(Basis::Purchase, None),
            Some((_, Some(until))) if now < *until => {
                return entitled(Basis::Rental, Some(*until));
            }
            _ => {}
        }
        if plan_covers == Some(None) {
            needs_store(StoreReason::UntieredPlan)
        } else if !token.complete {
            needs_store(StoreReason::IncompleteClaim)
        } else if now.get().saturating_sub(claims.issued_at.get()) < self.claims_may_deny_for {
            Decision::Denied(match plan_covers {
                Some(Some(false)) => Denial::NotInTier,
                _ => Denial::NotInClaims,
            })
        } else {
            needs_store(StoreReason::StaleClaim)
        }
    }
}

/// `until` cut at the title's licensing end, so no cookie outlives it.
fn cap(title: Option<&Title>, until: Option<EpochSeconds>) -> Option<EpochSeconds> {
    match title {
        Some(title) => title.cap(until),
        None => until,
    }
}

impl NeedsStore {
    pub fn reason(&self) -> &StoreReason {
        &self.reason
    }

    /// The catalogue title the decision is about (`None`: no catalogue).
    pub fn title(&self) -> Option<&Title> {
        self.title.as_ref()
    }

    /// Finishes the decision from what the store holds for (user, title):
    /// an active plan whose tier includes the title (any plan, without a
    /// catalogue), else an active grant for this title. The title's window
    /// caps every end. The snapshot's own title is not read: the decision
    /// keeps the one it started from.
    pub fn decide(self, store: &Snapshot) -> Result<Entitled, Denial> {
        let now = self.now;
        let title = self.title.as_ref();
        let active_plan = store.plan.as_ref().filter(|plan| plan.is_active(now));
        let covers = |plan: &&Plan| title.is_none_or(|title| title.in_tier(&plan.tier));
        if let Some(plan) = active_plan.filter(covers) {
            return Ok(Entitled {
                basis: Basis::PremiumPlan,
                until: cap(title, Some(plan.premium_until)),
            });
        }
        let Some(grant) = store
            .grant
            .as_ref()
            .filter(|grant| grant.video == self.video)
        else {
            return Err(match active_plan {
                Some(_) => Denial::NotInTier,
                None => Denial::NotHeld,
            });
        };
        if grant.revoked_at.is_some() {
            return Err(Denial::Revoked);
        }
        if !grant.is_active(now) {
            return Err(Denial::RentalEnded);
        }
        let basis = match grant.source {
            GrantSource::Purchase => Basis::Purchase,
            GrantSource::Rental { .. } => Basis::Rental,
            GrantSource::Admin => Basis::Admin,
        };
        Ok(Entitled {
            basis,
            until: cap(title, grant.expires_at()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entitlement::Grant;
    use crate::entitlement::title::tests::title;
    use crate::ids::{Tier, UserSub};

    const ISSUED: u64 = 1_000;
    const WINDOW: u64 = 300;

    /// The log line (serde) and the session response (`as_str`) spell a
    /// basis the same way, so `reelgate logs` counts what viewers were told.
    #[test]
    fn a_basis_serializes_as_its_str() {
        use Basis::*;
        for basis in [Free, PremiumGroup, PremiumPlan, Purchase, Rental, Admin] {
            let json = serde_json::to_string(&basis).unwrap();
            assert_eq!(json, format!("\"{}\"", basis.as_str()));
            assert_eq!(serde_json::from_str::<Basis>(&json).unwrap(), basis);
        }
    }

    fn demo() -> VideoId {
        VideoId::parse("demo").unwrap()
    }

    fn at(t: u64) -> EpochSeconds {
        EpochSeconds::new(t)
    }

    fn groups() -> Vec<String> {
        vec!["premium".to_owned()]
    }

    fn rules(groups: &[String]) -> Rules<'_> {
        Rules {
            premium_groups: groups,
            claims_may_deny_for: WINDOW,
            catalogue: true,
        }
    }

    fn token(groups: &[&str], claim: Option<&str>) -> Claims {
        Claims {
            sub: UserSub::parse("u1").unwrap(),
            username: None,
            token_use: Default::default(),
            client: "c1".into(),
            issued_at: at(ISSUED),
            expires_at: at(ISSUED + 3600),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            entitlements: claim.map(str::to_owned),
            origin_jti: None,
        }
    }

    fn decide(claims: &Claims, now: u64) -> Decision {
        decide_for(claims, &title("demo"), now)
    }

    fn decide_for(claims: &Claims, title: &Title, now: u64) -> Decision {
        rules(&groups()).decide(claims, &title.id, Some(title), at(now))
    }

    fn reason(decision: Decision) -> StoreReason {
        match decision {
            Decision::NeedsStore(needs) => needs.reason().clone(),
            other => panic!("expected the store to be asked, got {other:?}"),
        }
    }

    fn needs_store(now: u64) -> NeedsStore {
        match decide(&token(&[], None), now) {
            Decision::NeedsStore(needs) => needs,
            other => panic!("expected the store to be asked, got {other:?}"),
        }
    }

    fn grant(source: GrantSource, revoked_at: Option<u64>) -> Grant {
        Grant {
            video: demo(),
            source,
            granted_at: at(ISSUED),
            purchase_id: None,
            revoked_at: revoked_at.map(at),
        }
    }

    fn held(grant: Grant) -> Snapshot {
        Snapshot {
            plan: None,
            grant: Some(grant),
            title: None,
        }
    }

    fn plan(tier: &str, until: u64) -> Plan {
        Plan {
            tier: tier.into(),
            premium_until: at(until),
            max_devices: None,
        }
    }

    fn entitled(basis: Basis, until: Option<u64>) -> Decision {
        Decision::Entitled(Entitled {
            basis,
            until: until.map(at),
        })
    }

    #[test]
    fn a_premium_group_member_watches_every_title_without_claims() {
        assert_eq!(
            decide(&token(&["viewers", "premium"], None), ISSUED),
            Decision::Entitled(Entitled {
                basis: Basis::PremiumGroup,
                until: None
            })
        );
    }

    #[test]
    fn a_group_outside_the_premium_groups_grants_nothing() {
        assert_eq!(
            reason(decide(&token(&["viewers"], None), ISSUED)),
            StoreReason::NoClaim
        );
    }

    #[test]
    fn a_plan_claim_entitles_until_premium_until_and_not_at_it() {
        let claims = token(&[], Some("v=1;p=1100;t=premium;g=;c=1"));
        assert_eq!(
            decide(&claims, 1099),
            Decision::Entitled(Entitled {
                basis: Basis::PremiumPlan,
                until: Some(at(1100))
            })
        );
        assert_eq!(decide(&claims, 1100), Decision::Denied(Denial::NotInClaims));
    }

    #[test]
    fn a_purchased_title_in_the_claim_is_entitled_for_the_token_s_life() {
        assert_eq!(
            decide(&token(&[], Some("v=1;g=demo;c=1")), ISSUED + 3000),
            Decision::Entitled(Entitled {
                basis: Basis::Purchase,
                until: None
            })
        );
    }

    #[test]
    fn another_title_in_the_claim_does_not_entitle_this_one() {
        assert_eq!(
            decide(&token(&[], Some("v=1;g=demo2;c=1")), ISSUED + 1),
            Decision::Denied(Denial::NotInClaims)
        );
    }

    #[test]
    fn a_rental_claim_entitles_until_its_end_and_not_at_it() {
        let claims = token(&[], Some("v=1;g=demo@1050;c=1"));
        assert_eq!(
            decide(&claims, 1049),
            Decision::Entitled(Entitled {
                basis: Basis::Rental,
                until: Some(at(1050))
            })
        );
        assert_eq!(decide(&claims, 1050), Decision::Denied(Denial::NotInClaims));
    }

    #[test]
    fn a_complete_claim_says_no_only_inside_the_trusted_window() {
        let claims = token(&[], Some("v=1;g=;c=1"));
        assert_eq!(
            decide(&claims, ISSUED + WINDOW - 1),
            Decision::Denied(Denial::NotInClaims)
        );
        assert_eq!(
            reason(decide(&claims, ISSUED + WINDOW)),
            StoreReason::StaleClaim
        );
    }

    #[test]
    fn a_zero_window_never_lets_the_claims_say_no() {
        let groups = groups();
        let api = Rules {
            premium_groups: &groups,
            claims_may_deny_for: 0,
            catalogue: true,
        };
        let claims = token(&[], Some("v=1;g=;c=1"));
        let decision = api.decide(&claims, &demo(), Some(&title("demo")), at(ISSUED));
        assert_eq!(reason(decision), StoreReason::StaleClaim);
    }

    #[test]
    fn an_incomplete_claim_asks_the_store_even_when_young() {
        assert_eq!(
            reason(decide(&token(&[], Some("v=1;g=other;c=0")), ISSUED)),
            StoreReason::IncompleteClaim
        );
    }

    #[test]
    fn a_token_without_the_claim_asks_the_store() {
        assert_eq!(
            reason(decide(&token(&[], None), ISSUED)),
            StoreReason::NoClaim
        );
    }

    #[test]
    fn a_malformed_claim_is_ignored_and_named_never_trusted() {
        // `g=*` would widen to every title if it were half-read.
        assert_eq!(
            reason(decide(&token(&[], Some("v=1;g=*;c=1")), ISSUED)),
            StoreReason::MalformedClaim(ClaimsError::BadField("g"))
        );
        assert_eq!(
            reason(decide(&token(&[], Some("v=2;g=demo;c=1")), ISSUED)),
            StoreReason::MalformedClaim(ClaimsError::UnknownVersion)
        );
    }

    #[test]
    fn the_store_entitles_by_an_active_plan_before_any_grant() {
        let plan = Plan {
            tier: "premium".into(),
            premium_until: at(ISSUED + 100),
            max_devices: None,
        };
        let snapshot = Snapshot {
            plan: Some(plan),
            grant: Some(grant(GrantSource::Admin, None)),
            title: None,
        };
        assert_eq!(
            needs_store(ISSUED).decide(&snapshot),
            Ok(Entitled {
                basis: Basis::PremiumPlan,
                until: Some(at(ISSUED + 100))
            })
        );
    }

    #[test]
    fn an_ended_plan_leaves_the_grant_to_decide() {
        let snapshot = Snapshot {
            plan: Some(Plan {
                tier: "premium".into(),
                premium_until: at(ISSUED),
                max_devices: None,
            }),
            grant: Some(grant(GrantSource::Admin, None)),
            title: None,
        };
        assert_eq!(
            needs_store(ISSUED).decide(&snapshot).map(|e| e.basis),
            Ok(Basis::Admin)
        );
    }

    #[test]
    fn a_stored_purchase_entitles_without_an_end() {
        assert_eq!(
            needs_store(ISSUED).decide(&held(grant(GrantSource::Purchase, None))),
            Ok(Entitled {
                basis: Basis::Purchase,
                until: None
            })
        );
    }

    #[test]
    fn a_stored_rental_entitles_until_its_end_then_has_ended() {
        let rental = held(grant(
            GrantSource::Rental {
                expires_at: at(ISSUED + 60),
            },
            None,
        ));
        assert_eq!(
            needs_store(ISSUED + 59).decide(&rental),
            Ok(Entitled {
                basis: Basis::Rental,
                until: Some(at(ISSUED + 60))
            })
        );
        assert_eq!(
            needs_store(ISSUED + 60).decide(&rental),
            Err(Denial::RentalEnded)
        );
    }

    #[test]
    fn a_revoked_grant_never_entitles() {
        let refunded = held(grant(GrantSource::Purchase, Some(ISSUED + 5)));
        assert_eq!(
            needs_store(ISSUED + 10).decide(&refunded),
            Err(Denial::Revoked)
        );
    }

    #[test]
    fn an_empty_snapshot_is_not_held() {
        assert_eq!(
            needs_store(ISSUED).decide(&Snapshot::default()),
            Err(Denial::NotHeld)
        );
    }

    #[test]
    fn a_grant_for_another_title_is_not_held() {
        let mut other = grant(GrantSource::Purchase, None);
        other.video = VideoId::parse("other").unwrap();
        assert_eq!(
            needs_store(ISSUED).decide(&held(other)),
            Err(Denial::NotHeld)
        );
    }

    #[test]
    fn listing_holdings_names_the_group_or_an_active_plan() {
        let groups = groups();
        let rules = rules(&groups);
        let member = token(&["premium"], None);
        let plan = Plan {
            tier: "premium".into(),
            premium_until: at(ISSUED + 1),
            max_devices: None,
        };
        assert_eq!(
            rules
                .premium(Some(&member), None, at(ISSUED))
                .map(|e| e.basis),
            Some(Basis::PremiumGroup)
        );
        assert_eq!(
            rules
                .premium(None, Some(&plan), at(ISSUED))
                .map(|e| e.basis),
            Some(Basis::PremiumPlan)
        );
        assert_eq!(rules.premium(None, Some(&plan), at(ISSUED + 1)), None);
    }

    #[test]
    fn an_unlisted_title_is_not_found_for_everyone() {
        let member = token(&["premium"], None);
        let rules = rules(&[]);
        assert_eq!(
            rules.decide(&member, &demo(), None, at(ISSUED)),
            Decision::Denied(Denial::UnknownTitle)
        );
        // An item for another id is not this title's listing.
        let other = title("other");
        assert_eq!(
            rules.decide(&member, &demo(), Some(&other), at(ISSUED)),
            Decision::Denied(Denial::UnknownTitle)
        );
        assert_eq!(Denial::UnknownTitle.status(), 404);
        assert_eq!(Denial::UnknownTitle.reason(), "title_not_found");
    }

    #[test]
    fn without_a_catalogue_every_title_is_paid_and_every_plan_covers_it() {
        let groups = groups();
        let legacy = Rules {
            catalogue: false,
            ..rules(&groups)
        };
        let untiered = token(&[], Some("v=1;p=5000;g=;c=1"));
        assert_eq!(
            legacy.decide(&untiered, &demo(), None, at(ISSUED)),
            entitled(Basis::PremiumPlan, Some(5000))
        );
        // A listing handed in anyway is not consulted.
        let mut free = title("demo");
        free.free = true;
        free.price = None;
        free.rental_price = None;
        free.currency = None;
        assert_eq!(
            legacy.decide(
                &token(&[], Some("v=1;g=;c=1")),
                &demo(),
                Some(&free),
                at(ISSUED)
            ),
            Decision::Denied(Denial::NotInClaims)
        );
    }

    #[test]
    fn a_free_title_is_open_to_any_signed_in_viewer() {
        let mut free = title("demo");
        free.free = true;
        assert_eq!(
            decide_for(&token(&[], None), &free, ISSUED),
            entitled(Basis::Free, None)
        );
    }

    #[test]
    fn outside_the_window_even_owners_and_members_are_refused() {
        let mut licensed = title("demo");
        licensed.available_from = Some(at(ISSUED + 10));
        licensed.available_until = Some(at(ISSUED + 20));
        let owner = token(&[], Some("v=1;g=demo;c=1"));
        let member = token(&["premium"], None);
        for now in [ISSUED, ISSUED + 9, ISSUED + 20, ISSUED + 100] {
            for who in [&owner, &member] {
                assert_eq!(
                    decide_for(who, &licensed, now),
                    Decision::Denied(Denial::NotAvailable),
                    "{now}"
                );
            }
        }
        assert_eq!(
            decide_for(&owner, &licensed, ISSUED + 10),
            entitled(Basis::Purchase, Some(ISSUED + 20))
        );
        assert_eq!(Denial::NotAvailable.reason(), "not_available");
        assert_eq!(Denial::NotAvailable.status(), 403);
        licensed.free = true;
        assert_eq!(
            decide_for(&token(&[], None), &licensed, ISSUED + 20),
            Decision::Denied(Denial::NotAvailable)
        );
    }

    #[test]
    fn inside_the_window_every_end_is_capped_at_the_window_s_end() {
        let mut licensed = title("demo");
        licensed.available_until = Some(at(ISSUED + 20));
        let member = token(&["premium"], None);
        assert_eq!(
            decide_for(&member, &licensed, ISSUED),
            entitled(Basis::PremiumGroup, Some(ISSUED + 20))
        );
        let store = match decide_for(&token(&[], None), &licensed, ISSUED) {
            Decision::NeedsStore(needs) => needs,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            store.decide(&held(grant(GrantSource::Purchase, None))),
            Ok(Entitled {
                basis: Basis::Purchase,
                until: Some(at(ISSUED + 20))
            })
        );
    }

    #[test]
    fn a_plan_claim_watches_only_titles_of_its_tier() {
        let mut members = title("members");
        members.tiers = vec![Tier::parse("premium").unwrap()];
        let basic = token(&[], Some("v=1;p=5000;t=basic;g=;c=1"));
        assert_eq!(
            decide_for(&basic, &members, ISSUED),
            Decision::Denied(Denial::NotInTier)
        );
        assert_eq!(Denial::NotInTier.reason(), "not_in_tier");
        let premium = token(&[], Some("v=1;p=5000;t=premium;g=;c=1"));
        assert_eq!(
            decide_for(&premium, &members, ISSUED),
            entitled(Basis::PremiumPlan, Some(5000))
        );
    }

    #[test]
    fn a_plan_of_another_tier_still_watches_what_it_bought() {
        let bought = token(&[], Some("v=1;p=5000;t=basic;g=demo;c=1"));
        assert_eq!(decide(&bought, ISSUED), entitled(Basis::Purchase, None));
    }

    #[test]
    fn a_plan_claim_without_a_tier_asks_the_store() {
        let untiered = token(&[], Some("v=1;p=5000;g=;c=1"));
        assert_eq!(reason(decide(&untiered, ISSUED)), StoreReason::UntieredPlan);
    }

    #[test]
    fn the_store_entitles_a_plan_only_for_titles_of_its_tier() {
        let snapshot = |tier: &str, until: u64| Snapshot {
            plan: Some(plan(tier, until)),
            grant: None,
            title: None,
        };
        assert_eq!(
            needs_store(ISSUED).decide(&snapshot("basic", ISSUED + 100)),
            Err(Denial::NotInTier)
        );
        assert_eq!(
            needs_store(ISSUED)
                .decide(&snapshot("premium", ISSUED + 100))
                .map(|e| e.basis),
            Ok(Basis::PremiumPlan)
        );
        // An ended plan of another tier is simply nothing held.
        assert_eq!(
            needs_store(ISSUED).decide(&snapshot("basic", ISSUED)),
            Err(Denial::NotHeld)
        );
    }
}
