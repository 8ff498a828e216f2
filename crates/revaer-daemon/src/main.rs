//! `revaerd`: parses flags, sets up logging, runs the daemon.

use clap::Parser as _;
use revaer_daemon::app;
use revaer_daemon::config::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    app::init_logging();
    match app::run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("revaerd: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
