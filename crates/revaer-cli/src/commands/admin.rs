//! `config`, `keys`, `setup`, `health` and `transfer`.

use reqwest::Method;
use revaer_api_models::health::{HealthReport, Liveness};
use revaer_api_models::keys::{IssuedKeyView, KeyView, NewKeyRequest, RateLimitSpec};
use revaer_api_models::setup::{SetupRequest, SetupResponse};
use revaer_api_models::{TransferLimits, TransferStats};
use revaer_domain::settings::SettingsSnapshot;
use serde_json::{Map, Value};

use crate::cli::{ConfigCommand, KeysCommand, SetupCommand};
use crate::client::{self, Client, json};
use crate::error::{CliError, CliResult};
use crate::output::{Output, bytes, table};
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

/// `revaer keys …`.
pub async fn keys(client: &Client, out: Output, command: KeysCommand) -> CliResult<()> {
    match command {
        KeysCommand::List => {
            let keys: Vec<KeyView> = client.get("/v1/keys").await?;
            out.print(&keys, |keys| {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        let expired = k.expires_at.is_some_and(|at| at <= chrono::Utc::now());
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else if expired {
                            "expired"
                        } else if k.enabled {
                            "active"
                        } else {
                            "disabled"
                        };
                        vec![
                            k.key_id.clone(),
                            k.label.clone(),
                            state.to_owned(),
                            k.rate_limit.map_or("unlimited".into(), |r| {
                                format!("{}/{}s", r.burst, r.per_seconds)
                            }),
                            k.last_used_at.map_or_else(|| "-".into(), |t| t.to_rfc3339()),
                        ]
                    })
                    .collect();
                table(&["KEY", "LABEL", "STATE", "RATE LIMIT", "LAST USED"], &rows)
            });
        }
        KeysCommand::Issue { label, burst, per_seconds, expires_at } => {
            let expires_at = expires_at
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|t| t.to_utc())
                        .map_err(|err| CliError::Invalid(format!("--expires-at `{t}`: {err}")))
                })
                .transpose()?;
            let rate_limit = burst
                .zip(per_seconds)
                .map(|(burst, per_seconds)| RateLimitSpec { burst, per_seconds });
            let request = NewKeyRequest { label, rate_limit, expires_at };
            let issued: IssuedKeyView =
                client.send_json(Method::POST, "/v1/keys", &request).await?;
            print_issued(out, &issued);
        }
        KeysCommand::Rotate { key_id } => {
            let path = format!("/v1/keys/{}/rotate", key_path(&key_id)?);
            let issued: IssuedKeyView = client.send_json(Method::POST, &path, &()).await?;
            print_issued(out, &issued);
        }
        KeysCommand::Revoke { key_id } => {
            let path = format!("/v1/keys/{}", key_path(&key_id)?);
            client.send_empty::<()>(Method::DELETE, &path, None).await?;
            out.note(&format!("revoked {key_id}"));
        }
    }
    Ok(())
}

fn key_path(key_id: &str) -> CliResult<&str> {
    if key_id.is_empty() || key_id.len() > 64 || !key_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(CliError::Invalid(format!("`{key_id}` is not a key id")));
    }
    Ok(key_id)
}

/// A new token is printed once, for people and scripts alike (even with
/// `--quiet`: it cannot be shown again).
fn print_issued(out: Output, issued: &IssuedKeyView) {
    let quiet_ok = Output { quiet: false, ..out };
    quiet_ok.print(issued, |k| {
        format!("key {} ({})\ntoken (shown once): {}", k.key.key_id, k.key.label, k.token)
    });
}

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

/// `revaer health [--full]`: exits 10 when the daemon is failing.
pub async fn health(client: &Client, out: Output, full: bool) -> CliResult<()> {
    if !full {
        let live: Liveness = client.get("/health").await?;
        out.print(&live, |l| format!("{:?}", l.status).to_lowercase());
        return Ok(());
    }
    let (builder, ids) = client.request(&Method::GET, "/health/full");
    // A failing daemon answers 503 with the report: print it, exit 10.
    let response = client.send_raw(builder).await?;
    let failing = response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE;
    if !response.status().is_success() && !failing {
        return Err(client::problem(response, &ids).await);
    }
    let report: HealthReport = json(response).await?;
    out.print(&report, |r| {
        let rows: Vec<Vec<String>> = r
            .components
            .statuses()
            .into_iter()
            .map(|(name, status, reason)| {
                vec![
                    name.as_str().to_owned(),
                    format!("{status:?}").to_lowercase(),
                    reason.unwrap_or("").to_owned(),
                ]
            })
            .collect();
        format!(
            "{} (revaerd {}, {})\n{}",
            format!("{:?}", r.status).to_lowercase(),
            r.version,
            r.git_revision,
            table(&["COMPONENT", "STATUS", "REASON"], &rows)
        )
    });
    if failing {
        // Quiet: the report was not shown, so the error must be.
        if out.quiet {
            return Err(CliError::Network("the daemon is failing".into()));
        }
        return Err(CliError::Reported(10, "the daemon is failing".into()));
    }
    Ok(())
}

/// `revaer transfer [--download X] [--upload Y]`.
pub async fn transfer(
    client: &Client,
    out: Output,
    download: Option<String>,
    upload: Option<String>,
) -> CliResult<()> {
    let stats: TransferStats = if download.is_none() && upload.is_none() {
        client.get("/v1/transfer").await?
    } else {
        let limits = TransferLimits {
            download_bps: download.as_deref().map(parse::rate).transpose()?,
            upload_bps: upload.as_deref().map(parse::rate).transpose()?,
        };
        client.send_json(Method::POST, "/v1/transfer/limits", &limits).await?
    };
    out.print(&stats, |s| {
        let cap = |c: Option<u64>| c.map_or("unlimited".to_owned(), |b| format!("{}/s", bytes(b)));
        format!(
            "down {}/s (cap {}), up {}/s (cap {})\n{} torrents, {} peers; {} down, {} up",
            bytes(s.download_bps),
            cap(s.download_limit_bps),
            bytes(s.upload_bps),
            cap(s.upload_limit_bps),
            s.torrents,
            s.peers,
            bytes(s.downloaded),
            bytes(s.uploaded)
        )
    });
    Ok(())
}
