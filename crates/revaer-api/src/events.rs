//! The event bus: every engine, FsOps and settings event gets an id
//! (monotonic, and unique across restarts: the boot time in milliseconds
//! shifted left 22 bits, plus a counter), a timestamp and a place in a
//! bounded ring, so that a client that reconnects with the last id it saw
//! gets what it missed, or an explicit `resync` when that is no longer in
//! the ring (or the id is from an earlier run).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use revaer_domain::InfoHash;
use serde_json::Value;
use tokio::sync::broadcast;

/// One event as clients see it.
pub type BusEvent = revaer_api_models::events::StreamEvent;

/// Where a subscriber starts.
#[derive(Debug)]
pub struct Subscription {
    /// `true` when the client's last id is no longer known: it must refetch.
    pub resync: bool,
    /// The newest id when the subscription began: every live event is
    /// newer (a resync frame carries it, so a client resumes from there).
    pub newest: u64,
    /// Events after the client's last id, oldest first.
    pub replay: Vec<Arc<BusEvent>>,
    /// Everything published from now on.
    pub live: broadcast::Receiver<Arc<BusEvent>>,
}

#[derive(Debug)]
struct Ring {
    next_id: u64,
    events: VecDeque<Arc<BusEvent>>,
    /// The trace id of the last command on each torrent (bounded).
    traces: HashMap<InfoHash, String>,
}

/// Most torrents whose last command's trace id is kept.
const MAX_TRACES: usize = 100_000;

/// The bus. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    ring: Arc<Mutex<Ring>>,
    sender: broadcast::Sender<Arc<BusEvent>>,
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
            capacity,
            base,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        match self.ring.lock() {
            Ok(ring) => ring,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Publishes an event; returns its id.
    pub fn publish(
        &self,
        kind: &str,
        torrent: Option<InfoHash>,
        data: Value,
        trace_id: Option<String>,
    ) -> u64 {
        let mut ring = self.ring();
        let id = ring.next_id;
        ring.next_id += 1;
        // Events about a torrent carry the trace of the last command on it.
        let trace_id = match (trace_id, torrent) {
            (Some(trace), _) => Some(trace),
            (None, Some(torrent)) if kind == "removed" => ring.traces.remove(&torrent),
            (None, Some(torrent)) => ring.traces.get(&torrent).cloned(),
            (None, None) => None,
        };
        let event = Arc::new(BusEvent {
            id,
            kind: kind.to_owned(),
            ts: Utc::now(),
            torrent,
            data,
            trace_id,
        });
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
        let newest = ring.next_id - 1;
        let Some(last) = last_id else {
            return Subscription { resync: false, newest, replay: Vec::new(), live };
        };
        // Still in the ring (or nothing missed): replay. Older than the
        // ring, from another run, or from the future: resync.
        let oldest_kept = ring.events.front().map_or(ring.next_id, |e| e.id);
        // `base` itself is the id a resync frame carries before this run
        // published anything: resuming from it is fine.
        let known = last >= self.base && last <= newest && last + 1 >= oldest_kept;
        if !known {
            return Subscription { resync: true, newest, replay: Vec::new(), live };
        }
        let replay = ring.events.iter().filter(|e| e.id > last).cloned().collect();
        Subscription { resync: false, newest, replay, live }
    }

    /// Open subscriptions (event streams) right now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// The id the next event gets.
    pub fn next_id(&self) -> u64 {
        self.ring().next_id
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_grow_and_replay_resumes_after_the_last_seen() {
        let bus = EventBus::with_base(4, 1000 << 22);
        let ids: Vec<u64> =
            (0..3).map(|n| bus.publish("progress", None, json!({"n": n}), None)).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        let sub = bus.subscribe(Some(ids[0]));
        assert!(!sub.resync);
        assert_eq!(sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(), &ids[1..]);
        let caught_up = bus.subscribe(Some(ids[2]));
        assert!(!caught_up.resync && caught_up.replay.is_empty());
        assert!(bus.subscribe(None).replay.is_empty());
    }

    #[test]
    fn ids_out_of_reach_resync() {
        let bus = EventBus::with_base(2, 1000 << 22);
        let first = bus.publish("a", None, json!({}), None);
        for _ in 0..3 {
            bus.publish("b", None, json!({}), None);
        }
        assert!(bus.subscribe(Some(first)).resync, "fell out of the ring");
        assert!(bus.subscribe(Some(5)).resync, "an id from an earlier run");
        assert!(bus.subscribe(Some(bus.next_id() + 10)).resync, "an id from the future");
        // A later run starts above every id of this one.
        let later = EventBus::with_base(2, 1001 << 22);
        assert!(later.next_id() > bus.next_id());
    }

    #[test]
    fn live_events_follow_the_replay_without_gaps() {
        let bus = EventBus::with_base(8, 7 << 22);
        let first = bus.publish("a", None, json!({}), None);
        let mut sub = bus.subscribe(Some(first));
        let second = bus.publish("b", None, json!({}), None);
        assert_eq!(sub.live.try_recv().map(|e| e.id).ok(), Some(second));
    }
}
