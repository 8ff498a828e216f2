//! `/v1/torrents`: list, add, detail, remove, actions, file selection.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use revaer_api_models::torrent::{Source, ValidAdd};
use revaer_api_models::{
    AddTorrentRequest, InvalidParam, ListQuery, SelectRequest, SelectResult, TorrentAction,
    TorrentPage, TorrentView,
};
use revaer_domain::{CompiledSelection, RateLimit, SelectionRules, TorrentSummary};
use revaer_engine::{AddTorrentOptions, EngineError, TorrentSource};
use revaer_service::ServiceError;
use revaer_service::torrents::compile_selection;

use crate::auth::Authenticated;
use crate::contract::params::ListParams;
use crate::contract::problems::{
    BadRequest, Conflict, NotFound, PathOutsideRoots, PayloadTooLarge, ServiceUnavailable,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, RawQuery, TorrentId};
use crate::form::{AddBody, AddTorrentForm};
use crate::state::ApiState;

/// `GET /v1/torrents`: a page of torrents.
#[utoipa::path(get, path = "/v1/torrents", tag = "torrents",
    params(ListParams),
    responses(
        (status = 200, description = "A page", body = TorrentPage),
        (status = 400, response = BadRequest),
    ))]
pub async fn list_torrents(
    _: Authenticated,
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TorrentPage>> {
    let query = ListQuery::parse(&raw).map_err(ApiError::Validation)?;
    Ok(Json(state.service.list_torrents(&query)))
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
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = PathOutsideRoots),
        (status = 503, response = ServiceUnavailable),
    ))]
pub async fn add_torrent(
    key: Authenticated,
    State(state): State<ApiState>,
    AddBody { request, file }: AddBody,
) -> ApiResult<impl IntoResponse> {
    let from_file = file.is_some();
    let ValidAdd { source, labels } =
        request.validate_with_file(file).map_err(ApiError::Validation)?;
    let source = match source {
        Source::Magnet(uri) => TorrentSource::Magnet(uri),
        Source::Metainfo(bytes) => TorrentSource::Metainfo(bytes),
    };
    let selection = match request.selection.clone() {
        Some(rules) => compile_selection(rules, "/selection").await?,
        None => CompiledSelection::default(),
    };
    let options = AddTorrentOptions {
        save_path: request.save_path.as_ref().map(Into::into),
        paused: request.paused,
        sequential: request.sequential,
        first_last_piece: request.first_last_piece,
        content_layout: request.content_layout,
        skip_checking: request.skip_checking,
        selection,
        download_limit: RateLimit::bytes_per_second(request.download_bps.unwrap_or(0)),
        upload_limit: RateLimit::bytes_per_second(request.upload_bps.unwrap_or(0)),
        share_limits: request.share_limits.unwrap_or_default(),
        labels,
        ..AddTorrentOptions::default()
    };
    let outcome = state
        .service
        .add_torrent(&key.caller(), source, options)
        .await
        .map_err(|err| add_error(err, from_file))?;
    let status = if outcome.is_duplicate() { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(outcome.summary().clone())))
}

/// Where an add's engine errors point in the request.
fn add_error(err: ServiceError, from_file: bool) -> ApiError {
    match err {
        // A form's file part is `/torrent`, not `/metainfo`.
        ServiceError::Engine(err @ EngineError::InvalidMetainfo { .. }) if from_file => {
            ApiError::Validation(vec![InvalidParam::new("/torrent", err.to_string())])
        }
        // Indices are checked once the files are known: the rules are the
        // body's `selection`.
        ServiceError::Engine(ref engine @ EngineError::InvalidSelection { ref source }) => {
            ApiError::Validation(vec![InvalidParam::new(
                format!("/selection{}", source.pointer()),
                engine.to_string(),
            )])
        }
        other => other.into(),
    }
}

/// `GET /v1/torrents/{id}`: everything about one torrent, with its FsOps
/// status.
#[utoipa::path(get, path = "/v1/torrents/{id}", tag = "torrents",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")),
    responses(
        (status = 200, description = "The detail view with FsOps status", body = TorrentView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn get_torrent(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
) -> ApiResult<Json<TorrentView>> {
    Ok(Json(state.service.torrent(id).await?))
}

/// `DELETE /v1/torrents/{id}?delete_data=`.
#[utoipa::path(delete, path = "/v1/torrents/{id}", tag = "torrents",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$"),
        ("delete_data" = Option<bool>, Query, description = "Delete the downloaded files too")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn delete_torrent(
    key: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    RawQuery(raw): RawQuery,
) -> ApiResult<StatusCode> {
    let delete_data = delete_data(&raw)?;
    state.service.remove_torrent(&key.caller(), id, delete_data).await?;
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

/// `POST /v1/torrents/{id}/action`.
#[utoipa::path(post, path = "/v1/torrents/{id}/action", tag = "torrents",
    description = "409 when the action is not possible now (metadata pending, a move running).",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")),
    request_body(content = TorrentAction, example = json!({"type": "rate", "download_bps": 1_000_000, "upload_bps": null})),
    responses(
        (status = 204, description = "Done"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = PathOutsideRoots),
    ))]
pub async fn torrent_action(
    key: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    ApiJson(action): ApiJson<TorrentAction>,
) -> ApiResult<StatusCode> {
    state.service.act(&key.caller(), id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/torrents/{id}/select`: applies file selection rules; answers
/// the files with their new priorities.
#[utoipa::path(post, path = "/v1/torrents/{id}/select", tag = "torrents",
    description = "409 while a magnet's metadata is pending (the files are not known yet).",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")),
    request_body(content = SelectionRules, example = json!({"include": ["*.mkv"], "exclude": ["*sample*"], "skip_fluff": true, "priorities": [{"index": 0, "priority": "high"}]})),
    responses(
        (status = 200, description = "The files with their new priorities", body = SelectResult),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ))]
pub async fn select_files(
    key: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
    ApiJson(rules): ApiJson<SelectRequest>,
) -> ApiResult<Json<SelectResult>> {
    let files = state.service.select_files(&key.caller(), id, rules).await?;
    Ok(Json(SelectResult { files }))
}
