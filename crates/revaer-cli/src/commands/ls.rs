//! `revaer ls`: a page of torrents, or every match with `--all`.

use std::fmt::Write as _;

use revaer_api_models::TorrentPage;
use revaer_domain::TorrentSummary;

use super::{all_matching, query, sorting};
use crate::cli::ListArgs;
use crate::client::Client;
use crate::error::CliResult;
use crate::output::{Output, bytes, eta, table};

/// `revaer ls`.
pub async fn list(client: &Client, out: Output, args: ListArgs) -> CliResult<()> {
    let sorting = sorting(args.sort, args.order);
    let page = if args.all {
        TorrentPage {
            items: all_matching(client, &args.filters, &sorting).await?,
            next_cursor: None,
        }
    } else {
        let mut extra = vec![("limit", args.limit.to_string())];
        if let Some(cursor) = &args.cursor {
            extra.push(("cursor", cursor.clone()));
        }
        extra.extend(sorting);
        client.get(&format!("/v1/torrents?{}", query(&args.filters, &extra))).await?
    };
    out.print(&page, |page| {
        let rows: Vec<Vec<String>> = page.items.iter().map(summary_row).collect();
        let mut text = table(
            &["ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "RATIO", "ETA", "CATEGORY"],
            &rows,
        );
        if let Some(next) = &page.next_cursor {
            let _ = writeln!(text, "next page: --cursor {next}");
        }
        text
    });
    Ok(())
}

fn summary_row(t: &TorrentSummary) -> Vec<String> {
    vec![
        t.id.to_hex()[..12].to_owned(),
        t.name.chars().take(60).collect(),
        t.state.as_str().to_owned(),
        format!("{:.1}%", t.progress * 100.0),
        bytes(t.size),
        format!("{}/s", bytes(t.download_bps)),
        format!("{}/s", bytes(t.upload_bps)),
        format!("{:.2}", t.ratio),
        eta(t.eta_secs),
        t.labels.category.clone().unwrap_or_default(),
    ]
}
