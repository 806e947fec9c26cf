//! reelgate's edge authorizer: the `/session/*` viewer-request function.
//!
//! `handler` is a sans-I/O core (request + `now` + fetched data in, response
//! or I/O request out) that runs natively (local stack, tests) with
//! `shared`'s native crypto, and on `wasm32-unknown-unknown` inside the
//! Lambda@Edge Node.js runtime with node:crypto behind host imports (`wasm`).

pub mod cache;
pub mod event;
pub mod handler;
pub mod log;
pub mod region;
pub mod route;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use handler::{Edge, Fetch, Fetched, Outcome};
