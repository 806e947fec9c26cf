//! Per-region summaries of edge log lines: requests, decisions, denial
//! reasons, 503s, latency percentiles and cache hit rates. Pure, so the
//! numbers are tested without CloudWatch.

use std::collections::BTreeMap;

use reelgate_shared::edge_log::{EdgeLogLine, EntitlementSource};

/// One edge decision line (the schema of `reelgate_shared::edge_log`), with
/// where and when CloudWatch stored it. Only the schema's fields are ever
/// printed: a line can carry nothing secret past this type.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLine {
    /// The region whose log group held it.
    pub region: String,
    pub timestamp_ms: i64,
    pub line: EdgeLogLine,
}

impl EdgeLine {
    /// Parses a CloudWatch message (see `EdgeLogLine::parse`).
    pub fn parse(message: &str, region: &str, timestamp_ms: i64) -> Option<Self> {
        Some(Self {
            region: region.to_owned(),
            timestamp_ms,
            line: EdgeLogLine::parse(message)?,
        })
    }

    /// `--json` output: the line as the edge wrote it, minus the metric
    /// envelope, plus CloudWatch's timestamp and the log group's region.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.line).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            for envelope in ["msg", "_aws", "Requests", "LatencyMicros"] {
                fields.remove(envelope);
            }
            fields.insert("timestamp_ms".into(), self.timestamp_ms.into());
            fields.insert("region".into(), self.region.clone().into());
        }
        value
    }

    pub fn decision(&self) -> &str {
        &self.line.decision.decision
    }

    pub fn reason(&self) -> &str {
        &self.line.decision.reason
    }

    pub fn status(&self) -> u16 {
        self.line.decision.status
    }

    pub fn video(&self) -> Option<&str> {
        self.line.decision.video.as_ref().map(|v| v.as_str())
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RegionSummary {
    pub requests: usize,
    pub allowed: usize,
    pub denied: BTreeMap<String, usize>,
    pub unavailable: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Share of token verifications served from the container's cache.
    pub token_cache_rate: f64,
    /// Share of issued cookie sets that reused a signature.
    pub cookie_cache_rate: f64,
    /// Share of store-backed decisions answered from the container's cache.
    pub entitlement_cache_rate: f64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn rate(hits: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        hits as f64 / total as f64
    }
}

pub fn summarize(lines: &[EdgeLine]) -> BTreeMap<String, RegionSummary> {
    let mut by_region: BTreeMap<String, Vec<&EdgeLine>> = BTreeMap::new();
    for line in lines {
        by_region.entry(line.region.clone()).or_default().push(line);
    }
    by_region
        .into_iter()
        .map(|(region, lines)| {
            let mut latencies: Vec<u64> = lines.iter().map(|l| l.line.latency_us).collect();
            latencies.sort_unstable();
            let allowed: Vec<_> = lines
                .iter()
                .filter(|l| l.decision() == "allow" && l.status() == 200)
                .collect();
            let mut denied = BTreeMap::new();
            for line in lines.iter().filter(|l| l.decision() == "deny") {
                *denied.entry(line.reason().to_owned()).or_insert(0) += 1;
            }
            let store_backed: Vec<_> = lines
                .iter()
                .filter(|l| {
                    matches!(
                        l.line.decision.entitlement_source,
                        Some(EntitlementSource::Cache | EntitlementSource::Store)
                    )
                })
                .collect();
            let with_token: Vec<_> = lines
                .iter()
                .filter(|l| l.line.decision.user.is_some())
                .collect();
            let summary = RegionSummary {
                requests: lines.len(),
                allowed: lines.iter().filter(|l| l.decision() == "allow").count(),
                denied,
                unavailable: lines.iter().filter(|l| l.status() == 503).count(),
                p50_us: percentile(&latencies, 0.50),
                p99_us: percentile(&latencies, 0.99),
                token_cache_rate: rate(
                    with_token
                        .iter()
                        .filter(|l| l.line.decision.token_cache_hit)
                        .count(),
                    with_token.len(),
                ),
                cookie_cache_rate: rate(
                    allowed
                        .iter()
                        .filter(|l| l.line.decision.cookie_cache_hit)
                        .count(),
                    allowed.len(),
                ),
                entitlement_cache_rate: rate(
                    store_backed
                        .iter()
                        .filter(|l| {
                            l.line.decision.entitlement_source == Some(EntitlementSource::Cache)
                        })
                        .count(),
                    store_backed.len(),
                ),
            };
            (region, summary)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(region: &str, decision: &str, reason: &str, status: u16, latency: u64) -> EdgeLine {
        let message = format!(
            "2026-11-25T03:00:00.000Z\tabc\tINFO\t{{\"msg\":\"session\",\"region\":\"{region}\",\"request_id\":null,\"decision\":\"{decision}\",\"reason\":\"{reason}\",\"status\":{status},\"user\":\"u\",\"token_cache_hit\":true,\"cookie_cache_hit\":{},\"latency_us\":{latency},\"cold\":false,\"_aws\":{{\"Timestamp\":0,\"CloudWatchMetrics\":[]}},\"Requests\":1,\"LatencyMicros\":{latency}}}",
            status == 200
        );
        EdgeLine::parse(&message, region, 0).unwrap()
    }

    #[test]
    fn runtime_prefixed_json_lines_parse_and_other_lines_do_not() {
        assert!(EdgeLine::parse("START RequestId: 1 Version: 3", "r", 0).is_none());
        assert!(EdgeLine::parse("{\"msg\":\"other\"}", "r", 0).is_none());
        let parsed = line("eu-west-1", "allow", "purchase", 200, 120);
        assert_eq!(
            (parsed.region.as_str(), parsed.line.latency_us),
            ("eu-west-1", 120)
        );
    }

    #[test]
    fn summaries_count_decisions_reasons_and_percentiles_per_region() {
        let mut lines: Vec<EdgeLine> = (1..=100)
            .map(|i| line("us-east-1", "allow", "purchase", 200, i))
            .collect();
        lines.push(line("us-east-1", "deny", "not_entitled", 403, 5));
        lines.push(line(
            "us-east-1",
            "error",
            "entitlement_unavailable",
            503,
            7,
        ));
        lines.push(line("eu-west-1", "deny", "token_expired", 401, 9));
        let summary = summarize(&lines);
        let us = &summary["us-east-1"];
        assert_eq!((us.requests, us.allowed, us.unavailable), (102, 100, 1));
        assert_eq!(us.denied.get("not_entitled"), Some(&1));
        assert_eq!((us.p50_us, us.p99_us), (49, 99));
        assert_eq!(us.cookie_cache_rate, 1.0);
        assert_eq!(summary["eu-west-1"].denied.get("token_expired"), Some(&1));
    }
}
