//! A development identity provider that speaks the slice of Cognito's JSON
//! protocol a viewer app uses: `InitiateAuth` with `USER_PASSWORD_AUTH` and
//! `REFRESH_TOKEN_AUTH`, `RevokeToken` for sign-out, plus the user pool's
//! JWKS (the Hosted UI's OAuth endpoints are `hosted_ui`). Tokens are real RS256
//! JWTs shaped like Cognito's, carrying the entitlement claims the
//! pre-token-generation trigger would add, so the edge and the API verify
//! them exactly as they verify production tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reelgate_shared::EpochSeconds;
use reelgate_shared::store::EntitlementStore;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::stack::{Stack, now};
use crate::users::DemoUser;

/// Cognito's error shape: `{"__type": "...", "message": "..."}` with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    #[error("NotAuthorizedException: {0}")]
    NotAuthorized(&'static str),
    #[error("ResourceNotFoundException: User pool client does not exist.")]
    UnknownClient,
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(&'static str),
    #[error("UnknownOperationException: only InitiateAuth and RevokeToken are implemented")]
    UnknownOperation,
    #[error("InternalErrorException: {0}")]
    Internal(String),
}

impl IdpError {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::UnknownClient => "ResourceNotFoundException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::Internal(_) => "InternalErrorException",
        }
    }

    pub fn body(&self) -> Value {
        let message = self.to_string();
        let message = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, m)| m);
        json!({ "__type": self.type_name(), "message": message })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitiateAuthRequest {
    pub auth_flow: String,
    pub client_id: String,
    #[serde(default)]
    pub auth_parameters: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeTokenRequest {
    pub token: String,
    pub client_id: String,
}

/// Tokens as Cognito returns them in `AuthenticationResult`.
pub struct Tokens {
    pub access: String,
    pub id: String,
    pub refresh: Option<String>,
    pub expires_in: u64,
}

impl Tokens {
    pub fn to_response(&self) -> Value {
        let mut result = json!({
            "AccessToken": self.access,
            "IdToken": self.id,
            "ExpiresIn": self.expires_in,
            "TokenType": "Bearer",
        });
        if let Some(refresh) = &self.refresh {
            result["RefreshToken"] = json!(refresh);
        }
        json!({ "AuthenticationResult": result, "ChallengeParameters": {} })
    }
}

/// Signs `header.payload` with RS256; supplied by the host so this module
/// holds no key material itself.
pub type Rs256Signer = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

pub struct DevIdp {
    pub issuer: String,
    pub client_id: String,
    pub kid: String,
    pub token_ttl_seconds: u64,
    users: Vec<DemoUser>,
    signer: Rs256Signer,
    /// Refresh token → (username, the sign-in's `origin_jti`).
    refresh_tokens: Mutex<HashMap<String, (String, String)>>,
}

/// Which sign-in a token pair belongs to. Like Cognito, every access token
/// of one sign-in carries the same `origin_jti` (the edge counts devices by
/// it); a password sign-in starts a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    New,
    Refreshed { origin_jti: String },
}

impl DevIdp {
    pub fn new(
        issuer: String,
        client_id: String,
        kid: String,
        users: Vec<DemoUser>,
        signer: Rs256Signer,
    ) -> Self {
        Self {
            issuer,
            client_id,
            kid,
            token_ttl_seconds: 3600,
            users,
            signer,
            refresh_tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Authenticates and returns the user the tokens are for; `extra_claims`
    /// is then what the pre-token trigger adds for that user.
    pub fn authenticate(
        &self,
        request: &InitiateAuthRequest,
    ) -> Result<(DemoUser, SignIn), IdpError> {
        if request.client_id != self.client_id {
            return Err(IdpError::UnknownClient);
        }
        let param = |name| request.auth_parameters.get(name).map(String::as_str);
        match request.auth_flow.as_str() {
            "USER_PASSWORD_AUTH" => {
                let (Some(username), Some(password)) = (param("USERNAME"), param("PASSWORD"))
                else {
                    return Err(IdpError::InvalidParameter(
                        "Missing required parameter USERNAME or PASSWORD",
                    ));
                };
                let user = self
                    .user_with_password(username, password)
                    .ok_or(IdpError::NotAuthorized("Incorrect username or password."))?;
                Ok((user, SignIn::New))
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                let token = param("REFRESH_TOKEN").ok_or(IdpError::InvalidParameter(
                    "Missing required parameter REFRESH_TOKEN",
                ))?;
                let (username, origin_jti) = self
                    .refresh_tokens
                    .lock()
                    .map_err(|_| IdpError::Internal("refresh token table poisoned".into()))?
                    .get(token)
                    .cloned()
                    .ok_or(IdpError::NotAuthorized("Invalid Refresh Token"))?;
                let user = self
                    .users
                    .iter()
                    .find(|u| u.username == username)
                    .ok_or(IdpError::NotAuthorized("Invalid Refresh Token"))?;
                Ok((user.clone(), SignIn::Refreshed { origin_jti }))
            }
            _ => Err(IdpError::InvalidParameter(
                "AuthFlow must be USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH",
            )),
        }
    }

    /// The user these credentials sign in (password sign-in and the Hosted UI's form).
    pub fn user_with_password(&self, username: &str, password: &str) -> Option<DemoUser> {
        self.users
            .iter()
            .find(|u| u.username == username && u.password == password)
            .cloned()
    }

    /// The user named `username` (a redeemed Hosted UI code names one).
    pub fn user(&self, username: &str) -> Option<DemoUser> {
        self.users.iter().find(|u| u.username == username).cloned()
    }

    /// Forgets a refresh token, so `REFRESH_TOKEN_AUTH` with it fails from
    /// now on. Like Cognito (and RFC 7009), an unknown token is not an error:
    /// the caller's goal, a token that no longer works, holds either way.
    pub fn revoke(&self, request: &RevokeTokenRequest) -> Result<(), IdpError> {
        if request.client_id != self.client_id {
            return Err(IdpError::UnknownClient);
        }
        self.refresh_tokens
            .lock()
            .map_err(|_| IdpError::Internal("refresh token table poisoned".into()))?
            .remove(&request.token);
        Ok(())
    }

    /// Mints the token pair (and a refresh token on password sign-in).
    pub fn issue(
        &self,
        user: &DemoUser,
        sign_in: SignIn,
        extra_access_claims: Map<String, Value>,
        now: EpochSeconds,
    ) -> Result<Tokens, IdpError> {
        let exp = now.plus(self.token_ttl_seconds).get();
        let jti = random_token(16)?;
        let (origin_jti, with_refresh) = match sign_in {
            SignIn::New => (random_token(16)?, true),
            SignIn::Refreshed { origin_jti } => (origin_jti, false),
        };
        let mut access = json!({
            "sub": user.sub.as_str(),
            "cognito:groups": user.groups,
            "iss": self.issuer,
            "version": 2,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now.get(),
            "iat": now.get(),
            "exp": exp,
            "jti": jti,
            "origin_jti": origin_jti,
            "username": user.username,
        });
        if let Value::Object(map) = &mut access {
            map.extend(extra_access_claims);
        }
        let id = json!({
            "sub": user.sub.as_str(),
            "cognito:groups": user.groups,
            "iss": self.issuer,
            "aud": self.client_id,
            "token_use": "id",
            "auth_time": now.get(),
            "iat": now.get(),
            "exp": exp,
            "cognito:username": user.username,
        });
        let refresh = if with_refresh {
            let token = random_token(48)?;
            self.refresh_tokens
                .lock()
                .map_err(|_| IdpError::Internal("refresh token table poisoned".into()))?
                .insert(token.clone(), (user.username.clone(), origin_jti));
            Some(token)
        } else {
            None
        };
        Ok(Tokens {
            access: self.sign(&access)?,
            id: self.sign(&id)?,
            refresh,
            expires_in: self.token_ttl_seconds,
        })
    }

    fn sign(&self, claims: &Value) -> Result<String, IdpError> {
        let header = json!({ "kid": self.kid, "alg": "RS256" });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = (self.signer)(input.as_bytes()).map_err(IdpError::Internal)?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn random_token(bytes: usize) -> Result<String, IdpError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| IdpError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

// --- over HTTP, as Cognito serves it --------------------------------------

fn amz_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// `POST /idp/`: Cognito's JSON protocol names the operation in `X-Amz-Target`.
pub(crate) async fn dispatch(
    State(stack): State<Arc<Stack>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        Some("AWSCognitoIdentityProviderService.InitiateAuth") => {
            initiate_auth(&stack, &body).await
        }
        Some("AWSCognitoIdentityProviderService.RevokeToken") => revoke_token(&stack, &body),
        _ => amz_json(StatusCode::BAD_REQUEST, IdpError::UnknownOperation.body()),
    }
}

fn revoke_token(stack: &Stack, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<RevokeTokenRequest>(body) else {
        return amz_json(
            StatusCode::BAD_REQUEST,
            IdpError::InvalidParameter("malformed RevokeToken request").body(),
        );
    };
    match stack.idp.revoke(&request) {
        Ok(()) => amz_json(StatusCode::OK, json!({})),
        Err(e) => amz_json(StatusCode::BAD_REQUEST, e.body()),
    }
}

async fn initiate_auth(stack: &Stack, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<InitiateAuthRequest>(body) else {
        return amz_json(
            StatusCode::BAD_REQUEST,
            IdpError::InvalidParameter("malformed InitiateAuth request").body(),
        );
    };
    let (user, sign_in) = match stack.idp.authenticate(&request) {
        Ok(found) => found,
        Err(e) => return amz_json(StatusCode::BAD_REQUEST, e.body()),
    };
    match issue_with_claims(stack, &user, sign_in).await {
        Ok(tokens) => amz_json(StatusCode::OK, tokens.to_response()),
        Err(e) => amz_json(StatusCode::INTERNAL_SERVER_ERROR, e.body()),
    }
}

/// Tokens for `user` with the entitlement claims the pre-token-generation
/// trigger adds in AWS (password sign-in, refresh and the Hosted UI alike).
pub(crate) async fn issue_with_claims(
    stack: &Stack,
    user: &DemoUser,
    sign_in: SignIn,
) -> Result<Tokens, IdpError> {
    let mut claims = serde_json::Map::new();
    match stack.store.entitlements(&user.sub).await {
        Ok(all) => {
            let ent = reelgate_shared::entitlement::TokenEntitlements::select(
                &all,
                reelgate_shared::entitlement::DEFAULT_MAX_GRANTS,
                now(),
            );
            claims.insert(
                reelgate_shared::entitlement::CLAIM.into(),
                Value::String(ent.encode()),
            );
        }
        Err(e) => tracing::warn!(error = %e, "token issued without entitlement claims"),
    }
    stack.idp.issue(user, sign_in, claims, now())
}

pub(crate) async fn jwks(State(stack): State<Arc<Stack>>) -> Response {
    let mut response = stack.jwks.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
