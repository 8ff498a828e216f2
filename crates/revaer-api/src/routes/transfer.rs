//! `/v1/transfer`: the session's rates and totals, and its global caps.

use axum::Json;
use axum::extract::State;
use revaer_api_models::{Problem, TransferLimits, TransferStats};
use revaer_domain::settings::Changeset;
use revaer_store::ChangeContext;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::ApiState;

/// `GET /v1/transfer`: rates and totals over every torrent, with the caps
/// the engine enforces now.
#[utoipa::path(get, path = "/v1/transfer", tag = "transfer",
    responses((status = 200, description = "Rates, totals and caps", body = TransferStats)))]
pub async fn get_transfer(_: Authenticated, State(state): State<ApiState>) -> Json<TransferStats> {
    let session = state.engine().settings();
    Json(stats(&state, session.download_limit.get(), session.upload_limit.get()))
}

/// `POST /v1/transfer/limits`: stores new global caps in the settings
/// (every daemon sharing the database applies them through its watcher);
/// answers the stats with the caps as stored.
#[utoipa::path(post, path = "/v1/transfer/limits", tag = "transfer",
    request_body(content = TransferLimits, example = json!({"download_bps": 5_000_000, "upload_bps": null})),
    responses(
        (status = 200, description = "The stats with the caps as stored", body = TransferStats),
        (status = 400, description = "Invalid caps", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The settings refuse the change (an operator made the caps immutable)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_limits(
    Authenticated(key): Authenticated,
    State(state): State<ApiState>,
    ApiJson(limits): ApiJson<TransferLimits>,
) -> ApiResult<Json<TransferStats>> {
    limits.validate().map_err(ApiError::Validation)?;
    let context = ChangeContext::new(key.key_id.clone()).because("POST /v1/transfer/limits");
    let snapshot = state.store().apply_changeset(&Changeset(limits.changeset()), &context).await?;
    let profile = &snapshot.settings.engine_profile;
    Ok(Json(stats(&state, profile.download_limit_bps, profile.upload_limit_bps)))
}

fn stats(state: &ApiState, download_cap: Option<u64>, upload_cap: Option<u64>) -> TransferStats {
    TransferStats {
        download_limit_bps: download_cap,
        upload_limit_bps: upload_cap,
        ..totals(&state.engine().list())
    }
}

/// Rates and totals summed over `torrents` (caps left unset); `/metrics`
/// reads the same figures.
pub(crate) fn totals(torrents: &[std::sync::Arc<revaer_domain::TorrentSummary>]) -> TransferStats {
    let sum = |field: fn(&revaer_domain::TorrentSummary) -> u64| {
        torrents.iter().map(|t| field(t)).fold(0_u64, u64::saturating_add)
    };
    TransferStats {
        download_bps: sum(|t| t.download_bps),
        upload_bps: sum(|t| t.upload_bps),
        downloaded: sum(|t| t.downloaded),
        uploaded: sum(|t| t.uploaded),
        peers: u32::try_from(sum(|t| u64::from(t.peers))).unwrap_or(u32::MAX),
        torrents: u32::try_from(torrents.len()).unwrap_or(u32::MAX),
        download_limit_bps: None,
        upload_limit_bps: None,
    }
}
