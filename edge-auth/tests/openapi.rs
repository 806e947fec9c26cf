//! edge-auth/openapi.yaml and docs/protocol.md name every reason the edge can
//! answer with, and the document names no reason the edge cannot: the
//! reasons are read from the `reason()` functions of the edge's and the JWT
//! verifier's error types, as written. The device limit's parts (§12
//! "Devices") are checked where a client meets them: the `stream` parameter
//! on both methods, with the pattern `StreamId` enforces, the `DeviceLimit`
//! body with the fields the edge writes, and the release on `DELETE`.

use std::collections::BTreeSet;

use reelgate_shared::StreamId;

const DOCUMENT: &str = include_str!("../openapi.yaml");
const PROTOCOL: &str = include_str!("../../docs/protocol.md");
const EDGE_ERRORS: &str = include_str!("../src/error.rs");
const TOKEN_ERRORS: &str = include_str!("../../shared/src/jwt/error.rs");
const RESPONSES: &str = include_str!("../src/response.rs");
/// The edge's `not_entitled` refusal answers the shared decision's reason.
const DENIALS: &str = include_str!("../../shared/src/entitlement/decision.rs");

/// The string literals returned by `pub fn reason` in `source`.
fn reasons(source: &str) -> BTreeSet<String> {
    reasons_of(source, "pub fn reason(&self) -> &'static str {")
}

/// The string literals returned by the function that starts `signature`.
fn reasons_of(source: &str, signature: &str) -> BTreeSet<String> {
    let body = source.split(signature).nth(1).expect("a reason() function");
    let body = &body[..body.find("\n    }\n").expect("the end of reason()")];
    body.split("=> \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The `EdgeReason` enum of the document.
fn documented() -> BTreeSet<String> {
    let schema = DOCUMENT
        .split("    EdgeReason:")
        .nth(1)
        .expect("an EdgeReason schema");
    let list = schema.split("      enum:\n").nth(1).expect("its enum");
    list.lines()
        .map_while(|line| line.strip_prefix("        - "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_document_lists_exactly_the_reasons_the_edge_answers_with() {
    let mut code = reasons(EDGE_ERRORS);
    code.extend(reasons(TOKEN_ERRORS));
    assert!(
        EDGE_ERRORS.contains("Self::NotEntitled(denial) => denial.reason()"),
        "the edge answers the decision's own reason"
    );
    code.extend(reasons_of(DENIALS, "pub fn reason(self) -> &'static str {"));
    assert!(
        code.contains("not_entitled")
            && code.contains("title_not_found")
            && code.contains("not_available")
            && code.contains("token_expired"),
        "{code:?}"
    );
    assert_eq!(documented(), code);
}

#[test]
fn the_protocol_page_names_every_reason_a_client_can_see() {
    // Host faults of the bundle (io_loop, …) are in the document's list for
    // completeness; a client sees them only as a 503 to retry.
    let host_faults = [
        "io_loop",
        "edge_not_initialized",
        "exchange_lost",
        "edge_bundle_failed",
        "edge_bundle_unreachable",
        "malformed_request",
    ];
    let missing: Vec<_> = documented()
        .into_iter()
        .filter(|r| !host_faults.contains(&r.as_str()))
        .filter(|r| !PROTOCOL.contains(&format!("`{r}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/protocol.md does not name {missing:?}"
    );
}

/// The text of the block that starts with the line `head` (at its
/// indentation) up to the next line indented as much or less.
fn block<'a>(text: &'a str, head: &str) -> &'a str {
    let start = text
        .find(&format!("\n{head}\n"))
        .unwrap_or_else(|| panic!("no `{}` in the document", head.trim()))
        + 1;
    let indent = head.len() - head.trim_start().len();
    let rest = &text[start + head.len() + 1..];
    let end = rest
        .lines()
        .take_while(|line| line.trim().is_empty() || line.len() - line.trim_start().len() > indent)
        .map(|line| line.len() + 1)
        .sum::<usize>();
    &text[start..start + head.len() + 1 + end.min(rest.len())]
}

/// Whether `s` matches a pattern of the form `^[<class>]{min,max}$`, as
/// the document writes it (a character class of single characters and
/// `a-z` ranges, a trailing `-` literal).
fn matches_documented(pattern: &str, s: &str) -> bool {
    let inner = pattern
        .strip_prefix("^[")
        .and_then(|p| p.strip_suffix('$'))
        .expect("^[class]{min,max}$");
    let (class, bounds) = inner.split_once("]{").expect("a class and bounds");
    let (min, max) = bounds
        .strip_suffix('}')
        .and_then(|b| b.split_once(','))
        .expect("{min,max}");
    let (min, max): (usize, usize) = (min.parse().unwrap(), max.parse().unwrap());
    let class: Vec<char> = class.chars().collect();
    let mut allowed = Vec::new();
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            allowed.push(class[i]..=class[i + 2]);
            i += 3;
        } else {
            allowed.push(class[i]..=class[i]);
            i += 1;
        }
    }
    (min..=max).contains(&s.chars().count())
        && s.chars().all(|c| allowed.iter().any(|r| r.contains(&c)))
}

#[test]
fn the_stream_parameter_is_on_both_methods_with_the_rule_the_edge_enforces() {
    let path = block(DOCUMENT, "  /session/videos/{id}:");
    let shared = block(path, "    parameters:");
    assert!(
        shared.contains("$ref: '#/components/parameters/Stream'"),
        "the stream parameter applies to GET and DELETE alike:\n{shared}"
    );
    let stream = block(DOCUMENT, "    Stream:");
    assert!(stream.contains("in: query") && stream.contains("name: stream"));
    let pattern = stream
        .split("pattern: '")
        .nth(1)
        .and_then(|p| p.split('\'').next())
        .expect("a pattern");
    // The document's pattern and `StreamId::parse` agree on every length
    // around the bounds over an alphabet with the edges of the class.
    for length in 0..=70 {
        let s = "z".repeat(length);
        assert_eq!(
            StreamId::parse(&s).is_ok(),
            matches_documented(pattern, &s),
            "{s:?}"
        );
    }
    for c in ('\u{20}'..='\u{7e}').chain(['é', '\t']) {
        let s = format!("player-{c}");
        assert_eq!(
            StreamId::parse(&s).is_ok(),
            matches_documented(pattern, &s),
            "{s:?}"
        );
    }
    let alphabet: Vec<char> = "aZ09_-./ %*é~+=:".chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for length in 0..=70 {
        for _ in 0..40 {
            let s: String = (0..length)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly allowed characters, so long valid ids occur.
                    let pick = (seed % 100) as usize;
                    alphabet[if pick < 94 { pick % 6 } else { 6 + pick % 10 }]
                })
                .collect();
            assert_eq!(
                StreamId::parse(&s).is_ok(),
                matches_documented(pattern, &s),
                "{s:?}"
            );
        }
    }
}

#[test]
fn a_device_limit_refusal_is_documented_with_the_fields_the_edge_writes() {
    let get = block(block(DOCUMENT, "  /session/videos/{id}:"), "    get:");
    assert!(get.contains("'403': { $ref: '#/components/responses/SessionForbidden' }"));
    let forbidden = block(DOCUMENT, "    SessionForbidden:");
    assert!(forbidden.contains("$ref: '#/components/schemas/DeviceLimit'"));
    assert!(forbidden.contains("value: { error: device_limit, active: 2, max_devices: 2 }"));
    let schema = block(DOCUMENT, "    DeviceLimit:");
    assert!(schema.contains("required: [error, active, max_devices]"));
    assert!(schema.contains("error: { type: string, const: device_limit }"));
    // The fields of the edge's error body, other than `error`, are the
    // schema's properties.
    let body = RESPONSES
        .split("struct ErrorBody<'a> {")
        .nth(1)
        .and_then(|b| b.split("\n}").next())
        .expect("the edge's ErrorBody");
    let fields: BTreeSet<&str> = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && !line.starts_with('#'))
        .filter_map(|line| line.strip_suffix(','))
        .filter_map(|field| field.split(':').next())
        .filter(|name| *name != "error")
        .collect();
    assert_eq!(fields, BTreeSet::from(["active", "max_devices"]));
    for field in fields {
        assert!(
            schema.contains(&format!("        {field}: {{ type: integer")),
            "{field}"
        );
    }
}

#[test]
fn delete_says_it_releases_the_device_slot() {
    let delete = block(block(DOCUMENT, "  /session/videos/{id}:"), "    delete:");
    assert!(delete.contains("releases the device slot"));
    assert!(delete.contains("invalid_stream_id"));
    assert!(delete.contains("'204':"));
}
