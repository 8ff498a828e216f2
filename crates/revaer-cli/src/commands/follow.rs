//! `revaer status --follow`: one torrent's detail, then its progress live
//! from the event stream until it completes (exit 0), fails (10) or is
//! removed (4); Ctrl-C stops watching (0).

use std::io::{IsTerminal as _, Write as _};

use futures_util::StreamExt as _;
use reqwest::Method;
use revaer_api_models::events::{Event, StreamEvent};
use revaer_api_models::{Problem, TorrentView};
use revaer_domain::InfoHash;
use revaer_domain::event::Progress;

use crate::client::Client;
use crate::commands::tail::{SILENCE, backoff, retryable};
use crate::error::{CliError, CliResult};
use crate::output::{Format, Output, bytes, eta};
use crate::sse::Parser;

/// How watching ended.
enum End {
    Completed,
    Failed(String),
    Removed,
}

/// Follows torrent `id`.
pub async fn follow(client: &Client, out: Output, id: InfoHash) -> CliResult<()> {
    let id = id.to_hex();
    let id = id.as_str();
    let mut last: Option<u64> = None;
    let mut attempt = 0_u32;
    loop {
        let watched = tokio::select! {
            result = watch(client, out, id, &mut last) => result,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match watched {
            Ok(Some(End::Completed)) => {
                if out.format == Format::Table && std::io::stderr().is_terminal() {
                    eprintln!();
                }
                out.note("completed");
                return Ok(());
            }
            Ok(Some(End::Failed(message))) => {
                let problem =
                    Problem::new("torrent-failed", "The torrent failed", 500).detail(message);
                return Err(CliError::Problem(Box::new(problem)));
            }
            Ok(Some(End::Removed)) => {
                let problem = Problem::new("not-found", "Not found", 404)
                    .detail(format!("torrent {id} was removed"));
                return Err(CliError::Problem(Box::new(problem)));
            }
            // The stream dropped: resume after the last event seen.
            Ok(None) => attempt = 0,
            Err(err) if retryable(&err) => {}
            Err(err) => return Err(err),
        }
        attempt = attempt.saturating_add(1);
        tokio::select! {
            () = tokio::time::sleep(backoff(attempt)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// One connection: subscribes first, then reads the detail (so that a
/// completion in between is not missed), then follows events.
async fn watch(
    client: &Client,
    out: Output,
    id: &str,
    last: &mut Option<u64>,
) -> CliResult<Option<End>> {
    let (mut builder, ids) = client.request(&Method::GET, &format!("/v1/events?torrent={id}"));
    if let Some(last) = *last {
        builder = builder.header("last-event-id", last.to_string());
    }
    let response = client.send_stream(builder, &ids).await?;
    if last.is_none() {
        let view: TorrentView = client.get(&format!("/v1/torrents/{id}")).await?;
        let s = &view.detail.summary;
        out.note(&crate::output::clean(&format!("{} ({})", s.name, s.state.as_str())));
        if out.format == Format::Json {
            out.line(&serde_json::to_string(&view).unwrap_or_default())?;
        }
        if let Some(end) = settled(&view) {
            return Ok(Some(end));
        }
    }
    let mut body = response.bytes_stream();
    let mut parser = Parser::default();
    loop {
        let chunk = match tokio::time::timeout(SILENCE, body.next()).await {
            Err(_) => return Err(CliError::Network("the event stream went silent".into())),
            Ok(None) => return Ok(None),
            Ok(Some(chunk)) => {
                chunk.map_err(|err| CliError::Network(format!("event stream: {err}")))?
            }
        };
        for frame in parser.feed(&chunk) {
            let Some(frame_id) = frame.id else { continue };
            // An event type this client does not know (a newer daemon) is
            // skipped.
            let Ok(event) = serde_json::from_str::<StreamEvent>(&frame.data) else { continue };
            let resync = matches!(event.event, Event::Resync(_));
            if !resync && last.is_some_and(|seen| frame_id <= seen) {
                continue;
            }
            *last = Some(frame_id);
            if out.format == Format::Json {
                out.line(&frame.data)?;
            }
            match event.event {
                Event::Progress(progress) => draw(out, &progress),
                Event::Completed(_) => return Ok(Some(End::Completed)),
                Event::Removed(_) => return Ok(Some(End::Removed)),
                Event::TorrentError(error) => return Ok(Some(End::Failed(error.message))),
                // Events were lost: the end may be among them; ask.
                Event::Resync(_) | Event::EventsDropped(_) => {
                    let view: TorrentView = client.get(&format!("/v1/torrents/{id}")).await?;
                    if let Some(end) = settled(&view) {
                        return Ok(Some(end));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether the torrent has already completed or failed.
fn settled(view: &TorrentView) -> Option<End> {
    let s = &view.detail.summary;
    if s.state == revaer_domain::TorrentState::Error {
        return Some(End::Failed(view.detail.error.clone().unwrap_or_else(|| "error".to_owned())));
    }
    (s.completed_at.is_some() && s.progress >= 1.0).then_some(End::Completed)
}

/// A progress bar on stderr (redrawn in place on a terminal).
fn draw(out: Output, progress: &Progress) {
    if out.quiet || out.format == Format::Json {
        return;
    }
    let line = bar(progress);
    let mut stderr = std::io::stderr().lock();
    if std::io::stderr().is_terminal() {
        let _ = write!(stderr, "\r{line}");
    } else {
        let _ = writeln!(stderr, "{line}");
    }
    let _ = stderr.flush();
}

/// `[######........................]  20.0% 1.5 MB/s eta 12s`.
fn bar(progress: &Progress) -> String {
    let fraction = progress.progress.clamp(0.0, 1.0);
    let filled = (fraction * 30.0).round() as usize;
    format!(
        "[{}{}] {:5.1}% {}/s eta {}",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        fraction * 100.0,
        bytes(progress.download_bps),
        eta(progress.eta_secs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_progress_rate_and_eta() {
        let progress = Progress {
            torrent: InfoHash::from_bytes([1; 20]),
            progress: 0.5,
            bytes_done: 5,
            bytes_wanted: 10,
            download_bps: 2048,
            upload_bps: 0,
            eta_secs: Some(75),
        };
        let line = bar(&progress);
        assert!(line.starts_with(&format!("[{}{}]", "#".repeat(15), ".".repeat(15))), "{line}");
        assert!(line.contains(" 50.0% ") && line.ends_with("eta 1m15s"), "{line}");
        assert!(bar(&Progress { eta_secs: None, ..progress }).ends_with("eta -"));
    }
}
