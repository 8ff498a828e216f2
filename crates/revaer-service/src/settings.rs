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

/// Whether a category is created or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryChange {
    /// Create it; it must not exist.
    Create,
    /// Change it; it must exist.
    Edit,
}

impl Service {
    /// Creates or edits the category `name` with `save_path` (`None`: the
    /// download folder), as one recorded revision. Creating one that
    /// exists, or editing one that does not, is [`ServiceError::Conflict`].
    pub async fn put_category(
        &self,
        caller: &Caller,
        name: &str,
        save_path: Option<&str>,
        change: CategoryChange,
    ) -> Result<SettingsSnapshot> {
        let current = self.settings().await?;
        let exists = current.settings.categories.0.contains_key(name);
        match (change, exists) {
            (CategoryChange::Create, true) => {
                return Err(ServiceError::Conflict(format!("category {name:?} exists")));
            }
            (CategoryChange::Edit, false) => {
                return Err(ServiceError::Conflict(format!("no category {name:?}")));
            }
            _ => {}
        }
        let patch = serde_json::json!({"categories": {name: {"save_path": save_path}}});
        let changeset = Changeset::parse(&patch.to_string()).map_err(invalid)?;
        self.change_settings(caller, &changeset, "category", Some(current.revision)).await
    }

    /// Removes the categories `names` (those that do not exist are
    /// skipped), as one recorded revision.
    pub async fn remove_categories(&self, caller: &Caller, names: &[String]) -> Result<()> {
        let current = self.settings().await?;
        let gone: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .filter(|name| current.settings.categories.0.contains_key(name.as_str()))
            .map(|name| (name.clone(), serde_json::Value::Null))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        let patch = serde_json::json!({"categories": gone});
        let changeset = Changeset::parse(&patch.to_string()).map_err(invalid)?;
        self.change_settings(caller, &changeset, "remove categories", Some(current.revision))
            .await?;
        Ok(())
    }
}

fn invalid(err: revaer_domain::settings::ChangesetError) -> ServiceError {
    let revaer_domain::settings::ChangesetError::Invalid { violations } = err else {
        return ServiceError::Invalid(vec![revaer_api_models::InvalidParam::new(
            "",
            err.to_string(),
        )]);
    };
    ServiceError::Invalid(
        violations
            .into_iter()
            .map(|v| revaer_api_models::InvalidParam::new(v.pointer, v.message))
            .collect(),
    )
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
