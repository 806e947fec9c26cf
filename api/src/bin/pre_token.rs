//! The Cognito pre-token-generation V2 trigger as a Lambda function.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use reelgate_api::auth::now;
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::trigger;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let table = std::env::var("REELGATE_TABLE").map_err(|_| "REELGATE_TABLE is required")?;
    let max_grants: usize = std::env::var("REELGATE_CLAIMS_MAX_GRANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let timeout_ms: u64 = std::env::var("REELGATE_TRIGGER_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(reelgate_api::sdk::dynamodb_client(&aws), table);
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
