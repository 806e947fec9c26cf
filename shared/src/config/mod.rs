//! Configuration as typed, validated structs. The edge's `config.json`
//! (ARCHITECTURE §6): Lambda@Edge has no environment variables, so that file
//! is its whole configuration, checked at bundle build time. The API's
//! environment variables. Every mistake is reported with the field or
//! variable's name and what is wrong.

mod api;
mod edge;

pub use api::{ApiConfig, SecretSource, UrlPolicy};
pub use edge::{
    CacheConfig, ConfigError, CookieConfig, EdgeConfig, KeySource, SigningConfig, StagedKey,
    TableConfig,
};
