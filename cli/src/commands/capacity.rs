//! `reelgate capacity`: the capacity and cost model of docs/capacity.md for
//! your own numbers. Prices are us-east-1 list prices; egress is priced at a
//! blended rate you should replace with your negotiated one.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;

#[derive(Args)]
pub struct CapacityArgs {
    /// Concurrent viewers.
    #[arg(long)]
    viewers: u64,
    /// HLS segment duration, seconds.
    #[arg(long, default_value_t = 6.0)]
    segment_seconds: f64,
    /// Signed-cookie lifetime, seconds (refreshed at 80%).
    #[arg(long, default_value_t = 300.0)]
    cookie_seconds: f64,
    /// Average viewing session, minutes.
    #[arg(long, default_value_t = 45.0)]
    session_minutes: f64,
    /// Average bitrate, Mbit/s.
    #[arg(long, default_value_t = 3.0)]
    bitrate_mbps: f64,
    /// Share of session requests the token claims cannot decide (they go to DynamoDB).
    #[arg(long, default_value_t = 0.05)]
    claims_miss: f64,
    /// Hours per day at this concurrency (30-day month).
    #[arg(long, default_value_t = 6.0)]
    hours_per_day: f64,
    /// Blended CloudFront egress price, $/GB.
    #[arg(long, default_value_t = 0.02)]
    egress_per_gb: f64,
}

pub fn run(args: CapacityArgs) -> Result<ExitCode, CliError> {
    if args.viewers == 0
        || args.segment_seconds <= 0.0
        || args.cookie_seconds <= 0.0
        || args.session_minutes <= 0.0
    {
        return Err(CliError::flag(
            "viewers",
            "viewers, segment, cookie and session lengths must be positive",
        ));
    }
    let n = args.viewers as f64;
    let seconds = args.hours_per_day * 3600.0 * 30.0;
    let edge = n / (0.8 * args.cookie_seconds) + n / (args.session_minutes * 60.0);
    let cloudfront = n / args.segment_seconds + edge;
    let dynamodb = args.claims_miss * edge;
    let egress_gb = n * args.bitrate_mbps * 1e6 / 8.0 * seconds / 1e9;
    let rows = [
        ("Lambda@Edge requests", edge * seconds / 1e6 * 0.60),
        (
            "Lambda@Edge compute (5 ms, 128 MB)",
            edge * seconds * 0.005 * 0.125 * 0.000_050_01,
        ),
        ("CloudFront requests", cloudfront * seconds / 1e4 * 0.01),
        ("CloudFront egress", egress_gb * args.egress_per_gb),
        (
            "DynamoDB reads (1 RRU each)",
            dynamodb * seconds / 1e6 * 0.125,
        ),
        ("Cognito (3 MAU per concurrent viewer)", n * 3.0 * 0.015),
    ];
    println!(
        "viewers {}: edge {edge:.1}/s, CloudFront {cloudfront:.0}/s, DynamoDB reads {dynamodb:.2}/s, egress {:.0} TB/month",
        args.viewers,
        egress_gb / 1000.0
    );
    for (part, dollars) in rows {
        println!("  {part:<40} ${dollars:>14.2} / month");
    }
    println!(
        "  {:<40} ${:>14.2} / month",
        "total",
        rows.iter().map(|(_, d)| d).sum::<f64>()
    );
    Ok(ExitCode::SUCCESS)
}
