//! `revaerd init`: completes setup headlessly and writes the first key's
//! token to a private file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use revaer_domain::settings::{AppMode, Changeset};
use revaer_store::{ChangeContext, IssuedKey, NewApiKey, Store, StoreError};

/// How long the token `init` issues itself stays valid.
const INIT_TOKEN_TTL: Duration = Duration::from_mins(5);

/// `revaerd init`: completes setup and writes the first key's token.
pub async fn init(store: &Store, out: &Path) -> anyhow::Result<()> {
    // Nothing is touched, not even the output file, on an instance that is
    // already set up.
    let settings = store.settings().await.context("read the settings")?;
    if settings.settings.app_profile.mode == AppMode::Active {
        bail!("this instance is already set up; nothing was changed");
    }
    let part = PartFile::create(out)?;
    let token = match store.issue_setup_token(INIT_TOKEN_TTL).await {
        Ok(token) => token,
        Err(StoreError::AlreadySetUp) => {
            bail!("this instance is already set up; nothing was changed")
        }
        Err(err) => return Err(err).context("issue a setup token"),
    };
    let key = NewApiKey {
        label: "revaerd init".into(),
        rate_limit: None,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let context = ChangeContext::new("revaerd init").because("headless setup");
    let (snapshot, issued) = store
        .complete_setup(token.expose(), &Changeset::default(), &key, &context)
        .await
        .context("complete setup")?;
    // Set up already: the token must not be lost.
    if let Err(err) = part.commit(&issued) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "revaerd: could not write {}: {err}", out.display());
        let _ = writeln!(
            stderr,
            "revaerd: the first API key's token (shown once): {}",
            issued.token.expose()
        );
        bail!("setup completed, but the key file could not be written; the token is printed above");
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "revaerd: set up (settings revision {}); the first API key ({}) is in {}",
        snapshot.revision,
        issued.key.key_id,
        out.display()
    )?;
    Ok(())
}

/// The token's file while it is written: a new private file next to the
/// target, renamed into place once written, so that an existing file keeps
/// its content until then, a symlink at the target is replaced rather than
/// followed, and the mode is 0600 whatever was there. Removed when dropped
/// unwritten.
struct PartFile {
    file: std::fs::File,
    path: PathBuf,
    target: PathBuf,
}

impl PartFile {
    fn create(target: &Path) -> anyhow::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = super::files::part_path(target);
        let _ = std::fs::remove_file(&path);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("create {}", path.display()))?;
        Ok(Self { file, path, target: target.to_owned() })
    }

    fn commit(mut self, issued: &IssuedKey) -> std::io::Result<()> {
        self.file.write_all(issued.token.expose().as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.sync_all()?;
        std::fs::rename(&self.path, &self.target)?;
        // The rename is durable only once the directory is synced.
        super::files::sync_dir(super::files::parent(&self.target))
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        // After a commit the part is gone already; otherwise it goes now.
        let _ = std::fs::remove_file(&self.path);
    }
}
