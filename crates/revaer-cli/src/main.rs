//! `revaer`: see `revaer --help`.

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = revaer_cli::cli::Cli::parse();
    let out = revaer_cli::output_of(&cli);
    match revaer_cli::run(cli, out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
