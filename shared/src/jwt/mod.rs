//! Cognito token verification (ARCHITECTURE §5).

mod jwk;

pub use jwk::Jwk;
