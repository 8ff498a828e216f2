//! Tracker edits: `addTrackers`, `removeTrackers` and `editTracker`, each
//! one tracker edit of the torrent's list (see the `/v1` `trackers`
//! action).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_api_models::TorrentAction;
use revaer_domain::torrent::{MAX_TRACKER_EDITS, check_tracker_url};
use revaer_domain::{InfoHash, TrackerReplace, TrackerSpec};
use revaer_service::Caller;

use crate::params::Params;
use crate::reply::{Reply, Text, service_error};
use crate::state::QbitState;

/// Trackers of `urls` as qBittorrent parses them: one URL a line, a blank
/// line starting the next tier. Lines that are no tracker URL are skipped.
pub fn parse_tiers(urls: &str) -> Vec<TrackerSpec> {
    let mut tier: u8 = 0;
    let mut seen_in_tier = false;
    let mut found = Vec::new();
    for line in urls.lines().map(str::trim) {
        if line.is_empty() {
            if seen_in_tier {
                tier = tier.saturating_add(1);
                seen_in_tier = false;
            }
            continue;
        }
        if check_tracker_url(line).is_ok() && found.len() < MAX_TRACKER_EDITS {
            found.push(TrackerSpec { url: line.to_owned(), tier });
            seen_in_tier = true;
        }
    }
    found
}

/// The torrent `hash` names and the URLs it has now; `404` if unknown.
async fn current(state: &QbitState, params: &Params) -> Reply<(InfoHash, Vec<String>)> {
    let id = params.hash()?;
    let detail = state.service.engine().detail(id).await.map_err(|e| service_error(e.into()))?;
    Ok((id, detail.trackers.into_iter().map(|t| t.url).collect()))
}

async fn apply(
    state: &QbitState,
    caller: &Caller,
    id: InfoHash,
    action: TorrentAction,
) -> Reply<Text> {
    state.service.act(caller, id, action).await.map_err(service_error)?;
    Ok(Text::body(""))
}

/// `torrents/addTrackers`: `hash`, `urls` (one a line; a blank line for
/// the next tier). URLs already there, or that are no tracker URL, are
/// skipped; `404` for an unknown torrent.
pub async fn add_trackers(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let (id, have) = current(&state, &params).await?;
    let add: Vec<TrackerSpec> = parse_tiers(params.get("urls").unwrap_or_default())
        .into_iter()
        .filter(|spec| !have.contains(&spec.url))
        .collect();
    if add.is_empty() {
        return Ok(Text::body(""));
    }
    let action = TorrentAction::Trackers { add, remove: Vec::new(), replace: Vec::new() };
    apply(&state, &caller, id, action).await
}

/// `torrents/removeTrackers`: `hash`, `urls` (`|`-separated, each
/// percent-decoded, as VueTorrent encodes them). Those there are removed;
/// `409` when none is.
pub async fn remove_trackers(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let (id, have) = current(&state, &params).await?;
    let mut remove: Vec<String> = params
        .get("urls")
        .unwrap_or_default()
        .split('|')
        .map(|url| {
            percent_encoding::percent_decode_str(url.trim()).decode_utf8_lossy().into_owned()
        })
        .filter(|url| have.contains(url))
        .take(MAX_TRACKER_EDITS)
        .collect();
    remove.dedup();
    if remove.is_empty() {
        return Ok(Text::error(StatusCode::CONFLICT, "No such trackers"));
    }
    let action = TorrentAction::Trackers { add: Vec::new(), remove, replace: Vec::new() };
    apply(&state, &caller, id, action).await
}

/// `torrents/editTracker`: `hash`, `origUrl` (or `url`, as WebAPI 2.13
/// names it), `newUrl`. `400` when the new URL is no tracker URL, `409`
/// when the old one is not there or the new one already is.
pub async fn edit_tracker(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let (id, have) = current(&state, &params).await?;
    let from = params.get("origUrl").or_else(|| params.get("url")).unwrap_or_default().trim();
    let to = params.get("newUrl").unwrap_or_default().trim();
    if check_tracker_url(to).is_err() {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "New tracker URL is invalid"));
    }
    if !have.iter().any(|url| url == from) {
        return Ok(Text::error(StatusCode::CONFLICT, "Tracker not found"));
    }
    if from == to {
        return Ok(Text::body(""));
    }
    if have.iter().any(|url| url == to) {
        return Ok(Text::error(StatusCode::CONFLICT, "New tracker URL already exists"));
    }
    let replace = vec![TrackerReplace { from: from.to_owned(), to: to.to_owned() }];
    let action = TorrentAction::Trackers { add: Vec::new(), remove: Vec::new(), replace };
    apply(&state, &caller, id, action).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_start_tiers_and_junk_is_skipped() {
        let specs = parse_tiers("http://a/x\nudp://b:1\n\n\nnot a url\nhttps://c/y\n\n");
        let tiers: Vec<(&str, u8)> = specs.iter().map(|s| (s.url.as_str(), s.tier)).collect();
        assert_eq!(tiers, [("http://a/x", 0), ("udp://b:1", 0), ("https://c/y", 1)]);
        assert!(parse_tiers("\n\n").is_empty());
        let leading = parse_tiers("\nhttp://a/x");
        assert_eq!(leading[0].tier, 0, "a blank line before any URL starts no tier");
    }
}
