//! Private files in the data directory, written so that a crash leaves
//! either the old content or the new.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `target` atomically with mode 0600: a new file next to
/// it, synced, renamed into place, and the directory synced so that the
/// rename itself survives a crash.
pub fn write_private(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = parent(target);
    let part = part_path(target);
    let _ = std::fs::remove_file(&part);
    let written = (|| {
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&part)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&part, target)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

/// Where `target` is written before it is renamed into place: a hidden
/// file next to it.
pub fn part_path(target: &Path) -> std::path::PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent(target).join(format!(".{name}.revaer-part"))
}

/// The directory `path` is in (`.` for a bare name).
pub fn parent(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Syncs a directory, so that a rename or creation in it is durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Creates the data directory (and missing parents) with mode 0700, and
/// warns when an existing one is open to other users.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o007 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory is open to other users; `chmod 700` it unless they need it"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn private_files_replace_the_old_content_with_mode_0600() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("f");
        std::fs::write(&target, "old")?;
        write_private(&target, b"new")?;
        assert_eq!(std::fs::read_to_string(&target)?, "new");
        assert_eq!(std::fs::metadata(&target)?.permissions().mode() & 0o777, 0o600);
        let leftovers = std::fs::read_dir(dir.path())?.count();
        assert_eq!(leftovers, 1, "no part file left behind");
        Ok(())
    }

    #[test]
    fn a_new_data_directory_is_private() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("a/b");
        create_private_dir(&data)?;
        assert_eq!(std::fs::metadata(&data)?.permissions().mode() & 0o777, 0o700);
        Ok(())
    }
}
