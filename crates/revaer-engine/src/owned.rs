//! Which of a torrent's files it wrote itself, and deleting only those.
//!
//! A torrent's files may already be on disk when it gets its file list (a
//! cross-seed, a re-add, or a hostile torrent named after a file that was
//! there before). Those are *adopted*: recorded by index in the torrent's
//! meta, and kept when the torrent is removed with its data. Everything
//! else under the save path that the torrent's file list names was written
//! by the torrent, and is deleted, with the folders that end up empty.

use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

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

/// The indices of the files in `layout` (under `save_path`) that another
/// torrent names at the same place on disk: a cross-seed of the same files.
/// Only torrents whose save path is inside `save_path`, or holds it, can.
pub(crate) fn shared<'a>(
    save_path: &Path,
    layout: &[FileSlot],
    others: impl Iterator<Item = (&'a Path, &'a [FileSlot])>,
) -> Vec<u32> {
    let named: HashSet<PathBuf> = others
        .filter(|(other, _)| other.starts_with(save_path) || save_path.starts_with(other))
        .flat_map(|(other, slots)| {
            slots
                .iter()
                .filter(|slot| !slot.pad)
                .filter_map(move |slot| safe(&slot.path).map(|rel| other.join(rel)))
        })
        .collect();
    if named.is_empty() {
        return Vec::new();
    }
    layout
        .iter()
        .enumerate()
        .filter(|(_, slot)| !slot.pad)
        .filter(|(_, slot)| {
            safe(&slot.path).is_some_and(|rel| named.contains(&save_path.join(rel)))
        })
        .filter_map(|(index, _)| u32::try_from(index).ok())
        .collect()
}

/// A removed torrent's files that the engine deletes itself, keeping the
/// `kept` indices (adopted, or named by another torrent).
#[derive(Debug)]
pub(crate) struct OwnDelete {
    pub save_path: PathBuf,
    pub layout: Vec<FileSlot>,
    pub kept: Vec<u32>,
}

impl OwnDelete {
    /// Deletes the files that are not kept, then the folders they were in
    /// that are left empty (never the save path itself). A file below a
    /// symbolic link (a folder of the save path that is a link elsewhere)
    /// is left alone, and links are never followed. Files already gone are
    /// not an error. Answers the first failure, after trying every file.
    pub(crate) fn run(&self) -> Result<(), String> {
        let kept: HashSet<u32> = self.kept.iter().copied().collect();
        let mut failure = None;
        let mut folders = BTreeSet::new();
        for (index, slot) in self.layout.iter().enumerate() {
            let keep = u32::try_from(index).is_ok_and(|index| kept.contains(&index));
            let Some(rel) = safe(&slot.path).filter(|_| !keep && !slot.pad) else { continue };
            if !self.real_folders(rel) {
                continue;
            }
            let path = self.save_path.join(rel);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    failure
                        .get_or_insert_with(|| format!("cannot delete {}: {err}", path.display()));
                }
            }
            folders.extend(
                rel.ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty())
                    .map(|a| self.save_path.join(a)),
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

    /// Whether every folder between the save path and `rel` is a real
    /// folder (no symbolic link, nothing missing).
    fn real_folders(&self, rel: &Path) -> bool {
        rel.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()).all(|folder| {
            std::fs::symlink_metadata(self.save_path.join(folder)).is_ok_and(|m| m.is_dir())
        })
    }
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
        let own = OwnDelete { save_path: save.clone(), layout: layout.to_vec(), kept: adopted };
        own.run().map_err(std::io::Error::other)?;
        assert_eq!(std::fs::read_to_string(save.join("important.txt"))?, "mine", "kept");
        assert!(!save.join("Show").exists(), "written files and their emptied folders go");
        assert!(dir.path().join("escape").exists(), "no path leaves the save path");
        assert!(save.exists());
        Ok(())
    }

    #[test]
    fn files_another_torrent_names_are_shared() {
        let save = Path::new("/srv/downloads");
        let layout = [slot("Show/a.mkv"), slot("Show/b.nfo")];
        let cross_seed = [slot("a.mkv")];
        let elsewhere = [slot("Show/b.nfo")];
        let others = [
            (Path::new("/srv/downloads/Show"), &cross_seed[..]),
            (Path::new("/srv/other"), &elsewhere[..]),
        ];
        let shared = shared(save, &layout, others.iter().map(|(p, l)| (*p, *l)));
        assert_eq!(shared, [0], "the same file, named from a save path one level down");
        assert!(shared_none(save, &layout));
    }

    fn shared_none(save: &Path, layout: &[FileSlot]) -> bool {
        shared(save, layout, std::iter::empty()).is_empty()
    }

    #[cfg(unix)]
    #[test]
    fn files_below_a_linked_folder_are_left_alone() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let save = dir.path().join("save");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&save)?;
        std::fs::create_dir_all(&elsewhere)?;
        std::fs::write(elsewhere.join("keep.txt"), "not the torrent's")?;
        std::os::unix::fs::symlink(&elsewhere, save.join("Show"))?;
        let own = OwnDelete {
            save_path: save.clone(),
            layout: vec![slot("Show/keep.txt")],
            kept: vec![],
        };
        own.run().map_err(std::io::Error::other)?;
        assert!(elsewhere.join("keep.txt").exists(), "nothing is deleted through a link");
        assert!(save.join("Show").exists(), "the link itself stays");
        Ok(())
    }
}
