//! edge-auth/openapi.yaml and docs/protocol.md name every reason the edge can
//! answer with, and the document names no reason the edge cannot: the
//! reasons are read from the `reason()` functions of the edge's and the JWT
//! verifier's error types, as written.

use std::collections::BTreeSet;

const DOCUMENT: &str = include_str!("../openapi.yaml");
const PROTOCOL: &str = include_str!("../../docs/protocol.md");
const EDGE_ERRORS: &str = include_str!("../src/error.rs");
const TOKEN_ERRORS: &str = include_str!("../../shared/src/jwt/error.rs");
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
