//! `reelgate verify url|cookies`: CloudFront's decision, offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use reelgate_shared::cloudfront::validator::{self, Request};
use reelgate_shared::crypto::native::PublicKeySet;

use super::args;
use crate::error::CliError;

#[derive(Subcommand)]
pub enum VerifyCommand {
    /// Prints `valid` (exit 0) or the denial reason (exit 1).
    #[command(
        after_help = "Example:\n  reelgate verify url --public-key public.pem --key-pair-id K2EXAMPLE \\\n      --url 'https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8?Expires=…&Signature=…&Key-Pair-Id=K2EXAMPLE'"
    )]
    Url(VerifyUrl),
    /// Prints `valid` (exit 0) or the denial reason (exit 1).
    #[command(
        after_help = "Example:\n  reelgate verify cookies --public-key public.pem --key-pair-id K2EXAMPLE \\\n      --url https://d111111abcdef8.cloudfront.net/videos/demo/seg0.ts \\\n      --cookie 'CloudFront-Policy=…; CloudFront-Signature=…; CloudFront-Key-Pair-Id=K2EXAMPLE'"
    )]
    Cookies(VerifyCookies),
}

#[derive(Args)]
struct Common {
    /// Public key PEM (SubjectPublicKeyInfo or PKCS#1 RSA).
    #[arg(long)]
    public_key: PathBuf,
    /// The key pair id the public key is trusted under.
    #[arg(long)]
    key_pair_id: String,
    /// Decide as of this epoch second (default: now).
    #[arg(long)]
    now: Option<u64>,
    /// The viewer's address, for IP-bound policies.
    #[arg(long)]
    client_ip: Option<String>,
}

#[derive(Args)]
pub struct VerifyUrl {
    #[command(flatten)]
    common: Common,
    /// The signed URL as the viewer requests it.
    #[arg(long)]
    url: String,
}

#[derive(Args)]
pub struct VerifyCookies {
    #[command(flatten)]
    common: Common,
    /// The URL being requested with the cookies.
    #[arg(long)]
    url: String,
    /// The Cookie header value: 'NAME=VALUE; NAME=VALUE'.
    #[arg(long)]
    cookie: String,
}

pub fn run(command: VerifyCommand) -> Result<ExitCode, CliError> {
    let (common, url, cookie) = match command {
        VerifyCommand::Url(args) => (args.common, args.url, None),
        VerifyCommand::Cookies(args) => (args.common, args.url, Some(args.cookie)),
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(CliError::flag("url", "must be an http:// or https:// URL"));
    }
    let keys = PublicKeySet::new().with(
        args::key_pair_id(&common.key_pair_id)?,
        args::public_key(&common.public_key)?,
    );
    let client_ip = common
        .client_ip
        .as_deref()
        .map(args::client_ip)
        .transpose()?;
    let request = Request {
        url: &url,
        cookie_header: cookie.as_deref(),
        client_ip,
        now: args::now_or(common.now),
    };
    match validator::validate(&request, &keys) {
        Ok(_) => {
            println!("valid");
            Ok(ExitCode::SUCCESS)
        }
        Err(denial) => {
            println!("{}", denial.reason());
            Ok(ExitCode::from(1))
        }
    }
}
