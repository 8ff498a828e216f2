//! One module per command, and what several share: the list query, paging
//! through every match, local validation failures, priority names.

pub mod action;
pub mod add;
pub mod config;
pub mod follow;
pub mod health;
pub mod keys;
pub mod ls;
pub mod select;
pub mod setup;
pub mod status;
pub mod swarm;
pub mod tail;
pub mod transfer;

use std::collections::HashSet;

use revaer_api_models::{InvalidParam, Order, SortKey, TorrentPage};
use revaer_domain::{FilePriority, TorrentSummary};

use crate::cli::Filters;
use crate::client::Client;
use crate::error::{CliError, CliResult};

/// The list query for `filters`, after the `extra` pairs.
fn query(filters: &Filters, extra: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    if !filters.state.is_empty() {
        let states: Vec<&str> = filters.state.iter().map(|s| s.as_str()).collect();
        query.append_pair("state", &states.join(","));
    }
    let optional = [
        ("category", &filters.category),
        ("tracker", &filters.tracker),
        ("extension", &filters.extension),
        ("name", &filters.name),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    for tag in &filters.tag {
        query.append_pair("tag", tag);
    }
    query.finish()
}

/// The `sort` and `order` pairs, when given.
fn sorting(sort: Option<SortKey>, order: Option<Order>) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if let Some(sort) = sort {
        pairs.push(("sort", sort.as_str().to_owned()));
    }
    if let Some(order) = order {
        pairs.push(("order", order.as_str().to_owned()));
    }
    pairs
}

/// Every torrent matching `filters` (in the order `sorting` asks for),
/// following the cursors; a server that repeats a cursor is an error.
async fn all_matching(
    client: &Client,
    filters: &Filters,
    sorting: &[(&str, String)],
) -> CliResult<Vec<TorrentSummary>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen = HashSet::new();
    loop {
        let mut extra = vec![("limit", "1000".to_owned())];
        extra.extend(sorting.iter().cloned());
        if let Some(cursor) = &cursor {
            extra.push(("cursor", cursor.clone()));
        }
        let page: TorrentPage =
            client.get(&format!("/v1/torrents?{}", query(filters, &extra))).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if !seen.insert(next.clone()) => {
                return Err(CliError::Network("the server repeated a page cursor".into()));
            }
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Local validation failures, with the pointers the server would give.
fn invalid(params: &[InvalidParam]) -> CliError {
    let lines: Vec<String> =
        params.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect();
    CliError::Invalid(format!("invalid request:\n  {}", lines.join("\n  ")))
}

/// A file priority as the API spells it.
fn priority(priority: FilePriority) -> String {
    serde_json::to_value(priority)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
