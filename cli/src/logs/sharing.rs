//! `reelgate logs sharing`: accounts used from several networks at once.
//!
//! Each edge decision line of a signed-in viewer carries the account's `sub`
//! and a keyed hash of the viewer's network (`shared::network_hint`). Per
//! account and network, the requests form **activity spans**: a span is a
//! maximal run of that network's requests each at most `window` after the
//! one before, from its first request to its last. Two networks of one
//! account are **concurrent** when their spans overlap (share at least one
//! instant). An account's peak is the most networks concurrent at any one
//! instant; the same is computed for the edge regions its requests ran in.
//! A viewer who moves from one network to another has spans one after the
//! other and a peak of 1; players on two networks at once, each refreshing
//! its cookies every few minutes, interleave and overlap.
//!
//! Hints made under different keys (a rotation, `<key id>:…`) never match,
//! and while a new key rolls out one network shows under both ids at once,
//! so networks are only compared with networks of the same key id. Pure, so
//! the rules are tested without CloudWatch.

use std::collections::BTreeMap;

use serde::Serialize;

use super::summary::EdgeLine;

/// One account's figures over the period read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSharing {
    /// The Cognito `sub`, as the edge logs it.
    pub account: String,
    /// The most networks whose spans overlap at one instant.
    pub concurrent_networks: usize,
    /// Distinct networks in the period (under any key).
    pub networks: usize,
    /// The most edge regions whose spans overlap at one instant.
    pub concurrent_regions: usize,
    pub regions: usize,
    /// Decision lines with a network hint.
    pub sessions: usize,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// Lines that could not count: signed-in requests without a hint, by why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unhinted {
    /// `network_missing` reasons (a malformed `clientIp`) and their counts.
    pub missing: BTreeMap<String, usize>,
    /// From an edge whose config has no `network_hint` key.
    pub no_key: usize,
}

/// Every account with a hinted request, most suspicious first: by peak
/// concurrent networks, then peak concurrent regions, then distinct
/// networks, then sessions.
pub fn analyse(lines: &[EdgeLine], window_ms: i64) -> (Vec<AccountSharing>, Unhinted) {
    // account → (key id → network → times), and account → region → times.
    type Times = Vec<i64>;
    let mut networks: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, Times>>> = BTreeMap::new();
    let mut regions: BTreeMap<&str, BTreeMap<&str, Times>> = BTreeMap::new();
    let mut unhinted = Unhinted::default();
    for line in lines {
        let decision = &line.line.decision;
        let Some(user) = &decision.user else { continue };
        let Some(network) = &decision.network else {
            match &decision.network_missing {
                Some(why) => *unhinted.missing.entry(why.to_string()).or_default() += 1,
                None => unhinted.no_key += 1,
            }
            continue;
        };
        networks
            .entry(user.as_str())
            .or_default()
            .entry(network.key_id())
            .or_default()
            .entry(network.as_str())
            .or_default()
            .push(line.timestamp_ms);
        regions
            .entry(user.as_str())
            .or_default()
            .entry(line.region.as_str())
            .or_default()
            .push(line.timestamp_ms);
    }
    let mut accounts: Vec<AccountSharing> = networks
        .into_iter()
        .map(|(account, by_key)| {
            let account_regions = &regions[account];
            let all: Vec<i64> = account_regions.values().flatten().copied().collect();
            AccountSharing {
                account: account.to_owned(),
                concurrent_networks: by_key
                    .values()
                    .map(|nets| peak(nets.values(), window_ms))
                    .max()
                    .unwrap_or(0),
                networks: by_key.values().map(BTreeMap::len).sum(),
                concurrent_regions: peak(account_regions.values(), window_ms),
                regions: account_regions.len(),
                sessions: all.len(),
                first_seen_ms: all.iter().copied().min().unwrap_or(0),
                last_seen_ms: all.iter().copied().max().unwrap_or(0),
            }
        })
        .collect();
    accounts.sort_by(|a, b| {
        (
            b.concurrent_networks,
            b.concurrent_regions,
            b.networks,
            b.sessions,
        )
            .cmp(&(
                a.concurrent_networks,
                a.concurrent_regions,
                a.networks,
                a.sessions,
            ))
            .then_with(|| a.account.cmp(&b.account))
    });
    (accounts, unhinted)
}

/// The most of `groups` (each a list of request times) whose activity
/// spans overlap at one instant.
fn peak<'a>(groups: impl Iterator<Item = &'a Vec<i64>>, window_ms: i64) -> usize {
    // (time, 0) opens a span and (time, 1) closes one: at equal times a
    // span opens before another closes, so spans touching at an instant
    // overlap.
    let mut edges: Vec<(i64, u8)> = Vec::new();
    for times in groups {
        for (start, end) in spans(times, window_ms) {
            edges.push((start, 0));
            edges.push((end, 1));
        }
    }
    edges.sort_unstable();
    let (mut open, mut most) = (0usize, 0usize);
    for (_, kind) in edges {
        if kind == 0 {
            open += 1;
            most = most.max(open);
        } else {
            open -= 1;
        }
    }
    most
}

/// The activity spans of one network's (or region's) request times.
fn spans(times: &[i64], window_ms: i64) -> Vec<(i64, i64)> {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for t in sorted {
        match spans.last_mut() {
            Some((_, end)) if t - *end <= window_ms => *end = t,
            _ => spans.push((t, t)),
        }
    }
    spans
}

/// `2026-12-01T00:05:09Z` for epoch milliseconds (UTC, no leap seconds).
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelgate_shared::edge_log::EdgeLogLine;

    const MIN: i64 = 60_000;
    const WINDOW: i64 = 10 * MIN;

    /// A decision line of `user` from `network` (a whole hint, or `None`)
    /// in `region` at minute `minute`.
    fn line(user: &str, network: Option<&str>, region: &str, minute: i64) -> EdgeLine {
        let mut body = serde_json::json!({
            "msg": "session", "region": region, "request_id": null, "decision": "allow",
            "reason": "purchase", "status": 200, "user": user, "latency_us": 1, "cold": false,
            "_aws": {"Timestamp": 0, "CloudWatchMetrics": []}, "Requests": 1, "LatencyMicros": 1,
        });
        if let Some(network) = network {
            body["network"] = network.into();
        }
        EdgeLine {
            region: region.to_owned(),
            timestamp_ms: minute * MIN,
            line: EdgeLogLine::parse(&body.to_string()).unwrap(),
        }
    }

    const A: &str = "k1:000000000000000a";
    const B: &str = "k1:000000000000000b";
    const C: &str = "k1:000000000000000c";

    fn one(lines: &[EdgeLine]) -> AccountSharing {
        let (accounts, _) = analyse(lines, WINDOW);
        assert_eq!(accounts.len(), 1);
        accounts.into_iter().next().unwrap()
    }

    #[test]
    fn moving_from_one_network_to_the_next_is_not_concurrent() {
        // Home until minute 8, then the train, then the office: each
        // network's span ends before the next begins.
        let lines = [
            line("u", Some(A), "eu-west-1", 0),
            line("u", Some(A), "eu-west-1", 4),
            line("u", Some(A), "eu-west-1", 8),
            line("u", Some(B), "eu-west-1", 9),
            line("u", Some(B), "eu-west-1", 13),
            line("u", Some(C), "eu-central-1", 14),
        ];
        let account = one(&lines);
        assert_eq!(
            (account.concurrent_networks, account.networks),
            (1, 3),
            "{account:?}"
        );
        assert_eq!((account.concurrent_regions, account.regions), (1, 2));
        assert_eq!(account.sessions, 6);
        assert_eq!((account.first_seen_ms, account.last_seen_ms), (0, 14 * MIN));
    }

    #[test]
    fn players_on_two_networks_interleave_and_are_concurrent() {
        let lines = [
            line("u", Some(A), "eu-west-1", 0),
            line("u", Some(B), "us-east-1", 2),
            line("u", Some(A), "eu-west-1", 4),
            line("u", Some(B), "us-east-1", 6),
        ];
        let account = one(&lines);
        assert_eq!(
            (account.concurrent_networks, account.concurrent_regions),
            (2, 2)
        );
    }

    #[test]
    fn a_gap_longer_than_the_window_ends_a_span() {
        // A at 0 and again at 11 (> 10 minutes later): two spans, and B at
        // 5 falls in the gap between them.
        let lines = [
            line("u", Some(A), "eu-west-1", 0),
            line("u", Some(B), "eu-west-1", 5),
            line("u", Some(A), "eu-west-1", 11),
        ];
        assert_eq!(one(&lines).concurrent_networks, 1);
        // Exactly the window apart still continues the span, so B at 5
        // is inside it.
        let lines = [
            line("u", Some(A), "eu-west-1", 0),
            line("u", Some(B), "eu-west-1", 5),
            line("u", Some(A), "eu-west-1", 10),
        ];
        assert_eq!(one(&lines).concurrent_networks, 2);
    }

    #[test]
    fn requests_at_the_same_instant_overlap() {
        let lines = [
            line("u", Some(A), "eu-west-1", 3),
            line("u", Some(B), "eu-west-1", 3),
        ];
        assert_eq!(one(&lines).concurrent_networks, 2);
    }

    #[test]
    fn hints_under_different_keys_are_never_compared() {
        // During a key rollout one network shows under both ids at once.
        let lines = [
            line("u", Some("k1:000000000000000a"), "eu-west-1", 0),
            line("u", Some("k2:00000000000000ff"), "eu-west-1", 1),
            line("u", Some("k1:000000000000000a"), "eu-west-1", 2),
        ];
        let account = one(&lines);
        assert_eq!((account.concurrent_networks, account.networks), (1, 2));
    }

    #[test]
    fn the_most_suspicious_account_comes_first_and_unhinted_lines_are_counted() {
        let mut missing = line("x", None, "eu-west-1", 0);
        missing.line.decision.network_missing = Some("malformed_client_ip".into());
        let lines = [
            line("quiet", Some(A), "eu-west-1", 0),
            line("sharer", Some(A), "eu-west-1", 0),
            line("sharer", Some(B), "us-east-1", 1),
            line("sharer", Some(C), "ap-southeast-1", 2),
            line("sharer", Some(A), "eu-west-1", 3),
            line("sharer", Some(B), "us-east-1", 4),
            line("sharer", Some(C), "ap-southeast-1", 5),
            line("pair", Some(A), "eu-west-1", 0),
            line("pair", Some(B), "eu-west-1", 1),
            line("pair", Some(A), "eu-west-1", 2),
            missing,
            line("y", None, "eu-west-1", 0),
        ];
        let (accounts, unhinted) = analyse(&lines, WINDOW);
        let order: Vec<(&str, usize)> = accounts
            .iter()
            .map(|a| (a.account.as_str(), a.concurrent_networks))
            .collect();
        assert_eq!(order, [("sharer", 3), ("pair", 2), ("quiet", 1)]);
        assert_eq!(accounts[0].concurrent_regions, 3);
        assert_eq!(unhinted.missing["malformed_client_ip"], 1);
        assert_eq!(unhinted.no_key, 1);
    }

    #[test]
    fn utc_times_are_civil() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_764_547_509_000), "2025-12-01T00:05:09Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
