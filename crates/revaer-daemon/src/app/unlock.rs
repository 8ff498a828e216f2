//! `revaerd unlock-settings`: the operator's way back from immutable keys,
//! run on the host while the daemon is stopped.

use std::io::Write as _;

use anyhow::Context as _;
use revaer_store::{ChangeContext, Store};

/// Clears `app_profile.immutable_keys` and says what was lifted.
pub async fn unlock(store: &Store) -> anyhow::Result<()> {
    let context = ChangeContext::new("revaerd unlock-settings").because("lifted on the host");
    let lifted = store.lift_immutable_keys(&context).await.context("lift the immutable keys")?;
    let mut stdout = std::io::stdout().lock();
    if lifted.is_empty() {
        writeln!(stdout, "revaerd: no setting was immutable; nothing was changed")?;
    } else {
        writeln!(
            stdout,
            "revaerd: lifted {} immutable key(s): {}",
            lifted.len(),
            lifted.join(", ")
        )?;
    }
    Ok(())
}
