//! The checked values both configs are made of. The edge's `config.json`
//! and the API's environment name the same things (the issuer, the JWKS
//! URL, the public origin, the video path prefix, the table, secrets), so
//! each is one type here, checked once by its constructor, and a wrong value
//! reads the same whichever config it came from. Every constructor takes the
//! field's name (a JSON path or a variable) for its error.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::{Deref, RangeInclusive};

use crate::crypto::PolicyHash;

/// A config mistake: which field, and what is wrong with it. The value is
/// never echoed (a field may hold a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config field `{field}`: {problem}")]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

pub(super) fn err(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// Read-only string access for the text newtypes below.
macro_rules! text_newtype {
    ($name:ident) => {
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An absolute URL that reelgate fetches or names: `https://` with a host,
/// or plain `http://` only when the host is exactly a loopback address or
/// `localhost` (the local stack), so `http://127.0.0.1.evil.com` and
/// `http://localhost@evil` are refused. It must be in the one canonical form
/// it is compared in, byte for byte (the token's `iss`, a policy's
/// `Resource`): lowercase host, no default port, no user info, query,
/// fragment, `*`, or `.`/`..` segments.
///
/// This is a whitelist of the URLs reelgate needs, not a general parser:
/// anything a WHATWG parser could read differently (user info, numeric
/// shorthand like `127.1`, backslashes, percent-encoded hosts) is refused
/// rather than normalized. The `url` crate would do the parsing, but it
/// adds 200 KB (72 KB with ASCII-only IDNA) to the 300 KB edge
/// WebAssembly module, which validates its config at every cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(String);

text_newtype!(HttpsUrl);

const URL_SHAPE: &str = "must be an https:// URL (http:// only to 127.0.0.1, [::1] or localhost)";

/// A URL's host, as the few forms accepted.
enum UrlHost {
    Name,
    Localhost,
    Ip(IpAddr),
}

impl UrlHost {
    fn parse(host: &str) -> Option<Self> {
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().ok().map(|ip| Self::Ip(ip.into()));
        }
        let last = host.rsplit('.').next()?;
        if last.bytes().all(|b| b.is_ascii_digit()) {
            // Dotted-quad only: `127.1`, `0177.0.0.1` and friends mean
            // different hosts to different parsers.
            return host.parse::<Ipv4Addr>().ok().map(|ip| Self::Ip(ip.into()));
        }
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if host.len() > 253 || !host.split('.').all(label_ok) {
            return None;
        }
        Some(if host == "localhost" {
            Self::Localhost
        } else {
            Self::Name
        })
    }

    fn is_loopback(&self) -> bool {
        match self {
            Self::Name => false,
            Self::Localhost => true,
            Self::Ip(ip) => ip.is_loopback(),
        }
    }
}

/// `scheme://authority` and the path after it (empty or from `/`).
fn split_url(text: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    Some((scheme, authority, path))
}

/// `host[:port]` of an authority (an IPv6 literal keeps its brackets).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    }
}

impl HttpsUrl {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let (scheme, authority, path) = split_url(text).ok_or_else(|| err(field, URL_SHAPE))?;
        if authority.contains('@') {
            return Err(err(field, "must not contain user info (user@host)"));
        }
        let (host, port) = split_port(authority);
        let host = UrlHost::parse(host).ok_or_else(|| {
            err(
                field,
                "has no valid host (lowercase DNS name, dotted IPv4 or [IPv6])",
            )
        })?;
        match scheme {
            "https" => {}
            "http" if host.is_loopback() => {}
            _ => return Err(err(field, URL_SHAPE)),
        }
        if let Some(port) = port {
            let default = if scheme == "https" { 443 } else { 80 };
            let ok =
                !port.starts_with('0') && port.parse::<u16>().is_ok_and(|p| p != 0 && p != default);
            if !ok {
                return Err(err(
                    field,
                    "has a port that is not 1-65535 without leading zeros or is the scheme's default",
                ));
            }
        }
        if path.contains(['?', '#']) {
            return Err(err(field, "must not contain ? or #"));
        }
        let path_ok = path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/:@!$&'()+,;=".contains(&b))
            && !path
                .split('/')
                .any(|segment| segment == "." || segment == "..");
        if !path_ok {
            return Err(err(
                field,
                "has a path with characters other than letters, digits and -._~/:@!$&'()+,;= or a . or .. segment",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// Served by this machine only: fine for the local stack, never deployed.
    pub fn is_loopback(&self) -> bool {
        split_url(&self.0)
            .and_then(|(_, authority, _)| UrlHost::parse(split_port(authority).0))
            .is_some_and(|host| host.is_loopback())
    }

    fn has_path(&self) -> bool {
        split_url(&self.0).is_some_and(|(_, _, path)| !path.is_empty())
    }
}

/// The Cognito user pool's issuer, compared byte for byte with `iss`
/// (`https://cognito-idp.<region>.amazonaws.com/<pool id>`, no trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(HttpsUrl);

text_newtype!(Issuer);

impl Issuer {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let url = HttpsUrl::parse(field, text)?;
        if text.ends_with('/') {
            return Err(err(field, "must not end with / (Cognito's iss has none)"));
        }
        Ok(Self(url))
    }

    /// Where Cognito publishes this pool's keys.
    pub fn jwks_url(&self) -> HttpsUrl {
        HttpsUrl(format!("{}/.well-known/jwks.json", self.0))
    }

    pub fn url(&self) -> &HttpsUrl {
        &self.0
    }
}

/// `scheme://host[:port]` with no path: the origin that policies and signed
/// URLs name (`resource_base`), or a browser origin allowed by CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(HttpsUrl);

text_newtype!(Origin);

impl Origin {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let url = HttpsUrl::parse(field, text)?;
        if url.has_path() {
            return Err(err(
                field,
                "must be scheme://host[:port] with no path or trailing slash",
            ));
        }
        Ok(Self(url))
    }

    pub fn url(&self) -> &HttpsUrl {
        &self.0
    }
}

/// The path under which titles live, like `/videos/`: it becomes cookie
/// paths and policy resources, so only letters, digits, `_` and `-`
/// between single slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoPathPrefix(String);

text_newtype!(VideoPathPrefix);

impl VideoPathPrefix {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let ok = text.starts_with('/')
            && text.ends_with('/')
            && text.len() >= 3
            && !text.contains("//")
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(err(
                field,
                "must look like /videos/ (letters, digits, _ and -, between slashes)",
            ))
        }
    }
}

impl Default for VideoPathPrefix {
    /// ARCHITECTURE §6: titles live under `/videos/`.
    fn default() -> Self {
        Self("/videos/".to_owned())
    }
}

/// A DynamoDB table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(String);

text_newtype!(TableName);

impl TableName {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let ok = (3..=255).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(err(
                field,
                "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)",
            ))
        }
    }
}

/// A Secrets Manager secret ARN (`arn:<partition>:secretsmanager:…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretArn(String);

text_newtype!(SecretArn);

impl SecretArn {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        if text.starts_with("arn:aws") && text.split(':').nth(2) == Some("secretsmanager") {
            Ok(Self(text.to_owned()))
        } else {
            Err(err(field, "is not a Secrets Manager ARN"))
        }
    }
}

/// Where a secret comes from: inline (local stack, tests) or a Secrets
/// Manager ARN, read once per container by the host. Debug never shows an
/// inline value.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Inline(String),
    Arn(SecretArn),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::Arn(arn) => write!(f, "Arn({arn})"),
        }
    }
}

impl SecretSource {
    /// Exactly one of an inline value (field `inline`) and an ARN (field
    /// `arn`); `pem` additionally requires the inline value to look like a
    /// PEM private key.
    pub fn one_of(
        inline: (&str, Option<String>),
        arn: (&str, Option<String>),
        pem: bool,
    ) -> Result<Self, ConfigError> {
        let ((inline_field, inline), (arn_field, arn)) = (inline, arn);
        match (inline, arn) {
            (Some(value), None) => {
                if pem && (!value.contains("-----BEGIN ") || !value.contains("PRIVATE KEY-----")) {
                    return Err(err(inline_field, "is not a PEM private key"));
                }
                Ok(Self::Inline(value))
            }
            (None, Some(arn)) => Ok(Self::Arn(SecretArn::parse(arn_field, &arn)?)),
            (Some(_), Some(_)) => Err(err(
                inline_field,
                format!("set exactly one of {inline_field} and {arn_field}"),
            )),
            (None, None) => Err(err(inline_field, format!("is required (or {arn_field})"))),
        }
    }
}

/// The id of a network hint key (`network_hint.key_id`): 1-16 of
/// `A-Z a-z 0-9 _ -`. It prefixes every hint, so a new id with each new key
/// keeps hints from before and after a rotation apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkHintKeyId(String);

text_newtype!(NetworkHintKeyId);

impl NetworkHintKeyId {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        let ok = (1..=16).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(err(field, "must be 1-16 of A-Z a-z 0-9 _ -"))
        }
    }
}

/// The HMAC key of network hints (`network_hint.key`): 32-256 bytes of
/// random text, whose UTF-8 bytes are the key. Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NetworkHintSecret(String);

impl fmt::Debug for NetworkHintSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NetworkHintSecret(<redacted>)")
    }
}

impl NetworkHintSecret {
    pub fn parse(field: &str, text: &str) -> Result<Self, ConfigError> {
        if (32..=256).contains(&text.len()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(err(
                field,
                "must be 32-256 bytes of random text (e.g. `openssl rand -hex 32`)",
            ))
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The app client ids whose tokens are accepted: at least one, 1-128
/// characters each (Cognito's limit).
pub fn client_ids(field: &str, ids: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if ids.is_empty() || ids.iter().any(|c| c.is_empty() || c.len() > 128) {
        return Err(err(
            field,
            "must list at least one app client id (1-128 chars each)",
        ));
    }
    Ok(ids)
}

/// Cognito group names: none empty.
pub fn groups(field: &str, groups: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if groups.iter().any(|g| g.is_empty() || g.len() > 128) {
        return Err(err(field, "group names must be 1-128 chars"));
    }
    Ok(groups)
}

/// A number of seconds (or milliseconds) within `range`; `default` when
/// the field is absent.
pub fn bounded(
    field: &str,
    value: Option<u64>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(err(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

/// Leeway on `exp`, `nbf` and `iat`: 60 s unless set, at most 300 s.
pub fn leeway_seconds(field: &str, value: Option<u64>) -> Result<u64, ConfigError> {
    bounded(field, value, 60, 0..=300)
}

/// The policy signature hash: `sha1` (CloudFront's default) or `sha256`.
pub fn policy_hash(field: &str, value: Option<&str>) -> Result<PolicyHash, ConfigError> {
    match value {
        None | Some("sha1") => Ok(PolicyHash::Sha1),
        Some("sha256") => Ok(PolicyHash::Sha256),
        Some(_) => Err(err(field, "must be \"sha1\" or \"sha256\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_are_accepted() {
        for url in [
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
            "https://d111111abcdef8.cloudfront.net",
            "https://example.com:8443/a/b",
        ] {
            assert_eq!(&*HttpsUrl::parse("f", url).unwrap(), url);
        }
    }

    #[test]
    fn plain_http_is_accepted_to_loopback_hosts_only() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/idp/.well-known/jwks.json",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert!(HttpsUrl::parse("f", url).unwrap().is_loopback(), "{url}");
        }
    }

    #[test]
    fn a_remote_host_dressed_as_loopback_is_refused() {
        for url in [
            "http://127.0.0.1.evil.com",
            "http://127.0.0.1.evil.com/x",
            "http://localhost@evil",
            "http://localhost:80@evil.com/",
            "http://localhost.evil.com",
            "http://127.0.0.1:@evil.com",
            "http://evil.example/pool",
        ] {
            assert_eq!(HttpsUrl::parse("f", url).unwrap_err().field, "f", "{url}");
        }
    }

    #[test]
    fn user_info_query_fragment_and_odd_forms_are_refused() {
        for url in [
            "https://user@example.com",
            "https://example.com/?a=b",
            "https://example.com/#x",
            "https://EXAMPLE.com",
            "https://example.com:443",
            "https://example.com/a/../b",
            "https://example.com/a*",
            "https:/example.com",
            "ftp://example.com",
            "https://exa mple.com",
            "https://example.com./x",
            "https://example.com\\@evil.com",
            "http://127.1:8080",
            "http://0x7f.0.0.1",
            "http://127.0.0.1:0",
            "http://127.0.0.1:080",
            "http://127.0.0.1:99999",
            "https://d.net/%2e%2e/",
            "https://",
        ] {
            assert!(HttpsUrl::parse("f", url).is_err(), "{url}");
        }
    }

    #[test]
    fn an_origin_has_no_path_or_trailing_slash() {
        assert!(Origin::parse("f", "https://d.net").is_ok());
        assert!(Origin::parse("f", "http://127.0.0.1:8080").is_ok());
        assert!(Origin::parse("f", "https://d.net/").is_err());
        assert!(Origin::parse("f", "https://d.net/videos").is_err());
    }

    #[test]
    fn an_issuer_has_no_trailing_slash() {
        assert!(Issuer::parse("f", "https://idp.example/pool/").is_err());
        assert_eq!(
            &*Issuer::parse("f", "https://idp.example/pool")
                .unwrap()
                .jwks_url(),
            "https://idp.example/pool/.well-known/jwks.json"
        );
    }

    #[test]
    fn video_path_prefixes_are_slash_delimited_words() {
        assert!(VideoPathPrefix::parse("f", "/videos/").is_ok());
        assert!(VideoPathPrefix::parse("f", "/media/hls-1/").is_ok());
        for bad in ["videos", "/videos", "//", "/a//b/", "/v*/", "/v?/", "/../"] {
            assert!(VideoPathPrefix::parse("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_secret_source_is_exactly_one_of_inline_and_arn() {
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:k";
        let pick = |inline: Option<&str>, arn: Option<&str>| {
            SecretSource::one_of(
                ("pem", inline.map(str::to_owned)),
                ("arn", arn.map(str::to_owned)),
                true,
            )
        };
        assert!(matches!(pick(None, Some(arn)), Ok(SecretSource::Arn(_))));
        assert_eq!(pick(Some("x"), None).unwrap_err().field, "pem");
        assert_eq!(pick(None, Some("arn:aws:s3:::b")).unwrap_err().field, "arn");
        assert_eq!(pick(Some("x"), Some(arn)).unwrap_err().field, "pem");
        assert_eq!(pick(None, None).unwrap_err().field, "pem");
    }
}
