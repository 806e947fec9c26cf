//! `reelgate`: the operator's and developer's command line.
//!
//! Contract (ARCHITECTURE §4): stdout carries only the result; errors go to
//! stderr with exit code 2; `verify` exits 1 and prints the reason when the
//! URL or cookies would be refused.

mod commands;
mod error;
mod logs;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{capacity, keys, sign, verify};

#[derive(Parser)]
#[command(
    name = "reelgate",
    version,
    about = "Paid video at the CloudFront edge: local stack, signing keys, signed URLs and cookies",
    after_help = "Examples:\n  reelgate keys generate --algorithm ecdsa-p256 --out-dir keys/\n  reelgate sign url --key-file keys/private.pem --key-pair-id K2EXAMPLE \\\n      --url https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8 --expires 1767290400\n  reelgate verify url --public-key keys/public.pem --key-pair-id K2EXAMPLE --url 'https://…?Expires=…'"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system locally: CloudFront emulator, edge, API, identity provider, demo player.
    #[command(
        after_help = "Then open http://127.0.0.1:8080/ and sign in as alice, bob or carol (password demo-password)."
    )]
    Dev(reelgate_local::DevArgs),
    /// Create CloudFront key pairs.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print the capacity and cost model (docs/capacity.md) for a number of concurrent viewers.
    Capacity(capacity::CapacityArgs),
    /// Read the edge's logs from every region they land in, with a per-region summary.
    Logs(logs::LogsArgs),
    /// Sign URLs or cookies the way CloudFront expects.
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Decide a signed URL or cookie set exactly as CloudFront would.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Capacity(args) => capacity::run(args),
        Command::Dev(args) => reelgate_local::run(args).map_err(error::CliError::from),
        Command::Keys(command) => keys::run(command),
        Command::Logs(args) => logs::run(args),
        Command::Sign(command) => sign::run(command),
        Command::Verify(command) => verify::run(command),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("reelgate: {error}");
            ExitCode::from(2)
        }
    }
}
