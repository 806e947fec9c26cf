//! The one entitlement decision, shared by the edge and the API.
//!
//! Order: the token's claims first (no I/O), then the store. Claims are a
//! snapshot taken when the token was issued, so they are trusted to say
//! "yes" until the grant's own end, but a "no" is final only while the token
//! is young (`claims_trusted_for` seconds after `iat`) and its list was
//! complete; otherwise the store is asked. That keeps non-paying viewers off
//! the store without making a purchase wait for the next token.

use super::claims::TokenEntitlements;
use super::grant::{Grant, GrantSource, Plan};
use crate::ids::VideoId;
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
/// token itself expires). Cookie lifetimes are capped by it, so a rental
/// ending in two minutes never gets five-minute cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entitled {
    pub basis: Basis,
    pub until: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsVerdict {
    Entitled(Entitled),
    NotEntitled,
    /// The claims cannot say no with authority: ask the store.
    AskStore,
}

/// Decides from the token alone. `in_premium_group` comes from
/// `cognito:groups`; `claims` is the decoded `reelgate:ent` claim, if any.
pub fn from_claims(
    in_premium_group: bool,
    claims: Option<&TokenEntitlements>,
    video: &VideoId,
    issued_at: EpochSeconds,
    claims_trusted_for: u64,
    now: EpochSeconds,
) -> ClaimsVerdict {
    if in_premium_group {
        return ClaimsVerdict::Entitled(Entitled {
            basis: Basis::PremiumGroup,
            until: None,
        });
    }
    let Some(claims) = claims else {
        return ClaimsVerdict::AskStore;
    };
    if let Some(until) = claims.premium_until.filter(|until| now < *until) {
        return ClaimsVerdict::Entitled(Entitled {
            basis: Basis::PremiumPlan,
            until: Some(until),
        });
    }
    let held = claims.grants.iter().find(|(id, _)| id == video);
    match held {
        Some((_, None)) => ClaimsVerdict::Entitled(Entitled {
            basis: Basis::Purchase,
            until: None,
        }),
        Some((_, Some(until))) if now < *until => ClaimsVerdict::Entitled(Entitled {
            basis: Basis::Rental,
            until: Some(*until),
        }),
        _ if claims.complete && now < issued_at.plus(claims_trusted_for) => {
            ClaimsVerdict::NotEntitled
        }
        _ => ClaimsVerdict::AskStore,
    }
}

/// Decides from what the store holds for (user, video).
pub fn from_store(
    plan: Option<&Plan>,
    grant: Option<&Grant>,
    now: EpochSeconds,
) -> Option<Entitled> {
    if let Some(plan) = plan.filter(|p| p.is_active(now)) {
        return Some(Entitled {
            basis: Basis::PremiumPlan,
            until: Some(plan.premium_until),
        });
    }
    let grant = grant.filter(|g| g.is_active(now))?;
    let basis = match grant.source {
        GrantSource::Purchase => Basis::Purchase,
        GrantSource::Rental { .. } => Basis::Rental,
        GrantSource::Admin => Basis::Admin,
    };
    Some(Entitled {
        basis,
        until: grant.expires_at(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> VideoId {
        VideoId::parse("demo").unwrap()
    }

    fn at(t: u64) -> EpochSeconds {
        EpochSeconds::new(t)
    }

    fn claims(grants: Vec<(VideoId, Option<EpochSeconds>)>, complete: bool) -> TokenEntitlements {
        TokenEntitlements {
            premium_until: None,
            grants,
            complete,
        }
    }

    #[test]
    fn premium_group_members_watch_everything() {
        let verdict = from_claims(true, None, &demo(), at(0), 300, at(10));
        assert!(matches!(
            verdict,
            ClaimsVerdict::Entitled(Entitled {
                basis: Basis::PremiumGroup,
                ..
            })
        ));
    }

    #[test]
    fn a_premium_plan_claim_holds_until_premium_until() {
        let mut c = claims(vec![], true);
        c.premium_until = Some(at(100));
        assert!(matches!(
            from_claims(false, Some(&c), &demo(), at(0), 300, at(99)),
            ClaimsVerdict::Entitled(_)
        ));
        assert_eq!(
            from_claims(false, Some(&c), &demo(), at(0), 300, at(100)),
            ClaimsVerdict::NotEntitled
        );
    }

    #[test]
    fn a_rental_claim_caps_access_at_its_end() {
        let c = claims(vec![(demo(), Some(at(50)))], true);
        assert_eq!(
            from_claims(false, Some(&c), &demo(), at(0), 300, at(10)),
            ClaimsVerdict::Entitled(Entitled {
                basis: Basis::Rental,
                until: Some(at(50))
            })
        );
        assert_eq!(
            from_claims(false, Some(&c), &demo(), at(0), 300, at(50)),
            ClaimsVerdict::NotEntitled
        );
    }

    #[test]
    fn a_no_is_final_only_from_a_young_complete_list() {
        let complete = claims(vec![], true);
        assert_eq!(
            from_claims(false, Some(&complete), &demo(), at(0), 300, at(299)),
            ClaimsVerdict::NotEntitled
        );
        assert_eq!(
            from_claims(false, Some(&complete), &demo(), at(0), 300, at(300)),
            ClaimsVerdict::AskStore
        );
        let partial = claims(vec![], false);
        assert_eq!(
            from_claims(false, Some(&partial), &demo(), at(0), 300, at(1)),
            ClaimsVerdict::AskStore
        );
        assert_eq!(
            from_claims(false, None, &demo(), at(0), 300, at(1)),
            ClaimsVerdict::AskStore
        );
    }

    #[test]
    fn the_store_prefers_an_active_plan_then_an_active_grant() {
        let plan = Plan {
            tier: "premium".into(),
            premium_until: at(100),
        };
        let grant = Grant {
            video: demo(),
            source: GrantSource::Admin,
            granted_at: at(1),
            purchase_id: None,
            revoked_at: None,
        };
        assert_eq!(
            from_store(Some(&plan), Some(&grant), at(5)).unwrap().basis,
            Basis::PremiumPlan
        );
        assert_eq!(
            from_store(Some(&plan), Some(&grant), at(100))
                .unwrap()
                .basis,
            Basis::Admin
        );
        let revoked = Grant {
            revoked_at: Some(at(2)),
            ..grant
        };
        assert_eq!(from_store(None, Some(&revoked), at(5)), None);
    }
}
