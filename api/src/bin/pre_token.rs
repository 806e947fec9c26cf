//! The Cognito pre-token-generation V2 trigger as a Lambda function.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use reelgate_api::auth::now;
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::trigger;
use reelgate_shared::config::TriggerConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = TriggerConfig::from_env(&|name| std::env::var(name).ok())?;
    let (max_grants, timeout_ms) = (config.claims_max_grants, config.trigger_timeout_ms);
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(
        reelgate_api::sdk::dynamodb_client(&aws),
        config.table.to_string(),
    );
    run(service_fn(
        |event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>| {
            let store = store.clone();
            async move {
                let mut payload = event.payload;
                if let Err(skip) =
                    trigger::handle(&mut payload, &store, max_grants, timeout_ms, now()).await
                {
                    tracing::warn!(reason = %skip, "token issued without entitlement claims");
                }
                Ok::<_, Error>(payload)
            }
        },
    ))
    .await
}
