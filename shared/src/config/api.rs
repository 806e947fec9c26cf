//! The regional API's configuration, read from Lambda environment variables
//! (the API, unlike the edge, has them). Pure: the host passes a lookup
//! function, so tests and the local stack configure it without touching the
//! process environment. Every error names the variable.

use crate::crypto::PolicyHash;
use crate::ids::KeyPairId;
use crate::jwt::{TokenUse, VerifierConfig};

use super::edge::ConfigError;

/// A secret given inline (local stack, tests) or by Secrets Manager ARN
/// (AWS: read once per container by the host).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Inline(String),
    Arn(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::Arn(arn) => write!(f, "Arn({arn})"),
        }
    }
}

/// How `GET /api/videos/{id}/signed-url` builds its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// For exactly the requested object (shortest URL).
    Canned,
    /// For every object of the title (`…/videos/{id}/*`), so a player may
    /// reuse the query string on each segment.
    Wildcard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub table: String,
    pub verifier: VerifierConfig,
    pub jwks_url: String,
    pub webhook_secret: SecretSource,
    pub key_pair_id: KeyPairId,
    pub signing_key: SecretSource,
    pub hash: PolicyHash,
    pub signed_url_ttl_seconds: u64,
    pub url_policy: UrlPolicy,
    /// The viewer-facing `https://host` signed URLs name. Optional because a
    /// stack learns its distribution's domain only after creating it; until
    /// it is set, the signed-URL route answers 503 `signed_urls_unconfigured`.
    pub resource_base: Option<String>,
    pub video_path_prefix: String,
    pub premium_groups: Vec<String>,
    pub admin_group: String,
    /// How many per-title grants the pre-token trigger puts in a token.
    pub claims_max_grants: usize,
    /// The trigger's budget for its DynamoDB read (Cognito allows 5 s in all).
    pub trigger_timeout_ms: u64,
}

fn err(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

fn secret(
    env: &dyn Fn(&str) -> Option<String>,
    inline: &str,
    arn: &str,
) -> Result<SecretSource, ConfigError> {
    match (
        env(inline).filter(|v| !v.is_empty()),
        env(arn).filter(|v| !v.is_empty()),
    ) {
        (Some(value), None) => Ok(SecretSource::Inline(value)),
        (None, Some(value))
            if value.starts_with("arn:aws") && value.contains(":secretsmanager:") =>
        {
            Ok(SecretSource::Arn(value))
        }
        (None, Some(_)) => Err(err(arn, "is not a Secrets Manager ARN")),
        (Some(_), Some(_)) => Err(err(
            inline,
            format!("set either {inline} or {arn}, not both"),
        )),
        (None, None) => Err(err(inline, format!("is required (or {arn})"))),
    }
}

fn number(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = match env(name) {
        None => default,
        Some(text) => text
            .parse()
            .map_err(|_| err(name, "must be a whole number"))?,
    };
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(err(
            name,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ApiConfig {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            env(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| err(name, "is required"))
        };
        let issuer = required("REELGATE_ISSUER")?;
        if !issuer.starts_with("https://") && !issuer.starts_with("http://127.0.0.1") {
            return Err(err("REELGATE_ISSUER", "must be an https:// URL"));
        }
        let client_ids = list(env("REELGATE_CLIENT_IDS"));
        if client_ids.is_empty() {
            return Err(err(
                "REELGATE_CLIENT_IDS",
                "must list at least one app client id",
            ));
        }
        let mut verifier = VerifierConfig::new(issuer.clone(), client_ids);
        verifier.token_use = TokenUse::Access;
        verifier.leeway_seconds = number(env, "REELGATE_LEEWAY_SECONDS", 60, 0..=300)?;
        verifier.allow_public_test_keys = match env("REELGATE_ALLOW_PUBLIC_TEST_KEYS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(err(
                    "REELGATE_ALLOW_PUBLIC_TEST_KEYS",
                    "must be true or false",
                ));
            }
        };
        let jwks_url =
            env("REELGATE_JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        let key_pair_id = KeyPairId::parse(&required("REELGATE_KEY_PAIR_ID")?)
            .map_err(|e| err("REELGATE_KEY_PAIR_ID", e.to_string()))?;
        let hash = match env("REELGATE_POLICY_HASH").as_deref() {
            None | Some("sha1") => PolicyHash::Sha1,
            Some("sha256") => PolicyHash::Sha256,
            Some(_) => return Err(err("REELGATE_POLICY_HASH", "must be sha1 or sha256")),
        };
        let url_policy = match env("REELGATE_SIGNED_URL_POLICY").as_deref() {
            None | Some("canned") => UrlPolicy::Canned,
            Some("wildcard") => UrlPolicy::Wildcard,
            Some(_) => {
                return Err(err(
                    "REELGATE_SIGNED_URL_POLICY",
                    "must be canned or wildcard",
                ));
            }
        };
        let resource_base = env("REELGATE_RESOURCE_BASE").filter(|v| !v.is_empty());
        if let Some(base) = &resource_base
            && (!(base.starts_with("https://") || base.starts_with("http://127.0.0.1"))
                || base.ends_with('/'))
        {
            return Err(err(
                "REELGATE_RESOURCE_BASE",
                "must be https://host with no trailing slash",
            ));
        }
        let table = required("REELGATE_TABLE")?;
        let premium_groups = match env("REELGATE_PREMIUM_GROUPS") {
            None => vec!["premium".to_owned()],
            value => list(value),
        };
        Ok(Self {
            table,
            verifier,
            jwks_url,
            webhook_secret: secret(
                env,
                "REELGATE_WEBHOOK_SECRET",
                "REELGATE_WEBHOOK_SECRET_ARN",
            )?,
            key_pair_id,
            signing_key: secret(
                env,
                "REELGATE_SIGNING_KEY_PEM",
                "REELGATE_SIGNING_KEY_SECRET_ARN",
            )?,
            hash,
            signed_url_ttl_seconds: number(
                env,
                "REELGATE_SIGNED_URL_TTL_SECONDS",
                300,
                30..=86_400,
            )?,
            url_policy,
            resource_base,
            video_path_prefix: env("REELGATE_VIDEO_PATH_PREFIX")
                .unwrap_or_else(|| "/videos/".to_owned()),
            premium_groups,
            admin_group: env("REELGATE_ADMIN_GROUP").unwrap_or_else(|| "admin".to_owned()),
            claims_max_grants: number(
                env,
                "REELGATE_CLAIMS_MAX_GRANTS",
                crate::entitlement::DEFAULT_MAX_GRANTS as u64,
                0..=200,
            )? as usize,
            trigger_timeout_ms: number(env, "REELGATE_TRIGGER_TIMEOUT_MS", 1500, 100..=4000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        (
            "REELGATE_ISSUER",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
        ),
        ("REELGATE_CLIENT_IDS", "a, b"),
        ("REELGATE_KEY_PAIR_ID", "K2X"),
        ("REELGATE_RESOURCE_BASE", "https://d.net"),
        ("REELGATE_TABLE", "reelgate"),
        ("REELGATE_WEBHOOK_SECRET", "whsec"),
        (
            "REELGATE_SIGNING_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:1:secret:k",
        ),
    ];

    #[test]
    fn defaults_are_the_architecture_s() {
        let config = ApiConfig::from_env(&env(BASE)).unwrap();
        assert_eq!(config.verifier.client_ids, ["a", "b"]);
        assert_eq!(config.signed_url_ttl_seconds, 300);
        assert_eq!(
            config.jwks_url,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json"
        );
        assert!(
            !format!("{config:?}").contains("whsec"),
            "secrets are redacted in Debug"
        );
    }

    #[test]
    fn each_bad_variable_is_named() {
        for (name, value) in [
            ("REELGATE_ISSUER", "ftp://x"),
            ("REELGATE_CLIENT_IDS", " , "),
            ("REELGATE_KEY_PAIR_ID", "k*"),
            ("REELGATE_SIGNED_URL_TTL_SECONDS", "5"),
            ("REELGATE_SIGNED_URL_POLICY", "any"),
            ("REELGATE_RESOURCE_BASE", "https://d.net/"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            assert_eq!(ApiConfig::from_env(&env(&pairs)).unwrap_err().field, name);
        }
        let missing: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "REELGATE_WEBHOOK_SECRET")
            .collect();
        assert_eq!(
            ApiConfig::from_env(&env(&missing)).unwrap_err().field,
            "REELGATE_WEBHOOK_SECRET"
        );
    }
}
