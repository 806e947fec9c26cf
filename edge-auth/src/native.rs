//! The native host (feature `native`): the same core the WebAssembly bundle
//! runs, with `shared`'s native crypto, driven by [`crate::driver`]. It
//! reads entitlements from any [`EntitlementStore`] and answers a JWKS
//! refetch with the document it was given (the local stack's identity
//! provider), as Lambda@Edge's Node host answers them over the network.

use std::sync::Mutex;

use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::native::NativeCrypto;
use reelgate_shared::store::{
    Consistency, EntitlementStore, LeaseStore, claim_in_order, leases_from_items,
};

use crate::driver::{Performer, drive};
use crate::edge::Edge;
use crate::event::Request;
use crate::step::{Answer, Fetch, FetchResult};

pub struct NativeHost {
    edge: Mutex<Edge<NativeCrypto>>,
    jwks: String,
}

/// The I/O of one request: the store it reads and writes leases in, and
/// the JWKS a refetch gets. Public so tests can wrap it (count what the
/// core asks for) without performing the fetches a second way.
pub struct StoreIo<'a, S> {
    store: &'a S,
    jwks: &'a str,
}

impl<'a, S> StoreIo<'a, S> {
    pub fn new(store: &'a S, jwks: &'a str) -> Self {
        Self { store, jwks }
    }
}

impl<S: EntitlementStore + LeaseStore> Performer for StoreIo<'_, S> {
    async fn perform(&self, fetch: &Fetch) -> FetchResult {
        match fetch {
            Fetch::Entitlement { keys, .. } => FetchResult::Entitlement(
                self.store
                    .snapshot(&keys.user, &keys.video, Consistency::Eventual)
                    .await
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ),
            Fetch::Jwks { .. } => FetchResult::Jwks(Ok(self.jwks.to_owned())),
            Fetch::Leases { query, .. } => {
                FetchResult::Leases(match self.store.leases(query).await {
                    Ok(items) => leases_from_items(&items).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                })
            }
            Fetch::Lease { writes, .. } => FetchResult::Lease(
                claim_in_order(self.store, writes)
                    .await
                    .map_err(|e| e.to_string()),
            ),
        }
    }
}

impl NativeHost {
    /// `jwks` is the JWKS document a refetch gets.
    pub fn new(edge: Edge<NativeCrypto>, jwks: String) -> Self {
        Self {
            edge: Mutex::new(edge),
            jwks,
        }
    }

    pub async fn handle<S: EntitlementStore + LeaseStore>(
        &self,
        request: Request,
        store: &S,
        now: EpochSeconds,
    ) -> Answer {
        drive(
            &self.edge,
            &StoreIo::new(store, &self.jwks),
            request,
            || now,
        )
        .await
    }
}
