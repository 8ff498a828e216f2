//! `revaer status`: one torrent in detail (`--follow`: see [`super::follow`]).

use std::fmt::Write as _;

use revaer_api_models::TorrentView;
use revaer_domain::InfoHash;

use super::priority;
use crate::client::Client;
use crate::error::CliResult;
use crate::output::{Output, bytes, eta, table};

/// `revaer status`.
pub async fn status(client: &Client, out: Output, id: InfoHash) -> CliResult<()> {
    let view: TorrentView = client.get(&format!("/v1/torrents/{}", id.to_hex())).await?;
    out.print(&view, detail_text);
    Ok(())
}

fn detail_text(view: &TorrentView) -> String {
    let d = &view.detail;
    let s = &d.summary;
    let mut text = format!(
        "{}\n  id        {}\n  state     {} ({:.1}%, {} of {})\n  rates     down {}/s, up {}/s, ratio {:.2}, eta {}\n  peers     {} ({} seeds)\n  path      {}\n",
        s.name,
        s.id,
        s.state.as_str(),
        s.progress * 100.0,
        bytes(s.bytes_done),
        bytes(s.bytes_wanted),
        bytes(s.download_bps),
        bytes(s.upload_bps),
        s.ratio,
        eta(s.eta_secs),
        s.peers,
        s.seeds,
        d.summary.content_path.display(),
    );
    if let Some(error) = &d.error {
        let _ = writeln!(text, "  error     {error}");
    }
    let files: Vec<Vec<String>> = d
        .files
        .iter()
        .map(|f| vec![f.index.to_string(), f.path.clone(), bytes(f.size), priority(f.priority)])
        .collect();
    let _ = write!(text, "\n{}", table(&["#", "FILE", "SIZE", "PRIORITY"], &files));
    let trackers: Vec<Vec<String>> = d
        .trackers
        .iter()
        .map(|t| {
            vec![
                t.url.clone(),
                format!("{:?}", t.status).to_lowercase(),
                t.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !trackers.is_empty() {
        let _ = write!(text, "\n{}", table(&["TRACKER", "STATUS", "MESSAGE"], &trackers));
    }
    match &view.fsops {
        None => text.push_str("\npost-processing: not yet (the torrent has not completed)\n"),
        Some(job) => {
            let _ = write!(
                text,
                "\npost-processing: {} (attempt {}){}{}\n",
                job.status,
                job.attempts,
                job.destination.as_deref().map(|d| format!(", into {d}")).unwrap_or_default(),
                job.last_error.as_deref().map(|e| format!(", last error: {e}")).unwrap_or_default(),
            );
            for step in &job.steps {
                let _ = writeln!(text, "  {:<12} {}", step.step.as_str(), step.outcome.as_str());
            }
        }
    }
    text
}
