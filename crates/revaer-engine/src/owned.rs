//! Which of a torrent's files it wrote itself, and deleting only those.
//!
//! A torrent's files may already be on disk when it gets its file list (a
//! cross-seed, a re-add, or a hostile torrent named after a file that was
//! there before). Those are *adopted*: recorded by index in the torrent's
//! meta, and kept when the torrent is removed with its data. Everything
//! else under the save path that the torrent's file list names was written
//! by the torrent, and is deleted, with the folders that end up empty.

use std::path::{Component, Path};

use crate::metainfo::FileSlot;

/// The indices of the files in `layout` that already exist under
/// `save_path` (a symbolic link counts as existing, and is never
/// followed).
pub(crate) fn adopted(save_path: &Path, layout: &[FileSlot]) -> Vec<u32> {
    layout
        .iter()
        .enumerate()
        .filter(|(_, slot)| !slot.pad)
        .filter(|(_, slot)| {
            safe(&slot.path)
                .is_some_and(|rel| std::fs::symlink_metadata(save_path.join(rel)).is_ok())
        })
        .filter_map(|(index, _)| u32::try_from(index).ok())
        .collect()
}

/// A relative path made only of plain names (no root, `..` or `.`).
fn safe(path: &str) -> Option<&Path> {
    let path = Path::new(path);
    path.components().all(|c| matches!(c, Component::Normal(_))).then_some(path)
}

/// Deletes the files of `layout` under `save_path` that are not adopted,
/// then the folders they were in that are left empty (never `save_path`
/// itself). Files already gone are not an error. Answers the first
/// failure, after trying every file.
pub(crate) fn delete_written(
    save_path: &Path,
    layout: &[FileSlot],
    adopted: &[u32],
) -> Result<(), String> {
    let adopted: std::collections::HashSet<u32> = adopted.iter().copied().collect();
    let mut failure = None;
    let mut folders = std::collections::BTreeSet::new();
    for (index, slot) in layout.iter().enumerate() {
        let kept = u32::try_from(index).is_ok_and(|index| adopted.contains(&index));
        let Some(rel) = safe(&slot.path).filter(|_| !kept) else { continue };
        let path = save_path.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                failure.get_or_insert_with(|| format!("cannot delete {}: {err}", path.display()));
            }
        }
        folders.extend(
            rel.ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty())
                .map(|a| save_path.join(a)),
        );
    }
    // Deepest first; `remove_dir` only removes empty folders.
    let mut folders: Vec<_> = folders.into_iter().collect();
    folders.sort_by_key(|folder| std::cmp::Reverse(folder.components().count()));
    for folder in folders {
        let _ = std::fs::remove_dir(folder);
    }
    failure.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(path: &str) -> FileSlot {
        FileSlot { path: path.into(), size: 1, pad: false }
    }

    #[test]
    fn only_what_the_torrent_wrote_is_deleted() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let save = &dir.path().join("save");
        std::fs::create_dir_all(save.join("Show/extras"))?;
        std::fs::write(save.join("important.txt"), "mine")?;
        let layout = [
            slot("important.txt"),
            slot("Show/a.mkv"),
            slot("Show/extras/b.nfo"),
            slot("../escape"),
        ];
        let adopted = adopted(save, &layout);
        assert_eq!(adopted, [0], "the file that was there before");
        std::fs::write(save.join("Show/a.mkv"), "written")?;
        std::fs::write(save.join("Show/extras/b.nfo"), "written")?;
        std::fs::write(dir.path().join("escape"), "outside")?;
        delete_written(save, &layout, &adopted).map_err(std::io::Error::other)?;
        assert_eq!(std::fs::read_to_string(save.join("important.txt"))?, "mine", "kept");
        assert!(!save.join("Show").exists(), "written files and their emptied folders go");
        assert!(dir.path().join("escape").exists(), "no path leaves the save path");
        assert!(save.exists());
        Ok(())
    }
}
