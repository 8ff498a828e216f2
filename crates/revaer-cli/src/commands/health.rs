//! `revaer health [--full]`: liveness, or every component (exit 10 when
//! the daemon is failing).

use reqwest::Method;
use revaer_api_models::health::{HealthReport, Liveness};

use crate::client::{self, Client, json};
use crate::error::{CliError, CliResult};
use crate::output::{Output, table};

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
