//! The dev identity provider's Hosted UI: Cognito's authorization-code flow
//! with PKCE, so the production sign-in path of a viewer app (redirect to
//! the pool's domain, come back with a code, exchange it) runs against the
//! local stack. Endpoints under `/idp`, as under a Cognito domain:
//!
//! - `GET /oauth2/authorize` — checks the request and shows a sign-in form;
//! - `POST /login` — the form; on success a redirect to `<redirect_uri>?code=…&state=…`;
//! - `POST /oauth2/token` — `authorization_code` (with `code_verifier`) and
//!   `refresh_token` grants;
//! - `POST /oauth2/revoke` — forgets a refresh token.
//!
//! As Cognito does: a `redirect_uri` must be one of the app client's callback
//! URLs exactly (here the stack's own `/` and each `--cors-origin` + `/`);
//! codes live 5 minutes and work once; the token request must repeat the
//! authorize request's `redirect_uri` and `client_id`. Stricter than Cognito,
//! which lets public clients skip PKCE: a `S256` code challenge is required,
//! so a client that silently drops PKCE fails here first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reelgate_shared::EpochSeconds;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::idp::{self, IdpError, InitiateAuthRequest, RevokeTokenRequest};
use crate::stack::{Stack, now};
use crate::users::DemoUser;

/// Cognito's authorization codes are valid for 5 minutes.
const CODE_TTL_SECONDS: u64 = 300;
/// How long the sign-in form of one authorize request stays usable.
const FORM_TTL_SECONDS: u64 = 900;

/// The token endpoint's errors (RFC 6749 §5.2, as Cognito names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request")]
    InvalidRequest,
    #[error("invalid_client")]
    InvalidClient,
    /// An unknown, used, expired or mismatched code, a wrong verifier, or a
    /// refused refresh token.
    #[error("invalid_grant")]
    InvalidGrant,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
}

/// What `GET /oauth2/authorize` carries (`scope` is accepted and ignored:
/// the dev IdP's tokens always carry the same claims).
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// An authorize request that passed the checks, waiting for the sign-in form.
#[derive(Debug, Clone)]
struct Pending {
    redirect_uri: String,
    state: Option<String>,
    challenge: String,
    expires: EpochSeconds,
}

/// An issued code, redeemable once.
#[derive(Debug, Clone)]
struct Code {
    username: String,
    redirect_uri: String,
    challenge: String,
    expires: EpochSeconds,
}

/// Why an authorize request is refused: before the redirect URI is known to
/// be registered the answer is an error page (redirecting there would make
/// the IdP an open redirector); after, a redirect with `error=`.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    Page(&'static str),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
    },
}

pub struct HostedUi {
    client_id: String,
    callbacks: Vec<String>,
    pending: Mutex<HashMap<String, Pending>>,
    codes: Mutex<HashMap<String, Code>>,
}

/// `base64url(SHA-256(verifier))`, RFC 7636 §4.2.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn random_id() -> Result<String, OAuthError> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|_| OAuthError::InvalidRequest)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

impl HostedUi {
    /// `callbacks`: the app client's callback URLs, compared exactly.
    pub fn new(client_id: String, callbacks: Vec<String>) -> Self {
        Self {
            client_id,
            callbacks,
            pending: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// Checks an authorize request; returns the id the sign-in form carries.
    pub fn authorize(
        &self,
        request: &AuthorizeRequest,
        now: EpochSeconds,
    ) -> Result<String, AuthorizeRefusal> {
        if request.client_id.as_deref() != Some(self.client_id.as_str()) {
            return Err(AuthorizeRefusal::Page("unknown client_id"));
        }
        let Some(redirect_uri) = request
            .redirect_uri
            .as_ref()
            .filter(|uri| self.callbacks.contains(uri))
        else {
            return Err(AuthorizeRefusal::Page(
                "redirect_mismatch: redirect_uri is not a callback URL of this app client",
            ));
        };
        let refuse = |error| AuthorizeRefusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: request.state.clone(),
            error,
        };
        if request.response_type.as_deref() != Some("code") {
            return Err(refuse("unsupported_response_type"));
        }
        let challenge = match (&request.code_challenge, &request.code_challenge_method) {
            (Some(challenge), Some(method))
                if method == "S256"
                    && challenge.len() == 43
                    && URL_SAFE_NO_PAD.decode(challenge).is_ok() =>
            {
                challenge.clone()
            }
            _ => return Err(refuse("invalid_request")),
        };
        let id = random_id().map_err(|_| refuse("server_error"))?;
        let mut pending = self.pending.lock().map_err(|_| refuse("server_error"))?;
        pending.retain(|_, p| p.expires > now);
        pending.insert(
            id.clone(),
            Pending {
                redirect_uri: redirect_uri.clone(),
                state: request.state.clone(),
                challenge,
                expires: now.plus(FORM_TTL_SECONDS),
            },
        );
        Ok(id)
    }

    /// The signed-in user of a form: a code and where to send it, or `None`
    /// when the form's request is unknown or expired.
    fn issue_code(
        &self,
        request_id: &str,
        user: &DemoUser,
        now: EpochSeconds,
    ) -> Result<Option<(String, Pending)>, OAuthError> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| OAuthError::InvalidRequest)?
            .remove(request_id)
            .filter(|p| p.expires > now);
        let Some(pending) = pending else {
            return Ok(None);
        };
        let code = random_id()?;
        let mut codes = self.codes.lock().map_err(|_| OAuthError::InvalidRequest)?;
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            Code {
                username: user.username.clone(),
                redirect_uri: pending.redirect_uri.clone(),
                challenge: pending.challenge.clone(),
                expires: now.plus(CODE_TTL_SECONDS),
            },
        );
        Ok(Some((code, pending)))
    }

    /// Redeems a code: the username it was issued to. The code is gone after
    /// the first attempt, right or wrong (a guessed verifier gets one try).
    pub fn redeem(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        now: EpochSeconds,
    ) -> Result<String, OAuthError> {
        if client_id != self.client_id {
            return Err(OAuthError::InvalidClient);
        }
        let code = self
            .codes
            .lock()
            .map_err(|_| OAuthError::InvalidRequest)?
            .remove(code)
            .ok_or(OAuthError::InvalidGrant)?;
        if code.expires <= now
            || code.redirect_uri != redirect_uri
            || !valid_verifier(verifier)
            || s256(verifier) != code.challenge
        {
            return Err(OAuthError::InvalidGrant);
        }
        Ok(code.username)
    }
}

// --- over HTTP --------------------------------------------------------------

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn oauth_error(error: OAuthError) -> Response {
    let status = match error {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    no_store((status, axum::Json(json!({ "error": error.to_string() }))).into_response())
}

fn error_page(status: StatusCode, message: &str) -> Response {
    // `message` is one of this module's constant strings, never input.
    (
        status,
        Html(format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Sign-in error</title><p>{message}</p>"
        )),
    )
        .into_response()
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut url = match reqwest::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "the callback URL is not a URL"),
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    no_store(Redirect::to(url.as_str()).into_response())
}

fn sign_in_form(request_id: &str, message: Option<&str>) -> Response {
    // `request_id` is base64url from `random_id`; `message` a constant. The
    // action is absolute: the form is shown at /idp/oauth2/authorize and,
    // after a wrong password, at /idp/login.
    let message = message.map_or(String::new(), |m| format!("<p role=\"alert\">{m}</p>"));
    no_store(
        Html(format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Sign in (reelgate dev Hosted UI)</title>\
<h1>Sign in</h1>{message}<form method=\"post\" action=\"/idp/login\">\
<input type=\"hidden\" name=\"request\" value=\"{request_id}\">\
<label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Sign in</button></form>"
        ))
        .into_response(),
    )
}

/// `GET /idp/oauth2/authorize`.
pub(crate) async fn authorize(
    State(stack): State<Arc<Stack>>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    match stack.hosted_ui.authorize(&request, now()) {
        Ok(id) => sign_in_form(&id, None),
        Err(AuthorizeRefusal::Page(message)) => error_page(StatusCode::BAD_REQUEST, message),
        Err(AuthorizeRefusal::Redirect {
            redirect_uri,
            state,
            error,
        }) => redirect_with(&redirect_uri, &[("error", error)], state.as_deref()),
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    request: String,
    username: String,
    password: String,
}

/// `POST /idp/login`: the sign-in form.
pub(crate) async fn login(
    State(stack): State<Arc<Stack>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(user) = stack.idp.user_with_password(&form.username, &form.password) else {
        // The form's request stays pending: the viewer may try again.
        let known = stack
            .hosted_ui
            .pending
            .lock()
            .is_ok_and(|p| p.contains_key(&form.request));
        return if known && URL_SAFE_NO_PAD.decode(&form.request).is_ok() {
            sign_in_form(&form.request, Some("Incorrect username or password."))
        } else {
            error_page(
                StatusCode::BAD_REQUEST,
                "this sign-in has expired: start again",
            )
        };
    };
    match stack.hosted_ui.issue_code(&form.request, &user, now()) {
        Ok(Some((code, pending))) => redirect_with(
            &pending.redirect_uri,
            &[("code", code.as_str())],
            pending.state.as_deref(),
        ),
        Ok(None) => error_page(
            StatusCode::BAD_REQUEST,
            "this sign-in has expired: start again",
        ),
        Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "the sign-in failed"),
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

/// `POST /idp/oauth2/token`.
pub(crate) async fn token(
    State(stack): State<Arc<Stack>>,
    Form(form): Form<TokenForm>,
) -> Response {
    let Some(client_id) = form.client_id.as_deref() else {
        return oauth_error(OAuthError::InvalidRequest);
    };
    let (user, sign_in) = match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri), Some(verifier)) = (
                form.code.as_deref(),
                form.redirect_uri.as_deref(),
                form.code_verifier.as_deref(),
            ) else {
                return oauth_error(OAuthError::InvalidRequest);
            };
            let username =
                match stack
                    .hosted_ui
                    .redeem(client_id, code, redirect_uri, verifier, now())
                {
                    Ok(username) => username,
                    Err(e) => return oauth_error(e),
                };
            match stack.idp.user(&username) {
                Some(user) => (user, idp::SignIn::New),
                None => return oauth_error(OAuthError::InvalidGrant),
            }
        }
        Some("refresh_token") => {
            let Some(refresh) = &form.refresh_token else {
                return oauth_error(OAuthError::InvalidRequest);
            };
            let request = InitiateAuthRequest {
                auth_flow: "REFRESH_TOKEN_AUTH".into(),
                client_id: client_id.to_owned(),
                auth_parameters: HashMap::from([("REFRESH_TOKEN".into(), refresh.clone())]),
            };
            match stack.idp.authenticate(&request) {
                Ok(found) => found,
                Err(IdpError::UnknownClient) => return oauth_error(OAuthError::InvalidClient),
                Err(_) => return oauth_error(OAuthError::InvalidGrant),
            }
        }
        Some(_) => return oauth_error(OAuthError::UnsupportedGrantType),
        None => return oauth_error(OAuthError::InvalidRequest),
    };
    match idp::issue_with_claims(&stack, &user, sign_in).await {
        Ok(tokens) => {
            let mut body = json!({
                "access_token": tokens.access,
                "id_token": tokens.id,
                "token_type": "Bearer",
                "expires_in": tokens.expires_in,
            });
            if let Some(refresh) = tokens.refresh {
                body["refresh_token"] = json!(refresh);
            }
            no_store(axum::Json(body).into_response())
        }
        Err(_) => no_store(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "server_error"})),
            )
                .into_response(),
        ),
    }
}

#[derive(Deserialize)]
pub(crate) struct RevokeForm {
    token: Option<String>,
    client_id: Option<String>,
}

/// `POST /idp/oauth2/revoke`: 200 with an empty body, known token or not.
pub(crate) async fn revoke(
    State(stack): State<Arc<Stack>>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let (Some(token), Some(client_id)) = (form.token, form.client_id) else {
        return oauth_error(OAuthError::InvalidRequest);
    };
    match stack.idp.revoke(&RevokeTokenRequest { token, client_id }) {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(IdpError::UnknownClient) => oauth_error(OAuthError::InvalidClient),
        Err(_) => oauth_error(OAuthError::InvalidRequest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::demo_users;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CALLBACK: &str = "http://127.0.0.1:8080/";
    const NOW: EpochSeconds = EpochSeconds::new(1_767_225_600);

    fn ui() -> HostedUi {
        HostedUi::new("client".into(), vec![CALLBACK.into()])
    }

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some("client".into()),
            redirect_uri: Some(CALLBACK.into()),
            state: Some("xyz".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
        }
    }

    fn code(ui: &HostedUi) -> String {
        let id = ui.authorize(&request(), NOW).unwrap();
        let (code, pending) = ui.issue_code(&id, &demo_users()[1], NOW).unwrap().unwrap();
        assert_eq!(pending.state.as_deref(), Some("xyz"));
        code
    }

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
    }

    #[test]
    fn a_code_with_its_verifier_yields_the_user_once() {
        let ui = ui();
        let code = code(&ui);
        assert_eq!(
            ui.redeem("client", &code, CALLBACK, VERIFIER, NOW.plus(10)),
            Ok("bob".into())
        );
        assert_eq!(
            ui.redeem("client", &code, CALLBACK, VERIFIER, NOW.plus(11)),
            Err(OAuthError::InvalidGrant)
        );
    }

    #[test]
    fn a_wrong_verifier_burns_the_code() {
        let ui = ui();
        let code = code(&ui);
        let other = "A".repeat(43);
        assert_eq!(
            ui.redeem("client", &code, CALLBACK, &other, NOW),
            Err(OAuthError::InvalidGrant)
        );
        assert_eq!(
            ui.redeem("client", &code, CALLBACK, VERIFIER, NOW),
            Err(OAuthError::InvalidGrant)
        );
    }

    #[test]
    fn the_token_request_must_repeat_redirect_uri_and_client_exactly() {
        let ui = ui();
        let first = code(&ui);
        assert_eq!(
            ui.redeem("client", &first, "http://127.0.0.1:8080", VERIFIER, NOW),
            Err(OAuthError::InvalidGrant)
        );
        let second = code(&ui);
        assert_eq!(
            ui.redeem("other", &second, CALLBACK, VERIFIER, NOW),
            Err(OAuthError::InvalidClient)
        );
    }

    #[test]
    fn codes_expire_after_five_minutes() {
        let ui = ui();
        let code = code(&ui);
        assert_eq!(
            ui.redeem("client", &code, CALLBACK, VERIFIER, NOW.plus(300)),
            Err(OAuthError::InvalidGrant)
        );
    }

    #[test]
    fn unregistered_callbacks_get_a_page_never_a_redirect() {
        let ui = ui();
        for uri in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/?x=1",
            "https://evil.example/",
        ] {
            let refused = ui.authorize(
                &AuthorizeRequest {
                    redirect_uri: Some(uri.into()),
                    ..request()
                },
                NOW,
            );
            assert!(matches!(refused, Err(AuthorizeRefusal::Page(_))), "{uri}");
        }
        let wrong_client = AuthorizeRequest {
            client_id: Some("other".into()),
            ..request()
        };
        assert!(matches!(
            ui.authorize(&wrong_client, NOW),
            Err(AuthorizeRefusal::Page(_))
        ));
    }

    #[test]
    fn pkce_is_required_and_only_s256() {
        let ui = ui();
        for (challenge, method) in [
            (None, None),
            (Some(CHALLENGE), Some("plain")),
            (Some(CHALLENGE), None),
            (Some("short"), Some("S256")),
        ] {
            let refused = ui.authorize(
                &AuthorizeRequest {
                    code_challenge: challenge.map(Into::into),
                    code_challenge_method: method.map(Into::into),
                    ..request()
                },
                NOW,
            );
            assert_eq!(
                refused,
                Err(AuthorizeRefusal::Redirect {
                    redirect_uri: CALLBACK.into(),
                    state: Some("xyz".into()),
                    error: "invalid_request"
                }),
                "{challenge:?} {method:?}"
            );
        }
    }

    #[test]
    fn a_form_works_once() {
        let ui = ui();
        let id = ui.authorize(&request(), NOW).unwrap();
        assert!(ui.issue_code(&id, &demo_users()[1], NOW).unwrap().is_some());
        assert!(ui.issue_code(&id, &demo_users()[1], NOW).unwrap().is_none());
    }
}
