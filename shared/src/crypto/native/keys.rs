//! CloudFront key pairs: the two key types a trusted key group accepts
//! (RSA-2048 and ECDSA P-256), read from every PEM form operators have.

use p256::ecdsa;
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::rand_core::TryCryptoRng;
use rsa::traits::PublicKeyParts;

/// CloudFront accepts exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Rsa2048,
    EcdsaP256,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa-2048",
            Self::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s {
            "rsa-2048" => Ok(Self::Rsa2048),
            "ecdsa-p256" => Ok(Self::EcdsaP256),
            _ => Err(KeyError::UnknownAlgorithm),
        }
    }
}

/// Why a key was refused. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no PEM block found (expected -----BEGIN ... KEY-----)")]
    NotPem,
    #[error(
        "unsupported PEM block {0:?}: use PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY (PUBLIC KEY or RSA PUBLIC KEY for public keys)"
    )]
    UnsupportedLabel(String),
    #[error("the {0} PEM block does not decode as a key")]
    Malformed(&'static str),
    #[error("RSA key is {0} bits; CloudFront requires 2048")]
    RsaSize(usize),
    #[error("the key is neither RSA nor ECDSA P-256")]
    UnsupportedKeyType,
    #[error("unknown key algorithm (use ecdsa-p256 or rsa-2048)")]
    UnknownAlgorithm,
    #[error("key generation failed: {0}")]
    Generation(String),
}

/// A private key a CloudFront policy can be signed with.
#[derive(Clone)]
pub enum SigningKey {
    Rsa(rsa::PrivateKey),
    Ecdsa(ecdsa::SigningKey),
}

/// A public key from a trusted key group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(rsa::PublicKey),
    Ecdsa(ecdsa::VerifyingKey),
}

impl std::fmt::Debug for SigningKey {
    /// Only the algorithm: a private key must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.algorithm().as_str())
    }
}

fn pem_label(pem: &str) -> Result<&str, KeyError> {
    let start = pem.find("-----BEGIN ").ok_or(KeyError::NotPem)? + "-----BEGIN ".len();
    let rest = &pem[start..];
    let end = rest.find("-----").ok_or(KeyError::NotPem)?;
    Ok(&rest[..end])
}

fn check_rsa_size(key: &impl PublicKeyParts) -> Result<(), KeyError> {
    match key.size() * 8 {
        2048 => Ok(()),
        bits => Err(KeyError::RsaSize(bits)),
    }
}

impl SigningKey {
    /// Reads PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = match pem_label(pem)? {
            "RSA PRIVATE KEY" => Self::Rsa(
                rsa::PrivateKey::from_pkcs1_pem(pem)
                    .map_err(|_| KeyError::Malformed("RSA PRIVATE KEY"))?,
            ),
            "EC PRIVATE KEY" => Self::Ecdsa(
                p256::SecretKey::from_sec1_pem(pem)
                    .map_err(|_| KeyError::Malformed("EC PRIVATE KEY"))?
                    .into(),
            ),
            "PRIVATE KEY" => {
                if let Ok(key) = rsa::PrivateKey::from_pkcs8_pem(pem) {
                    Self::Rsa(key)
                } else if let Ok(key) = ecdsa::SigningKey::from_pkcs8_pem(pem) {
                    Self::Ecdsa(key)
                } else {
                    return Err(KeyError::UnsupportedKeyType);
                }
            }
            other => return Err(KeyError::UnsupportedLabel(other.chars().take(40).collect())),
        };
        if let Self::Rsa(rsa) = &key {
            check_rsa_size(rsa)?;
        }
        Ok(key)
    }

    /// A fresh key pair. The host supplies the randomness: the core never
    /// touches the OS.
    pub fn generate<R: TryCryptoRng + ?Sized>(
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<Self, KeyError> {
        match algorithm {
            KeyAlgorithm::Rsa2048 => rsa::PrivateKey::new(rng, 2048)
                .map(Self::Rsa)
                .map_err(|e| KeyError::Generation(e.to_string())),
            KeyAlgorithm::EcdsaP256 => {
                let mut scalar = [0u8; 32];
                loop {
                    rng.try_fill_bytes(&mut scalar)
                        .map_err(|_| KeyError::Generation("random source failed".into()))?;
                    if let Ok(key) = ecdsa::SigningKey::from_slice(&scalar) {
                        return Ok(Self::Ecdsa(key));
                    }
                }
            }
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Self::Rsa(_) => KeyAlgorithm::Rsa2048,
            Self::Ecdsa(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Rsa(key) => PublicKey::Rsa(key.to_public_key()),
            Self::Ecdsa(key) => PublicKey::Ecdsa(*key.verifying_key()),
        }
    }

    /// PKCS#8 PEM, the form `openssl genpkey` writes.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let pem = match self {
            Self::Rsa(key) => key.to_pkcs8_pem(LineEnding::LF),
            Self::Ecdsa(key) => key.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| KeyError::Generation(e.to_string()))?;
        Ok(pem.as_str().to_owned())
    }
}

impl PublicKey {
    /// Reads SubjectPublicKeyInfo (`PUBLIC KEY`, what CloudFront's console
    /// takes) or PKCS#1 (`RSA PUBLIC KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = match pem_label(pem)? {
            "RSA PUBLIC KEY" => Self::Rsa(
                rsa::PublicKey::from_pkcs1_pem(pem)
                    .map_err(|_| KeyError::Malformed("RSA PUBLIC KEY"))?,
            ),
            "PUBLIC KEY" => {
                if let Ok(key) = rsa::PublicKey::from_public_key_pem(pem) {
                    Self::Rsa(key)
                } else if let Ok(key) = ecdsa::VerifyingKey::from_public_key_pem(pem) {
                    Self::Ecdsa(key)
                } else {
                    return Err(KeyError::UnsupportedKeyType);
                }
            }
            other => return Err(KeyError::UnsupportedLabel(other.chars().take(40).collect())),
        };
        if let Self::Rsa(rsa) = &key {
            check_rsa_size(rsa)?;
        }
        Ok(key)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Self::Rsa(_) => KeyAlgorithm::Rsa2048,
            Self::Ecdsa(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// SubjectPublicKeyInfo PEM: paste this into CloudFront's public key form.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        match self {
            Self::Rsa(key) => key.to_public_key_pem(LineEnding::LF),
            Self::Ecdsa(key) => key.to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| KeyError::Generation(e.to_string()))
    }
}
