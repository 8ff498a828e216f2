//! Files inside a torrent and their download priorities.

use serde::{Deserialize, Serialize};

/// How eagerly a file is downloaded. `Skip` means "not wanted": its data is
/// not written to its final place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilePriority {
    /// Do not download.
    Skip,
    /// Download after everything else.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Download first.
    High,
}

impl FilePriority {
    /// Whether the file is to be downloaded at all.
    pub const fn is_wanted(self) -> bool {
        !matches!(self, Self::Skip)
    }

    /// libtorrent's `download_priority_t` value (0, 1, 4 or 7).
    pub const fn to_libtorrent(self) -> u8 {
        match self {
            Self::Skip => 0,
            Self::Low => 1,
            Self::Normal => 4,
            Self::High => 7,
        }
    }

    /// Maps a libtorrent priority (0–7) back, rounding to the nearest level.
    pub const fn from_libtorrent(value: u8) -> Self {
        match value {
            0 => Self::Skip,
            1..=3 => Self::Low,
            4..=5 => Self::Normal,
            _ => Self::High,
        }
    }

    /// Parses `skip`, `low`, `normal` or `high` (as the CLI and API spell it).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "skip" => Some(Self::Skip),
            "low" => Some(Self::Low),
            "normal" => Some(Self::Normal),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

/// One file of a torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    /// Position in the torrent's file list; per-file priorities use it.
    pub index: u32,
    /// Path relative to the save path, `/`-separated, including the
    /// torrent's top-level folder for multi-file torrents.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Bytes of this file already downloaded and verified.
    pub bytes_done: u64,
    /// Current priority.
    pub priority: FilePriority,
}

impl FileEntry {
    /// Fraction downloaded, 0.0 to 1.0 (1.0 for an empty file).
    pub fn progress(&self) -> f64 {
        if self.size == 0 { 1.0 } else { self.bytes_done as f64 / self.size as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorrent_mapping_round_trips() {
        for priority in
            [FilePriority::Skip, FilePriority::Low, FilePriority::Normal, FilePriority::High]
        {
            assert_eq!(FilePriority::from_libtorrent(priority.to_libtorrent()), priority);
        }
        assert_eq!(FilePriority::from_libtorrent(6), FilePriority::High);
        assert_eq!(FilePriority::from_libtorrent(2), FilePriority::Low);
    }

    #[test]
    fn parse_and_progress() {
        assert_eq!(FilePriority::parse("HIGH"), Some(FilePriority::High));
        assert_eq!(FilePriority::parse("urgent"), None);
        let file = FileEntry {
            index: 0,
            path: "a".into(),
            size: 4,
            bytes_done: 1,
            priority: FilePriority::Normal,
        };
        assert!((file.progress() - 0.25).abs() < f64::EPSILON);
        assert!((FileEntry { size: 0, ..file }.progress() - 1.0).abs() < f64::EPSILON);
    }
}
