//! The Cognito pre-token-generation V2 trigger: puts the caller's plan and
//! up to N titles into the access token (`reelgate:ent`), so the edge can
//! usually decide without a store read.
//!
//! Sign-in must never fail because of us: the store read has a tight
//! timeout (Cognito allows 5 s for the whole trigger), and on any error the
//! token is issued without entitlement claims, which makes the edge ask the
//! store instead.

use std::time::Duration;

use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2,
    CognitoEventUserPoolsPreTokenGenV2,
};
use reelgate_shared::entitlement::{CLAIM, TokenEntitlements, UserEntitlements};
use reelgate_shared::store::EntitlementStore;
use reelgate_shared::{EpochSeconds, UserSub};

/// The claim for what `all` holds at `now`: the active plan, and the active
/// grants newest first, at most `max_grants`; `complete` says whether every
/// active grant fit.
pub fn token_entitlements(
    all: &UserEntitlements,
    max_grants: usize,
    now: EpochSeconds,
) -> TokenEntitlements {
    let active: Vec<_> = all.grants.iter().filter(|g| g.is_active(now)).collect();
    TokenEntitlements {
        premium_until: all
            .plan
            .as_ref()
            .filter(|p| p.is_active(now))
            .map(|p| p.premium_until),
        grants: active
            .iter()
            .take(max_grants)
            .map(|g| (g.video.clone(), g.expires_at()))
            .collect(),
        complete: active.len() <= max_grants,
    }
}

/// Why no claims were added; logged, never surfaced to the user.
#[derive(Debug, thiserror::Error)]
pub enum TriggerSkip {
    #[error("event has no valid sub attribute")]
    NoSub,
    #[error("store read timed out after {0} ms")]
    Timeout(u64),
    #[error("store read failed: {0}")]
    Store(#[from] reelgate_shared::store::StoreError),
}

/// Fills `event.response` in place. Returns why claims were skipped, if they were.
pub async fn handle<S: EntitlementStore>(
    event: &mut CognitoEventUserPoolsPreTokenGenV2,
    store: &S,
    max_grants: usize,
    timeout_ms: u64,
    now: EpochSeconds,
) -> Result<(), TriggerSkip> {
    let sub = event
        .request
        .user_attributes
        .get("sub")
        .and_then(|s| UserSub::parse(s).ok())
        .ok_or(TriggerSkip::NoSub)?;
    let all = tokio::time::timeout(Duration::from_millis(timeout_ms), store.entitlements(&sub))
        .await
        .map_err(|_| TriggerSkip::Timeout(timeout_ms))??;
    let claim = token_entitlements(&all, max_grants, now).encode();
    let mut access = CognitoAccessTokenGenerationV2::default();
    access
        .claims_to_add_or_override
        .insert(CLAIM.to_owned(), serde_json::Value::String(claim));
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.access_token_generation = Some(access);
    event.response.claims_and_scope_override_details = Some(details);
    Ok(())
}

#[cfg(test)]
mod tests {
    use reelgate_shared::VideoId;
    use reelgate_shared::entitlement::{Grant, GrantSource, Plan};

    use super::*;

    fn grant(id: &str, at: u64, source: GrantSource) -> Grant {
        Grant {
            video: VideoId::parse(id).unwrap(),
            source,
            granted_at: EpochSeconds::new(at),
            purchase_id: None,
            revoked_at: None,
        }
    }

    #[test]
    fn only_active_entitlements_go_in_newest_first_and_overflow_is_marked() {
        let now = EpochSeconds::new(1000);
        let all = UserEntitlements {
            plan: Some(Plan {
                tier: "premium".into(),
                premium_until: EpochSeconds::new(999),
            }),
            grants: vec![
                grant("c", 30, GrantSource::Purchase),
                grant(
                    "b",
                    20,
                    GrantSource::Rental {
                        expires_at: EpochSeconds::new(2000),
                    },
                ),
                grant(
                    "expired",
                    15,
                    GrantSource::Rental {
                        expires_at: EpochSeconds::new(1000),
                    },
                ),
                grant("a", 10, GrantSource::Admin),
            ],
        };
        let claims = token_entitlements(&all, 2, now);
        assert_eq!(claims.encode(), "v=1;g=c,b@2000;c=0");
        assert!(token_entitlements(&all, 3, now).complete);
    }
}
