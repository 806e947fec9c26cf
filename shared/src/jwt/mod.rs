//! Cognito token verification (ARCHITECTURE §5), following aws-jwt-verify's
//! split: `jwk`/`jwks` hold keys and decide when a refetch is allowed,
//! `error` names every failure, `claims` is what a verified token says,
//! `verifier` applies Cognito's rules, `bearer` reads the header a token
//! comes in and names the 401 challenge. No I/O: the host fetches JWKS and
//! passes `now`.

mod bearer;
mod claims;
mod error;
mod jwk;
mod jwks;
mod verifier;

pub use bearer::{bearer_token, challenge};
pub use claims::{Claims, TokenUse};
pub use error::TokenError;
pub use jwk::Jwk;
pub use jwks::{JWKS_REFETCH_INTERVAL_SECS, Jwks, JwksError, RefetchGate};
pub use verifier::{MAX_TOKEN_BYTES, PUBLIC_TEST_KIDS, Verifier, VerifierConfig, peek_kid};
