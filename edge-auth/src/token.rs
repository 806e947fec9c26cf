//! The viewer's token: the bearer header, verification against the JWKS
//! (with a refetch on an unknown `kid`, at most once per penalty window),
//! and a cache of verified tokens.

use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::JwsVerifier;
use reelgate_shared::jwt::{Claims, Jwks, RefetchGate, TokenError, Verifier, bearer_token};

use crate::cache::{ExpiringCache, HashKey};
use crate::error::EdgeError;
use crate::event::Request;
use crate::log::Decision;
use crate::step::{Fetch, Step};

const TOKEN_CACHE_ENTRIES: usize = 4096;

pub struct Tokens {
    verifier: Verifier,
    jwks_url: String,
    refetch: RefetchGate,
    /// Verified tokens by [`cache_key`], each with the whole token.
    verified: ExpiringCache<String, (Box<str>, Claims)>,
}

/// Where a token is found in the cache: the last [`KEY_BYTES`] bytes of its
/// signature. Hashing the whole token (about 1 KB, on the lookup and again
/// on the insert) was ~8% of a fresh token's work in the core. A lookup
/// still compares the whole token, so two tokens sharing a tail are never
/// confused, and only tokens that verified are stored: their tails are the
/// IdP's signatures, which no viewer can choose.
fn cache_key(token: &str) -> &str {
    token
        .get(token.len().saturating_sub(KEY_BYTES)..)
        .unwrap_or(token)
}

/// 48 bytes of base64url: 288 bits of signature.
const KEY_BYTES: usize = 48;

impl Tokens {
    pub fn new(verifier: Verifier, jwks_url: String, key: HashKey) -> Self {
        Self {
            verifier,
            jwks_url,
            refetch: RefetchGate::default(),
            verified: ExpiringCache::new(TOKEN_CACHE_ENTRIES, key),
        }
    }

    /// The request's verified claims, or the JWKS fetch needed first.
    ///
    /// `jwks` is the fetched JWKS document (or why it could not be
    /// fetched). A document that does not parse is refused and the keys
    /// stay as they were; one that parses replaces them, and only then does
    /// the crypto provider see its keys (the host holds no key the core
    /// has not accepted).
    pub fn claims<V: JwsVerifier>(
        &mut self,
        request: &Request,
        now: EpochSeconds,
        jwks: Option<&Result<String, String>>,
        crypto: &V,
        decision: &mut Decision,
    ) -> Result<Step<Claims>, EdgeError> {
        let token = bearer_token(request.header("authorization"))?;
        if let Some((_, claims)) = self
            .verified
            .get(cache_key(token), now)
            .filter(|(whole, _)| **whole == *token)
        {
            decision.token_cache_hit = true;
            return Ok(Step::Ready(claims.clone()));
        }
        let verified = match self.verifier.verify(token, now, crypto) {
            Err(TokenError::UnknownKid(kid)) => match jwks {
                Some(Ok(body)) => match Jwks::parse(body) {
                    Ok(jwks) => {
                        self.verifier.replace_jwks(jwks);
                        self.verifier.verify(token, now, crypto)
                    }
                    Err(_) => Err(TokenError::UnknownKid(kid)),
                },
                Some(Err(_)) => Err(TokenError::UnknownKid(kid)),
                None if self.refetch.try_acquire(now) => {
                    return Ok(Step::Fetch(Fetch::Jwks {
                        url: self.jwks_url.clone(),
                    }));
                }
                None => Err(TokenError::UnknownKid(kid)),
            },
            other => other,
        };
        let claims = verified?;
        // A token is only reused until it expires (no leeway), so a cached
        // token never outlives what a fresh verification would allow.
        self.verified.insert(
            cache_key(token).to_owned(),
            (token.into(), claims.clone()),
            claims.expires_at,
            now,
        );
        Ok(Step::Ready(claims))
    }
}
