//! Events as AWS documents them, shared by this crate's test binaries.

use serde_json::{Value, json};

/// A pre-token-generation V2 event as the Cognito developer guide documents
/// it, for the user `sub`.
pub fn documented_pre_token_event(sub: &str) -> Value {
    json!({
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": "JaneDoe",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "1example23456789"},
        "request": {
            "userAttributes": {"sub": sub, "cognito:user_status": "CONFIRMED", "email_verified": "true", "email": "janedoe@example.com"},
            "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null},
            "scopes": ["aws.cognito.signin.user.admin"]
        },
        "response": {"claimsAndScopeOverrideDetails": null}
    })
}
