//! A real engine (loopback session), a real SQLite store, an API key and
//! the real router, driven with `tower::ServiceExt::oneshot`.
#![allow(dead_code, reason = "each test binary uses part of it")]

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use revaer_api::state::{ApiLimits, HttpConfig};
use revaer_api::{ApiState, router};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{Engine, EngineConfig, SessionConfig};
use revaer_service::bus::EventBus;
use revaer_service::forward::{EventSources, forward_events};
use revaer_service::{Service, ServiceConfig};
use revaer_store::testing::TestDb;
use revaer_store::{NewApiKey, Store, StoreConfig};
use serde_json::Value;
use tower::ServiceExt;

pub struct Api {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub store: Store,
    pub service: Service,
    pub router: Router,
    pub token: String,
    pub events: EventBus,
    pub state: ApiState,
    /// A PostgreSQL test database, dropped with the instance.
    db: Option<TestDb>,
}

/// How an instance is set up (tests change what they need).
#[derive(Default)]
pub struct Options {
    pub http: HttpConfig,
    pub service: ServiceConfig,
    /// Forward the engine's events onto the bus, as the daemon does.
    pub forward_engine_events: bool,
}

impl Options {
    fn with_limits(limits: ApiLimits) -> Self {
        let http = HttpConfig { limits, ..HttpConfig::default() };
        let service =
            ServiceConfig { max_metainfo_bytes: limits.torrent_file, ..ServiceConfig::default() };
        Self { http, service, forward_engine_events: true }
    }
}

/// Where the store lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Api {
    pub async fn start() -> Self {
        Self::start_with(ApiLimits::default()).await
    }

    pub async fn start_with(limits: ApiLimits) -> Self {
        Self::start_active(limits, |_| {}).await
    }

    /// An active instance whose store is a fresh PostgreSQL database.
    pub async fn start_on(backend: Backend) -> Self {
        let (dir, engine, store, db) = boot(backend).await;
        let token = first_key(&store).await;
        let options = Options::with_limits(ApiLimits::default());
        let mut api = Self::assemble(dir, engine, store, true, token, options).await;
        api.db = db;
        api
    }

    /// An active instance serving `/metrics` from `handle`.
    pub async fn start_with_metrics(
        handle: metrics_exporter_prometheus::PrometheusHandle,
        need_key: bool,
    ) -> Self {
        Self::start_active(ApiLimits::default(), |options| {
            options.http.metrics = Some(handle);
            options.http.metrics_need_key = need_key;
        })
        .await
    }

    /// An active instance whose options `tweak` changes first.
    pub async fn start_active_with(tweak: impl FnOnce(&mut Options)) -> Self {
        Self::start_active(ApiLimits::default(), tweak).await
    }

    /// An active instance with an API key (`token`).
    async fn start_active(limits: ApiLimits, tweak: impl FnOnce(&mut Options)) -> Self {
        let (dir, engine, store, _) = boot(Backend::Sqlite).await;
        let token = first_key(&store).await;
        let mut options = Options::with_limits(limits);
        tweak(&mut options);
        Self::assemble(dir, engine, store, true, token, options).await
    }

    /// A fresh instance in setup mode; returns it with its setup token.
    pub async fn start_in_setup() -> (Self, String) {
        Self::start_in_setup_with(|_| {}).await
    }

    /// Setup mode, with the options changed by `tweak`.
    pub async fn start_in_setup_with(tweak: impl FnOnce(&mut Options)) -> (Self, String) {
        let (dir, engine, store, _) = boot(Backend::Sqlite).await;
        let setup =
            store.issue_setup_token(std::time::Duration::from_mins(10)).await.expect("setup token");
        let mut options = Options::with_limits(ApiLimits::default());
        tweak(&mut options);
        let api = Self::assemble(dir, engine, store, false, String::new(), options).await;
        (api, setup.expose().to_owned())
    }

    async fn assemble(
        dir: tempfile::TempDir,
        engine: Engine,
        store: Store,
        active: bool,
        token: String,
        options: Options,
    ) -> Self {
        let events = EventBus::new(4096);
        if options.forward_engine_events {
            let sources = EventSources::engine(engine.subscribe());
            tokio::spawn(forward_events(events.clone(), sources));
        }
        let mut config = ServiceConfig { active, ..options.service };
        // Confined to the test's folder, as the daemon confines to its data
        // directory.
        if config.storage.is_none() {
            let mut own = store.config().local_files();
            own.push(dir.path().join("resume"));
            config.storage = Some(
                revaer_service::paths::StorageRoots::new(dir.path(), &[dir.path().to_owned()])
                    .expect("storage roots")
                    .protecting(&own),
            );
        }
        let service = Service::new(engine.clone(), store.clone(), events.clone(), config);
        service.keys().refresh(&store).await.expect("keys");
        let state = ApiState::new(service.clone(), options.http);
        let router = router(state.clone());
        Self { dir, engine, store, service, router, token, events, state, db: None }
    }

    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        self.send(method, uri, Some(&self.token), body).await
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&json).expect("json"))
            }
            None => Body::empty(),
        };
        self.raw(request.body(body).expect("request")).await
    }

    /// Sends a request as a loopback client (unless it says otherwise).
    pub async fn raw(&self, mut request: Request<Body>) -> Reply {
        use axum::extract::ConnectInfo;
        if request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().is_none() {
            request
                .extensions_mut()
                .insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 40_000))));
        }
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, json }
    }

    pub async fn stop(self) {
        self.engine.shutdown().await.expect("engine stops");
        self.store.close().await;
    }
}

/// An API key for the tests.
async fn first_key(store: &Store) -> String {
    let key = NewApiKey {
        label: "tests".into(),
        rate_limit: None,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    store.issue_api_key(&key).await.expect("key").token.expose().to_owned()
}

/// A temp folder with a loopback engine, and a store: SQLite in the folder,
/// or a fresh PostgreSQL database.
async fn boot(backend: Backend) -> (tempfile::TempDir, Engine, Store, Option<TestDb>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig::new(
        dir.path().join("resume"),
        SessionConfig::loopback(dir.path().join("downloads")),
    );
    let engine = Engine::start(config).await.expect("engine");
    match backend {
        Backend::Sqlite => {
            let config = StoreConfig::sqlite(dir.path().join("revaer.db"));
            let store = Store::connect(&config).await.expect("store");
            (dir, engine, store, None)
        }
        Backend::Postgres => {
            let db = TestDb::postgres().await;
            let store = db.store.clone();
            (dir, engine, store, Some(db))
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    /// Asserts a Problem+JSON answer of `status` and returns its pointers.
    pub fn problem(&self, status: u16) -> Vec<String> {
        assert_eq!(self.status.as_u16(), status, "{}", self.json);
        assert_eq!(
            self.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(self.json["status"], status);
        assert!(
            self.json["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://revaer.dev/problems/"))
        );
        assert!(self.json["title"].is_string());
        self.json["invalid_params"]
            .as_array()
            .map(|params| {
                params.iter().filter_map(|p| p["pointer"].as_str().map(str::to_owned)).collect()
            })
            .unwrap_or_default()
    }
}

/// A small multi-file payload and its `.torrent`, base64-encoded.
pub fn payload(dir: &Path, name: &str) -> String {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("a.mkv"), vec![7u8; 40_000]).expect("write");
    std::fs::write(root.join("sub/b.srt"), vec![8u8; 1_000]).expect("write");
    let options = CreateOptions {
        piece_size: Some(16 * 1024),
        v1_only: true,
        trackers: vec!["udp://tracker.example.org:6969/announce".into()],
    };
    let bytes = metainfo::create(&root, &options).expect("torrent");
    data_encoding::BASE64.encode(&bytes)
}
