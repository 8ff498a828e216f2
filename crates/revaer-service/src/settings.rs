//! Settings: read them with their revision, change them with a changeset
//! (checked against the revision when the caller names one).

use revaer_domain::settings::{Changeset, SettingsSnapshot};
use revaer_store::ChangeContext;

use crate::{Caller, Result, Service};

impl Service {
    /// The settings and their revision.
    pub async fn settings(&self) -> Result<SettingsSnapshot> {
        Ok(self.store().settings().await?)
    }

    /// Applies a changeset, recorded in the history under the caller and
    /// `reason`; with `if_revision`, only if the settings are still at it.
    pub async fn change_settings(
        &self,
        caller: &Caller,
        changeset: &Changeset,
        reason: &str,
        if_revision: Option<i64>,
    ) -> Result<SettingsSnapshot> {
        let mut context = ChangeContext::new(caller.actor.clone()).because(reason);
        if let Some(revision) = if_revision {
            context = context.if_revision(revision);
        }
        Ok(self.store().apply_changeset(changeset, &context).await?)
    }
}
