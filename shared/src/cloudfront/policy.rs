//! Policy statements, serialized byte for byte as CloudFront rebuilds them.
//!
//! A canned policy is never sent: CloudFront rebuilds it from the request URL
//! and `Expires`, so its JSON must match CloudFront's exactly (no whitespace,
//! this key order). A custom policy is sent (base64) and only has to be the
//! bytes that were signed; we still emit botocore's layout
//! (`DateLessThan`, `IpAddress`, `DateGreaterThan`) so outputs can be compared
//! byte for byte with the AWS SDKs.

use serde_json::Value;

use super::cidr::Ipv4Cidr;
use crate::time::EpochSeconds;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    resource: String,
    expires: EpochSeconds,
    starts: Option<EpochSeconds>,
    source_ip: Option<Ipv4Cidr>,
    canned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy resource is empty")]
    EmptyResource,
    #[error("policy start ({starts}) must be before its expiry ({expires})")]
    StartsAfterExpiry { starts: u64, expires: u64 },
    #[error("policy is not valid JSON")]
    NotJson,
    #[error("policy must hold exactly one statement")]
    StatementCount,
    #[error("policy field {0} is missing or has the wrong type")]
    BadField(&'static str),
    #[error("policy has an unknown field {0}")]
    UnknownField(String),
}

impl Policy {
    /// The policy CloudFront rebuilds for a URL signed with `Expires=`.
    pub fn canned(url: impl Into<String>, expires: EpochSeconds) -> Self {
        Self {
            resource: url.into(),
            expires,
            starts: None,
            source_ip: None,
            canned: true,
        }
    }

    /// A custom policy for a resource pattern (`*`/`?` wildcards allowed).
    pub fn custom(resource: impl Into<String>, expires: EpochSeconds) -> Result<Self, PolicyError> {
        let resource = resource.into();
        if resource.is_empty() {
            return Err(PolicyError::EmptyResource);
        }
        Ok(Self {
            resource,
            expires,
            starts: None,
            source_ip: None,
            canned: false,
        })
    }

    /// Adds `DateGreaterThan`; makes the policy custom.
    pub fn starting(mut self, starts: EpochSeconds) -> Result<Self, PolicyError> {
        if starts >= self.expires {
            return Err(PolicyError::StartsAfterExpiry {
                starts: starts.get(),
                expires: self.expires.get(),
            });
        }
        self.starts = Some(starts);
        self.canned = false;
        Ok(self)
    }

    /// Adds `IpAddress`; makes the policy custom.
    pub fn from_ip(mut self, range: Ipv4Cidr) -> Self {
        self.source_ip = Some(range);
        self.canned = false;
        self
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn expires(&self) -> EpochSeconds {
        self.expires
    }

    pub fn starts(&self) -> Option<EpochSeconds> {
        self.starts
    }

    pub fn source_ip(&self) -> Option<Ipv4Cidr> {
        self.source_ip
    }

    pub fn is_canned(&self) -> bool {
        self.canned
    }

    pub fn to_json(&self) -> String {
        // serde_json escapes a string exactly as JSON requires; a Resource
        // can carry quotes or backslashes from a hostile URL.
        let resource = serde_json::to_string(&self.resource).unwrap_or_default();
        let mut condition = format!("{{\"DateLessThan\":{{\"AWS:EpochTime\":{}}}", self.expires);
        if let Some(ip) = self.source_ip {
            condition.push_str(&format!(",\"IpAddress\":{{\"AWS:SourceIp\":\"{ip}\"}}"));
        }
        if let Some(starts) = self.starts {
            condition.push_str(&format!(
                ",\"DateGreaterThan\":{{\"AWS:EpochTime\":{starts}}}"
            ));
        }
        condition.push('}');
        format!("{{\"Statement\":[{{\"Resource\":{resource},\"Condition\":{condition}}}]}}")
    }

    /// Reads a policy as CloudFront does when it arrives in `Policy=` or
    /// `CloudFront-Policy`. A missing `Resource` means every URL (`*`), as
    /// CloudFront documents for signed URLs.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|_| PolicyError::NotJson)?;
        let root = value
            .as_object()
            .ok_or(PolicyError::BadField("Statement"))?;
        reject_unknown(root, &["Statement"])?;
        let statements = root
            .get("Statement")
            .and_then(Value::as_array)
            .ok_or(PolicyError::BadField("Statement"))?;
        let [statement] = statements.as_slice() else {
            return Err(PolicyError::StatementCount);
        };
        let statement = statement
            .as_object()
            .ok_or(PolicyError::BadField("Statement"))?;
        reject_unknown(statement, &["Resource", "Condition"])?;
        let resource = match statement.get("Resource") {
            None => "*".to_owned(),
            Some(Value::String(r)) if !r.is_empty() => r.clone(),
            Some(_) => return Err(PolicyError::BadField("Resource")),
        };
        let condition = statement
            .get("Condition")
            .and_then(Value::as_object)
            .ok_or(PolicyError::BadField("Condition"))?;
        reject_unknown(condition, &["DateLessThan", "DateGreaterThan", "IpAddress"])?;
        let expires = epoch(condition.get("DateLessThan"), "DateLessThan")?
            .ok_or(PolicyError::BadField("DateLessThan"))?;
        let mut policy = Self::custom(resource, expires)?;
        if let Some(starts) = epoch(condition.get("DateGreaterThan"), "DateGreaterThan")? {
            policy = policy.starting(starts)?;
        }
        if let Some(ip) = condition.get("IpAddress") {
            let range = ip
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.get("AWS:SourceIp"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
                .ok_or(PolicyError::BadField("IpAddress"))?;
            policy = policy.from_ip(range);
        }
        Ok(policy)
    }
}

fn reject_unknown(
    object: &serde_json::Map<String, Value>,
    known: &[&str],
) -> Result<(), PolicyError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(PolicyError::UnknownField(
            unknown.chars().take(64).collect(),
        )),
        None => Ok(()),
    }
}

fn epoch(value: Option<&Value>, field: &'static str) -> Result<Option<EpochSeconds>, PolicyError> {
    let Some(value) = value else {
        return Ok(None);
    };
    value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("AWS:EpochTime"))
        .and_then(Value::as_u64)
        .map(|n| Some(EpochSeconds::new(n)))
        .ok_or(PolicyError::BadField(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8";

    #[test]
    fn canned_policy_is_byte_exact() {
        let policy = Policy::canned(URL, EpochSeconds::new(1767290400));
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}"#
        );
        assert!(policy.is_canned());
    }

    #[test]
    fn custom_policy_follows_botocore_key_order() {
        let policy = Policy::custom("https://d.net/videos/demo/*", EpochSeconds::new(200))
            .unwrap()
            .starting(EpochSeconds::new(100))
            .unwrap()
            .from_ip("192.0.2.1".parse().unwrap());
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d.net/videos/demo/*","Condition":{"DateLessThan":{"AWS:EpochTime":200},"IpAddress":{"AWS:SourceIp":"192.0.2.1/32"},"DateGreaterThan":{"AWS:EpochTime":100}}}]}"#
        );
        assert!(!policy.is_canned());
    }

    #[test]
    fn resource_is_json_escaped() {
        let policy = Policy::custom("https://d.net/a\"b\\c", EpochSeconds::new(1)).unwrap();
        assert!(
            policy
                .to_json()
                .contains(r#""Resource":"https://d.net/a\"b\\c""#)
        );
        assert_eq!(
            Policy::from_json(&policy.to_json()).unwrap().resource(),
            "https://d.net/a\"b\\c"
        );
    }

    #[test]
    fn start_must_precede_expiry() {
        let policy = Policy::custom("https://d.net/*", EpochSeconds::new(100)).unwrap();
        assert_eq!(
            policy.starting(EpochSeconds::new(100)),
            Err(PolicyError::StartsAfterExpiry {
                starts: 100,
                expires: 100
            })
        );
    }

    #[test]
    fn parsing_round_trips_and_rejects_surprises() {
        let policy = Policy::custom("https://d.net/*", EpochSeconds::new(200))
            .unwrap()
            .from_ip("10.0.0.0/8".parse().unwrap());
        assert_eq!(Policy::from_json(&policy.to_json()).unwrap(), policy);
        for (bad, expected) in [
            ("nope", PolicyError::NotJson),
            (r#"{"Statement":[]}"#, PolicyError::StatementCount),
            (
                r#"{"Statement":[{"Condition":{}}]}"#,
                PolicyError::BadField("DateLessThan"),
            ),
            (
                r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"5"}}}]}"#,
                PolicyError::BadField("DateLessThan"),
            ),
            (
                r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}},"Effect":"Allow"}]}"#,
                PolicyError::UnknownField("Effect".into()),
            ),
            (
                r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"::1"}}}]}"#,
                PolicyError::BadField("IpAddress"),
            ),
        ] {
            assert_eq!(Policy::from_json(bad), Err(expected), "{bad}");
        }
        let any = Policy::from_json(
            r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}"#,
        )
        .unwrap();
        assert_eq!(any.resource(), "*");
    }
}
