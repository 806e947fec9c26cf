//! `reelgate keys`: make a CloudFront key pair, and rotate the edge's
//! signing key by staging the next one in its config (`signing.next`) and
//! promoting it once it has taken over.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{KeyAlgorithm, SigningKey};

use crate::error::CliError;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write a new private.pem (PKCS#8, mode 0600) and public.pem, and print
    /// the public key to paste into CloudFront.
    #[command(
        after_help = "Example:\n  reelgate keys generate --algorithm ecdsa-p256 --out-dir keys/\n\nECDSA P-256 is recommended: CloudFront accepts it, and signing is ~20x faster than RSA-2048 at the edge."
    )]
    Generate(Generate),
    /// Print the edge config with a next signing key staged: every edge
    /// container switches to it at --activate-at. Its public key must be in
    /// the distribution's key group before then. The key is named by its
    /// Secrets Manager ARN; embedding the PEM itself needs --allow-inline-key
    /// and is for local configs only (a deploy build refuses it).
    #[command(
        after_help = "Example:\n  reelgate keys stage --config edge-config.json --key-pair-id K2NEWKEY \\\n    --secret-arn arn:aws:secretsmanager:us-east-1:123456789012:secret:reelgate-signing-b \\\n    --activate-at 1800000000 > edge-config.next.json"
    )]
    Stage(Stage),
    /// Print the edge config with the staged key made the only key, once it
    /// is active (the old public key can then leave the key group after the
    /// longest cookie lifetime).
    #[command(
        after_help = "Example:\n  reelgate keys promote --config edge-config.next.json > edge-config.json"
    )]
    Promote(Promote),
}

#[derive(Args)]
pub struct Stage {
    /// The edge config (config.json of the bundle) to stage the key in.
    #[arg(long)]
    config: PathBuf,
    /// The CloudFront public key id of the next key.
    #[arg(long)]
    key_pair_id: String,
    /// The Secrets Manager secret holding the next private key (PEM).
    #[arg(
        long,
        conflicts_with = "key_file",
        required_unless_present = "key_file"
    )]
    secret_arn: Option<String>,
    /// The next private key (PEM) to embed in the config instead: local
    /// configs only, and only with --allow-inline-key.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Allow --key-file: the private key is written into config.json, which
    /// ends up in a zip that CloudFront replicates and `lambda:GetFunction`
    /// returns, so `scripts/build-edge` refuses such a config for deployment.
    #[arg(long, requires = "key_file")]
    allow_inline_key: bool,
    /// Epoch second from which the next key signs.
    #[arg(long)]
    activate_at: u64,
}

#[derive(Args)]
pub struct Promote {
    /// The edge config with a staged key (`signing.next`).
    #[arg(long)]
    config: PathBuf,
    /// The time to check activation against (epoch seconds; default: now).
    #[arg(long)]
    now: Option<u64>,
}

#[derive(Args)]
pub struct Generate {
    /// ecdsa-p256 (recommended) or rsa-2048.
    #[arg(long, value_parser = ["ecdsa-p256", "rsa-2048"], default_value = "ecdsa-p256")]
    algorithm: String,
    /// Directory to write private.pem and public.pem into (created if missing).
    #[arg(long)]
    out_dir: PathBuf,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
}

pub fn run(command: KeysCommand) -> Result<ExitCode, CliError> {
    match command {
        KeysCommand::Generate(args) => generate(args),
        KeysCommand::Stage(args) => stage(args),
        KeysCommand::Promote(args) => promote(args),
    }
}

fn read_config(path: &Path) -> Result<serde_json::Value, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    EdgeConfig::from_json(&text).map_err(|e| CliError::flag("config", e))?;
    serde_json::from_str(&text).map_err(|e| CliError::flag("config", e))
}

/// Validates the changed config with the edge's own types and prints it.
fn print_config(config: &serde_json::Value) -> Result<EdgeConfig, CliError> {
    let text = serde_json::to_string_pretty(config).map_err(|e| CliError::Other(e.to_string()))?;
    let parsed = EdgeConfig::from_json(&text).map_err(|e| CliError::Other(e.to_string()))?;
    println!("{text}");
    Ok(parsed)
}

fn stage(args: Stage) -> Result<ExitCode, CliError> {
    let mut config = read_config(&args.config)?;
    let mut next =
        serde_json::json!({"key_pair_id": args.key_pair_id, "activate_at": args.activate_at});
    match (&args.key_file, args.secret_arn) {
        (Some(_), _) if !args.allow_inline_key => {
            return Err(CliError::flag(
                "key-file",
                "would embed the private key in config.json; put it in Secrets Manager and pass \
                 --secret-arn, or add --allow-inline-key for a local-only config",
            ));
        }
        (Some(path), _) => {
            let pem = std::fs::read_to_string(path).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?;
            SigningKey::from_pem(&pem).map_err(|source| CliError::Key {
                path: path.clone(),
                source,
            })?;
            next["private_key_pem"] = pem.into();
        }
        (None, arn) => next["private_key_secret_arn"] = arn.into(),
    }
    config["signing"]["next"] = next;
    let parsed = print_config(&config)?;
    let retire = args.activate_at + parsed.cookie.ttl_seconds + 3600;
    eprintln!(
        "# Deploy this config, with {} already in the key group. The edge signs with it from {}.\n\
         # After {retire} (activation + cookie lifetime + an hour), run `reelgate keys promote` and remove {} from the key group.",
        args.key_pair_id, args.activate_at, parsed.signing.key_pair_id,
    );
    Ok(ExitCode::SUCCESS)
}

fn promote(args: Promote) -> Result<ExitCode, CliError> {
    let mut config = read_config(&args.config)?;
    let Some(next) = config["signing"].get("next").cloned() else {
        return Err(CliError::flag("config", "has no signing.next to promote"));
    };
    let activate_at = next["activate_at"].as_u64().unwrap_or(u64::MAX);
    let now = args.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    if now < activate_at {
        return Err(CliError::flag(
            "config",
            format!("signing.next activates at {activate_at}; promote it after that (now {now})"),
        ));
    }
    let signing = &mut config["signing"];
    let old = signing["key_pair_id"].clone();
    let Some(fields) = signing.as_object_mut() else {
        return Err(CliError::flag("config", "signing is not an object"));
    };
    fields.remove("next");
    fields.remove("private_key_pem");
    fields.remove("private_key_secret_arn");
    for field in ["key_pair_id", "private_key_pem", "private_key_secret_arn"] {
        if let Some(value) = next.get(field) {
            fields.insert(field.to_owned(), value.clone());
        }
    }
    print_config(&config)?;
    eprintln!(
        "# Deploy this config; remove {old} from the key group once the cookies it signed have expired."
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a key file. Without `force` the file must not exist (O_EXCL, which
/// also refuses a symlink). With `force` the new contents go to a fresh
/// file in the same directory (created 0600 and exclusively by `tempfile`,
/// so never through a symlink), which is then renamed over `path`: an
/// existing file's looser mode or a reader holding it open never sees the
/// new key, and a symlink at `path` is refused rather than followed.
fn write_key_file(path: &Path, contents: &str, force: bool, private: bool) -> Result<(), CliError> {
    let write_err = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    if !force {
        use std::fs::OpenOptions;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(if private { 0o600 } else { 0o644 });
        let mut file = options.open(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::Exists {
                path: path.to_owned(),
            },
            _ => write_err(source),
        })?;
        return file.write_all(contents.as_bytes()).map_err(write_err);
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(CliError::Other(format!(
                "{} is a symlink; refusing to replace it (remove it, or write elsewhere with --out-dir)",
                path.display()
            )));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(write_err(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".reelgate-key-")
        .tempfile_in(dir)
        .map_err(write_err)?;
    file.write_all(contents.as_bytes()).map_err(write_err)?;
    #[cfg(unix)]
    if !private {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(write_err)?;
    }
    file.as_file().sync_all().map_err(write_err)?;
    file.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

fn generate(args: Generate) -> Result<ExitCode, CliError> {
    let algorithm: KeyAlgorithm = args
        .algorithm
        .parse()
        .map_err(|e| CliError::flag("algorithm", e))?;
    std::fs::create_dir_all(&args.out_dir).map_err(|source| CliError::Write {
        path: args.out_dir.clone(),
        source,
    })?;
    let key = SigningKey::generate(algorithm, &mut getrandom::SysRng)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let private_pem = key
        .to_pkcs8_pem()
        .map_err(|e| CliError::Other(e.to_string()))?;
    let public_pem = key
        .public_key()
        .to_pem()
        .map_err(|e| CliError::Other(e.to_string()))?;
    let private_path = args.out_dir.join("private.pem");
    let public_path = args.out_dir.join("public.pem");
    write_key_file(&private_path, &private_pem, args.force, true)?;
    write_key_file(&public_path, &public_pem, args.force, false)?;
    print!(
        "# Wrote {} (keep it secret) and {}.\n\
         # In CloudFront > Public keys > Create, name it e.g. reelgate-{} and paste:\n\
         {public_pem}\
         # Then add it to the distribution's key group and set signing.key_pair_id to the id CloudFront assigns.\n",
        private_path.display(),
        public_path.display(),
        algorithm.as_str(),
    );
    Ok(ExitCode::SUCCESS)
}
