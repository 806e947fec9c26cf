//! Time as the hosts hand it in. The core never reads a clock (it runs in
//! WebAssembly, where `SystemTime` panics), so every decision takes `now`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, the unit of JWT `exp`, CloudFront's
/// `AWS:EpochTime` and the store's timestamps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EpochSeconds(pub u64);

impl EpochSeconds {
    pub const fn new(secs: u64) -> Self {
        Self(secs)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating: a huge configured TTL must not wrap into the past.
    pub const fn plus(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    pub const fn minus(self, secs: u64) -> Self {
        Self(self.0.saturating_sub(secs))
    }
}

impl fmt::Display for EpochSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for EpochSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EpochSeconds({})", self.0)
    }
}
