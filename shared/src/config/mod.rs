//! Configuration as typed, validated structs. The edge's `config.json`
//! (ARCHITECTURE §6): Lambda@Edge has no environment variables, so that file
//! is its whole configuration, checked at bundle build time. The API's and
//! the pre-token trigger's environment variables. Both are built from the
//! same checked values (`fields`), so a field means and checks the same in
//! each; every mistake is reported with the field or variable's name and
//! what is wrong.

mod api;
mod edge;
mod fields;

pub use api::{ApiConfig, TriggerConfig, UrlPolicy};
pub use edge::{
    CacheConfig, CookieConfig, EdgeConfig, KeySource, SigningConfig, StagedKey, TableConfig,
};
pub use fields::{
    ConfigError, HttpsUrl, Issuer, NetworkHintKeyId, NetworkHintSecret, Origin, SecretArn,
    SecretSource, TableName, VideoPathPrefix,
};
