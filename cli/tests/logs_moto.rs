//! `reelgate logs` against moto_server's CloudWatch Logs, with edge log
//! lines written into several regions' `/aws/lambda/us-east-1.<function>`
//! groups as Lambda@Edge does.

use std::process::Command;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use reelgate_tests::moto_server;
use serde_json::{Value, json};

const FUNCTION: &str = "reelgate-edge";

async fn client(endpoint: &str, region: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
}

/// A line as the edge host prints it, behind the Node runtime's prefix. The
/// `authorization` field stands for anything unexpected a line might carry:
/// the command must never print it.
fn line(decision: &str, reason: &str, status: u16, video: &str, latency: u64) -> String {
    let body = json!({
        "msg": "session", "request_id": format!("req-{latency}"), "region": "x", "decision": decision, "reason": reason,
        "status": status, "video": video, "user": "u1", "latency_us": latency, "token_cache_hit": latency.is_multiple_of(2),
        "cookie_cache_hit": false, "authorization": "Bearer eyJSECRET.TOKEN.VALUE", "cold": false,
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": []}, "Requests": 1, "LatencyMicros": latency,
    });
    format!("2026-11-25T03:00:00.000Z\tabc-123\tINFO\t{body}")
}

async fn write(endpoint: &str, region: &str, events: &[(i64, String)]) {
    let logs = client(endpoint, region).await;
    let group = format!("/aws/lambda/us-east-1.{FUNCTION}");
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("2026/11/25/[1]abc")
        .send()
        .await
        .unwrap();
    let mut put = logs
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name("2026/11/25/[1]abc");
    for (timestamp, message) in events {
        put = put.log_events(
            InputLogEvent::builder()
                .timestamp(*timestamp)
                .message(message)
                .build()
                .unwrap(),
        );
    }
    put.send().await.unwrap();
}

fn reelgate(endpoint: &str, extra: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_reelgate"))
        .args([
            "logs",
            "--function",
            FUNCTION,
            "--since",
            "1h",
            "--endpoint",
            endpoint,
        ])
        .args(["--regions", "us-east-1,eu-west-1,ap-southeast-1,sa-east-1"])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/setup; scripts/test runs it"]
async fn logs_from_several_regions_are_summarised_and_merged_in_time_order() {
    let server = moto_server();
    let endpoint = server.endpoint();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    write(
        &endpoint,
        "us-east-1",
        &[
            (now - 5000, line("allow", "purchase", 200, "demo", 100)),
            (now - 3000, line("deny", "not_entitled", 403, "demo", 200)),
        ],
    )
    .await;
    write(
        &endpoint,
        "eu-west-1",
        &[
            (
                now - 4000,
                line("allow", "premium_plan", 200, "trailer", 300),
            ),
            (
                now - 2000,
                line("error", "entitlement_unavailable", 503, "demo", 400),
            ),
            (now - 1000, "START RequestId: abc Version: 3".to_owned()),
        ],
    )
    .await;
    write(
        &endpoint,
        "ap-southeast-1",
        &[(now - 6000, line("deny", "token_expired", 401, "demo", 50))],
    )
    .await;

    let (table, progress) = reelgate(&endpoint, &[]);
    assert!(progress.contains("scanning regions: 4/4"), "{progress}");
    assert!(
        !table.contains("SECRET") && !progress.contains("SECRET"),
        "a token-like field leaked:\n{table}"
    );
    let summary: Vec<&str> = table.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(
        summary.len(),
        4,
        "a header and three regions (sa-east-1 has no log group):\n{table}"
    );
    assert!(summary[2].starts_with("eu-west-1") && !summary[2].contains("entitlement_unavailable"));
    let eu: Vec<&str> = summary[2].split_whitespace().collect();
    assert_eq!(
        &eu[..5],
        ["eu-west-1", "2", "1", "0", "1"],
        "requests, allowed, denied, 503s:\n{table}"
    );
    let us: Vec<&str> = summary[3].split_whitespace().collect();
    assert_eq!(&us[..5], ["us-east-1", "2", "1", "1", "0"]);
    assert!(summary[3].contains("not_entitled 1"));

    let merged: Vec<&str> = table.lines().skip(summary.len() + 1).collect();
    let regions: Vec<&str> = merged
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        regions,
        [
            "ap-southeast-1",
            "us-east-1",
            "eu-west-1",
            "us-east-1",
            "eu-west-1"
        ],
        "time order:\n{table}"
    );

    let (json, _) = reelgate(&endpoint, &["--json", "--reason", "not_entitled"]);
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["region"].as_str(), lines[0]["status"].as_u64()),
        (Some("us-east-1"), Some(403))
    );
    let (json, _) = reelgate(&endpoint, &["--json", "--title", "trailer"]);
    assert_eq!(json.lines().count(), 1);
}

/// A signed-in decision line of `user` from the network hint `network`.
fn hinted(user: &str, network: &str) -> String {
    let body = json!({
        "msg": "session", "request_id": null, "region": "x", "decision": "allow", "reason": "purchase",
        "status": 200, "video": "demo", "user": user, "network": network, "latency_us": 1,
        "token_cache_hit": false, "cookie_cache_hit": false, "cold": false,
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": []}, "Requests": 1, "LatencyMicros": 1,
    });
    format!("2026-11-25T03:00:00.000Z\tabc-123\tINFO\t{body}")
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/setup; scripts/test runs it"]
async fn sharing_lists_accounts_on_several_networks_at_once_across_regions() {
    let server = moto_server();
    let endpoint = server.endpoint();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let min = 60_000;
    let (a, b, c) = (
        "k1:000000000000000a",
        "k1:000000000000000b",
        "k1:000000000000000c",
    );
    // `sharer` plays on three networks in three regions at once;
    // `traveller` moves from one network to the next, never overlapping.
    let t0 = now - 60 * min;
    let mut us = Vec::new();
    let mut eu = Vec::new();
    let mut ap = Vec::new();
    for round in 0..3 {
        let t = t0 + round * 4 * min;
        us.push((t, hinted("sharer", a)));
        eu.push((t + min, hinted("sharer", b)));
        ap.push((t + 2 * min, hinted("sharer", c)));
    }
    for (i, network) in [a, b, c].iter().enumerate() {
        let start = t0 + i64::try_from(i).unwrap() * 20 * min;
        for step in 0..3 {
            eu.push((start + step * 4 * min, hinted("traveller", network)));
        }
    }
    us.sort();
    eu.sort();
    ap.sort();
    write(&endpoint, "us-east-1", &us).await;
    write(&endpoint, "eu-west-1", &eu).await;
    write(&endpoint, "ap-southeast-1", &ap).await;

    let sharing = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_reelgate"))
            .args(["logs", "sharing", "--function", FUNCTION, "--since", "2h"])
            .args(["--endpoint", &endpoint])
            .args(["--regions", "us-east-1,eu-west-1,ap-southeast-1,sa-east-1"])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json = sharing(&["--json", "--min-networks", "1"]);
    let accounts: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(accounts.len(), 2, "{json}");
    assert_eq!(accounts[0]["account"], "sharer", "most suspicious first");
    assert_eq!(
        (
            &accounts[0]["concurrent_networks"],
            &accounts[0]["networks"],
            &accounts[0]["concurrent_regions"],
            &accounts[0]["regions"],
            &accounts[0]["sessions"],
        ),
        (&json!(3), &json!(3), &json!(3), &json!(3), &json!(9))
    );
    assert_eq!(accounts[0]["first_seen_ms"], json!(t0));
    assert_eq!(accounts[1]["account"], "traveller");
    assert_eq!(
        (
            &accounts[1]["concurrent_networks"],
            &accounts[1]["networks"]
        ),
        (&json!(1), &json!(3)),
        "moving from network to network is not concurrent use"
    );

    let table = sharing(&[]);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "only sharer reaches the default 3:\n{table}");
    assert!(rows[0].starts_with("sharer"));
    assert!(!table.contains("000000000000000a"), "hints are not printed");
}
