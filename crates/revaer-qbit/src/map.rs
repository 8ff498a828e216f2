//! Revaer's torrents as qBittorrent's clients read them: `torrents/info`
//! rows and qBittorrent 5.0's state strings.

use chrono::{DateTime, Utc};
use revaer_domain::{TorrentState, TorrentSummary};
use revaer_engine::Engine;
use revaer_engine::config::SharePolicy;
use serde::Serialize;

use crate::share;

/// What `eta` says when the time left is unknown (qBittorrent's value).
pub const ETA_UNKNOWN: u64 = 8_640_000;

/// Whether every wanted byte is there.
pub fn complete(torrent: &TorrentSummary) -> bool {
    torrent.bytes_wanted > 0 && torrent.bytes_done >= torrent.bytes_wanted
}

/// qBittorrent 5.0's state string for a torrent.
pub fn state(torrent: &TorrentSummary) -> &'static str {
    let up = complete(torrent);
    match torrent.state {
        TorrentState::Metadata if torrent.force_start => "forcedMetaDL",
        TorrentState::Metadata => "metaDL",
        TorrentState::Queued if up => "queuedUP",
        TorrentState::Queued => "queuedDL",
        TorrentState::Checking if up => "checkingUP",
        TorrentState::Checking => "checkingDL",
        TorrentState::Downloading if torrent.force_start => "forcedDL",
        TorrentState::Downloading if torrent.download_bps > 0 => "downloading",
        TorrentState::Downloading => "stalledDL",
        TorrentState::Seeding if torrent.force_start => "forcedUP",
        TorrentState::Seeding if torrent.upload_bps > 0 => "uploading",
        TorrentState::Seeding => "stalledUP",
        TorrentState::Paused if up => "stoppedUP",
        TorrentState::Paused => "stoppedDL",
        TorrentState::Moving => "moving",
        TorrentState::Error => "error",
    }
}

/// A cap as `torrents/info` sends it: bytes/s, `0` for none.
fn rate(limit: revaer_domain::RateLimit) -> i64 {
    limit.get().map_or(0, |bps| i64::try_from(bps).unwrap_or(i64::MAX))
}

fn unix(at: Option<DateTime<Utc>>) -> i64 {
    at.map_or(-1, |at| at.timestamp())
}

/// One row of `torrents/info`, with every field qBittorrent 5.0 sends
/// (those Revaer does not track carry qBittorrent's "none" values). The
/// `hash` is not serialised with the rest: `sync/maindata` keys rows by
/// it, and `torrents/info` adds it (see [`crate::rows`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(clippy::struct_excessive_bools, reason = "qBittorrent's wire format")]
pub struct TorrentInfo {
    #[serde(skip)]
    pub hash: String,
    pub infohash_v1: String,
    pub infohash_v2: String,
    pub name: String,
    pub magnet_uri: String,
    pub size: u64,
    pub total_size: u64,
    pub progress: f64,
    pub dlspeed: u64,
    pub upspeed: u64,
    pub priority: i64,
    pub num_seeds: u32,
    pub num_complete: i64,
    pub num_leechs: u32,
    pub num_incomplete: i64,
    pub ratio: f64,
    pub popularity: f64,
    pub eta: u64,
    pub state: &'static str,
    pub seq_dl: bool,
    pub f_l_piece_prio: bool,
    pub category: String,
    pub tags: String,
    pub super_seeding: bool,
    pub force_start: bool,
    pub save_path: String,
    pub download_path: String,
    pub content_path: String,
    pub root_path: String,
    pub added_on: i64,
    pub completion_on: i64,
    pub tracker: String,
    pub trackers_count: u32,
    pub dl_limit: i64,
    pub up_limit: i64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub downloaded_session: u64,
    pub uploaded_session: u64,
    pub amount_left: u64,
    pub completed: u64,
    pub max_ratio: f64,
    pub max_seeding_time: i64,
    pub max_inactive_seeding_time: i64,
    pub ratio_limit: f64,
    pub seeding_time_limit: i64,
    pub inactive_seeding_time_limit: i64,
    pub share_limits_mode: &'static str,
    pub share_limit_action: &'static str,
    pub seen_complete: i64,
    pub last_activity: i64,
    pub auto_tmm: bool,
    pub time_active: i64,
    pub seeding_time: i64,
    pub availability: f64,
    pub reannounce: i64,
    pub comment: String,
    pub private: bool,
    pub has_metadata: bool,
}

/// What rows show of the session's settings: the share limits in force
/// and whether queueing is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowPolicy {
    /// Share limits above the torrents.
    pub share: SharePolicy,
    /// Whether the session queues torrents.
    pub queueing: bool,
}

impl RowPolicy {
    /// The policy of the engine's current settings.
    pub fn of(engine: &Engine) -> Self {
        let session = engine.settings();
        Self { queueing: queueing(&session), share: session.share }
    }
}

/// Whether a session queues torrents (some active limit is set).
pub fn queueing(session: &revaer_engine::SessionConfig) -> bool {
    session.active_downloads.is_some()
        || session.active_seeds.is_some()
        || session.active_limit.is_some()
}

impl TorrentInfo {
    /// The row for `torrent`, which has `trackers` trackers. (`tracker`,
    /// the URL of the one working now, is empty until the engine's
    /// summaries carry tracker status.)
    pub fn of(torrent: &TorrentSummary, trackers: u32, policy: &RowPolicy) -> Self {
        let own = torrent.share_limits;
        let category =
            torrent.labels.category.as_ref().and_then(|c| policy.share.categories.get(c));
        let limits = own.resolve(category, &policy.share.global);
        let hash = torrent.id.to_hex();
        let save_path = torrent.save_path.to_string_lossy().into_owned();
        // The torrent's root: its folder, or its one file.
        let content_path = torrent.content_path.to_string_lossy().into_owned();
        let added_on = unix(torrent.added_at);
        Self {
            infohash_v1: hash.clone(),
            hash,
            infohash_v2: String::new(),
            name: torrent.name.clone(),
            magnet_uri: String::new(),
            size: torrent.bytes_wanted,
            total_size: torrent.size,
            progress: torrent.progress,
            dlspeed: torrent.download_bps,
            upspeed: torrent.upload_bps,
            // qBittorrent's numbering: 1 first, 0 in no queue, -1 when the
            // session does not queue.
            priority: if policy.queueing {
                torrent.queue_position.map_or(0, |at| i64::from(at) + 1)
            } else {
                -1
            },
            num_seeds: torrent.seeds,
            num_complete: -1,
            num_leechs: torrent.peers.saturating_sub(torrent.seeds),
            num_incomplete: -1,
            ratio: torrent.ratio,
            popularity: 0.0,
            eta: torrent.eta_secs.filter(|eta| *eta < ETA_UNKNOWN).unwrap_or(ETA_UNKNOWN),
            state: state(torrent),
            seq_dl: torrent.sequential,
            f_l_piece_prio: torrent.first_last_piece,
            category: torrent.labels.category.clone().unwrap_or_default(),
            tags: torrent.labels.tags.join(", "),
            super_seeding: false,
            force_start: torrent.force_start,
            save_path,
            download_path: String::new(),
            root_path: torrent
                .root_path
                .as_ref()
                .map(|root| root.to_string_lossy().into_owned())
                .unwrap_or_default(),
            content_path,
            added_on,
            completion_on: unix(torrent.completed_at),
            tracker: String::new(),
            trackers_count: trackers,
            dl_limit: rate(torrent.download_limit),
            up_limit: rate(torrent.upload_limit),
            downloaded: torrent.downloaded,
            uploaded: torrent.uploaded,
            downloaded_session: torrent.downloaded,
            uploaded_session: torrent.uploaded,
            amount_left: torrent.bytes_wanted.saturating_sub(torrent.bytes_done),
            completed: torrent.bytes_done,
            max_ratio: share::effective_ratio(&limits),
            max_seeding_time: share::effective_minutes(limits.seeding_time_secs),
            max_inactive_seeding_time: share::effective_minutes(limits.inactive_time_secs),
            ratio_limit: share::ratio_wire(own.ratio),
            seeding_time_limit: share::minutes_wire(own.seeding_time_secs),
            inactive_seeding_time_limit: share::minutes_wire(own.inactive_time_secs),
            share_limits_mode: "Default",
            share_limit_action: share::action_wire(own.action),
            seen_complete: unix(torrent.completed_at),
            last_activity: torrent
                .last_activity_at
                .or(torrent.completed_at)
                .map_or(added_on, |at| at.timestamp()),
            auto_tmm: false,
            time_active: 0,
            seeding_time: i64::try_from(torrent.seeding_secs).unwrap_or(i64::MAX),
            availability: -1.0,
            reannounce: 0,
            comment: String::new(),
            private: torrent.private,
            has_metadata: torrent.state != TorrentState::Metadata,
        }
    }
}

/// A summary for tests: `done` of 10 bytes, at the given rates.
#[cfg(test)]
pub(crate) fn test_summary(state: TorrentState, done: u64, down: u64, up: u64) -> TorrentSummary {
    TorrentSummary {
        id: revaer_domain::InfoHash::from_bytes([0xab; 20]),
        name: "x".into(),
        state,
        progress: 0.0,
        bytes_done: done,
        bytes_wanted: 10,
        size: 10,
        download_bps: down,
        upload_bps: up,
        downloaded: 0,
        uploaded: 0,
        ratio: 0.0,
        eta_secs: None,
        peers: 0,
        seeds: 0,
        save_path: "/d".into(),
        labels: revaer_domain::TorrentLabels::default(),
        added_at: None,
        completed_at: None,
        seeding_secs: 0,
        last_activity_at: None,
        private: false,
        share_limits: revaer_domain::ShareLimits::default(),
        queue_position: None,
        force_start: false,
        sequential: false,
        first_last_piece: false,
        download_limit: revaer_domain::RateLimit::UNLIMITED,
        upload_limit: revaer_domain::RateLimit::UNLIMITED,
        content_path: "/d/x".into(),
        root_path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_qbittorrent_5_strings() {
        use TorrentState::*;
        let cases = [
            (Metadata, 0, 0, 0, "metaDL"),
            (Queued, 0, 0, 0, "queuedDL"),
            (Queued, 10, 0, 0, "queuedUP"),
            (Checking, 3, 0, 0, "checkingDL"),
            (Checking, 10, 0, 0, "checkingUP"),
            (Downloading, 3, 5, 0, "downloading"),
            (Downloading, 3, 0, 0, "stalledDL"),
            (Seeding, 10, 0, 5, "uploading"),
            (Seeding, 10, 0, 0, "stalledUP"),
            (Paused, 3, 0, 0, "stoppedDL"),
            (Paused, 10, 0, 0, "stoppedUP"),
            (Moving, 10, 0, 0, "moving"),
            (Error, 0, 0, 0, "error"),
        ];
        for (state_, done, down, up, expected) in cases {
            assert_eq!(state(&test_summary(state_, done, down, up)), expected, "{state_:?}");
        }
        let row = TorrentInfo::of(&test_summary(Paused, 10, 0, 0), 0, &RowPolicy::default());
        assert_eq!(row.hash, "ab".repeat(20));
        assert_eq!(row.eta, ETA_UNKNOWN);
        assert_eq!(row.content_path, "/d/x");
    }
}
