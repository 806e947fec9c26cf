//! DNS-rebinding guard. A web page on `evil.example` can make its name
//! resolve to 127.0.0.1 and then talk to this stack from the viewer's own
//! browser, same-origin as far as the browser knows: read `/dev/config`,
//! call `/dev/pay` (which writes to a real table under
//! `--dynamodb-endpoint`). What the rebinding cannot change is the `Host`
//! header, which still names the attacker's domain, so every request whose
//! `Host` is not this stack's own loopback address is refused with 403.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use reelgate_api::problem::Problem;

/// The `Host` values this stack answers to on `port`.
fn allowed(host: &str, port: u16) -> bool {
    host.strip_suffix(&format!(":{port}"))
        .is_some_and(|name| name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// Axum middleware (`axum::middleware::from_fn_with_state(port, …)`).
pub async fn require_loopback_host(
    State(port): State<u16>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    if host.is_some_and(|host| allowed(host, port)) {
        next.run(request).await
    } else {
        Problem::new(
            StatusCode::FORBIDDEN,
            "host_not_allowed",
            format!("the local stack answers only to Host 127.0.0.1:{port} or localhost:{port}"),
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;

    use super::*;

    /// A real server on a free loopback port with the guard in front of one
    /// route, and the port it listens on.
    async fn serve() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new()
            .route("/dev/config", get(|| async { "config" }))
            .layer(from_fn_with_state(port, require_loopback_host));
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    async fn get_with_host(port: u16, host: &str) -> (u16, String, String) {
        let response = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/dev/config"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, kind, response.text().await.unwrap())
    }

    #[tokio::test]
    async fn the_stack_s_own_loopback_names_are_served() {
        let port = serve().await;
        for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
            assert_eq!(get_with_host(port, &host).await.0, 200, "{host}");
        }
    }

    #[tokio::test]
    async fn a_rebound_domain_is_refused_with_a_problem() {
        let port = serve().await;
        for host in [
            format!("evil.example:{port}"),
            "evil.example".to_owned(),
            format!("127.0.0.1.evil.example:{port}"),
            "127.0.0.1".to_owned(),
            format!("localhost:{}", port.wrapping_add(1)),
        ] {
            let (status, kind, body) = get_with_host(port, &host).await;
            assert_eq!(status, 403, "{host}");
            assert_eq!(kind, "application/problem+json", "{host}");
            assert!(body.contains("host_not_allowed"), "{body}");
        }
    }
}
