//! How reelgate's DynamoDB clients behave when the table stalls. The SDK's
//! defaults have no operation timeout, so a stalled replica would hold a
//! request until API Gateway gives up (29 s) or the local stack's edge
//! forever. These bounds make a stall a fast 503 instead, matching the
//! Lambda@Edge host (`edge-auth/js/index.mjs`: 500 ms to connect, 1.5 s per
//! attempt, two attempts).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// Time to open a connection to the table's endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Time for one attempt of one call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 2;
/// Time for a whole call, retries included: the longest a caller waits.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(3500);

/// A DynamoDB client for `sdk`'s region, credentials and endpoint, with
/// the bounds above.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
