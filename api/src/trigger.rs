//! The Cognito pre-token-generation V2 trigger: puts the caller's plan and
//! up to N titles into the access token (`reelgate:ent`), so the edge can
//! usually decide without a store read. Which ones is the claim's rule,
//! `TokenEntitlements::select` in `shared::entitlement`.
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
use reelgate_shared::entitlement::{CLAIM, TokenEntitlements};
use reelgate_shared::store::EntitlementStore;
use reelgate_shared::{EpochSeconds, UserSub};

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
    let claim = TokenEntitlements::select(&all, max_grants, now).encode();
    let mut access = CognitoAccessTokenGenerationV2::default();
    access
        .claims_to_add_or_override
        .insert(CLAIM.to_owned(), serde_json::Value::String(claim));
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.access_token_generation = Some(access);
    event.response.claims_and_scope_override_details = Some(details);
    Ok(())
}
