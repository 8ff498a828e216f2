//! `revaer setup complete`: the setup token for the first API key, shown
//! once.

use reqwest::Method;
use revaer_api_models::setup::{SetupRequest, SetupResponse};

use crate::cli::SetupCommand;
use crate::client::{Client, json};
use crate::error::CliResult;
use crate::output::Output;

/// `revaer setup complete`.
pub async fn setup(client: &Client, out: Output, command: SetupCommand) -> CliResult<()> {
    let SetupCommand::Complete { token, label } = command;
    let request = SetupRequest { api_key_label: label, ..SetupRequest::default() };
    let (builder, ids) = client.request(&Method::POST, "/v1/setup/complete");
    let builder = builder.header("x-revaer-setup-token", token.trim()).json(&request);
    let done: SetupResponse = json(client.send(builder, &ids).await?).await?;
    let quiet_ok = Output { quiet: false, ..out };
    quiet_ok.print(&done, |d| {
        format!(
            "set up (settings revision {})\nfirst API key {}\ntoken (shown once): {}",
            d.revision, d.api_key.key_id, d.api_key.token
        )
    });
    Ok(())
}
