//! Command telemetry: when `REVAER_TELEMETRY_ENDPOINT` is set, each command
//! posts one JSON event there (command, outcome, exit code, duration, trace
//! id; never an argument or a secret). It is sent after the command, waits
//! at most half a second, and its failure is ignored: it never fails or
//! noticeably delays a command.

use std::time::Duration;

use serde::Serialize;

/// Longest wait for the telemetry endpoint.
const BUDGET: Duration = Duration::from_millis(500);

/// One command's event.
#[derive(Debug, Clone, Serialize)]
pub struct CommandEvent {
    /// `ls`, `add`, `tail`…
    pub command: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
    /// The exit code.
    pub exit_code: u8,
    /// How long the command took, in milliseconds.
    pub duration_ms: u64,
    /// The trace every request of the command carried.
    pub trace_id: String,
    /// The CLI's version.
    pub version: &'static str,
}

/// Posts `event` to `endpoint` within half a second, ignoring any failure.
pub async fn emit(endpoint: &str, event: &CommandEvent) {
    let Ok(client) = reqwest::Client::builder().timeout(BUDGET).connect_timeout(BUDGET).build()
    else {
        return;
    };
    let _ = tokio::time::timeout(BUDGET, client.post(endpoint).json(event).send()).await;
}
