//! `/health` (liveness) and `/health/full` (every component).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_api_models::health::{HealthReport, Liveness};
use revaer_domain::HealthStatus;

use crate::contract::problems::Unauthorized;
use crate::error::ApiResult;
use crate::state::ApiState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process answers", body = Liveness)))]
pub async fn health() -> Json<Liveness> {
    Json(Liveness { status: HealthStatus::Ok })
}

/// Every component's health; 503 when any is failing.
#[utoipa::path(get, path = "/health/full", tag = "health",
    description = "Loopback clients (container health checks, a local monitor) need no key unless the daemon runs with `--no-loopback-exemptions`; others need one. A request with a key counts against its rate limit.",
    responses(
        (status = 200, description = "`ok` or `degraded`", body = HealthReport),
        (status = 401, response = Unauthorized),
        (status = 503, description = "A component is failing", body = HealthReport),
    ))]
pub async fn health_full(
    State(state): State<ApiState>,
) -> ApiResult<(StatusCode, Json<HealthReport>)> {
    let report = state.service.health_report().await;
    let code = if report.status == HealthStatus::Failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((code, Json(report)))
}
