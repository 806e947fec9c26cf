//! What a verified Cognito token says, typed.

use serde::Deserialize;

use crate::ids::UserSub;
use crate::time::EpochSeconds;

/// Cognito issues `access` tokens (for APIs, carrying `client_id`) and `id`
/// tokens (for the client itself, carrying `aud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    #[default]
    Access,
    Id,
}

impl TokenUse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Id => "id",
        }
    }
}

/// The claims reelgate relies on. `entitlements` is the raw
/// `reelgate:ent` claim the pre-token trigger writes; it is decoded by
/// `crate::entitlement::TokenEntitlements`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub sub: UserSub,
    pub username: Option<String>,
    pub token_use: TokenUse,
    pub client: String,
    pub issued_at: EpochSeconds,
    pub expires_at: EpochSeconds,
    pub groups: Vec<String>,
    pub entitlements: Option<String>,
    /// Cognito's `origin_jti`: the same for every access token of one
    /// sign-in (refreshes keep it), so the edge counts devices by it
    /// (`crate::devices::Device`).
    pub origin_jti: Option<String>,
}

impl Claims {
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
