//! Permissions: modes for the delivered files and folders (from `chmod_*`,
//! or `umask` applied to 0666/0777), and owner and group by name or id.
//!
//! Changing owners needs privileges; without them the change is skipped and
//! the step says so instead of failing the job. Note that a hard link shares
//! its inode with the download, so its mode and owner change there too.

use std::fs;
use std::os::unix::fs::{PermissionsExt, lchown};
use std::path::Path;

use nix::unistd::{Group, User};

use super::{Ctx, Outcome};
use crate::error::{FsopsError, Result};
use crate::meta::META_FILE;

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    if plan.file_mode.is_none()
        && plan.dir_mode.is_none()
        && plan.owner.is_none()
        && plan.group.is_none()
    {
        return Ok(Outcome::Skipped("no modes or owners configured".to_owned()));
    }
    let uid = plan.owner.as_deref().map(user_id).transpose()?;
    let gid = plan.group.as_deref().map(group_id).transpose()?;
    let (mut changed, mut chown_denied) = (0usize, false);
    for entry in walkdir::WalkDir::new(&plan.destination).follow_links(false) {
        let entry = entry.map_err(|err| FsopsError::Io {
            action: "walk",
            path: plan.destination.clone(),
            source: err.into_io_error().unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let path = entry.path();
        let kind = entry.file_type();
        if kind.is_symlink() || entry.file_name() == META_FILE {
            continue;
        }
        let mode = if kind.is_dir() { plan.dir_mode } else { plan.file_mode };
        if let Some(mode) = mode {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .map_err(FsopsError::io("chmod", path))?;
        }
        if (uid.is_some() || gid.is_some()) && !chown_denied {
            chown_denied = !chown(path, uid, gid)?;
        }
        changed += 1;
    }
    let mut detail = format!("{changed} entries");
    if chown_denied {
        detail.push_str("; owner/group not changed: not privileged");
        tracing::warn!(destination = %plan.destination.display(), "FsOps could not change owners: not privileged");
    }
    Ok(Outcome::Done(detail))
}

/// Changes owner and group; `false` when not permitted.
fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>) -> Result<bool> {
    match lchown(path, uid, gid) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => Ok(false),
        Err(err) => Err(FsopsError::io("chown", path)(err)),
    }
}

/// A numeric id as given, or the id `lookup` finds for a name; never the
/// superuser's (the settings refuse `root` and `0`, but another name, such
/// as `toor`, may resolve to it on this system).
fn id_of(kind: &'static str, name: &str, lookup: impl Fn(&str) -> Option<u32>) -> Result<u32> {
    let id = name
        .parse()
        .ok()
        .or_else(|| lookup(name))
        .ok_or_else(|| FsopsError::UnknownOwner { kind, name: name.to_owned() })?;
    if id == 0 {
        return Err(FsopsError::SuperuserOwner { kind, name: name.to_owned() });
    }
    Ok(id)
}

fn user_id(name: &str) -> Result<u32> {
    id_of("user", name, |n| User::from_name(n).ok().flatten().map(|u| u.uid.as_raw()))
}

fn group_id(name: &str) -> Result<u32> {
    id_of("group", name, |n| Group::from_name(n).ok().flatten().map(|g| g.gid.as_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_resolve_by_name_or_id() {
        assert_eq!(user_id("65534").expect("id"), 65534);
        assert!(user_id("nobody").is_ok_and(|id| id != 0), "a name resolves");
        // The superuser, by any name or spelling of its id, is refused.
        for name in ["0", "00", "root"] {
            assert!(matches!(user_id(name), Err(FsopsError::SuperuserOwner { kind: "user", .. })));
        }
        assert!(matches!(group_id("root"), Err(FsopsError::SuperuserOwner { kind: "group", .. })));
        assert!(matches!(
            user_id("no-such-user-revaer"),
            Err(FsopsError::UnknownOwner { kind: "user", .. })
        ));
        assert!(matches!(
            group_id("no-such-group-revaer"),
            Err(FsopsError::UnknownOwner { kind: "group", .. })
        ));
    }
}
