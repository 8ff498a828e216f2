//! Reading and creating `.torrent` files (through libtorrent).

use std::path::Path;

use revaer_domain::{
    CompiledSelection, ContentLayout, FileEntry, FilePriority, InfoHash, SelectionRules,
};

use crate::error::{EngineError, Result};
use crate::ffi;

/// A parsed `.torrent`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metainfo {
    /// The torrent's id.
    pub id: InfoHash,
    /// The full SHA-256 (v2) info-hash, for v2 and hybrid torrents.
    pub v2: Option<[u8; 32]>,
    /// Its name.
    pub name: String,
    /// Total size of all files, in bytes.
    pub total_size: u64,
    layout: Vec<FileSlot>,
}

/// One file slot of a torrent, padding included (indices must match
/// libtorrent's).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSlot {
    pub path: String,
    pub size: u64,
    pub pad: bool,
}

/// `slots` (as the metainfo names them) laid out as `layout` asks: the
/// slots with the paths the files have on disk, and the renames that tell
/// libtorrent so.
pub(crate) fn arrange(
    mut slots: Vec<FileSlot>,
    layout: ContentLayout,
) -> (Vec<FileSlot>, Vec<ffi::torrent::FileRename>) {
    let paths: Vec<Option<&str>> =
        slots.iter().map(|slot| (!slot.pad).then_some(slot.path.as_str())).collect();
    let arranged = layout.arrange(&paths);
    let mut renames = Vec::new();
    for (index, (slot, path)) in slots.iter_mut().zip(arranged).enumerate() {
        if let (Some(path), Ok(index)) = (path, u32::try_from(index)) {
            renames.push(ffi::torrent::FileRename { index, path: path.clone() });
            slot.path = path;
        }
    }
    (slots, renames)
}

/// [`arrange`] for slots known or not yet (a magnet's before metadata).
pub(crate) fn arrange_known(
    slots: Option<Vec<FileSlot>>,
    layout: ContentLayout,
) -> (Option<Vec<FileSlot>>, Vec<ffi::torrent::FileRename>) {
    match slots {
        Some(slots) => {
            let (slots, renames) = arrange(slots, layout);
            (Some(slots), renames)
        }
        None => (None, Vec::new()),
    }
}

impl From<ffi::torrent::FileRecord> for FileSlot {
    fn from(record: ffi::torrent::FileRecord) -> Self {
        Self { path: record.path, size: record.size.max(0) as u64, pad: record.pad }
    }
}

impl Metainfo {
    /// Parses `.torrent` bytes. A malformed file is an error, never a panic.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let record = ffi::torrent::ffi::parse_metainfo(bytes)
            .map_err(|err| EngineError::InvalidMetainfo { reason: err.what().to_owned() })?;
        Ok(Self {
            id: InfoHash::from_bytes(record.info_hash),
            v2: Some(record.info_hash_v2).filter(|hash| hash.iter().any(|byte| *byte != 0)),
            name: record.name,
            total_size: record.total_size.max(0) as u64,
            layout: record.files.into_iter().map(FileSlot::from).collect(),
        })
    }

    /// The files (padding files left out), with the default priority.
    pub fn files(&self) -> Vec<FileEntry> {
        visible_files(&self.layout, |_| (0, FilePriority::Normal))
    }

    pub(crate) fn layout(&self) -> &[FileSlot] {
        &self.layout
    }
}

/// The files users see: padding left out, indices kept.
pub(crate) fn visible_files(
    layout: &[FileSlot],
    state: impl Fn(usize) -> (u64, FilePriority),
) -> Vec<FileEntry> {
    layout
        .iter()
        .enumerate()
        .filter(|(_, slot)| !slot.pad)
        .map(|(index, slot)| {
            let (bytes_done, priority) = state(index);
            FileEntry {
                index: index as u32,
                path: slot.path.clone(),
                size: slot.size,
                bytes_done,
                priority,
            }
        })
        .collect()
}

/// libtorrent priorities for every slot under `rules` (padding: 0).
pub(crate) fn priorities_for(layout: &[FileSlot], rules: &SelectionRules) -> Result<Vec<u8>> {
    priorities_with(layout, &rules.compile()?)
}

/// libtorrent priorities for every slot under compiled rules (padding: 0).
pub(crate) fn priorities_with(
    layout: &[FileSlot],
    selection: &CompiledSelection,
) -> Result<Vec<u8>> {
    let paths = layout.iter().map(|slot| slot.path.as_str()).collect::<Vec<_>>();
    let levels = selection.evaluate(&paths)?;
    Ok(layout
        .iter()
        .zip(levels)
        .map(|(slot, level)| if slot.pad { 0 } else { level.to_libtorrent() })
        .collect())
}

/// How to build a `.torrent`.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Piece size in bytes (a power of two, at least 16 KiB); `None` lets
    /// libtorrent choose from the total size.
    pub piece_size: Option<u32>,
    /// A v1-only torrent instead of a hybrid v1+v2 one.
    pub v1_only: bool,
    /// Announce URLs, one tier each.
    pub trackers: Vec<String>,
}

/// Builds a `.torrent` for a file or directory, hashing its contents. This
/// blocks while it reads the data: call it off the async runtime.
pub fn create(path: &Path, options: &CreateOptions) -> Result<Vec<u8>> {
    let invalid = |reason| EngineError::InvalidPath { path: path.to_path_buf(), reason };
    let text = path.to_str().ok_or_else(|| invalid("not valid UTF-8"))?;
    let parent = path.parent().and_then(Path::to_str).ok_or_else(|| invalid("has no parent"))?;
    let piece_size = options.piece_size.map_or(0, |size| i32::try_from(size).unwrap_or(0));
    ffi::torrent::ffi::create_metainfo(text, parent, piece_size, options.v1_only, &options.trackers)
        .map_err(EngineError::native("create a torrent"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_typed_error() {
        for bytes in [&b""[..], b"not bencode", b"d4:infoi1ee", b"d4:infod4:name1:xee"] {
            assert!(matches!(Metainfo::parse(bytes), Err(EngineError::InvalidMetainfo { .. })));
        }
    }

    #[test]
    fn create_then_parse_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("payload");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("a.bin"), vec![1_u8; 40_000]).expect("write");
        std::fs::write(root.join("sub/b.bin"), vec![2_u8; 12_345]).expect("write");
        for v1_only in [true, false] {
            let options = CreateOptions { piece_size: Some(16 * 1024), v1_only, trackers: vec![] };
            let bytes = create(&root, &options).expect("create");
            let info = Metainfo::parse(&bytes).expect("parse");
            assert_eq!(info.name, "payload");
            assert_eq!(info.v2.is_some(), !v1_only, "hybrid torrents carry a v2 hash");
            let files = info.files();
            let mut paths = files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>();
            paths.sort_unstable();
            assert_eq!(paths, ["payload/a.bin", "payload/sub/b.bin"]);
            assert_eq!(files.iter().map(|f| f.size).sum::<u64>(), 52_345);
            let rules = SelectionRules { exclude: vec!["sub/**".into()], ..Default::default() };
            let priorities = priorities_for(info.layout(), &rules).expect("priorities");
            for (slot, prio) in info.layout().iter().zip(&priorities) {
                let wanted = !slot.pad && !slot.path.contains("/sub/");
                assert_eq!(*prio != 0, wanted, "{}", slot.path);
            }
        }
    }

    #[test]
    fn create_refuses_missing_paths() {
        let err = create(Path::new("/nonexistent/revaer"), &CreateOptions::default());
        assert!(err.is_err());
    }
}
