//! RFC 9457 problem details. Each failure has a stable `type`
//! (`urn:reelgate:problem:<reason>`) and the same `reason` in plain text,
//! so clients branch on it; `detail` explains without echoing secrets.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub reason: &'static str,
    pub detail: String,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    reason: &'a str,
    detail: &'a str,
}

impl Problem {
    pub fn new(status: StatusCode, reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = Body {
            kind: format!("urn:reelgate:problem:{}", self.reason),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            reason: self.reason,
            detail: &self.detail,
        };
        let mut response = (
            self.status,
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(reelgate_shared::jwt::challenge(self.reason)),
            );
        }
        response
    }
}

impl From<reelgate_shared::store::StoreError> for Problem {
    fn from(error: reelgate_shared::store::StoreError) -> Self {
        tracing::warn!(%error, "store error");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the entitlement store is unavailable; retry",
        )
    }
}
