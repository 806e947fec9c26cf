//! Helpers for the cross-part tests in `tests/`: where the repository is,
//! the tools `scripts/setup` installs, and a seeded random source so a
//! differential failure can be replayed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the repository")
        .to_owned()
}

/// The Python interpreter of the project's virtualenv (`scripts/setup`).
pub fn python() -> PathBuf {
    let python = repo_root().join(".cache/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (scripts/test does it for you)",
        python.display()
    );
    python
}

/// `tests/js`, where `scripts/setup` ran `npm ci`.
pub fn js_dir() -> PathBuf {
    let dir = repo_root().join("tests/js");
    assert!(
        dir.join("node_modules").exists(),
        "tests/js/node_modules is missing: run scripts/setup (scripts/test does it for you)"
    );
    dir
}

/// Runs `program args` with `input` on stdin and returns stdout, panicking
/// with stderr on failure: a broken peer must fail the test loudly.
pub fn run_with_stdin(program: &Path, args: &[&str], cwd: &Path, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for child");
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// xorshift64*: tiny, seeded, good enough to spread test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = std::env::var("REELGATE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_2026);
        eprintln!("random inputs from REELGATE_TEST_SEED={seed}");
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn word(&mut self, alphabet: &[u8], min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char)
            .collect()
    }
}
