//! `revaer transfer`: the session's rates, totals and caps; sets the caps
//! when given.

use reqwest::Method;
use revaer_api_models::{TransferLimits, TransferStats};

use crate::cli::TransferArgs;
use crate::client::Client;
use crate::error::CliResult;
use crate::output::{Output, bytes};

/// `revaer transfer [--download X] [--upload Y]`.
pub async fn transfer(client: &Client, out: Output, args: TransferArgs) -> CliResult<()> {
    let stats: TransferStats = if args.download.is_none() && args.upload.is_none() {
        client.get("/v1/transfer").await?
    } else {
        let limits = TransferLimits {
            download_bps: args.download.map(|rate| rate.0),
            upload_bps: args.upload.map(|rate| rate.0),
        };
        client.send_json(Method::POST, "/v1/transfer/limits", &limits).await?
    };
    out.print(&stats, |s| {
        let cap = |c: Option<u64>| c.map_or("unlimited".to_owned(), |b| format!("{}/s", bytes(b)));
        format!(
            "down {}/s (cap {}), up {}/s (cap {})\n{} torrents, {} peers; {} down, {} up",
            bytes(s.download_bps),
            cap(s.download_limit_bps),
            bytes(s.upload_bps),
            cap(s.upload_limit_bps),
            s.torrents,
            s.peers,
            bytes(s.downloaded),
            bytes(s.uploaded)
        )
    });
    Ok(())
}
