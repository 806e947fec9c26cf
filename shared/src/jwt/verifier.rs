//! Cognito's rules, applied in an order that leaks nothing: shape and
//! header first, then the signature, and only then the claims, so an
//! unsigned token never learns which claim would have failed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use super::claims::{Claims, TokenUse};
use super::error::TokenError;
use super::jwks::Jwks;
use crate::crypto::{CryptoError, JwsAlgorithm, JwsVerifier};
use crate::ids::UserSub;
use crate::time::EpochSeconds;

/// Cognito tokens are 1–2 KB even with many groups; 8 KB bounds the work an
/// attacker can make us do before the signature check.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

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
    /// Accept keys whose private half is public (moto's `dummy`, the local
    /// stack's dev key). Only the local stack and tests set this: anyone can
    /// mint a token those keys verify.
    pub allow_public_test_keys: bool,
}

/// Key ids whose private keys are published: moto_server's and reelgate's
/// own dev identity provider's. Refused unless explicitly allowed.
pub const PUBLIC_TEST_KIDS: [&str; 2] = ["dummy", "reelgate-dev-1"];

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, client_ids: Vec<String>) -> Self {
        Self {
            issuer: issuer.into(),
            token_use: TokenUse::Access,
            client_ids,
            leeway_seconds: 60,
            allow_es256: false,
            allow_public_test_keys: false,
        }
    }
}

/// A Cognito verifier over one issuer's JWKS.
#[derive(Debug, Clone)]
pub struct Verifier {
    config: VerifierConfig,
    jwks: Jwks,
}

/// The JOSE header. The key-choosing members (`jku`, `x5u`, `jwk`, `x5c`)
/// and `crit` are read only to refuse them: keys come only from the JWKS.
/// Duplicate members fail to parse, so a header cannot say two things.
#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    jku: Option<IgnoredAny>,
    x5u: Option<IgnoredAny>,
    jwk: Option<IgnoredAny>,
    x5c: Option<IgnoredAny>,
    crit: Option<IgnoredAny>,
}

impl Header {
    fn forbidden(&self) -> Option<&'static str> {
        [
            ("jku", self.jku.is_some()),
            ("x5u", self.x5u.is_some()),
            ("jwk", self.jwk.is_some()),
            ("x5c", self.x5c.is_some()),
            ("crit", self.crit.is_some()),
        ]
        .into_iter()
        .find_map(|(name, present)| present.then_some(name))
    }
}

/// The claims reelgate reads, kept raw so a claim of the wrong type is
/// reported by name instead of failing the whole payload.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    iss: Option<&'a RawValue>,
    #[serde(borrow)]
    token_use: Option<&'a RawValue>,
    #[serde(borrow)]
    client_id: Option<&'a RawValue>,
    #[serde(borrow)]
    aud: Option<&'a RawValue>,
    #[serde(borrow)]
    exp: Option<&'a RawValue>,
    #[serde(borrow)]
    nbf: Option<&'a RawValue>,
    #[serde(borrow)]
    iat: Option<&'a RawValue>,
    #[serde(borrow)]
    sub: Option<&'a RawValue>,
    #[serde(borrow)]
    username: Option<&'a RawValue>,
    #[serde(borrow, rename = "cognito:username")]
    cognito_username: Option<&'a RawValue>,
    #[serde(borrow, rename = "cognito:groups")]
    groups: Option<&'a RawValue>,
    #[serde(borrow, rename = "reelgate:ent")]
    entitlements: Option<&'a RawValue>,
    #[serde(borrow)]
    origin_jti: Option<&'a RawValue>,
}

struct Parts<'a> {
    header: Header,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(what))
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
    let header_json = decode_part(header, "header")?;
    if header_json.first() != Some(&b'{') {
        return Err(TokenError::Malformed("header"));
    }
    Ok(Parts {
        header: serde_json::from_slice(&header_json)
            .map_err(|_| TokenError::Malformed("header"))?,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload,
        signature,
    })
}

/// The `kid` a token names, for a host deciding whether to refetch a JWKS.
pub fn peek_kid(token: &str) -> Option<String> {
    split(token).ok()?.header.kid
}

/// A claim of type `T`, `None` when absent, `BadClaim` when of another type.
fn claim<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    name: &'static str,
) -> Result<Option<T>, TokenError> {
    raw.filter(|r| r.get() != "null")
        .map(|r| serde_json::from_str(r.get()).map_err(|_| TokenError::BadClaim(name)))
        .transpose()
}

fn required<T: DeserializeOwned>(
    raw: Option<&RawValue>,
    name: &'static str,
) -> Result<T, TokenError> {
    claim(raw, name)?.ok_or(TokenError::BadClaim(name))
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
        if let Some(name) = parts.header.forbidden() {
            return Err(TokenError::ForbiddenHeader(name));
        }
        let kid = parts.header.kid.as_deref().ok_or(TokenError::MissingKid)?;
        if PUBLIC_TEST_KIDS.contains(&kid) && !self.config.allow_public_test_keys {
            return Err(TokenError::PublicTestKey(kid.to_owned()));
        }
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
        let payload_json = decode_part(parts.payload, "payload")?;
        if payload_json.first() != Some(&b'{') {
            return Err(TokenError::Malformed("payload"));
        }
        let payload: Payload<'_> =
            serde_json::from_slice(&payload_json).map_err(|_| TokenError::Malformed("payload"))?;
        self.check_claims(&payload, now)
    }

    fn algorithm(&self, header: &Header) -> Result<JwsAlgorithm, TokenError> {
        match header.alg.as_deref() {
            Some("RS256") => Ok(JwsAlgorithm::Rs256),
            Some("ES256") if self.config.allow_es256 => Ok(JwsAlgorithm::Es256),
            Some(other) => Err(TokenError::AlgorithmNotAllowed(
                other.chars().take(16).collect(),
            )),
            None => Err(TokenError::Malformed("header has no alg")),
        }
    }

    fn check_claims(&self, payload: &Payload<'_>, now: EpochSeconds) -> Result<Claims, TokenError> {
        let issuer: String = required(payload.iss, "iss")?;
        if issuer != self.config.issuer {
            return Err(TokenError::WrongIssuer {
                expected: self.config.issuer.clone(),
                actual: issuer.chars().take(200).collect(),
            });
        }
        let token_use: String = required(payload.token_use, "token_use")?;
        if token_use != self.config.token_use.as_str() {
            return Err(TokenError::WrongTokenUse {
                expected: self.config.token_use.as_str(),
                actual: token_use.chars().take(16).collect(),
            });
        }
        let client: String = match self.config.token_use {
            TokenUse::Access => required(payload.client_id, "client_id")?,
            TokenUse::Id => required(payload.aud, "aud")?,
        };
        if !self.config.client_ids.contains(&client) {
            return Err(TokenError::WrongClient {
                actual: client.chars().take(128).collect(),
            });
        }
        let (now_s, leeway) = (now.get(), self.config.leeway_seconds);
        let exp: u64 = required(payload.exp, "exp")?;
        if now_s >= exp.saturating_add(leeway) {
            return Err(TokenError::Expired {
                exp,
                now: now_s,
                leeway,
            });
        }
        if let Some(nbf) = claim::<u64>(payload.nbf, "nbf")?
            && now_s.saturating_add(leeway) < nbf
        {
            return Err(TokenError::NotYetValid {
                nbf,
                now: now_s,
                leeway,
            });
        }
        let iat: u64 = required(payload.iat, "iat")?;
        if iat > now_s.saturating_add(leeway) {
            return Err(TokenError::IssuedInFuture {
                iat,
                now: now_s,
                leeway,
            });
        }
        let sub: String = required(payload.sub, "sub")?;
        let sub = UserSub::parse(&sub).map_err(|_| TokenError::BadClaim("sub"))?;
        let username = match claim::<String>(payload.username, "username")? {
            Some(name) => Some(name),
            None => claim(payload.cognito_username, "cognito:username")?,
        };
        Ok(Claims {
            sub,
            username,
            token_use: self.config.token_use,
            client,
            issued_at: EpochSeconds::new(iat),
            expires_at: EpochSeconds::new(exp),
            groups: claim(payload.groups, "cognito:groups")?.unwrap_or_default(),
            entitlements: claim(payload.entitlements, crate::entitlement::CLAIM)?,
            origin_jti: claim(payload.origin_jti, "origin_jti")?,
        })
    }
}
