//! qBittorrent's `rid` bookkeeping, for `sync/maindata` and
//! `sync/torrentPeers` alike.
//!
//! Each key (a client, or a client and a torrent) has the snapshot it was
//! last sent (under the `rid` of that reply) and the snapshot it is known
//! to hold (the one before, which it acknowledged by asking with its
//! `rid`). A request with
//! - `rid` 0, or one this state does not know → a full update;
//! - the last `rid` sent → the changes since that reply;
//! - the `rid` before it (the last reply was lost) → the changes since the
//!   acknowledged snapshot again, accumulated;
//!
//! each answered under a new `rid` (`(last % 1 000 000) + 1`, as
//! qBittorrent counts).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

/// States kept at once per kind (the least recently used goes first).
pub const MAX_STATES: usize = 256;
/// A state unused this long is dropped.
pub const STATE_TIMEOUT: Duration = Duration::from_hours(1);

#[derive(Debug)]
struct RidState<T> {
    /// The `rid` of the last reply and what it held.
    sent: (u64, Arc<T>),
    /// The `rid` before it and what it held (what the client holds if the
    /// last reply was lost).
    acked: Option<(u64, Arc<T>)>,
    used: Instant,
}

/// Every key's state: at most [`MAX_STATES`], each dropped after
/// [`STATE_TIMEOUT`] unused.
#[derive(Debug)]
pub struct RidStates<K, T>(Mutex<HashMap<K, RidState<T>>>);

impl<K, T> Default for RidStates<K, T> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

/// The `rid` after `rid`.
pub fn next_rid(rid: u64) -> u64 {
    (rid % 1_000_000) + 1
}

impl<K: Clone + Eq + Hash, T> RidStates<K, T> {
    /// The reply for `key` asking with `rid`, given `now`: `delta` of the
    /// snapshot the client holds (`None`: send everything) and `now`,
    /// under the new `rid`.
    pub fn reply<R>(
        &self,
        key: &K,
        rid: u64,
        now: T,
        delta: impl FnOnce(Option<&T>, &T, u64) -> R,
    ) -> R {
        let now = Arc::new(now);
        let mut states = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock = Instant::now();
        if states.len() >= MAX_STATES && !states.contains_key(key) {
            states.retain(|_, state| clock.duration_since(state.used) < STATE_TIMEOUT);
            if states.len() >= MAX_STATES
                && let Some(oldest) =
                    states.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone())
            {
                states.remove(&oldest);
            }
        }
        let (base, last) = match states.get(key) {
            Some(state) if rid != 0 && rid == state.sent.0 => {
                (Some(Arc::clone(&state.sent.1)), state.sent.0)
            }
            Some(state) => match &state.acked {
                Some((acked, snapshot)) if rid != 0 && rid == *acked => {
                    (Some(Arc::clone(snapshot)), state.sent.0)
                }
                _ => (None, state.sent.0),
            },
            // A new state starts its rids anywhere, so that a rid another
            // state (or an earlier one of this key) sent never matches.
            None => (None, rand::Rng::random_range(&mut rand::rng(), 0..1_000_000)),
        };
        let new_rid = next_rid(last);
        let data = delta(base.as_deref(), &now, new_rid);
        // What the client holds once it asks with `new_rid`: `now`; if it
        // asks with `rid` again instead, what it held before.
        let acked = base.map(|snapshot| (rid, snapshot));
        states.insert(key.clone(), RidState { sent: (new_rid, now), acked, used: clock });
        data
    }
}

/// A row as a JSON object.
pub fn fields<T: Serialize>(row: &T) -> Map<String, Value> {
    match serde_json::to_value(row) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The fields of `now` that differ from `before`.
pub fn changed(before: &Map<String, Value>, now: Map<String, Value>) -> Map<String, Value> {
    now.into_iter().filter(|(key, value)| before.get(key) != Some(value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rids_wrap_at_a_million() {
        assert_eq!(next_rid(1_000_000), 1);
        assert_eq!(next_rid(7), 8);
    }

    #[test]
    fn the_oldest_state_goes_when_the_table_is_full() {
        let states: RidStates<usize, u8> = RidStates::default();
        let first = states.reply(&0, 0, 0, |_, _, rid| rid);
        for key in 1..=MAX_STATES {
            states.reply(&key, 0, 0, |_, _, rid| rid);
        }
        // Key 0 was dropped for the newest: its rid is unknown now.
        let full = states.reply(&0, first, 0, |base, _, _| base.is_none());
        assert!(full, "a dropped state answers in full");
        let last = states.reply(&MAX_STATES, 0, 0, |_, _, rid| rid);
        assert!(states.reply(&MAX_STATES, last, 0, |base, _, _| base.is_some()));
    }
}
