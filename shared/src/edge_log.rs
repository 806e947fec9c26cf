//! The edge's log line: one JSON object per request, written by the host
//! (`edge-auth/js/index.mjs`, or the local stack's native host) and read by
//! `reelgate logs`. This is its one schema. The core fills `Decision` and
//! serializes it; the host wraps it with the fields only it knows (region,
//! request id, latency, cold start) and CloudWatch Embedded Metric Format
//! counters, in the order `EdgeLogLine` declares. It holds ids and reasons
//! only: never a token, cookie, key or IP address (the viewer's network is
//! a keyed hash, `network`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::entitlement::Basis;
use crate::ids::{KeyPairId, UserSub, VideoId};
use crate::network_hint::{NetworkHint, NetworkHintKey};
use crate::time::EpochSeconds;

/// The `msg` of every decision line, which tells it apart from the
/// runtime's own lines (`START RequestId …`).
pub const MSG: &str = "session";

/// Where a store-backed answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementSource {
    Claims,
    Cache,
    Store,
    StoreError,
}

/// What the core decided for one request. `decision` is `allow`, `deny` or
/// `error` (a 5xx: the edge failed closed); `reason` is the stable reason
/// the response carries. Strings are borrowed `'static` when the core
/// writes them and owned when a reader parses them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Decision {
    pub decision: Cow<'static, str>,
    pub reason: Cow<'static, str>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoId>,
    /// The viewer's `sub`: an opaque id, needed to answer support tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSub>,
    /// The viewer's network as a keyed hash (`shared::network_hint`), when
    /// the config has a `network_hint` key: never the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkHint>,
    /// Why a configured hint is missing (`NoHint::as_str`), so malformed
    /// `clientIp`s are counted, never shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_missing: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlement_source: Option<EntitlementSource>,
    /// Why the token's claims could not decide (`StoreReason::as_str`),
    /// e.g. `malformed_claim`: a trigger bug shows here, not silently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_reason: Option<Cow<'static, str>>,
    pub token_cache_hit: bool,
    pub cookie_cache_hit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pair_id: Option<KeyPairId>,
    /// Until when the host may answer an identical request with this same
    /// response without asking the core (see `Edge::handle`). Only grants
    /// carry one; it travels to the host but is not logged.
    #[serde(skip)]
    pub reusable_until: Option<EpochSeconds>,
}

impl Decision {
    pub fn allow(&mut self, reason: &'static str) {
        self.decision = Cow::Borrowed("allow");
        self.reason = Cow::Borrowed(reason);
    }

    /// Records the hint of `client_ip`'s network under `key`, or why there
    /// is none.
    pub fn note_network(&mut self, key: &NetworkHintKey, client_ip: &str) {
        match key.hint(client_ip) {
            Ok(hint) => self.network = Some(hint),
            Err(why) => self.network_missing = Some(Cow::Borrowed(why.as_str())),
        }
    }

    pub fn deny(&mut self, status: u16, reason: &'static str) {
        self.decision = Cow::Borrowed(if status >= 500 { "error" } else { "deny" });
        self.reason = Cow::Borrowed(reason);
        self.status = status;
    }
}

/// The whole line as the host writes it. The host fills the fields after
/// `decision`; the core never sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeLogLine {
    /// Always `MSG`.
    pub msg: String,
    /// The AWS region the function ran in.
    pub region: String,
    /// CloudFront's `requestId` (null when the event had none).
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub decision: Decision,
    /// Answered from the host's replay map, without entering the core.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// From the handler's entry to its answer, in microseconds.
    pub latency_us: u64,
    /// The container's first request.
    pub cold: bool,
    /// On the first request: module load to handler entry, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start_us: Option<u64>,
    /// CloudWatch Embedded Metric Format: `Requests` and `LatencyMicros`
    /// below become metrics by decision and by reason.
    #[serde(rename = "_aws")]
    pub emf: Emf,
    #[serde(rename = "Requests")]
    pub requests: u64,
    #[serde(rename = "LatencyMicros")]
    pub latency_micros: u64,
}

/// The EMF envelope (`_aws`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emf {
    /// Epoch milliseconds.
    #[serde(rename = "Timestamp")]
    pub timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    pub cloud_watch_metrics: Vec<MetricDirective>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDirective {
    pub namespace: String,
    pub dimensions: Vec<Vec<String>>,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    pub name: String,
    pub unit: String,
}

impl EdgeLogLine {
    /// A decision line from what a handler printed, or `None` for any other
    /// line (runtime lines, other `msg`s, JSON that is not this schema).
    /// Lambda's Node runtime prefixes `time\trequest-id\tINFO\t`.
    pub fn parse(message: &str) -> Option<Self> {
        let json = message[message.find('{')?..].trim();
        let line: Self = serde_json::from_str(json).ok()?;
        (line.msg == MSG).then_some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as `edge-auth/js/index.mjs` writes it (tests/js captures real
    /// ones and checks them against this type through `reelgate logs`).
    const LINE: &str = r#"2026-11-25T03:00:00.000Z	abc	INFO	{"msg":"session","region":"eu-west-1","request_id":"r-1","decision":"allow","reason":"purchase","status":200,"video":"demo","user":"u-1","network":"k1:0123456789abcdef","basis":"purchase","entitlement_source":"store","token_cache_hit":false,"cookie_cache_hit":false,"key_pair_id":"KDEVLOCAL","latency_us":812,"cold":true,"cold_start_us":40000,"_aws":{"Timestamp":1764039600000,"CloudWatchMetrics":[{"Namespace":"reelgate/edge","Dimensions":[["decision"],["reason"]],"Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"LatencyMicros","Unit":"Microseconds"}]}]},"Requests":1,"LatencyMicros":812}"#;

    #[test]
    fn a_host_line_parses_into_its_fields() {
        let line = EdgeLogLine::parse(LINE).unwrap();
        assert_eq!(line.region, "eu-west-1");
        assert_eq!(line.decision.basis, Some(Basis::Purchase));
        assert_eq!(
            line.decision.network.as_ref().map(|n| n.key_id()),
            Some("k1")
        );
        assert_eq!(
            line.decision.entitlement_source,
            Some(EntitlementSource::Store)
        );
        assert_eq!((line.latency_us, line.cold_start_us), (812, Some(40000)));
        assert_eq!(line.emf.cloud_watch_metrics[0].namespace, "reelgate/edge");
    }

    #[test]
    fn a_parsed_line_serializes_back_to_the_same_json() {
        let json = &LINE[LINE.find('{').unwrap()..];
        let line = EdgeLogLine::parse(LINE).unwrap();
        assert_eq!(serde_json::to_string(&line).unwrap(), json);
    }

    #[test]
    fn the_host_s_fail_closed_line_without_cache_flags_parses() {
        let line = LINE.replace(
            r#""decision":"allow","reason":"purchase","status":200,"video":"demo","user":"u-1","network":"k1:0123456789abcdef","basis":"purchase","entitlement_source":"store","token_cache_hit":false,"cookie_cache_hit":false,"key_pair_id":"KDEVLOCAL","#,
            r#""decision":"error","reason":"io_loop","status":503,"#,
        );
        let parsed = EdgeLogLine::parse(&line).unwrap();
        assert_eq!(
            (parsed.decision.reason.as_ref(), parsed.decision.status),
            ("io_loop", 503)
        );
    }

    #[test]
    fn a_missing_hint_says_why_and_never_shows_the_address() {
        use crate::config::{NetworkHintKeyId, NetworkHintSecret};
        let key = NetworkHintKey::new(
            NetworkHintKeyId::parse("id", "k1").unwrap(),
            NetworkHintSecret::parse("key", "0123456789abcdef0123456789abcdef").unwrap(),
        );
        for (client_ip, missing) in [
            ("203.0.113.9", None),
            ("2001:db8:1::7", None),
            ("203.0.113.999", Some("malformed_client_ip")),
        ] {
            let mut decision = Decision::default();
            decision.note_network(&key, client_ip);
            assert_eq!(decision.network.is_some(), missing.is_none());
            assert_eq!(decision.network_missing.as_deref(), missing);
            let json = serde_json::to_string(&decision).unwrap();
            assert!(!json.contains(client_ip), "{json}");
        }
    }

    #[test]
    fn other_lines_are_not_decisions() {
        assert!(EdgeLogLine::parse("START RequestId: 1 Version: 3").is_none());
        assert!(EdgeLogLine::parse(&LINE.replace("\"session\"", "\"other\"")).is_none());
    }

    #[test]
    fn the_core_s_part_serializes_in_schema_order_without_reuse() {
        let mut decision = Decision {
            token_cache_hit: true,
            reusable_until: Some(EpochSeconds::new(5)),
            ..Decision::default()
        };
        decision.deny(403, "not_entitled");
        assert_eq!(
            serde_json::to_string(&decision).unwrap(),
            r#"{"decision":"deny","reason":"not_entitled","status":403,"token_cache_hit":true,"cookie_cache_hit":false}"#
        );
    }
}
