//! What the edge decided, for the host's one structured log line per
//! request. The schema is `reelgate_shared::edge_log` (the same type
//! `reelgate logs` reads); the core fills its `Decision` part.

pub use reelgate_shared::edge_log::{Decision, EntitlementSource};
