//! `revaer`, the command-line client of a Revaer daemon: every capability
//! of the `/v1` API, with the API's own request and response types
//! (`revaer-api-models`), tables for people and JSON for scripts, Problem
//! summaries on stderr and structured exit codes (see [`error`]).
//!
//! # Layout
//! - [`cli`]: the clap definitions.
//! - [`client`]: HTTP with trace ids and Problem decoding.
//! - [`commands`]: one module per command.
//! - [`output`]: tables, JSON and error output.
//! - [`parse`]: rates with units, priorities, settings pairs.
//! - [`sse`]: the event stream's frames.
//! - [`telemetry`]: one event per command, when asked for.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod client;
pub mod commands;
pub mod error;
pub mod output;
pub mod parse;
pub mod sse;
pub mod telemetry;

use std::io::IsTerminal as _;
use std::time::Duration;

use cli::{Cli, Command};
use client::{Client, ClientConfig};
use error::{CliError, CliResult};
use output::{Format, Output};

/// The output settings the options ask for.
pub fn output_of(cli: &Cli) -> Output {
    let format = cli.output.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() { Format::Table } else { Format::Json }
    });
    Output { format, quiet: cli.quiet }
}

/// The API key: the first line of `--api-key-file` when given, else
/// `--api-key`/`REVAER_API_KEY`.
fn api_key(cli: &Cli) -> CliResult<Option<String>> {
    if let Some(path) = &cli.api_key_file {
        let text = std::fs::read_to_string(path)
            .map_err(|err| CliError::Invalid(format!("cannot read {}: {err}", path.display())))?;
        let key = text.lines().next().unwrap_or_default().trim().to_owned();
        if key.is_empty() {
            return Err(CliError::Invalid(format!("{} holds no key", path.display())));
        }
        return Ok(Some(key));
    }
    Ok(cli.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned))
}

/// The command's name, for telemetry.
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Ls(_) => "ls",
        Command::Add(_) => "add",
        Command::Status { follow: false, .. } => "status",
        Command::Status { follow: true, .. } => "status --follow",
        Command::Peers { .. } => "peers",
        Command::Pieces { .. } => "pieces",
        Command::Select(_) => "select",
        Command::Action { .. } => "action",
        Command::Transfer(_) => "transfer",
        Command::Config { .. } => "config",
        Command::Keys { .. } => "keys",
        Command::Setup { .. } => "setup",
        Command::Tail(_) => "tail",
        Command::Completions { .. } => "completions",
        Command::Man => "man",
        Command::Health { .. } => "health",
    }
}

/// Runs a parsed command line under trace `trace_id`; the error decides
/// the exit code.
pub async fn run(cli: Cli, out: Output, trace_id: String) -> CliResult<()> {
    use commands::{
        action, add, config, follow, health, keys, ls, select, setup, status, swarm, tail, transfer,
    };
    // Local commands: nothing to connect to.
    match &cli.command {
        Command::Completions { shell } => {
            print_completions(*shell);
            return Ok(());
        }
        Command::Man => return print_man(),
        _ => {}
    }
    let config = ClientConfig {
        base: cli.api_url.clone(),
        api_key: api_key(&cli)?,
        timeout: Duration::from_secs(cli.timeout),
        verbose: cli.verbose,
        retry: cli.retry,
    };
    let client = Client::new(config, trace_id)?;
    match cli.command {
        Command::Ls(args) => ls::list(&client, out, args).await,
        Command::Add(args) => add::add(&client, out, args).await,
        Command::Status { id, follow: false } => status::status(&client, out, id).await,
        Command::Status { id, follow: true } => follow::follow(&client, out, id).await,
        Command::Peers { id } => swarm::peers(&client, out, id).await,
        Command::Pieces { id } => swarm::pieces(&client, out, id).await,
        Command::Select(args) => select::select(&client, out, args).await,
        Command::Action { action: command } => action::action(&client, out, command).await,
        Command::Transfer(args) => transfer::transfer(&client, out, args).await,
        Command::Config { command } => config::config(&client, out, command).await,
        Command::Keys { command } => keys::keys(&client, out, command).await,
        Command::Setup { command } => setup::setup(&client, out, command).await,
        Command::Health { full } => health::health(&client, out, full).await,
        Command::Tail(args) => tail::tail(&client, out, args).await,
        Command::Completions { .. } | Command::Man => Ok(()),
    }
}

/// `revaer completions SHELL`: generated from the clap definitions.
fn print_completions(shell: clap_complete::Shell) {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "revaer", &mut std::io::stdout());
}

/// `revaer man`: the man page, generated from the clap definitions.
fn print_man() -> CliResult<()> {
    let command = <Cli as clap::CommandFactory>::command();
    clap_mangen::Man::new(command)
        .render(&mut std::io::stdout())
        .map_err(|err| CliError::Invalid(format!("cannot write the man page: {err}")))
}
