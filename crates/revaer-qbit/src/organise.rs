//! Categories, tags and rate caps: `createCategory`, `editCategory`,
//! `removeCategories`, `addTags`, `removeTags`, `createTags`,
//! `deleteTags`, the per-torrent `setDownloadLimit`/`setUploadLimit` (and
//! their reads), and `transfer/*Limit`.
//!
//! Categories live in Revaer's settings (with the save path confined to
//! the storage roots); changing them here needs `control`, not `admin`,
//! since the tools that call these (Sonarr's test creates its category)
//! are given `control` keys — but only categories such a key could have
//! made: one with FsOps settings of the operator's (a library path or
//! overrides) needs `admin` to change or remove. Tags live on the torrents: qBittorrent's
//! global tag list is the tags the torrents carry, so creating a tag is
//! accepted and has nothing to keep.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use revaer_api_models::TorrentAction;
use revaer_api_models::transfer::TransferLimits;
use revaer_domain::TorrentLabels;
use revaer_service::Caller;
use revaer_service::settings::CategoryChange;

use crate::actions::named;
use crate::params::Params;
use crate::reply::{Reply, Text, service_error};
use crate::state::QbitState;

fn category_name(params: &Params) -> Reply<String> {
    let name = params.get("category").map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(Text::error(StatusCode::BAD_REQUEST, "Category name is empty"));
    }
    Ok(name.to_owned())
}

fn save_path(params: &Params) -> Option<&str> {
    params.get("savePath").map(str::trim).filter(|path| !path.is_empty())
}

/// `403` unless `caller` may change the categories `names`: a `control`
/// key only those it could have made here (a save path, and the default
/// library path and FsOps overrides); an operator's richer categories
/// need `admin`.
async fn may_change(state: &QbitState, caller: &Caller, names: &[String]) -> Reply<()> {
    if caller.grant.allows(revaer_domain::Scope::Admin) {
        return Ok(());
    }
    let snapshot = state.service.settings().await.map_err(service_error)?;
    let plain = revaer_domain::settings::Category::default();
    let rich =
        names.iter().filter_map(|name| snapshot.settings.categories.0.get(name)).any(|category| {
            category.library_path != plain.library_path || category.overrides != plain.overrides
        });
    if rich {
        return Err(Text::error(
            StatusCode::FORBIDDEN,
            "this category has FsOps settings: changing it needs an admin key",
        ));
    }
    Ok(())
}

async fn put(
    state: &QbitState,
    caller: &Caller,
    params: &Params,
    change: CategoryChange,
) -> Reply<Text> {
    let name = category_name(params)?;
    may_change(state, caller, std::slice::from_ref(&name)).await?;
    match state.service.put_category(caller, &name, save_path(params), change).await {
        Ok(_) => Ok(Text::body("")),
        Err(revaer_service::ServiceError::Conflict(why)) => {
            Err(Text::error(StatusCode::CONFLICT, why))
        }
        Err(err) => Err(service_error(err)),
    }
}

/// `torrents/createCategory`: `category`, `savePath` (`409` if it exists).
pub async fn create_category(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    put(&state, &caller, &params, CategoryChange::Create).await
}

/// `torrents/editCategory`: `category`, `savePath` (`409` if it does not
/// exist).
pub async fn edit_category(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    put(&state, &caller, &params, CategoryChange::Edit).await
}

/// `torrents/removeCategories`: `categories`, one per line. Torrents in
/// them keep the name as their label, as Revaer's labels are free.
pub async fn remove_categories(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let names: Vec<String> = params
        .get("categories")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    may_change(&state, &caller, &names).await?;
    state.service.remove_categories(&caller, &names).await.map_err(service_error)?;
    Ok(Text::body(""))
}

fn tag_list(params: &Params) -> Vec<String> {
    let mut tags: Vec<String> = params
        .get("tags")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect();
    let mut seen = std::collections::HashSet::new();
    tags.retain(|tag| seen.insert(tag.clone()));
    tags
}

/// Changes the tags of every torrent `hashes` names with `change`.
async fn retag(
    state: &QbitState,
    caller: &Caller,
    params: &Params,
    change: impl Fn(&mut Vec<String>),
) -> Reply<Text> {
    for id in named(state, params) {
        let Some(torrent) = state.service.engine().summary(id) else { continue };
        let mut tags = torrent.labels.tags.clone();
        change(&mut tags);
        if tags != torrent.labels.tags {
            let labels = TorrentLabels { category: torrent.labels.category.clone(), tags };
            state.service.set_labels(caller, id, labels).await.map_err(service_error)?;
        }
    }
    Ok(Text::body(""))
}

/// `torrents/addTags`: `hashes`, `tags` (comma-separated).
pub async fn add_tags(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let wanted = tag_list(&params);
    retag(&state, &caller, &params, |tags| {
        for tag in &wanted {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    })
    .await
}

/// `torrents/removeTags`: `hashes`, `tags` (none given: all of them).
pub async fn remove_tags(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let unwanted = tag_list(&params);
    retag(&state, &caller, &params, |tags| {
        if unwanted.is_empty() {
            tags.clear();
        } else {
            tags.retain(|tag| !unwanted.contains(tag));
        }
    })
    .await
}

/// `torrents/createTags`: accepted; a tag exists while a torrent has it.
pub async fn create_tags() -> Text {
    Text::body("")
}

/// `torrents/deleteTags`: `tags`, removed from every torrent.
pub async fn delete_tags(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    mut params: Params,
) -> Reply<Text> {
    let unwanted = tag_list(&params);
    params.insert("hashes".to_owned(), "all".to_owned());
    if unwanted.is_empty() {
        return Ok(Text::body(""));
    }
    retag(&state, &caller, &params, |tags| tags.retain(|tag| !unwanted.contains(tag))).await
}

/// The cap `limit` names in bytes/s: `0` or less is no cap.
fn cap(params: &Params) -> Option<u64> {
    params.int("limit").and_then(|bps| u64::try_from(bps).ok()).filter(|bps| *bps > 0)
}

/// `torrents/setDownloadLimit`: `hashes`, `limit` (bytes/s; `0`: none).
pub async fn set_download_limit(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let action = TorrentAction::Rate { download_bps: Some(cap(&params)), upload_bps: None };
    crate::actions::each(&state, &caller, &params, action).await
}

/// `torrents/setUploadLimit`: `hashes`, `limit` (bytes/s; `0`: none).
pub async fn set_upload_limit(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let action = TorrentAction::Rate { download_bps: None, upload_bps: Some(cap(&params)) };
    crate::actions::each(&state, &caller, &params, action).await
}

/// The caps of the torrents `hashes` names, by hash (`0`: none, as
/// qBittorrent answers).
fn caps(
    state: &QbitState,
    params: &Params,
    pick: fn(&revaer_domain::TorrentSummary) -> revaer_domain::RateLimit,
) -> Json<BTreeMap<String, u64>> {
    let engine = state.service.engine();
    let caps = named(state, params)
        .into_iter()
        .filter_map(|id| engine.summary(id).map(|t| (id.to_hex(), pick(&t).get().unwrap_or(0))))
        .collect();
    Json(caps)
}

/// `torrents/downloadLimit`: `hashes` → `{hash: bytes/s}` (`0`: none).
pub async fn download_limit(
    State(state): State<QbitState>,
    params: Params,
) -> Json<BTreeMap<String, u64>> {
    caps(&state, &params, |t| t.download_limit)
}

/// `torrents/uploadLimit`: `hashes` → `{hash: bytes/s}` (`0`: none).
pub async fn upload_limit(
    State(state): State<QbitState>,
    params: Params,
) -> Json<BTreeMap<String, u64>> {
    caps(&state, &params, |t| t.upload_limit)
}

/// `transfer/setDownloadLimit` and `transfer/setUploadLimit`: `limit`
/// (bytes/s; `0`: none), saved in the settings.
async fn set_global(state: &QbitState, caller: &Caller, limits: TransferLimits) -> Reply<Text> {
    state
        .service
        .set_transfer_limits(caller, &limits, "qBittorrent API")
        .await
        .map_err(service_error)?;
    Ok(Text::body(""))
}

/// `transfer/setDownloadLimit`.
pub async fn set_global_download(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let limits = TransferLimits { download_bps: Some(cap(&params)), upload_bps: None };
    set_global(&state, &caller, limits).await
}

/// `transfer/setUploadLimit`.
pub async fn set_global_upload(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let limits = TransferLimits { download_bps: None, upload_bps: Some(cap(&params)) };
    set_global(&state, &caller, limits).await
}

/// `transfer/downloadLimit`: bytes/s, `0` for none (as saved: the
/// engine takes a saved cap within moments).
pub async fn global_download(State(state): State<QbitState>) -> Reply<Text> {
    let snapshot = state.service.settings().await.map_err(service_error)?;
    Ok(Text::body(snapshot.settings.engine_profile.download_limit_bps.unwrap_or(0).to_string()))
}

/// `transfer/uploadLimit`: bytes/s, `0` for none (as saved).
pub async fn global_upload(State(state): State<QbitState>) -> Reply<Text> {
    let snapshot = state.service.settings().await.map_err(service_error)?;
    Ok(Text::body(snapshot.settings.engine_profile.upload_limit_bps.unwrap_or(0).to_string()))
}
