//! What the edge decided, for the host's one structured log line per
//! request. It holds ids and reasons only: never a token, cookie or key.

use reelgate_shared::entitlement::Basis;
use reelgate_shared::{EpochSeconds, KeyPairId, UserSub, VideoId};
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementSource {
    Claims,
    Cache,
    Store,
    StoreError,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub decision: &'static str,
    pub reason: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoId>,
    /// The viewer's `sub`: an opaque id, needed to answer support tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSub>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "basis")]
    pub basis: Option<Basis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlement_source: Option<EntitlementSource>,
    /// Why the token's claims could not decide (`StoreReason::as_str`),
    /// e.g. `malformed_claim`: a trigger bug shows here, not silently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_reason: Option<&'static str>,
    pub token_cache_hit: bool,
    pub cookie_cache_hit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pair_id: Option<KeyPairId>,
    /// Until when the host may answer an identical request with this same
    /// response without asking the core (see `Edge::handle`). Only grants
    /// carry one; it is not logged.
    #[serde(skip)]
    pub reusable_until: Option<EpochSeconds>,
}

fn basis<S: Serializer>(basis: &Option<Basis>, serializer: S) -> Result<S::Ok, S::Error> {
    match basis {
        Some(basis) => serializer.serialize_str(basis.as_str()),
        None => serializer.serialize_none(),
    }
}

impl Decision {
    pub fn allow(&mut self, reason: &'static str) {
        self.decision = "allow";
        self.reason = reason;
    }

    pub fn deny(&mut self, status: u16, reason: &'static str) {
        self.decision = if status >= 500 { "error" } else { "deny" };
        self.reason = reason;
        self.status = status;
    }
}
