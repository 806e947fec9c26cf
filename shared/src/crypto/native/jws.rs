//! RS256 / ES256 verification of Cognito token signatures from a JWK.
