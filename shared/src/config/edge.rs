use serde::Deserialize;

use super::fields::{
    self, ConfigError, HttpsUrl, Issuer, NetworkHintKeyId, NetworkHintSecret, Origin, SecretSource,
    TableName, VideoPathPrefix, err,
};
use crate::cloudfront::{CookieAttributes, SameSite};
use crate::crypto::{KeySlot, PolicyHash};
use crate::ids::{KeyPairId, VideoId};
use crate::jwt::{Jwks, PUBLIC_TEST_KIDS, TokenUse, VerifierConfig};
use crate::network_hint::NetworkHintKey;
use crate::time::EpochSeconds;

/// Where the CloudFront signing key comes from: inline PEM (local stack and
/// tests only; `EdgeConfig::for_deployment` refuses it) or a Secrets Manager
/// secret replicated to the edge regions, read once per container.
pub type KeySource = SecretSource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningConfig {
    pub key_pair_id: KeyPairId,
    pub key: KeySource,
    pub hash: PolicyHash,
    /// The key that takes over at a set time during a rotation.
    pub next: Option<StagedKey>,
}

/// A signing key staged in the config ahead of a rotation. Every container
/// in every region switches to it at `activate_at`, so the switch does not
/// wait for containers to recycle; its public key must be in the key group
/// before then (docs/operations.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedKey {
    pub key_pair_id: KeyPairId,
    pub key: KeySource,
    pub activate_at: EpochSeconds,
}

impl SigningConfig {
    /// The key that signs at `now`, and when that changes (a staged key
    /// not yet active).
    pub fn active(&self, now: EpochSeconds) -> (KeySlot, &KeyPairId, Option<EpochSeconds>) {
        match &self.next {
            Some(next) if now >= next.activate_at => (KeySlot::Next, &next.key_pair_id, None),
            Some(next) => (KeySlot::Current, &self.key_pair_id, Some(next.activate_at)),
            None => (KeySlot::Current, &self.key_pair_id, None),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConfig {
    pub ttl_seconds: u64,
    pub domain: Option<String>,
    pub same_site: SameSite,
    /// Adds the viewer's IP to the policy: stolen cookies stop working on
    /// another network, but so do viewers whose address changes mid-play.
    pub bind_client_ip: bool,
}

impl CookieConfig {
    /// `refresh_after` is 80% of the lifetime (ARCHITECTURE §6).
    pub fn refresh_after_seconds(&self) -> u64 {
        self.ttl_seconds * 4 / 5
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    pub name: TableName,
    pub replica_regions: Vec<String>,
}

/// How long store answers are reused, and how long a token's claims are
/// authoritative for a "no" (see `entitlement::Rules::decide`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    pub positive_seconds: u64,
    pub negative_seconds: u64,
    pub claims_trusted_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    pub verifier: VerifierConfig,
    pub jwks_url: HttpsUrl,
    pub jwks: Jwks,
    pub premium_groups: Vec<String>,
    pub signing: SigningConfig,
    pub cookie: CookieConfig,
    /// `scheme://host` that policies name. `None`: the viewer's `Host`
    /// (served over https), for stacks whose distribution domain is only known
    /// after the edge function is published (see infra/).
    pub resource_base: Option<Origin>,
    pub video_path_prefix: VideoPathPrefix,
    pub table: TableConfig,
    pub cors_origins: Vec<Origin>,
    pub cache: CacheConfig,
    /// The key of the network hint each decision line carries
    /// (`shared::network_hint`). `None`: lines carry no hint, and
    /// `reelgate logs sharing` has nothing to count.
    pub network_hint: Option<NetworkHintKey>,
    /// Whether titles must be listed in the catalogue (`CATALOGUE` /
    /// `TITLE#<id>` items, read with each decision's snapshot and cached):
    /// free titles, plan tiers and licensing windows apply, and an unlisted
    /// title is `404 title_not_found`. `false` (the default, for
    /// deployments from before the catalogue): no title is read, and every
    /// title is a paid title every plan covers.
    pub catalogue: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigning {
    key_pair_id: String,
    #[serde(default)]
    private_key_pem: Option<String>,
    #[serde(default)]
    private_key_secret_arn: Option<String>,
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    next: Option<RawStagedKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStagedKey {
    key_pair_id: String,
    #[serde(default)]
    private_key_pem: Option<String>,
    #[serde(default)]
    private_key_secret_arn: Option<String>,
    #[serde(default)]
    activate_at: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCookie {
    ttl_seconds: Option<u64>,
    domain: Option<String>,
    same_site: Option<String>,
    bind_client_ip: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: String,
    #[serde(default)]
    replica_regions: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCache {
    positive_seconds: Option<u64>,
    negative_seconds: Option<u64>,
    claims_trusted_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworkHint {
    key_id: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    issuer: String,
    jwks_url: String,
    #[serde(default)]
    jwks: Option<Jwks>,
    client_ids: Vec<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    leeway_seconds: Option<u64>,
    #[serde(default)]
    premium_groups: Option<Vec<String>>,
    signing: RawSigning,
    #[serde(default)]
    cookie: RawCookie,
    #[serde(default)]
    resource_base: Option<String>,
    #[serde(default)]
    video_path_prefix: Option<String>,
    table: RawTable,
    #[serde(default)]
    cors_origins: Vec<String>,
    #[serde(default)]
    cache: RawCache,
    #[serde(default)]
    network_hint: Option<RawNetworkHint>,
    #[serde(default)]
    catalogue: bool,
    #[serde(default)]
    allow_public_test_keys: bool,
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

impl EdgeConfig {
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        let raw: Raw = serde_json::from_str(json).map_err(|e| err("<document>", e.to_string()))?;
        Self::validate(raw)
    }

    /// `from_json`, plus what a config built for deployment must not
    /// have: keys whose private half is public (`allow_public_test_keys`),
    /// an inline private key (deployed keys live in Secrets Manager, not in
    /// a zip that CloudFront replicates and anyone with `lambda:GetFunction`
    /// can download), or a loopback URL. `scripts/build-edge` applies it to
    /// every bundle except the local stack's (`--dev`).
    pub fn for_deployment(json: &str) -> Result<Self, ConfigError> {
        let config = Self::from_json(json)?;
        if config.verifier.allow_public_test_keys {
            return Err(err(
                "allow_public_test_keys",
                "must not be set in a config built for deployment",
            ));
        }
        let inline = [
            ("signing.private_key_pem", Some(&config.signing.key)),
            (
                "signing.next.private_key_pem",
                config.signing.next.as_ref().map(|next| &next.key),
            ),
        ];
        for (field, key) in inline {
            if let Some(KeySource::Inline(_)) = key {
                return Err(err(
                    field,
                    "must not be inline in a config built for deployment: use private_key_secret_arn",
                ));
            }
        }
        let urls = [
            (
                "issuer",
                Some(HttpsUrl::parse("issuer", &config.verifier.issuer)?),
            ),
            ("jwks_url", Some(config.jwks_url.clone())),
            (
                "resource_base",
                config.resource_base.as_ref().map(|o| o.url().clone()),
            ),
        ];
        for (field, url) in urls {
            if url.is_some_and(|url| url.is_loopback()) {
                return Err(err(
                    field,
                    "must not be a loopback URL in a config built for deployment",
                ));
            }
        }
        Ok(config)
    }

    fn validate(raw: Raw) -> Result<Self, ConfigError> {
        let issuer = Issuer::parse("issuer", &raw.issuer)?;
        let jwks_url = HttpsUrl::parse("jwks_url", &raw.jwks_url)?;
        let client_ids = fields::client_ids("client_ids", raw.client_ids)?;
        let token_use = match raw.token_use.as_deref() {
            None | Some("access") => TokenUse::Access,
            Some("id") => TokenUse::Id,
            Some(_) => return Err(err("token_use", "must be \"access\" or \"id\"")),
        };
        let mut verifier = VerifierConfig::new(issuer.to_string(), client_ids);
        verifier.token_use = token_use;
        verifier.leeway_seconds = fields::leeway_seconds("leeway_seconds", raw.leeway_seconds)?;
        verifier.allow_public_test_keys = raw.allow_public_test_keys;
        let jwks = raw.jwks.unwrap_or_default();
        if let Some(bad) = jwks
            .keys
            .iter()
            .position(|k| PUBLIC_TEST_KIDS.contains(&k.kid.as_str()))
            && !raw.allow_public_test_keys
        {
            return Err(err(
                &format!("jwks.keys[{bad}]"),
                "is a test key whose private half is public; set allow_public_test_keys only for local use",
            ));
        }
        if let Some(bad) = jwks
            .keys
            .iter()
            .position(|k| k.kty != "RSA" || k.n.is_none() || k.e.is_none())
        {
            return Err(err(
                &format!("jwks.keys[{bad}]"),
                "must be an RSA key with n and e",
            ));
        }
        let premium_groups = match raw.premium_groups {
            None => vec!["premium".to_owned()],
            Some(groups) => fields::groups("premium_groups", groups)?,
        };
        let signing = Self::signing(raw.signing)?;
        let cookie = Self::cookie(raw.cookie)?;
        let resource_base = raw
            .resource_base
            .map(|base| Origin::parse("resource_base", &base))
            .transpose()?;
        let video_path_prefix = match raw.video_path_prefix {
            None => VideoPathPrefix::default(),
            Some(prefix) => VideoPathPrefix::parse("video_path_prefix", &prefix)?,
        };
        let table_name = TableName::parse("table.name", &raw.table.name)?;
        if let Some(bad) = raw.table.replica_regions.iter().find(|r| !is_region(r)) {
            return Err(err(
                "table.replica_regions",
                format!("{bad:?} is not an AWS region name"),
            ));
        }
        let cors_origins = raw
            .cors_origins
            .iter()
            .enumerate()
            .map(|(i, origin)| Origin::parse(&format!("cors_origins[{i}]"), origin))
            .collect::<Result<Vec<_>, _>>()?;
        if !cors_origins.is_empty() && cookie.same_site != SameSite::None {
            return Err(err(
                "cookie.same_site",
                "must be \"None\" when cors_origins is set, or browsers will not send the cookies cross-site",
            ));
        }
        let cache = CacheConfig {
            positive_seconds: fields::bounded(
                "cache.positive_seconds",
                raw.cache.positive_seconds,
                60,
                0..=3600,
            )?,
            negative_seconds: fields::bounded(
                "cache.negative_seconds",
                raw.cache.negative_seconds,
                10,
                0..=300,
            )?,
            claims_trusted_seconds: fields::bounded(
                "cache.claims_trusted_seconds",
                raw.cache.claims_trusted_seconds,
                300,
                0..=3600,
            )?,
        };
        let network_hint = match raw.network_hint {
            None => None,
            Some(hint) => Some(NetworkHintKey::new(
                NetworkHintKeyId::parse("network_hint.key_id", &hint.key_id)?,
                NetworkHintSecret::parse("network_hint.key", &hint.key)?,
            )),
        };
        Ok(Self {
            verifier,
            jwks_url,
            jwks,
            premium_groups,
            signing,
            cookie,
            resource_base,
            video_path_prefix,
            table: TableConfig {
                name: table_name,
                replica_regions: raw.table.replica_regions,
            },
            cors_origins,
            cache,
            network_hint,
            catalogue: raw.catalogue,
        })
    }

    fn signing(raw: RawSigning) -> Result<SigningConfig, ConfigError> {
        let key_pair_id = KeyPairId::parse(&raw.key_pair_id)
            .map_err(|e| err("signing.key_pair_id", e.to_string()))?;
        let key = Self::key_source("signing", raw.private_key_pem, raw.private_key_secret_arn)?;
        let hash = fields::policy_hash("signing.hash", raw.hash.as_deref())?;
        let next = match raw.next {
            None => None,
            Some(next) => {
                let next_id = KeyPairId::parse(&next.key_pair_id)
                    .map_err(|e| err("signing.next.key_pair_id", e.to_string()))?;
                if next_id == key_pair_id {
                    return Err(err(
                        "signing.next.key_pair_id",
                        "must differ from signing.key_pair_id",
                    ));
                }
                let activate_at = next.activate_at.filter(|at| *at > 0).ok_or_else(|| {
                    err(
                        "signing.next.activate_at",
                        "must be the epoch second the staged key starts signing",
                    )
                })?;
                Some(StagedKey {
                    key_pair_id: next_id,
                    key: Self::key_source(
                        "signing.next",
                        next.private_key_pem,
                        next.private_key_secret_arn,
                    )?,
                    activate_at: EpochSeconds::new(activate_at),
                })
            }
        };
        Ok(SigningConfig {
            key_pair_id,
            key,
            hash,
            next,
        })
    }

    fn key_source(
        field: &str,
        pem: Option<String>,
        arn: Option<String>,
    ) -> Result<KeySource, ConfigError> {
        SecretSource::one_of(
            (&format!("{field}.private_key_pem"), pem),
            (&format!("{field}.private_key_secret_arn"), arn),
            true,
        )
    }

    fn cookie(raw: RawCookie) -> Result<CookieConfig, ConfigError> {
        let same_site = match raw.same_site.as_deref() {
            None | Some("Lax") => SameSite::Lax,
            Some("Strict") => SameSite::Strict,
            Some("None") => SameSite::None,
            Some(_) => {
                return Err(err(
                    "cookie.same_site",
                    "must be \"Lax\", \"Strict\" or \"None\"",
                ));
            }
        };
        let config = CookieConfig {
            ttl_seconds: fields::bounded("cookie.ttl_seconds", raw.ttl_seconds, 300, 30..=86_400)?,
            domain: raw.domain,
            same_site,
            bind_client_ip: raw.bind_client_ip.unwrap_or(false),
        };
        CookieAttributes::new("/videos/x/", same_site)
            .and_then(|a| match &config.domain {
                Some(domain) => a.with_domain(domain.clone()),
                None => Ok(a),
            })
            .map_err(|e| err("cookie.domain", e.to_string()))?;
        Ok(config)
    }

    /// The cookie path and policy resource prefix of one title.
    pub fn video_path(&self, video: &VideoId) -> String {
        [&self.video_path_prefix, video.as_str(), "/"].concat()
    }

    /// The policy `Resource` covering every object of one title, under
    /// `base` (`scheme://host`).
    pub fn video_resource(&self, base: &str, video: &VideoId) -> String {
        [base, &self.video_path(video), "*"].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
      "jwks_url": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json",
      "jwks": {"keys": []},
      "client_ids": ["exampleclientid"],
      "token_use": "access",
      "leeway_seconds": 60,
      "premium_groups": ["premium"],
      "signing": {"key_pair_id": "K2EXAMPLE", "private_key_pem": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", "private_key_secret_arn": null, "hash": "sha1"},
      "cookie": {"ttl_seconds": 300, "domain": null, "same_site": "Lax", "bind_client_ip": false},
      "resource_base": "https://d111111abcdef8.cloudfront.net",
      "video_path_prefix": "/videos/",
      "table": {"name": "reelgate", "replica_regions": ["us-east-1", "eu-west-1", "ap-southeast-1"]}
    }"#;

    const HINT_KEY: &str = "d2f1c0a6b7e84f3c9a5b1e0d7c6f2a81";

    fn with(pointer: &str, value: serde_json::Value) -> Result<EdgeConfig, ConfigError> {
        let mut doc: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        match doc.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => doc[&pointer[1..]] = value,
        }
        EdgeConfig::from_json(&doc.to_string())
    }

    #[test]
    fn a_network_hint_key_is_optional_and_never_shown() {
        assert_eq!(EdgeConfig::from_json(EXAMPLE).unwrap().network_hint, None);
        let config = with(
            "/network_hint",
            serde_json::json!({"key_id": "2026-12", "key": HINT_KEY}),
        )
        .unwrap();
        assert_eq!(&**config.network_hint.as_ref().unwrap().id(), "2026-12");
        assert!(!format!("{config:?}").contains(HINT_KEY));
        assert_eq!(
            with("/network_hint", serde_json::json!({"key_id": "k1"}))
                .unwrap_err()
                .field,
            "<document>"
        );
    }

    #[test]
    fn the_architecture_example_is_valid() {
        let config = EdgeConfig::from_json(EXAMPLE).unwrap();
        assert_eq!(config.cookie.refresh_after_seconds(), 240);
        let demo = VideoId::parse("demo").unwrap();
        assert_eq!(
            config.video_resource(config.resource_base.as_deref().unwrap(), &demo),
            "https://d111111abcdef8.cloudfront.net/videos/demo/*"
        );
        assert!(
            !format!("{config:?}").contains("BEGIN"),
            "debug output must not show the key"
        );
    }

    #[test]
    fn every_invalid_field_is_named() {
        use serde_json::json;
        let cases = [
            ("/issuer", json!("http://evil.example/pool"), "issuer"),
            ("/client_ids", json!([]), "client_ids"),
            ("/token_use", json!("refresh"), "token_use"),
            ("/leeway_seconds", json!(3600), "leeway_seconds"),
            ("/signing/key_pair_id", json!("k*"), "signing.key_pair_id"),
            (
                "/signing/private_key_pem",
                json!("hello"),
                "signing.private_key_pem",
            ),
            (
                "/signing/private_key_secret_arn",
                json!("arn:aws:secretsmanager:us-east-1:1:secret:x"),
                "signing.private_key_pem",
            ),
            ("/signing/hash", json!("md5"), "signing.hash"),
            ("/cookie/ttl_seconds", json!(5), "cookie.ttl_seconds"),
            ("/cookie/same_site", json!("lax"), "cookie.same_site"),
            ("/cookie/domain", json!("a;b"), "cookie.domain"),
            ("/resource_base", json!("https://d.net/"), "resource_base"),
            ("/video_path_prefix", json!("videos"), "video_path_prefix"),
            (
                "/jwks_url",
                json!("http://127.0.0.1.evil.com/jwks.json"),
                "jwks_url",
            ),
            ("/jwks_url", json!("http://localhost@evil/jwks"), "jwks_url"),
            ("/issuer", json!("http://127.0.0.1.evil.com/pool"), "issuer"),
            (
                "/resource_base",
                json!("http://localhost@evil"),
                "resource_base",
            ),
            ("/premium_groups", json!([""]), "premium_groups"),
            ("/table/name", json!("a"), "table.name"),
            (
                "/table/replica_regions",
                json!(["mars"]),
                "table.replica_regions",
            ),
            (
                "/network_hint",
                json!({"key_id": "k:1", "key": HINT_KEY}),
                "network_hint.key_id",
            ),
            (
                "/network_hint",
                json!({"key_id": "", "key": HINT_KEY}),
                "network_hint.key_id",
            ),
            (
                "/network_hint",
                json!({"key_id": "k1", "key": "too-short"}),
                "network_hint.key",
            ),
        ];
        for (pointer, value, field) in cases {
            assert_eq!(
                with(pointer, value.clone()).unwrap_err().field,
                field,
                "{pointer} = {value}"
            );
        }
        assert_eq!(EdgeConfig::from_json("{").unwrap_err().field, "<document>");
    }

    const NEXT_PEM: &str = "-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----";

    #[test]
    fn a_staged_key_signs_from_its_activation_second() {
        use serde_json::json;
        let next =
            json!({"key_pair_id": "K2NEXT", "private_key_pem": NEXT_PEM, "activate_at": 1000});
        let mut doc: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        doc["signing"]["next"] = next;
        let config = EdgeConfig::from_json(&doc.to_string()).unwrap();
        let (slot, id, switch) = config.signing.active(EpochSeconds::new(999));
        assert_eq!(
            (slot, id.as_str(), switch),
            (KeySlot::Current, "K2EXAMPLE", Some(EpochSeconds::new(1000)))
        );
        let (slot, id, switch) = config.signing.active(EpochSeconds::new(1000));
        assert_eq!((slot, id.as_str(), switch), (KeySlot::Next, "K2NEXT", None));
        assert!(
            !format!("{config:?}").contains("BEGIN"),
            "debug output must not show either key"
        );
    }

    #[test]
    fn every_invalid_staged_key_field_is_named() {
        use serde_json::json;
        let staged = |next: serde_json::Value| {
            let mut doc: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
            doc["signing"]["next"] = next;
            EdgeConfig::from_json(&doc.to_string()).unwrap_err().field
        };
        let cases = [
            (
                json!({"key_pair_id": "K2EXAMPLE", "private_key_pem": NEXT_PEM, "activate_at": 1}),
                "signing.next.key_pair_id",
            ),
            (
                json!({"key_pair_id": "K 2", "private_key_pem": NEXT_PEM, "activate_at": 1}),
                "signing.next.key_pair_id",
            ),
            (
                json!({"key_pair_id": "K2NEXT", "private_key_pem": NEXT_PEM, "activate_at": 0}),
                "signing.next.activate_at",
            ),
            (
                json!({"key_pair_id": "K2NEXT", "private_key_pem": "nope", "activate_at": 1}),
                "signing.next.private_key_pem",
            ),
            (
                json!({"key_pair_id": "K2NEXT", "private_key_secret_arn": "arn:aws:s3:::b", "activate_at": 1}),
                "signing.next.private_key_secret_arn",
            ),
            (
                json!({"key_pair_id": "K2NEXT", "activate_at": 1}),
                "signing.next.private_key_pem",
            ),
        ];
        for (next, field) in cases {
            assert_eq!(staged(next.clone()), field, "{next}");
        }
        assert_eq!(
            staged(json!({"key_pair_id": "K2NEXT", "private_key_pem": NEXT_PEM})),
            "signing.next.activate_at"
        );
    }

    const DEV: &str = include_str!("../../../edge-auth/config.dev.json");

    fn deploy_with(pointer: &str, value: serde_json::Value) -> Result<EdgeConfig, ConfigError> {
        let mut doc: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        doc["signing"]["private_key_pem"] = serde_json::Value::Null;
        doc["signing"]["private_key_secret_arn"] =
            "arn:aws:secretsmanager:us-east-1:1:secret:k".into();
        match doc.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                doc.pointer_mut(parent).unwrap()[key] = value;
            }
        }
        EdgeConfig::for_deployment(&doc.to_string())
    }

    #[test]
    fn a_deployable_config_is_accepted_for_deployment() {
        assert!(deploy_with("/table/name", "reelgate".into()).is_ok());
    }

    #[test]
    fn deployment_refuses_public_test_keys() {
        assert_eq!(
            deploy_with("/allow_public_test_keys", true.into())
                .unwrap_err()
                .field,
            "allow_public_test_keys"
        );
    }

    #[test]
    fn deployment_refuses_an_inline_private_key() {
        assert_eq!(
            EdgeConfig::for_deployment(EXAMPLE).unwrap_err().field,
            "signing.private_key_pem"
        );
        let next = serde_json::json!({"key_pair_id": "K2NEXT", "private_key_pem": NEXT_PEM, "activate_at": 1});
        assert_eq!(
            deploy_with("/signing/next", next).unwrap_err().field,
            "signing.next.private_key_pem"
        );
    }

    #[test]
    fn deployment_refuses_loopback_urls() {
        assert_eq!(
            deploy_with("/jwks_url", "http://127.0.0.1:8080/jwks.json".into())
                .unwrap_err()
                .field,
            "jwks_url"
        );
        assert_eq!(
            deploy_with("/resource_base", "http://localhost:8080".into())
                .unwrap_err()
                .field,
            "resource_base"
        );
    }

    #[test]
    fn the_dev_config_is_valid_but_not_deployable() {
        assert!(EdgeConfig::from_json(DEV).is_ok());
        assert!(EdgeConfig::for_deployment(DEV).is_err());
    }
}
