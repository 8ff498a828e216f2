//! `revaer action …`: pause, resume, remove, reannounce, recheck,
//! sequential, first/last piece, rate caps, moves, queue places,
//! force-start, trackers, peers and share limits, on ids or every torrent matching the filters.

use reqwest::Method;
use revaer_api_models::TorrentAction;
use revaer_api_models::torrent::QueueTo;
use revaer_domain::{InfoHash, TrackerSpec};

use super::{all_matching, invalid};
use crate::cli::{ActionCommand, QueueArg, Switch, Targets};
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::Output;

/// `revaer action …`: applies to each target; reports each failure and
/// returns the first.
pub async fn action(client: &Client, out: Output, command: ActionCommand) -> CliResult<()> {
    let (targets, action) = to_action(command);
    action.validate().map_err(|params| invalid(&params))?;
    let f = &targets.filters;
    let filtered = !f.state.is_empty()
        || f.category.is_some()
        || !f.tag.is_empty()
        || f.tracker.is_some()
        || f.extension.is_some()
        || f.name.is_some();
    let ids: Vec<String> = if targets.all_matching {
        if !filtered {
            return Err(CliError::Invalid(
                "--all-matching needs at least one filter (--state, --category, --tag…)".into(),
            ));
        }
        all_matching(client, f, &[]).await?.iter().map(|t| t.id.to_hex()).collect()
    } else if filtered {
        return Err(CliError::Invalid("filters select torrents only with --all-matching".into()));
    } else if targets.ids.is_empty() {
        return Err(CliError::Invalid("name torrents by id, or use --all-matching".into()));
    } else {
        targets.ids.iter().map(InfoHash::to_hex).collect()
    };
    if ids.is_empty() {
        out.note("no torrent matches");
    }
    let single = ids.len() == 1;
    let mut first_error = None;
    for id in &ids {
        let path = format!("/v1/torrents/{id}/action");
        match client.send_empty(Method::POST, &path, Some(&action)).await {
            Ok(()) => out.note(&format!("{id}: done")),
            // One target: its error is the command's, printed once by main.
            Err(err) if single => return Err(err),
            Err(err) => {
                out.error(&err);
                first_error.get_or_insert(err.exit_code());
            }
        }
    }
    match first_error {
        Some(code) => Err(CliError::Reported(code, "some actions failed".into())),
        None => Ok(()),
    }
}

fn to_action(command: ActionCommand) -> (Targets, TorrentAction) {
    match command {
        ActionCommand::Pause(t) => (t, TorrentAction::Pause {}),
        ActionCommand::Resume(t) => (t, TorrentAction::Resume {}),
        ActionCommand::Reannounce(t) => (t, TorrentAction::Reannounce {}),
        ActionCommand::Recheck(t) => (t, TorrentAction::Recheck {}),
        ActionCommand::Remove { targets, delete_data } => {
            (targets, TorrentAction::Remove { delete_data })
        }
        ActionCommand::Sequential { mode, targets } => {
            (targets, TorrentAction::Sequential { enable: mode == Switch::On })
        }
        ActionCommand::Rate { targets, download, upload } => {
            let (download_bps, upload_bps) = (download.map(|r| r.0), upload.map(|r| r.0));
            (targets, TorrentAction::Rate { download_bps, upload_bps })
        }
        ActionCommand::Move { path, targets } => (targets, TorrentAction::Move { save_path: path }),
        ActionCommand::Queue { to, targets } => {
            let to = match to {
                QueueArg::Top => QueueTo::Top,
                QueueArg::Bottom => QueueTo::Bottom,
                QueueArg::Up => QueueTo::Up,
                QueueArg::Down => QueueTo::Down,
            };
            (targets, TorrentAction::Queue { to })
        }
        ActionCommand::ForceStart { mode, targets } => {
            (targets, TorrentAction::ForceStart { enable: mode == Switch::On })
        }
        ActionCommand::FirstLast { mode, targets } => {
            (targets, TorrentAction::FirstLastPiece { enable: mode == Switch::On })
        }
        ActionCommand::Trackers { targets, add, tier, remove, replace } => {
            let add = add.into_iter().map(|url| TrackerSpec { url, tier }).collect();
            (targets, TorrentAction::Trackers { add, remove, replace })
        }
        ActionCommand::AddPeers { targets, peers } => (targets, TorrentAction::AddPeers { peers }),
        ActionCommand::Share { targets, limits } => {
            (targets, TorrentAction::ShareLimits { limits: limits.limits() })
        }
    }
}
