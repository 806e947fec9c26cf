//! Lambda@Edge viewer-request events and generated responses (serde).
//!
//! `aws_lambda_events` has no CloudFront types, so these follow the
//! "Lambda@Edge event structure" page: headers are a map from the
//! lowercase name to a list of `{key, value}`, `status` is a string, and a
//! response may carry several `set-cookie` entries under one name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One header value. `key` keeps the original casing; CloudFront fills it
/// in from the map key when it is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub value: String,
}

/// Lowercase header name → values, as CloudFront sends and expects them.
pub type Headers = BTreeMap<String, Vec<HeaderValue>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub client_ip: String,
    #[serde(default)]
    pub headers: Headers,
    pub method: String,
    #[serde(default)]
    pub querystring: String,
    pub uri: String,
}

impl Request {
    /// The first value of a header (names are lowercase in the map).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|values| values.first())
            .map(|h| h.value.as_str())
    }
}

/// A response generated at the edge. Serialized exactly as Lambda@Edge
/// expects (camelCase `statusDescription`, `bodyEncoding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status: String,
    pub status_description: String,
    pub headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Response {
    pub fn new(status: u16, reason: &str) -> Self {
        Self {
            status: status.to_string(),
            status_description: reason.to_owned(),
            headers: Headers::new(),
            body: None,
        }
    }

    /// Appends a header value, keeping earlier values of the same name
    /// (several `set-cookie`s are several entries, never one joined line).
    pub fn add_header(&mut self, key: &str, value: impl Into<String>) {
        self.headers
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(HeaderValue {
                key: Some(key.to_owned()),
                value: value.into(),
            });
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|values| values.first())
            .map(|h| h.value.as_str())
    }

    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .get(name)
            .map(|values| values.iter().map(|h| h.value.as_str()).collect())
            .unwrap_or_default()
    }

    pub fn status_code(&self) -> u16 {
        self.status.parse().unwrap_or(500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_cookies_stay_separate_entries() {
        let mut response = Response::new(200, "OK");
        response.add_header("Set-Cookie", "a=1");
        response.add_header("Set-Cookie", "b=2");
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["status"], "200");
        assert_eq!(json["statusDescription"], "OK");
        assert_eq!(json["headers"]["set-cookie"].as_array().unwrap().len(), 2);
    }
}
