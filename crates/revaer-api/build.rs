//! Records the git revision the crate is built from (for `/health/full`):
//! `REVAER_GIT_REVISION` from the environment when set (container builds
//! without a checkout), else `git rev-parse`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REVAER_GIT_REVISION");
    let revision =
        std::env::var("REVAER_GIT_REVISION").ok().filter(|r| !r.is_empty()).or_else(|| {
            let output =
                Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        });
    if let Some(revision) = revision {
        println!("cargo:rustc-env=REVAER_GIT_REVISION={revision}");
    }
    // A new commit moves HEAD or the branch it points to.
    if let Ok(output) = Command::new("git").args(["rev-parse", "--git-dir"]).output() {
        let git_dir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if output.status.success() && !git_dir.is_empty() {
            println!("cargo:rerun-if-changed={git_dir}/HEAD");
            if let Ok(head) = std::fs::read_to_string(format!("{git_dir}/HEAD"))
                && let Some(reference) = head.trim().strip_prefix("ref: ")
            {
                // A path that does not exist would rebuild every time.
                let loose = format!("{git_dir}/{reference}");
                let packed = format!("{git_dir}/packed-refs");
                for path in [loose, packed] {
                    if std::path::Path::new(&path).exists() {
                        println!("cargo:rerun-if-changed={path}");
                    }
                }
            }
        }
    }
}
