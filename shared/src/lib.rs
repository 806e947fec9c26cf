//! reelgate's domain core. Everything here is pure: hosts (Lambda, the
//! WebAssembly edge, the local stack, tests) pass in events, fetched data and
//! `now`, and perform all I/O themselves. That is what lets the same rules run
//! at the edge, in the regional API and on a laptop.

pub mod cloudfront;
pub mod config;
pub mod crypto;
pub mod devices;
pub mod edge_log;
pub mod entitlement;
pub mod ids;
pub mod jwt;
pub mod network_hint;
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod time;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use ids::{EventId, IdError, KeyPairId, StreamId, UserSub, VideoId};
pub use time::EpochSeconds;
