//! `transfer/info`: the session's rates, totals and caps.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::state::QbitState;

/// `transfer/info`.
#[derive(Debug, Clone, Serialize)]
pub struct TransferInfo {
    dl_info_speed: u64,
    dl_info_data: u64,
    up_info_speed: u64,
    up_info_data: u64,
    dl_rate_limit: u64,
    up_rate_limit: u64,
    dht_nodes: u64,
    connection_status: &'static str,
}

/// `transfer/info`: `connected` while the engine listens, else
/// `disconnected`.
pub async fn info(State(state): State<QbitState>) -> Json<TransferInfo> {
    let totals = state.service.transfer();
    let health = state.service.engine().health();
    Json(TransferInfo {
        dl_info_speed: totals.download_bps,
        dl_info_data: totals.downloaded,
        up_info_speed: totals.upload_bps,
        up_info_data: totals.uploaded,
        dl_rate_limit: totals.download_limit_bps.unwrap_or(0),
        up_rate_limit: totals.upload_limit_bps.unwrap_or(0),
        dht_nodes: health.dht_nodes.unwrap_or(0),
        connection_status: if health.listen_port.is_some() { "connected" } else { "disconnected" },
    })
}
