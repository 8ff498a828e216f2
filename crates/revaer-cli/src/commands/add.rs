//! `revaer add`: a magnet, a `.torrent` file, or one on stdin.

use std::io::Read as _;

use reqwest::Method;
use revaer_api_models::AddTorrentRequest;
use revaer_api_models::torrent::MAX_METAINFO_BYTES;
use revaer_domain::{SelectionRules, ShareLimits, TorrentSummary};

use super::invalid;
use crate::cli::AddArgs;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::Output;

/// Reads a `.torrent` from a file or stdin, bounded.
fn read_metainfo(source: &str) -> CliResult<Vec<u8>> {
    let limit = MAX_METAINFO_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|err| CliError::Invalid(format!("cannot read {source}: {err}")))?;
    if bytes.len() > MAX_METAINFO_BYTES {
        return Err(CliError::Invalid(format!("{source}: a .torrent may be at most 16 MiB")));
    }
    Ok(bytes)
}

/// `revaer add`.
pub async fn add(client: &Client, out: Output, args: AddArgs) -> CliResult<()> {
    let mut request = AddTorrentRequest {
        save_path: args.save_path,
        category: args.category,
        tags: args.tag,
        paused: args.paused,
        sequential: args.sequential,
        first_last_piece: args.first_last_piece,
        content_layout: args.content_layout.into(),
        skip_checking: args.skip_checking,
        download_bps: args.download_limit.and_then(|rate| rate.0),
        upload_bps: args.upload_limit.and_then(|rate| rate.0),
        share_limits: Some(args.share.limits()).filter(|limits| *limits != ShareLimits::default()),
        ..AddTorrentRequest::default()
    };
    let rules = SelectionRules {
        include: args.rules.include,
        exclude: args.rules.exclude,
        skip_fluff: args.rules.skip_fluff,
        priorities: Vec::new(),
    };
    if !rules.is_default() {
        request.selection = Some(rules);
    }
    if args.source.starts_with("magnet:") {
        request.magnet = Some(args.source);
    } else {
        request.metainfo = Some(data_encoding::BASE64.encode(&read_metainfo(&args.source)?));
    }
    request.validate().map_err(|params| invalid(&params))?;
    let summary: TorrentSummary = client.send_json(Method::POST, "/v1/torrents", &request).await?;
    out.print(&summary, |s| format!("added {} ({})", s.name, s.id));
    Ok(())
}
