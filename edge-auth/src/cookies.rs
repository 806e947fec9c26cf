//! The signed cookie sets a container hands out: what a policy covers, and
//! a cache so that a container signs at most once per title per bucket.

use std::net::Ipv4Addr;

use reelgate_shared::cloudfront::{
    CookieAttributes, Ipv4Cidr, Policy, SignedCookies, sign_cookies,
};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::{KeyRing, KeySlot, SlotSigner};
use reelgate_shared::{EpochSeconds, KeyPairId, VideoId};

use crate::cache::{ExpiringCache, HashKey};
use crate::error::EdgeError;
use crate::event::Request;

const COOKIE_CACHE_ENTRIES: usize = 1024;

/// Everything a signed cookie set depends on, and so its cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// `https://<host>` the policy's resource is under.
    pub base: String,
    pub video: VideoId,
    pub expires_at: EpochSeconds,
    pub client_ip: Option<Ipv4Addr>,
    pub slot: KeySlot,
}

pub struct CookieJar {
    signed: ExpiringCache<Scope, SignedCookies>,
}

impl CookieJar {
    pub fn new(key: HashKey) -> Self {
        Self {
            signed: ExpiringCache::new(COOKIE_CACHE_ENTRIES, key),
        }
    }

    /// The cookie set for `scope`, and whether it came from the cache.
    pub fn cookies<K: KeyRing>(
        &mut self,
        config: &EdgeConfig,
        scope: Scope,
        key_pair_id: &KeyPairId,
        keys: &K,
        now: EpochSeconds,
    ) -> Result<(SignedCookies, bool), EdgeError> {
        if let Some(cookies) = self.signed.get(&scope, now) {
            return Ok((cookies.clone(), true));
        }
        let resource = config.video_resource(&scope.base, &scope.video);
        let mut policy =
            Policy::custom(resource, scope.expires_at).map_err(|_| EdgeError::PolicyInvalid)?;
        if let Some(ip) = scope.client_ip {
            let host = Ipv4Cidr::new(ip, 32).map_err(|_| EdgeError::PolicyInvalid)?;
            policy = policy.from_ip(host);
        }
        let cookies = sign_cookies(
            &policy,
            key_pair_id,
            config.signing.hash,
            &SlotSigner(keys, scope.slot),
        )
        .map_err(|_| EdgeError::SigningUnavailable)?;
        let expires_at = scope.expires_at;
        self.signed.insert(scope, cookies.clone(), expires_at, now);
        Ok((cookies, false))
    }
}

/// The cookie scope of one title. Both inputs were validated (the id by
/// its type, the domain with the config), so failure means a bug, and
/// the edge then fails closed rather than panicking.
pub fn attributes(config: &EdgeConfig, video: &VideoId) -> Result<CookieAttributes, EdgeError> {
    let attributes = CookieAttributes::new(config.video_path(video), config.cookie.same_site);
    match &config.cookie.domain {
        Some(domain) => attributes.and_then(|a| a.with_domain(domain.clone())),
        None => attributes,
    }
    .map_err(|_| EdgeError::CookieScopeInvalid)
}

/// `https://<host>` that policies name: the configured `resource_base`, or
/// else the viewer's `Host` in the one spelling CloudFront compares with.
pub fn resource_base(config: &EdgeConfig, request: &Request) -> Result<String, EdgeError> {
    match &config.resource_base {
        Some(base) => Ok(base.to_string()),
        None => Ok(format!("https://{}", host(request.header("host"))?)),
    }
}

/// The viewer's `Host` as CloudFront matches a policy `Resource` against
/// it: lowercase, without the default port 443 and without a trailing dot
/// (`D111.CLOUDFRONT.NET.:443` and `d111.cloudfront.net` are one host, and
/// signing the first would make cookies CloudFront refuses). Only hostname
/// characters and a port are allowed, so it cannot inject into a policy.
fn host(header: Option<&str>) -> Result<String, EdgeError> {
    let header = header
        .filter(|h| {
            h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
        })
        .ok_or(EdgeError::InvalidHost)?;
    let host = header.strip_suffix(":443").unwrap_or(header);
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.starts_with(':') {
        return Err(EdgeError::InvalidHost);
    }
    Ok(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_lowercased_without_default_port_or_trailing_dot() {
        for header in [
            "d111111abcdef8.cloudfront.net",
            "D111111ABCDEF8.CLOUDFRONT.NET",
            "d111111abcdef8.cloudfront.net:443",
            "d111111abcdef8.cloudfront.net.",
            "D111111abcdef8.cloudfront.net.:443",
        ] {
            assert_eq!(
                host(Some(header)).as_deref(),
                Ok("d111111abcdef8.cloudfront.net"),
                "{header}"
            );
        }
    }

    #[test]
    fn another_port_is_kept() {
        assert_eq!(
            host(Some("example.com:8443")).as_deref(),
            Ok("example.com:8443")
        );
    }

    #[test]
    fn a_host_that_is_not_a_hostname_is_refused() {
        for header in [
            None,
            Some(""),
            Some("."),
            Some(":443"),
            Some("a/b"),
            Some("a\"b"),
            Some("a b"),
        ] {
            assert_eq!(host(header), Err(EdgeError::InvalidHost), "{header:?}");
        }
    }
}
