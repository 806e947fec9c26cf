//! How long a session's cookies live, in buckets so that one signature
//! serves every viewer of a title within a bucket.

use reelgate_shared::EpochSeconds;
use reelgate_shared::config::CookieConfig;
use reelgate_shared::entitlement::Entitled;

/// A session's cookie lifetime, and the first second at which a request
/// would get a different one (`None`: the next second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub expires_at: EpochSeconds,
    pub refresh_after: EpochSeconds,
    /// `expires_at` and `refresh_after` as seconds from `now` (§12).
    pub expires_in: u64,
    pub refresh_in: u64,
    pub max_age: u64,
    pub same_until: Option<EpochSeconds>,
}

/// Cookie expiry: the configured lifetime rounded up to a bucket of a
/// tenth of it, so every viewer of a title within one bucket gets the
/// same signed policy (one signature per title per bucket per
/// container), and never beyond what the entitlement allows.
///
/// Within a bucket's window the cookies are the same for every request:
/// `refresh_after` is a fifth of the ttl before expiry and `Max-Age` is the
/// longest lifetime any request of the window sees, so a cookie may outlive
/// its policy by less than a bucket (CloudFront enforces the policy, not
/// the cookie). A lifetime cut short by the entitlement is exact instead,
/// and is never the same twice.
pub fn lifetime(cookie: &CookieConfig, now: EpochSeconds, entitled: Entitled) -> Lifetime {
    let ttl = cookie.ttl_seconds;
    let bucket = (ttl / 10).max(1);
    let bucketed = (now.get() + ttl).div_ceil(bucket) * bucket;
    let (expires_at, refresh_after, max_age, same_until) =
        match entitled.until.filter(|until| until.get() < bucketed) {
            Some(until) => {
                let left = until.get().saturating_sub(now.get());
                (until, now.plus(left * 4 / 5), left, None)
            }
            None => (
                EpochSeconds::new(bucketed),
                EpochSeconds::new(bucketed - ttl + cookie.refresh_after_seconds()),
                ttl + bucket - 1,
                Some(EpochSeconds::new(bucketed - ttl + 1)),
            ),
        };
    Lifetime {
        expires_at,
        refresh_after,
        expires_in: expires_at.get().saturating_sub(now.get()),
        refresh_in: refresh_after.get().saturating_sub(now.get()),
        max_age,
        same_until,
    }
}
