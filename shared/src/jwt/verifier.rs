//! Cognito's rules, applied in an order that leaks nothing: shape and
//! header first, then the signature, and only then the claims, so an
//! unsigned token never learns which claim would have failed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::claims::{Claims, TokenUse};
use super::error::TokenError;
use super::jwks::Jwks;
use crate::crypto::{CryptoError, JwsAlgorithm, JwsVerifier};
use crate::ids::UserSub;
use crate::time::EpochSeconds;

/// Cognito tokens are 1–2 KB even with many groups; 8 KB bounds the work an
/// attacker can make us do before the signature check.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Headers that would let a token choose its own key. Keys come only from
/// the configured JWKS.
const FORBIDDEN_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// Who we accept tokens from. Every field is a security decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Must equal the token's `iss` exactly (`https://cognito-idp.<region>.amazonaws.com/<pool id>`).
    pub issuer: String,
    /// `access` for APIs and the edge; an `id` token is for the client app
    /// and carries no scopes, so accepting it there would be a confusion.
    pub token_use: TokenUse,
    /// App clients whose tokens are accepted (`client_id` of access tokens,
    /// `aud` of id tokens). Never empty: a verifier that accepts every client
    /// of a pool accepts tokens minted for unrelated apps.
    pub client_ids: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
    /// ES256 is off by default because Cognito signs with RS256 only.
    pub allow_es256: bool,
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, client_ids: Vec<String>) -> Self {
        Self {
            issuer: issuer.into(),
            token_use: TokenUse::Access,
            client_ids,
            leeway_seconds: 60,
            allow_es256: false,
        }
    }
}

/// A Cognito verifier over one issuer's JWKS.
#[derive(Debug, Clone)]
pub struct Verifier {
    config: VerifierConfig,
    jwks: Jwks,
}

struct Parts<'a> {
    header: Map<String, Value>,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn decode_json(part: &str, what: &'static str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed(what)),
    }
}

fn split(token: &str) -> Result<Parts<'_>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge {
            max: MAX_TOKEN_BYTES,
        });
    }
    let mut pieces = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(TokenError::Malformed("expected three dot-separated parts"));
    };
    Ok(Parts {
        header: decode_json(header, "header")?,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload,
        signature,
    })
}

/// The `kid` a token names, for a host deciding whether to refetch a JWKS.
pub fn peek_kid(token: &str) -> Option<String> {
    split(token)
        .ok()?
        .header
        .get("kid")?
        .as_str()
        .map(str::to_owned)
}

fn string_claim<'a>(
    payload: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, TokenError> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .ok_or(TokenError::BadClaim(name))
}

fn time_claim(payload: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    match payload.get(name) {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or(TokenError::BadClaim(name)),
    }
}

impl Verifier {
    pub fn new(config: VerifierConfig, jwks: Jwks) -> Self {
        Self { config, jwks }
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Swaps in a freshly fetched JWKS (after [`RefetchGate`](super::RefetchGate) allowed it).
    pub fn replace_jwks(&mut self, jwks: Jwks) {
        self.jwks = jwks;
    }

    pub fn verify(
        &self,
        token: &str,
        now: EpochSeconds,
        crypto: &dyn JwsVerifier,
    ) -> Result<Claims, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let parts = split(token)?;
        let alg = self.algorithm(&parts.header)?;
        if let Some(name) = FORBIDDEN_HEADERS
            .iter()
            .find(|name| parts.header.contains_key(**name))
        {
            return Err(TokenError::ForbiddenHeader(name));
        }
        let kid = parts
            .header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(TokenError::MissingKid)?;
        let jwk = self
            .jwks
            .find(kid)
            .ok_or_else(|| TokenError::UnknownKid(kid.chars().take(64).collect()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(parts.signature)
            .map_err(|_| TokenError::Malformed("signature"))?;
        crypto
            .verify_jws(alg, jwk, parts.signing_input.as_bytes(), &signature)
            .map_err(|e| match e {
                CryptoError::UnusableKey(_) => TokenError::KeyMismatch {
                    kid: jwk.kid.clone(),
                    alg: alg.as_str(),
                },
                _ => TokenError::BadSignature,
            })?;
        let payload = decode_json(parts.payload, "payload")?;
        self.check_claims(&payload, now)
    }

    fn algorithm(&self, header: &Map<String, Value>) -> Result<JwsAlgorithm, TokenError> {
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Ok(JwsAlgorithm::Rs256),
            Some("ES256") if self.config.allow_es256 => Ok(JwsAlgorithm::Es256),
            Some(other) => Err(TokenError::AlgorithmNotAllowed(
                other.chars().take(16).collect(),
            )),
            None => Err(TokenError::Malformed("header has no alg")),
        }
    }

    fn check_claims(
        &self,
        payload: &Map<String, Value>,
        now: EpochSeconds,
    ) -> Result<Claims, TokenError> {
        let issuer = string_claim(payload, "iss")?;
        if issuer != self.config.issuer {
            return Err(TokenError::WrongIssuer {
                expected: self.config.issuer.clone(),
                actual: issuer.chars().take(200).collect(),
            });
        }
        let token_use = string_claim(payload, "token_use")?;
        if token_use != self.config.token_use.as_str() {
            return Err(TokenError::WrongTokenUse {
                expected: self.config.token_use.as_str(),
                actual: token_use.chars().take(16).collect(),
            });
        }
        let client = match self.config.token_use {
            TokenUse::Access => string_claim(payload, "client_id")?,
            TokenUse::Id => string_claim(payload, "aud")?,
        };
        if !self.config.client_ids.iter().any(|c| c == client) {
            return Err(TokenError::WrongClient {
                actual: client.chars().take(128).collect(),
            });
        }
        let (now_s, leeway) = (now.get(), self.config.leeway_seconds);
        let exp = time_claim(payload, "exp")?.ok_or(TokenError::BadClaim("exp"))?;
        if now_s >= exp.saturating_add(leeway) {
            return Err(TokenError::Expired {
                exp,
                now: now_s,
                leeway,
            });
        }
        if let Some(nbf) = time_claim(payload, "nbf")?
            && now_s.saturating_add(leeway) < nbf
        {
            return Err(TokenError::NotYetValid {
                nbf,
                now: now_s,
                leeway,
            });
        }
        let iat = time_claim(payload, "iat")?.ok_or(TokenError::BadClaim("iat"))?;
        if iat > now_s.saturating_add(leeway) {
            return Err(TokenError::IssuedInFuture {
                iat,
                now: now_s,
                leeway,
            });
        }
        let sub = UserSub::parse(string_claim(payload, "sub")?)
            .map_err(|_| TokenError::BadClaim("sub"))?;
        let username = payload
            .get("username")
            .or_else(|| payload.get("cognito:username"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let groups = match payload.get("cognito:groups") {
            None => Vec::new(),
            Some(Value::Array(groups)) => groups
                .iter()
                .map(|g| g.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(TokenError::BadClaim("cognito:groups"))?,
            Some(_) => return Err(TokenError::BadClaim("cognito:groups")),
        };
        let entitlements = match payload.get(crate::entitlement::CLAIM) {
            None => None,
            Some(Value::String(value)) => Some(value.clone()),
            Some(_) => return Err(TokenError::BadClaim(crate::entitlement::CLAIM)),
        };
        Ok(Claims {
            sub,
            username,
            token_use: self.config.token_use,
            client: client.to_owned(),
            issued_at: EpochSeconds::new(iat),
            expires_at: EpochSeconds::new(exp),
            groups,
            entitlements,
        })
    }
}
