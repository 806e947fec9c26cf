//! `reelgate logs`: Lambda@Edge writes its logs in the region where each
//! request ran, to `/aws/lambda/us-east-1.<function>`. This scans every
//! region that has that log group, filters client-side (JSON filter
//! patterns are not portable, and moto ignores them), prints a per-region
//! summary and the merged, time-ordered lines. Only known fields of the
//! edge's decision lines are printed: never tokens, cookies or credentials.

mod summary;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use clap::Args;

use crate::error::CliError;
use reelgate_shared::edge_log::EdgeLogLine;
use summary::{EdgeLine, summarize};

/// Commercial regions where CloudFront runs regional edge caches (and so
/// where Lambda@Edge can log).
const COMMERCIAL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "me-south-1",
    "af-south-1",
];

#[derive(Args)]
#[command(
    after_help = "Example:\n  reelgate logs --function reelgate-EdgeFunction-AbC123 --since 30m --reason not_entitled"
)]
pub struct LogsArgs {
    /// The Lambda@Edge function's name (its log groups are /aws/lambda/us-east-1.<name>).
    #[arg(long, required_unless_present = "file")]
    function: Option<String>,
    /// Read the edge's lines from this file (`-`: stdin) instead of
    /// CloudWatch: a saved log, or lines a test captured from the bundle.
    #[arg(long, conflicts_with_all = ["function", "regions", "follow", "endpoint"])]
    file: Option<std::path::PathBuf>,
    /// Regions to scan, comma-separated (default: every commercial region that has the log group).
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// How far back to read: 30s, 15m, 2h, 1d.
    #[arg(long, default_value = "1h")]
    since: String,
    /// Keep reading new lines every 2 s until interrupted.
    #[arg(long)]
    follow: bool,
    /// Only lines with this reason (e.g. not_entitled, token_expired).
    #[arg(long)]
    reason: Option<String>,
    /// Only lines for this title id.
    #[arg(long)]
    title: Option<String>,
    /// One JSON object per line instead of the table and text lines.
    #[arg(long)]
    json: bool,
    /// CloudWatch Logs endpoint override (e.g. a local emulator).
    #[arg(long, hide = true)]
    endpoint: Option<String>,
}

fn parse_since(text: &str) -> Result<Duration, CliError> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| CliError::flag("since", "expected a number and a unit: 30s, 15m, 2h, 1d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(CliError::flag("since", "unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(seconds))
}

async fn client(region: &str, endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    Client::new(&loader.load().await)
}

/// Lines of one region since `start_ms`; `Ok(None)` when the region has no such log group.
async fn scan(
    client: &Client,
    group: &str,
    region: &str,
    start_ms: i64,
) -> Result<Option<Vec<EdgeLine>>, String> {
    let mut lines = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_next_token(token)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                let service = error.as_service_error();
                if service.is_some_and(|e| e.is_resource_not_found_exception()) {
                    return Ok(None);
                }
                return Err(aws_sdk_cloudwatchlogs::error::DisplayErrorContext(error).to_string());
            }
        };
        for event in page.events() {
            if let Some(line) = EdgeLine::parse(
                event.message().unwrap_or_default(),
                region,
                event.timestamp().unwrap_or(0),
            ) {
                lines.push(line);
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(Some(lines));
        }
    }
}

fn keep(args: &LogsArgs, line: &EdgeLine) -> bool {
    args.reason.as_ref().is_none_or(|r| r == line.reason())
        && args
            .title
            .as_ref()
            .is_none_or(|t| line.video() == Some(t.as_str()))
}

fn print_lines(lines: &[EdgeLine], json: bool) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = if json {
            writeln!(out, "{}", line.to_json())
        } else {
            writeln!(
                out,
                "{:>13} {:<15} {:<6} {:<3} {:<24} {:<20} {:>8}us{}",
                line.timestamp_ms,
                line.region,
                line.decision(),
                line.status(),
                line.reason(),
                line.video().unwrap_or("-"),
                line.line.latency_us,
                line.line
                    .request_id
                    .as_deref()
                    .map(|r| format!("  {r}"))
                    .unwrap_or_default(),
            )
        };
    }
}

fn print_summary(lines: &[EdgeLine]) {
    println!(
        "{:<15} {:>8} {:>8} {:>8} {:>6} {:>9} {:>9} {:>7} {:>7} {:>7}  top denials",
        "region",
        "requests",
        "allowed",
        "denied",
        "503s",
        "p50 µs",
        "p99 µs",
        "token%",
        "cookie%",
        "store%"
    );
    for (region, s) in summarize(lines) {
        let mut top: Vec<_> = s.denied.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = top
            .iter()
            .take(3)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        println!(
            "{:<15} {:>8} {:>8} {:>8} {:>6} {:>9} {:>9} {:>6.0}% {:>6.0}% {:>6.0}%  {}",
            region,
            s.requests,
            s.allowed,
            s.denied.values().sum::<usize>(),
            s.unavailable,
            s.p50_us,
            s.p99_us,
            s.token_cache_rate * 100.0,
            s.cookie_cache_rate * 100.0,
            s.entitlement_cache_rate * 100.0,
            top.join(", ")
        );
    }
    println!();
}

pub fn run(args: LogsArgs) -> Result<ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(e.to_string()))?;
    runtime.block_on(logs(args))
}

/// Lines from a file: each carries its own region, and the EMF timestamp
/// stands in for CloudWatch's.
fn from_file(args: &LogsArgs, path: &std::path::Path) -> Result<ExitCode, CliError> {
    let read_err = |source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(read_err)?
    } else {
        std::fs::read_to_string(path).map_err(read_err)?
    };
    let mut lines: Vec<EdgeLine> = text
        .lines()
        .filter_map(EdgeLogLine::parse)
        .map(|line| EdgeLine {
            region: line.region.clone(),
            timestamp_ms: i64::try_from(line.emf.timestamp).unwrap_or(i64::MAX),
            line,
        })
        .filter(|l| keep(args, l))
        .collect();
    lines.sort_by_key(|l| l.timestamp_ms);
    if !args.json {
        print_summary(&lines);
    }
    print_lines(&lines, args.json);
    Ok(ExitCode::SUCCESS)
}

async fn logs(args: LogsArgs) -> Result<ExitCode, CliError> {
    let since = parse_since(&args.since)?;
    let Some(function) = &args.function else {
        return match &args.file {
            Some(path) => from_file(&args, path),
            None => Err(CliError::flag("function", "is required")),
        };
    };
    let group = format!("/aws/lambda/us-east-1.{function}");
    let regions: Vec<String> = if args.regions.is_empty() {
        COMMERCIAL_REGIONS.iter().map(|r| (*r).to_owned()).collect()
    } else {
        args.regions.clone()
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut start_ms = now_ms - i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    let mut clients = Vec::new();
    for region in &regions {
        clients.push((
            region.clone(),
            client(region, args.endpoint.as_deref()).await,
        ));
    }
    let mut first = true;
    loop {
        // All regions at once: a scan is a few round trips to a far region.
        let mut scans = tokio::task::JoinSet::new();
        for (region, client) in &clients {
            let (region, client, group) = (region.clone(), client.clone(), group.clone());
            scans.spawn(async move {
                let result = scan(&client, &group, &region, start_ms).await;
                (region, result)
            });
        }
        let (mut lines, total, mut done) = (Vec::new(), clients.len(), 0);
        while let Some(joined) = scans.join_next().await {
            done += 1;
            if first {
                eprint!("\rscanning regions: {done}/{total}");
            }
            match joined {
                Ok((_, Ok(Some(found)))) => {
                    lines.extend(found.into_iter().filter(|l| keep(&args, l)))
                }
                Ok((_, Ok(None))) => {}
                Ok((region, Err(error))) => eprintln!("\nreelgate logs: {region}: {error}"),
                Err(error) => eprintln!("\nreelgate logs: a scan failed: {error}"),
            }
        }
        if first {
            eprintln!();
        }
        lines.sort_by(|a, b| {
            a.timestamp_ms
                .cmp(&b.timestamp_ms)
                .then_with(|| a.region.cmp(&b.region))
        });
        if first && !args.json {
            print_summary(&lines);
        }
        print_lines(&lines, args.json);
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        first = false;
        start_ms = lines
            .last()
            .map_or(now_ms, |l| l.timestamp_ms + 1)
            .max(start_ms);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
