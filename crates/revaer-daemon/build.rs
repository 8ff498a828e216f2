//! Records the git revision the daemon is built from (for `/health/full`):
//! `REVAER_GIT_REVISION` from the environment when set (container builds
//! without a checkout), else `git rev-parse`. It lives in the daemon, the
//! last crate to build, so a new commit rebuilds only it.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=REVAER_GIT_REVISION");
    let revision = std::env::var("REVAER_GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    if let Some(revision) = revision {
        println!("cargo:rustc-env=REVAER_GIT_REVISION={revision}");
    }
    // The reflog of HEAD grows on every commit, checkout and reset, in
    // worktrees and with packed refs alike. (A path that does not exist
    // would rebuild every time, hence the check.)
    if let Some(log) = git(&["rev-parse", "--git-path", "logs/HEAD"])
        && std::path::Path::new(&log).exists()
    {
        println!("cargo:rerun-if-changed={log}");
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
