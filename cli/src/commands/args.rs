//! Flag values shared by several commands, parsed into the domain's types.

use std::net::IpAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use reelgate_shared::cloudfront::Ipv4Cidr;
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::{PublicKey, SigningKey};
use reelgate_shared::{EpochSeconds, KeyPairId};

use crate::error::CliError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Hash {
    Sha1,
    Sha256,
}

impl From<Hash> for PolicyHash {
    fn from(hash: Hash) -> Self {
        match hash {
            Hash::Sha1 => PolicyHash::Sha1,
            Hash::Sha256 => PolicyHash::Sha256,
        }
    }
}

pub fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

pub fn signing_key(path: &Path) -> Result<SigningKey, CliError> {
    SigningKey::from_pem(&read(path)?).map_err(|source| CliError::Key {
        path: path.to_owned(),
        source,
    })
}

pub fn public_key(path: &Path) -> Result<PublicKey, CliError> {
    PublicKey::from_pem(&read(path)?).map_err(|source| CliError::Key {
        path: path.to_owned(),
        source,
    })
}

pub fn key_pair_id(value: &str) -> Result<KeyPairId, CliError> {
    KeyPairId::parse(value).map_err(|e| CliError::flag("key-pair-id", e))
}

/// A bare IPv4 address means exactly that address (`/32`), as CloudFront reads it.
pub fn cidr(value: &str) -> Result<Ipv4Cidr, CliError> {
    value.parse().map_err(|e| CliError::flag("ip", e))
}

pub fn client_ip(value: &str) -> Result<IpAddr, CliError> {
    value
        .parse()
        .map_err(|_| CliError::flag("client-ip", "not an IPv4 or IPv6 address"))
}

pub fn now_or(value: Option<u64>) -> EpochSeconds {
    value.map_or_else(
        || {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            EpochSeconds::new(secs)
        },
        EpochSeconds::new,
    )
}
