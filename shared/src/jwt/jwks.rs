//! A JWKS and the penalty box that bounds refetches.
//!
//! Cognito rotates signing keys rarely, so an unknown `kid` is far more often
//! an attacker's invention than a rotation. The host may refetch on an
//! unknown kid, but at most once per [`JWKS_REFETCH_INTERVAL_SECS`] per
//! issuer, so forged kids cannot turn the edge into a JWKS flood.

use serde::{Deserialize, Serialize};

use super::jwk::Jwk;
use crate::time::EpochSeconds;

pub const JWKS_REFETCH_INTERVAL_SECS: u64 = 10;

/// Why a fetched JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("JWKS is not JSON of the form {{\"keys\": [...]}}: {0}")]
    Malformed(String),
    #[error("JWKS has {0} keys; more than 32 is not a Cognito JWKS")]
    TooManyKeys(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn parse(json: &str) -> Result<Self, JwksError> {
        let jwks: Self =
            serde_json::from_str(json).map_err(|e| JwksError::Malformed(e.to_string()))?;
        if jwks.keys.len() > 32 {
            return Err(JwksError::TooManyKeys(jwks.keys.len()));
        }
        Ok(jwks)
    }

    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// "May I refetch now?", decided from host time alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefetchGate {
    last_attempt: Option<EpochSeconds>,
}

impl RefetchGate {
    /// True at most once per interval; the caller must then fetch (and the
    /// attempt counts whether or not the fetch succeeds, so a failing JWKS
    /// endpoint is not hammered either).
    pub fn try_acquire(&mut self, now: EpochSeconds) -> bool {
        let open = self
            .last_attempt
            .is_none_or(|last| now.get() >= last.get().saturating_add(JWKS_REFETCH_INTERVAL_SECS));
        if open {
            self.last_attempt = Some(now);
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refetch_is_allowed_once_per_interval() {
        let mut gate = RefetchGate::default();
        assert!(gate.try_acquire(EpochSeconds::new(100)));
        assert!(!gate.try_acquire(EpochSeconds::new(100)));
        assert!(!gate.try_acquire(EpochSeconds::new(109)));
        assert!(gate.try_acquire(EpochSeconds::new(110)));
    }

    #[test]
    fn a_jwks_with_extra_members_parses_and_finds_by_kid() {
        let jwks = Jwks::parse(
            r#"{"keys":[{"kid":"a","kty":"RSA","n":"AQAB","e":"AQAB","x5c":["..."]}],"other":1}"#,
        )
        .unwrap();
        assert!(jwks.find("a").is_some());
        assert!(jwks.find("b").is_none());
        assert!(matches!(Jwks::parse("[]"), Err(JwksError::Malformed(_))));
    }
}
