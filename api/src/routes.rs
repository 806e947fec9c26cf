//! The API's routes (ARCHITECTURE §8). Every failure is a problem document
//! with a stable reason; bad input is a 4xx, never a 500.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use reelgate_shared::cloudfront::{Policy, sign_url};
use reelgate_shared::config::{ApiConfig, UrlPolicy};
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::devices::DeviceLimit;
use reelgate_shared::entitlement::{
    Decision, Denial, Entitled, Grant, GrantSource, PaymentEvent, Plan, Rules, StoreReason,
    UserEntitlements,
};
use reelgate_shared::jwt::Claims;
use reelgate_shared::store::{CatalogueStore, Consistency, EntitlementStore};
use reelgate_shared::{EpochSeconds, UserSub, VideoId};
use serde::{Deserialize, Serialize};

use crate::auth::{Authenticator, now};
use crate::extract::{Admin, Caller, SingleQuery, TitlePath, UserPath, UserTitlePath};
use crate::problem::Problem;
use crate::webhook;

/// Webhook bodies are a few hundred bytes; 64 KB leaves room and bounds work.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything the routes share. Generic over the store so the local stack
/// runs the same router on its in-memory store.
pub struct App<S> {
    pub store: S,
    pub auth: Authenticator,
    pub config: ApiConfig,
    pub webhook_secret: Vec<u8>,
    /// Stripe's endpoint signing secret (`whsec_…`); `None`: the Stripe
    /// route answers 503 `stripe_unconfigured`.
    pub stripe_webhook_secret: Option<Vec<u8>>,
    pub signing_key: SigningKey,
}

pub fn router<S: EntitlementStore + CatalogueStore + 'static>(app: Arc<App<S>>) -> Router {
    use crate::catalogue::{create_title, delete_title, list_titles, replace_title};
    Router::new()
        .route("/api/titles", get(list_titles::<S>))
        .route("/api/admin/titles", post(create_title::<S>))
        .route(
            "/api/admin/titles/{id}",
            put(replace_title::<S>).delete(delete_title::<S>),
        )
        .route("/api/webhooks/payments", post(payment_webhook::<S>))
        .route(
            "/api/webhooks/stripe",
            post(crate::stripe::stripe_webhook::<S>),
        )
        .route("/api/me/entitlements", get(my_entitlements::<S>))
        .route("/api/videos/{id}/signed-url", get(signed_url::<S>))
        .route("/api/admin/users/{sub}", get(admin_user::<S>))
        .route(
            "/api/admin/users/{sub}/plan",
            put(admin_put_plan::<S>).delete(admin_delete_plan::<S>),
        )
        .route(
            "/api/admin/users/{sub}/videos/{id}",
            put(admin_put_grant::<S>).delete(admin_delete_grant::<S>),
        )
        // The API owns `/api/*` only, not a global fallback, so a host can
        // merge this router beside its own routes (the local stack does).
        .route(
            "/api/{*rest}",
            any(|| async { Problem::new(StatusCode::NOT_FOUND, "not_found", "no such API route") }),
        )
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .with_state(app)
}

fn bad_request(reason: &'static str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, reason, detail)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a JSON body under the size limit: 415 if it is not JSON, 413 if too large.
pub(crate) async fn json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Problem> {
    if !is_json(headers) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        })
}

#[derive(Serialize)]
struct Applied {
    status: &'static str,
    event_id: String,
}

async fn payment_webhook<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let body = json_body(&headers, body).await?;
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = now();
    webhook::verify(signature, &body, &app.webhook_secret, now)
        .map_err(|e| Problem::new(StatusCode::UNAUTHORIZED, e.reason(), e.to_string()))?;
    let event = PaymentEvent::parse(&body).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            e.to_string(),
        )
    })?;
    let outcome = app.store.apply_payment(&event, now).await?;
    tracing::info!(event_id = %event.event_id, kind = event.kind.type_name(), outcome = outcome.as_str(), "payment event");
    Ok(axum::Json(Applied {
        status: outcome.as_str(),
        event_id: event.event_id.to_string(),
    })
    .into_response())
}

#[derive(Serialize)]
struct GrantView {
    video_id: VideoId,
    source: &'static str,
    active: bool,
    granted_at: EpochSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<EpochSeconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<EpochSeconds>,
}

#[derive(Serialize)]
struct PlanView {
    tier: String,
    premium_until: EpochSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_devices: Option<DeviceLimit>,
    active: bool,
}

#[derive(Serialize)]
struct EntitlementsView {
    user: UserSub,
    premium: bool,
    plan: Option<PlanView>,
    grants: Vec<GrantView>,
}

/// `premium`: whether the viewer watches every title (`Rules::premium`).
fn entitlements_view(
    user: UserSub,
    all: UserEntitlements,
    premium: bool,
    now: EpochSeconds,
) -> EntitlementsView {
    EntitlementsView {
        user,
        premium,
        plan: all.plan.map(|p| PlanView {
            active: p.is_active(now),
            tier: p.tier,
            premium_until: p.premium_until,
            max_devices: p.max_devices,
        }),
        grants: all
            .grants
            .into_iter()
            .map(|g| GrantView {
                active: g.is_active(now),
                source: g.source.name(),
                expires_at: g.expires_at(),
                video_id: g.video,
                granted_at: g.granted_at,
                revoked_at: g.revoked_at,
            })
            .collect(),
    }
}

impl<S> App<S> {
    /// The entitlement rules as the API applies them: the claims may say
    /// yes, never no, because the API reads the table's home region
    /// strongly, so a store read is exact and cheap here.
    fn entitlement_rules(&self) -> Rules<'_> {
        Rules {
            premium_groups: &self.config.premium_groups,
            claims_may_deny_for: 0,
            catalogue: self.config.catalogue,
        }
    }
}

async fn my_entitlements<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Caller(claims): Caller,
) -> Result<Response, Problem> {
    let all = app.store.entitlements(&claims.sub).await?;
    let now = now();
    let premium = app
        .entitlement_rules()
        .premium(Some(&claims), all.plan.as_ref(), now)
        .is_some();
    let view = entitlements_view(claims.sub.clone(), all, premium, now);
    Ok(no_store(axum::Json(view).into_response()))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// An object path inside a title: segments of `A-Z a-z 0-9 . _ -` that do
/// not start with a dot, so nothing can climb out of `/videos/<id>/`.
fn object_path(raw: Option<&str>) -> Result<&str, Problem> {
    let path = raw.unwrap_or("master.m3u8");
    let valid = !path.is_empty()
        && path.len() <= 256
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    if valid {
        Ok(path)
    } else {
        Err(bad_request(
            "invalid_path",
            "path must be segments of A-Z a-z 0-9 . _ - not starting with a dot",
        ))
    }
}

#[derive(Serialize)]
struct SignedUrl {
    url: String,
    expires_at: EpochSeconds,
}

/// The shared decision: claims first, then the store (strongly consistent:
/// the API runs in the table's home region), as the edge decides. With a
/// catalogue the title comes first, so the snapshot (which carries it) is
/// read up front: one read either way.
async fn decide<S: EntitlementStore>(
    app: &App<S>,
    claims: &Claims,
    video: &VideoId,
    now: EpochSeconds,
) -> Result<Result<Entitled, Denial>, Problem> {
    let rules = app.entitlement_rules();
    let mut snapshot = None;
    if rules.catalogue {
        snapshot = Some(
            app.store
                .snapshot(&claims.sub, video, Consistency::Strong)
                .await?,
        );
    }
    let title = snapshot.as_ref().and_then(|s| s.title.as_ref());
    match rules.decide(claims, video, title, now) {
        Decision::Entitled(entitled) => Ok(Ok(entitled)),
        Decision::Denied(denial) => Ok(Err(denial)),
        Decision::NeedsStore(needs) => {
            if let StoreReason::MalformedClaim(error) = needs.reason() {
                tracing::warn!(user = %claims.sub, %error, "entitlement claim ignored; asking the store");
            }
            let snapshot = match snapshot {
                Some(snapshot) => snapshot,
                None => {
                    app.store
                        .snapshot(&claims.sub, video, Consistency::Strong)
                        .await?
                }
            };
            Ok(needs.decide(&snapshot))
        }
    }
}

async fn signed_url<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Caller(claims): Caller,
    TitlePath(video): TitlePath,
    query: SingleQuery,
) -> Result<Response, Problem> {
    let path = object_path(query.get("path"))?;
    let now = now();
    let entitled = decide(&app, &claims, &video, now)
        .await?
        .map_err(|denial| {
            let status = StatusCode::from_u16(denial.status()).unwrap_or(StatusCode::FORBIDDEN);
            Problem::new(status, denial.reason(), denial.to_string())
        })?;
    let mut expires_at = now.plus(app.config.signed_url_ttl_seconds);
    if let Some(until) = entitled.until {
        expires_at = expires_at.min(until);
    }
    let base = app.config.resource_base.as_deref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "signed_urls_unconfigured",
            "REELGATE_RESOURCE_BASE is not set yet",
        )
    })?;
    let title = format!("{base}{}{video}/", app.config.video_path_prefix);
    let url = format!("{title}{path}");
    let policy = match app.config.url_policy {
        UrlPolicy::Canned => Policy::canned(url.clone(), expires_at),
        UrlPolicy::Wildcard => Policy::custom(format!("{title}*"), expires_at).map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "policy_invalid",
                e.to_string(),
            )
        })?,
    };
    let signed = sign_url(
        &url,
        &policy,
        &app.config.key_pair_id,
        app.config.hash,
        &app.signing_key,
    )
    .map_err(|e| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "signing_unavailable",
            e.to_string(),
        )
    })?;
    Ok(no_store(
        axum::Json(SignedUrl {
            url: signed,
            expires_at,
        })
        .into_response(),
    ))
}

async fn admin_user<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Admin(_): Admin,
    UserPath(user): UserPath,
) -> Result<Response, Problem> {
    let all = app.store.entitlements(&user).await?;
    let now = now();
    // Another user's groups are not known here: premium by plan only.
    let premium = app
        .entitlement_rules()
        .premium(None, all.plan.as_ref(), now)
        .is_some();
    Ok(no_store(
        axum::Json(entitlements_view(user, all, premium, now)).into_response(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    premium_until: u64,
    tier: Option<String>,
    /// Concurrent devices (`shared::devices`), 1-20; absent: no limit.
    max_devices: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    expires_at: Option<u64>,
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()))
}

async fn admin_put_plan<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    UserPath(user): UserPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let body: PlanBody = parse(&json_body(&headers, body).await?)?;
    let tier = body.tier.unwrap_or_else(|| "premium".to_owned());
    if tier.is_empty()
        || tier.len() > 32
        || !tier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(bad_request(
            "invalid_body",
            "tier must be 1-32 of A-Z a-z 0-9 -",
        ));
    }
    let max_devices = body
        .max_devices
        .map(DeviceLimit::new)
        .transpose()
        .map_err(|e| bad_request("invalid_max_devices", e.to_string()))?;
    let plan = Plan {
        tier,
        premium_until: EpochSeconds::new(body.premium_until),
        max_devices,
    };
    app.store.put_plan(&user, Some(plan.clone())).await?;
    tracing::info!(admin = %claims.sub, user = %user, "plan set");
    Ok(axum::Json(PlanView {
        active: plan.is_active(now()),
        tier: plan.tier,
        premium_until: plan.premium_until,
        max_devices: plan.max_devices,
    })
    .into_response())
}

async fn admin_delete_plan<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    UserPath(user): UserPath,
) -> Result<StatusCode, Problem> {
    app.store.put_plan(&user, None).await?;
    tracing::info!(admin = %claims.sub, user = %user, "plan removed");
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_put_grant<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    UserTitlePath(user, video): UserTitlePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let body: GrantBody = parse(&json_body(&headers, body).await?)?;
    let now = now();
    let source = match body.expires_at {
        Some(at) if at <= now.get() => {
            return Err(bad_request(
                "invalid_body",
                "expires_at must be in the future",
            ));
        }
        Some(at) => GrantSource::Rental {
            expires_at: EpochSeconds::new(at),
        },
        None => GrantSource::Admin,
    };
    let grant = Grant {
        video,
        source,
        granted_at: now,
        purchase_id: None,
        revoked_at: None,
    };
    app.store.put_grant(&user, grant.clone()).await?;
    tracing::info!(admin = %claims.sub, user = %user, video = %grant.video, "grant set");
    Ok(axum::Json(GrantView {
        active: true,
        source: grant.source.name(),
        expires_at: grant.expires_at(),
        video_id: grant.video,
        granted_at: grant.granted_at,
        revoked_at: None,
    })
    .into_response())
}

async fn admin_delete_grant<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    Admin(claims): Admin,
    UserTitlePath(user, video): UserTitlePath,
) -> Result<StatusCode, Problem> {
    if app.store.delete_grant(&user, &video).await? {
        tracing::info!(admin = %claims.sub, user = %user, video = %video, "grant removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::new(
            StatusCode::NOT_FOUND,
            "grant_not_found",
            "the user does not hold this title",
        ))
    }
}
