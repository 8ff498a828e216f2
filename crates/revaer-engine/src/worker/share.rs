//! Share limits: a seeding torrent that reached one gets its action.
//!
//! Checked every [`SHARE_EVERY`] on the worker's tick, for seeding torrents
//! only. Seeding time runs on from the last status (libtorrent reports an
//! idle seeder rarely); inactivity counts from the last payload moved, or
//! from completion when nothing moved since. A stopped torrent stays
//! stopped: resumed by hand with its limit still reached, it stops again,
//! as qBittorrent's do.

use std::time::{Duration, Instant};

use chrono::Utc;
use revaer_domain::share::{Seeding, ShareAction, ShareLimits};
use revaer_domain::{EngineEvent, TorrentState, event};
use tokio::sync::oneshot;

use super::Worker;
use crate::command::TorrentOp;
use crate::torrents::TorrentRecord;

/// How often seeding torrents are checked against their limits.
pub(super) const SHARE_EVERY: Duration = Duration::from_secs(1);

impl Worker<'_> {
    /// Runs the action of every seeding torrent that reached a limit.
    pub(super) fn enforce_share_limits(&mut self, now: Instant) {
        let policy = &self.session_config.share;
        let no_policy = policy.is_empty();
        let unix_now = Utc::now().timestamp();
        let mut due = Vec::new();
        for record in self.torrents.values() {
            if record.state != TorrentState::Seeding
                || record.meta.paused
                || (no_policy && record.meta.share_limits == ShareLimits::default())
            {
                continue;
            }
            let category =
                record.meta.labels.category.as_ref().and_then(|name| policy.categories.get(name));
            let limits = record.meta.share_limits.resolve(category, &policy.global);
            if let Some(seeding) = seeding(record, now, unix_now)
                && let Some(limit) = limits.reached(&seeding)
            {
                due.push(event::ShareLimitReached {
                    torrent: record.id(),
                    limit,
                    action: limits.action,
                });
            }
        }
        for reached in due {
            self.share_action(reached);
        }
    }

    fn share_action(&mut self, reached: event::ShareLimitReached) {
        let (id, action) = (reached.torrent, reached.action);
        tracing::info!(torrent = %id, limit = ?reached.limit, %action, "share limit reached");
        self.emit(EngineEvent::ShareLimitReached(reached));
        let result = match action {
            ShareAction::Stop => self.op(id, TorrentOp::Pause),
            ShareAction::Remove | ShareAction::RemoveWithData => {
                // The removal reports itself (a `removed` event); nobody
                // waits for this reply.
                let (reply, _) = oneshot::channel();
                self.remove(id, action == ShareAction::RemoveWithData, reply);
                Ok(())
            }
        };
        if let Err(err) = result {
            tracing::warn!(torrent = %id, error = %err, "share limit action failed");
        }
    }
}

/// Where a seeding torrent stands now.
fn seeding(record: &TorrentRecord, now: Instant, unix_now: i64) -> Option<Seeding> {
    let status = record.status.as_ref()?;
    let since_status = record.status_at.map_or(0, |at| now.saturating_duration_since(at).as_secs());
    let completed = record.meta.completed_at.map_or(0, |at| at.timestamp());
    let last = status.last_activity.max(completed);
    Some(Seeding {
        ratio: record.ratio(),
        seeding_secs: u64::try_from(status.seeding_secs).unwrap_or(0).saturating_add(since_status),
        inactive_secs: if last > 0 { u64::try_from(unix_now - last).unwrap_or(0) } else { 0 },
    })
}
