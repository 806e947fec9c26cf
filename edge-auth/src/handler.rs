//! The edge protocol of ARCHITECTURE §6 as a sans-I/O core.
//!
//! The host calls [`Edge::handle`] with the viewer request, `now` and what it
//! has fetched so far. The core answers with a response, or with the one
//! piece of I/O it needs (a store lookup or a JWKS refetch); the host does
//! it and calls `handle` again with the result. Re-entry is cheap because the
//! verified token is cached, and it means no half-finished state ever crosses
//! the WebAssembly boundary.

use std::net::{IpAddr, Ipv4Addr};

use reelgate_shared::cloudfront::{
    CookieAttributes, Ipv4Cidr, Policy, SignedCookies, sign_cookies,
};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::{Crypto, KeyRing, KeySlot, SlotSigner};
use reelgate_shared::entitlement::{self, ClaimsVerdict, Entitled, TokenEntitlements};
use reelgate_shared::jwt::{Claims, Jwks, RefetchGate, TokenError, Verifier};
use reelgate_shared::store::Snapshot;
use reelgate_shared::{EpochSeconds, UserSub, VideoId};
use serde::Serialize;

use crate::cache::ExpiringCache;
use crate::event::{Request, Response};
use crate::log::{Decision, EntitlementSource};
use crate::region::nearest_replica;
use crate::route::{Route, route};

const TOKEN_CACHE_ENTRIES: usize = 4096;
const ENTITLEMENT_CACHE_ENTRIES: usize = 8192;
const COOKIE_CACHE_ENTRIES: usize = 1024;

/// What the host has fetched for this request so far.
#[derive(Debug, Default)]
pub struct Fetched {
    pub entitlement: Option<Result<Snapshot, String>>,
    /// The JWKS document body, or why it could not be fetched.
    pub jwks: Option<Result<String, String>>,
}

/// I/O the core needs before it can answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fetch {
    /// Read the plan and the (user, video) grant, eventually consistent,
    /// from `region`'s replica (`None`: the host's own region).
    Entitlement {
        table: String,
        region: Option<String>,
        user: UserSub,
        video: VideoId,
    },
    Jwks {
        url: String,
    },
}

#[derive(Debug)]
pub enum Outcome {
    Respond(Box<Response>, Decision),
    Fetch(Fetch),
}

/// One container's edge authorizer: config, keys and caches.
pub struct Edge<C> {
    config: EdgeConfig,
    verifier: Verifier,
    crypto: C,
    region: String,
    jwks_gate: RefetchGate,
    tokens: ExpiringCache<String, Claims>,
    entitlements: ExpiringCache<(UserSub, VideoId), Option<Entitled>>,
    cookies:
        ExpiringCache<(String, VideoId, EpochSeconds, Option<Ipv4Addr>, KeySlot), SignedCookies>,
}

/// Why a request ends in an error response: the status, the stable reason,
/// and whether it is a token problem (which adds `WWW-Authenticate`).
struct Refusal {
    status: u16,
    reason: &'static str,
}

impl Refusal {
    fn new(status: u16, reason: &'static str) -> Self {
        Self { status, reason }
    }
}

impl From<TokenError> for Refusal {
    fn from(error: TokenError) -> Self {
        Self::new(401, error.reason())
    }
}

impl<C: Crypto + KeyRing> Edge<C> {
    /// `region` is where the host runs (`AWS_REGION`), used to pick the replica.
    pub fn new(config: EdgeConfig, crypto: C, region: impl Into<String>) -> Self {
        let verifier = Verifier::new(config.verifier.clone(), config.jwks.clone());
        Self {
            config,
            verifier,
            crypto,
            region: region.into(),
            jwks_gate: RefetchGate::default(),
            tokens: ExpiringCache::new(TOKEN_CACHE_ENTRIES),
            entitlements: ExpiringCache::new(ENTITLEMENT_CACHE_ENTRIES),
            cookies: ExpiringCache::new(COOKIE_CACHE_ENTRIES),
        }
    }

    pub fn config(&self) -> &EdgeConfig {
        &self.config
    }

    pub fn jwks(&self) -> &Jwks {
        self.verifier.jwks()
    }

    pub fn handle(&mut self, request: &Request, now: EpochSeconds, fetched: &Fetched) -> Outcome {
        let mut decision = Decision::default();
        let origin = self.allowed_origin(request);
        let result = self.decide(request, now, fetched, &mut decision);
        let mut response = match result {
            Ok(Step::Fetch(fetch)) => return Outcome::Fetch(fetch),
            Ok(Step::Respond(response)) => response,
            Err(refusal) => {
                decision.deny(refusal.status, refusal.reason);
                error_response(refusal.status, refusal.reason)
            }
        };
        decision.status = response.status_code();
        if let Some(origin) = origin {
            response.add_header("Access-Control-Allow-Origin", origin);
            response.add_header("Access-Control-Allow-Credentials", "true");
            response.add_header("Vary", "Origin");
        }
        Outcome::Respond(Box::new(response), decision)
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
    ) -> Result<Step, Refusal> {
        let route = route(&request.method, &request.uri, &request.querystring)
            .map_err(|(status, reason)| Refusal::new(status, reason))?;
        match route {
            Route::Preflight => {
                let step = self.preflight(request)?;
                decision.allow("cors_preflight");
                Ok(step)
            }
            Route::Logout { video } => {
                decision.video = Some(video.clone());
                decision.allow("logout");
                Ok(Step::Respond(self.logout(&video)?))
            }
            Route::Session { video, redirect } => {
                decision.video = Some(video.clone());
                self.session(request, &video, redirect, now, fetched, decision)
            }
        }
    }

    fn preflight(&self, request: &Request) -> Result<Step, Refusal> {
        if self.config.cors_origins.is_empty() {
            return Err(Refusal::new(405, "method_not_allowed"));
        }
        if self.allowed_origin(request).is_none() {
            return Err(Refusal::new(403, "cors_origin_not_allowed"));
        }
        let mut response = Response::new(204, "No Content");
        response.add_header("Access-Control-Allow-Methods", "GET, DELETE, OPTIONS");
        response.add_header("Access-Control-Allow-Headers", "Authorization");
        response.add_header("Access-Control-Max-Age", "600");
        Ok(Step::Respond(response))
    }

    /// The cookie scope of one title. Both inputs were validated (the id by
    /// its type, the domain with the config), so failure means a bug, and
    /// the edge then fails closed rather than panicking.
    fn attributes(&self, video: &VideoId) -> Result<CookieAttributes, Refusal> {
        let attributes =
            CookieAttributes::new(self.config.video_path(video), self.config.cookie.same_site);
        match &self.config.cookie.domain {
            Some(domain) => attributes.and_then(|a| a.with_domain(domain.clone())),
            None => attributes,
        }
        .map_err(|_| Refusal::new(503, "cookie_scope_invalid"))
    }

    fn logout(&self, video: &VideoId) -> Result<Response, Refusal> {
        let mut response = Response::new(204, "No Content");
        for header in reelgate_shared::cloudfront::expired_cookie_headers(&self.attributes(video)?)
        {
            response.add_header("Set-Cookie", header);
        }
        no_store(&mut response);
        Ok(response)
    }

    fn claims(
        &mut self,
        request: &Request,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Result<Claims, Fetch>, Refusal> {
        let token = bearer(request)?;
        if let Some(claims) = self.tokens.get(&token.to_owned(), now) {
            decision.token_cache_hit = true;
            return Ok(Ok(claims));
        }
        let verified = match self.verifier.verify(token, now, &self.crypto) {
            Err(TokenError::UnknownKid(kid)) => match &fetched.jwks {
                Some(Ok(body)) => {
                    let jwks = Jwks::parse(body).map_err(|_| Refusal::new(401, "unknown_kid"))?;
                    self.verifier.replace_jwks(jwks);
                    self.verifier.verify(token, now, &self.crypto)
                }
                Some(Err(_)) => Err(TokenError::UnknownKid(kid)),
                None if self.jwks_gate.try_acquire(now) => {
                    return Ok(Err(Fetch::Jwks {
                        url: self.config.jwks_url.to_string(),
                    }));
                }
                None => Err(TokenError::UnknownKid(kid)),
            },
            other => other,
        };
        let claims = verified?;
        // A token is only reused until it expires (no leeway), so a cached
        // token never outlives what a fresh verification would allow.
        self.tokens
            .insert(token.to_owned(), claims.clone(), claims.expires_at, now);
        Ok(Ok(claims))
    }

    fn session(
        &mut self,
        request: &Request,
        video: &VideoId,
        redirect: bool,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Step, Refusal> {
        let claims = match self.claims(request, now, fetched, decision)? {
            Ok(claims) => claims,
            Err(fetch) => return Ok(Step::Fetch(fetch)),
        };
        decision.user = Some(claims.sub.clone());
        let settled = match self.entitlement(&claims, video, now, fetched, decision) {
            Ok(Some(settled)) => settled,
            Ok(None) => return Err(Refusal::new(403, "not_entitled")),
            Err(Some(fetch)) => return Ok(Step::Fetch(fetch)),
            Err(None) => return Err(Refusal::new(503, "entitlement_unavailable")),
        };
        let entitled = settled.entitled;
        decision.basis = Some(entitled.basis);
        let client_ip = if self.config.cookie.bind_client_ip {
            match request.client_ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => Some(ip),
                _ => return Err(Refusal::new(403, "ip_binding_requires_ipv4")),
            }
        } else {
            None
        };
        let base = match &self.config.resource_base {
            Some(base) => base.to_string(),
            None => format!("https://{}", host(request)?),
        };
        let lifetime = self.lifetime(now, entitled);
        let expires_at = lifetime.expires_at;
        let (slot, key_pair_id, switch_at) = self.config.signing.active(now);
        let key_pair_id = key_pair_id.clone();
        let key = (base.clone(), video.clone(), expires_at, client_ip, slot);
        let cookies = match self.cookies.get(&key, now) {
            Some(cookies) => {
                decision.cookie_cache_hit = true;
                cookies
            }
            None => {
                let mut policy =
                    Policy::custom(self.config.video_resource(&base, video), expires_at)
                        .map_err(|_| Refusal::new(503, "policy_invalid"))?;
                if let Some(ip) = client_ip {
                    let host =
                        Ipv4Cidr::new(ip, 32).map_err(|_| Refusal::new(503, "policy_invalid"))?;
                    policy = policy.from_ip(host);
                }
                let cookies = sign_cookies(
                    &policy,
                    &key_pair_id,
                    self.config.signing.hash,
                    &SlotSigner(&self.crypto, slot),
                )
                .map_err(|_| Refusal::new(503, "signing_unavailable"))?;
                self.cookies.insert(key, cookies.clone(), expires_at, now);
                cookies
            }
        };
        // Until the first of these, a fresh decision for this exact request
        // would be this one, byte for byte: same claims, same entitlement,
        // same bucket, same signing key, so the same cookies.
        decision.reusable_until = lifetime.same_until.map(|same_until| {
            [Some(claims.expires_at), settled.until, switch_at]
                .into_iter()
                .flatten()
                .fold(same_until, EpochSeconds::min)
        });
        decision.key_pair_id = Some(key_pair_id);
        decision.allow(entitled.basis.as_str());
        Ok(Step::Respond(
            self.session_response(video, &cookies, &lifetime, redirect)?,
        ))
    }

    /// Cookie expiry: the configured lifetime rounded up to a bucket of a
    /// tenth of it, so every viewer of a title within one bucket gets the
    /// same signed policy (one signature per title per bucket per
    /// container), and never beyond what the entitlement allows.
    ///
    /// Within a bucket's window the whole lifetime is the same for every
    /// request: `refresh_after` is a fifth of the ttl before expiry and
    /// `Max-Age` is the longest lifetime any request of the window sees, so
    /// a cookie may outlive its policy by less than a bucket (CloudFront
    /// enforces the policy, not the cookie). A lifetime cut short by the
    /// entitlement is exact instead, and is never the same twice.
    fn lifetime(&self, now: EpochSeconds, entitled: Entitled) -> Lifetime {
        let ttl = self.config.cookie.ttl_seconds;
        let bucket = (ttl / 10).max(1);
        let bucketed = (now.get() + ttl).div_ceil(bucket) * bucket;
        match entitled.until.filter(|until| until.get() < bucketed) {
            Some(until) => {
                let left = until.get().saturating_sub(now.get());
                Lifetime {
                    expires_at: until,
                    refresh_after: now.plus(left * 4 / 5),
                    max_age: left,
                    same_until: None,
                }
            }
            None => Lifetime {
                expires_at: EpochSeconds::new(bucketed),
                refresh_after: EpochSeconds::new(
                    bucketed - ttl + self.config.cookie.refresh_after_seconds(),
                ),
                max_age: ttl + bucket - 1,
                same_until: Some(EpochSeconds::new(bucketed - ttl + 1)),
            },
        }
    }

    fn session_response(
        &self,
        video: &VideoId,
        cookies: &SignedCookies,
        lifetime: &Lifetime,
        redirect: bool,
    ) -> Result<Response, Refusal> {
        let playlist = format!("{}master.m3u8", self.config.video_path(video));
        let mut response = if redirect {
            let mut response = Response::new(302, "Found");
            response.add_header("Location", playlist.clone());
            response
        } else {
            let mut response = Response::new(200, "OK");
            let body = SessionBody {
                video_id: video,
                expires_at: lifetime.expires_at.get(),
                refresh_after: lifetime.refresh_after.get(),
                playlist: &playlist,
            };
            response.body = serde_json::to_string(&body).ok();
            response.add_header("Content-Type", "application/json");
            response
        };
        let attributes = self.attributes(video)?.with_max_age(lifetime.max_age);
        for header in cookies.set_cookie_headers(&attributes) {
            response.add_header("Set-Cookie", header);
        }
        no_store(&mut response);
        Ok(response)
    }

    /// `Ok(Some)`: entitled; `Ok(None)`: not; `Err(Some(fetch))`: ask the
    /// store; `Err(None)`: the store failed and nothing is cached (fail closed).
    fn entitlement(
        &mut self,
        claims: &Claims,
        video: &VideoId,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Option<Settled>, Option<Fetch>> {
        let premium = self
            .config
            .premium_groups
            .iter()
            .any(|g| claims.in_group(g));
        let token_claims = claims
            .entitlements
            .as_deref()
            .and_then(|text| TokenEntitlements::decode(text).ok());
        let verdict = entitlement::from_claims(
            premium,
            token_claims.as_ref(),
            video,
            claims.issued_at,
            self.config.cache.claims_trusted_seconds,
            now,
        );
        match verdict {
            ClaimsVerdict::Entitled(entitled) => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Ok(Some(Settled {
                    entitled,
                    until: entitled.until,
                }));
            }
            ClaimsVerdict::NotEntitled => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Ok(None);
            }
            ClaimsVerdict::AskStore => {}
        }
        let key = (claims.sub.clone(), video.clone());
        if let Some((cached, cached_until)) = self.entitlements.get_with_expiry(&key, now) {
            decision.entitlement_source = Some(EntitlementSource::Cache);
            return Ok(cached
                .filter(|e| e.until.is_none_or(|until| now < until))
                .map(|entitled| Settled {
                    entitled,
                    until: Some(cached_until),
                }));
        }
        match &fetched.entitlement {
            None => Err(Some(Fetch::Entitlement {
                table: self.config.table.name.to_string(),
                region: nearest_replica(&self.region, &self.config.table.replica_regions)
                    .map(str::to_owned),
                user: claims.sub.clone(),
                video: video.clone(),
            })),
            Some(Err(_)) => {
                decision.entitlement_source = Some(EntitlementSource::StoreError);
                Err(None)
            }
            Some(Ok(snapshot)) => {
                decision.entitlement_source = Some(EntitlementSource::Store);
                let entitled =
                    entitlement::from_store(snapshot.plan.as_ref(), snapshot.grant.as_ref(), now);
                let ttl = match entitled {
                    Some(_) => self.config.cache.positive_seconds,
                    None => self.config.cache.negative_seconds,
                };
                let mut until = now.plus(ttl);
                if let Some(end) = entitled.and_then(|e| e.until) {
                    until = until.min(end);
                }
                self.entitlements.insert(key, entitled, until, now);
                Ok(entitled.map(|entitled| Settled {
                    entitled,
                    until: Some(until),
                }))
            }
        }
    }
}

/// The 200 body of ARCHITECTURE §6 (contract).
#[derive(Serialize)]
struct SessionBody<'a> {
    video_id: &'a VideoId,
    expires_at: u64,
    refresh_after: u64,
    playlist: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// A session's cookie lifetime, and the first second at which a request
/// would get a different one (`None`: the next second).
struct Lifetime {
    expires_at: EpochSeconds,
    refresh_after: EpochSeconds,
    max_age: u64,
    same_until: Option<EpochSeconds>,
}

/// An entitlement and until when that answer cannot change: the end of the
/// grant itself, or of the cache entry it came from (`None`: the token's life).
struct Settled {
    entitled: Entitled,
    until: Option<EpochSeconds>,
}

enum Step {
    Respond(Response),
    Fetch(Fetch),
}

fn bearer(request: &Request) -> Result<&str, Refusal> {
    let header = request
        .header("authorization")
        .ok_or(Refusal::new(401, "token_missing"))?;
    let (scheme, token) = header
        .split_once(' ')
        .ok_or(Refusal::new(401, "token_malformed"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Refusal::new(401, "token_malformed"));
    }
    Ok(token.trim())
}

/// The viewer's `Host`, when policies are named after it: only hostname
/// characters and a port, so it cannot inject into a policy `Resource`.
fn host(request: &Request) -> Result<&str, Refusal> {
    request
        .header("host")
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
        })
        .ok_or(Refusal::new(400, "invalid_host"))
}

fn no_store(response: &mut Response) {
    response.add_header("Cache-Control", "no-store");
    response.add_header("X-Content-Type-Options", "nosniff");
}

/// `{"error": reason}` with the right status line; never echoes input.
pub fn error_response(status: u16, reason: &str) -> Response {
    let description = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut response = Response::new(status, description);
    response.body = serde_json::to_string(&ErrorBody { error: reason }).ok();
    response.add_header("Content-Type", "application/json");
    match status {
        401 if reason == "token_missing" => response.add_header("WWW-Authenticate", "Bearer"),
        401 => response.add_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        405 => response.add_header("Allow", "GET, DELETE, OPTIONS"),
        503 => response.add_header("Retry-After", "1"),
        _ => {}
    }
    no_store(&mut response);
    response
}
