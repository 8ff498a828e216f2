//! The command line: global options and one subcommand per capability of
//! the API (`revaer --help`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use revaer_api_models::events::Event;
use revaer_api_models::{Order, SortKey};
use revaer_domain::selection::PriorityOverride;
use revaer_domain::share::{Limit, Ratio, ShareAction, ShareLimits};
use revaer_domain::{InfoHash, Scope, TorrentState, TrackerReplace};

use crate::output::Format;
use crate::parse::{
    Rate, info_hash_arg, priority_arg, rate_arg, ratio_limit_arg, time_limit_arg, timestamp_arg,
};

/// A sort key, by its API name (possible values listed in `--help`).
fn sort_key() -> impl clap::builder::TypedValueParser<Value = SortKey> {
    PossibleValuesParser::new(SortKey::NAMES)
        .try_map(|name| SortKey::parse(&name).ok_or("not a sort key"))
}

/// `asc` or `desc`.
fn order() -> impl clap::builder::TypedValueParser<Value = Order> {
    PossibleValuesParser::new(Order::NAMES)
        .try_map(|name| Order::parse(&name).ok_or("not an order"))
}

/// A torrent state, by its API name.
fn torrent_state() -> impl clap::builder::TypedValueParser<Value = TorrentState> {
    PossibleValuesParser::new(TorrentState::ALL.map(TorrentState::as_str))
        .try_map(|name| TorrentState::parse(&name).ok_or("not a state"))
}

/// A key scope, by its API name.
fn scope() -> impl clap::builder::TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.iter().map(|s| s.as_str()))
        .try_map(|name| name.parse::<Scope>().map_err(|_| "not a scope"))
}

/// An event type, by its API name.
fn event_kind() -> PossibleValuesParser {
    PossibleValuesParser::new(Event::KINDS)
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enable.
    On,
    /// Disable.
    Off,
}

/// `revaer`: drive a Revaer daemon.
#[derive(Debug, Parser)]
#[allow(clippy::struct_excessive_bools, reason = "command-line switches")]
#[command(
    name = "revaer",
    version,
    about = "Drive a Revaer torrent daemon over its HTTP API",
    after_help = "Exit codes: 0 success; 2 invalid input (local checks, or a 4xx problem: 400, 409, \
                  412, 413, 415, 422); 3 authentication (401, 403); 4 not found (404); 5 rate \
                  limited (429); 10 server or network failure (5xx, connection, timeout)."
)]
pub struct Cli {
    /// The daemon's base URL.
    #[arg(long, global = true, env = "REVAER_API_URL", default_value = "http://127.0.0.1:7070")]
    pub api_url: String,
    /// The API key (`rvk_…`).
    #[arg(long, global = true, env = "REVAER_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// A file holding the API key (first line); wins over `--api-key`.
    #[arg(long, global = true)]
    pub api_key_file: Option<PathBuf>,
    /// `table` for people, `json` for scripts (default: table on a
    /// terminal, json otherwise).
    #[arg(long, global = true, value_enum)]
    pub output: Option<Format>,
    /// Seconds to wait for an answer.
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// No colours (also `NO_COLOR`). The output has none today; accepted
    /// so that scripts can pass it.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print nothing on success.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print each request and answer on stderr (secrets masked).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// On 429, wait as `Retry-After` says (at most 60 s) and try once more.
    #[arg(long, global = true)]
    pub retry: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List torrents.
    Ls(ListArgs),
    /// Add a torrent: a magnet, a `.torrent` file, or `-` for a `.torrent`
    /// on stdin.
    Add(AddArgs),
    /// One torrent in detail: files, trackers, post-processing.
    Status {
        /// The torrent's info-hash.
        #[arg(value_parser = info_hash_arg)]
        id: InfoHash,
        /// Then follow its progress until it completes (exit 0), fails
        /// (10) or is removed (4).
        #[arg(long)]
        follow: bool,
    },
    /// The peers a torrent is connected to now.
    Peers {
        /// The torrent's info-hash.
        #[arg(value_parser = info_hash_arg)]
        id: InfoHash,
    },
    /// Which pieces of a torrent are had (`#`), downloading (`+`) or
    /// missing (`.`).
    Pieces {
        /// The torrent's info-hash.
        #[arg(value_parser = info_hash_arg)]
        id: InfoHash,
    },
    /// Choose which files to download.
    Select(SelectArgs),
    /// Act on torrents.
    Action {
        /// The action.
        #[command(subcommand)]
        action: ActionCommand,
    },
    /// Global transfer rates and caps (sets the caps when given).
    Transfer(TransferArgs),
    /// Settings.
    Config {
        /// `get` or `set`.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// API keys.
    Keys {
        /// `list`, `issue`, `rotate` or `revoke`.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// First-run setup.
    Setup {
        /// `complete`.
        #[command(subcommand)]
        command: SetupCommand,
    },
    /// Follow the event stream (resumes where the last run stopped).
    Tail(TailArgs),
    /// Print a shell completion script (`bash`, `zsh`, `fish`, `elvish`,
    /// `powershell`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for `man -l -` or a `man1` folder.
    Man,
    /// The daemon's health.
    Health {
        /// Every component (needs a key unless on the daemon's host).
        #[arg(long)]
        full: bool,
    },
}

/// `revaer ls`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Page size (1 to 1000).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Start after this cursor (from a previous page).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Follow the cursors to the last page.
    #[arg(long, conflicts_with = "cursor")]
    pub all: bool,
    /// Which torrents.
    #[command(flatten)]
    pub filters: Filters,
    /// Sort key.
    #[arg(long, value_parser = sort_key())]
    pub sort: Option<SortKey>,
    /// Sort order.
    #[arg(long, value_parser = order())]
    pub order: Option<Order>,
}

/// `revaer transfer`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Session download cap (`5MiB/s`, `800k`, `unlimited`).
    #[arg(long, value_parser = rate_arg)]
    pub download: Option<Rate>,
    /// Session upload cap.
    #[arg(long, value_parser = rate_arg)]
    pub upload: Option<Rate>,
}

/// The list filters (shared by `ls` and bulk actions).
#[derive(Debug, Clone, Default, Args)]
pub struct Filters {
    /// States (comma list, or repeat the flag).
    #[arg(long, value_delimiter = ',', value_parser = torrent_state())]
    pub state: Vec<TorrentState>,
    /// Category.
    #[arg(long)]
    pub category: Option<String>,
    /// Tag (repeatable; all must match).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Tracker host substring.
    #[arg(long)]
    pub tracker: Option<String>,
    /// A file extension.
    #[arg(long)]
    pub extension: Option<String>,
    /// Name substring (case-insensitive).
    #[arg(long)]
    pub name: Option<String>,
}

/// `revaer add`.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools, reason = "independent command-line flags")]
pub struct AddArgs {
    /// A magnet URI, a `.torrent` file, or `-` (a `.torrent` on stdin).
    pub source: String,
    /// Category.
    #[arg(long)]
    pub category: Option<String>,
    /// Tag (repeatable).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Absolute folder to download into.
    #[arg(long)]
    pub save_path: Option<String>,
    /// Add without starting.
    #[arg(long)]
    pub paused: bool,
    /// Download pieces in order.
    #[arg(long)]
    pub sequential: bool,
    /// Download the first and last pieces of each file first.
    #[arg(long)]
    pub first_last_piece: bool,
    /// Where the files go under the save path.
    #[arg(long, value_enum, default_value = "original")]
    pub content_layout: LayoutArg,
    /// Trust the files already in the save path: seed without checking
    /// them first (a `.torrent` only).
    #[arg(long)]
    pub skip_checking: bool,
    /// File selection rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Download cap (`5MiB/s`, `800k`).
    #[arg(long, value_parser = rate_arg)]
    pub download_limit: Option<Rate>,
    /// Upload cap.
    #[arg(long, value_parser = rate_arg)]
    pub upload_limit: Option<Rate>,
    /// Share limits.
    #[command(flatten)]
    pub share: ShareArgs,
}

/// Share limits: each a value, `inherit` (the category's, then the global
/// one; the default) or `unlimited`.
#[derive(Debug, Clone, Default, Args)]
pub struct ShareArgs {
    /// Stop seeding at this ratio (`2`, `0.5`).
    #[arg(long, value_parser = ratio_limit_arg)]
    pub ratio: Option<Limit<Ratio>>,
    /// Stop after seeding this long (`90m`, `2h`, `7d`, seconds).
    #[arg(long, value_parser = time_limit_arg)]
    pub seeding_time: Option<Limit<u64>>,
    /// Stop after seeding this long without traffic.
    #[arg(long, value_parser = time_limit_arg)]
    pub inactive_time: Option<Limit<u64>>,
    /// What happens when a limit is reached (default: the category's, then
    /// the global choice, then `stop`).
    #[arg(long = "then", value_enum)]
    pub then: Option<ThenArg>,
}

/// What a reached share limit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThenArg {
    /// Stop the torrent.
    Stop,
    /// Remove it, keeping its files.
    Remove,
    /// Remove it and the files it wrote.
    RemoveWithData,
}

impl ShareArgs {
    /// The limits these flags give (every one not given inherits).
    pub fn limits(&self) -> ShareLimits {
        ShareLimits {
            ratio: self.ratio.unwrap_or_default(),
            seeding_time_secs: self.seeding_time.unwrap_or_default(),
            inactive_time_secs: self.inactive_time.unwrap_or_default(),
            action: self.then.map(|then| match then {
                ThenArg::Stop => ShareAction::Stop,
                ThenArg::Remove => ShareAction::Remove,
                ThenArg::RemoveWithData => ShareAction::RemoveWithData,
            }),
        }
    }
}

/// Where a torrent's files go under its save path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// As the torrent names them.
    Original,
    /// Always in a folder (a single file gets one named after it).
    Subfolder,
    /// Without the torrent's top folder.
    NoSubfolder,
}

impl From<LayoutArg> for revaer_domain::ContentLayout {
    fn from(arg: LayoutArg) -> Self {
        match arg {
            LayoutArg::Original => Self::Original,
            LayoutArg::Subfolder => Self::Subfolder,
            LayoutArg::NoSubfolder => Self::NoSubfolder,
        }
    }
}

/// A move in the download queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueArg {
    /// To the front.
    Top,
    /// To the back.
    Bottom,
    /// One place towards the front.
    Up,
    /// One place towards the back.
    Down,
}

/// File selection rules.
#[derive(Debug, Clone, Default, Args)]
pub struct RuleArgs {
    /// Only files matching this glob (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Not files matching this glob (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Skip samples, proofs and other fluff.
    #[arg(long)]
    pub skip_fluff: bool,
}

/// `revaer select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// The torrent's info-hash.
    #[arg(value_parser = info_hash_arg)]
    pub id: InfoHash,
    /// File selection rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// A file's priority: `INDEX=skip|low|normal|high` (repeatable).
    #[arg(long, value_parser = priority_arg)]
    pub priority: Vec<PriorityOverride>,
    /// The rules as JSON (checked here before anything is sent).
    #[arg(long, conflicts_with_all = ["include", "exclude", "skip_fluff", "priority"])]
    pub from_file: Option<PathBuf>,
}

/// `revaer action …`: each takes one or more ids, or `--all-matching` with
/// the `ls` filters.
#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Stop transferring.
    Pause(Targets),
    /// Start again.
    Resume(Targets),
    /// Remove (and delete the files with `--delete-data`).
    Remove {
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
        /// Delete the downloaded files too.
        #[arg(long)]
        delete_data: bool,
    },
    /// Announce to the trackers now.
    Reannounce(Targets),
    /// Verify the data on disk.
    Recheck(Targets),
    /// Download pieces in order (`on`) or not (`off`).
    Sequential {
        /// On or off.
        mode: Switch,
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
    },
    /// Per-torrent caps (`unlimited` lifts one).
    Rate {
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
        /// Download cap.
        #[arg(long, value_parser = rate_arg)]
        download: Option<Rate>,
        /// Upload cap.
        #[arg(long, value_parser = rate_arg)]
        upload: Option<Rate>,
    },
    /// Move the files to another folder.
    Move {
        /// Absolute folder.
        path: String,
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
    },
    /// Move torrents in the download queue.
    Queue {
        /// Where.
        #[arg(value_enum)]
        to: QueueArg,
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
    },
    /// Run torrents outside the queue (`on`), or give them back (`off`).
    ForceStart {
        /// On or off.
        #[arg(value_enum)]
        mode: Switch,
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
    },
    /// Download the first and last pieces of each file first (`on`), or
    /// not (`off`).
    FirstLast {
        /// On or off.
        #[arg(value_enum)]
        mode: Switch,
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
    },
    /// Edit the trackers: replacements, then removals, then additions.
    Trackers {
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
        /// A tracker URL to add (repeatable).
        #[arg(long = "add")]
        add: Vec<String>,
        /// The tier of the added trackers (0 is tried first).
        #[arg(long, default_value_t = 0)]
        tier: u8,
        /// A tracker URL to remove (repeatable).
        #[arg(long = "remove")]
        remove: Vec<String>,
        /// `OLD=NEW`: replace a tracker URL, keeping its tier (repeatable).
        #[arg(long = "replace", value_parser = replace_arg)]
        replace: Vec<TrackerReplace>,
    },
    /// Connect torrents to peers.
    AddPeers {
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
        /// A peer, `ip:port` or `[ipv6]:port` (repeatable).
        #[arg(long = "peer", required = true)]
        peers: Vec<String>,
    },
    /// Replace the torrents' own share limits (a limit not given inherits).
    Share {
        /// Which torrents.
        #[command(flatten)]
        targets: Targets,
        /// The limits.
        #[command(flatten)]
        limits: ShareArgs,
    },
}

/// Which torrents an action is for.
#[derive(Debug, Clone, Args)]
pub struct Targets {
    /// Info-hashes.
    #[arg(conflicts_with = "all_matching", value_parser = info_hash_arg)]
    pub ids: Vec<InfoHash>,
    /// Every torrent matching the filters (give at least one filter).
    #[arg(long)]
    pub all_matching: bool,
    /// Which torrents.
    #[command(flatten)]
    pub filters: Filters,
}

/// `revaer config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The settings and their revision.
    Get,
    /// Change settings: `key.path=value` pairs (values are JSON, or text),
    /// or a changeset file.
    Set {
        /// `engine_profile.dht=false`, `fs_policy.library_root=/srv/media`…
        pairs: Vec<String>,
        /// A changeset as JSON.
        #[arg(long, conflicts_with = "pairs")]
        file: Option<PathBuf>,
        /// Apply only if the settings are still at this revision.
        #[arg(long)]
        if_revision: Option<i64>,
    },
}

/// `revaer keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every key (never a secret).
    List,
    /// A new key; its token is printed once.
    Issue {
        /// A name for people.
        #[arg(long)]
        label: String,
        /// Requests at once (with `--per-seconds`).
        #[arg(long, requires = "per_seconds")]
        burst: Option<u32>,
        /// Seconds to refill the bucket.
        #[arg(long, requires = "burst")]
        per_seconds: Option<u32>,
        /// When it stops working (RFC 3339).
        #[arg(long, value_parser = timestamp_arg)]
        expires_at: Option<DateTime<Utc>>,
        /// What it may do (repeat or separate by commas; default `read`):
        /// `read` lists and watches, `control` also adds and acts on
        /// torrents, `admin` also manages keys and settings. No wider than
        /// the key that issues it.
        #[arg(long = "scope", value_delimiter = ',', value_parser = scope())]
        scopes: Vec<Scope>,
    },
    /// A new token for a key; the old one stops working.
    Rotate {
        /// The key's id.
        key_id: String,
    },
    /// Revoke a key for good.
    Revoke {
        /// The key's id.
        key_id: String,
    },
}

/// `revaer setup …`.
#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Complete setup with the token the daemon printed; prints the first
    /// API key once.
    Complete {
        /// The setup token (`rvs_…`).
        #[arg(long, env = "REVAER_SETUP_TOKEN", hide_env_values = true)]
        token: String,
        /// A label for the first key.
        #[arg(long)]
        label: Option<String>,
    },
}

/// `revaer tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Only events about this torrent (repeatable).
    #[arg(long, value_parser = info_hash_arg)]
    pub torrent: Vec<InfoHash>,
    /// Only events of this type (repeatable).
    #[arg(long = "type", value_parser = event_kind())]
    pub r#type: Vec<String>,
    /// Only state changes into this state (repeatable).
    #[arg(long, value_parser = torrent_state())]
    pub state: Vec<TorrentState>,
    /// Where the last event id is kept (default: the user's state
    /// directory, `revaer/last-event-id`).
    #[arg(long)]
    pub resume_file: Option<PathBuf>,
    /// Start from now, keeping no resume file.
    #[arg(long, conflicts_with = "resume_file")]
    pub no_resume: bool,
}

/// `OLD=NEW` for `action trackers --replace`.
fn replace_arg(value: &str) -> Result<TrackerReplace, String> {
    value
        .split_once('=')
        .filter(|(from, to)| !from.is_empty() && !to.is_empty())
        .map(|(from, to)| TrackerReplace { from: from.to_owned(), to: to.to_owned() })
        .ok_or_else(|| "expected OLD=NEW".to_owned())
}
