//! The API as a Lambda function behind API Gateway (HTTP API).

use std::sync::Arc;

use lambda_http::{Error, run, tracing};
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::{App, router, secrets};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::jwt::Jwks;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = ApiConfig::from_env(&|name| std::env::var(name).ok())?;
    let aws = aws_config::load_from_env().await;
    let webhook_secret = secrets::resolve(&config.webhook_secret, &aws).await?;
    let stripe_webhook_secret = match &config.stripe_webhook_secret {
        Some(source) => Some(secrets::resolve(source, &aws).await?.into_bytes()),
        None => None,
    };
    let signing_key = SigningKey::from_pem(&secrets::resolve(&config.signing_key, &aws).await?)?;
    let auth = Authenticator::new(
        config.verifier.clone(),
        Jwks::default(),
        JwksSource::Http {
            url: config.jwks_url.to_string(),
            client: reqwest::Client::new(),
        },
    );
    let store = DynamoStore::new(
        reelgate_api::sdk::dynamodb_client(&aws),
        config.table.to_string(),
    );
    let app = Arc::new(App {
        store,
        auth,
        config,
        webhook_secret: webhook_secret.into_bytes(),
        stripe_webhook_secret,
        signing_key,
    });
    run(router(app)).await
}
