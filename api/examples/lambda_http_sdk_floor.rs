//! The second floor for the API's cold start (`scripts/bench-lambda-init`):
//! the same `lambda_http` hello-world with the init any function doing the
//! API's job writes by hand: `aws_config::load_from_env`, its two secrets
//! fetched concurrently from Secrets Manager by ARN (read from the same
//! variables the API reads), and a DynamoDB client. The bare floor
//! (`lambda_http_floor`) against this one is what the AWS work costs any
//! such function; this one against `reelgate-api` is what reelgate itself
//! adds (configuration, key parsing, the router and its caches).

use lambda_http::{Body, Error, Request, Response, run, service_fn, tracing};

async fn hello(_event: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("hello".into())?)
}

async fn secret(aws: &aws_config::SdkConfig, variable: &str) -> Result<String, Error> {
    let arn = std::env::var(variable).map_err(|_| format!("{variable} is not set"))?;
    let secret = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await?;
    Ok(secret.secret_string().unwrap_or_default().to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let aws = aws_config::load_from_env().await;
    let (webhook, signing_key) = tokio::try_join!(
        secret(&aws, "REELGATE_WEBHOOK_SECRET_ARN"),
        secret(&aws, "REELGATE_SIGNING_KEY_SECRET_ARN"),
    )?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    // Held as the function's state would be.
    let state = (webhook, signing_key, dynamodb);
    run(service_fn(move |event| {
        let _ = &state;
        hello(event)
    }))
    .await
}
