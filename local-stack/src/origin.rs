//! The local stand-in for the private S3 origin: serves `<media>/<video>/<file>`
//! with the content types and byte ranges players rely on. Only names made of
//! a validated `VideoId` and a plain file name reach the file system, so no
//! request can climb out of the media folder.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use reelgate_shared::VideoId;

/// HLS and DASH media types; anything else is served as opaque bytes.
fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        Some("m4s") => "video/iso.segment",
        Some("mp4") => "video/mp4",
        Some("aac") => "audio/aac",
        Some("vtt") => "text/vtt",
        Some("mpd") => "application/dash+xml",
        _ => "application/octet-stream",
    }
}

/// A file name inside a title's folder: no separators, no dot-files, no `..`.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Resolves `/videos/<id>/<file>` (the part after `/videos/`) to a path
/// under `media`, or `None` when the request names nothing servable.
pub fn resolve(media: &Path, rest: &str) -> Option<(VideoId, PathBuf)> {
    let (id, file) = rest.split_once('/')?;
    let video = VideoId::parse(id).ok()?;
    is_plain_file_name(file).then(|| (video.clone(), media.join(video.as_str()).join(file)))
}

/// One satisfiable byte range, inclusive, as in RFC 9110 §14.1.2.
#[derive(Debug, PartialEq, Eq)]
struct ByteRange {
    first: u64,
    last: u64,
}

/// Parses a single-range `Range` header against a body of `len` bytes.
/// `Err(())` means unsatisfiable (416); multi-range requests are answered
/// with the whole body, which RFC 9110 allows.
fn parse_range(value: &str, len: u64) -> Option<Result<ByteRange, ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 || len == 0 {
                return Some(Err(()));
            }
            ByteRange {
                first: len.saturating_sub(n),
                last: len - 1,
            }
        }
        (first, last) => {
            let first: u64 = first.parse().ok()?;
            let last = if last.is_empty() {
                len.saturating_sub(1)
            } else {
                last.parse::<u64>().ok()?.min(len.saturating_sub(1))
            };
            if first >= len || first > last {
                return Some(Err(()));
            }
            ByteRange { first, last }
        }
    };
    Some(Ok(range))
}

/// Serves one media file, honouring `Range`.
pub async fn serve(path: &Path, file_name: &str, headers: &HeaderMap) -> Response {
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(_) => return status_only(StatusCode::NOT_FOUND),
    };
    let len = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, len));
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type(file_name))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "private, max-age=60");
    let response = match range {
        None => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, len)
            .body(Body::from(bytes)),
        Some(Ok(ByteRange { first, last })) => {
            let slice = bytes[first as usize..=last as usize].to_vec();
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}"))
                .header(header::CONTENT_LENGTH, slice.len())
                .body(Body::from(slice))
        }
        Some(Err(())) => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Body::empty()),
    };
    response.unwrap_or_else(|_| status_only(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status_only(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_match_what_hls_players_expect() {
        assert_eq!(content_type("master.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("seg000.ts"), "video/mp2t");
        assert_eq!(content_type("init.m4s"), "video/iso.segment");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[test]
    fn only_a_valid_title_and_plain_file_resolve() {
        let media = Path::new("/media");
        let (video, path) = resolve(media, "demo/seg000.ts").unwrap();
        assert_eq!(video.as_str(), "demo");
        assert_eq!(path, Path::new("/media/demo/seg000.ts"));
        for bad in [
            "demo",
            "demo/",
            "../etc/passwd",
            "demo/../../x",
            "de*mo/a.ts",
            "demo/.hidden",
            "demo/a/b.ts",
            "%2e%2e/a.ts",
            "demo/..",
        ] {
            assert!(resolve(media, bad).is_none(), "{bad:?} must not resolve");
        }
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        let r = |v: &str| parse_range(v, 100);
        assert_eq!(r("bytes=0-9"), Some(Ok(ByteRange { first: 0, last: 9 })));
        assert_eq!(
            r("bytes=90-"),
            Some(Ok(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(
            r("bytes=-10"),
            Some(Ok(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(
            r("bytes=95-200"),
            Some(Ok(ByteRange {
                first: 95,
                last: 99
            }))
        );
        assert_eq!(r("bytes=100-"), Some(Err(())));
        assert_eq!(r("bytes=5-4"), Some(Err(())));
        assert_eq!(r("bytes=-0"), Some(Err(())));
        assert_eq!(r("bytes=0-1,5-6"), None);
        assert_eq!(r("items=0-1"), None);
        assert_eq!(r("bytes=x-1"), None);
    }
}
