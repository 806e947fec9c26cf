//! CloudFront policy signatures: RSA PKCS#1 v1.5 or DER-encoded ECDSA over
//! SHA-1 (CloudFront's default) or SHA-256 of the policy bytes.

use std::collections::HashMap;

use p256::ecdsa::{self, signature::hazmat::PrehashSigner, signature::hazmat::PrehashVerifier};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::NativeCrypto;
use super::keys::{PublicKey, SigningKey};
use crate::crypto::{CryptoError, KeyRing, KeySlot, PolicyHash, PolicySigner, PolicyVerifier};
use crate::ids::KeyPairId;

fn digest(policy: &[u8], hash: PolicyHash) -> Vec<u8> {
    match hash {
        PolicyHash::Sha1 => Sha1::digest(policy).to_vec(),
        PolicyHash::Sha256 => Sha256::digest(policy).to_vec(),
    }
}

impl SigningKey {
    pub fn sign(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        let prehash = digest(policy, hash);
        match self {
            Self::Rsa(key) => match hash {
                PolicyHash::Sha1 => key.pkcs1v15_sign_prehash::<Sha1>(&prehash),
                PolicyHash::Sha256 => key.pkcs1v15_sign_prehash::<Sha256>(&prehash),
            }
            .map_err(|e| CryptoError::Backend(e.to_string())),
            Self::Ecdsa(key) => {
                let signature: ecdsa::DerSignature = key
                    .sign_prehash(&prehash)
                    .map_err(|e| CryptoError::Backend(e.to_string()))?;
                Ok(signature.as_bytes().to_vec())
            }
        }
    }
}

impl PublicKey {
    pub fn verify(
        &self,
        policy: &[u8],
        signature: &[u8],
        hash: PolicyHash,
    ) -> Result<(), CryptoError> {
        let prehash = digest(policy, hash);
        let verified = match self {
            Self::Rsa(key) => match hash {
                PolicyHash::Sha1 => key.pkcs1v15_verify_prehash::<Sha1>(&prehash, signature),
                PolicyHash::Sha256 => key.pkcs1v15_verify_prehash::<Sha256>(&prehash, signature),
            }
            .is_ok(),
            Self::Ecdsa(key) => ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| key.verify_prehash(&prehash, &sig).is_ok()),
        };
        verified.then_some(()).ok_or(CryptoError::BadSignature)
    }
}

impl PolicySigner for SigningKey {
    fn sign_policy(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        self.sign(policy, hash)
    }
}

impl PolicySigner for NativeCrypto {
    fn sign_policy(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        self.sign_policy_in(KeySlot::Current, policy, hash)
    }
}

impl KeyRing for NativeCrypto {
    fn sign_policy_in(
        &self,
        slot: KeySlot,
        policy: &[u8],
        hash: PolicyHash,
    ) -> Result<Vec<u8>, CryptoError> {
        let key = match slot {
            KeySlot::Current => &self.signing_key,
            KeySlot::Next => &self.next_signing_key,
        };
        key.as_ref()
            .ok_or(CryptoError::NoSigningKey)?
            .sign(policy, hash)
    }
}

/// The public keys of a trusted key group, by key pair id. CloudFront allows
/// several keys per group so keys can be rotated without downtime.
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    keys: HashMap<KeyPairId, PublicKey>,
}

impl PublicKeySet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, id: KeyPairId, key: PublicKey) -> Self {
        self.keys.insert(id, key);
        self
    }

    pub fn insert(&mut self, id: KeyPairId, key: PublicKey) {
        self.keys.insert(id, key);
    }
}

impl PolicyVerifier for PublicKeySet {
    fn verify_policy(
        &self,
        key_pair_id: &KeyPairId,
        policy: &[u8],
        signature: &[u8],
        hash: PolicyHash,
    ) -> Result<(), CryptoError> {
        self.keys
            .get(key_pair_id)
            .ok_or_else(|| CryptoError::UnknownKeyPairId(key_pair_id.clone()))?
            .verify(policy, signature, hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIOcMBEoxo1dFtnE5gg3lV0HwoebIIZ7ym0VNiZSHYjGwoAoGCCqGSM49\nAwEHoUQDQgAE0ecRpLY7swdBZjUjCkIVWNGYGra+qDHscq7PgddaJZw1yP0u5hYb\nkiKL78dBF2DlXsboOsEcT2B62PxccXvf5A==\n-----END EC PRIVATE KEY-----\n";

    #[test]
    fn ecdsa_signatures_round_trip_and_fail_when_tampered() {
        let key = SigningKey::from_pem(EC_PEM).unwrap();
        let public = key.public_key();
        for hash in [PolicyHash::Sha1, PolicyHash::Sha256] {
            let sig = key.sign(b"policy", hash).unwrap();
            public.verify(b"policy", &sig, hash).unwrap();
            assert_eq!(
                public.verify(b"policy!", &sig, hash),
                Err(CryptoError::BadSignature)
            );
        }
    }

    #[test]
    fn unknown_key_pair_ids_are_named() {
        let set = PublicKeySet::new();
        let id = KeyPairId::parse("K1").unwrap();
        assert_eq!(
            set.verify_policy(&id, b"p", b"s", PolicyHash::Sha1),
            Err(CryptoError::UnknownKeyPairId(id))
        );
    }
}
