//! The flat layout of what crosses the WebAssembly boundary on every
//! request: the viewer request going in, the answer coming out.
//!
//! Both are lists of strings behind a fixed header, so neither side parses
//! or escapes anything: the host writes the request's few fields straight
//! into the core's memory, and reads the answer with one UTF-8 decode and
//! string slices. JSON stays for the rare messages (config at `init`, the
//! fetches a request names and their results), whose shapes are richer.
//!
//! Request in (little-endian): for each of `clientIp`, `method`, `uri`,
//! `querystring` and then the first value of each of [`REQUEST_HEADERS`],
//! a `u32` byte length and that many bytes of UTF-8; a header that is
//! absent has the length [`ABSENT`] and no bytes.
//!
//! Answer out: byte 0 is [`ANSWER`] (a JSON reply starts with `{`), byte 1
//! the [`flags`], bytes 2–3 zero, bytes 4–7 a `u32` `reuse_until` (epoch
//! seconds; meaningful with [`flags::REUSE_UNTIL`]), bytes 8–11 the `u32`
//! number of strings, then one `u32` per string, its length in UTF-16 code
//! units (what a JavaScript string counts), or [`ABSENT`]; then the strings'
//! UTF-8, back to back. The strings are: `status`, `statusDescription`, the
//! log decision as JSON (`shared::edge_log::Decision`), `body` (with
//! [`flags::BODY`]), then per header value its lowercase name, `key` and
//! `value`, in the order of `Response::headers`.

use crate::event::{HeaderValue, Headers, Request};
use crate::step::Answer;

/// A string that is not there (an absent header, a header value without
/// its `key`).
pub const ABSENT: u32 = u32::MAX;

/// The first byte of an answer in this layout.
pub const ANSWER: u8 = 1;

/// The headers the core reads, in the order the host passes them.
pub const REQUEST_HEADERS: [&str; 3] = ["authorization", "origin", "host"];

/// Bits of an answer's byte 1.
pub mod flags {
    /// A `body` string follows the log decision.
    pub const BODY: u8 = 1;
    /// The core found the token in its cache (the host replays only such
    /// grants, see `index.mjs`).
    pub const TOKEN_CACHE_HIT: u8 = 2;
    /// `reuse_until` holds (`Decision::reusable_until`).
    pub const REUSE_UNTIL: u8 = 4;
}

/// The request the host wrote, or `None` when the bytes are not exactly
/// the layout (the core then refuses it as `malformed_request`).
pub fn read_request(input: &[u8]) -> Option<Request> {
    let mut reader = Reader(input);
    let client_ip = reader.string()??;
    let method = reader.string()??;
    let uri = reader.string()??;
    let querystring = reader.string()??;
    let mut headers = Headers::new();
    for name in REQUEST_HEADERS {
        if let Some(value) = reader.string()? {
            headers.insert(name.to_owned(), vec![HeaderValue { key: None, value }]);
        }
    }
    reader.0.is_empty().then_some(Request {
        client_ip,
        headers,
        method,
        querystring,
        uri,
    })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// The next string: `Some(None)` if it is absent, `None` if the input
    /// ends early or is not UTF-8.
    fn string(&mut self) -> Option<Option<String>> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len);
        if len == ABSENT {
            self.0 = rest;
            return Some(None);
        }
        let (text, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
        self.0 = rest;
        Some(Some(std::str::from_utf8(text).ok()?.to_owned()))
    }
}

/// Writes `answer` into `out` (cleared first) in the answer layout.
pub fn write_answer(answer: &Answer, out: &mut Vec<u8>) {
    let response = &answer.response;
    let log = serde_json::to_string(&answer.decision).unwrap_or_default();
    let mut strings: Vec<Option<&str>> = Vec::with_capacity(4 + 3 * response.headers.len());
    strings.extend([
        Some(response.status.as_str()),
        Some(response.status_description.as_str()),
        Some(log.as_str()),
    ]);
    let mut flags = 0;
    if let Some(body) = &response.body {
        flags |= flags::BODY;
        strings.push(Some(body));
    }
    for (name, values) in &response.headers {
        for value in values {
            strings.extend([
                Some(name.as_str()),
                value.key.as_deref(),
                Some(&value.value),
            ]);
        }
    }
    if answer.decision.token_cache_hit {
        flags |= flags::TOKEN_CACHE_HIT;
    }
    // An instant past u32 (the year 2106) is simply not offered for replay.
    let reuse_until = answer
        .decision
        .reusable_until
        .and_then(|at| u32::try_from(at.get()).ok());
    if reuse_until.is_some() {
        flags |= flags::REUSE_UNTIL;
    }

    out.clear();
    out.extend_from_slice(&[ANSWER, flags, 0, 0]);
    out.extend_from_slice(&reuse_until.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&count(strings.len()).to_le_bytes());
    for string in &strings {
        out.extend_from_slice(&string.map_or(ABSENT, utf16_len).to_le_bytes());
    }
    for string in strings.iter().flatten() {
        out.extend_from_slice(string.as_bytes());
    }
}

/// A length in the layout. Nothing the core writes comes near 4 GiB (the
/// module's whole memory is smaller).
fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(ABSENT - 1)
}

fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        count(text.len())
    } else {
        count(text.chars().map(char::len_utf16).sum())
    }
}

#[cfg(test)]
mod tests {
    use reelgate_shared::EpochSeconds;
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::event::Response;
    use crate::log::Decision;

    fn fields(values: &[Option<&str>]) -> Vec<u8> {
        let mut out = Vec::new();
        for value in values {
            match value {
                None => out.extend_from_slice(&ABSENT.to_le_bytes()),
                Some(text) => {
                    out.extend_from_slice(&count(text.len()).to_le_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out
    }

    #[test]
    fn a_request_reads_back_with_its_present_headers_only() {
        let input = fields(&[
            Some("203.0.113.9"),
            Some("GET"),
            Some("/session/videos/démo"),
            Some("redirect=1"),
            Some("Bearer abc"),
            None,
            Some("d111.cloudfront.net"),
        ]);
        let request = read_request(&input).unwrap();
        assert_eq!(request.client_ip, "203.0.113.9");
        assert_eq!(request.method, "GET");
        assert_eq!(request.uri, "/session/videos/démo");
        assert_eq!(request.querystring, "redirect=1");
        assert_eq!(request.header("authorization"), Some("Bearer abc"));
        assert_eq!(request.header("origin"), None);
        assert_eq!(request.header("host"), Some("d111.cloudfront.net"));
        assert_eq!(request.headers.len(), 2);
    }

    #[test]
    fn anything_but_the_exact_layout_is_refused() {
        let whole = fields(&[
            Some("ip"),
            Some("GET"),
            Some("/"),
            Some(""),
            None,
            None,
            None,
        ]);
        assert!(read_request(&whole).is_some());
        // Truncated anywhere, or with bytes left over.
        for cut in 0..whole.len() {
            assert!(read_request(&whole[..cut]).is_none(), "cut at {cut}");
        }
        let mut longer = whole.clone();
        longer.push(0);
        assert!(read_request(&longer).is_none());
        // A required field absent; a length past the end; not UTF-8.
        assert!(
            read_request(&fields(&[
                None,
                Some("GET"),
                Some("/"),
                Some(""),
                None,
                None,
                None
            ]))
            .is_none()
        );
        let mut past = whole.clone();
        past[0] = 200;
        assert!(read_request(&past).is_none());
        let mut bad = whole.clone();
        bad[4] = 0xff;
        assert!(read_request(&bad).is_none());
        assert!(read_request(&[]).is_none());
    }

    /// Reads an answer the way `index.mjs` does (one decode, slices by
    /// UTF-16 length) into the JSON the old boundary carried, so it can be
    /// compared with serde's own rendering of the same values.
    fn read_back(bytes: &[u8]) -> (Value, Value, u8, u32) {
        assert_eq!(bytes[0], ANSWER);
        let flags = bytes[1];
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let reuse_until = word(4);
        let n = word(8) as usize;
        let text: Vec<u16> = std::str::from_utf8(&bytes[12 + 4 * n..])
            .unwrap()
            .encode_utf16()
            .collect();
        let mut at = 0;
        let strings: Vec<Option<String>> = (0..n)
            .map(|i| {
                let len = word(12 + 4 * i);
                (len != ABSENT).then(|| {
                    let s = String::from_utf16(&text[at..at + len as usize]).unwrap();
                    at += len as usize;
                    s
                })
            })
            .collect();
        assert_eq!(at, text.len(), "every byte of text belongs to a string");
        let mut strings = strings.into_iter();
        let mut response = Map::new();
        response.insert("status".into(), json!(strings.next().unwrap()));
        response.insert("statusDescription".into(), json!(strings.next().unwrap()));
        let log: Value = serde_json::from_str(&strings.next().unwrap().unwrap()).unwrap();
        let body = (flags & flags::BODY != 0).then(|| strings.next().unwrap());
        let mut headers = Map::new();
        while let Some(name) = strings.next() {
            let (key, value) = (strings.next().unwrap(), strings.next().unwrap());
            let mut entry = Map::new();
            if let Some(key) = key {
                entry.insert("key".into(), json!(key));
            }
            entry.insert("value".into(), json!(value.unwrap()));
            headers
                .entry(name.unwrap())
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .push(Value::Object(entry));
        }
        response.insert("headers".into(), Value::Object(headers));
        if let Some(body) = body {
            response.insert("body".into(), json!(body));
        }
        (Value::Object(response), log, flags, reuse_until)
    }

    #[test]
    fn an_answer_reads_back_as_serde_renders_it() {
        let mut response = Response::new(200, "OK");
        response.add_header("Set-Cookie", "CloudFront-Policy=eyJ-~_; Path=/videos/x/");
        response.add_header("Set-Cookie", "CloudFront-Signature=abc");
        response.add_header(
            "Location",
            "https://d111.cloudfront.net/vidéos/✓/master.m3u8",
        );
        response.headers.insert(
            "x-no-key".into(),
            vec![HeaderValue {
                key: None,
                value: "😀 \"quoted\" \\ \n".into(),
            }],
        );
        response.body = Some(r#"{"video_id":"é😀","n":1}"#.into());
        let mut decision = Decision::default();
        decision.allow("premium");
        decision.token_cache_hit = true;
        decision.reusable_until = Some(EpochSeconds::new(1_800_000_000));
        let answer = Answer {
            response: response.clone(),
            decision: decision.clone(),
        };
        let mut out = Vec::new();
        write_answer(&answer, &mut out);
        let (respond, log, flags, reuse_until) = read_back(&out);
        assert_eq!(respond, serde_json::to_value(&response).unwrap());
        assert_eq!(log, serde_json::to_value(&decision).unwrap());
        assert_eq!(
            flags,
            flags::BODY | flags::TOKEN_CACHE_HIT | flags::REUSE_UNTIL
        );
        assert_eq!(reuse_until, 1_800_000_000);
    }

    #[test]
    fn an_answer_without_body_or_replay_says_so() {
        let response = Response::new(204, "No Content");
        let mut decision = Decision::default();
        decision.deny(401, "token_expired");
        // Past u32: not offered for replay rather than wrapped.
        decision.reusable_until = Some(EpochSeconds::new(u64::from(u32::MAX) + 1));
        let mut out = vec![9; 3];
        write_answer(
            &Answer {
                response: response.clone(),
                decision,
            },
            &mut out,
        );
        let (respond, log, flags, _) = read_back(&out);
        assert_eq!(respond, serde_json::to_value(&response).unwrap());
        assert_eq!(log["reason"], "token_expired");
        assert_eq!(flags, 0);
    }
}
