//! The local stack behind `reelgate dev`: the whole system on one machine
//! (ARCHITECTURE §9), one file per part; `stack` wires them together.
//!
//! One process on 127.0.0.1 routes by path like the real distribution:
//! `/session/*` → the edge authorizer; `/videos/*` → CloudFront's
//! signed-cookie check (the shared validator) then the local origin;
//! `/api/*` → the API router; `/idp/` → a Cognito-compatible identity
//! provider (its Hosted UI under `/idp/oauth2/`); `/dev/*` → the demo's
//! config and simulated payment provider;
//! `/` → the demo player.

#[cfg(test)]
mod bundle_server_tests;
mod catalogue;
mod cloudfront;
mod edge_host;
mod error;
mod host_check;
mod hosted_ui;
mod idp;
mod origin;
mod payments;
mod stack;
mod store;
mod stripe;
mod users;
mod web;

pub use error::StackError;
pub use stack::{DevArgs, run};
