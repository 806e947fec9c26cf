//! The catalogue routes (ARCHITECTURE §12): `GET /api/titles` for anyone
//! (cacheable by CloudFront for a short time), and the operator's
//! `POST /api/admin/titles`, `PUT|DELETE /api/admin/titles/{id}` for the
//! admin group. Every body is held to `Title::check`, the rule the store's
//! decoder applies too, so a title the API accepts is one the edge reads.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reelgate_shared::entitlement::Title;
use reelgate_shared::ids::Tier;
use reelgate_shared::store::{CatalogueStore, TitleWrite};
use reelgate_shared::{EpochSeconds, VideoId};
use serde::{Deserialize, Serialize};

use crate::extract::{Admin, TitlePath};
use crate::problem::Problem;
use crate::routes::{App, json_body};

/// How long CloudFront and browsers may reuse the list: an edit shows
/// within a minute, and a busy storefront costs one query a minute.
pub const TITLES_MAX_AGE_SECONDS: u32 = 60;

#[derive(Serialize)]
struct Titles {
    titles: Vec<Title>,
}

pub(crate) async fn list_titles<S: CatalogueStore>(
    State(app): State<Arc<App<S>>>,
) -> Result<Response, Problem> {
    let titles = app.store.titles().await?;
    let mut response = axum::Json(Titles { titles }).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={TITLES_MAX_AGE_SECONDS}"))
            .expect("a static header value"),
    );
    Ok(response)
}

/// A title as an operator writes it; `id` only on create (the path names
/// it on replace).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TitleBody {
    /// Read by [`body_id`]; allowed here so `deny_unknown_fields` takes it.
    #[serde(rename = "id")]
    _id: Option<serde::de::IgnoredAny>,
    name: String,
    #[serde(default)]
    free: bool,
    #[serde(default)]
    tiers: Vec<String>,
    price: Option<u64>,
    rental_price: Option<u64>,
    currency: Option<String>,
    available_from: Option<u64>,
    available_until: Option<u64>,
}

fn invalid(reason: &'static str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, reason, detail)
}

/// The body as a checked title for `video`: `invalid_body` when it is not
/// the JSON above, else the broken rule's own reason (`invalid_tier`, …).
fn title_from(bytes: &[u8], video: VideoId) -> Result<Title, Problem> {
    let body: TitleBody =
        serde_json::from_slice(bytes).map_err(|e| invalid("invalid_body", e.to_string()))?;
    let tiers = body
        .tiers
        .iter()
        .map(|tier| Tier::parse(tier))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("invalid_tier", e.to_string()))?;
    Title {
        id: video,
        name: body.name,
        free: body.free,
        tiers,
        price: body.price,
        rental_price: body.rental_price,
        currency: body.currency,
        available_from: body.available_from.map(EpochSeconds::new),
        available_until: body.available_until.map(EpochSeconds::new),
    }
    .check()
    .map_err(|e| invalid(e.reason(), e.to_string()))
}

/// The body's `id`, if it names one, read before the rest so a bad id is
/// named (`invalid_video_id`) on create and on replace alike.
fn body_id(bytes: &[u8]) -> Result<Option<VideoId>, Problem> {
    #[derive(Deserialize)]
    struct Id {
        id: Option<String>,
    }
    serde_json::from_slice::<Id>(bytes)
        .map_err(|e| invalid("invalid_body", e.to_string()))?
        .id
        .map(|id| VideoId::parse(&id).map_err(|e| invalid("invalid_video_id", e.to_string())))
        .transpose()
}

pub(crate) async fn create_title<S: CatalogueStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let bytes = json_body(&headers, body).await?;
    let video = body_id(&bytes)?.ok_or_else(|| invalid("invalid_body", "id is required"))?;
    let title = title_from(&bytes, video)?;
    if !app.store.put_title(&title, TitleWrite::Create).await? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "title_exists",
            "a title with this id is listed already; PUT /api/admin/titles/{id} replaces it",
        ));
    }
    tracing::info!(admin = %claims.sub, video = %title.id, "title created");
    Ok((StatusCode::CREATED, axum::Json(title)).into_response())
}

pub(crate) async fn replace_title<S: CatalogueStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    TitlePath(video): TitlePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let bytes = json_body(&headers, body).await?;
    if body_id(&bytes)?.is_some_and(|id| id != video) {
        return Err(invalid("invalid_body", "the body's id is not the path's"));
    }
    let title = title_from(&bytes, video)?;
    if !app.store.put_title(&title, TitleWrite::Replace).await? {
        return Err(not_found());
    }
    tracing::info!(admin = %claims.sub, video = %title.id, "title replaced");
    Ok(axum::Json(title).into_response())
}

pub(crate) async fn delete_title<S: CatalogueStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    TitlePath(video): TitlePath,
) -> Result<StatusCode, Problem> {
    if !app.store.delete_title(&video).await? {
        return Err(not_found());
    }
    tracing::info!(admin = %claims.sub, video = %video, "title deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "title_not_found",
        "the catalogue does not list this title",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(body: &str) -> &'static str {
        title_from(body.as_bytes(), VideoId::parse("demo").unwrap())
            .unwrap_err()
            .reason
    }

    #[test]
    fn each_bad_body_gets_its_own_reason() {
        assert_eq!(reason("{"), "invalid_body");
        assert_eq!(reason(r#"{"name":"x","extra":1}"#), "invalid_body");
        assert_eq!(reason(r#"{"name":"x","price":-1}"#), "invalid_body");
        assert_eq!(reason(r#"{"name":""}"#), "invalid_name");
        assert_eq!(reason(r#"{"name":"x","tiers":["a b"]}"#), "invalid_tier");
        assert_eq!(reason(r#"{"name":"x","tiers":["a","a"]}"#), "invalid_tier");
        assert_eq!(
            reason(r#"{"name":"x","price":0,"currency":"usd"}"#),
            "invalid_price"
        );
        assert_eq!(reason(r#"{"name":"x","price":5}"#), "invalid_currency");
        assert_eq!(
            reason(r#"{"name":"x","free":true,"price":5,"currency":"usd"}"#),
            "free_title_priced"
        );
        assert_eq!(
            reason(r#"{"name":"x","available_from":5,"available_until":5}"#),
            "invalid_window"
        );
        let body = br#"{"id":"a/b","name":"x"}"#;
        assert_eq!(body_id(body).unwrap_err().reason, "invalid_video_id");
        // A replace body may leave the id to its path.
        assert_eq!(body_id(br#"{"name":"x"}"#).unwrap(), None);
    }
}
