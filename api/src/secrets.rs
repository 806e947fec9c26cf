//! Secrets that may come from Secrets Manager. Read once per container:
//! a Lambda cold start pays one call per secret, warm invocations none.

use reelgate_shared::config::SecretSource;

/// The environment variables a secret may be given in: its inline value
/// and its Secrets Manager ARN. Init errors name the one that was set, so an
/// operator knows which setting to fix.
#[derive(Debug, Clone, Copy)]
pub struct Variables {
    pub inline: &'static str,
    pub arn: &'static str,
}

impl Variables {
    /// The variable `source` was read from.
    pub fn of(self, source: &SecretSource) -> &'static str {
        match source {
            SecretSource::Inline(_) => self.inline,
            SecretSource::Arn(_) => self.arn,
        }
    }
}

/// Resolves an inline secret or fetches an ARN's `SecretString`. The error
/// names the variable and the ARN, never the value.
pub async fn resolve(
    source: &SecretSource,
    variables: Variables,
    aws: &aws_config::SdkConfig,
) -> Result<String, String> {
    match source {
        SecretSource::Inline(value) => Ok(value.clone()),
        SecretSource::Arn(arn) => {
            let variable = variables.of(source);
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
                        "{variable}: cannot read secret {arn}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    )
                })?;
            secret
                .secret_string()
                .map(str::to_owned)
                .ok_or_else(|| format!("{variable}: secret {arn} has no SecretString"))
        }
    }
}
