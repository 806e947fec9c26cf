//! Bearer-token authentication for the API. The router verifies Cognito
//! access tokens itself with `shared::jwt`, so it is safe with or without
//! API Gateway's JWT authorizer in front, and never trusts a header a
//! client could forge. Verified tokens are cached with moka until they
//! expire; the JWKS is refetched on an unknown kid within the penalty box.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use moka::Expiry;
use moka::future::Cache;
use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::native::NativeCrypto;
use reelgate_shared::jwt::{
    Claims, Jwks, RefetchGate, TokenError, Verifier, VerifierConfig, bearer_token,
};

use crate::problem::Problem;

/// The HTTP client JWKS fetches use, built on the first fetch. Building it
/// loads the system's CA roots (a few ms, a second load beside the AWS
/// SDK's), which a cold start would otherwise pay before its first event
/// though the JWKS is only fetched for a token with an unknown kid.
#[cfg(feature = "aws")]
#[derive(Clone, Default)]
pub struct HttpClient(std::sync::OnceLock<reqwest::Client>);

#[cfg(feature = "aws")]
impl HttpClient {
    pub fn new() -> Self {
        Self::default()
    }

    /// The client, built now if this is the first use. A client that cannot
    /// be built (no usable TLS roots) fails this fetch, logged; the next
    /// fetch tries again.
    fn get(&self) -> Option<&reqwest::Client> {
        if let Some(client) = self.0.get() {
            return Some(client);
        }
        match reqwest::Client::builder().build() {
            Ok(client) => Some(self.0.get_or_init(|| client)),
            Err(error) => {
                tracing::warn!(%error, "cannot build the JWKS HTTP client");
                None
            }
        }
    }
}

/// Where a JWKS comes from: HTTP in AWS; the local stack hands its own over.
#[derive(Clone)]
pub enum JwksSource {
    #[cfg(feature = "aws")]
    Http {
        url: String,
        client: HttpClient,
    },
    Fixed,
}

pub struct Authenticator {
    verifier: RwLock<Verifier>,
    // Only an HTTP source refetches.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    gate: Mutex<RefetchGate>,
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    source: JwksSource,
    crypto: NativeCrypto,
    tokens: Cache<String, Arc<Claims>>,
}

struct UntilTokenExpiry;

impl Expiry<String, Arc<Claims>> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _: &String,
        claims: &Arc<Claims>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(Duration::from_secs(
            claims.expires_at.get().saturating_sub(now().get()),
        ))
    }
}

pub fn now() -> EpochSeconds {
    EpochSeconds::new(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn unauthorized(error: &TokenError) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, error.reason(), error.to_string())
}

impl Authenticator {
    pub fn new(config: VerifierConfig, jwks: Jwks, source: JwksSource) -> Self {
        Self {
            verifier: RwLock::new(Verifier::new(config, jwks)),
            gate: Mutex::new(RefetchGate::default()),
            source,
            crypto: NativeCrypto::verify_only(),
            tokens: Cache::builder()
                .max_capacity(10_000)
                .expire_after(UntilTokenExpiry)
                .build(),
        }
    }

    fn verify_now(&self, token: &str) -> Result<Claims, TokenError> {
        let verifier = self.verifier.read().unwrap_or_else(|p| p.into_inner());
        verifier.verify(token, now(), &self.crypto)
    }

    /// Refetches the JWKS (within the penalty box); whether it got one.
    #[cfg(feature = "aws")]
    async fn refetch(&self) -> bool {
        let JwksSource::Http { url, client } = &self.source else {
            return false;
        };
        let allowed = self
            .gate
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .try_acquire(now());
        if !allowed {
            return false;
        }
        let fetched = async {
            let response = client
                .get()?
                .get(url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()?;
            Jwks::parse(&response.error_for_status().ok()?.text().await.ok()?).ok()
        }
        .await;
        match fetched {
            Some(jwks) => {
                self.verifier
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .replace_jwks(jwks);
                true
            }
            None => {
                tracing::warn!(url, "JWKS refetch failed");
                false
            }
        }
    }

    /// A fixed JWKS is never refetched.
    #[cfg(not(feature = "aws"))]
    async fn refetch(&self) -> bool {
        false
    }

    /// The verified claims of the request's bearer token.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Claims>, Problem> {
        let value = headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or_default());
        let token = bearer_token(value).map_err(|e| unauthorized(&e))?;
        if let Some(claims) = self.tokens.get(token).await {
            return Ok(claims);
        }
        let claims = match self.verify_now(token) {
            Err(TokenError::UnknownKid(_)) if self.refetch().await => self.verify_now(token),
            other => other,
        }
        .map_err(|e| unauthorized(&e))?;
        let claims = Arc::new(claims);
        self.tokens.insert(token.to_owned(), claims.clone()).await;
        Ok(claims)
    }
}
