//! `/v1/torrents/{id}/peers` and `/v1/torrents/{id}/pieces`: a torrent's
//! swarm as the engine sees it now.

use axum::Json;
use axum::extract::State;
use revaer_api_models::PeerList;
use revaer_domain::PieceMap;

use crate::auth::Authenticated;
use crate::contract::problems::{BadRequest, NotFound};
use crate::error::ApiResult;
use crate::extract::TorrentId;
use crate::state::ApiState;

/// `GET /v1/torrents/{id}/peers`: the peers connected now.
#[utoipa::path(get, path = "/v1/torrents/{id}/peers", tag = "torrents",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")),
    responses(
        (status = 200, description = "The connected peers", body = PeerList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn torrent_peers(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
) -> ApiResult<Json<PeerList>> {
    Ok(Json(PeerList { peers: state.service.peers(id).await? }))
}

/// `GET /v1/torrents/{id}/pieces`: one digit per piece (`0` missing, `1`
/// downloading, `2` had; empty before the metadata arrives).
#[utoipa::path(get, path = "/v1/torrents/{id}/pieces", tag = "torrents",
    params(("id" = String, Path, description = "The info-hash: 40 hex digits, or 32 base32 letters", pattern = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")),
    responses(
        (status = 200, description = "The piece map", body = PieceMap),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn torrent_pieces(
    _: Authenticated,
    State(state): State<ApiState>,
    TorrentId(id): TorrentId,
) -> ApiResult<Json<PieceMap>> {
    Ok(Json(state.service.pieces(id).await?))
}
