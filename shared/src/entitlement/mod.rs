//! Who may watch what: grants (purchase, rental, admin), plans, the claims
//! the pre-token trigger writes, payment events, and the one decision
//! function the edge and the API share.

mod claims;
mod decision;
mod grant;
mod payment;

pub use claims::{CLAIM, ClaimsError, TokenEntitlements};
pub use decision::{Basis, ClaimsVerdict, Entitled, from_claims, from_store};
pub use grant::{Grant, GrantSource, Plan, UserEntitlements};
pub use payment::{MAX_RENTAL_HOURS, PaymentError, PaymentEvent, PaymentKind};
