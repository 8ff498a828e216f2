//! `app/*`: versions, build information and preferences.
//!
//! The facade advertises one coherent pair, qBittorrent `v5.0.5` with
//! WebAPI `2.11.2` (three parts always: some clients parse it as a
//! number otherwise), so that clients pick the 5.0 verbs (`stop`/`start`,
//! `stopped`) and do not probe 5.2-only behaviour. The 4.x verbs are
//! accepted too.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::reply::Text;
use crate::share;
use crate::state::QbitState;

/// The qBittorrent version advertised.
pub const APP_VERSION: &str = "v5.0.5";
/// The WebAPI version advertised (qBittorrent 5.0's).
pub const WEBAPI_VERSION: &str = "2.11.2";

/// `app/version`.
pub async fn version() -> Text {
    Text::body(APP_VERSION)
}

/// `app/webapiVersion`.
pub async fn webapi_version() -> Text {
    Text::body(WEBAPI_VERSION)
}

/// `app/buildInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildInfo {
    qt: &'static str,
    libtorrent: &'static str,
    boost: &'static str,
    openssl: &'static str,
    zlib: &'static str,
    bitness: u32,
    platform: &'static str,
    revaer: &'static str,
}

/// `app/buildInfo`: what Revaer is built from, in qBittorrent's shape.
pub async fn build_info() -> Json<BuildInfo> {
    Json(BuildInfo {
        qt: "",
        libtorrent: "2.0",
        boost: "",
        openssl: "",
        zlib: "",
        bitness: usize::BITS,
        platform: std::env::consts::OS,
        revaer: env!("CARGO_PKG_VERSION"),
    })
}

/// The `app/preferences` fields clients read, with Revaer's values.
#[derive(Debug, Clone, Serialize)]
#[allow(clippy::struct_excessive_bools, reason = "qBittorrent's wire format")]
pub struct Preferences {
    save_path: String,
    temp_path_enabled: bool,
    temp_path: String,
    listen_port: u16,
    random_port: bool,
    dht: bool,
    pex: bool,
    lsd: bool,
    upnp: bool,
    queueing_enabled: bool,
    max_active_downloads: i64,
    max_active_uploads: i64,
    max_active_torrents: i64,
    dl_limit: u64,
    up_limit: u64,
    max_connec: u32,
    max_ratio_enabled: bool,
    max_ratio: f64,
    max_seeding_time_enabled: bool,
    max_seeding_time: i64,
    max_inactive_seeding_time_enabled: bool,
    max_inactive_seeding_time: i64,
    max_ratio_act: u8,
    auto_tmm_enabled: bool,
    torrent_content_layout: &'static str,
    add_stopped_enabled: bool,
    start_paused_enabled: bool,
    alternative_webui_enabled: bool,
    resume_data_storage_type: &'static str,
    web_ui_port: u16,
}

/// `app/preferences`: the engine's settings as they are now.
pub async fn preferences(State(state): State<QbitState>) -> Json<Preferences> {
    Json(current_preferences(&state))
}

/// The preferences as `app/preferences` answers them now.
pub fn current_preferences(state: &QbitState) -> Preferences {
    let engine = state.service.engine();
    let session = engine.settings();
    let limit = |count: Option<u32>| count.map_or(-1, i64::from);
    let global = session.share.global.resolve(None, &revaer_domain::ShareLimits::default());
    Preferences {
        save_path: session.download_dir.to_string_lossy().into_owned(),
        temp_path_enabled: false,
        temp_path: String::new(),
        listen_port: engine.listen_port().unwrap_or_default(),
        random_port: false,
        dht: session.dht,
        pex: session.pex,
        lsd: session.lsd,
        upnp: session.upnp,
        queueing_enabled: crate::map::queueing(&session),
        max_active_downloads: limit(session.active_downloads),
        max_active_uploads: limit(session.active_seeds),
        max_active_torrents: limit(session.active_limit),
        dl_limit: session.download_limit.get().unwrap_or(0),
        up_limit: session.upload_limit.get().unwrap_or(0),
        max_connec: session.connections_limit,
        max_ratio_enabled: global.ratio.is_some(),
        max_ratio: share::effective_ratio(&global),
        max_seeding_time_enabled: global.seeding_time_secs.is_some(),
        max_seeding_time: share::effective_minutes(global.seeding_time_secs),
        max_inactive_seeding_time_enabled: global.inactive_time_secs.is_some(),
        max_inactive_seeding_time: share::effective_minutes(global.inactive_time_secs),
        max_ratio_act: share::action_code(global.action),
        auto_tmm_enabled: false,
        torrent_content_layout: "Original",
        add_stopped_enabled: false,
        start_paused_enabled: false,
        alternative_webui_enabled: false,
        resume_data_storage_type: "Legacy",
        web_ui_port: 0,
    }
}

/// `app/defaultSavePath`.
pub async fn default_save_path(State(state): State<QbitState>) -> Text {
    Text::body(state.service.engine().settings().download_dir.to_string_lossy().into_owned())
}
