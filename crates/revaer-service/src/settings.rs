//! Settings: read them with their revision, change them with a changeset
//! (checked against the revision when the caller names one).

use revaer_domain::settings::{Changeset, SettingsSnapshot};
use revaer_store::ChangeContext;

use crate::{Caller, Result, Service, ServiceError};

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
        self.check_setting_paths(changeset).await?;
        let mut context = ChangeContext::new(caller.actor.clone()).because(reason);
        if let Some(revision) = if_revision {
            context = context.if_revision(revision);
        }
        Ok(self.store().apply_changeset(changeset, &context).await?)
    }
}

impl Service {
    /// Refuses a changeset whose result would name a path outside the
    /// storage roots. (A changeset that does not apply is left for the
    /// store to refuse with its own pointers.)
    pub(crate) async fn check_setting_paths(&self, changeset: &Changeset) -> Result<()> {
        let Some(storage) = &self.config().storage else { return Ok(()) };
        let current = self.store().settings().await?;
        let Ok(next) = current.settings.apply(changeset) else { return Ok(()) };
        let refused = storage.violations(&next.settings);
        if refused.is_empty() { Ok(()) } else { Err(ServiceError::PathRefused(refused)) }
    }

    /// The path a client named, resolved inside the storage roots.
    pub(crate) fn confine(
        &self,
        path: &std::path::Path,
        pointer: &str,
    ) -> Result<std::path::PathBuf> {
        let Some(storage) = &self.config().storage else { return Ok(path.to_path_buf()) };
        storage.confine(path).map_err(|why| {
            ServiceError::PathRefused(vec![revaer_api_models::InvalidParam::new(
                pointer,
                why.to_string(),
            )])
        })
    }
}
