//! The crypto provider: the only place signatures are made or checked.
//!
//! The core calls these traits and never a crypto crate directly, because the
//! right backend depends on the host (rustls' provider pattern): in Lambda@Edge
//! the WebAssembly module imports node:crypto (RSA signing is ~16x faster there
//! than pure Rust compiled to wasm, see ARCHITECTURE §3); natively, the `native`
//! backend uses RustCrypto's `rsa` 0.10 (constant time) and `p256`.

use crate::ids::KeyPairId;
use crate::jwt::Jwk;

#[cfg(feature = "native-crypto")]
pub mod native;

/// JWS algorithms a token may be signed with. Only asymmetric ones exist here:
/// `none` and HMAC are not representable, so algorithm confusion cannot reach
/// a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    Rs256,
    Es256,
}

impl JwsAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

/// The digest CloudFront applies to a policy before checking its signature.
/// SHA-1 is CloudFront's default; SHA-256 must be announced with
/// `Hash-Algorithm=SHA256` (URL) or `CloudFront-Hash-Algorithm=SHA256` (cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyHash {
    #[default]
    Sha1,
    Sha256,
}

impl PolicyHash {
    /// The value CloudFront expects in `Hash-Algorithm`, or `None` for the default.
    pub fn announced(self) -> Option<&'static str> {
        match self {
            Self::Sha1 => None,
            Self::Sha256 => Some("SHA256"),
        }
    }
}

/// Why a crypto operation failed. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("signature does not verify")]
    BadSignature,
    #[error("key cannot be used: {0}")]
    UnusableKey(&'static str),
    #[error("no key pair id {0} among the trusted public keys")]
    UnknownKeyPairId(KeyPairId),
    #[error("no signing key is configured")]
    NoSigningKey,
    #[error("crypto backend failed: {0}")]
    Backend(String),
}

/// Checks a JWS signature (`signing_input` is `base64url(header).base64url(payload)`).
pub trait JwsVerifier {
    fn verify_jws(
        &self,
        alg: JwsAlgorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;
}

/// Signs a CloudFront policy with the one configured private key.
pub trait PolicySigner {
    /// Raw signature bytes (RSA PKCS#1 v1.5, or a DER ECDSA signature), before
    /// CloudFront's base64 variant is applied.
    fn sign_policy(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError>;
}

/// Which configured private key signs: the active one, or the one staged in
/// the edge config to take over during a rotation (`signing.next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySlot {
    Current,
    Next,
}

/// A backend holding a current and possibly a staged signing key.
pub trait KeyRing {
    /// Signs with the key in `slot`; `NoSigningKey` if none is loaded there.
    fn sign_policy_in(
        &self,
        slot: KeySlot,
        policy: &[u8],
        hash: PolicyHash,
    ) -> Result<Vec<u8>, CryptoError>;
}

/// One slot of a [`KeyRing`] as a plain [`PolicySigner`], for `sign_cookies`.
pub struct SlotSigner<'a, K: ?Sized>(pub &'a K, pub KeySlot);

impl<K: KeyRing + ?Sized> PolicySigner for SlotSigner<'_, K> {
    fn sign_policy(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        self.0.sign_policy_in(self.1, policy, hash)
    }
}

/// Checks a CloudFront policy signature against the trusted public keys,
/// chosen by key pair id, as CloudFront's trusted key group does.
pub trait PolicyVerifier {
    fn verify_policy(
        &self,
        key_pair_id: &KeyPairId,
        policy: &[u8],
        signature: &[u8],
        hash: PolicyHash,
    ) -> Result<(), CryptoError>;
}

/// What the edge and the API need from a backend.
pub trait Crypto: JwsVerifier + PolicySigner {}

impl<T: JwsVerifier + PolicySigner> Crypto for T {}
