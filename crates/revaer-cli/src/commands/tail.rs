//! `revaer tail`: the event stream, resumed from the last event printed
//! (kept in a small state file) with `Last-Event-ID`, reconnected with
//! jittered exponential back-off when the connection drops, never printing
//! an event twice, and saying so when the daemon asks for a resync.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::Method;
use revaer_api_models::events::{Event, StreamEvent};
use serde_json::Value;

use crate::cli::TailArgs;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::{Format, Output};
use crate::sse::{Frame, Parser};

/// A stream silent this long (keep-alives come every 15 s) is dropped.
pub(crate) const SILENCE: Duration = Duration::from_secs(45);
/// First reconnection delay; doubled per failed attempt up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(500);
/// Longest reconnection delay.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Where the last event id is kept by default: the user's state directory.
pub fn default_resume_file() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("revaer").join("last-event-id")
}

fn read_last(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Writes the id atomically (a new file renamed over the old one).
fn write_last(path: &Path, id: u64) -> CliResult<()> {
    let failed = |err: std::io::Error| {
        CliError::Invalid(format!("cannot write the resume file {}: {err}", path.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let part = path.with_extension("part");
    std::fs::write(&part, format!("{id}\n")).map_err(failed)?;
    std::fs::rename(&part, path).map_err(failed)
}

/// The delay before reconnection attempt `attempt` (1-based): doubling,
/// capped, plus up to as much again of random jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_START.saturating_mul(1 << attempt.saturating_sub(1).min(8)).min(BACKOFF_MAX);
    let jitter = rand::random_range(0..=base.as_millis() as u64);
    base + Duration::from_millis(jitter)
}

/// The stream's query string.
fn query(args: &TailArgs) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for id in &args.torrent {
        query.append_pair("torrent", &id.to_hex());
    }
    for kind in &args.r#type {
        query.append_pair("type", kind);
    }
    for state in &args.state {
        query.append_pair("state", state.as_str());
    }
    query.finish()
}

/// Where the tail stands.
struct Cursor {
    last: Option<u64>,
    resume: Option<PathBuf>,
}

impl Cursor {
    /// Back to no id at all (the resume file goes too).
    fn forget(&mut self) {
        self.last = None;
        if let Some(path) = &self.resume {
            let _ = std::fs::remove_file(path);
        }
    }

    fn advance(&mut self, id: u64) -> CliResult<()> {
        self.last = Some(id);
        match &self.resume {
            Some(path) => write_last(path, id),
            None => Ok(()),
        }
    }
}

/// `revaer tail`: runs until Ctrl-C (exit 0) or an error that retrying
/// cannot fix (authentication, a bad filter).
pub async fn tail(client: &Client, out: Output, args: TailArgs) -> CliResult<()> {
    let query = query(&args);
    let resume =
        (!args.no_resume).then(|| args.resume_file.clone().unwrap_or_else(default_resume_file));
    let mut cursor = Cursor { last: resume.as_deref().and_then(read_last), resume };
    let mut attempt = 0_u32;
    loop {
        let stopped = tokio::select! {
            result = stream_once(client, out, &query, &mut cursor) => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        };
        match stopped {
            None => return Ok(()),
            Some(Ok(delivered)) => {
                if delivered {
                    attempt = 0;
                }
            }
            Some(Err(err)) if retryable(&err) => {
                if client.config().verbose {
                    eprintln!("stream: {err}");
                }
            }
            Some(Err(err)) => return Err(err),
        }
        attempt = attempt.saturating_add(1);
        let wait = backoff(attempt);
        if !out.quiet {
            eprintln!("revaer: event stream lost; reconnecting in {:.1} s", wait.as_secs_f64());
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// Whether trying again may help: network failures, 429, 5xx.
pub(crate) fn retryable(err: &CliError) -> bool {
    match err {
        CliError::Network(_) => true,
        CliError::Problem(problem) => problem.status == 429 || problem.status >= 500,
        CliError::Invalid(_) | CliError::Reported(..) | CliError::OutputClosed => false,
    }
}

/// One connection: prints events until it ends; `true` if it delivered
/// anything.
async fn stream_once(
    client: &Client,
    out: Output,
    query: &str,
    cursor: &mut Cursor,
) -> CliResult<bool> {
    let path =
        if query.is_empty() { "/v1/events".to_owned() } else { format!("/v1/events?{query}") };
    let (mut builder, ids) = client.request(&Method::GET, &path);
    if let Some(last) = cursor.last {
        builder = builder.header("last-event-id", last.to_string());
    }
    let response = client.send_stream(builder, &ids).await?;
    let mut body = response.bytes_stream();
    let mut parser = Parser::default();
    let mut delivered = false;
    loop {
        let chunk = match tokio::time::timeout(SILENCE, body.next()).await {
            Err(_) => return Err(CliError::Network("the event stream went silent".into())),
            Ok(None) => return Ok(delivered),
            Ok(Some(Err(err))) => return Err(CliError::Network(format!("event stream: {err}"))),
            Ok(Some(Ok(chunk))) => chunk,
        };
        for frame in parser.feed(&chunk) {
            delivered |= handle(out, &frame, cursor)?;
        }
    }
}

/// Prints one frame unless it was printed before; `true` if printed.
fn handle(out: Output, frame: &Frame, cursor: &mut Cursor) -> CliResult<bool> {
    let Some(id) = frame.id else { return Ok(false) };
    // The id is kept before the event is printed: a tail killed in
    // between loses that one event rather than printing it twice. When the
    // reader is gone (a closed pipe) the previous id is put back, so the
    // event is not skipped either.
    // A type this client does not know (a newer daemon) is `None`.
    let event = serde_json::from_str::<StreamEvent>(&frame.data).ok();
    let resync = matches!(event.as_ref().map(|e| &e.event), Some(Event::Resync(_)));
    if !resync && cursor.last.is_some_and(|last| id <= last) {
        return Ok(false);
    }
    let previous = cursor.last;
    cursor.advance(id)?;
    let printed = if resync {
        if out.format == Format::Json {
            out.line(&frame.data)
        } else {
            if !out.quiet {
                eprintln!("revaer: events were missed (resync): refetch the state you keep");
            }
            Ok(())
        }
    } else {
        print_event(out, frame, event.as_ref())
    };
    if let Err(err) = printed {
        match previous {
            Some(previous) => cursor.advance(previous)?,
            None => cursor.forget(),
        }
        return Err(err);
    }
    Ok(true)
}

fn print_event(out: Output, frame: &Frame, event: Option<&StreamEvent>) -> CliResult<()> {
    if out.format == Format::Json {
        return out.line(&frame.data);
    }
    out.line(&crate::output::clean(&summary(frame, event)))
}

/// One line for people: when, the type, the torrent, the payload.
fn summary(frame: &Frame, event: Option<&StreamEvent>) -> String {
    let (ts, torrent, mut data) = match event {
        Some(event) => {
            let payload = serde_json::to_value(&event.event)
                .ok()
                .and_then(|mut v| v.get_mut("data").map(Value::take));
            (
                event.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                event.torrent.map_or_else(|| "-".to_owned(), |t| t.to_hex()[..12].to_owned()),
                payload.map(|p| p.to_string()).unwrap_or_default(),
            )
        }
        // A type this client does not know (a newer daemon): as sent.
        None => ("-".to_owned(), "-".to_owned(), frame.data.clone()),
    };
    if data.chars().count() > 120 {
        data = format!("{}…", data.chars().take(119).collect::<String>());
    }
    format!("{ts} {:<18} {torrent:<12} {data}", frame.event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_and_is_capped() {
        for attempt in 1..=20 {
            let wait = backoff(attempt);
            let base = BACKOFF_START.saturating_mul(1 << (attempt - 1).min(8)).min(BACKOFF_MAX);
            assert!(wait >= base && wait <= base * 2, "attempt {attempt}: {wait:?}");
        }
        assert!(backoff(30) <= BACKOFF_MAX * 2);
    }

    #[test]
    fn resume_ids_are_written_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("deep/last-event-id");
        write_last(&path, 42).expect("write");
        assert_eq!(read_last(&path), Some(42));
        assert!(!path.with_extension("part").exists());
    }
}
