//! The event bus: every event gets an id (monotonic, and unique across
//! restarts: the boot time in milliseconds shifted left 22 bits, plus a
//! counter), a timestamp, its torrent, a trace id and a place in a bounded
//! ring, so that a subscriber that comes back with the last id it saw gets
//! what it missed, or an explicit [`Resync`] when that is no longer in the
//! ring (or the id is from an earlier run).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use revaer_domain::InfoHash;
use revaer_domain::event::{Event, Resync, StreamEvent};
use tokio::sync::{broadcast, watch};

/// One published event, shared by every subscriber.
pub type BusEvent = Arc<StreamEvent>;

/// Where a subscriber starts.
#[derive(Debug)]
pub struct Subscription {
    /// When the subscriber's last id is no longer known: a `resync` event
    /// (whose id is the newest event's) to hand it first; it must refetch.
    pub resync: Option<BusEvent>,
    /// Events after the subscriber's last id, oldest first.
    pub replay: Vec<BusEvent>,
    /// Everything published from now on.
    pub live: broadcast::Receiver<BusEvent>,
    /// Becomes `true` when the bus closes (the daemon shuts down).
    pub closing: watch::Receiver<bool>,
}

#[derive(Debug)]
struct Ring {
    next_id: u64,
    events: VecDeque<BusEvent>,
    /// The trace id of the last command on each torrent (bounded).
    traces: HashMap<InfoHash, String>,
}

/// Most torrents whose last command's trace id is kept.
const MAX_TRACES: usize = 100_000;

/// The bus. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    ring: Arc<Mutex<Ring>>,
    sender: broadcast::Sender<BusEvent>,
    closing: Arc<watch::Sender<bool>>,
    capacity: usize,
    base: u64,
}

impl EventBus {
    /// A bus keeping the last `capacity` events for replay.
    pub fn new(capacity: usize) -> Self {
        let boot_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        Self::with_base(capacity, boot_ms << 22)
    }

    fn with_base(capacity: usize, base: u64) -> Self {
        let capacity = capacity.max(1);
        let (sender, _) = broadcast::channel(capacity);
        Self {
            ring: Arc::new(Mutex::new(Ring {
                next_id: base + 1,
                events: VecDeque::with_capacity(capacity),
                traces: HashMap::new(),
            })),
            sender,
            closing: Arc::new(watch::channel(false).0),
            capacity,
            base,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes an event; returns its id. Events about a torrent carry the
    /// trace id the event names itself (FsOps events), else the trace of
    /// the last command on the torrent.
    pub fn publish(&self, event: impl Into<Event>) -> u64 {
        let event = event.into();
        let torrent = event.torrent();
        let mut ring = self.ring();
        let id = ring.next_id;
        ring.next_id += 1;
        let trace_id = match (event.trace_id(), torrent) {
            (Some(trace), _) => Some(trace.to_owned()),
            (None, Some(torrent)) if matches!(event, Event::Removed(_)) => {
                ring.traces.remove(&torrent)
            }
            (None, Some(torrent)) => ring.traces.get(&torrent).cloned(),
            (None, None) => None,
        };
        let event = Arc::new(StreamEvent { id, ts: Utc::now(), torrent, trace_id, event });
        if ring.events.len() == self.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::clone(&event));
        // Sent under the lock: subscribers see events in id order.
        let _ = self.sender.send(event);
        id
    }

    /// Remembers `trace_id` as the trace of the last command on `torrent`:
    /// the events it causes carry it (until the next command, or its
    /// removal).
    pub fn note_trace(&self, torrent: InfoHash, trace_id: String) {
        let mut ring = self.ring();
        if ring.traces.len() >= MAX_TRACES && !ring.traces.contains_key(&torrent) {
            ring.traces.clear();
        }
        ring.traces.insert(torrent, trace_id);
    }

    /// Forgets the trace noted for `torrent` (its command failed).
    pub fn forget_trace(&self, torrent: InfoHash) {
        self.ring().traces.remove(&torrent);
    }

    /// Subscribes, replaying what came after `last_id`.
    pub fn subscribe(&self, last_id: Option<u64>) -> Subscription {
        let ring = self.ring();
        let live = self.sender.subscribe();
        let closing = self.closing.subscribe();
        let newest = ring.next_id - 1;
        let Some(last) = last_id else {
            return Subscription { resync: None, replay: Vec::new(), live, closing };
        };
        // Still in the ring (or nothing missed): replay. Older than the
        // ring, from another run, or from the future: resync.
        let oldest_kept = ring.events.front().map_or(ring.next_id, |e| e.id);
        // `base` itself is the id a resync carries before this run
        // published anything: resuming from it is fine.
        let known = last >= self.base && last <= newest && last + 1 >= oldest_kept;
        if !known {
            let resync = Arc::new(StreamEvent {
                id: newest,
                ts: Utc::now(),
                torrent: None,
                trace_id: None,
                event: Event::Resync(Resync {
                    reason: "events were missed; refetch state".to_owned(),
                    next_id: newest + 1,
                }),
            });
            return Subscription { resync: Some(resync), replay: Vec::new(), live, closing };
        }
        let replay = ring.events.iter().filter(|e| e.id > last).cloned().collect();
        Subscription { resync: None, replay, live, closing }
    }

    /// Ends every subscription (call when the daemon begins to shut down):
    /// long-lived readers such as event streams stop, so that a graceful
    /// shutdown does not wait for them.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Open subscriptions right now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Every event still in the ring, oldest first.
    pub fn recent(&self) -> Vec<BusEvent> {
        self.ring().events.iter().cloned().collect()
    }

    /// An event's place in this run: 1 for its first event, then up by one
    /// (small enough for a JavaScript number, unlike the id).
    pub fn sequence(&self, id: u64) -> u64 {
        id.saturating_sub(self.base)
    }

    /// The id the next event gets.
    pub fn next_id(&self) -> u64 {
        self.ring().next_id
    }
}

#[cfg(test)]
mod tests {
    use revaer_domain::event::SettingsChanged;

    use super::*;

    fn settings(revision: i64) -> Event {
        Event::SettingsChanged(SettingsChanged { revision })
    }

    #[test]
    fn ids_grow_and_replay_resumes_after_the_last_seen() {
        let bus = EventBus::with_base(4, 1000 << 22);
        let ids: Vec<u64> = (0..3).map(|n| bus.publish(settings(n))).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        let sub = bus.subscribe(Some(ids[0]));
        assert!(sub.resync.is_none());
        assert_eq!(sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(), &ids[1..]);
        assert_eq!(sub.replay[0].event, settings(1));
        let caught_up = bus.subscribe(Some(ids[2]));
        assert!(caught_up.resync.is_none() && caught_up.replay.is_empty());
        assert!(bus.subscribe(None).replay.is_empty());
    }

    #[test]
    fn ids_out_of_reach_resync_from_the_newest() {
        let bus = EventBus::with_base(2, 1000 << 22);
        let first = bus.publish(settings(1));
        for n in 0..3 {
            bus.publish(settings(n));
        }
        let resync = bus.subscribe(Some(first)).resync.expect("fell out of the ring");
        assert_eq!(resync.id, bus.next_id() - 1);
        assert!(
            matches!(&resync.event, Event::Resync(r) if r.next_id == bus.next_id()),
            "{resync:?}"
        );
        assert!(bus.subscribe(Some(5)).resync.is_some(), "an id from an earlier run");
        assert!(bus.subscribe(Some(bus.next_id() + 10)).resync.is_some(), "from the future");
        // A later run starts above every id of this one.
        let later = EventBus::with_base(2, 1001 << 22);
        assert!(later.next_id() > bus.next_id());
    }

    #[test]
    fn live_events_follow_the_replay_and_closing_ends_subscriptions() {
        let bus = EventBus::with_base(8, 7 << 22);
        let first = bus.publish(settings(1));
        let mut sub = bus.subscribe(Some(first));
        let second = bus.publish(settings(2));
        assert_eq!(sub.live.try_recv().map(|e| e.id).ok(), Some(second));
        assert!(!*sub.closing.borrow());
        bus.close();
        assert!(*sub.closing.borrow_and_update());
    }

    #[test]
    fn torrent_events_carry_the_last_command_trace_until_removed() {
        use revaer_domain::TorrentState;
        use revaer_domain::event::{Removed, StateChanged};
        let bus = EventBus::with_base(8, 7 << 22);
        let torrent = InfoHash::from_bytes([1; 20]);
        bus.note_trace(torrent, "trace-1".into());
        let changed =
            StateChanged { torrent, from: TorrentState::Paused, to: TorrentState::Queued };
        bus.publish(Event::StateChanged(changed));
        bus.publish(Event::Removed(Removed { torrent, data_deleted: false }));
        bus.publish(Event::StateChanged(changed));
        let traces: Vec<Option<String>> =
            bus.subscribe(Some(7 << 22)).replay.iter().map(|e| e.trace_id.clone()).collect();
        assert_eq!(traces, [Some("trace-1".into()), Some("trace-1".into()), None]);
    }
}
