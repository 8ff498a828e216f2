//! `torrents/*` mutators: add, delete, stop and start (and 4.x's pause and
//! resume), recheck, reannounce, and the category of torrents.

use axum::Extension;
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use revaer_api_models::TorrentAction;
use revaer_domain::{ContentLayout, InfoHash, MagnetUri, RateLimit, ShareLimits, TorrentLabels};
use revaer_engine::{AddOutcome, AddTorrentOptions, TorrentSource};
use revaer_service::Caller;

use crate::params::{Hashes, Params};
use crate::reply::{Reply, Text, service_error};
use crate::share;
use crate::state::QbitState;

/// Most torrents (files and links) in one add.
pub const MAX_ADD_SOURCES: usize = 100;
/// Largest text field of an add form, in bytes.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// An add request: its parameters, and the `.torrent` files of a form
/// (any part with a file name is one, whatever the part is called).
#[derive(Debug, Default)]
pub struct AddForm {
    params: Params,
    files: Vec<Vec<u8>>,
}

impl FromRequest<QbitState> for AddForm {
    type Rejection = Text;

    async fn from_request(req: Request, state: &QbitState) -> Result<Self, Self::Rejection> {
        let multipart =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(
                |v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"),
            );
        if !multipart {
            let params = Params::from_request(req, state).await?;
            return Ok(Self { params, files: Vec::new() });
        }
        let bad = |_| Text::status(StatusCode::BAD_REQUEST);
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|_| Text::status(StatusCode::BAD_REQUEST))?;
        let limit = state.service.config().max_metainfo_bytes;
        let mut add = Self::default();
        let mut parts = 0;
        while let Some(field) = form.next_field().await.map_err(bad)? {
            parts += 1;
            if parts > 2 * MAX_ADD_SOURCES {
                return Err(Text::status(StatusCode::BAD_REQUEST));
            }
            let name = field.name().unwrap_or_default().chars().take(64).collect::<String>();
            let is_file = field.file_name().is_some();
            let bytes = field.bytes().await.map_err(bad)?;
            if is_file {
                if bytes.len() > limit {
                    return Err(Text::status(StatusCode::PAYLOAD_TOO_LARGE));
                }
                if add.files.len() >= MAX_ADD_SOURCES {
                    return Err(Text::status(StatusCode::BAD_REQUEST));
                }
                add.files.push(bytes.to_vec());
            } else if bytes.len() <= MAX_FIELD_BYTES {
                add.params.insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(add)
    }
}

/// `contentLayout` (`Original`, `Subfolder`, `NoSubfolder`; anything
/// else the default). The legacy `root_folder` is ignored, as qBittorrent
/// 5.0 ignores it (autobrr sends it beside `contentLayout`).
fn content_layout(params: &Params) -> ContentLayout {
    params
        .get("contentLayout")
        .and_then(|layout| {
            [
                ("original", ContentLayout::Original),
                ("subfolder", ContentLayout::Subfolder),
                ("nosubfolder", ContentLayout::NoSubfolder),
            ]
            .into_iter()
            .find(|(name, _)| layout.trim().eq_ignore_ascii_case(name))
            .map(|(_, layout)| layout)
        })
        .unwrap_or_default()
}

/// The add options of a request: save path, category, tags, stopped
/// (`stopped` or 4.x's `paused`), sequential, first and last pieces, rate
/// caps, share limits, content layout (`contentLayout`) and
/// `skip_checking` (`seedMode` from WebAPI 2.16). A value that does not
/// parse counts as not given.
fn options(params: &Params) -> AddTorrentOptions {
    let tags = params
        .get("tags")
        .map(|tags| {
            tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
        })
        .unwrap_or_default();
    let category =
        params.get("category").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let rate = |name| {
        params.int(name).filter(|bps| *bps > 0).map_or(RateLimit::UNLIMITED, |bps| {
            RateLimit::bytes_per_second(u64::try_from(bps).unwrap_or(0))
        })
    };
    AddTorrentOptions {
        save_path: params.get("savepath").map(str::trim).filter(|p| !p.is_empty()).map(Into::into),
        paused: params.flag("stopped").or_else(|| params.flag("paused")).unwrap_or(false),
        sequential: params.flag("sequentialDownload").unwrap_or(false),
        first_last_piece: params.flag("firstLastPiecePrio").unwrap_or(false),
        content_layout: content_layout(params),
        skip_checking: params
            .flag("skip_checking")
            .or_else(|| params.flag("seedMode"))
            .unwrap_or(false),
        download_limit: rate("dlLimit"),
        upload_limit: rate("upLimit"),
        // As qBittorrent reads an add: a value that is no limit defers.
        share_limits: ShareLimits {
            ratio: share::ratio_param(params.get("ratioLimit")).unwrap_or_default(),
            seeding_time_secs: share::minutes_param(params.get("seedingTimeLimit"))
                .unwrap_or_default(),
            inactive_time_secs: share::minutes_param(params.get("inactiveSeedingTimeLimit"))
                .unwrap_or_default(),
            action: share::action_param(params.get("shareLimitAction")).flatten(),
        },
        labels: TorrentLabels { category, tags },
        ..AddTorrentOptions::default()
    }
}

/// `torrents/add`: magnets in `urls` (one per line) and `.torrent` files.
/// `Ok.` when at least one torrent was added, `Fails.` when none was
/// (duplicates, bad links and refused paths included), as qBittorrent 5.0
/// answers.
pub async fn add(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    form: AddForm,
) -> Text {
    let mut options = options(&form.params);
    if form.params.flag("autoTMM") == Some(true) {
        options.save_path = automatic_save_path(&state, options.labels.category.as_deref()).await;
    }
    let links = form.params.get("urls").unwrap_or_default();
    let mut sources: Vec<TorrentSource> = links
        .lines()
        .map(str::trim)
        .filter(|link| !link.is_empty())
        .take(MAX_ADD_SOURCES)
        .filter_map(|link| MagnetUri::parse(link).ok().map(TorrentSource::Magnet))
        .collect();
    sources.extend(form.files.into_iter().map(TorrentSource::Metainfo));
    let mut added = 0;
    for source in sources {
        match state.service.add_torrent(&caller, source, options.clone()).await {
            Ok(AddOutcome::Added(_)) => added += 1,
            Ok(AddOutcome::Duplicate(_)) => {}
            Err(err) => tracing::info!(error = %err, "a qBittorrent API add was refused"),
        }
    }
    if added > 0 { Text::ok() } else { Text::body("Fails.") }
}

/// Where qBittorrent's automatic management puts a torrent of `category`
/// (whatever `savepath` says): the category's save path (a relative one
/// under the download folder), else a folder named after the category in
/// the download folder; without a category, the download folder.
async fn automatic_save_path(
    state: &QbitState,
    category: Option<&str>,
) -> Option<std::path::PathBuf> {
    let name = category?;
    let settings = state.settings.current(&state.service).await.ok()?;
    let own = settings.settings.categories.0.get(name)?.save_path.clone();
    let base = state.service.engine().settings().download_dir;
    Some(match own.filter(|path| !path.trim().is_empty()) {
        Some(path) => base.join(path),
        None => base.join(name),
    })
}

/// The torrents `hashes` names that exist.
pub(crate) fn named(state: &QbitState, params: &Params) -> Vec<InfoHash> {
    let engine = state.service.engine();
    match params.hashes("hashes") {
        Hashes::All => engine.list().iter().map(|t| t.id).collect(),
        Hashes::Some(ids) => ids.into_iter().filter(|id| engine.summary(*id).is_some()).collect(),
    }
}

/// Runs `action` on every torrent `hashes` names; unknown ones are
/// skipped, as qBittorrent skips them.
pub(crate) async fn each(
    state: &QbitState,
    caller: &Caller,
    params: &Params,
    action: TorrentAction,
) -> Reply<Text> {
    for id in named(state, params) {
        match state.service.act(caller, id, action.clone()).await {
            Ok(())
            | Err(revaer_service::ServiceError::Engine(revaer_engine::EngineError::NotFound {
                ..
            })) => {}
            Err(err) => return Err(service_error(err)),
        }
    }
    Ok(Text::body(""))
}

/// `torrents/delete`: `hashes`, `deleteFiles`.
pub async fn delete(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let delete_data = params.flag("deleteFiles").unwrap_or(false);
    each(&state, &caller, &params, TorrentAction::Remove { delete_data }).await
}

/// `torrents/stop` (and 4.x's `torrents/pause`).
pub async fn stop(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    each(&state, &caller, &params, TorrentAction::Pause {}).await
}

/// `torrents/start` (and 4.x's `torrents/resume`).
pub async fn start(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    each(&state, &caller, &params, TorrentAction::Resume {}).await
}

/// `torrents/recheck`.
pub async fn recheck(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    each(&state, &caller, &params, TorrentAction::Recheck {}).await
}

/// `torrents/reannounce`.
pub async fn reannounce(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    each(&state, &caller, &params, TorrentAction::Reannounce {}).await
}

/// `torrents/setCategory`: `hashes`, `category` (`""` removes it); tags
/// are kept.
pub async fn set_category(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    // `category=` (empty) removes it; no `category` at all is an error.
    let Some(category) = params.get("category").map(str::trim) else {
        return Err(Text::status(StatusCode::BAD_REQUEST));
    };
    let category = (!category.is_empty()).then(|| category.to_owned());
    for id in named(&state, &params) {
        let Some(torrent) = state.service.engine().summary(id) else { continue };
        let labels =
            TorrentLabels { category: category.clone(), tags: torrent.labels.tags.clone() };
        state.service.set_labels(&caller, id, labels).await.map_err(service_error)?;
    }
    Ok(Text::body(""))
}
