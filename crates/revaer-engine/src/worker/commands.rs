//! The worker's command handlers.

use std::net::SocketAddr;
use std::path::Path;

use revaer_domain::event;
use revaer_domain::{
    CompiledSelection, EngineEvent, FileEntry, FilePriority, InfoHash, RateLimit, ShareLimits,
    TorrentDetail, TorrentLabels, TrackerEntry, TrackerStatus,
};

use super::Worker;
use crate::command::{AddOutcome, AddTorrentOptions, ParsedSource, QueueMove, Reply, TorrentOp};
use crate::config::SessionConfig;
use crate::error::{EngineError, Result};
use crate::ffi;
use crate::ffi::torrent::{AddParams, FileRename, TorrentFlag, TrackerRecord};
use crate::metainfo::{FileSlot, arrange_known, priorities_with, visible_files};
use crate::owned::OwnDelete;
use crate::resume::TorrentMeta;
use crate::torrents::{TorrentRecord, check_target};

/// What an add's source gives: the id, a name, the file slots and the
/// metainfo (a `.torrent`) or the magnet.
struct SourceParts {
    id: InfoHash,
    name: String,
    layout: Option<Vec<FileSlot>>,
    metainfo: Option<Vec<u8>>,
    magnet: Option<String>,
}

impl SourceParts {
    fn of(source: ParsedSource) -> Self {
        match source {
            ParsedSource::Magnet(magnet) => {
                let id = magnet.info_hash();
                let name = magnet.display_name().map_or_else(|| id.to_hex(), str::to_owned);
                let magnet = Some(magnet.as_str().to_owned());
                Self { id, name, layout: None, metainfo: None, magnet }
            }
            ParsedSource::Metainfo { bytes, info } => Self {
                id: info.id,
                name: info.name.clone(),
                layout: Some(info.layout().to_vec()),
                metainfo: Some(bytes),
                magnet: None,
            },
        }
    }
}

/// libtorrent add parameters for a torrent's record.
pub(super) fn add_params(
    meta: &TorrentMeta,
    metainfo: Option<&[u8]>,
    resume: Option<&[u8]>,
    upload_mode: bool,
    pex: bool,
    renamed_files: Vec<FileRename>,
) -> AddParams {
    AddParams {
        id: *meta.id.as_bytes(),
        magnet: meta.magnet.clone().unwrap_or_default(),
        metainfo: metainfo.map(<[u8]>::to_vec).unwrap_or_default(),
        resume: resume.map(<[u8]>::to_vec).unwrap_or_default(),
        save_path: meta.save_path.to_str().unwrap_or_default().to_owned(),
        paused: meta.paused,
        forced: meta.force_start,
        sequential: meta.sequential,
        upload_mode,
        disable_pex: !pex,
        file_priorities: meta.file_priorities.clone(),
        download_limit: meta.download_limit.to_libtorrent(),
        upload_limit: meta.upload_limit.to_libtorrent(),
        trackers: match &meta.tracker_list {
            Some(list) => list.iter().map(|t| t.url.clone()).collect(),
            None => meta.trackers.clone(),
        },
        tracker_tiers: meta.tracker_list.iter().flatten().map(|t| t.tier).collect(),
        exact_trackers: meta.tracker_list.is_some(),
        renamed_files,
        seed_mode: false,
    }
}

impl Worker<'_> {
    fn record(&self, id: InfoHash) -> Result<&TorrentRecord> {
        self.torrents.get(&id).ok_or(EngineError::NotFound { id })
    }

    /// Changes a torrent's record: the new record is written first, then
    /// `apply` runs; the in-memory record changes only if both succeed.
    pub(super) fn update_meta(
        &mut self,
        id: InfoHash,
        change: impl FnOnce(&mut TorrentMeta),
        apply: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let old = self.record(id)?.meta.clone();
        let mut meta = old.clone();
        change(&mut meta);
        self.store.write_meta(&meta)?;
        if let Err(err) = apply(self) {
            // Put the record back as it was, so a restart does not apply
            // what libtorrent refused.
            if let Err(undo) = self.store.write_meta(&old) {
                tracing::error!(torrent = %id, error = %undo, "restoring the torrent record failed");
            }
            return Err(err);
        }
        if let Some(record) = self.torrents.get_mut(&id) {
            record.meta = meta;
            let summary = record.shared_summary();
            self.context.shared.publish(summary);
        }
        self.refresh_soon();
        Ok(())
    }

    pub(super) fn add(
        &mut self,
        source: ParsedSource,
        options: AddTorrentOptions,
    ) -> Result<AddOutcome> {
        options.labels.validate()?;
        check_trackers(&options.trackers)?;
        let SourceParts { id, name, layout, metainfo, magnet } = SourceParts::of(source);
        let (layout, renames) = arrange_known(layout, options.content_layout);
        let seed_mode = options.skip_checking && layout.is_some();
        if let Some(existing) = self.torrents.get(&id) {
            return Ok(AddOutcome::Duplicate(existing.summary()));
        }
        let save_path =
            options.save_path.clone().unwrap_or_else(|| self.session_config.download_dir.clone());
        check_target(&save_path)
            .map_err(|reason| EngineError::InvalidPath { path: save_path.clone(), reason })?;
        let (meta, pending_selection) =
            new_meta(TorrentMeta::new(id, name, save_path), magnet, layout.as_deref(), options)?;
        // Both files go to disk before libtorrent knows the torrent, the
        // metainfo first, so a crash from here on cannot lose it and every
        // record on disk can be restored.
        if let Some(bytes) = &metainfo {
            self.store.write_metainfo(id, bytes)?;
        }
        if let Err(err) = self.store.write_meta(&meta) {
            let _ = self.store.remove(id);
            return Err(err);
        }
        let mut params = add_params(
            &meta,
            metainfo.as_deref(),
            None,
            pending_selection.is_some(),
            self.session_config.pex,
            renames,
        );
        params.seed_mode = seed_mode;
        let added = match ffi::torrent::ffi::add_torrent(self.session.pin_mut(), &params) {
            Ok(added) => added,
            Err(err) => {
                let _ = self.store.remove(id);
                return Err(EngineError::Native {
                    op: "add the torrent",
                    message: err.what().to_owned(),
                });
            }
        };
        if added.duplicate {
            // Present under another of its hashes (v1 and v2 of a hybrid).
            let _ = self.store.remove(id);
            let existing = InfoHash::from_bytes(added.info_hash);
            return match self.torrents.get(&existing) {
                Some(record) => Ok(AddOutcome::Duplicate(record.summary())),
                None => Err(EngineError::Native {
                    op: "add the torrent",
                    message: format!(
                        "libtorrent holds it as {existing}, which Revaer does not know"
                    ),
                }),
            };
        }
        let mut record = TorrentRecord::new(meta, layout);
        record.pending_selection = pending_selection;
        let summary = record.summary();
        let event = EngineEvent::TorrentAdded(event::TorrentAdded {
            torrent: id,
            name: summary.name.clone(),
            labels: summary.labels.clone(),
            save_path: summary.save_path.clone(),
            added_at: summary.added_at,
            restored: false,
        });
        self.context.shared.publish(record.shared_summary());
        self.torrents.insert(id, record);
        self.refresh_facets(id);
        self.apply_edges(id);
        self.request_save(id);
        self.refresh_soon();
        self.emit(event);
        tracing::info!(torrent = %id, name = %summary.name, "torrent added");
        Ok(AddOutcome::Added(summary))
    }

    pub(super) fn remove(&mut self, id: InfoHash, delete_data: bool, reply: Reply<()>) {
        if !self.torrents.contains_key(&id) {
            let _ = reply.send(Err(EngineError::NotFound { id }));
            return;
        }
        // Forget the record first: if that fails the torrent stays, whole.
        if let Err(err) = self.store.remove(id) {
            let _ = reply.send(Err(err));
            return;
        }
        // libtorrent deletes only its part file (after every write it had
        // queued for the torrent); the engine deletes the torrent's own
        // files itself once that is reported, keeping what it must.
        let deletion = if delete_data {
            ffi::torrent::ffi::Deletion::PartFile
        } else {
            ffi::torrent::ffi::Deletion::Nothing
        };
        let own = delete_data.then(|| self.torrents.get(&id)).flatten().and_then(|record| {
            Some(OwnDelete {
                save_path: record.meta.save_path.clone(),
                layout: record.layout.clone()?,
                kept: record.meta.adopted.clone(),
            })
        });
        if let Err(err) =
            ffi::torrent::ffi::remove_torrent(self.session.pin_mut(), id.as_bytes(), deletion)
        {
            let _ = reply.send(Err(EngineError::Native {
                op: "remove the torrent",
                message: err.what().to_owned(),
            }));
            return;
        }
        self.torrents.remove(&id);
        for waiting in self.moves.remove(&id).unwrap_or_default() {
            let _ = waiting.send(Err(EngineError::NotFound { id }));
        }
        self.dirty.remove(&id);
        self.saving.remove(&id);
        self.context.shared.forget(id);
        self.recompute_torrent_faults();
        tracing::info!(torrent = %id, delete_data, "torrent removed");
        if let Some(own) = own {
            self.own_deletes.insert(id, own);
        }
        if delete_data {
            self.deletes.entry(id).or_default().push(reply);
        } else {
            self.emit(EngineEvent::Removed(event::Removed { torrent: id, data_deleted: false }));
            let _ = reply.send(Ok(()));
        }
    }

    pub(super) fn op(&mut self, id: InfoHash, op: TorrentOp) -> Result<()> {
        self.record(id)?;
        let call = |result: std::result::Result<(), cxx::Exception>, what| {
            result.map_err(EngineError::native(what))
        };
        match op {
            TorrentOp::Pause => self.update_meta(
                id,
                |meta| (meta.paused, meta.force_start) = (true, false),
                |worker| {
                    call(
                        ffi::torrent::ffi::pause_torrent(worker.session.pin_mut(), id.as_bytes()),
                        "pause",
                    )?;
                    worker.request_save(id);
                    Ok(())
                },
            ),
            TorrentOp::Resume => self.update_meta(
                id,
                |meta| (meta.paused, meta.force_start) = (false, false),
                |worker| {
                    call(
                        ffi::torrent::ffi::resume_torrent(worker.session.pin_mut(), id.as_bytes()),
                        "resume",
                    )
                },
            ),
            TorrentOp::Reannounce => call(
                ffi::torrent::ffi::reannounce_torrent(self.session.pin_mut(), id.as_bytes()),
                "reannounce",
            ),
            TorrentOp::Recheck => {
                call(
                    ffi::torrent::ffi::recheck_torrent(self.session.pin_mut(), id.as_bytes()),
                    "recheck",
                )?;
                self.refresh_soon();
                Ok(())
            }
        }
    }

    pub(super) fn set_sequential(&mut self, id: InfoHash, enabled: bool) -> Result<()> {
        self.update_meta(
            id,
            |meta| meta.sequential = enabled,
            |worker| {
                ffi::torrent::ffi::set_torrent_flag(
                    worker.session.pin_mut(),
                    id.as_bytes(),
                    TorrentFlag::Sequential,
                    enabled,
                )
                .map_err(EngineError::native("set sequential download"))
            },
        )
    }

    pub(super) fn set_limits(
        &mut self,
        id: InfoHash,
        download: RateLimit,
        upload: RateLimit,
    ) -> Result<()> {
        self.update_meta(
            id,
            |meta| {
                meta.download_limit = download;
                meta.upload_limit = upload;
            },
            |worker| {
                ffi::torrent::ffi::set_torrent_limits(
                    worker.session.pin_mut(),
                    id.as_bytes(),
                    download.to_libtorrent(),
                    upload.to_libtorrent(),
                )
                .map_err(EngineError::native("set rate limits"))
            },
        )
    }

    pub(super) fn set_labels(&mut self, id: InfoHash, labels: TorrentLabels) -> Result<()> {
        labels.validate()?;
        self.update_meta(id, |meta| meta.labels = labels, |_| Ok(()))
    }

    pub(super) fn queue(&mut self, id: InfoHash, to: QueueMove) -> Result<()> {
        self.record(id)?;
        let to = match to {
            QueueMove::Top => ffi::torrent::QueueMove::Top,
            QueueMove::Bottom => ffi::torrent::QueueMove::Bottom,
            QueueMove::Up => ffi::torrent::QueueMove::Up,
            QueueMove::Down => ffi::torrent::QueueMove::Down,
        };
        ffi::torrent::ffi::queue_torrent(self.session.pin_mut(), id.as_bytes(), to)
            .map_err(EngineError::native("move in the queue"))?;
        self.refresh_soon();
        Ok(())
    }

    /// Force-starts a torrent (resumed, outside the queue), or hands it
    /// back to the queue.
    pub(super) fn force_start(&mut self, id: InfoHash, enabled: bool) -> Result<()> {
        let change = |meta: &mut TorrentMeta| {
            meta.force_start = enabled;
            if enabled {
                meta.paused = false;
            }
        };
        // A paused torrent stays paused: the queue would start it.
        let paused = self.record(id)?.meta.paused;
        self.update_meta(id, change, |worker| {
            let hash = id.as_bytes();
            if !enabled && paused {
                return Ok(());
            }
            if enabled {
                ffi::torrent::ffi::resume_torrent(worker.session.pin_mut(), hash)
                    .map_err(EngineError::native("resume"))?;
            }
            let flag = TorrentFlag::AutoManaged;
            ffi::torrent::ffi::set_torrent_flag(worker.session.pin_mut(), hash, flag, !enabled)
                .map_err(EngineError::native("force-start"))
        })
    }

    pub(super) fn set_share_limits(&mut self, id: InfoHash, limits: ShareLimits) -> Result<()> {
        self.update_meta(id, |meta| meta.share_limits = limits, |_| Ok(()))
    }

    pub(super) fn select(
        &mut self,
        id: InfoHash,
        selection: CompiledSelection,
    ) -> Result<Vec<FileEntry>> {
        let record = self.record(id)?;
        let Some(layout) = record.layout.clone() else {
            if !selection.rules().priorities.is_empty() {
                return Err(EngineError::MetadataPending { id });
            }
            let pending = !selection.rules().is_default();
            let was_pending = record.pending_selection.is_some();
            let rules = selection.rules().clone();
            self.update_meta(
                id,
                |meta| meta.selection = rules,
                |worker| {
                    if pending != was_pending {
                        worker.set_upload_mode(id, pending)?;
                    }
                    Ok(())
                },
            )?;
            if let Some(record) = self.torrents.get_mut(&id) {
                record.pending_selection = pending.then_some(selection);
            }
            return Ok(Vec::new());
        };
        let priorities = priorities_with(&layout, &selection)?;
        let levels = priorities.clone();
        self.update_meta(
            id,
            |meta| {
                meta.selection = selection.into_rules();
                meta.file_priorities = levels;
            },
            |worker| {
                ffi::torrent::ffi::set_file_priorities(
                    worker.session.pin_mut(),
                    id.as_bytes(),
                    &priorities,
                )
                .map_err(EngineError::native("set file priorities"))
            },
        )?;
        self.apply_edges(id);
        let done = self.file_progress(id, &layout)?;
        Ok(visible_files(&layout, |index| {
            let level = priorities.get(index).copied().unwrap_or(4);
            (done.get(index).copied().unwrap_or(0), FilePriority::from_libtorrent(level))
        }))
    }

    pub(super) fn set_upload_mode(&mut self, id: InfoHash, enabled: bool) -> Result<()> {
        ffi::torrent::ffi::set_torrent_flag(
            self.session.pin_mut(),
            id.as_bytes(),
            TorrentFlag::UploadMode,
            enabled,
        )
        .map_err(EngineError::native("set upload mode"))
    }

    fn file_progress(&mut self, id: InfoHash, layout: &[FileSlot]) -> Result<Vec<u64>> {
        let records = ffi::torrent::ffi::torrent_files(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read file progress"))?;
        Ok((0..layout.len())
            .map(|index| records.get(index).map_or(0, |record| record.bytes_done.max(0) as u64))
            .collect())
    }

    pub(super) fn start_move(&mut self, id: InfoHash, path: &Path, reply: Reply<()>) {
        let result = self.begin_move(id, path);
        match result {
            Ok(()) => self.moves.entry(id).or_default().push(reply),
            Err(err) => {
                let _ = reply.send(Err(err));
            }
        }
    }

    fn begin_move(&mut self, id: InfoHash, path: &Path) -> Result<()> {
        check_target(path)
            .map_err(|reason| EngineError::InvalidPath { path: path.to_path_buf(), reason })?;
        self.record(id)?;
        if self.moves.contains_key(&id) {
            return Err(EngineError::MoveInProgress { id });
        }
        let target = path.to_path_buf();
        self.update_meta(
            id,
            |meta| meta.moving_to = Some(target),
            |worker| {
                let text = path.to_str().unwrap_or_default();
                ffi::torrent::ffi::move_torrent_storage(
                    worker.session.pin_mut(),
                    id.as_bytes(),
                    text,
                )
                .map_err(EngineError::native("move storage"))
            },
        )
    }

    pub(super) fn connect_peer(&mut self, id: InfoHash, peer: SocketAddr) -> Result<()> {
        self.record(id)?;
        let ip = peer.ip().to_string();
        ffi::torrent::ffi::connect_torrent_peer(
            self.session.pin_mut(),
            id.as_bytes(),
            &ip,
            peer.port(),
        )
        .map_err(EngineError::native("connect to a peer"))
    }

    pub(super) fn detail(&mut self, id: InfoHash) -> Result<TorrentDetail> {
        let record = self.record(id)?;
        let layout = record.layout.clone();
        let summary = record.summary();
        let error = record.status.as_ref().map(|s| s.error.clone()).filter(|e| !e.is_empty());
        let files = match &layout {
            Some(layout) => {
                // The priorities asked for: libtorrent shows new ones only
                // once its disk thread has taken them.
                let asked = (record.meta.file_priorities.len() == layout.len())
                    .then(|| record.meta.file_priorities.clone());
                let records =
                    ffi::torrent::ffi::torrent_files(self.session.pin_mut(), id.as_bytes())
                        .map_err(EngineError::native("read files"))?;
                visible_files(layout, |index| {
                    records.get(index).map_or((0, FilePriority::Normal), |record| {
                        let level = asked
                            .as_ref()
                            .and_then(|asked| asked.get(index).copied())
                            .unwrap_or(record.priority);
                        (record.bytes_done.max(0) as u64, FilePriority::from_libtorrent(level))
                    })
                })
            }
            None => Vec::new(),
        };
        let trackers = ffi::torrent::ffi::torrent_trackers(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read trackers"))?
            .into_iter()
            .map(tracker_entry)
            .collect();
        Ok(TorrentDetail { summary, error, trackers, files })
    }

    /// Publishes a torrent's facets (after an add, a restore and the
    /// metadata: its trackers and files change at no other time).
    pub(super) fn refresh_facets(&mut self, id: InfoHash) {
        let Some(record) = self.torrents.get(&id) else { return };
        let mut extensions: Vec<String> = record
            .layout
            .iter()
            .flatten()
            .filter(|slot| !slot.pad)
            .filter_map(|slot| {
                let name = slot.path.rsplit('/').next()?;
                let (stem, ext) = name.rsplit_once('.')?;
                (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
            })
            .collect();
        extensions.sort();
        extensions.dedup();
        let trackers = ffi::torrent::ffi::torrent_trackers(self.session.pin_mut(), id.as_bytes())
            .map(|list| list.into_iter().map(|t| t.url).collect::<Vec<_>>())
            .unwrap_or_default();
        let mut tracker_hosts: Vec<String> =
            trackers.iter().filter_map(|url| tracker_host(url)).collect();
        tracker_hosts.sort();
        tracker_hosts.dedup();
        self.context.shared.set_facets(id, crate::Facets { tracker_hosts, extensions });
    }

    pub(super) fn apply_settings(&mut self, config: SessionConfig) -> Result<()> {
        let relisten = config.listen != self.session_config.listen;
        ffi::session::ffi::apply_settings(self.session.pin_mut(), &config.to_ffi())
            .map_err(EngineError::native("apply settings"))?;
        if relisten {
            // The new sockets report themselves through alerts, which
            // update health; until then it keeps its last status.
            self.faults.listen_failed.clear();
            self.context.shared.update_health(|health| {
                health.listen_endpoints.clear();
                health.listen_port = None;
            });
        }
        if !config.dht {
            self.context.shared.update_health(|health| health.dht_nodes = None);
        }
        if config.pex != self.session_config.pex {
            let ids = self.torrents.keys().copied().collect::<Vec<_>>();
            for id in ids {
                ffi::torrent::ffi::set_torrent_flag(
                    self.session.pin_mut(),
                    id.as_bytes(),
                    TorrentFlag::DisablePex,
                    !config.pex,
                )
                .map_err(EngineError::native("switch peer exchange"))?;
            }
        }
        tracing::info!(?config, "session settings applied");
        self.context.shared.set_settings(config.clone());
        self.session_config = config;
        Ok(())
    }
}

/// The host of a tracker URL, lower-case, without user or port.
pub(crate) fn tracker_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    (!host.is_empty()).then(|| host.to_lowercase())
}

/// Most extra trackers accepted on one add.
const MAX_TRACKERS: usize = 64;

/// A new torrent's record from its add options: labels, state, caps,
/// trackers and file priorities (known now for a `.torrent`; for a magnet,
/// the rules wait for the metadata, and are answered as pending).
fn new_meta(
    mut meta: TorrentMeta,
    magnet: Option<String>,
    layout: Option<&[FileSlot]>,
    options: AddTorrentOptions,
) -> Result<(TorrentMeta, Option<CompiledSelection>)> {
    meta.magnet = magnet;
    meta.labels = options.labels;
    meta.share_limits = options.share_limits;
    meta.paused = options.paused;
    meta.sequential = options.sequential;
    meta.download_limit = options.download_limit;
    meta.upload_limit = options.upload_limit;
    meta.trackers = options.trackers;
    meta.first_last_piece = options.first_last_piece;
    meta.content_layout = options.content_layout;
    if let Some(layout) = layout {
        meta.adopted = crate::owned::adopted(&meta.save_path, layout);
        if !options.selection.rules().is_default() {
            meta.file_priorities = priorities_with(layout, &options.selection)?;
        }
    } else if !options.selection.rules().priorities.is_empty() {
        // Indices cannot be checked before the metadata arrives.
        return Err(EngineError::MetadataPending { id: meta.id });
    }
    meta.selection = options.selection.rules().clone();
    let pending = layout.is_none() && !meta.selection.is_default();
    Ok((meta, pending.then_some(options.selection)))
}

pub(super) fn check_trackers(trackers: &[String]) -> Result<()> {
    if trackers.len() > MAX_TRACKERS {
        return Err(EngineError::InvalidTracker {
            index: MAX_TRACKERS,
            reason: "at most 64 trackers",
        });
    }
    for (index, url) in trackers.iter().enumerate() {
        revaer_domain::torrent::check_tracker_url(url)
            .map_err(|reason| EngineError::InvalidTracker { index, reason })?;
    }
    Ok(())
}

fn tracker_entry(record: TrackerRecord) -> TrackerEntry {
    let count = |value: i32| u32::try_from(value).ok();
    TrackerEntry {
        url: record.url,
        tier: record.tier,
        status: match record.status {
            1 => TrackerStatus::Updating,
            2 => TrackerStatus::Working,
            3 => TrackerStatus::Error,
            _ => TrackerStatus::NotContacted,
        },
        message: Some(record.message).filter(|message| !message.is_empty()),
        seeds: count(record.seeds),
        leechers: count(record.leechers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_hosts_are_extracted() {
        assert_eq!(
            tracker_host("udp://Tracker.Example.org:6969/announce").as_deref(),
            Some("tracker.example.org")
        );
        assert_eq!(tracker_host("https://user@t.example:443/a?x").as_deref(), Some("t.example"));
        assert_eq!(tracker_host("http://[::1]:8080/").as_deref(), Some("[::1]"));
        assert_eq!(tracker_host("http:///x"), None);
    }

    #[test]
    fn trackers_are_bounded_and_checked() {
        assert!(check_trackers(&["udp://t:1/announce".into(), "https://t/a".into()]).is_ok());
        let bad = |url: &str| match check_trackers(&["http://ok/a".into(), url.into()]) {
            Err(EngineError::InvalidTracker { index: 1, reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(bad("ftp://t/a").contains("http"));
        assert!(bad("http://t/a b").contains("whitespace"));
        assert!(
            bad(&format!("http://{}", "a".repeat(revaer_domain::torrent::MAX_TRACKER_URL)))
                .contains("2048")
        );
        let many = vec!["http://t/a".to_owned(); MAX_TRACKERS + 1];
        assert!(matches!(check_trackers(&many), Err(EngineError::InvalidTracker { .. })));
    }
}
