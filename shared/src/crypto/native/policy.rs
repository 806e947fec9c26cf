//! Signing and verifying CloudFront policies.
