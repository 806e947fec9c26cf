//! The responses the edge writes itself: the session answer (ARCHITECTURE
//! §6 and §12, contract), logout, CORS, and `{"error": reason}` refusals.

use reelgate_shared::VideoId;
use reelgate_shared::cloudfront::{CookieAttributes, SignedCookies, expired_cookie_headers};
use reelgate_shared::jwt::challenge;
use serde::Serialize;

use crate::error::EdgeError;
use crate::event::Response;
use crate::lifetime::Lifetime;

/// The 200 body: absolute times, and the same times as seconds from this
/// response (§12), which clients schedule from.
#[derive(Serialize)]
struct SessionBody<'a> {
    video_id: &'a VideoId,
    expires_at: u64,
    refresh_after: u64,
    playlist: &'a str,
    expires_in: u64,
    refresh_in: u64,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    /// `device_limit` only: how many devices play and the plan's limit,
    /// nothing that identifies them.
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_devices: Option<u16>,
}

/// 200 with the session body, or with `redirect` 302 to the playlist; the
/// signed cookies scoped by `attributes` either way.
pub fn session(
    video: &VideoId,
    playlist: &str,
    cookies: &SignedCookies,
    attributes: &CookieAttributes,
    lifetime: &Lifetime,
    redirect: bool,
) -> Response {
    let mut response = if redirect {
        let mut response = Response::new(302, "Found");
        response.add_header("Location", playlist);
        response
    } else {
        let mut response = Response::new(200, "OK");
        let body = SessionBody {
            video_id: video,
            expires_at: lifetime.expires_at.get(),
            refresh_after: lifetime.refresh_after.get(),
            playlist,
            expires_in: lifetime.expires_in,
            refresh_in: lifetime.refresh_in,
        };
        response.body = serde_json::to_string(&body).ok();
        response.add_header("Content-Type", "application/json");
        response
    };
    for header in cookies.set_cookie_headers(attributes) {
        response.add_header("Set-Cookie", header);
    }
    no_store(&mut response);
    response
}

/// 204 expiring the title's cookies (same scope, `Max-Age=0`).
pub fn logout(attributes: &CookieAttributes) -> Response {
    let mut response = Response::new(204, "No Content");
    for header in expired_cookie_headers(attributes) {
        response.add_header("Set-Cookie", header);
    }
    no_store(&mut response);
    response
}

/// 204 answering a CORS preflight from an allowed origin.
pub fn preflight() -> Response {
    let mut response = Response::new(204, "No Content");
    response.add_header("Access-Control-Allow-Methods", "GET, DELETE, OPTIONS");
    response.add_header("Access-Control-Allow-Headers", "Authorization");
    response.add_header("Access-Control-Max-Age", "600");
    response
}

/// Lets `origin` (already checked against the config) read the response.
pub fn allow_origin(response: &mut Response, origin: String) {
    response.add_header("Access-Control-Allow-Origin", origin);
    response.add_header("Access-Control-Allow-Credentials", "true");
    response.add_header("Vary", "Origin");
}

/// `{"error": reason}` with the error's status line; never echoes input.
pub fn refusal(error: &EdgeError) -> Response {
    let status = error.status();
    let description = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut response = Response::new(status, description);
    let (active, max_devices) = match *error {
        EdgeError::DeviceLimit { active, limit } => (Some(active), Some(limit)),
        _ => (None, None),
    };
    response.body = serde_json::to_string(&ErrorBody {
        error: error.reason(),
        active,
        max_devices,
    })
    .ok();
    response.add_header("Content-Type", "application/json");
    match status {
        401 => response.add_header("WWW-Authenticate", challenge(error.reason())),
        405 => response.add_header("Allow", "GET, DELETE, OPTIONS"),
        503 => response.add_header("Retry-After", "1"),
        _ => {}
    }
    no_store(&mut response);
    response
}

fn no_store(response: &mut Response) {
    response.add_header("Cache-Control", "no-store");
    response.add_header("X-Content-Type-Options", "nosniff");
}
