//! What a handler needs from a request, stated in its signature: a verified
//! caller, an admin, a validated title or user id, a query. Each extractor
//! turns bad input into a problem document with a stable reason (never
//! axum's plain-text rejections), so every route fails the same way.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::StatusCode;
use axum::http::request::Parts;
use reelgate_shared::jwt::Claims;
use reelgate_shared::{UserSub, VideoId};

use crate::problem::Problem;
use crate::routes::App;

/// The verified caller of a route that needs a Bearer token.
pub struct Caller(pub Arc<Claims>);

impl<S: Send + Sync> FromRequestParts<Arc<App<S>>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(app.auth.authenticate(&parts.headers).await?))
    }
}

/// A verified caller in the configured admin group. A valid token without
/// the group is 403, never 500 or 404.
pub struct Admin(pub Arc<Claims>);

impl<S: Send + Sync> FromRequestParts<Arc<App<S>>> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let Caller(claims) = Caller::from_request_parts(parts, app).await?;
        if claims.in_group(&app.config.admin_group) {
            Ok(Self(claims))
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("requires group {}", app.config.admin_group),
            ))
        }
    }
}

/// The route's path parameters by name, percent-decoded as UTF-8.
async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<HashMap<String, String>, Problem> {
    Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map(|Path(params)| params)
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                "the path is not valid percent-encoded UTF-8",
            )
        })
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Problem> {
    params.get(name).map(String::as_str).ok_or_else(|| {
        // A route without the parameter its handler names is a wiring bug.
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "route_misconfigured",
            "the route has no such path parameter",
        )
    })
}

fn video(params: &HashMap<String, String>) -> Result<VideoId, Problem> {
    VideoId::parse(param(params, "id")?)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_video_id", e.to_string()))
}

fn user(params: &HashMap<String, String>) -> Result<UserSub, Problem> {
    UserSub::parse(param(params, "sub")?)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_user", e.to_string()))
}

/// `{id}`: a title id, validated (it ends up in a policy `Resource`).
pub struct TitlePath(pub VideoId);

impl<S: Send + Sync> FromRequestParts<S> for TitlePath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(video(&path_params(parts, state).await?)?))
    }
}

/// `{sub}`: a user id, validated.
pub struct UserPath(pub UserSub);

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(user(&path_params(parts, state).await?)?))
    }
}

/// `{sub}` and `{id}`: a user and one of their titles.
pub struct UserTitlePath(pub UserSub, pub VideoId);

impl<S: Send + Sync> FromRequestParts<S> for UserTitlePath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = path_params(parts, state).await?;
        Ok(Self(user(&params)?, video(&params)?))
    }
}

/// The query string as single-valued parameters. A repeated or undecodable
/// parameter is refused: two `path`s would leave the signed object
/// ambiguous, and a proxy might read the other one.
pub struct SingleQuery(pub HashMap<String, String>);

impl SingleQuery {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SingleQuery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        let mut params = HashMap::new();
        for pair in raw.as_deref().unwrap_or_default().split('&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name)?, decode(value)?);
            if params.insert(name, value).is_some() {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    "a query parameter is repeated",
                ));
            }
        }
        Ok(Self(params))
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space); the
/// result must be UTF-8. A `%` not followed by two hex digits stays as it
/// is, as the WHATWG URL standard decodes it.
fn decode(raw: &str) -> Result<String, Problem> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "the query is not valid percent-encoded UTF-8",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_follows_the_urlencoded_rules() {
        assert_eq!(decode("a+b%2Fc").unwrap(), "a b/c");
        assert_eq!(decode("master.m3u8").unwrap(), "master.m3u8");
        assert_eq!(decode("%e2%82%ac").unwrap(), "€");
        assert_eq!(decode("100%zz").unwrap(), "100%zz");
    }

    #[test]
    fn percent_encoded_non_utf8_is_refused() {
        for raw in ["%FF", "%C3", "a%80b"] {
            assert_eq!(decode(raw).unwrap_err().reason, "invalid_query", "{raw}");
        }
    }
}
