//! Login sessions and login bans, as qBittorrent keeps them.
//!
//! A session is opened by `auth/login` with an API key as the password and
//! named by a random `SID` cookie. It lasts [`SESSION_TIMEOUT`] from its
//! last use (sliding), and ends at once when its key stops working: it
//! keeps the key's token mark and is refused when the mark changes
//! (revoked, disabled, rotated, expired). At most [`MAX_PER_KEY`] are
//! kept per key (its oldest goes first, so one key's logins never push out
//! another's) and [`MAX_SESSIONS`] in all (the least recently used goes).
//!
//! An address that fails to log in [`BAN_AFTER`] times in a row is banned
//! from logging in for [`BAN_FOR`] (qBittorrent's defaults).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng as _;
use rand::distr::Alphanumeric;
use revaer_service::keys::KeyCache;

/// How long a session lasts after its last use.
pub const SESSION_TIMEOUT: Duration = Duration::from_hours(1);
/// Most sessions kept at once.
pub const MAX_SESSIONS: usize = 4096;
/// Most sessions of one key kept at once (its oldest goes first).
pub const MAX_PER_KEY: usize = 32;
/// Failed logins in a row that ban an address.
pub const BAN_AFTER: u32 = 5;
/// How long a ban lasts.
pub const BAN_FOR: Duration = Duration::from_hours(1);
/// Most addresses whose failures are remembered.
const MAX_TRACKED: usize = 16_384;
/// Length of a session id.
const SID_LEN: usize = 32;

#[derive(Debug)]
struct Session {
    key_id: String,
    mark: Vec<u8>,
    last_seen: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The sessions and the bans.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sessions {
    /// Opens a session for the key `key_id`, whose token has the mark
    /// `mark`; answers the session id.
    pub fn open(&self, key_id: &str, mark: Vec<u8>) -> String {
        let sid: String =
            rand::rng().sample_iter(&Alphanumeric).take(SID_LEN).map(char::from).collect();
        let now = Instant::now();
        let mut open = lock(&self.open);
        // One key's logins displace that key's oldest session, never
        // another key's.
        let theirs: Vec<(&String, Instant)> = open
            .iter()
            .filter(|(_, s)| s.key_id == key_id)
            .map(|(sid, s)| (sid, s.last_seen))
            .collect();
        if theirs.len() >= MAX_PER_KEY
            && let Some(oldest) =
                theirs.iter().min_by_key(|(_, seen)| *seen).map(|(sid, _)| (*sid).clone())
        {
            open.remove(&oldest);
        }
        if open.len() >= MAX_SESSIONS {
            open.retain(|_, session| now.duration_since(session.last_seen) < SESSION_TIMEOUT);
        }
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) =
                open.iter().min_by_key(|(_, s)| s.last_seen).map(|(sid, _)| sid.clone())
        {
            open.remove(&oldest);
        }
        open.insert(sid.clone(), Session { key_id: key_id.to_owned(), mark, last_seen: now });
        sid
    }

    /// The key of the live session `sid` (its use slides it on), if the
    /// session has not timed out and its key's token is still the one it
    /// was opened with.
    pub fn resolve(&self, sid: &str, keys: &KeyCache) -> Option<String> {
        let now = Instant::now();
        let mut open = lock(&self.open);
        let session = open.get_mut(sid)?;
        let live = now.duration_since(session.last_seen) < SESSION_TIMEOUT
            && keys.token_mark(&session.key_id).as_ref() == Some(&session.mark);
        if !live {
            open.remove(sid);
            return None;
        }
        session.last_seen = now;
        Some(session.key_id.clone())
    }

    /// Ends the session `sid`.
    pub fn close(&self, sid: &str) {
        lock(&self.open).remove(sid);
    }

    /// Sessions open now (some may have timed out unnoticed).
    pub fn len(&self) -> usize {
        lock(&self.open).len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `ip` may not log in now.
    pub fn banned(&self, ip: IpAddr) -> bool {
        let failures = lock(&self.failures);
        failures.get(&ip).is_some_and(|f| f.count >= BAN_AFTER && f.last.elapsed() < BAN_FOR)
    }

    /// Counts a failed login from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut failures = lock(&self.failures);
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, f| now.duration_since(f.last) < BAN_FOR);
        }
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&ip) {
            return;
        }
        let entry = failures.entry(ip).or_insert(Failures { count: 0, last: now });
        if now.duration_since(entry.last) >= BAN_FOR {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// Clears `ip`'s failures after a login that worked.
    pub fn succeeded(&self, ip: IpAddr) {
        lock(&self.failures).remove(&ip);
    }
}

/// The `SID` in `Cookie` header values: tokens are split on `;`, so a
/// client that echoes a whole `Set-Cookie` string (`SID=…; HttpOnly;
/// path=/`) still sends its session.
pub fn sid_from_cookies<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    values
        .into_iter()
        .flat_map(|value| value.split(';'))
        .filter_map(|token| token.trim().split_once('='))
        .find(|(name, _)| name.trim() == "SID")
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sid_is_found_in_any_cookie_shape() {
        assert_eq!(sid_from_cookies(["SID=abc"]), Some("abc"));
        assert_eq!(sid_from_cookies(["other=1; SID=abc"]), Some("abc"));
        assert_eq!(sid_from_cookies(["SID=abc; HttpOnly; path=/; SameSite=Strict"]), Some("abc"));
        assert_eq!(sid_from_cookies(["a=b", "SID=x"]), Some("x"));
        assert_eq!(sid_from_cookies(["SID="]), None);
        assert_eq!(sid_from_cookies(["QBT_SID_8080=abc"]), None);
    }

    #[test]
    fn five_failures_ban_an_address_and_a_success_clears_them() {
        let sessions = Sessions::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..BAN_AFTER - 1 {
            sessions.failed(ip);
        }
        assert!(!sessions.banned(ip));
        sessions.succeeded(ip);
        for _ in 0..BAN_AFTER {
            sessions.failed(ip);
        }
        assert!(sessions.banned(ip));
        assert!(!sessions.banned("192.0.2.2".parse().expect("ip")), "others are not");
    }

    #[test]
    fn sessions_are_bounded_per_key_and_in_all() {
        let sessions = Sessions::default();
        let other = sessions.open("other", vec![1]);
        let first = sessions.open("k", vec![1]);
        for _ in 0..MAX_PER_KEY {
            sessions.open("k", vec![1]);
        }
        assert_eq!(sessions.len(), MAX_PER_KEY + 1);
        assert!(!lock(&sessions.open).contains_key(&first), "the key's oldest went");
        assert!(lock(&sessions.open).contains_key(&other), "another key's stayed");
        for index in 0..MAX_SESSIONS {
            sessions.open(&format!("key-{index}"), vec![1]);
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
    }
}
