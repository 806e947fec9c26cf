//! reelgate's regional API. One axum router (run under `lambda_http` in AWS
//! and as-is by the local stack) and the Cognito pre-token-generation V2
//! trigger, both over `shared::store::EntitlementStore` and `CatalogueStore` (DynamoDB here, the
//! in-memory store locally).

pub mod auth;
pub mod catalogue;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod extract;
pub mod problem;
pub mod routes;
#[cfg(feature = "aws")]
pub mod sdk;
#[cfg(feature = "aws")]
pub mod secrets;
pub mod stripe;
#[cfg(feature = "aws")]
pub mod trigger;
pub mod webhook;

pub use routes::{App, router};
