//! Torrents: list, add, detail, remove, actions and file selection.
//!
//! Commands on a torrent note the caller's trace id on the bus before the
//! engine runs them, so that the events they cause carry it.

use revaer_api_models::torrent::FsopsStatus;
use revaer_api_models::{InvalidParam, ListQuery, TorrentAction, TorrentPage, TorrentView};
use revaer_domain::fsops::StepRecord;
use revaer_domain::{
    CompiledSelection, FileEntry, InfoHash, PeerEntry, PieceMap, RateLimit, SelectionRules,
    TrackerEdit,
};
use revaer_engine::metainfo::Metainfo;
use revaer_engine::{AddOutcome, AddTorrentOptions, EngineError, Facets, TorrentSource};
use revaer_store::FsJob;

use crate::{Caller, Result, Service, ServiceError};

impl Service {
    /// A page of torrents: the engine's list, filtered, sorted and paged
    /// as `query` says (trackers and file extensions from the engine's
    /// per-torrent facets: no round trip to its worker).
    pub fn list_torrents(&self, query: &ListQuery) -> TorrentPage {
        let all = self.engine().list();
        let needs_facets = query.tracker.is_some() || query.extension.is_some();
        let candidates = all.iter().filter(|t| query.matches(t)).filter(|t| {
            !needs_facets
                || self.engine().facets(t.id).is_some_and(|facets| passes_facets(query, &facets))
        });
        let (items, next_cursor) = query.page(candidates);
        let items = items.into_iter().map(|t| (**t).clone()).collect();
        TorrentPage { items, next_cursor }
    }

    /// Adds a torrent (or finds it already there). A `.torrent` over the
    /// configured size is refused before anything else.
    pub async fn add_torrent(
        &self,
        caller: &Caller,
        source: TorrentSource,
        mut options: AddTorrentOptions,
    ) -> Result<AddOutcome> {
        if let Some(path) = &options.save_path {
            options.save_path = Some(self.confine(path, "/save_path")?);
        }
        let limit = self.config().max_metainfo_bytes;
        if matches!(&source, TorrentSource::Metainfo(bytes) if bytes.len() > limit) {
            return Err(ServiceError::TooLarge { limit });
        }
        // Noted before the engine sees it, so that `torrent_added` carries it.
        let noted = match (source_id(&source).await, &caller.trace_id) {
            (Some(id), Some(trace)) => {
                self.bus().note_trace(id, trace.clone());
                Some(id)
            }
            _ => None,
        };
        match self.engine().add(source, options).await {
            Ok(outcome) => Ok(outcome),
            Err(err) => {
                if let Some(id) = noted {
                    self.bus().forget_trace(id);
                }
                Err(err.into())
            }
        }
    }

    /// Everything about one torrent, with its latest FsOps job.
    pub async fn torrent(&self, id: InfoHash) -> Result<TorrentView> {
        let detail = self.engine().detail(id).await?;
        let jobs = self.store().fs_jobs_for(id).await?;
        Ok(TorrentView { detail, fsops: jobs.last().map(fsops_view) })
    }

    /// Removes a torrent (and its files with `delete_data`). Its catalogue
    /// row and FsOps jobs go when the engine reports the removal.
    pub async fn remove_torrent(
        &self,
        caller: &Caller,
        id: InfoHash,
        delete_data: bool,
    ) -> Result<()> {
        self.traced(caller, id)?;
        Ok(self.engine().remove(id, delete_data).await?)
    }

    /// Runs an action on a torrent.
    pub async fn act(&self, caller: &Caller, id: InfoHash, action: TorrentAction) -> Result<()> {
        action.validate().map_err(ServiceError::Invalid)?;
        // A move's target, confined (and resolved) before anything runs.
        let action = match action {
            TorrentAction::Move { save_path } => {
                let target = self.confine(std::path::Path::new(&save_path), "/save_path")?;
                TorrentAction::Move { save_path: target.to_string_lossy().into_owned() }
            }
            other => other,
        };
        self.traced(caller, id)?;
        let engine = self.engine();
        match action {
            TorrentAction::Pause {} => engine.pause(id).await?,
            TorrentAction::Resume {} => engine.resume(id).await?,
            TorrentAction::Remove { delete_data } => engine.remove(id, delete_data).await?,
            TorrentAction::Reannounce {} => engine.reannounce(id).await?,
            TorrentAction::Recheck {} => engine.recheck(id).await?,
            TorrentAction::Sequential { enable } => engine.set_sequential(id, enable).await?,
            TorrentAction::Rate { download_bps, upload_bps } => {
                let current = engine.summary(id).ok_or(EngineError::NotFound { id })?;
                let cap = |value: Option<Option<u64>>, current: RateLimit| {
                    value.map_or(current, |bps| RateLimit::bytes_per_second(bps.unwrap_or(0)))
                };
                let download = cap(download_bps, current.download_limit);
                let upload = cap(upload_bps, current.upload_limit);
                engine.set_limits(id, download, upload).await?;
            }
            TorrentAction::Move { save_path } => engine.move_storage(id, save_path.into()).await?,
            TorrentAction::ShareLimits { limits } => engine.set_share_limits(id, limits).await?,
            TorrentAction::Queue { to } => engine.queue(id, queue_move(to)).await?,
            TorrentAction::AddPeers { peers } => {
                // Checked by `validate` above.
                for peer in peers.iter().filter_map(|peer| peer.parse().ok()) {
                    engine.connect_peer(id, peer).await?;
                }
            }
            TorrentAction::ForceStart { enable } => engine.set_force_start(id, enable).await?,
            TorrentAction::Trackers { add, remove, replace } => {
                engine.edit_trackers(id, TrackerEdit { add, remove, replace }).await?;
            }
            TorrentAction::FirstLastPiece { enable } => {
                engine.set_first_last_piece(id, enable).await?;
            }
        }
        Ok(())
    }

    /// The torrent's connected peers.
    pub async fn peers(&self, id: InfoHash) -> Result<Vec<PeerEntry>> {
        Ok(self.engine().peers(id).await?)
    }

    /// The torrent's pieces: which are had, which downloading.
    pub async fn pieces(&self, id: InfoHash) -> Result<PieceMap> {
        Ok(self.engine().pieces(id).await?)
    }

    /// Applies file selection rules; answers the files with their new
    /// priorities. Rules that do not compile are refused with the pointer
    /// of the bad one.
    pub async fn select_files(
        &self,
        caller: &Caller,
        id: InfoHash,
        rules: SelectionRules,
    ) -> Result<Vec<FileEntry>> {
        let selection = compile_selection(rules, "").await?;
        self.traced(caller, id)?;
        Ok(self.engine().select(id, selection).await?)
    }

    /// Sets a torrent's category and tags.
    pub async fn set_labels(
        &self,
        caller: &Caller,
        id: InfoHash,
        labels: revaer_domain::TorrentLabels,
    ) -> Result<()> {
        self.traced(caller, id)?;
        Ok(self.engine().set_labels(id, labels).await?)
    }

    /// Notes the caller's trace as the last command on `id` (so that the
    /// events the command causes carry it); an unknown torrent is refused
    /// and leaves no note behind.
    fn traced(&self, caller: &Caller, id: InfoHash) -> Result<()> {
        if self.engine().summary(id).is_none() {
            return Err(EngineError::NotFound { id }.into());
        }
        if let Some(trace) = &caller.trace_id {
            self.bus().note_trace(id, trace.clone());
        }
        Ok(())
    }
}

fn queue_move(to: revaer_api_models::torrent::QueueTo) -> revaer_engine::QueueMove {
    use revaer_api_models::torrent::QueueTo;
    match to {
        QueueTo::Top => revaer_engine::QueueMove::Top,
        QueueTo::Bottom => revaer_engine::QueueMove::Bottom,
        QueueTo::Up => revaer_engine::QueueMove::Up,
        QueueTo::Down => revaer_engine::QueueMove::Down,
    }
}

fn passes_facets(query: &ListQuery, facets: &Facets) -> bool {
    let tracker_ok = query
        .tracker
        .as_ref()
        .is_none_or(|wanted| facets.tracker_hosts.iter().any(|h| h.contains(wanted.as_str())));
    let extension_ok = query
        .extension
        .as_ref()
        .is_none_or(|wanted| facets.extensions.iter().any(|e| e.eq_ignore_ascii_case(wanted)));
    tracker_ok && extension_ok
}

/// The id a source will have (`None` for a `.torrent` that does not
/// parse: the engine reports that).
async fn source_id(source: &TorrentSource) -> Option<InfoHash> {
    match source {
        TorrentSource::Magnet(uri) => Some(uri.info_hash()),
        TorrentSource::Metainfo(bytes) => {
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || Metainfo::parse(&bytes).ok().map(|m| m.id))
                .await
                .ok()
                .flatten()
        }
    }
}

/// The latest FsOps job of a torrent, as the detail view shows it: the
/// journal's steps read as typed records (a journal that does not read is
/// shown without steps, and logged).
fn fsops_view(job: &FsJob) -> FsopsStatus {
    let steps = match job.journal.get("steps") {
        Some(steps) => {
            serde_json::from_value::<Vec<StepRecord>>(steps.clone()).unwrap_or_else(|err| {
                tracing::warn!(job = job.id, error = %err, "an FsOps journal's steps do not read");
                Vec::new()
            })
        }
        None => Vec::new(),
    };
    FsopsStatus {
        job: job.id,
        status: job.status.as_str().to_owned(),
        attempts: job.attempts,
        destination: job.destination.clone(),
        last_error: job.last_error.clone(),
        next_attempt_at: job.next_attempt_at,
        steps,
        updated_at: job.updated_at,
    }
}

/// Compiles selection rules once, on a blocking thread, so that neither
/// the async runtime nor the engine's thread spends time on globs. A rule
/// that does not compile is refused with its pointer, under `prefix` (the
/// rules' own place in the request, `""` when they are the whole body).
pub async fn compile_selection(rules: SelectionRules, prefix: &str) -> Result<CompiledSelection> {
    let compiled = tokio::task::spawn_blocking(move || rules.compile())
        .await
        .map_err(|err| ServiceError::Internal(format!("selection compile task: {err}")))?;
    compiled.map_err(|err| {
        ServiceError::Invalid(vec![InvalidParam::new(
            format!("{prefix}{}", err.pointer()),
            err.to_string(),
        )])
    })
}
