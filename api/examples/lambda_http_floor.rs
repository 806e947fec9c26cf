//! The floor for the API's cold start (`scripts/bench-lambda-init`): the
//! `lambda_http` hello-world a user would start from (`cargo lambda new`'s
//! HTTP template), built with the same profile, dependency versions and
//! features as `reelgate-api`, so the difference between the two is what
//! reelgate's own init costs (configuration, the AWS SDK, the secrets).

use lambda_http::{Body, Error, Request, Response, run, service_fn, tracing};

async fn hello(_event: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("hello".into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(hello)).await
}
