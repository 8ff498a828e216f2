//! `GET /v1/events`: the event stream (Server-Sent Events), filtered, with
//! `Last-Event-ID` replay and an explicit `resync` when the gap cannot be
//! filled. A client too slow to keep up is disconnected (it reconnects
//! with its last id) rather than buffered without bound.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use revaer_api_models::events::StreamEvent;
use revaer_api_models::{InvalidParam, Problem};
use revaer_domain::{InfoHash, TorrentState};
use revaer_telemetry::names;
use tokio::sync::broadcast;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::BusEvent;
use crate::extract::RawQuery;
use crate::state::ApiState;

/// How often an idle stream gets a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What clients are told to wait before reconnecting.
const RETRY: Duration = Duration::from_secs(3);

/// Which events a client wants.
#[derive(Debug, Default, Clone)]
struct Filter {
    torrents: Vec<InfoHash>,
    kinds: Vec<String>,
    states: Vec<TorrentState>,
    last_event_id: Option<u64>,
}

impl Filter {
    fn parse(raw: &str, headers: &HeaderMap) -> Result<Self, Vec<InvalidParam>> {
        let mut filter = Self::default();
        let mut errors = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()).take(32) {
            let parts = || value.split(',').map(str::trim).filter(|p| !p.is_empty());
            match key.as_ref() {
                "torrent" => {
                    for part in parts() {
                        match InfoHash::parse(part) {
                            Ok(id) if filter.torrents.len() < 100 => filter.torrents.push(id),
                            Ok(_) => {
                                errors.push(InvalidParam::query("torrent", "at most 100 torrents"));
                            }
                            Err(err) => {
                                errors.push(InvalidParam::query("torrent", err.to_string()));
                            }
                        }
                    }
                }
                "type" => {
                    for part in parts() {
                        if part.len() > 64 || filter.kinds.len() >= 32 {
                            errors.push(InvalidParam::query(
                                "type",
                                "at most 32 types of 64 characters",
                            ));
                        } else {
                            filter.kinds.push(part.to_owned());
                        }
                    }
                }
                "state" => {
                    for part in parts() {
                        match TorrentState::parse(part) {
                            Some(state) => filter.states.push(state),
                            None => errors.push(InvalidParam::query(
                                "state",
                                format!("{part:?} is not a state"),
                            )),
                        }
                    }
                }
                "last_event_id" => match value.parse() {
                    Ok(id) => filter.last_event_id = Some(id),
                    Err(_) => {
                        errors.push(InvalidParam::query("last_event_id", "must be an event id"));
                    }
                },
                other => errors.push(InvalidParam::query(
                    other,
                    "is not a known parameter (torrent, type, state, last_event_id)",
                )),
            }
        }
        if let Some(value) = headers.get("last-event-id") {
            match value.to_str().ok().and_then(|v| v.trim().parse().ok()) {
                Some(id) => filter.last_event_id = Some(id),
                None => {
                    errors.push(InvalidParam::new("/headers/last-event-id", "must be an event id"));
                }
            }
        }
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    fn wants(&self, event: &BusEvent) -> bool {
        let torrent_ok =
            self.torrents.is_empty() || event.torrent.is_some_and(|t| self.torrents.contains(&t));
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(&event.kind);
        let state_ok = self.states.is_empty()
            || event
                .data
                .get("to")
                .and_then(|v| v.as_str())
                .and_then(TorrentState::parse)
                .is_some_and(|s| self.states.contains(&s));
        torrent_ok && kind_ok && state_ok
    }
}

fn sse_event(event: &BusEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_default();
    Event::default().id(event.id.to_string()).event(event.kind.as_str()).data(data)
}

/// Counts an open stream in the subscribers gauge while it lives.
struct Subscriber;

impl Subscriber {
    fn open() -> Self {
        metrics::gauge!(names::SSE_SUBSCRIBERS).increment(1.0);
        Self
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        metrics::gauge!(names::SSE_SUBSCRIBERS).decrement(1.0);
    }
}

/// The stream's state between frames.
struct Cursor {
    _subscriber: Subscriber,
    closing: tokio::sync::watch::Receiver<bool>,
    filter: Filter,
    replay: std::vec::IntoIter<Arc<BusEvent>>,
    live: broadcast::Receiver<Arc<BusEvent>>,
    last_sent: u64,
}

/// The next live event; `None` when the stream should end: the server
/// shuts down, the client fell too far behind (it resumes with its last
/// id), or the bus is gone.
async fn next_live(cursor: &mut Cursor) -> Option<Arc<BusEvent>> {
    if *cursor.closing.borrow() {
        return None;
    }
    tokio::select! {
        received = cursor.live.recv() => match received {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                metrics::counter!(names::SSE_LAGGED_TOTAL).increment(1);
                None
            }
            Err(broadcast::error::RecvError::Closed) => None,
        },
        _ = cursor.closing.changed() => None,
    }
}

/// What a stream sends, before it becomes SSE text.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    /// The client's last id is unknown: refetch state; `newest` is the id
    /// to resume from.
    Resync {
        /// The newest event's id when the stream began.
        newest: u64,
    },
    /// An event.
    Event(Arc<BusEvent>),
}

fn to_sse(frame: &Frame) -> Event {
    match frame {
        Frame::Resync { newest } => {
            // Its id is the newest event's: a client that stores it
            // resumes from here after refetching state.
            let data = serde_json::json!({"id": newest, "type": "resync", "reason": "events were missed; refetch state", "next_id": newest + 1});
            Event::default().id(newest.to_string()).event("resync").data(data.to_string())
        }
        Frame::Event(event) => sse_event(event),
    }
}

/// The frames for one client: a resync if its last id is unknown, what it
/// missed, then live events; never an id twice or out of order.
fn frames(
    bus: &crate::events::EventBus,
    filter: Filter,
    closing: tokio::sync::watch::Receiver<bool>,
) -> impl Stream<Item = Frame> + use<> {
    let subscription = bus.subscribe(filter.last_event_id);
    let mut last_sent = filter.last_event_id.unwrap_or(0);
    let resync = subscription.resync.then(|| {
        last_sent = subscription.newest;
        Frame::Resync { newest: subscription.newest }
    });
    let cursor = Cursor {
        _subscriber: Subscriber::open(),
        closing,
        last_sent,
        filter,
        replay: subscription.replay.into_iter(),
        live: subscription.live,
    };
    let body = stream::unfold(cursor, |mut cursor| async move {
        loop {
            let next = if let Some(event) = cursor.replay.next() {
                event
            } else {
                next_live(&mut cursor).await?
            };
            if next.id <= cursor.last_sent {
                continue;
            }
            cursor.last_sent = next.id;
            if cursor.filter.wants(&next) {
                metrics::counter!(names::SSE_EVENTS_SENT_TOTAL).increment(1);
                return Some((Frame::Event(next), cursor));
            }
        }
    });
    futures_util::StreamExt::chain(stream::iter(resync), body)
}

/// `GET /v1/events`.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    description = "Server-sent events. Each frame has `id:` (monotonic, unique across restarts), `event:` (the type) and `data:` (a `StreamEvent` as JSON); the stream opens with a `retry:` hint and sends `:` keep-alive comments. Resume with `Last-Event-ID` (or `last_event_id`): missed events are replayed from a bounded ring without duplicates; an id older than the ring, or from before a restart, first gets a `resync` frame (refetch state) whose `id:` is the newest event's and whose data is `{\"id\": …, \"type\": \"resync\", \"reason\": …, \"next_id\": …}` rather than a `StreamEvent`. A client too slow to keep up is disconnected and resumes with its last id.",
    params(
        ("torrent" = Option<String>, Query, description = "Only events about these torrents (comma list of info-hashes)"),
        ("type" = Option<String>, Query, description = "Only these event types (comma list)"),
        ("state" = Option<String>, Query, description = "Only state changes into these states (comma list)"),
        ("last_event_id" = Option<u64>, Query, description = "Resume after this id (or send `Last-Event-ID`)"),
    ),
    responses(
        (status = 200, description = "The stream", content_type = "text/event-stream", body = StreamEvent),
        (status = 400, description = "Invalid filters", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream_events(
    _: Authenticated,
    State(state): State<ApiState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let filter = Filter::parse(&raw, &headers).map_err(ApiError::Validation)?;
    let opening = Event::default().retry(RETRY).comment("revaer events");
    let head = stream::once(async move { Ok(opening) });
    let body =
        futures_util::StreamExt::map(frames(state.events(), filter, state.closing()), |frame| {
            Ok(to_sse(&frame))
        });
    Ok(Sse::new(futures_util::StreamExt::chain(head, body))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt as _;
    use rand::{Rng as _, SeedableRng as _};
    use serde_json::json;

    use super::*;
    use crate::events::EventBus;

    /// A client that stops reading while events pile up past the ring is
    /// disconnected (its stream ends; it resumes with its last id) instead
    /// of being buffered.
    #[tokio::test]
    async fn a_slow_client_is_disconnected_not_buffered() {
        let bus = EventBus::new(8);
        let (_closing_tx, closing) = tokio::sync::watch::channel(false);
        let mut stream = Box::pin(frames(&bus, Filter::default(), closing));
        for n in 0..20 {
            bus.publish("progress", None, json!({"n": n}), None);
        }
        let ended = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(ended, Ok(None)), "the stream ends: {ended:?}");
        // A client keeping up is not.
        let (_closing_tx, closing) = tokio::sync::watch::channel(false);
        let mut stream = Box::pin(frames(&bus, Filter::default(), closing));
        let id = bus.publish("progress", None, json!({}), None);
        let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(next, Ok(Some(Frame::Event(ref e))) if e.id == id), "{next:?}");
    }

    /// Events published every 10 ms while a client reads a few frames,
    /// drops the connection, waits a jittered back-off and reconnects with
    /// its last id. Under paused time, so the run is quick and the same
    /// every time.
    #[tokio::test(start_paused = true)]
    async fn reconnecting_clients_never_see_an_event_twice_nor_miss_one_in_the_ring() {
        const EVENTS: u64 = 400;
        let bus = EventBus::new(64);
        let (_closing_tx, closing) = tokio::sync::watch::channel(false);
        let publisher = {
            let bus = bus.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..EVENTS {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ids.push(bus.publish("progress", None, json!({"n": n}), None));
                }
                ids
            })
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen: Vec<u64> = Vec::new();
        let mut resyncs = 0;
        let mut last: Option<u64> = None;
        let mut attempt = 0_u32;
        let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
        while !publisher.is_finished() || seen.last() != Some(&bus.next_id().saturating_sub(1)) {
            assert!(tokio::time::Instant::now() < deadline, "the client catches up");
            let filter = Filter { last_event_id: last, ..Filter::default() };
            let mut stream = Box::pin(frames(&bus, filter, closing.clone()));
            // Read a few frames (or time out), then drop the connection.
            let wanted = rng.random_range(1..12);
            for _ in 0..wanted {
                let next = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
                match next {
                    Ok(Some(Frame::Event(event))) => {
                        seen.push(event.id);
                        last = Some(event.id);
                    }
                    Ok(Some(Frame::Resync { newest })) => {
                        resyncs += 1;
                        last = Some(newest);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            drop(stream);
            // Jittered exponential back-off; the sixth drop is a long one,
            // past the ring, which must end in a resync.
            attempt += 1;
            let backoff = if attempt == 6 {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(20 * 2_u64.pow(attempt % 4))
                    + Duration::from_millis(rng.random_range(0..20))
            };
            tokio::time::sleep(backoff).await;
        }
        let sent = publisher.await.expect("publisher");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order, never twice");
        assert_eq!(resyncs, 1, "the long drop outlived the ring");
        // Outside the gap the resync covered, nothing was missed.
        let missed: Vec<u64> = sent.iter().copied().filter(|id| !seen.contains(id)).collect();
        assert!(
            !missed.is_empty() && missed.len() < 250,
            "only the long drop's gap: {}",
            missed.len()
        );
        let gap_end = *missed.last().expect("a gap");
        let gap_start = *missed.first().expect("a gap");
        assert!(
            missed.windows(2).all(|w| w[1] == w[0] + 1),
            "one contiguous gap, {gap_start}..={gap_end}"
        );
    }
}
