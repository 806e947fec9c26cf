//! The regional API's and the pre-token trigger's configuration, read from
//! Lambda environment variables (the API, unlike the edge, has them). Pure:
//! the host passes a lookup function, so tests and the local stack configure
//! it without touching the process environment. Each variable is read once,
//! here, into the same checked types as the edge's config (`fields`); every
//! error names the variable. An empty variable counts as unset (CloudFormation
//! writes "" for an unset optional parameter); an unset variable takes the
//! default its field documents, and a set but invalid one is an error, never
//! a fallback.

use super::fields::{
    self, ConfigError, HttpsUrl, Issuer, Origin, SecretSource, TableName, VideoPathPrefix, err,
};
use crate::crypto::PolicyHash;
use crate::ids::KeyPairId;
use crate::jwt::{TokenUse, VerifierConfig};

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
    /// `REELGATE_TABLE`.
    pub table: TableName,
    /// `REELGATE_ISSUER`, `REELGATE_CLIENT_IDS`, `REELGATE_LEEWAY_SECONDS`
    /// (60), `REELGATE_ALLOW_PUBLIC_TEST_KEYS` (false); access tokens only.
    pub verifier: VerifierConfig,
    /// `REELGATE_JWKS_URL`; unset: the issuer's `/.well-known/jwks.json`,
    /// where Cognito publishes it.
    pub jwks_url: HttpsUrl,
    /// `REELGATE_WEBHOOK_SECRET` or `REELGATE_WEBHOOK_SECRET_ARN`.
    pub webhook_secret: SecretSource,
    /// `REELGATE_STRIPE_WEBHOOK_SECRET` or `REELGATE_STRIPE_WEBHOOK_SECRET_ARN`:
    /// the Stripe endpoint's signing secret. Optional: without it the Stripe
    /// webhook answers 503 `stripe_unconfigured`.
    pub stripe_webhook_secret: Option<SecretSource>,
    /// `REELGATE_KEY_PAIR_ID`.
    pub key_pair_id: KeyPairId,
    /// `REELGATE_SIGNING_KEY_PEM` or `REELGATE_SIGNING_KEY_SECRET_ARN`.
    pub signing_key: SecretSource,
    /// `REELGATE_POLICY_HASH` (sha1).
    pub hash: PolicyHash,
    /// `REELGATE_SIGNED_URL_TTL_SECONDS` (300).
    pub signed_url_ttl_seconds: u64,
    /// `REELGATE_SIGNED_URL_POLICY` (canned).
    pub url_policy: UrlPolicy,
    /// `REELGATE_RESOURCE_BASE`: the viewer-facing `https://host` signed URLs
    /// name. Optional because a stack learns its distribution's domain only
    /// after creating it; until it is set, the signed-URL route answers 503
    /// `signed_urls_unconfigured`.
    pub resource_base: Option<Origin>,
    /// `REELGATE_VIDEO_PATH_PREFIX` (`/videos/`).
    pub video_path_prefix: VideoPathPrefix,
    /// `REELGATE_PREMIUM_GROUPS` (premium), comma-separated.
    pub premium_groups: Vec<String>,
    /// `REELGATE_ADMIN_GROUP` (admin).
    pub admin_group: String,
    /// `REELGATE_CATALOGUE` (false): whether titles must be listed in the
    /// catalogue (`shared::entitlement::Rules::catalogue`); set it with the
    /// edge config's `catalogue` once the title items are written.
    pub catalogue: bool,
}

/// The pre-token-generation trigger's own variables (it needs no issuer or
/// keys, so it does not read `ApiConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerConfig {
    /// `REELGATE_TABLE`.
    pub table: TableName,
    /// `REELGATE_CLAIMS_MAX_GRANTS` (50): how many per-title grants go in a
    /// token.
    pub claims_max_grants: usize,
    /// `REELGATE_TRIGGER_TIMEOUT_MS` (1500): the budget for its DynamoDB
    /// read (Cognito allows 5 s in all).
    pub trigger_timeout_ms: u64,
}

/// The environment, with empty values read as unset.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.get(name).ok_or_else(|| err(name, "is required"))
    }

    fn whole(&self, name: &str) -> Result<Option<u64>, ConfigError> {
        self.get(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| err(name, "must be a whole number"))
            })
            .transpose()
    }

    fn number(
        &self,
        name: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        fields::bounded(name, self.whole(name)?, default, range)
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    fn secret(&self, inline: &str, arn: &str, pem: bool) -> Result<SecretSource, ConfigError> {
        SecretSource::one_of((inline, self.get(inline)), (arn, self.get(arn)), pem)
    }

    /// A secret that may be left out entirely (neither variable set).
    fn optional_secret(
        &self,
        inline: &str,
        arn: &str,
    ) -> Result<Option<SecretSource>, ConfigError> {
        if self.get(inline).is_none() && self.get(arn).is_none() {
            return Ok(None);
        }
        self.secret(inline, arn, false).map(Some)
    }

    /// `true` or `false`; unset is false.
    fn flag(&self, name: &str) -> Result<bool, ConfigError> {
        match self.get(name).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(err(name, "must be true or false")),
        }
    }

    fn table(&self) -> Result<TableName, ConfigError> {
        TableName::parse("REELGATE_TABLE", &self.required("REELGATE_TABLE")?)
    }
}

impl ApiConfig {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(env);
        let issuer = Issuer::parse("REELGATE_ISSUER", &env.required("REELGATE_ISSUER")?)?;
        let client_ids = fields::client_ids(
            "REELGATE_CLIENT_IDS",
            env.list("REELGATE_CLIENT_IDS").unwrap_or_default(),
        )?;
        let mut verifier = VerifierConfig::new(issuer.to_string(), client_ids);
        verifier.token_use = TokenUse::Access;
        verifier.leeway_seconds = fields::leeway_seconds(
            "REELGATE_LEEWAY_SECONDS",
            env.whole("REELGATE_LEEWAY_SECONDS")?,
        )?;
        verifier.allow_public_test_keys = env.flag("REELGATE_ALLOW_PUBLIC_TEST_KEYS")?;
        let jwks_url = match env.get("REELGATE_JWKS_URL") {
            None => issuer.jwks_url(),
            Some(url) => HttpsUrl::parse("REELGATE_JWKS_URL", &url)?,
        };
        let key_pair_id = KeyPairId::parse(&env.required("REELGATE_KEY_PAIR_ID")?)
            .map_err(|e| err("REELGATE_KEY_PAIR_ID", e.to_string()))?;
        let hash = fields::policy_hash(
            "REELGATE_POLICY_HASH",
            env.get("REELGATE_POLICY_HASH").as_deref(),
        )?;
        let url_policy = match env.get("REELGATE_SIGNED_URL_POLICY").as_deref() {
            None | Some("canned") => UrlPolicy::Canned,
            Some("wildcard") => UrlPolicy::Wildcard,
            Some(_) => {
                return Err(err(
                    "REELGATE_SIGNED_URL_POLICY",
                    "must be canned or wildcard",
                ));
            }
        };
        let resource_base = env
            .get("REELGATE_RESOURCE_BASE")
            .map(|base| Origin::parse("REELGATE_RESOURCE_BASE", &base))
            .transpose()?;
        let video_path_prefix = match env.get("REELGATE_VIDEO_PATH_PREFIX") {
            None => VideoPathPrefix::default(),
            Some(prefix) => VideoPathPrefix::parse("REELGATE_VIDEO_PATH_PREFIX", &prefix)?,
        };
        let premium_groups = match env.list("REELGATE_PREMIUM_GROUPS") {
            None => vec!["premium".to_owned()],
            Some(groups) => fields::groups("REELGATE_PREMIUM_GROUPS", groups)?,
        };
        let admin_group = env
            .get("REELGATE_ADMIN_GROUP")
            .unwrap_or_else(|| "admin".to_owned());
        let admin_group = fields::groups("REELGATE_ADMIN_GROUP", vec![admin_group])?.remove(0);
        Ok(Self {
            table: env.table()?,
            verifier,
            jwks_url,
            webhook_secret: env.secret(
                "REELGATE_WEBHOOK_SECRET",
                "REELGATE_WEBHOOK_SECRET_ARN",
                false,
            )?,
            stripe_webhook_secret: env.optional_secret(
                "REELGATE_STRIPE_WEBHOOK_SECRET",
                "REELGATE_STRIPE_WEBHOOK_SECRET_ARN",
            )?,
            key_pair_id,
            signing_key: env.secret(
                "REELGATE_SIGNING_KEY_PEM",
                "REELGATE_SIGNING_KEY_SECRET_ARN",
                true,
            )?,
            hash,
            signed_url_ttl_seconds: env.number(
                "REELGATE_SIGNED_URL_TTL_SECONDS",
                300,
                30..=86_400,
            )?,
            url_policy,
            resource_base,
            video_path_prefix,
            premium_groups,
            admin_group,
            catalogue: env.flag("REELGATE_CATALOGUE")?,
        })
    }
}

impl TriggerConfig {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(env);
        Ok(Self {
            table: env.table()?,
            claims_max_grants: env.number(
                "REELGATE_CLAIMS_MAX_GRANTS",
                crate::entitlement::DEFAULT_MAX_GRANTS as u64,
                0..=200,
            )? as usize,
            trigger_timeout_ms: env.number("REELGATE_TRIGGER_TIMEOUT_MS", 1500, 100..=4000)?,
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
        assert!(!config.catalogue);
        assert!(with("REELGATE_CATALOGUE", "true").unwrap().catalogue);
        assert!(with("REELGATE_CATALOGUE", "yes").is_err());
        assert_eq!(
            &*config.jwks_url,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json"
        );
        assert!(
            !format!("{config:?}").contains("whsec"),
            "secrets are redacted in Debug"
        );
    }

    #[test]
    fn the_stripe_secret_is_optional_but_never_ambiguous() {
        assert_eq!(
            ApiConfig::from_env(&env(BASE))
                .unwrap()
                .stripe_webhook_secret,
            None
        );
        let inline = with("REELGATE_STRIPE_WEBHOOK_SECRET", "whsec_s").unwrap();
        assert_eq!(
            inline.stripe_webhook_secret,
            Some(SecretSource::Inline("whsec_s".into()))
        );
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:stripe";
        assert!(matches!(
            with("REELGATE_STRIPE_WEBHOOK_SECRET_ARN", arn)
                .unwrap()
                .stripe_webhook_secret,
            Some(SecretSource::Arn(_))
        ));
        let mut both = BASE.to_vec();
        both.push(("REELGATE_STRIPE_WEBHOOK_SECRET", "whsec_s"));
        both.push(("REELGATE_STRIPE_WEBHOOK_SECRET_ARN", arn));
        assert_eq!(
            ApiConfig::from_env(&env(&both)).unwrap_err().field,
            "REELGATE_STRIPE_WEBHOOK_SECRET"
        );
        assert_eq!(
            with("REELGATE_STRIPE_WEBHOOK_SECRET_ARN", "arn:aws:s3:::b")
                .unwrap_err()
                .field,
            "REELGATE_STRIPE_WEBHOOK_SECRET_ARN"
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
            ("REELGATE_TABLE", "a"),
            ("REELGATE_LEEWAY_SECONDS", "soon"),
            ("REELGATE_POLICY_HASH", "md5"),
            ("REELGATE_SIGNING_KEY_SECRET_ARN", "arn:aws:s3:::b"),
        ] {
            assert_eq!(with(name, value).unwrap_err().field, name, "{name}={value}");
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

    fn with(name: &str, value: &str) -> Result<ApiConfig, ConfigError> {
        let mut pairs = BASE.to_vec();
        pairs.retain(|(k, _)| *k != name);
        pairs.push((name, value));
        ApiConfig::from_env(&env(&pairs))
    }

    #[test]
    fn a_remote_host_dressed_as_loopback_is_not_an_issuer() {
        for issuer in [
            "http://127.0.0.1.evil.com/pool",
            "http://localhost@evil/pool",
        ] {
            assert_eq!(
                with("REELGATE_ISSUER", issuer).unwrap_err().field,
                "REELGATE_ISSUER",
                "{issuer}"
            );
        }
    }

    #[test]
    fn the_jwks_url_is_checked() {
        for url in [
            "http://evil.example/jwks.json",
            "http://127.0.0.1.evil.com/jwks.json",
            "https://user@idp.example/jwks.json",
            "not a url",
        ] {
            assert_eq!(
                with("REELGATE_JWKS_URL", url).unwrap_err().field,
                "REELGATE_JWKS_URL",
                "{url}"
            );
        }
        let url = "http://127.0.0.1:8080/idp/.well-known/jwks.json";
        assert_eq!(&*with("REELGATE_JWKS_URL", url).unwrap().jwks_url, url);
    }

    #[test]
    fn the_video_path_prefix_is_checked() {
        for prefix in ["videos", "/videos", "/a//b/", "/v*/"] {
            assert_eq!(
                with("REELGATE_VIDEO_PATH_PREFIX", prefix)
                    .unwrap_err()
                    .field,
                "REELGATE_VIDEO_PATH_PREFIX",
                "{prefix}"
            );
        }
        assert_eq!(
            &*with("REELGATE_VIDEO_PATH_PREFIX", "/media/")
                .unwrap()
                .video_path_prefix,
            "/media/"
        );
    }

    #[test]
    fn an_inline_signing_key_must_be_a_pem() {
        let mut pairs = BASE.to_vec();
        pairs.retain(|(k, _)| *k != "REELGATE_SIGNING_KEY_SECRET_ARN");
        pairs.push(("REELGATE_SIGNING_KEY_PEM", "not a key"));
        assert_eq!(
            ApiConfig::from_env(&env(&pairs)).unwrap_err().field,
            "REELGATE_SIGNING_KEY_PEM"
        );
    }

    #[test]
    fn a_bad_trigger_variable_is_an_error_not_a_default() {
        let base = [("REELGATE_TABLE", "reelgate")];
        let config = TriggerConfig::from_env(&env(&base)).unwrap();
        assert_eq!(
            (config.claims_max_grants, config.trigger_timeout_ms),
            (50, 1500)
        );
        for (name, value) in [
            ("REELGATE_CLAIMS_MAX_GRANTS", "fifty"),
            ("REELGATE_CLAIMS_MAX_GRANTS", "500"),
            ("REELGATE_TRIGGER_TIMEOUT_MS", "1.5s"),
            ("REELGATE_TRIGGER_TIMEOUT_MS", "9000"),
        ] {
            let pairs = [base[0], (name, value)];
            assert_eq!(
                TriggerConfig::from_env(&env(&pairs)).unwrap_err().field,
                name,
                "{name}={value}"
            );
        }
        assert_eq!(
            TriggerConfig::from_env(&env(&[])).unwrap_err().field,
            "REELGATE_TABLE"
        );
    }
}
