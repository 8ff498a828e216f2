//! Torrent lifecycle state, list and detail views, labels and rate limits.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::file::FileEntry;
use crate::info_hash::InfoHash;

/// Longest category accepted, in characters.
pub const MAX_CATEGORY_LEN: usize = 128;
/// Most tags on one torrent.
pub const MAX_TAGS: usize = 64;
/// Longest tag accepted, in characters.
pub const MAX_TAG_LEN: usize = 128;

/// Where a torrent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TorrentState {
    /// Waiting for a slot (the active-download or active-seed limit).
    Queued,
    /// Verifying pieces on disk (a recheck, or resume data being checked).
    Checking,
    /// A magnet waiting for its metadata from peers.
    Metadata,
    /// Downloading wanted pieces.
    Downloading,
    /// All wanted pieces are present; uploading to others.
    Seeding,
    /// Stopped by the user.
    Paused,
    /// Files are being moved to a new save path.
    Moving,
    /// Stopped by an error (see the torrent's `error`).
    Error,
}

impl TorrentState {
    /// All states, in a stable order (for filters and docs).
    pub const ALL: [Self; 8] = [
        Self::Queued,
        Self::Checking,
        Self::Metadata,
        Self::Downloading,
        Self::Seeding,
        Self::Paused,
        Self::Moving,
        Self::Error,
    ];

    /// The snake_case name used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Checking => "checking",
            Self::Metadata => "metadata",
            Self::Downloading => "downloading",
            Self::Seeding => "seeding",
            Self::Paused => "paused",
            Self::Moving => "moving",
            Self::Error => "error",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// A transfer-rate cap in bytes per second (payload and protocol overhead
/// together, as libtorrent counts). `RateLimit::UNLIMITED` (`null` on the
/// wire) means no cap; a cap of 0 is read as unlimited too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct RateLimit(Option<u64>);

impl RateLimit {
    /// No cap.
    pub const UNLIMITED: Self = Self(None);
    /// The highest cap libtorrent can represent (`i32::MAX` bytes/s, about
    /// 2 GiB/s); larger caps are clamped to it.
    pub const MAX_BYTES_PER_SECOND: u64 = i32::MAX as u64;

    /// A cap of `bytes_per_second`; 0 means unlimited.
    pub const fn bytes_per_second(bytes_per_second: u64) -> Self {
        if bytes_per_second == 0 { Self(None) } else { Self(Some(bytes_per_second)) }
    }

    /// The cap, or `None` when unlimited.
    pub const fn get(self) -> Option<u64> {
        match self.0 {
            Some(0) | None => None,
            Some(value) => Some(value),
        }
    }

    /// libtorrent's encoding: 0 for unlimited, else the clamped cap.
    pub fn to_libtorrent(self) -> i32 {
        self.get().map_or(0, |value| value.min(Self::MAX_BYTES_PER_SECOND) as i32)
    }

    /// Reads libtorrent's encoding (0 or negative means unlimited).
    pub fn from_libtorrent(value: i32) -> Self {
        Self::bytes_per_second(u64::try_from(value).unwrap_or(0))
    }
}

/// Opaque labels the engine stores with a torrent and hands back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentLabels {
    /// One category, used by FsOps to pick a library location.
    pub category: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
}

/// Why labels are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The category is empty or too long.
    #[error(
        "a category is 1 to {MAX_CATEGORY_LEN} characters, not blank, without control characters"
    )]
    Category,
    /// Too many tags.
    #[error("at most {MAX_TAGS} tags, got {len}")]
    TooManyTags {
        /// How many were sent.
        len: usize,
    },
    /// A tag is empty, too long or contains control characters.
    #[error(
        "tag {index} must be 1 to {MAX_TAG_LEN} characters, not blank, without control characters"
    )]
    Tag {
        /// Position of the bad tag.
        index: usize,
    },
}

fn valid_label(text: &str, max: usize) -> bool {
    crate::text::is_text(text, max)
}

impl TorrentLabels {
    /// Checks the bounds: category and each tag 1–128 characters, not blank, without control
    /// characters, at most 64 tags.
    pub fn validate(&self) -> Result<(), LabelError> {
        if let Some(category) = &self.category
            && !valid_label(category, MAX_CATEGORY_LEN)
        {
            return Err(LabelError::Category);
        }
        if self.tags.len() > MAX_TAGS {
            return Err(LabelError::TooManyTags { len: self.tags.len() });
        }
        match self.tags.iter().position(|tag| !valid_label(tag, MAX_TAG_LEN)) {
            Some(index) => Err(LabelError::Tag { index }),
            None => Ok(()),
        }
    }
}

/// One row of a torrent list: everything a list view shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[allow(clippy::struct_excessive_bools, reason = "independent per-torrent switches")]
pub struct TorrentSummary {
    /// The info-hash.
    pub id: InfoHash,
    /// Name from the metadata, the magnet's `dn`, or the hash.
    pub name: String,
    /// Lifecycle state.
    pub state: TorrentState,
    /// Fraction of wanted bytes present, 0.0 to 1.0.
    pub progress: f64,
    /// Wanted bytes present and verified.
    pub bytes_done: u64,
    /// Bytes wanted under the current file selection.
    pub bytes_wanted: u64,
    /// Total size of all files (0 until metadata is known).
    pub size: u64,
    /// Current download rate, bytes/s.
    pub download_bps: u64,
    /// Current upload rate, bytes/s.
    pub upload_bps: u64,
    /// Payload bytes downloaded over the torrent's life.
    pub downloaded: u64,
    /// Payload bytes uploaded over the torrent's life.
    pub uploaded: u64,
    /// `uploaded / downloaded` (with present bytes standing in for
    /// `downloaded` when the data was never downloaded here).
    pub ratio: f64,
    /// Seconds left at the current rate; `None` when done or stalled.
    pub eta_secs: Option<u64>,
    /// Connected peers (including seeds).
    pub peers: u32,
    /// Connected seeds.
    pub seeds: u32,
    /// Directory the torrent's files live in.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub save_path: PathBuf,
    /// Category and tags.
    #[serde(flatten)]
    pub labels: TorrentLabels,
    /// When the torrent was first added.
    pub added_at: Option<DateTime<Utc>>,
    /// When it last completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// How long it has seeded in all, in seconds (as of its last status
    /// change: an idle seeder's figure is refreshed when it next changes).
    #[serde(default)]
    pub seeding_secs: u64,
    /// When it last uploaded or downloaded payload, if ever.
    #[serde(default)]
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Whether its metadata marks it private (no DHT, PeX or LSD).
    #[serde(default)]
    pub private: bool,
    /// Whether pieces are fetched in order.
    #[serde(default)]
    pub sequential: bool,
    /// Per-torrent download cap.
    #[serde(default)]
    pub download_limit: RateLimit,
    /// Per-torrent upload cap.
    #[serde(default)]
    pub upload_limit: RateLimit,
    /// Its place in the download queue (0 first); `None` when it is in
    /// none (finished torrents).
    #[serde(default)]
    pub queue_position: Option<u32>,
    /// Whether it runs outside the queue (force-started).
    #[serde(default)]
    pub force_start: bool,
    /// Whether the first and last pieces of each wanted file come first
    /// (so that a player can read a file's header and index early).
    #[serde(default)]
    pub first_last_piece: bool,
    /// Its own share limits (see `share`).
    #[serde(default)]
    pub share_limits: crate::share::ShareLimits,
    /// Path of the payload: the file of a single-file torrent, else its
    /// top folder (the save path itself when its files lie in it without
    /// one).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub content_path: PathBuf,
    /// The top folder every file lies under, if they share one (none when
    /// they lie straight in the save path, or before metadata).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub root_path: Option<PathBuf>,
}

/// How a tracker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrackerStatus {
    /// Not announced to yet.
    NotContacted,
    /// An announce is in flight.
    Updating,
    /// The last announce succeeded.
    Working,
    /// The last announce failed (see `message`).
    Error,
}

/// One tracker of a torrent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackerEntry {
    /// Announce URL.
    pub url: String,
    /// Tier (lower is tried first).
    pub tier: u8,
    /// Status of the last announce.
    pub status: TrackerStatus,
    /// The tracker's last message or error, if any.
    pub message: Option<String>,
    /// Seeds the tracker reported.
    pub seeds: Option<u32>,
    /// Leechers the tracker reported.
    pub leechers: Option<u32>,
}

/// A tracker to add, at its tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrackerSpec {
    /// Announce URL (`http://`, `https://` or `udp://`).
    pub url: String,
    /// Tier (lower is tried first); 0 when absent.
    #[serde(default)]
    pub tier: u8,
}

/// One tracker URL replaced by another (keeping its tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrackerReplace {
    /// The tracker's URL now.
    pub from: String,
    /// Its new URL.
    pub to: String,
}

/// A change to a torrent's trackers, applied as one: replacements first,
/// then removals, then additions (a URL already there is not added twice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrackerEdit {
    /// Trackers to add.
    #[serde(default)]
    pub add: Vec<TrackerSpec>,
    /// URLs of trackers to remove (each must be there).
    #[serde(default)]
    pub remove: Vec<String>,
    /// URLs to replace (each `from` must be there, no `to` may be).
    #[serde(default)]
    pub replace: Vec<TrackerReplace>,
}

impl TrackerEdit {
    /// Whether the edit changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.replace.is_empty()
    }

    /// Every problem of the edit, each with the JSON Pointer (under
    /// `base`) of the field at fault: an empty edit, a list over
    /// [`MAX_TRACKER_EDITS`], or a new URL that is no tracker URL.
    #[must_use]
    pub fn problems(&self, base: &str) -> Vec<(String, &'static str)> {
        let mut found = Vec::new();
        if self.is_empty() {
            found.push((format!("{base}/add"), "give add, remove or replace"));
        }
        for (name, len) in [
            ("add", self.add.len()),
            ("remove", self.remove.len()),
            ("replace", self.replace.len()),
        ] {
            if len > MAX_TRACKER_EDITS {
                found.push((format!("{base}/{name}"), "at most 256 trackers"));
            }
        }
        for (at, spec) in self.add.iter().enumerate() {
            if let Err(reason) = check_tracker_url(&spec.url) {
                found.push((format!("{base}/add/{at}/url"), reason));
            }
        }
        for (at, replace) in self.replace.iter().enumerate() {
            if let Err(reason) = check_tracker_url(&replace.to) {
                found.push((format!("{base}/replace/{at}/to"), reason));
            }
        }
        found
    }
}

/// Most trackers one list of a [`TrackerEdit`] names.
pub const MAX_TRACKER_EDITS: usize = 256;
/// Longest tracker URL, in bytes.
pub const MAX_TRACKER_URL: usize = 2048;

/// Whether `url` can be a tracker: `http://`, `https://` or `udp://`, at
/// most [`MAX_TRACKER_URL`] bytes, no whitespace.
///
/// # Errors
/// Why it cannot.
pub fn check_tracker_url(url: &str) -> Result<(), &'static str> {
    let scheme_ok = ["http://", "https://", "udp://"].iter().any(|scheme| url.starts_with(scheme));
    if url.len() > MAX_TRACKER_URL {
        Err("longer than 2048 bytes")
    } else if !scheme_ok {
        Err("must be an http://, https:// or udp:// URL")
    } else if url.chars().any(char::is_whitespace) {
        Err("must not contain whitespace")
    } else {
        Ok(())
    }
}

/// Everything a UI needs about one torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentDetail {
    /// The list-view fields.
    #[serde(flatten)]
    pub summary: TorrentSummary,
    /// Why the torrent stopped, when `state` is `error`.
    pub error: Option<String>,
    /// Trackers with their status.
    pub trackers: Vec<TrackerEntry>,
    /// Files with size, progress and priority (empty until metadata).
    pub files: Vec<FileEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_round_trip() {
        for state in TorrentState::ALL {
            assert_eq!(TorrentState::parse(state.as_str()), Some(state));
            let json = serde_json::to_string(&state).expect("serialize");
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert_eq!(TorrentState::parse("done"), None);
    }

    #[test]
    fn rate_limit_encodings() {
        assert_eq!(RateLimit::bytes_per_second(0), RateLimit::UNLIMITED);
        assert_eq!(RateLimit::UNLIMITED.to_libtorrent(), 0);
        assert_eq!(RateLimit::bytes_per_second(1000).to_libtorrent(), 1000);
        assert_eq!(RateLimit::bytes_per_second(u64::MAX).to_libtorrent(), i32::MAX);
        assert_eq!(RateLimit::from_libtorrent(-1), RateLimit::UNLIMITED);
        assert_eq!(RateLimit::from_libtorrent(5).get(), Some(5));
        assert_eq!(serde_json::to_string(&RateLimit::UNLIMITED).expect("json"), "null");
        let zero: RateLimit = serde_json::from_str("0").expect("json");
        assert_eq!(zero.get(), None);
    }

    #[test]
    fn labels_are_bounded() {
        let ok = TorrentLabels { category: Some("tv".into()), tags: vec!["a".into()] };
        assert_eq!(ok.validate(), Ok(()));
        let empty_category = TorrentLabels { category: Some(" ".into()), tags: vec![] };
        assert_eq!(empty_category.validate(), Err(LabelError::Category));
        let bad_tag = TorrentLabels { category: None, tags: vec!["a".into(), "b\n".into()] };
        assert_eq!(bad_tag.validate(), Err(LabelError::Tag { index: 1 }));
        let many = TorrentLabels { category: None, tags: vec!["t".into(); MAX_TAGS + 1] };
        assert!(matches!(many.validate(), Err(LabelError::TooManyTags { .. })));
    }
}
