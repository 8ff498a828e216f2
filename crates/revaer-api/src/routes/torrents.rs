//! `/v1/torrents`: list, add, detail, remove, actions, file selection.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use revaer_api_models::torrent::{FsopsStatus, Source, ValidAdd};
use revaer_api_models::{
    AddTorrentRequest, InvalidParam, ListQuery, Order, Problem, SelectRequest, SelectResult,
    SortKey, TorrentAction, TorrentPage, TorrentView,
};
use revaer_domain::{InfoHash, RateLimit, SelectionRules, TorrentSummary};
use revaer_engine::metainfo::Metainfo;
use revaer_engine::{AddTorrentOptions, EngineError, Facets, TorrentSource};
use revaer_store::{FsJob, TorrentRow, TorrentSourceRow};
use serde_json::Value;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, RawQuery, TorrentId};
use crate::form::{AddBody, AddTorrentForm};
use crate::state::ApiState;
use crate::trace::current_trace_id;

/// `GET /v1/torrents`: a page of torrents.
#[utoipa::path(get, path = "/v1/torrents", tag = "torrents",
    params(
        ("limit" = Option<u32>, Query, description = "1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
        ("sort" = Option<SortKey>, Query, description = "Sort key (default `added_at`)"),
        ("order" = Option<Order>, Query, description = "`asc` (default) or `desc`"),
        ("state" = Option<String>, Query, description = "States (comma list or repeated)"),
        ("category" = Option<String>, Query, description = "Category"),
        ("tag" = Option<String>, Query, description = "A tag (repeatable; all must match)"),
        ("tracker" = Option<String>, Query, description = "Tracker host substring"),
        ("extension" = Option<String>, Query, description = "Any file with this extension"),
        ("name" = Option<String>, Query, description = "Case-insensitive name substring"),
    ),
    responses(
        (status = 200, description = "A page", body = TorrentPage),
        (status = 400, description = "Invalid query; each parameter's pointer is `/query/<name>`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://revaer.dev/problems/validation", "title": "Invalid request", "status": 400, "detail": "1 invalid parameter(s)", "invalid_params": [{"pointer": "/query/limit", "message": "must be a whole number from 1 to 1000"}], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})),
    ))]
pub async fn list_torrents(
    _: Authenticated,
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TorrentPage>> {
    let query = ListQuery::parse(&raw).map_err(ApiError::Validation)?;
    let all = state.engine().list();
    let needs_facets = query.tracker.is_some() || query.extension.is_some();
    let candidates = all.iter().filter(|t| query.matches(t)).filter(|t| {
        // Trackers and files come from the engine's facets: no round trip.
        !needs_facets
            || state.engine().facets(t.id).is_some_and(|facets| passes_facets(&query, &facets))
    });
    let (items, next_cursor) = query.page(candidates);
    let items = items.into_iter().map(|t| (**t).clone()).collect();
    Ok(Json(TorrentPage { items, next_cursor }))
}

fn passes_facets(query: &ListQuery, facets: &Facets) -> bool {
    let tracker_ok = query
        .tracker
        .as_ref()
        .is_none_or(|wanted| facets.tracker_hosts.iter().any(|h| h.contains(wanted.as_str())));
    let extension_ok = query
        .extension
        .as_ref()
        .is_none_or(|wanted| facets.extensions.iter().any(|e| e.eq_ignore_ascii_case(wanted)));
    tracker_ok && extension_ok
}

/// `POST /v1/torrents`: adds a torrent (201), or finds it already there (200).
#[utoipa::path(post, path = "/v1/torrents", tag = "torrents",
    description = "JSON, or `multipart/form-data` with the same fields as text parts and the `.torrent` as a `torrent` file part (streamed; 413 past the size guard).",
    request_body(content(
        (AddTorrentRequest = "application/json", example = json!({"magnet": "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=example", "category": "tv", "tags": ["hd"], "paused": false})),
        (AddTorrentForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Added", body = TorrentSummary),
        (status = 200, description = "Already there", body = TorrentSummary),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or file over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The engine is restarting or stopped", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_torrent(
    _: Authenticated,
    State(state): State<ApiState>,
    AddBody { request, file }: AddBody,
) -> ApiResult<impl IntoResponse> {
    let from_file = file.is_some();
    let ValidAdd { source, labels } =
        request.validate_with_file(file).map_err(ApiError::Validation)?;
    let limit = state.limits().torrent_file;
    if matches!(&source, Source::Metainfo(bytes) if bytes.len() > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let trace_id = current_trace_id();
    let (engine_source, source_row) = match source {
        Source::Magnet(uri) => {
            let text = request.magnet.clone().unwrap_or_default();
            (TorrentSource::Magnet(uri), TorrentSourceRow::Magnet(text))
        }
        Source::Metainfo(bytes) => {
            (TorrentSource::Metainfo(bytes.clone()), TorrentSourceRow::Metainfo(bytes))
        }
    };
    // Noted before the engine sees it, so that `torrent_added` carries it.
    let noted = match (source_id(&engine_source).await, &trace_id) {
        (Some(id), Some(trace)) => {
            state.events().note_trace(id, trace.clone());
            Some(id)
        }
        _ => None,
    };
    let options = AddTorrentOptions {
        save_path: request.save_path.as_ref().map(Into::into),
        paused: request.paused,
        sequential: request.sequential,
        selection: request.selection.clone().unwrap_or_default(),
        download_limit: RateLimit::bytes_per_second(request.download_bps.unwrap_or(0)),
        upload_limit: RateLimit::bytes_per_second(request.upload_bps.unwrap_or(0)),
        labels: labels.clone(),
        ..AddTorrentOptions::default()
    };
    let outcome = match state.engine().add(engine_source, options).await {
        Ok(outcome) => outcome,
        Err(err) => {
            if let Some(id) = noted {
                state.events().forget_trace(id);
            }
            return Err(match err {
                // A form's file part is `/torrent`, not `/metainfo`.
                EngineError::InvalidMetainfo { .. } if from_file => {
                    ApiError::Validation(vec![InvalidParam::new("/torrent", err.to_string())])
                }
                // Indices are checked once the files are known: the rules
                // are the body's `selection`.
                EngineError::InvalidSelection { ref source } => {
                    ApiError::Validation(vec![InvalidParam::new(
                        format!("/selection{}", source.pointer()),
                        err.to_string(),
                    )])
                }
                other => other.into(),
            });
        }
    };
    let summary = outcome.summary().clone();
    let status = if outcome.is_duplicate() { StatusCode::OK } else { StatusCode::CREATED };
    if !outcome.is_duplicate() {
        state
            .store()
            .upsert_torrent(&TorrentRow {
                info_hash: summary.id,
                name: summary.name.clone(),
                category: labels.category,
                tags: labels.tags,
                save_path: summary.save_path.to_string_lossy().into_owned(),
                source: source_row,
                added_at: summary.added_at.unwrap_or_else(Utc::now),
                completed_at: None,
                trace_id,
            })
            .await?;
    }
    Ok((status, Json(summary)))
}

/// The id a source will have (`None` for a `.torrent` that does not
/// parse: the engine reports that).
async fn source_id(source: &TorrentSource) -> Option<InfoHash> {
    match source {
        TorrentSource::Magnet(uri) => Some(uri.info_hash()),
        TorrentSource::Metainfo(bytes) => {
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || Metainfo::parse(&bytes).ok().map(|m| m.id))
                .await
                .ok()
                .flatten()
        }
    }
}

/// Notes the request's trace as the last command on `id` while `command`
/// runs (so that the events it causes carry it); an unknown torrent leaves
/// no note behind.
async fn traced<T>(
    state: &ApiState,
    id: InfoHash,
    command: impl Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    if state.engine().summary(id).is_none() {
        return Err(EngineError::NotFound { id }.into());
    }
    if let Some(trace) = current_trace_id() {
        state.events().note_trace(id, trace);
    }
    command.await
}

/// `GET /v1/torrents/{id}`: everything about one torrent, with its FsOps
/// status.
#[utoipa::path(get, path = "/v1/torrents/{id}", tag = "torrents",
    params(("id" = InfoHash, Path, description = "The info-hash")),
    responses(
        (status = 200, description = "The detail view with FsOps status", body = TorrentView),
        (status = 400, description = "Not an info-hash (`/path/id`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such torrent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_torrent(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
) -> ApiResult<Json<TorrentView>> {
    let detail = state.engine().detail(id).await?;
    let jobs = state.store().fs_jobs_for(id).await?;
    Ok(Json(TorrentView { detail, fsops: jobs.last().map(fsops_view) }))
}

/// The latest FsOps job of a torrent, as the detail view shows it.
fn fsops_view(job: &FsJob) -> FsopsStatus {
    let steps = match job.journal.get("steps") {
        Some(Value::Array(steps)) => steps.clone(),
        _ => Vec::new(),
    };
    FsopsStatus {
        job: job.id,
        status: job.status.as_str().to_owned(),
        attempts: job.attempts,
        destination: job.destination.clone(),
        last_error: job.last_error.clone(),
        next_attempt_at: job.next_attempt_at,
        steps,
        updated_at: job.updated_at,
    }
}

/// `DELETE /v1/torrents/{id}?delete_data=`.
#[utoipa::path(delete, path = "/v1/torrents/{id}", tag = "torrents",
    params(("id" = InfoHash, Path, description = "The info-hash"),
        ("delete_data" = Option<bool>, Query, description = "Delete the downloaded files too")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not an info-hash, or a bad `delete_data`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such torrent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_torrent(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    RawQuery(raw): RawQuery,
) -> ApiResult<StatusCode> {
    let delete_data = delete_data(&raw)?;
    traced(&state, id, remove(&state, id, delete_data)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn delete_data(raw: &str) -> ApiResult<bool> {
    let mut delete = false;
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("delete_data", "true") => delete = true,
            ("delete_data", "false") => delete = false,
            ("delete_data", _) => {
                return Err(ApiError::Validation(vec![InvalidParam::query(
                    "delete_data",
                    "must be true or false",
                )]));
            }
            (other, _) => {
                return Err(ApiError::Validation(vec![InvalidParam::query(
                    other,
                    "is not a known parameter (delete_data)",
                )]));
            }
        }
    }
    Ok(delete)
}

async fn remove(state: &ApiState, id: InfoHash, delete_data: bool) -> ApiResult<()> {
    state.engine().remove(id, delete_data).await?;
    state.store().remove_torrent(id).await?;
    Ok(())
}

/// `POST /v1/torrents/{id}/action`.
#[utoipa::path(post, path = "/v1/torrents/{id}/action", tag = "torrents",
    params(("id" = InfoHash, Path, description = "The info-hash")),
    request_body(content = TorrentAction, example = json!({"type": "rate", "download_bps": 1_000_000, "upload_bps": null})),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "Invalid action", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such torrent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible now (metadata pending, a move running)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn torrent_action(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    ApiJson(action): ApiJson<TorrentAction>,
) -> ApiResult<StatusCode> {
    action.validate().map_err(ApiError::Validation)?;
    traced(&state, id, act(&state, id, action)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs an action on the engine.
async fn act(state: &ApiState, id: InfoHash, action: TorrentAction) -> ApiResult<()> {
    let engine = state.engine();
    match action {
        TorrentAction::Pause {} => engine.pause(id).await?,
        TorrentAction::Resume {} => engine.resume(id).await?,
        TorrentAction::Remove { delete_data } => remove(state, id, delete_data).await?,
        TorrentAction::Reannounce {} => engine.reannounce(id).await?,
        TorrentAction::Recheck {} => engine.recheck(id).await?,
        TorrentAction::Sequential { enable } => engine.set_sequential(id, enable).await?,
        TorrentAction::Rate { download_bps, upload_bps } => {
            let detail = engine.detail(id).await?;
            let cap = |value: Option<Option<u64>>, current: RateLimit| {
                value.map_or(current, |bps| RateLimit::bytes_per_second(bps.unwrap_or(0)))
            };
            engine
                .set_limits(
                    id,
                    cap(download_bps, detail.download_limit),
                    cap(upload_bps, detail.upload_limit),
                )
                .await?;
        }
        TorrentAction::Move { save_path } => engine.move_storage(id, save_path.into()).await?,
    }
    Ok(())
}

/// `POST /v1/torrents/{id}/select`: applies file selection rules; answers
/// the files with their new priorities.
#[utoipa::path(post, path = "/v1/torrents/{id}/select", tag = "torrents",
    params(("id" = InfoHash, Path, description = "The info-hash")),
    request_body(content = SelectionRules, example = json!({"include": ["*.mkv"], "exclude": ["*sample*"], "skip_fluff": true, "priorities": [{"index": 0, "priority": "high"}]})),
    responses(
        (status = 200, description = "The files with their new priorities", body = SelectResult),
        (status = 400, description = "Bad glob or unknown file index, with its pointer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such torrent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn select_files(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    ApiJson(rules): ApiJson<SelectRequest>,
) -> ApiResult<impl IntoResponse> {
    if let Err(err) = rules.compile() {
        return Err(ApiError::Validation(vec![InvalidParam::new(err.pointer(), err.to_string())]));
    }
    let files = traced(&state, id, async { Ok(state.engine().select(id, rules).await?) }).await?;
    Ok(Json(SelectResult { files }))
}
