//! `/v1/transfer`: the session's rates and totals, and its global caps.

use axum::Json;
use axum::extract::State;
use revaer_api_models::{TransferLimits, TransferStats};

use crate::auth::Authenticated;
use crate::contract::problems::{BadRequest, UnprocessableSettings};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::ApiState;

/// `GET /v1/transfer`: rates and totals over every torrent, with the caps
/// the engine enforces now.
#[utoipa::path(get, path = "/v1/transfer", tag = "transfer",
    responses((status = 200, description = "Rates, totals and caps", body = TransferStats)))]
pub async fn get_transfer(_: Authenticated, State(state): State<ApiState>) -> Json<TransferStats> {
    Json(state.service.transfer())
}

/// `POST /v1/transfer/limits`: stores new global caps in the settings
/// (every daemon sharing the database applies them through its watcher);
/// answers the stats with the caps as stored.
#[utoipa::path(post, path = "/v1/transfer/limits", tag = "transfer",
    description = "422 when the settings refuse the change (an operator made the caps immutable).",
    request_body(content = TransferLimits, example = json!({"download_bps": 5_000_000, "upload_bps": null})),
    responses(
        (status = 200, description = "The stats with the caps as stored", body = TransferStats),
        (status = 400, response = BadRequest),
        (status = 422, response = UnprocessableSettings),
    ))]
pub async fn set_limits(
    key: Authenticated,
    State(state): State<ApiState>,
    ApiJson(limits): ApiJson<TransferLimits>,
) -> ApiResult<Json<TransferStats>> {
    let reason = "POST /v1/transfer/limits";
    Ok(Json(state.service.set_transfer_limits(&key.caller(), &limits, reason).await?))
}
