//! `revaer config get|set`: the settings and their revision; changes as
//! `key.path=value` pairs or a changeset file, optionally only at a
//! revision (`If-Match`).

use reqwest::Method;
use revaer_domain::settings::SettingsSnapshot;
use serde_json::{Map, Value};

use crate::cli::ConfigCommand;
use crate::client::{Client, json};
use crate::error::{CliError, CliResult};
use crate::output::Output;
use crate::parse;

/// `revaer config get|set`.
pub async fn config(client: &Client, out: Output, command: ConfigCommand) -> CliResult<()> {
    let snapshot: SettingsSnapshot = match command {
        ConfigCommand::Get => client.get("/v1/config").await?,
        ConfigCommand::Set { pairs, file, if_revision } => {
            let changes: Map<String, Value> = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|err| {
                        CliError::Invalid(format!("cannot read {}: {err}", path.display()))
                    })?;
                    serde_json::from_str(&text).map_err(|err| {
                        CliError::Invalid(format!("{}: not a JSON object: {err}", path.display()))
                    })?
                }
                None if pairs.is_empty() => {
                    return Err(CliError::Invalid("give key.path=value pairs or --file".into()));
                }
                None => parse::changeset(&pairs)?,
            };
            let (mut builder, ids) = client.request(&Method::PATCH, "/v1/config");
            if let Some(revision) = if_revision {
                builder = builder.header("if-match", format!("\"{revision}\""));
            }
            json(client.send(builder.json(&changes), &ids).await?).await?
        }
    };
    out.print(&snapshot, |s| {
        let body = serde_json::to_string_pretty(&s.settings).unwrap_or_default();
        format!("revision {}\n{body}", s.revision)
    });
    Ok(())
}
