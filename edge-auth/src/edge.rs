//! The edge protocol of ARCHITECTURE §6 as a sans-I/O core.
//!
//! A host calls [`Edge::handle`] with the viewer request, `now` and what it
//! has fetched so far. The core answers, or names the one piece of I/O it
//! needs (a store lookup or a JWKS refetch); the host does it and calls
//! `handle` again with the result ([`crate::driver`] runs that loop for
//! every host). Re-entry is cheap because the verified token is cached, and
//! it means no half-finished state ever crosses the WebAssembly boundary.

use std::net::{IpAddr, Ipv4Addr};

use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::{Crypto, KeyRing};
use reelgate_shared::devices::Device;
use reelgate_shared::entitlement::{Denial, Title};
use reelgate_shared::jwt::Verifier;
use reelgate_shared::{EpochSeconds, StreamId, UserSub, VideoId};

use crate::cache::{ExpiringCache, HashKey};
use crate::cookies::{self, CookieJar, Scope};
use crate::devices::Held;
use crate::entitlement::{Cached, Entitlement};
use crate::error::EdgeError;
use crate::event::{Request, Response};
use crate::lifetime::lifetime;
use crate::log::Decision;
use crate::response;
use crate::route::{Route, route};
use crate::step::{Answer, Fetched, Step};
use crate::token::Tokens;

const ENTITLEMENT_CACHE_ENTRIES: usize = 8192;
const LEASE_CACHE_ENTRIES: usize = 8192;
/// Catalogues run to thousands of titles; a container sees fewer.
const TITLE_CACHE_ENTRIES: usize = 4096;

/// What a session request asks for: a title, how to answer, and the
/// player's stream id if it sent one.
struct Play<'a> {
    video: &'a VideoId,
    redirect: bool,
    stream: Option<&'a StreamId>,
}

/// One container's edge authorizer: config, keys and caches.
pub struct Edge<C> {
    pub(crate) config: EdgeConfig,
    crypto: C,
    pub(crate) region: String,
    tokens: Tokens,
    pub(crate) entitlements: ExpiringCache<(UserSub, VideoId), Result<Cached, Denial>>,
    /// Catalogue items read with snapshots (`None`: not listed), when the
    /// config keeps a catalogue.
    pub(crate) titles: ExpiringCache<VideoId, Option<Title>>,
    /// Device leases this container wrote, until when each holds.
    pub(crate) leases: ExpiringCache<(UserSub, Device), EpochSeconds>,
    cookies: CookieJar,
}

impl<C: Crypto + KeyRing> Edge<C> {
    /// `region` is where the host runs (`AWS_REGION`), used to pick the
    /// replica; `key` keys the caches' hashes (the host's randomness).
    pub fn new(config: EdgeConfig, crypto: C, region: impl Into<String>, key: HashKey) -> Self {
        let verifier = Verifier::new(config.verifier.clone(), config.jwks.clone());
        Self {
            tokens: Tokens::new(verifier, config.jwks_url.to_string(), key),
            config,
            crypto,
            region: region.into(),
            entitlements: ExpiringCache::new(ENTITLEMENT_CACHE_ENTRIES, key),
            titles: ExpiringCache::new(TITLE_CACHE_ENTRIES, key),
            leases: ExpiringCache::new(LEASE_CACHE_ENTRIES, key),
            cookies: CookieJar::new(key),
        }
    }

    pub fn config(&self) -> &EdgeConfig {
        &self.config
    }

    pub fn handle(
        &mut self,
        request: &Request,
        now: EpochSeconds,
        fetched: &Fetched,
    ) -> Step<Answer> {
        let mut decision = Decision::default();
        let mut response = match self.decide(request, now, fetched, &mut decision) {
            Ok(Step::Fetch(fetch)) => return Step::Fetch(fetch),
            Ok(Step::Ready(response)) => response,
            Err(error) => {
                decision.deny(error.status(), error.reason());
                response::refusal(&error)
            }
        };
        decision.status = response.status_code();
        if let Some(key) = &self.config.network_hint {
            decision.note_network(key, &request.client_ip);
        }
        if let Some(origin) = self.allowed_origin(request) {
            response::allow_origin(&mut response, origin);
        }
        Step::Ready(Answer { response, decision })
    }

    fn allowed_origin(&self, request: &Request) -> Option<String> {
        let origin = request.header("origin")?;
        self.config
            .cors_origins
            .iter()
            .any(|allowed| &**allowed == origin)
            .then(|| origin.to_owned())
    }

    fn decide(
        &mut self,
        request: &Request,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Step<Response>, EdgeError> {
        match route(&request.method, &request.uri, &request.querystring)? {
            Route::Preflight => {
                if self.config.cors_origins.is_empty() {
                    return Err(EdgeError::MethodNotAllowed);
                }
                if self.allowed_origin(request).is_none() {
                    return Err(EdgeError::CorsOriginNotAllowed);
                }
                decision.allow("cors_preflight");
                Ok(Step::Ready(response::preflight()))
            }
            Route::Logout { video, stream } => {
                decision.video = Some(video.clone());
                let attributes = cookies::attributes(&self.config, &video)?;
                if let Some(fetch) = self.release(request, stream.as_ref(), now, fetched, decision)
                {
                    return Ok(Step::Fetch(fetch));
                }
                decision.allow("logout");
                Ok(Step::Ready(response::logout(&attributes)))
            }
            Route::Session {
                video,
                redirect,
                stream,
            } => {
                decision.video = Some(video.clone());
                let play = Play {
                    video: &video,
                    redirect,
                    stream: stream.as_ref(),
                };
                self.session(request, play, now, fetched, decision)
            }
        }
    }

    fn session(
        &mut self,
        request: &Request,
        play: Play<'_>,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Step<Response>, EdgeError> {
        let Play {
            video,
            redirect,
            stream,
        } = play;
        let claims =
            match self
                .tokens
                .claims(request, now, fetched.jwks.as_ref(), &self.crypto, decision)?
            {
                Step::Ready(claims) => claims,
                Step::Fetch(fetch) => return Ok(Step::Fetch(fetch)),
            };
        decision.user = Some(claims.sub.clone());
        let settled = match self.entitlement(&claims, video, now, fetched, decision) {
            Entitlement::Settled(settled) => settled,
            Entitlement::Denied(denial) => return Err(EdgeError::NotEntitled(denial)),
            Entitlement::Fetch(fetch) => return Ok(Step::Fetch(fetch)),
            Entitlement::StoreFailed => return Err(EdgeError::EntitlementUnavailable),
        };
        let entitled = settled.entitled;
        decision.basis = Some(entitled.basis);
        let client_ip = if self.config.cookie.bind_client_ip {
            match request.client_ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => Some(ip),
                _ => return Err(EdgeError::IpBindingRequiresIpv4),
            }
        } else {
            None::<Ipv4Addr>
        };
        let lifetime = lifetime(&self.config.cookie, now, entitled);
        if let Some(limit) = settled.max_devices {
            let device = Device::new(claims.origin_jti.as_deref(), stream)
                .map_err(|_| EdgeError::DeviceUnidentified)?;
            match self.hold_lease(
                &claims.sub,
                &device,
                limit,
                lifetime.expires_at,
                now,
                fetched,
            ) {
                Held::Yes => {}
                Held::Fetch(fetch) => return Ok(Step::Fetch(fetch)),
                Held::Full { active, limit } => {
                    return Err(EdgeError::DeviceLimit {
                        active,
                        limit: limit.get(),
                    });
                }
                Held::StoreFailed => return Err(EdgeError::DevicesUnavailable),
            }
        }
        let (slot, key_pair_id, switch_at) = self.config.signing.active(now);
        let key_pair_id = key_pair_id.clone();
        let scope = Scope {
            base: cookies::resource_base(&self.config, request)?,
            video: video.clone(),
            expires_at: lifetime.expires_at,
            client_ip,
            slot,
        };
        let (signed, cache_hit) =
            self.cookies
                .cookies(&self.config, scope, &key_pair_id, &self.crypto, now)?;
        decision.cookie_cache_hit = cache_hit;
        // Until the first of these, a fresh decision for this exact request
        // would be this one, byte for byte: same claims, same entitlement,
        // same bucket, same signing key, so the same cookies; and, for a
        // body that counts seconds from the response, the same second.
        let body_same_until = (!redirect).then(|| now.plus(1));
        decision.reusable_until = lifetime.same_until.map(|same_until| {
            [
                Some(claims.expires_at),
                settled.until,
                switch_at,
                body_same_until,
            ]
            .into_iter()
            .flatten()
            .fold(same_until, EpochSeconds::min)
        });
        decision.key_pair_id = Some(key_pair_id);
        decision.allow(entitled.basis.as_str());
        let attributes = cookies::attributes(&self.config, video)?.with_max_age(lifetime.max_age);
        let mut playlist = self.config.video_path(video);
        playlist.push_str("master.m3u8");
        Ok(Step::Ready(response::session(
            video,
            &playlist,
            &signed,
            &attributes,
            &lifetime,
            redirect,
        )))
    }

    /// With a valid bearer token, the fetch that releases its device's
    /// lease, if one is still to do. Logout never fails on this: without a
    /// token, with a bad one or when the store fails, the cookies are
    /// expired anyway and the lease lapses on its own.
    fn release(
        &mut self,
        request: &Request,
        stream: Option<&StreamId>,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Option<crate::step::Fetch> {
        request.header("authorization")?;
        let claims =
            match self
                .tokens
                .claims(request, now, fetched.jwks.as_ref(), &self.crypto, decision)
            {
                Ok(Step::Ready(claims)) => claims,
                Ok(Step::Fetch(fetch)) => return Some(fetch),
                Err(_) => return None,
            };
        decision.user = Some(claims.sub.clone());
        let device = Device::new(claims.origin_jti.as_deref(), stream).ok()?;
        self.release_lease(&claims.sub, &device, fetched)
    }
}
