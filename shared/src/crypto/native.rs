//! The native crypto backend (RustCrypto): used by the local stack, the API,
//! the CLI and tests. `keys` parses and generates CloudFront key pairs,
//! `policy` signs and verifies CloudFront policies, `jws` verifies Cognito
//! token signatures.

mod jws;
mod keys;
mod policy;

pub use keys::{KeyAlgorithm, KeyError, PublicKey, SigningKey};
pub use policy::PublicKeySet;

/// The native provider: verifies JWS signatures with any JWK it is handed and
/// signs policies with one configured key (and, during a rotation, a staged
/// next key).
#[derive(Clone, Default)]
pub struct NativeCrypto {
    signing_key: Option<SigningKey>,
    next_signing_key: Option<SigningKey>,
}

impl NativeCrypto {
    /// A provider that can verify tokens but signs nothing (e.g. a pure validator).
    pub fn verify_only() -> Self {
        Self::default()
    }

    pub fn with_signing_key(signing_key: SigningKey) -> Self {
        Self {
            signing_key: Some(signing_key),
            next_signing_key: None,
        }
    }

    /// Adds the key staged to take over (the edge config's `signing.next`).
    pub fn with_next_signing_key(mut self, next: SigningKey) -> Self {
        self.next_signing_key = Some(next);
        self
    }
}
