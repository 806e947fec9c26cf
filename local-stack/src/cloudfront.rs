//! The CloudFront emulator: `/session/*` runs the edge authorizer as a
//! viewer-request trigger that always answers itself; `/videos/*` checks
//! signed cookies as a trusted key group does (the shared validator), then
//! serves the local origin.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use reelgate_edge::event::{
    HeaderValue as EdgeHeader, Headers, Request as EdgeRequest, Response as EdgeResponse,
};
use reelgate_shared::cloudfront::validator;

use crate::origin;
use crate::stack::{Stack, now};

fn edge_headers(headers: &HeaderMap) -> Headers {
    let mut out = Headers::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            out.entry(name.as_str().to_owned())
                .or_default()
                .push(EdgeHeader {
                    key: Some(name.as_str().to_owned()),
                    value: value.to_owned(),
                });
        }
    }
    out
}

fn from_edge(response: EdgeResponse) -> Response {
    let status = StatusCode::from_u16(response.status_code()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = (status, response.body.unwrap_or_default()).into_response();
    for (name, values) in response.headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        out.headers_mut().remove(&name);
        for value in values {
            if let Ok(value) = HeaderValue::from_str(&value.value) {
                out.headers_mut().append(name.clone(), value);
            }
        }
    }
    out
}

/// `/session/*`: a viewer-request trigger that always answers itself.
pub(crate) async fn session(
    State(stack): State<Arc<Stack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let request = EdgeRequest {
        client_ip: peer.ip().to_string(),
        headers: edge_headers(&headers),
        method: method.to_string(),
        querystring: uri.query().unwrap_or_default().to_owned(),
        uri: uri.path().to_owned(),
    };
    from_edge(stack.edge.handle(request, &stack.store, now()).await)
}

/// `/videos/*`: CloudFront's trusted-key-group check, then the origin.
pub(crate) async fn videos(
    State(stack): State<Arc<Stack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // CloudFront compares the policy with the URL as the distribution sees
    // it, whatever port this emulator listens on.
    let url = match uri.query() {
        Some(query) => format!("{}{}?{query}", stack.resource_base, uri.path()),
        None => format!("{}{}", stack.resource_base, uri.path()),
    };
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    let request = validator::Request {
        url: &url,
        cookie_header: (!cookies.is_empty()).then_some(cookies.as_str()),
        client_ip: Some(peer.ip()),
        now: now(),
    };
    if let Err(denial) = validator::validate(&request, &stack.cloudfront_keys) {
        tracing::info!(target: "cloudfront", path = uri.path(), reason = denial.reason(), "403");
        let mut response = (StatusCode::FORBIDDEN, denial.xml_body()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        response.headers_mut().insert(
            "x-reelgate-denial",
            HeaderValue::from_static(denial.reason()),
        );
        return response;
    }
    let rest = uri.path().trim_start_matches("/videos/");
    match origin::resolve(&stack.media, rest) {
        Some((_, path)) => {
            origin::serve(&path, rest.rsplit('/').next().unwrap_or_default(), &headers).await
        }
        None => (StatusCode::NOT_FOUND, Body::empty()).into_response(),
    }
}
