//! Secrets that may come from Secrets Manager. Read once per container:
//! a Lambda cold start pays one call, warm invocations none.

use reelgate_shared::config::SecretSource;

/// Resolves an inline secret or fetches an ARN's `SecretString`. The error
/// names the ARN, never the value.
pub async fn resolve(source: &SecretSource, aws: &aws_config::SdkConfig) -> Result<String, String> {
    match source {
        SecretSource::Inline(value) => Ok(value.clone()),
        SecretSource::Arn(arn) => {
            let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
            let config = aws
                .to_builder()
                .region(aws_config::Region::new(region))
                .build();
            let client = aws_sdk_secretsmanager::Client::new(&config);
            let secret = client
                .get_secret_value()
                .secret_id(arn.to_string())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cannot read secret {arn}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    )
                })?;
            secret
                .secret_string()
                .map(str::to_owned)
                .ok_or_else(|| format!("secret {arn} has no SecretString"))
        }
    }
}
