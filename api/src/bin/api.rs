//! The API as a Lambda function behind API Gateway (HTTP API).

use std::sync::Arc;

use lambda_http::{Error, run, tracing};
use reelgate_api::auth::{Authenticator, HttpClient, JwksSource};
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::secrets::{self, Variables};
use reelgate_api::{App, router};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::jwt::Jwks;

const WEBHOOK_SECRET: Variables = Variables {
    inline: "REELGATE_WEBHOOK_SECRET",
    arn: "REELGATE_WEBHOOK_SECRET_ARN",
};
const STRIPE_WEBHOOK_SECRET: Variables = Variables {
    inline: "REELGATE_STRIPE_WEBHOOK_SECRET",
    arn: "REELGATE_STRIPE_WEBHOOK_SECRET_ARN",
};
const SIGNING_KEY: Variables = Variables {
    inline: "REELGATE_SIGNING_KEY_PEM",
    arn: "REELGATE_SIGNING_KEY_SECRET_ARN",
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = ApiConfig::from_env(&|name| std::env::var(name).ok())?;
    let aws = aws_config::load_from_env().await;
    // The secrets are fetched concurrently: a cold start pays one Secrets
    // Manager round trip, not one per secret. Any failure still fails init,
    // naming the variable.
    let (webhook_secret, stripe_webhook_secret, signing_key) = tokio::try_join!(
        secrets::resolve(&config.webhook_secret, WEBHOOK_SECRET, &aws),
        async {
            match &config.stripe_webhook_secret {
                Some(source) => secrets::resolve(source, STRIPE_WEBHOOK_SECRET, &aws)
                    .await
                    .map(|secret| Some(secret.into_bytes())),
                None => Ok(None),
            }
        },
        async {
            let pem = secrets::resolve(&config.signing_key, SIGNING_KEY, &aws).await?;
            SigningKey::from_pem(&pem)
                .map_err(|e| format!("{}: {e}", SIGNING_KEY.of(&config.signing_key)))
        },
    )?;
    let auth = Authenticator::new(
        config.verifier.clone(),
        Jwks::default(),
        JwksSource::Http {
            url: config.jwks_url.to_string(),
            client: HttpClient::new(),
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
