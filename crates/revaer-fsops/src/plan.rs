//! The validate step: the effective policy for the torrent's category, the
//! allow-list, the deliverables and a destination that is ours.

use std::fs;
use std::path::{Component, Path, PathBuf};

use revaer_domain::settings::{Category, FsPolicy, TransferMode};

use crate::config::{FsopsConfig, JobSpec};
use crate::error::{FsopsError, Result};
use crate::fsutil::PART_PREFIX;
use crate::meta::{Item, META_FILE, Meta, Origin, Plan};
use crate::template::{TemplateValues, render};

/// Folder under the library root that holds each job's scratch space.
pub const WORK_DIR: &str = ".revaer-work";
/// Destination names tried before giving up: `X`, `X (2)` … `X (100)`.
const MAX_CANDIDATES: u32 = 100;

/// Checks a relative, `/`-separated name from a torrent or an archive.
pub fn check_rel(name: &str) -> Result<()> {
    let unsafe_name = |reason| Err(FsopsError::UnsafeName { name: name.to_owned(), reason });
    if name.is_empty() || name.len() > 4096 {
        return unsafe_name("must be 1 to 4096 bytes");
    }
    if name.starts_with('/') || Path::new(name).has_root() {
        return unsafe_name("is absolute");
    }
    if name.contains('\0') {
        return unsafe_name("contains NUL");
    }
    if name.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return unsafe_name("has an empty, . or .. component");
    }
    Ok(())
}

/// Names FsOps uses for itself get a `_` in front when a payload has them.
pub fn unreserve(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').map_or(("", rel), |(d, n)| (d, n));
    if name == META_FILE || name.starts_with(PART_PREFIX) {
        if dir.is_empty() { format!("_{name}") } else { format!("{dir}/_{name}") }
    } else {
        rel.to_owned()
    }
}

/// `path` with `..` and `.` resolved and symlinks followed as far as the
/// path exists; the rest is appended lexically.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let mut existing = path.to_owned();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut out) = fs::canonicalize(&existing) {
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            return Err(FsopsError::UnsafeName {
                name: path.display().to_string(),
                reason: "does not resolve",
            });
        };
        rest.push(name.to_owned());
        existing = parent.to_owned();
    }
}

fn inside(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| path.starts_with(root))
}

fn outside(path: PathBuf, roots: &[PathBuf]) -> FsopsError {
    let roots = roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
    FsopsError::OutsideAllowedRoots { path, roots }
}

/// The allow-listed roots, resolved (roots that do not exist are left out).
pub fn allowed_roots(config: &FsopsConfig) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if config.policy.allowed_roots.is_empty() {
        config.download_roots.iter().cloned().chain([config.library_root()]).collect()
    } else {
        config.policy.allowed_roots.iter().map(|root| config.resolve(root)).collect()
    };
    roots.iter().filter_map(|root| fs::canonicalize(root).ok()).collect()
}

fn octal(text: Option<&str>) -> Option<u32> {
    text.and_then(|text| u32::from_str_radix(text, 8).ok())
}

/// The plan and the payload's deliverables, or why the job is refused.
pub fn validate(config: &FsopsConfig, spec: &JobSpec) -> Result<(Plan, Vec<Item>)> {
    let policy = &config.policy;
    let category = spec
        .category
        .as_deref()
        .map(|name| config.categories.0.get(name).cloned().unwrap_or_default());
    let overrides = category.as_ref().map(|c| c.overrides.clone()).unwrap_or_default();
    let mode = overrides.transfer_mode.unwrap_or(policy.transfer_mode);
    let engine_move = mode == TransferMode::Move && spec.seeding;

    let library = config.library_root();
    crate::fsutil::create_dirs(&library)?;
    let roots = allowed_roots(config);
    let (source_root, rels) = payload_layout(spec, engine_move)?;
    let source_real = resolve(&source_root)?;
    if !inside(&source_real, &roots) {
        return Err(outside(source_real, &roots));
    }
    let mut items = Vec::with_capacity(rels.len());
    for rel in rels {
        items.push(payload_item(&source_root, rel, &roots)?);
    }
    let destination = pick_destination(config, spec, category.as_ref(), &roots)?;
    Ok((
        Plan {
            source_root,
            work_dir: library.join(WORK_DIR).join(spec.torrent.to_hex()),
            destination,
            mode,
            engine_move,
            extract: overrides.extract.unwrap_or(policy.extract),
            // A seeding torrent keeps the layout the engine gave it.
            flatten: overrides.flatten.unwrap_or(policy.flatten) && !engine_move,
            checksum: overrides.checksum.unwrap_or(policy.checksum),
            force_copy: config.force_copy,
            file_mode: file_mode(policy, 0o666),
            dir_mode: dir_mode(policy),
            owner: policy.chown.clone(),
            group: policy.chgrp.clone(),
            drop: overrides.cleanup_drop.unwrap_or_else(|| policy.cleanup_drop.clone()),
            keep: policy.cleanup_keep.clone(),
        },
        items,
    ))
}

/// Brings the settings that do not shape the delivery (modes, owners,
/// checksums) up to date on a resumed plan, so that fixing a setting fixes
/// a failed job. Layout (source, destination, mode, extraction, flattening,
/// cleanup rules) stays as validated.
pub fn refresh(plan: &mut Plan, config: &FsopsConfig, spec: &JobSpec) {
    let policy = &config.policy;
    let overrides = spec
        .category
        .as_deref()
        .and_then(|name| config.categories.0.get(name))
        .map(|c| c.overrides.clone())
        .unwrap_or_default();
    plan.checksum = overrides.checksum.unwrap_or(policy.checksum);
    plan.file_mode = file_mode(policy, 0o666);
    plan.dir_mode = dir_mode(policy);
    plan.owner.clone_from(&policy.chown);
    plan.group.clone_from(&policy.chgrp);
}

fn file_mode(policy: &FsPolicy, base: u32) -> Option<u32> {
    octal(policy.chmod_file.as_deref())
        .or_else(|| octal(policy.umask.as_deref()).map(|mask| base & !mask))
}

fn dir_mode(policy: &FsPolicy) -> Option<u32> {
    octal(policy.chmod_dir.as_deref())
        .or_else(|| octal(policy.umask.as_deref()).map(|mask| 0o777 & !mask))
}

/// Where the payload's relative paths start, and the paths: inside the
/// torrent's top-level folder, unless the engine moves the whole torrent.
fn payload_layout(spec: &JobSpec, engine_move: bool) -> Result<(PathBuf, Vec<String>)> {
    for file in &spec.files {
        check_rel(file)?;
    }
    if spec.files.is_empty() {
        return Err(FsopsError::SourceMissing { path: spec.save_path.join(&spec.name) });
    }
    let top = spec.files[0].split_once('/').map(|(top, _)| top.to_owned());
    let shared = top.filter(|top| {
        !engine_move && spec.files.iter().all(|f| f.split_once('/').is_some_and(|(t, _)| t == top))
    });
    Ok(match shared {
        Some(top) => {
            let rels = spec.files.iter().map(|f| f[top.len() + 1..].to_owned()).collect();
            (spec.save_path.join(top), rels)
        }
        None => (spec.save_path.clone(), spec.files.clone()),
    })
}

fn payload_item(source_root: &Path, rel: String, roots: &[PathBuf]) -> Result<Item> {
    let src = source_root.join(&rel);
    let meta =
        fs::symlink_metadata(&src).map_err(|_| FsopsError::SourceMissing { path: src.clone() })?;
    if meta.file_type().is_symlink() {
        return Err(FsopsError::UnsafeName {
            name: rel,
            reason: "is a symbolic link in the payload",
        });
    }
    let resolved = resolve(&src)?;
    if !inside(&resolved, roots) {
        return Err(outside(resolved, roots));
    }
    Ok(Item { src, rel: unreserve(&rel), size: meta.len(), origin: Origin::Payload, skip: false })
}

/// The first of `X`, `X (2)`, … that is free or already this torrent's.
fn pick_destination(
    config: &FsopsConfig,
    spec: &JobSpec,
    category: Option<&Category>,
    roots: &[PathBuf],
) -> Result<PathBuf> {
    let template = category.map_or("{name}", |c| c.library_path.as_str());
    let values = TemplateValues {
        name: &spec.name,
        category: spec.category.as_deref(),
        tags: &spec.tags,
        id: spec.torrent,
    };
    let rel = render(template, &values)?;
    check_rel(&rel)?;
    let first = config.library_root().join(&rel);
    let resolved = resolve(&first)?;
    if !inside(&resolved, roots) || !resolved.starts_with(resolve(&config.library_root())?) {
        return Err(outside(resolved, roots));
    }
    for n in 1..=MAX_CANDIDATES {
        let candidate = if n == 1 {
            first.clone()
        } else {
            let name =
                first.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            first.with_file_name(format!("{name} ({n})"))
        };
        match fs::symlink_metadata(&candidate) {
            Err(_) => return Ok(candidate),
            Ok(found) if found.is_dir() => {
                if Meta::read_from(&candidate)
                    .ok()
                    .flatten()
                    .is_some_and(|m| m.torrent == spec.torrent)
                {
                    return Ok(candidate);
                }
            }
            Ok(_) => {}
        }
    }
    Err(FsopsError::DestinationTaken { path: first, tries: MAX_CANDIDATES })
}

/// Whether `path` is lexically below `root` with no `..` (for names built
/// from archives before they exist).
pub fn stays_below(root: &Path, path: &Path) -> bool {
    path.starts_with(root)
        && path
            .strip_prefix(root)
            .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_are_checked() {
        for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "./a", "a/.", "x\0y"] {
            assert!(check_rel(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b.mkv", "..a/b..", "Season 1/e.mkv"] {
            assert!(check_rel(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn reserved_names_are_renamed() {
        assert_eq!(unreserve(".revaer.meta"), "_.revaer.meta");
        assert_eq!(unreserve("d/.revaer-part-x"), "d/_.revaer-part-x");
        assert_eq!(unreserve("d/movie.mkv"), "d/movie.mkv");
    }

    #[test]
    fn layout_strips_the_shared_top_folder() {
        let spec = |files: &[&str]| JobSpec {
            torrent: revaer_domain::InfoHash::parse("0123456789abcdef0123456789abcdef01234567")
                .expect("valid"),
            name: "Show".into(),
            save_path: PathBuf::from("/dl"),
            files: files.iter().map(|s| (*s).to_owned()).collect(),
            category: None,
            tags: vec![],
            seeding: false,
        };
        let (root, rels) =
            payload_layout(&spec(&["Show/a.mkv", "Show/s/b.mkv"]), false).expect("ok");
        assert_eq!(
            (root, rels),
            (PathBuf::from("/dl/Show"), vec!["a.mkv".into(), "s/b.mkv".into()])
        );
        let (root, rels) = payload_layout(&spec(&["movie.mkv"]), false).expect("ok");
        assert_eq!((root, rels), (PathBuf::from("/dl"), vec!["movie.mkv".to_owned()]));
        let (root, rels) = payload_layout(&spec(&["Show/a.mkv"]), true).expect("ok");
        assert_eq!((root, rels), (PathBuf::from("/dl"), vec!["Show/a.mkv".to_owned()]));
        assert!(payload_layout(&spec(&["Show/../../etc/passwd"]), false).is_err());
        assert!(payload_layout(&spec(&[]), false).is_err());
    }

    #[test]
    fn below_is_lexical_and_strict() {
        assert!(stays_below(Path::new("/w"), Path::new("/w/a/b")));
        assert!(!stays_below(Path::new("/w"), Path::new("/w/../x")));
        assert!(!stays_below(Path::new("/w"), Path::new("/x")));
    }
}
