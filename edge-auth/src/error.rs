//! Every way the edge refuses a request. The HTTP status and the stable
//! `reason` (ARCHITECTURE §6: the `{"error": reason}` body and the log line)
//! are derived here, once, from the variant.

use reelgate_shared::entitlement::Denial;
use reelgate_shared::jwt::TokenError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeError {
    #[error("no such edge operation")]
    NotFound,
    #[error("the video id is not [A-Za-z0-9][A-Za-z0-9_-]{{0,63}}")]
    InvalidVideoId,
    #[error("only GET, DELETE and OPTIONS")]
    MethodNotAllowed,
    #[error("the Origin is not among the configured CORS origins")]
    CorsOriginNotAllowed,
    #[error("the Host header is not a hostname")]
    InvalidHost,
    #[error("the token is refused: {0}")]
    Token(TokenError),
    /// The shared decision's refusal: its status and reason are
    /// `Denial::status` and `Denial::reason` (`not_entitled`,
    /// `not_in_tier`, `not_available`, 404 `title_not_found`).
    #[error("the viewer may not watch the title: {0}")]
    NotEntitled(Denial),
    #[error("the stream id is not [A-Za-z0-9_-]{{8,64}}")]
    InvalidStreamId,
    #[error("{active} devices already play on a plan of {limit}")]
    DeviceLimit { active: u16, limit: u16 },
    #[error("the token has no origin_jti to count its device by")]
    DeviceUnidentified,
    #[error("the device lease store failed")]
    DevicesUnavailable,
    #[error("cookies bound to the client IP need an IPv4 viewer")]
    IpBindingRequiresIpv4,
    #[error("the store failed and nothing is cached")]
    EntitlementUnavailable,
    #[error("the core asked for more fetches than a request needs")]
    FetchLoop,
    #[error("the cookie scope from the config is invalid")]
    CookieScopeInvalid,
    #[error("the policy cannot be built")]
    PolicyInvalid,
    #[error("no signing key is available")]
    SigningUnavailable,
    #[error("the host's message to the core does not parse")]
    MalformedRequest,
    #[error("the core was called before its config was loaded")]
    NotInitialized,
    #[error("the host resumed a request the core no longer holds")]
    ExchangeLost,
    #[error("the local stack's edge bundle answered with something that is not a response")]
    BundleFailed,
    #[error("the local stack's edge bundle is not reachable")]
    BundleUnreachable,
}

impl EdgeError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotEntitled(denial) => denial.status(),
            Self::InvalidVideoId
            | Self::InvalidStreamId
            | Self::InvalidHost
            | Self::MalformedRequest => 400,
            Self::Token(_) => 401,
            Self::CorsOriginNotAllowed
            | Self::DeviceLimit { .. }
            | Self::DeviceUnidentified
            | Self::IpBindingRequiresIpv4 => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::EntitlementUnavailable
            | Self::DevicesUnavailable
            | Self::FetchLoop
            | Self::CookieScopeInvalid
            | Self::PolicyInvalid
            | Self::SigningUnavailable
            | Self::NotInitialized
            | Self::ExchangeLost
            | Self::BundleFailed
            | Self::BundleUnreachable => 503,
        }
    }

    /// Stable and machine-readable: part of the edge contract.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::InvalidVideoId => "invalid_video_id",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::CorsOriginNotAllowed => "cors_origin_not_allowed",
            Self::InvalidHost => "invalid_host",
            Self::Token(error) => error.reason(),
            Self::NotEntitled(denial) => denial.reason(),
            Self::InvalidStreamId => "invalid_stream_id",
            Self::DeviceLimit { .. } => "device_limit",
            Self::DeviceUnidentified => "device_unidentified",
            Self::DevicesUnavailable => "devices_unavailable",
            Self::IpBindingRequiresIpv4 => "ip_binding_requires_ipv4",
            Self::EntitlementUnavailable => "entitlement_unavailable",
            Self::FetchLoop => "io_loop",
            Self::CookieScopeInvalid => "cookie_scope_invalid",
            Self::PolicyInvalid => "policy_invalid",
            Self::SigningUnavailable => "signing_unavailable",
            Self::MalformedRequest => "malformed_request",
            Self::NotInitialized => "edge_not_initialized",
            Self::ExchangeLost => "exchange_lost",
            Self::BundleFailed => "edge_bundle_failed",
            Self::BundleUnreachable => "edge_bundle_unreachable",
        }
    }
}

impl From<TokenError> for EdgeError {
    fn from(error: TokenError) -> Self {
        Self::Token(error)
    }
}
