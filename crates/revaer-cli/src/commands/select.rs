//! `revaer select`: which files to download, from flags or a rules file
//! (checked here before anything is sent).

use reqwest::Method;
use revaer_api_models::SelectResult;
use revaer_domain::SelectionRules;

use super::priority;
use crate::cli::SelectArgs;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::{Output, table};

/// `revaer select`.
pub async fn select(client: &Client, out: Output, args: SelectArgs) -> CliResult<()> {
    let rules = match &args.from_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                CliError::Invalid(format!("cannot read {}: {err}", path.display()))
            })?;
            serde_json::from_str::<SelectionRules>(&text)
                .map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))?
        }
        None => SelectionRules {
            include: args.rules.include,
            exclude: args.rules.exclude,
            skip_fluff: args.rules.skip_fluff,
            priorities: args.priority,
        },
    };
    if rules.is_default() && args.from_file.is_none() {
        return Err(CliError::Invalid(
            "give rules (--include, --exclude, --skip-fluff, --priority) or --from-file".into(),
        ));
    }
    if let Err(err) = rules.compile() {
        return Err(CliError::Invalid(format!("invalid rules: {}: {err}", err.pointer())));
    }
    let path = format!("/v1/torrents/{}/select", args.id.to_hex());
    let result: SelectResult = client.send_json(Method::POST, &path, &rules).await?;
    out.print(&result, |r| {
        let rows: Vec<Vec<String>> = r
            .files
            .iter()
            .map(|f| vec![f.index.to_string(), f.path.clone(), priority(f.priority)])
            .collect();
        table(&["#", "FILE", "PRIORITY"], &rows)
    });
    Ok(())
}
