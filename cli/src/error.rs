//! Everything a command can fail with. Messages name the file or flag at
//! fault and never include key material.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists; pass --force to replace it")]
    Exists { path: PathBuf },
    #[error("{path}: {source}")]
    Key {
        path: PathBuf,
        source: reelgate_shared::crypto::native::KeyError,
    },
    #[error("--{flag}: {problem}")]
    Flag { flag: &'static str, problem: String },
    #[error(transparent)]
    Sign(#[from] reelgate_shared::cloudfront::SignError),
    #[error(transparent)]
    Stack(#[from] reelgate_local::StackError),
    #[error("{0}")]
    Other(String),
}

impl CliError {
    pub fn flag(flag: &'static str, problem: impl ToString) -> Self {
        Self::Flag {
            flag,
            problem: problem.to_string(),
        }
    }
}
