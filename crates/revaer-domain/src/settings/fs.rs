//! `fs_policy`: how completed torrents become library entries.

use serde::{Deserialize, Serialize};

use super::{Check, Violation};

/// How files get from the download to the library.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Move (a seeding torrent moves with its files).
    Move,
    /// Hard-link (the download keeps seeding; no extra space).
    #[default]
    Hardlink,
    /// Copy.
    Copy,
    /// Copy-on-write clone where the filesystem supports it, else copy.
    Reflink,
}

/// The post-processing policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
#[allow(clippy::struct_excessive_bools, reason = "independent pipeline steps")]
pub struct FsPolicy {
    /// Root of the library (relative: under the data directory).
    pub library_root: String,
    /// Roots FsOps may read from and write to; sources and destinations
    /// outside all of them are refused. Empty: the download root and the
    /// library root.
    pub allowed_roots: Vec<String>,
    /// Extract archives found in the payload.
    pub extract: bool,
    /// Collapse a single top-level folder.
    pub flatten: bool,
    /// How files reach the library.
    pub transfer_mode: TransferMode,
    /// Mode for delivered files, octal (`"0644"`).
    pub chmod_file: Option<String>,
    /// Mode for delivered folders, octal (`"0755"`).
    pub chmod_dir: Option<String>,
    /// Owner (name or numeric id) for delivered files.
    pub chown: Option<String>,
    /// Group (name or numeric id) for delivered files.
    pub chgrp: Option<String>,
    /// Umask applied when creating files, octal (`"022"`).
    pub umask: Option<String>,
    /// Globs of files always kept.
    pub cleanup_keep: Vec<String>,
    /// Globs of files dropped (`@fluff`: samples, proofs, `.nfo`, `.txt`).
    pub cleanup_drop: Vec<String>,
    /// Record a checksum per delivered file.
    pub checksum: bool,
}

impl Default for FsPolicy {
    fn default() -> Self {
        Self {
            library_root: "library".to_owned(),
            allowed_roots: Vec::new(),
            extract: true,
            flatten: true,
            transfer_mode: TransferMode::Hardlink,
            chmod_file: None,
            chmod_dir: None,
            chown: None,
            chgrp: None,
            umask: None,
            cleanup_keep: Vec::new(),
            cleanup_drop: vec!["@fluff".to_owned()],
            checksum: false,
        }
    }
}

fn owner_ok(value: Option<&str>) -> bool {
    value.is_none_or(|text| {
        !text.is_empty()
            && text.len() <= 32
            && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

/// Whether an owner names the superuser (or its group): `root`, or an id
/// that is zero however it is written.
fn is_root_owner(value: Option<&str>) -> bool {
    value
        .is_some_and(|text| text == "root" || (!text.is_empty() && text.bytes().all(|b| b == b'0')))
}

impl FsPolicy {
    /// Every violation, with pointers under `/fs_policy`.
    pub fn validate(&self) -> Vec<Violation> {
        let mut check = Check::new("/fs_policy");
        self.validate_into(&mut check);
        check.finish()
    }

    pub(crate) fn validate_into(&self, check: &mut Check) {
        check.path(&self.library_root, "/library_root");
        check.require(self.allowed_roots.len() <= 64, "/allowed_roots", "at most 64 roots");
        for (index, root) in self.allowed_roots.iter().enumerate() {
            check.path(root, &format!("/allowed_roots/{index}"));
        }
        check.mode(self.chmod_file.as_deref(), "/chmod_file");
        check.mode(self.chmod_dir.as_deref(), "/chmod_dir");
        check.octal(self.umask.as_deref(), "/umask", 0o777);
        check.require(owner_ok(self.chown.as_deref()), "/chown", "a user name or numeric id");
        check.require(!is_root_owner(self.chown.as_deref()), "/chown", "must not be root (0)");
        check.require(owner_ok(self.chgrp.as_deref()), "/chgrp", "a group name or numeric id");
        check.require(!is_root_owner(self.chgrp.as_deref()), "/chgrp", "must not be root (0)");
        check.globs(&self.cleanup_keep, "/cleanup_keep", false);
        check.globs(&self.cleanup_drop, "/cleanup_drop", true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bits_root_owners_and_the_filesystem_root_are_refused() {
        let refused = |policy: FsPolicy| {
            policy.validate().into_iter().map(|v| (v.pointer, v.message)).collect::<Vec<_>>()
        };
        for mode in ["4755", "2755", "1777", "6644"] {
            let policy = FsPolicy {
                chmod_file: Some(mode.into()),
                chmod_dir: Some(mode.into()),
                ..FsPolicy::default()
            };
            let found = refused(policy);
            assert_eq!(found.len(), 2, "{mode}: {found:?}");
            assert!(found.iter().all(|(_, m)| m.contains("setuid")), "{found:?}");
        }
        let fine = FsPolicy {
            chmod_file: Some("0644".into()),
            chmod_dir: Some("0750".into()),
            ..FsPolicy::default()
        };
        assert!(refused(fine).is_empty());
        for owner in ["0", "00", "root"] {
            let policy = FsPolicy {
                chown: Some(owner.into()),
                chgrp: Some(owner.into()),
                ..FsPolicy::default()
            };
            let pointers: Vec<String> = refused(policy).into_iter().map(|(p, _)| p).collect();
            assert_eq!(pointers, ["/fs_policy/chown", "/fs_policy/chgrp"], "{owner}");
        }
        assert!(refused(FsPolicy { chown: Some("1000".into()), ..FsPolicy::default() }).is_empty());
        for root in ["/", "//", "/.", " / "] {
            let policy = FsPolicy {
                library_root: root.into(),
                allowed_roots: vec![root.into()],
                ..FsPolicy::default()
            };
            let pointers: Vec<String> = refused(policy).into_iter().map(|(p, _)| p).collect();
            assert_eq!(
                pointers,
                ["/fs_policy/library_root", "/fs_policy/allowed_roots/0"],
                "{root:?}"
            );
        }
    }

    #[test]
    fn every_rule_has_its_pointer() {
        let policy = FsPolicy {
            library_root: String::new(),
            allowed_roots: vec!["/ok".into(), " ".into()],
            chmod_file: Some("0999".into()),
            chmod_dir: Some("755".into()),
            umask: Some("07777".into()),
            chown: Some("bad user".into()),
            chgrp: Some("media".into()),
            cleanup_keep: vec!["a[".into()],
            cleanup_drop: vec!["@fluff".into(), "**/*.nfo".into(), String::new()],
            ..FsPolicy::default()
        };
        let pointers = policy.validate().into_iter().map(|v| v.pointer).collect::<Vec<_>>();
        assert_eq!(
            pointers,
            [
                "/fs_policy/library_root",
                "/fs_policy/allowed_roots/1",
                "/fs_policy/chmod_file",
                "/fs_policy/umask",
                "/fs_policy/chown",
                "/fs_policy/cleanup_keep/0",
                "/fs_policy/cleanup_drop/2",
            ]
        );
    }
}
