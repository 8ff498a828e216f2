//! First-run setup: the setup token, an optional first settings changeset
//! and the first API key, in one transaction; then the service opens.

use revaer_api_models::InvalidParam;
use revaer_domain::settings::{Changeset, SettingsSnapshot};
use revaer_store::{ChangeContext, IssuedKey, NewApiKey, StoreError};

use crate::{Result, Service, ServiceError};

/// The first key's label when none is given.
const FIRST_KEY_LABEL: &str = "first key";

impl Service {
    /// Completes setup with `token`: applies `changeset`, issues the first
    /// key (labelled `label`, or "first key") and leaves setup mode.
    /// Answers the settings and the key, whose token is shown this once.
    pub async fn complete_setup(
        &self,
        token: &str,
        changeset: &Changeset,
        label: Option<String>,
    ) -> Result<(SettingsSnapshot, IssuedKey)> {
        if self.is_active() {
            return Err(ServiceError::AlreadySetUp);
        }
        let key = NewApiKey {
            label: label.unwrap_or_else(|| FIRST_KEY_LABEL.to_owned()),
            rate_limit: None,
            expires_at: None,
            scopes: revaer_domain::Scopes::ADMIN,
            issued_by: None,
        };
        let context = ChangeContext::new("setup").because("setup completed");
        self.check_setting_paths(changeset).await?;
        let done = match self.store().complete_setup(token, changeset, &key, &context).await {
            Ok(done) => done,
            Err(StoreError::Invalid { field: "label", reason }) => {
                return Err(ServiceError::Invalid(vec![InvalidParam::new(
                    "/api_key_label",
                    reason,
                )]));
            }
            Err(err) => return Err(err.into()),
        };
        // Committed: open, whatever else happens (the key refresh loop
        // loads the key if this refresh fails).
        self.activate();
        if let Err(err) = self.keys().refresh(self.store()).await {
            tracing::warn!(error = %err, "could not load the first API key yet");
        }
        Ok(done)
    }
}
