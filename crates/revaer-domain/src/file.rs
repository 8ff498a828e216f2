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

/// Where a torrent's files go under its save path (qBittorrent's
/// `contentLayout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContentLayout {
    /// As the torrent names them.
    #[default]
    Original,
    /// Always in a folder: a single-file torrent's file goes into a folder
    /// named after it, without its extension.
    Subfolder,
    /// Without the torrent's top folder: a multi-file torrent's files lie
    /// in the save path itself.
    NoSubfolder,
}

impl ContentLayout {
    /// The new path of each file of a torrent, given the paths it names
    /// (`/`-separated; `None` for padding, which is never renamed): `None`
    /// where a path stays as it is.
    pub fn arrange(self, paths: &[Option<&str>]) -> Vec<Option<String>> {
        let renamed = self.renames(paths);
        // Each new path stays inside the save path (the paths given are
        // libtorrent's, already cleaned; this holds whatever they are).
        let inside = |path: &String| {
            path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        };
        if renamed.iter().flatten().all(inside) { renamed } else { vec![None; paths.len()] }
    }

    fn renames(self, paths: &[Option<&str>]) -> Vec<Option<String>> {
        let files: Vec<&str> = paths.iter().flatten().copied().collect();
        let rename =
            |f: &dyn Fn(&str) -> String| paths.iter().map(|path| path.map(f)).collect::<Vec<_>>();
        match self {
            Self::Original => vec![None; paths.len()],
            Self::Subfolder => match files.as_slice() {
                [single] if !single.contains('/') => {
                    // A name of dots only (never from a sane torrent) gets
                    // no folder: it would name no folder, or the parent.
                    let stem = std::path::Path::new(single)
                        .file_stem()
                        .and_then(|stem| stem.to_str())
                        .filter(|stem| !stem.chars().all(|c| c == '.'))
                        .map(str::to_owned);
                    match stem {
                        Some(stem) => rename(&|path| format!("{stem}/{path}")),
                        None => vec![None; paths.len()],
                    }
                }
                _ => vec![None; paths.len()],
            },
            Self::NoSubfolder => {
                let top = files.first().and_then(|path| path.split_once('/')).map(|(top, _)| top);
                match top {
                    Some(top)
                        if files.iter().all(|path| {
                            path.split_once('/').is_some_and(|(first, _)| first == top)
                        }) =>
                    {
                        rename(&|path| path[top.len() + 1..].to_owned())
                    }
                    _ => vec![None; paths.len()],
                }
            }
        }
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
    #[test]
    fn layouts_add_or_drop_the_top_folder() {
        let multi = [Some("Show/a.mkv"), None, Some("Show/sub/b.nfo")];
        assert_eq!(ContentLayout::Original.arrange(&multi), vec![None, None, None]);
        assert_eq!(
            ContentLayout::NoSubfolder.arrange(&multi),
            vec![Some("a.mkv".into()), None, Some("sub/b.nfo".into())]
        );
        assert_eq!(ContentLayout::Subfolder.arrange(&multi), vec![None, None, None]);
        let single = [Some("movie.2024.mkv")];
        assert_eq!(
            ContentLayout::Subfolder.arrange(&single),
            vec![Some("movie.2024/movie.2024.mkv".into())]
        );
        assert_eq!(ContentLayout::NoSubfolder.arrange(&single), vec![None]);
        assert_eq!(ContentLayout::Subfolder.arrange(&[Some("..")]), vec![None], "never the parent");
        // Files under different tops have no top folder to drop.
        let loose = [Some("a/x"), Some("b/y")];
        assert_eq!(ContentLayout::NoSubfolder.arrange(&loose), vec![None, None]);
        // Paths no sane torrent names give no renames that could leave the
        // save path.
        for odd in [[Some("top/../../etc"), Some("top/x")], [Some("top//x"), Some("top/y")]] {
            assert_eq!(ContentLayout::NoSubfolder.arrange(&odd), vec![None, None], "{odd:?}");
        }
        assert_eq!(ContentLayout::Subfolder.arrange(&[Some("/abs")]), vec![None]);
    }
}
