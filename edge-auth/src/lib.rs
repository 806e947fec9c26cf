//! reelgate's edge authorizer: the `/session/*` viewer-request function.
//!
//! `Edge` is a sans-I/O core (request + `now` + fetched data in, response
//! or I/O request out) that runs natively (local stack, tests) with
//! `shared`'s native crypto, and on `wasm32-unknown-unknown` inside the
//! Lambda@Edge Node.js runtime with node:crypto behind host imports (`wasm`).
//! One concern per module: `route` (which operation), `token` (bearer,
//! verification, JWKS refetch, token cache), `entitlement` (may this viewer
//! watch), `devices` (concurrent-device leases), `lifetime` (cookie expiry buckets), `cookies` (policy scope,
//! signing, cookie cache), `response` (what the edge writes), `error` (every
//! refusal, its status and reason), `step` and `driver` (the host protocol),
//! `boundary` (the flat layout of the WebAssembly boundary).

#[cfg(any(target_arch = "wasm32", test))]
mod boundary;
pub mod cache;
pub mod cookies;
mod devices;
pub mod driver;
pub mod edge;
mod entitlement;
pub mod error;
pub mod event;
pub mod lifetime;
pub mod log;
#[cfg(feature = "native")]
pub mod native;
pub mod region;
pub mod response;
pub mod route;
pub mod step;
pub mod token;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use cache::HashKey;
pub use driver::{Exchange, drive};
pub use edge::Edge;
pub use error::EdgeError;
pub use step::{Answer, Fetch, FetchResult, Fetched, Step};
