//! What one call into the core yields: an answer, or the one piece of I/O
//! it needs first; and what the host hands back after doing that I/O.

use reelgate_shared::devices::Lease;
use reelgate_shared::store::{LeaseQuery, LeaseWrite, Snapshot, SnapshotKeys};
use serde::Serialize;

use crate::event::Response;
use crate::log::Decision;

/// A finished step: `Ready` with its value, or `Fetch` this first.
#[derive(Debug)]
pub enum Step<T> {
    Ready(T),
    Fetch(Fetch),
}

/// The core's answer to a viewer request, and what it decided (for the log).
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Response,
    pub decision: Decision,
}

/// What the host has fetched for this request so far.
#[derive(Debug, Default)]
pub struct Fetched {
    pub entitlement: Option<Result<Snapshot, String>>,
    /// The JWKS document body, or why it could not be fetched.
    pub jwks: Option<Result<String, String>>,
    /// The viewer's device lease slots.
    pub leases: Option<Result<Vec<Lease>, String>>,
    /// Which of a [`Fetch::Lease`]'s writes succeeded (`None`: every
    /// condition failed).
    pub lease: Option<Result<Option<usize>, String>>,
}

/// I/O the core needs before it can answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fetch {
    /// `BatchGetItem` these `keys` (the plan and the (user, video) grant,
    /// as `shared::store` names them) from `table`, eventually consistent,
    /// in `region`'s replica (`None`: the host's own region).
    Entitlement {
        table: String,
        region: Option<String>,
        keys: SnapshotKeys,
    },
    Jwks {
        url: String,
    },
    /// `Query` the viewer's device lease slots (`query`, strongly
    /// consistent) in `table`, in `region`'s replica.
    Leases {
        table: String,
        region: Option<String>,
        query: LeaseQuery,
    },
    /// Perform `writes` (conditional `PutItem`/`DeleteItem`) in order until
    /// one's condition holds; report its index, or that none held.
    Lease {
        table: String,
        region: Option<String>,
        writes: Vec<LeaseWrite>,
    },
}

/// What the host got for a [`Fetch`]: the data, or a short code saying why
/// not (an exception name, `jwks_http_503`), which the core treats as a
/// failure of that fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchResult {
    /// Boxed: a snapshot with its catalogue title is several times the
    /// size of the other results.
    Entitlement(Result<Box<Snapshot>, String>),
    Jwks(Result<String, String>),
    Leases(Result<Vec<Lease>, String>),
    Lease(Result<Option<usize>, String>),
}

impl Fetched {
    pub fn record(&mut self, result: FetchResult) {
        match result {
            FetchResult::Entitlement(result) => self.entitlement = Some(result.map(|s| *s)),
            FetchResult::Jwks(result) => self.jwks = Some(result),
            FetchResult::Leases(result) => self.leases = Some(result),
            FetchResult::Lease(result) => self.lease = Some(result),
        }
    }
}
