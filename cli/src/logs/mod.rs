//! `reelgate logs`: Lambda@Edge writes its logs in the region where each
//! request ran, to `/aws/lambda/us-east-1.<function>`. This scans every
//! region that has that log group, filters client-side (JSON filter
//! patterns are not portable, and moto ignores them), prints a per-region
//! summary and the merged, time-ordered lines. Only known fields of the
//! edge's decision lines are printed: never tokens, cookies or credentials.

mod sharing;
mod summary;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use clap::{Args, Subcommand};

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
    after_help = "Example:\n  reelgate logs --function reelgate-EdgeFunction-AbC123 --since 30m --reason not_entitled",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: Option<LogsCommand>,
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

#[derive(Subcommand)]
enum LogsCommand {
    /// Accounts used from several networks at once: networks, regions and
    /// sessions per account, most suspicious first (docs/operations.md).
    Sharing(SharingArgs),
}

#[derive(Args)]
#[command(
    after_help = "Example:\n  reelgate logs sharing --function reelgate-EdgeFunction-AbC123 --since 24h --min-networks 3"
)]
struct SharingArgs {
    /// The Lambda@Edge function's name (its log groups are /aws/lambda/us-east-1.<name>).
    #[arg(long, required_unless_present = "file")]
    function: Option<String>,
    /// Read the edge's lines from this file (`-`: stdin) instead of CloudWatch.
    #[arg(long, conflicts_with_all = ["function", "regions", "endpoint"])]
    file: Option<std::path::PathBuf>,
    /// Regions to scan, comma-separated (default: every commercial region that has the log group).
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// How far back to read: 30s, 15m, 2h, 1d.
    #[arg(long, default_value = "24h")]
    since: String,
    /// List accounts with at least this many networks in use at one instant.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    min_networks: u16,
    /// Requests of one network at most this far apart belong to one activity span: 10m, 30m.
    #[arg(long, default_value = "10m")]
    window: String,
    /// One JSON object per account instead of the table.
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
    match args.command {
        Some(LogsCommand::Sharing(sharing)) => runtime.block_on(sharing_report(sharing)),
        None => runtime.block_on(logs(args)),
    }
}

/// Lines from a file: each carries its own region, and the EMF timestamp
/// stands in for CloudWatch's.
fn from_file(args: &LogsArgs, path: &std::path::Path) -> Result<ExitCode, CliError> {
    let lines: Vec<EdgeLine> = read_file(path)?
        .into_iter()
        .filter(|l| keep(args, l))
        .collect();
    if !args.json {
        print_summary(&lines);
    }
    print_lines(&lines, args.json);
    Ok(ExitCode::SUCCESS)
}

/// The decision lines of a file (`-`: stdin), in time order.
fn read_file(path: &std::path::Path) -> Result<Vec<EdgeLine>, CliError> {
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
        .collect();
    lines.sort_by_key(|l| l.timestamp_ms);
    Ok(lines)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn clients(regions: &[String], endpoint: Option<&str>) -> Vec<(String, Client)> {
    let regions: Vec<String> = if regions.is_empty() {
        COMMERCIAL_REGIONS.iter().map(|r| (*r).to_owned()).collect()
    } else {
        regions.to_vec()
    };
    let mut clients = Vec::new();
    for region in regions {
        let client = client(&region, endpoint).await;
        clients.push((region, client));
    }
    clients
}

/// Every region's decision lines since `start_ms`, in time order; a region
/// that fails is reported on stderr and skipped.
async fn scan_all(
    clients: &[(String, Client)],
    group: &str,
    start_ms: i64,
    progress: bool,
) -> Vec<EdgeLine> {
    // All regions at once: a scan is a few round trips to a far region.
    let mut scans = tokio::task::JoinSet::new();
    for (region, client) in clients {
        let (region, client, group) = (region.clone(), client.clone(), group.to_owned());
        scans.spawn(async move {
            let result = scan(&client, &group, &region, start_ms).await;
            (region, result)
        });
    }
    let (mut lines, total, mut done) = (Vec::new(), clients.len(), 0);
    while let Some(joined) = scans.join_next().await {
        done += 1;
        if progress {
            eprint!("\rscanning regions: {done}/{total}");
        }
        match joined {
            Ok((_, Ok(Some(found)))) => lines.extend(found),
            Ok((_, Ok(None))) => {}
            Ok((region, Err(error))) => eprintln!("\nreelgate logs: {region}: {error}"),
            Err(error) => eprintln!("\nreelgate logs: a scan failed: {error}"),
        }
    }
    if progress {
        eprintln!();
    }
    lines.sort_by(|a, b| {
        a.timestamp_ms
            .cmp(&b.timestamp_ms)
            .then_with(|| a.region.cmp(&b.region))
    });
    lines
}

async fn sharing_report(args: SharingArgs) -> Result<ExitCode, CliError> {
    let since = parse_since(&args.since)?;
    let window = parse_since(&args.window)
        .map_err(|_| CliError::flag("window", "expected a number and a unit: 10m, 1h"))?;
    let lines = match (&args.function, &args.file) {
        (_, Some(path)) => read_file(path)?,
        (Some(function), None) => {
            let start_ms = now_ms() - i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
            let clients = clients(&args.regions, args.endpoint.as_deref()).await;
            let group = format!("/aws/lambda/us-east-1.{function}");
            scan_all(&clients, &group, start_ms, true).await
        }
        (None, None) => return Err(CliError::flag("function", "is required")),
    };
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let (accounts, unhinted) = sharing::analyse(&lines, window_ms);
    let shown = accounts
        .iter()
        .filter(|a| a.concurrent_networks >= usize::from(args.min_networks));
    let mut out = std::io::stdout().lock();
    if !args.json {
        let _ = writeln!(
            out,
            "{:<40} {:>13} {:>8} {:>12} {:>7} {:>8}  {:<20}  {:<20}",
            "account",
            "networks@once",
            "networks",
            "regions@once",
            "regions",
            "sessions",
            "first seen",
            "last seen"
        );
    }
    for account in shown {
        let _ = if args.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string(account).unwrap_or_default()
            )
        } else {
            writeln!(
                out,
                "{:<40} {:>13} {:>8} {:>12} {:>7} {:>8}  {:<20}  {:<20}",
                account.account,
                account.concurrent_networks,
                account.networks,
                account.concurrent_regions,
                account.regions,
                account.sessions,
                sharing::utc(account.first_seen_ms),
                sharing::utc(account.last_seen_ms),
            )
        };
    }
    eprintln!(
        "reelgate logs sharing: {} accounts with network hints, {} with at least {} networks at once",
        accounts.len(),
        accounts
            .iter()
            .filter(|a| a.concurrent_networks >= usize::from(args.min_networks))
            .count(),
        args.min_networks
    );
    for (why, count) in &unhinted.missing {
        eprintln!("reelgate logs sharing: {count} signed-in lines without a hint: {why}");
    }
    if unhinted.no_key > 0 {
        eprintln!(
            "reelgate logs sharing: {} signed-in lines without a hint: the edge config has no network_hint key",
            unhinted.no_key
        );
    }
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
    let now_ms = now_ms();
    let mut start_ms = now_ms - i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    let clients = clients(&args.regions, args.endpoint.as_deref()).await;
    let mut first = true;
    loop {
        let lines: Vec<EdgeLine> = scan_all(&clients, &group, start_ms, first)
            .await
            .into_iter()
            .filter(|l| keep(&args, l))
            .collect();
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
