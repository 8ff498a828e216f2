//! `/metrics`: Prometheus text by route template; loopback without a key,
//! everyone else with one.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use common::Api;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

fn registry() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new().install_recorder().expect("one recorder per process")
        })
        .clone()
}

fn from(addr: [u8; 4], token: Option<&str>) -> Request<axum::body::Body> {
    let mut builder = Request::builder().method(Method::GET).uri("/metrics");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let mut request = builder.body(axum::body::Body::empty()).expect("request");
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from((addr, 9000))));
    request
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let api = Api::start_with_metrics(registry(), false).await;
    // Traffic to count: a templated route and an unknown one.
    api.call(Method::GET, "/v1/torrents/0123456789abcdef0123456789abcdef01234567", None).await;
    api.call(Method::GET, "/v9/what/ever", None).await;
    let local = api.raw(from([127, 0, 0, 1], None)).await;
    assert_eq!(local.status, 200, "loopback needs no key");
    let text = api.router.clone().oneshot_text(from([127, 0, 0, 1], None)).await;
    assert!(text.contains("revaer_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/torrents/{id}\""), "route templates, not raw paths: {text}");
    assert!(!text.contains("0123456789abcdef"), "no ids in labels");
    assert!(text.contains("route=\"unmatched\""));
    assert!(text.contains("revaer_torrents{state=\"seeding\"}"));
    for name in [
        "revaer_engine_download_bytes_per_second",
        "revaer_engine_uploaded_bytes",
        "revaer_engine_peers",
        "revaer_engine_worker_restarts_total",
        "revaer_config_watcher_deliveries_total",
        "revaer_config_watcher_failures_total",
    ] {
        assert!(text.contains(name), "{name}: {text}");
    }
    // An open event stream is a subscriber until it is dropped.
    let stream = {
        use tower::ServiceExt as _;
        let request = Request::builder()
            .uri("/v1/events")
            .header("authorization", format!("Bearer {}", api.token))
            .body(axum::body::Body::empty())
            .expect("request");
        api.router.clone().oneshot(request).await.expect("stream")
    };
    assert_eq!(stream.status(), 200);
    let text = api.router.clone().oneshot_text(from([127, 0, 0, 1], None)).await;
    assert!(text.contains("revaer_sse_subscribers 1\n"), "{text}");
    drop(stream);
    let text = api.router.clone().oneshot_text(from([127, 0, 0, 1], None)).await;
    assert!(text.contains("revaer_sse_subscribers 0\n"), "{text}");
    api.raw(from([10, 1, 2, 3], None)).await.problem(401);
    assert_eq!(api.raw(from([10, 1, 2, 3], Some(&api.token))).await.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn metrics_can_require_a_key_from_everyone() {
    let api = Api::start_with_metrics(registry(), true).await;
    api.raw(from([127, 0, 0, 1], None)).await.problem(401);
    assert_eq!(api.raw(from([127, 0, 0, 1], Some(&api.token))).await.status, 200);
    api.stop().await;
}

/// Reads a response body as text.
trait OneshotText {
    async fn oneshot_text(self, request: Request<axum::body::Body>) -> String;
}

impl OneshotText for axum::Router {
    async fn oneshot_text(self, request: Request<axum::body::Body>) -> String {
        use http_body_util::BodyExt as _;
        use tower::ServiceExt as _;
        let response = self.oneshot(request).await.expect("answer");
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
