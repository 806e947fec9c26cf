//! Who may watch what. One file per rule:
//! - `grant.rs`: grants (purchase, rental, admin) and plans, and when each is in force;
//! - `claims.rs`: the `reelgate:ent` token claim: what the pre-token trigger puts in it, and its wire form;
//! - `decision.rs`: the one decision the edge, the API and the local stack call;
//! - `payment.rs`: payment events and what each does to a grant or plan;
//! - `title.rs`: catalogue titles: free, tiers, prices, licensing window.

mod claims;
mod decision;
mod grant;
mod payment;
mod title;

pub use claims::{CLAIM, ClaimsError, DEFAULT_MAX_GRANTS, TokenEntitlements};
pub use decision::{Basis, Decision, Denial, Entitled, NeedsStore, Rules, StoreReason};
pub use grant::{Grant, GrantSource, Plan, Snapshot, UserEntitlements};
pub use payment::{
    DEFAULT_TIER, MAX_RENTAL_HOURS, PaymentError, PaymentEvent, PaymentKind, rental_hours,
};
pub use title::{MAX_NAME_CHARS, MAX_PRICE, MAX_TIERS, Title, TitleError};
