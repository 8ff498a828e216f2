//! `ls`, `add`, `status`, `select` and `action`.

use std::fmt::Write as _;
use std::io::Read as _;

use reqwest::Method;
use revaer_api_models::torrent::MAX_METAINFO_BYTES;
use revaer_api_models::{AddTorrentRequest, SelectResult, TorrentAction, TorrentPage, TorrentView};
use revaer_domain::{SelectionRules, TorrentSummary};

use crate::cli::{ActionCommand, AddArgs, Filters, ListArgs, SelectArgs, Targets};
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::{Output, bytes, eta, table};
use crate::parse;

/// The query string of a list request.
fn query(filters: &Filters, extra: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    let optional = [
        ("state", &filters.state),
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

/// Every torrent matching `filters` (in the order `sorting` asks for),
/// following the cursors; a server that repeats a cursor is an error.
async fn all_matching(
    client: &Client,
    filters: &Filters,
    sorting: &[(&str, String)],
) -> CliResult<Vec<TorrentSummary>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
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

/// `revaer ls`.
pub async fn list(client: &Client, out: Output, args: ListArgs) -> CliResult<()> {
    let sorting: Vec<(&str, String)> = [("sort", &args.sort), ("order", &args.order)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    let page = if args.all {
        TorrentPage {
            items: all_matching(client, &args.filters, &sorting).await?,
            next_cursor: None,
        }
    } else {
        let mut extra = vec![("limit", args.limit.to_string())];
        for (key, value) in [("cursor", &args.cursor), ("sort", &args.sort), ("order", &args.order)]
        {
            if let Some(value) = value {
                extra.push((key, value.clone()));
            }
        }
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

/// Local validation failures, with the pointers the server would give.
fn invalid(params: &[revaer_api_models::InvalidParam]) -> CliError {
    let lines: Vec<String> =
        params.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect();
    CliError::Invalid(format!("invalid request:\n  {}", lines.join("\n  ")))
}

/// `revaer add`.
pub async fn add(client: &Client, out: Output, args: AddArgs) -> CliResult<()> {
    let mut request = AddTorrentRequest {
        save_path: args.save_path,
        category: args.category,
        tags: args.tag,
        paused: args.paused,
        sequential: args.sequential,
        download_bps: args.download_limit.as_deref().map(parse::rate).transpose()?.flatten(),
        upload_bps: args.upload_limit.as_deref().map(parse::rate).transpose()?.flatten(),
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

/// `revaer status`.
pub async fn status(client: &Client, out: Output, id: &str) -> CliResult<()> {
    let view: TorrentView = client.get(&format!("/v1/torrents/{}", path_id(id)?)).await?;
    out.print(&view, detail_text);
    Ok(())
}

fn detail_text(view: &TorrentView) -> String {
    let d = &view.detail;
    let s = &d.summary;
    let mut text = format!(
        "{}\n  id        {}\n  state     {} ({:.1}%, {} of {})\n  rates     down {}/s, up {}/s, ratio {:.2}, eta {}\n  peers     {} ({} seeds)\n  path      {}\n",
        s.name,
        s.id,
        s.state.as_str(),
        s.progress * 100.0,
        bytes(s.bytes_done),
        bytes(s.bytes_wanted),
        bytes(s.download_bps),
        bytes(s.upload_bps),
        s.ratio,
        eta(s.eta_secs),
        s.peers,
        s.seeds,
        d.content_path.display(),
    );
    if let Some(error) = &d.error {
        let _ = writeln!(text, "  error     {error}");
    }
    let files: Vec<Vec<String>> = d
        .files
        .iter()
        .map(|f| vec![f.index.to_string(), f.path.clone(), bytes(f.size), priority(f.priority)])
        .collect();
    let _ = write!(text, "\n{}", table(&["#", "FILE", "SIZE", "PRIORITY"], &files));
    let trackers: Vec<Vec<String>> = d
        .trackers
        .iter()
        .map(|t| {
            vec![
                t.url.clone(),
                format!("{:?}", t.status).to_lowercase(),
                t.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !trackers.is_empty() {
        let _ = write!(text, "\n{}", table(&["TRACKER", "STATUS", "MESSAGE"], &trackers));
    }
    match &view.fsops {
        None => text.push_str("\npost-processing: not yet (the torrent has not completed)\n"),
        Some(job) => {
            let _ = write!(
                text,
                "\npost-processing: {} (attempt {}){}{}\n",
                job.status,
                job.attempts,
                job.destination.as_deref().map(|d| format!(", into {d}")).unwrap_or_default(),
                job.last_error.as_deref().map(|e| format!(", last error: {e}")).unwrap_or_default(),
            );
            for step in &job.steps {
                let _ = writeln!(text, "  {:<12} {}", step.step.as_str(), step.outcome.as_str());
            }
        }
    }
    text
}

/// An id as the API takes it, checked here first.
pub fn path_id(id: &str) -> CliResult<String> {
    revaer_domain::InfoHash::parse(id.trim())
        .map(|id| id.to_hex())
        .map_err(|err| CliError::Invalid(format!("`{id}`: {err}")))
}

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
            priorities: args
                .priority
                .iter()
                .map(|p| parse::priority(p))
                .collect::<CliResult<_>>()?,
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
    let path = format!("/v1/torrents/{}/select", path_id(&args.id)?);
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

/// `revaer action …`: applies to each target; reports each failure and
/// returns the first.
pub async fn action(client: &Client, out: Output, command: ActionCommand) -> CliResult<()> {
    let (targets, action) = to_action(command)?;
    action.validate().map_err(|params| invalid(&params))?;
    let f = &targets.filters;
    let filtered = f.state.is_some()
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
        targets.ids.iter().map(|id| path_id(id)).collect::<CliResult<_>>()?
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

fn to_action(command: ActionCommand) -> CliResult<(Targets, TorrentAction)> {
    Ok(match command {
        ActionCommand::Pause(t) => (t, TorrentAction::Pause {}),
        ActionCommand::Resume(t) => (t, TorrentAction::Resume {}),
        ActionCommand::Reannounce(t) => (t, TorrentAction::Reannounce {}),
        ActionCommand::Recheck(t) => (t, TorrentAction::Recheck {}),
        ActionCommand::Remove { targets, delete_data } => {
            (targets, TorrentAction::Remove { delete_data })
        }
        ActionCommand::Sequential { mode, targets } => {
            (targets, TorrentAction::Sequential { enable: mode == "on" })
        }
        ActionCommand::Rate { targets, download, upload } => {
            let download_bps = download.as_deref().map(parse::rate).transpose()?;
            let upload_bps = upload.as_deref().map(parse::rate).transpose()?;
            (targets, TorrentAction::Rate { download_bps, upload_bps })
        }
        ActionCommand::Move { path, targets } => (targets, TorrentAction::Move { save_path: path }),
    })
}

/// A file priority as the API spells it.
fn priority(priority: revaer_domain::FilePriority) -> String {
    serde_json::to_value(priority)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
