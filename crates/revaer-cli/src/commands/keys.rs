//! `revaer keys list|issue|rotate|revoke`. A new token is printed once,
//! even with `--quiet`.

use reqwest::Method;
use revaer_api_models::keys::{IssuedKeyView, KeyView, NewKeyRequest, RateLimitSpec};

use crate::cli::KeysCommand;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::{Output, table};

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
                        let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                        vec![
                            k.key_id.clone(),
                            k.label.clone(),
                            state.to_owned(),
                            scopes.join(","),
                            k.rate_limit.map_or("unlimited".into(), |r| {
                                format!("{}/{}s", r.burst, r.per_seconds)
                            }),
                            k.last_used_at.map_or_else(|| "-".into(), |t| t.to_rfc3339()),
                        ]
                    })
                    .collect();
                table(&["KEY", "LABEL", "STATE", "SCOPES", "RATE LIMIT", "LAST USED"], &rows)
            });
        }
        KeysCommand::Issue { label, burst, per_seconds, expires_at, scopes } => {
            let rate_limit = burst
                .zip(per_seconds)
                .map(|(burst, per_seconds)| RateLimitSpec { burst, per_seconds });
            let scopes = (!scopes.is_empty()).then_some(scopes);
            let request = NewKeyRequest { label, rate_limit, expires_at, scopes };
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
