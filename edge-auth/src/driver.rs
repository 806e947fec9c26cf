//! The host driver, written once for every host (WebAssembly in Node, the
//! native host, tests): call the core, perform the fetch it names, hand the
//! result back, and fail closed when a request asks for more rounds than
//! the protocol needs.
//!
//! [`Exchange`] is the loop's state for one request, so a host whose I/O is
//! asynchronous across a boundary (the Node host) can keep it on the Rust
//! side between calls; [`drive`] runs the whole loop for Rust hosts.

use std::sync::Mutex;

use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::{Crypto, KeyRing};

use crate::edge::Edge;
use crate::error::EdgeError;
use crate::event::Request;
use crate::log::Decision;
use crate::response;
use crate::step::{Answer, Fetch, FetchResult, Fetched, Step};

/// A request needs at most one store read, one JWKS fetch, one read of its
/// device leases and one lease write; a core that asks for more has a bug,
/// and the edge then fails closed.
pub const MAX_FETCHES: u8 = 4;

/// One viewer request on its way to an answer.
#[derive(Debug)]
pub struct Exchange {
    request: Request,
    fetched: Fetched,
    fetches: u8,
    pending: Option<Fetch>,
}

impl Exchange {
    pub fn new(request: Request) -> Self {
        Self {
            request,
            fetched: Fetched::default(),
            fetches: 0,
            pending: None,
        }
    }

    /// Runs the core once: its answer, or the fetch to perform before the
    /// next step (hand the result to [`Exchange::record`] or
    /// [`Exchange::fail`]).
    pub fn step<C: Crypto + KeyRing>(
        &mut self,
        edge: &mut Edge<C>,
        now: EpochSeconds,
    ) -> Step<Answer> {
        match edge.handle(&self.request, now, &self.fetched) {
            Step::Fetch(_) if self.fetches >= MAX_FETCHES => {
                Step::Ready(refused(&EdgeError::FetchLoop))
            }
            Step::Fetch(fetch) => {
                self.fetches += 1;
                self.pending = Some(fetch.clone());
                Step::Fetch(fetch)
            }
            ready => ready,
        }
    }

    /// The pending fetch, if the last step named one.
    pub fn pending(&self) -> Option<&Fetch> {
        self.pending.as_ref()
    }

    pub fn record(&mut self, result: FetchResult) {
        self.pending = None;
        self.fetched.record(result);
    }

    /// The pending fetch failed, for `why` (a short code, never secret): the
    /// core treats it as that fetch failing (fail closed, or keep its keys).
    pub fn fail(&mut self, why: String) {
        match self.pending.take() {
            Some(Fetch::Entitlement { .. }) => {
                self.fetched.record(FetchResult::Entitlement(Err(why)))
            }
            Some(Fetch::Jwks { .. }) => self.fetched.record(FetchResult::Jwks(Err(why))),
            Some(Fetch::Leases { .. }) => self.fetched.record(FetchResult::Leases(Err(why))),
            Some(Fetch::Lease { .. }) => self.fetched.record(FetchResult::Lease(Err(why))),
            None => {}
        }
    }
}

/// An answer refusing the request with `error`, as the core would write it.
pub fn refused(error: &EdgeError) -> Answer {
    let mut decision = Decision::default();
    decision.deny(error.status(), error.reason());
    Answer {
        response: response::refusal(error),
        decision,
    }
}

/// Performs the I/O the core names, for a Rust host.
pub trait Performer {
    fn perform(&self, fetch: &Fetch) -> impl Future<Output = FetchResult> + Send;
}

/// Drives `request` to its answer: the core under `edge`'s lock (never held
/// across I/O), each fetch by `performer`, `now` read once per round.
pub async fn drive<C, P>(
    edge: &Mutex<Edge<C>>,
    performer: &P,
    request: Request,
    now: impl Fn() -> EpochSeconds,
) -> Answer
where
    C: Crypto + KeyRing,
    P: Performer,
{
    let mut exchange = Exchange::new(request);
    loop {
        let step = {
            let mut edge = edge.lock().unwrap_or_else(|p| p.into_inner());
            exchange.step(&mut edge, now())
        };
        match step {
            Step::Ready(answer) => return answer,
            Step::Fetch(fetch) => {
                let result = performer.perform(&fetch).await;
                exchange.record(result);
            }
        }
    }
}
