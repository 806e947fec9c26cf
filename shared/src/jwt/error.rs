//! Every way a token can be refused, each with a stable reason string for
//! responses and logs. Messages carry the failed assertion (expected vs.
//! actual) where that helps an operator, never the token itself.

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    #[error("token is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("token is not three base64url JSON parts: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0:?} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("header {0:?} is not accepted: keys come only from the configured JWKS")]
    ForbiddenHeader(&'static str),
    #[error("token header has no kid")]
    MissingKid,
    #[error("kid {0:?} is not in the JWKS")]
    UnknownKid(String),
    #[error("kid {0:?} belongs to a test key whose private half is public")]
    PublicTestKey(String),
    #[error("JWK {kid:?} cannot verify {alg}")]
    KeyMismatch { kid: String, alg: &'static str },
    #[error("signature does not verify")]
    BadSignature,
    #[error("issuer is {actual:?}, expected {expected:?}")]
    WrongIssuer { expected: String, actual: String },
    #[error("token_use is {actual:?}, expected {expected:?}")]
    WrongTokenUse {
        expected: &'static str,
        actual: String,
    },
    #[error("client {actual:?} is not among the configured clients")]
    WrongClient { actual: String },
    #[error("token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired { exp: u64, now: u64, leeway: u64 },
    #[error("token not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid { nbf: u64, now: u64, leeway: u64 },
    #[error("token issued in the future at {iat} (now {now}, leeway {leeway}s)")]
    IssuedInFuture { iat: u64, now: u64, leeway: u64 },
    #[error("claim {0} is missing or has the wrong type")]
    BadClaim(&'static str),
}

impl TokenError {
    /// Stable, machine-readable; part of the edge and API contracts.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::TooLarge { .. } => "token_too_large",
            Self::Malformed(_) => "token_malformed",
            Self::AlgorithmNotAllowed(_) => "alg_not_allowed",
            Self::ForbiddenHeader(_) => "forbidden_header",
            Self::MissingKid => "missing_kid",
            Self::UnknownKid(_) => "unknown_kid",
            Self::PublicTestKey(_) => "test_key_refused",
            Self::KeyMismatch { .. } => "key_mismatch",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer { .. } => "wrong_issuer",
            Self::WrongTokenUse { .. } => "wrong_token_use",
            Self::WrongClient { .. } => "wrong_client",
            Self::Expired { .. } => "token_expired",
            Self::NotYetValid { .. } => "token_not_yet_valid",
            Self::IssuedInFuture { .. } => "token_issued_in_future",
            Self::BadClaim(_) => "bad_claim",
        }
    }
}
