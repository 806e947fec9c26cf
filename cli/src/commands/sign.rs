//! `reelgate sign url|cookies`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use reelgate_shared::EpochSeconds;
use reelgate_shared::cloudfront::{CookieAttributes, Policy, SameSite, sign_cookies, sign_url};

use super::args::{self, Hash};
use crate::error::CliError;

#[derive(Subcommand)]
pub enum SignCommand {
    /// Sign a URL. Without --starts/--ip/--resource the policy is canned
    /// (shortest URL); with any of them it is custom.
    #[command(
        after_help = "Examples:\n  reelgate sign url --key-file private.pem --key-pair-id K2EXAMPLE \\\n      --url https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8 --expires 1767290400\n  reelgate sign url --key-file private.pem --key-pair-id K2EXAMPLE \\\n      --url https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8 --expires 1767290400 \\\n      --resource 'https://d111111abcdef8.cloudfront.net/videos/demo/*' --ip 203.0.113.0/24"
    )]
    Url(SignUrl),
    /// Sign cookies for a resource pattern (always a custom policy).
    #[command(
        after_help = "Example:\n  reelgate sign cookies --key-file private.pem --key-pair-id K2EXAMPLE \\\n      --resource 'https://d111111abcdef8.cloudfront.net/videos/demo/*' --expires 1767290400"
    )]
    Cookies(SignCookies),
}

#[derive(Args)]
struct Common {
    /// Private key PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    #[arg(long)]
    key_file: PathBuf,
    /// The id CloudFront assigned to the matching public key.
    #[arg(long)]
    key_pair_id: String,
    /// Expiry, epoch seconds (exclusive).
    #[arg(long)]
    expires: u64,
    /// Start of validity, epoch seconds (exclusive).
    #[arg(long)]
    starts: Option<u64>,
    /// Restrict to a client IPv4 address or CIDR range.
    #[arg(long)]
    ip: Option<String>,
    /// Policy digest; sha256 also announces Hash-Algorithm=SHA256.
    #[arg(long, value_enum, default_value = "sha1")]
    hash: Hash,
}

#[derive(Args)]
pub struct SignUrl {
    #[command(flatten)]
    common: Common,
    /// The http(s) URL to sign; its own query is kept.
    #[arg(long)]
    url: String,
    /// Policy resource pattern (* and ? wildcards) if wider than --url.
    #[arg(long)]
    resource: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    SetCookie,
}

#[derive(Args)]
pub struct SignCookies {
    #[command(flatten)]
    common: Common,
    /// Policy resource pattern, e.g. https://d…cloudfront.net/videos/demo/*
    #[arg(long)]
    resource: String,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Cookie Path for --format set-cookie.
    #[arg(long, default_value = "/")]
    path: String,
    /// Cookie Domain for --format set-cookie.
    #[arg(long)]
    domain: Option<String>,
    /// Cookie Max-Age for --format set-cookie (default: until --expires is reached).
    #[arg(long)]
    max_age: Option<u64>,
}

pub fn run(command: SignCommand) -> Result<ExitCode, CliError> {
    let output = match command {
        SignCommand::Url(args) => url(args)?,
        SignCommand::Cookies(args) => cookies(args)?,
    };
    println!("{output}");
    Ok(ExitCode::SUCCESS)
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// A custom policy from the flags, or `None` when a canned one will do.
fn custom_policy(common: &Common, resource: Option<&str>) -> Result<Option<Policy>, CliError> {
    if common.starts.is_none() && common.ip.is_none() && resource.is_none() {
        return Ok(None);
    }
    let resource = resource.unwrap_or_default();
    if !is_http_url(resource) {
        return Err(CliError::flag(
            "resource",
            "must be an http:// or https:// URL pattern",
        ));
    }
    let mut policy = Policy::custom(resource, EpochSeconds::new(common.expires))
        .map_err(|e| CliError::flag("resource", e))?;
    if let Some(starts) = common.starts {
        policy = policy
            .starting(EpochSeconds::new(starts))
            .map_err(|e| CliError::flag("starts", e))?;
    }
    if let Some(ip) = &common.ip {
        policy = policy.from_ip(args::cidr(ip)?);
    }
    Ok(Some(policy))
}

fn url(args: SignUrl) -> Result<String, CliError> {
    if !is_http_url(&args.url) || args.url.contains('#') {
        return Err(CliError::flag(
            "url",
            "must be an http:// or https:// URL without a #fragment",
        ));
    }
    let key = args::signing_key(&args.common.key_file)?;
    let key_pair_id = args::key_pair_id(&args.common.key_pair_id)?;
    let resource =
        args.resource
            .as_deref()
            .or((args.common.starts.is_some() || args.common.ip.is_some())
                .then_some(args.url.as_str()));
    let policy = match custom_policy(&args.common, resource)? {
        Some(policy) => policy,
        None => Policy::canned(args.url.clone(), EpochSeconds::new(args.common.expires)),
    };
    Ok(sign_url(
        &args.url,
        &policy,
        &key_pair_id,
        args.common.hash.into(),
        &key,
    )?)
}

fn cookies(args: SignCookies) -> Result<String, CliError> {
    let key = args::signing_key(&args.common.key_file)?;
    let key_pair_id = args::key_pair_id(&args.common.key_pair_id)?;
    let policy = custom_policy(&args.common, Some(&args.resource))?
        .ok_or_else(|| CliError::flag("resource", "is required"))?;
    let cookies = sign_cookies(&policy, &key_pair_id, args.common.hash.into(), &key)?;
    Ok(match args.format {
        Format::Json => {
            let map: serde_json::Map<String, serde_json::Value> = cookies
                .pairs()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.into()))
                .collect();
            serde_json::Value::Object(map).to_string()
        }
        Format::SetCookie => {
            let mut attributes = CookieAttributes::new(args.path, SameSite::Lax)
                .map_err(|e| CliError::flag("path", e))?;
            if let Some(domain) = args.domain {
                attributes = attributes
                    .with_domain(domain)
                    .map_err(|e| CliError::flag("domain", e))?;
            }
            if let Some(age) = args.max_age {
                attributes = attributes.with_max_age(age);
            }
            cookies
                .set_cookie_headers(&attributes)
                .iter()
                .map(|header| format!("Set-Cookie: {header}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}
