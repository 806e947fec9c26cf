//! The edge's `config.json` (ARCHITECTURE §6) as typed, validated structs.
//! Lambda@Edge has no environment variables, so this file is the whole
//! configuration; every mistake in it is reported with the field's path and
//! what is wrong, at bundle build time rather than on the first viewer.

mod edge;

pub use edge::{
    CacheConfig, ConfigError, CookieConfig, EdgeConfig, KeySource, SigningConfig, TableConfig,
};
