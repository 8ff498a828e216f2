//! `GET /v1/events`: the event stream (Server-Sent Events), filtered, with
//! `Last-Event-ID` replay and an explicit `resync` when the gap cannot be
//! filled. A client too slow to keep up is disconnected (it reconnects
//! with its last id) rather than buffered without bound. The events are
//! the bus's typed [`StreamEvent`]s, serialised once per frame.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use revaer_api_models::InvalidParam;
use revaer_api_models::events::{Event, StreamEvent};
use revaer_domain::{InfoHash, TorrentState};
use revaer_service::bus::{BusEvent, Subscription};
use revaer_telemetry::names;
use tokio::sync::broadcast;

use crate::auth::Authenticated;
use crate::contract::params::EventsParams;
use crate::contract::problems::BadRequest;
use crate::contract::sse::EventFrame;
use crate::error::{ApiError, ApiResult};
use crate::extract::RawQuery;
use crate::state::ApiState;

/// How often an idle stream gets a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What clients are told to wait before reconnecting.
const RETRY: Duration = Duration::from_secs(3);
/// Most torrents one stream filters on.
const MAX_TORRENTS: usize = 100;
/// Most event types one stream filters on.
const MAX_KINDS: usize = 32;
/// Most query parameters one stream takes.
const MAX_PARAMS: usize = 32;

/// Which events a client wants.
#[derive(Debug, Default, Clone)]
struct Filter {
    torrents: Vec<InfoHash>,
    kinds: Vec<&'static str>,
    states: Vec<TorrentState>,
    last_event_id: Option<u64>,
}

impl Filter {
    fn parse(raw: &str, headers: &HeaderMap) -> Result<Self, Vec<InvalidParam>> {
        let mut filter = Self::default();
        let mut errors = Vec::new();
        for (count, (key, value)) in form_urlencoded::parse(raw.as_bytes()).enumerate() {
            if count >= MAX_PARAMS {
                errors
                    .push(InvalidParam::new("/query", format!("at most {MAX_PARAMS} parameters")));
                break;
            }
            if let Err(error) = filter.set(&key, &value) {
                errors.push(error);
            }
        }
        if let Some(value) = headers.get("last-event-id") {
            match value.to_str().ok().and_then(|v| event_id(v.trim())) {
                Some(id) => filter.last_event_id = Some(id),
                None => {
                    errors.push(InvalidParam::new("/headers/last-event-id", "must be an event id"));
                }
            }
        }
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    /// Reads one parameter (comma lists and repeats add up; an empty value
    /// or list item is refused, not read as "no filter").
    fn set(&mut self, key: &str, value: &str) -> Result<(), InvalidParam> {
        let list = matches!(key, "torrent" | "type" | "state");
        if list && value.split(',').any(|part| part.trim().is_empty()) {
            return Err(InvalidParam::query(key, "must not be empty"));
        }
        let parts = || value.split(',').map(str::trim);
        match key {
            "torrent" => {
                for part in parts() {
                    let id = InfoHash::parse(part)
                        .map_err(|err| InvalidParam::query("torrent", err.to_string()))?;
                    if self.torrents.len() >= MAX_TORRENTS {
                        return Err(InvalidParam::query("torrent", "at most 100 torrents"));
                    }
                    self.torrents.push(id);
                }
            }
            "type" => {
                for part in parts() {
                    let kind = Event::KINDS.iter().find(|k| **k == part).ok_or_else(|| {
                        InvalidParam::query(
                            "type",
                            format!(
                                "{part:?} is not an event type; use {}",
                                Event::KINDS.join(", ")
                            ),
                        )
                    })?;
                    if !self.kinds.contains(kind) {
                        if self.kinds.len() >= MAX_KINDS {
                            return Err(InvalidParam::query("type", "at most 32 types"));
                        }
                        self.kinds.push(kind);
                    }
                }
            }
            "state" => {
                for part in parts() {
                    let state = TorrentState::parse(part).ok_or_else(|| {
                        InvalidParam::query("state", format!("{part:?} is not a state"))
                    })?;
                    self.states.push(state);
                }
            }
            "last_event_id" => {
                let id = event_id(value)
                    .ok_or_else(|| InvalidParam::query("last_event_id", "must be an event id"))?;
                self.last_event_id = Some(id);
            }
            other => {
                return Err(InvalidParam::query(
                    other,
                    "is not a known parameter (torrent, type, state, last_event_id)",
                ));
            }
        }
        Ok(())
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        // Lost events concern every reader, whatever it filters on: what it
        // waits for may be among them.
        if matches!(event.event, Event::EventsDropped(_)) {
            return true;
        }
        let torrent_ok =
            self.torrents.is_empty() || event.torrent.is_some_and(|t| self.torrents.contains(&t));
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(&event.event.kind());
        let state_ok = self.states.is_empty()
            || matches!(&event.event, Event::StateChanged(change) if self.states.contains(&change.to));
        torrent_ok && kind_ok && state_ok
    }
}

/// An event id as clients send it back: 0 to 2⁶³−1, as the document's
/// `int64` says (ids stay below it until the year 2262).
fn event_id(text: &str) -> Option<u64> {
    text.parse::<i64>().ok().and_then(|id| u64::try_from(id).ok())
}

/// One frame: `id:` and `event:` from the envelope, `data:` the envelope
/// as JSON.
fn to_sse(event: &StreamEvent) -> SseEvent {
    let data = serde_json::to_string(event).unwrap_or_default();
    SseEvent::default().id(event.id.to_string()).event(event.event.kind()).data(data)
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
    filter: Filter,
    replay: std::vec::IntoIter<BusEvent>,
    subscription: Subscription,
    last_sent: u64,
}

/// The next live event; `None` when the stream should end: the bus closes
/// (the server shuts down), the client fell too far behind (it resumes
/// with its last id), or the bus is gone.
async fn next_live(cursor: &mut Cursor) -> Option<BusEvent> {
    let subscription = &mut cursor.subscription;
    if *subscription.closing.borrow() {
        return None;
    }
    tokio::select! {
        received = subscription.live.recv() => match received {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                metrics::counter!(names::SSE_LAGGED_TOTAL).increment(1);
                None
            }
            Err(broadcast::error::RecvError::Closed) => None,
        },
        _ = subscription.closing.changed() => None,
    }
}

/// The events for one client: a resync if its last id is unknown, what it
/// missed, then live events; never an id twice or out of order.
fn frames(subscription: Subscription, filter: Filter) -> impl Stream<Item = BusEvent> {
    let mut last_sent = filter.last_event_id.unwrap_or(0);
    let mut subscription = subscription;
    let resync = subscription.resync.take();
    if let Some(resync) = &resync {
        last_sent = resync.id;
    }
    let cursor = Cursor {
        _subscriber: Subscriber::open(),
        filter,
        replay: std::mem::take(&mut subscription.replay).into_iter(),
        subscription,
        last_sent,
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
                return Some((next, cursor));
            }
        }
    });
    futures_util::StreamExt::chain(stream::iter(resync), body)
}

/// `GET /v1/events`.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    description = "Server-sent events. The stream ends when its API key is revoked, disabled or expires. Each frame has `id:` (monotonic, unique across restarts), `event:` (the type) and `data:` (a `StreamEvent` as JSON: the envelope with `type` and `data`); the stream opens with a `retry:` hint and sends `:` keep-alive comments. Resume with `Last-Event-ID` (or `last_event_id`): missed events are replayed from a bounded ring without duplicates; an id older than the ring, or from before a restart, first gets a `resync` event (refetch state) whose id is the newest event's. A client too slow to keep up is disconnected and resumes with its last id.",
    params(EventsParams, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this id")),
    responses(
        (status = 200, description = "The stream: one frame per event", content_type = "text/event-stream", body = EventFrame),
        (status = 400, response = BadRequest),
    ))]
pub async fn stream_events(
    Authenticated(key): Authenticated,
    State(state): State<ApiState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let filter = Filter::parse(&raw, &headers).map_err(ApiError::Validation)?;
    let subscription = state.service.bus().subscribe(filter.last_event_id);
    let opening = SseEvent::default().retry(RETRY).comment("revaer events");
    let head = stream::once(async move { Ok(opening) });
    let body =
        futures_util::StreamExt::map(frames(subscription, filter), |event| Ok(to_sse(&event)));
    // The stream lasts as long as its key: revoking, disabling or the expiry
    // of the key ends it.
    let ended = state.service.keys().ended(&key);
    let body = futures_util::StreamExt::take_until(body, Box::pin(ended));
    Ok(Sse::new(futures_util::StreamExt::chain(head, body))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt as _;
    use rand::{Rng as _, SeedableRng as _};
    use revaer_domain::event::SettingsChanged;
    use revaer_service::bus::EventBus;

    use super::*;

    fn event(n: i64) -> Event {
        Event::SettingsChanged(SettingsChanged { revision: n })
    }

    fn stream_of(bus: &EventBus, filter: Filter) -> impl Stream<Item = BusEvent> {
        let subscription = bus.subscribe(filter.last_event_id);
        frames(subscription, filter)
    }

    /// A client that stops reading while events pile up past the ring is
    /// disconnected (its stream ends; it resumes with its last id) instead
    /// of being buffered.
    #[tokio::test]
    async fn a_slow_client_is_disconnected_not_buffered() {
        let bus = EventBus::new(8);
        let mut stream = Box::pin(stream_of(&bus, Filter::default()));
        for n in 0..20 {
            bus.publish(event(n));
        }
        let ended = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(ended, Ok(None)), "the stream ends: {ended:?}");
        // A client keeping up is not.
        let mut stream = Box::pin(stream_of(&bus, Filter::default()));
        let id = bus.publish(event(1));
        let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(next, Ok(Some(ref e)) if e.id == id), "{next:?}");
        // Closing the bus ends the stream.
        bus.close();
        let ended = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(ended, Ok(None)), "{ended:?}");
    }

    /// Events published every 10 ms while a client reads a few frames,
    /// drops the connection, waits a jittered back-off and reconnects with
    /// its last id. Under paused time, so the run is quick and the same
    /// every time.
    #[tokio::test(start_paused = true)]
    async fn reconnecting_clients_never_see_an_event_twice_nor_miss_one_in_the_ring() {
        const EVENTS: u64 = 400;
        let bus = EventBus::new(64);
        let publisher = {
            let bus = bus.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..EVENTS {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ids.push(bus.publish(event(n as i64)));
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
            let mut stream = Box::pin(stream_of(&bus, filter));
            // Read a few frames (or time out), then drop the connection.
            let wanted = rng.random_range(1..12);
            for _ in 0..wanted {
                let next = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
                match next {
                    Ok(Some(event)) if matches!(event.event, Event::Resync(_)) => {
                        resyncs += 1;
                        last = Some(event.id);
                    }
                    Ok(Some(event)) => {
                        seen.push(event.id);
                        last = Some(event.id);
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
