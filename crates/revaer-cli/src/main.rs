//! `revaer`: see `revaer --help`.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser as _;
use revaer_cli::telemetry::{self, CommandEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let started = Instant::now();
    let cli = revaer_cli::cli::Cli::parse();
    let out = revaer_cli::output_of(&cli);
    let command = revaer_cli::command_name(&cli.command);
    let trace_id = revaer_cli::client::new_trace_id();
    let result = revaer_cli::run(cli, out, trace_id.clone()).await;
    let exit_code = match &result {
        Ok(()) => 0,
        Err(err) => {
            out.error(err);
            err.exit_code()
        }
    };
    // Only the binary reads the environment.
    if let Some(endpoint) =
        std::env::var("REVAER_TELEMETRY_ENDPOINT").ok().filter(|e| !e.is_empty())
    {
        let event = CommandEvent {
            command,
            outcome: if result.is_ok() { "ok" } else { "error" },
            exit_code,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            trace_id,
            version: env!("CARGO_PKG_VERSION"),
        };
        telemetry::emit(&endpoint, &event).await;
    }
    ExitCode::from(exit_code)
}
