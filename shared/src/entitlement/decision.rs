//! The one entitlement decision, shared by the edge, the API and the local
//! stack: may this verified token watch this title now, and why.
//!
//! Order: the premium groups, then the token's `reelgate:ent` claim (no
//! I/O), then the store. Claims are a snapshot taken when the token was
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
use crate::ids::VideoId;
use crate::jwt::Claims;
use crate::time::EpochSeconds;

/// Why access was granted; logged and returned to the client. Its serde
/// form is `as_str`'s (the edge's log line, `shared::edge_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    PremiumGroup,
    PremiumPlan,
    Purchase,
    Rental,
    Admin,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
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

/// Why a viewer may not watch a title. Every denial answers `403
/// not_entitled`; the reason is for logs and the API's problem detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
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
            Self::NotInClaims => "not_in_claims",
            Self::NotHeld => "not_held",
            Self::RentalEnded => "rental_ended",
            Self::Revoked => "revoked",
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
}

impl StoreReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoClaim => "no_claim",
            Self::MalformedClaim(_) => "malformed_claim",
            Self::IncompleteClaim => "incomplete_claim",
            Self::StaleClaim => "stale_claim",
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

    /// Decides from the token alone, or says why the store must be asked.
    pub fn decide(&self, claims: &Claims, video: &VideoId, now: EpochSeconds) -> Decision {
        if let Some(entitled) = self.premium(Some(claims), None, now) {
            return Decision::Entitled(entitled);
        }
        let needs_store = |reason| {
            Decision::NeedsStore(NeedsStore {
                reason,
                video: video.clone(),
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
        if let Some(until) = token.premium_until.filter(|until| now < *until) {
            return Decision::Entitled(Entitled {
                basis: Basis::PremiumPlan,
                until: Some(until),
            });
        }
        match token.grants.iter().find(|(id, _)| id == video) {
            Some((_, None)) => {
                return Decision::Entitled(Entitled {
                    basis: Basis::Purchase,
                    until: None,
                });
            }
            Some((_, Some(until))) if now < *until => {
                return Decision::Entitled(Entitled {
                    basis: Basis::Rental,
                    until: Some(*until),
                });
            }
            _ => {}
        }
        if !token.complete {
            needs_store(StoreReason::IncompleteClaim)
        } else if now.get().saturating_sub(claims.issued_at.get()) < self.claims_may_deny_for {
            Decision::Denied(Denial::NotInClaims)
        } else {
            needs_store(StoreReason::StaleClaim)
        }
    }
}

impl NeedsStore {
    pub fn reason(&self) -> &StoreReason {
        &self.reason
    }

    /// Finishes the decision from what the store holds for (user, title):
    /// an active plan, else an active grant for this title.
    pub fn decide(self, store: &Snapshot) -> Result<Entitled, Denial> {
        let now = self.now;
        if let Some(plan) = store.plan.as_ref().filter(|plan| plan.is_active(now)) {
            return Ok(Entitled {
                basis: Basis::PremiumPlan,
                until: Some(plan.premium_until),
            });
        }
        let grant = store
            .grant
            .as_ref()
            .filter(|grant| grant.video == self.video)
            .ok_or(Denial::NotHeld)?;
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
            until: grant.expires_at(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entitlement::Grant;
    use crate::ids::UserSub;

    const ISSUED: u64 = 1_000;
    const WINDOW: u64 = 300;

    /// The log line (serde) and the session response (`as_str`) spell a
    /// basis the same way, so `reelgate logs` counts what viewers were told.
    #[test]
    fn a_basis_serializes_as_its_str() {
        use Basis::*;
        for basis in [PremiumGroup, PremiumPlan, Purchase, Rental, Admin] {
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
        rules(&groups()).decide(claims, &demo(), at(now))
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
        }
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
        let claims = token(&[], Some("v=1;p=1100;g=;c=1"));
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
        };
        let claims = token(&[], Some("v=1;g=;c=1"));
        let decision = api.decide(&claims, &demo(), at(ISSUED));
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
}
