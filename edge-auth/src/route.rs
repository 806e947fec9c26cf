//! Which of the edge's three operations a request is. Everything that is not
//! exactly one of them is refused here, before any token is looked at.

use reelgate_shared::{StreamId, VideoId};

use crate::error::EdgeError;

const SESSION_PREFIX: &str = "/session/videos/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /session/videos/{id}`: issue cookies (`?redirect=1`: 302 to the playlist).
    Session {
        video: VideoId,
        redirect: bool,
        stream: Option<StreamId>,
    },
    /// `DELETE /session/videos/{id}`: expire that title's cookies (and,
    /// with a bearer token, release the device's lease).
    Logout {
        video: VideoId,
        stream: Option<StreamId>,
    },
    /// `OPTIONS`: CORS preflight.
    Preflight,
}

/// The route, or why the request is none of them. The id is taken verbatim from the URI:
/// CloudFront passes it still percent-encoded, so `%2A` arrives as `%2A`
/// and is refused like `*`.
pub fn route(method: &str, uri: &str, querystring: &str) -> Result<Route, EdgeError> {
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    let Some(id) = uri.strip_prefix(SESSION_PREFIX) else {
        return Err(EdgeError::NotFound);
    };
    let video = VideoId::parse(id).map_err(|_| EdgeError::InvalidVideoId)?;
    let stream = stream(querystring)?;
    match method {
        "GET" => Ok(Route::Session {
            video,
            redirect: querystring
                .split('&')
                .any(|pair| pair == "redirect=1" || pair == "redirect=true"),
            stream,
        }),
        "DELETE" => Ok(Route::Logout { video, stream }),
        _ => Err(EdgeError::MethodNotAllowed),
    }
}

/// `?stream=<id>` (§12 "Devices"): a player's own device slot. Only the
/// id's alphabet is accepted, so it needs no decoding; a repeated or bad
/// one is refused rather than guessed.
fn stream(querystring: &str) -> Result<Option<StreamId>, EdgeError> {
    let mut values = querystring
        .split('&')
        .filter_map(|pair| pair.strip_prefix("stream="));
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(EdgeError::InvalidStreamId);
    }
    StreamId::parse(value)
        .map(Some)
        .map_err(|_| EdgeError::InvalidStreamId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_operations_are_recognised() {
        let demo = VideoId::parse("demo").unwrap();
        assert_eq!(
            route("GET", "/session/videos/demo", ""),
            Ok(Route::Session {
                video: demo.clone(),
                redirect: false,
                stream: None,
            })
        );
        assert_eq!(
            route("GET", "/session/videos/demo", "a=b&redirect=1"),
            Ok(Route::Session {
                video: demo.clone(),
                redirect: true,
                stream: None,
            })
        );
        assert_eq!(
            route("DELETE", "/session/videos/demo", ""),
            Ok(Route::Logout {
                video: demo.clone(),
                stream: None,
            })
        );
        assert_eq!(
            route("GET", "/session/videos/demo", "stream=tv-1a2b3c"),
            Ok(Route::Session {
                video: demo.clone(),
                redirect: false,
                stream: Some(StreamId::parse("tv-1a2b3c").unwrap()),
            })
        );
        for bad in [
            "stream=short",
            "stream=a%2Fbcdefgh",
            "stream=abcdefgh&stream=abcdefgh",
        ] {
            assert_eq!(
                route("GET", "/session/videos/demo", bad),
                Err(EdgeError::InvalidStreamId),
                "{bad}"
            );
        }
        assert_eq!(
            route("OPTIONS", "/session/videos/demo", ""),
            Ok(Route::Preflight)
        );
    }

    #[test]
    fn video_id_attacks_are_refused_before_anything_else() {
        for id in [
            "*",
            "%2A",
            "a?b",
            "..",
            "../demo",
            "a/b",
            "demo/",
            "é",
            "",
            &"a".repeat(65),
            "a%2Fb",
            "-a",
        ] {
            assert_eq!(
                route("GET", &format!("/session/videos/{id}"), ""),
                Err(EdgeError::InvalidVideoId),
                "{id}"
            );
        }
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        assert_eq!(route("GET", "/session/other", ""), Err(EdgeError::NotFound));
        assert_eq!(
            route("POST", "/session/videos/demo", ""),
            Err(EdgeError::MethodNotAllowed)
        );
    }
}
