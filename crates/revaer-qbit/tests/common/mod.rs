//! A facade over a real engine (loopback libtorrent session) and a real
//! SQLite store, driven through its router.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use revaer_engine::{Engine, EngineConfig, SessionConfig};
use revaer_qbit::{QbitConfig, QbitState, router};
use revaer_service::bus::EventBus;
use revaer_service::paths::StorageRoots;
use revaer_service::{Service, ServiceConfig};
use revaer_store::{NewApiKey, Store, StoreConfig};
use tower::ServiceExt;

pub struct Facade {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub store: Store,
    pub service: Service,
    pub router: Router,
    /// An admin key's token.
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|err| panic!("{err}: {}", self.text))
    }

    /// The session id a `Set-Cookie` carries, if one does.
    pub fn sid(&self) -> Option<String> {
        let cookies: Vec<&str> =
            self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(cookies.len() <= 1, "at most one cookie: {cookies:?}");
        cookies.first()?.split(';').next()?.strip_prefix("SID=").map(str::to_owned)
    }
}

impl Facade {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = EngineConfig::new(
            dir.path().join("resume"),
            SessionConfig::loopback(dir.path().join("downloads")),
        );
        let engine = Engine::start(config).await.expect("engine");
        let store = Store::connect(&StoreConfig::sqlite(dir.path().join("revaer.db")))
            .await
            .expect("store");
        let mut own = store.config().local_files();
        own.push(dir.path().join("resume"));
        let storage = StorageRoots::new(dir.path(), &[dir.path().to_owned()])
            .expect("roots")
            .protecting(&own);
        let config =
            ServiceConfig { active: true, storage: Some(storage), ..ServiceConfig::default() };
        let service = Service::new(engine.clone(), store.clone(), EventBus::new(1024), config);
        let token = Self::key_in(&store, revaer_domain::Scopes::ADMIN).await;
        service.keys().refresh(&store).await.expect("keys");
        let router = router(QbitState::new(service.clone(), QbitConfig::default()));
        Self { dir, engine, store, service, router, token }
    }

    async fn key_in(store: &Store, scopes: revaer_domain::Scopes) -> String {
        let key = NewApiKey {
            label: "qbit".into(),
            rate_limit: None,
            expires_at: None,
            scopes,
            issued_by: None,
        };
        store.issue_api_key(&key).await.expect("key").token.expose().to_owned()
    }

    /// A new key with `scopes`, loaded.
    pub async fn key(&self, scopes: revaer_domain::Scopes) -> String {
        let token = Self::key_in(&self.store, scopes).await;
        self.service.keys().refresh(&self.store).await.expect("keys");
        token
    }

    /// Sends `method path` with `headers` and a form `body`, from 127.0.0.1.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        self.raw(request.body(Body::from(body.to_owned())).expect("request")).await
    }

    pub async fn raw(&self, mut request: Request<Body>) -> Reply {
        use axum::extract::ConnectInfo;
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 40_000))));
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Logs in with `token`; answers the session id.
    pub async fn login(&self, token: &str) -> String {
        let reply = self
            .send(
                Method::POST,
                "/api/v2/auth/login",
                &[],
                &format!("username=admin&password={token}"),
            )
            .await;
        assert_eq!((reply.status, reply.text.as_str()), (StatusCode::OK, "Ok."));
        reply.sid().expect("a session cookie")
    }

    /// `torrents/add` as a multipart form: `fields` and the `.torrent`
    /// `metainfo` in a file part named `part`, with the `Cookie` header
    /// `cookie`.
    pub async fn upload(
        &self,
        cookie: &str,
        part: &str,
        metainfo: &[u8],
        fields: &[(&str, &str)],
    ) -> Reply {
        let (body, kind) = multipart(part, metainfo, fields);
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v2/torrents/add")
            .header("cookie", cookie)
            .header("content-type", kind)
            .body(Body::from(body))
            .expect("request");
        self.raw(request).await
    }

    /// `method path` with the session `sid` and a form `body`.
    pub async fn with(&self, sid: &str, method: Method, path: &str, body: &str) -> Reply {
        let cookie = format!("SID={sid}");
        self.send(method, path, &[("cookie", cookie.as_str())], body).await
    }

    pub async fn stop(self) {
        self.engine.shutdown().await.expect("engine stops");
        self.store.close().await;
    }
}

/// A second engine on loopback seeding a generated payload.
pub struct Seeder {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub metainfo: Vec<u8>,
    pub id: revaer_domain::InfoHash,
    /// The payload's files (path under its folder, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

impl Seeder {
    /// Seeds a folder `name` with `files` (path, size), once checked.
    pub async fn start(name: &str, files: &[(&str, usize)]) -> Self {
        Self::start_with(name, files, vec![]).await
    }

    /// [`Seeder::start`] with a `.torrent` that names `trackers`.
    pub async fn start_with(name: &str, files: &[(&str, usize)], trackers: Vec<String>) -> Self {
        use rand::RngCore as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("data").join(name);
        let mut made = Vec::new();
        for (path, size) in files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            let mut bytes = vec![0_u8; *size];
            rand::rng().fill_bytes(&mut bytes);
            std::fs::write(&full, &bytes).expect("write");
            made.push(((*path).to_owned(), bytes));
        }
        let options = revaer_engine::metainfo::CreateOptions {
            piece_size: Some(16 * 1024),
            v1_only: false,
            trackers,
        };
        let metainfo = revaer_engine::metainfo::create(&root, &options).expect("torrent");
        let id = revaer_engine::metainfo::Metainfo::parse(&metainfo).expect("parse").id;
        let config = EngineConfig::new(
            dir.path().join("resume"),
            SessionConfig::loopback(dir.path().join("downloads")),
        );
        let engine = Engine::start(config).await.expect("seeder engine");
        let add = revaer_engine::AddTorrentOptions {
            save_path: Some(dir.path().join("data")),
            ..revaer_engine::AddTorrentOptions::default()
        };
        engine
            .add(revaer_engine::TorrentSource::Metainfo(metainfo.clone()), add)
            .await
            .expect("seeder adds");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while engine.summary(id).is_none_or(|t| t.state != revaer_domain::TorrentState::Seeding) {
            assert!(std::time::Instant::now() < deadline, "the seeder checks its data in time");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Self { dir, engine, metainfo, id, files: made }
    }

    pub fn peer(&self) -> std::net::SocketAddr {
        let port = self.engine.listen_port().expect("seeder listens");
        std::net::SocketAddr::from(([127, 0, 0, 1], port))
    }

    pub async fn stop(self) {
        self.engine.shutdown().await.expect("seeder stops");
    }
}

/// A multipart form with `fields` and one file part `part` (file name
/// `x.torrent`) holding `bytes`; answers the body and its content type.
pub fn multipart(part: &str, bytes: &[u8], fields: &[(&str, &str)]) -> (Vec<u8>, String) {
    let boundary = "revaer-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"x.torrent\"\r\nContent-Type: application/x-bittorrent\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A free TCP port on loopback (for a tracker whose URL must be known
/// before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|probe| probe.local_addr())
        .expect("free port")
        .port()
}

/// A real tracker on loopback: Debian's `opentracker` (HTTP), serving only
/// the info-hashes it was started with; killed when dropped.
pub struct Tracker {
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Tracker {
    /// Starts opentracker on `port` for `hashes` and waits until it
    /// accepts connections.
    pub async fn start(port: u16, hashes: &[revaer_domain::InfoHash]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        // Run as root, opentracker chroots here and drops to `nobody`.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let list: String = hashes.iter().map(|id| id.to_hex() + "\n").collect();
        std::fs::write(dir.path().join("whitelist.txt"), list).expect("whitelist");
        let child = std::process::Command::new("opentracker")
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-w", "whitelist.txt", "-d"])
            .arg(dir.path())
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("opentracker runs (scripts/dev.sh test installs it)");
        let wait = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        });
        wait.await.expect("opentracker listens");
        Self { child, _dir: dir }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}
