//! `revaer`: see `revaer --help`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser as _;
use revaer_cli::telemetry::{self, CommandEvent};

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start: {err}");
            return ExitCode::from(10);
        }
    };
    let code = runtime.block_on(run());
    // Whatever is still resolving or sending (telemetry) is not waited for.
    runtime.shutdown_timeout(Duration::ZERO);
    code
}

async fn run() -> ExitCode {
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
            outcome: if exit_code == 0 { "ok" } else { "error" },
            exit_code,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            trace_id,
            version: env!("CARGO_PKG_VERSION"),
        };
        telemetry::emit(&endpoint, &event).await;
    }
    ExitCode::from(exit_code)
}
