//! The CLI contract of ARCHITECTURE §4, run against the real binary:
//! results on stdout, errors on stderr with exit 2, `verify` exits 1 with
//! the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keys(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tests/keys")
        .join(name)
}

fn reelgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reelgate"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim_end()
        .to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("reelgate-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const URL: &str = "https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8";

fn sign_url(extra: &[&str]) -> Output {
    let key = keys("p256.sec1.pem");
    let mut args = vec![
        "sign",
        "url",
        "--key-file",
        key.to_str().unwrap(),
        "--key-pair-id",
        "K2TEST",
        "--url",
        URL,
        "--expires",
        "2000000000",
    ];
    args.extend_from_slice(extra);
    reelgate(&args)
}

fn verify_url(url: &str, extra: &[&str]) -> Output {
    let public = keys("p256.pub.pem");
    let now = if extra.contains(&"--now") {
        vec![]
    } else {
        vec!["--now", "1900000000"]
    };
    let mut args = vec![
        "verify",
        "url",
        "--public-key",
        public.to_str().unwrap(),
        "--key-pair-id",
        "K2TEST",
        "--url",
        url,
    ];
    args.extend_from_slice(&now);
    args.extend_from_slice(extra);
    reelgate(&args)
}

#[test]
fn a_canned_signed_url_verifies_and_expires() {
    let signed = sign_url(&[]);
    assert!(signed.status.success(), "{}", stderr(&signed));
    let url = stdout(&signed);
    assert!(
        url.starts_with(&format!("{URL}?Expires=2000000000&Signature=")),
        "{url}"
    );
    let ok = verify_url(&url, &[]);
    assert_eq!((ok.status.code(), stdout(&ok).as_str()), (Some(0), "valid"));
    let late = verify_url(&url, &["--now", "2000000000"]);
    assert_eq!(
        (late.status.code(), stdout(&late).as_str()),
        (Some(1), "Expired")
    );
}

#[test]
fn any_custom_flag_makes_a_custom_policy_and_ip_binding_is_enforced() {
    let url = stdout(&sign_url(&["--ip", "203.0.113.7", "--hash", "sha256"]));
    assert!(
        url.contains("?Policy=") && url.ends_with("&Hash-Algorithm=SHA256"),
        "{url}"
    );
    let inside = verify_url(&url, &["--client-ip", "203.0.113.7"]);
    assert_eq!(stdout(&inside), "valid");
    let outside = verify_url(&url, &["--client-ip", "198.51.100.1"]);
    assert_eq!(
        (outside.status.code(), stdout(&outside).as_str()),
        (Some(1), "IpNotAllowed")
    );
}

#[test]
fn a_key_pair_id_outside_the_trusted_set_is_unknown() {
    let url = stdout(&sign_url(&[]));
    let public = keys("p256.pub.pem");
    let out = reelgate(&[
        "verify",
        "url",
        "--public-key",
        public.to_str().unwrap(),
        "--key-pair-id",
        "K9OTHER",
        "--url",
        &url,
        "--now",
        "1",
    ]);
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(1), "UnknownKey")
    );
}

#[test]
fn signed_cookies_verify_for_every_object_of_the_title() {
    let key = keys("rsa2048.pkcs1.pem");
    let out = reelgate(&[
        "sign",
        "cookies",
        "--key-file",
        key.to_str().unwrap(),
        "--key-pair-id",
        "K2TEST",
        "--resource",
        "https://d111111abcdef8.cloudfront.net/videos/demo/*",
        "--expires",
        "2000000000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let cookie = [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
    ]
    .map(|name| format!("{name}={}", json[name].as_str().unwrap()))
    .join("; ");
    let public = keys("rsa2048.pub.pem");
    let verify = |url: &str| {
        reelgate(&[
            "verify",
            "cookies",
            "--public-key",
            public.to_str().unwrap(),
            "--key-pair-id",
            "K2TEST",
            "--url",
            url,
            "--cookie",
            &cookie,
            "--now",
            "1900000000",
        ])
    };
    assert_eq!(
        stdout(&verify(
            "https://d111111abcdef8.cloudfront.net/videos/demo/seg-00001.ts"
        )),
        "valid"
    );
    let other = verify("https://d111111abcdef8.cloudfront.net/videos/other/master.m3u8");
    assert_eq!(
        (other.status.code(), stdout(&other).as_str()),
        (Some(1), "ResourceMismatch")
    );
}

#[test]
fn set_cookie_format_prints_one_header_per_cookie() {
    let key = keys("p256.pkcs8.pem");
    let out = reelgate(&[
        "sign",
        "cookies",
        "--key-file",
        key.to_str().unwrap(),
        "--key-pair-id",
        "K2TEST",
        "--resource",
        "https://d.net/videos/demo/*",
        "--expires",
        "2000000000",
        "--format",
        "set-cookie",
        "--path",
        "/videos/demo/",
        "--domain",
        "example.com",
    ]);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3);
    for line in lines {
        assert!(line.starts_with("Set-Cookie: CloudFront-"), "{line}");
        assert!(
            line.ends_with(
                "; Path=/videos/demo/; Domain=example.com; Secure; HttpOnly; SameSite=Lax"
            ),
            "{line}"
        );
    }
}

#[test]
fn keys_generate_writes_a_usable_private_key_readable_only_by_its_owner() {
    let dir = TempDir::new("keys");
    let out_dir = dir.0.to_str().unwrap();
    let out = reelgate(&[
        "keys",
        "generate",
        "--algorithm",
        "ecdsa-p256",
        "--out-dir",
        out_dir,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("-----BEGIN PUBLIC KEY-----"));
    assert!(stdout(&out).contains("reelgate-ecdsa-p256"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.0.join("private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = reelgate(&["keys", "generate", "--out-dir", out_dir]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"));
    let key = dir.0.join("private.pem");
    let signed = reelgate(&[
        "sign",
        "url",
        "--key-file",
        key.to_str().unwrap(),
        "--key-pair-id",
        "K2NEW",
        "--url",
        URL,
        "--expires",
        "2000000000",
    ]);
    let public = dir.0.join("public.pem");
    let verify = reelgate(&[
        "verify",
        "url",
        "--public-key",
        public.to_str().unwrap(),
        "--key-pair-id",
        "K2NEW",
        "--url",
        &stdout(&signed),
        "--now",
        "1",
    ]);
    assert_eq!(stdout(&verify), "valid");
}

#[test]
fn bad_input_is_refused_on_stderr_with_exit_2_and_no_key_material() {
    let garbage = TempDir::new("garbage");
    std::fs::create_dir_all(&garbage.0).unwrap();
    let garbage_pem = garbage.0.join("garbage.pem");
    std::fs::write(
        &garbage_pem,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let rsa1024 = keys("rsa1024.pem");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--key-file", "/nonexistent/key.pem"],
            "cannot read /nonexistent/key.pem",
        ),
        (
            vec!["--key-file", garbage_pem.to_str().unwrap()],
            "neither RSA nor ECDSA P-256",
        ),
        (
            vec!["--key-file", rsa1024.to_str().unwrap()],
            "RSA key is 1024 bits",
        ),
        (vec!["--ip", "10.0.0.0/33"], "--ip"),
        (vec!["--starts", "2000000001"], "--starts"),
        (vec!["--url", "ftp://d.net/a"], "--url"),
        (vec!["--key-pair-id", "k-lower*"], "--key-pair-id"),
    ];
    for (override_args, expected) in cases {
        let mut args = vec![
            "sign",
            "url",
            "--key-file",
            "",
            "--key-pair-id",
            "K2TEST",
            "--url",
            URL,
            "--expires",
            "2000000000",
        ];
        let p256 = keys("p256.sec1.pem");
        args[3] = p256.to_str().unwrap();
        for pair in override_args.chunks(2) {
            match args.iter().position(|a| *a == pair[0]) {
                Some(i) => args[i + 1] = pair[1],
                None => args.extend_from_slice(pair),
            }
        }
        let out = reelgate(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !err.contains("AAAA") && !err.contains("BEGIN"),
            "{args:?} echoed key material"
        );
    }
}

#[test]
fn the_capacity_model_matches_docs_capacity_md() {
    let out = reelgate(&["capacity", "--viewers", "100000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "viewers 100000: edge 453.7/s, CloudFront 17120/s, DynamoDB reads 22.69/s"
        ),
        "{text}"
    );
    assert_eq!(
        reelgate(&["capacity", "--viewers", "0"]).status.code(),
        Some(2)
    );
}

/// `reelgate keys stage` on `config`, naming the next key by `key` (its
/// flags), to activate at 1800000000.
fn keys_stage(config: &Path, key_pair_id: &str, key: &[&str]) -> Output {
    let mut args = vec![
        "keys",
        "stage",
        "--config",
        config.to_str().unwrap(),
        "--key-pair-id",
        key_pair_id,
    ];
    args.extend_from_slice(key);
    args.extend_from_slice(&["--activate-at", "1800000000"]);
    reelgate(&args)
}

#[test]
fn keys_stage_then_promote_rotates_the_edge_signing_key() {
    let dir = TempDir::new("rotate");
    std::fs::create_dir_all(&dir.0).unwrap();
    let config = dir.0.join("edge.json");
    let edge_dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge-auth/config.dev.json");
    std::fs::copy(&edge_dev, &config).unwrap();
    let old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let next_key = keys("rsa2048.pkcs8.pem");

    let inline = [
        "--key-file",
        next_key.to_str().unwrap(),
        "--allow-inline-key",
    ];
    let staged = keys_stage(&config, "K2NEXTKEY", &inline);
    assert_eq!(staged.status.code(), Some(0), "{}", stderr(&staged));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&staged)).unwrap();
    assert_eq!(doc["signing"]["key_pair_id"], old["signing"]["key_pair_id"]);
    assert_eq!(doc["signing"]["next"]["key_pair_id"], "K2NEXTKEY");
    assert_eq!(doc["signing"]["next"]["activate_at"], 1_800_000_000);
    assert!(
        stderr(&staged).contains("1800003900"),
        "{}",
        stderr(&staged)
    );
    let staged_path = dir.0.join("staged.json");
    std::fs::write(&staged_path, stdout(&staged)).unwrap();

    let early = reelgate(&[
        "keys",
        "promote",
        "--config",
        staged_path.to_str().unwrap(),
        "--now",
        "1799999999",
    ]);
    assert_eq!(early.status.code(), Some(2));
    assert!(
        stderr(&early).contains("activates at 1800000000"),
        "{}",
        stderr(&early)
    );

    let promoted = reelgate(&[
        "keys",
        "promote",
        "--config",
        staged_path.to_str().unwrap(),
        "--now",
        "1800000000",
    ]);
    assert_eq!(promoted.status.code(), Some(0), "{}", stderr(&promoted));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&promoted)).unwrap();
    assert_eq!(doc["signing"]["key_pair_id"], "K2NEXTKEY");
    assert!(doc["signing"].get("next").is_none());
    assert_eq!(
        doc["signing"]["private_key_pem"].as_str(),
        Some(std::fs::read_to_string(&next_key).unwrap().as_str())
    );

    let same_id = keys_stage(
        &config,
        old["signing"]["key_pair_id"].as_str().unwrap(),
        &inline,
    );
    assert_eq!(same_id.status.code(), Some(2));
    assert!(
        stderr(&same_id).contains("signing.next.key_pair_id"),
        "{}",
        stderr(&same_id)
    );
    assert!(!stderr(&same_id).contains("PRIVATE KEY"));
}

#[test]
fn keys_stage_refuses_to_embed_a_key_file_without_allow_inline_key() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge-auth/config.dev.json");
    let next_key = keys("rsa2048.pkcs8.pem");
    let out = keys_stage(
        &config,
        "K2NEXTKEY",
        &["--key-file", next_key.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "no config is printed");
    assert!(stderr(&out).contains("--secret-arn"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("PRIVATE KEY"));
}

#[test]
fn keys_stage_names_the_next_key_by_its_secret_arn() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge-auth/config.dev.json");
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reelgate-signing-b";
    let out = keys_stage(&config, "K2NEXTKEY", &["--secret-arn", arn]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["signing"]["next"]["private_key_secret_arn"], arn);
    assert!(doc["signing"]["next"].get("private_key_pem").is_none());
}

#[cfg(unix)]
#[test]
fn keys_generate_force_replaces_a_world_readable_private_key_with_an_owner_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("force-mode");
    std::fs::create_dir_all(&dir.0).unwrap();
    let private = dir.0.join("private.pem");
    std::fs::write(&private, "old key").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = reelgate(&[
        "keys",
        "generate",
        "--out-dir",
        dir.0.to_str().unwrap(),
        "--force",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&private).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn keys_generate_force_refuses_a_symlinked_key_file() {
    let dir = TempDir::new("force-link");
    std::fs::create_dir_all(&dir.0).unwrap();
    let victim = dir.0.join("victim.txt");
    std::fs::write(&victim, "not a key").unwrap();
    let out_dir = dir.0.join("keys");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("private.pem")).unwrap();
    let out = reelgate(&[
        "keys",
        "generate",
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("symlink"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a key");
}
