//! Torrent requests: add, act on, select files. Each validates itself into
//! every problem with its JSON Pointer, before anything reaches the engine.

use chrono::{DateTime, Utc};
use data_encoding::BASE64;
use revaer_domain::fsops::StepRecord;
use revaer_domain::torrent::LabelError;
use revaer_domain::{
    ContentLayout, FileEntry, MagnetUri, PeerEntry, SelectionRules, ShareLimits, TorrentDetail,
    TorrentLabels, TrackerEdit, TrackerReplace, TrackerSpec,
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::problem::InvalidParam;

/// Largest `.torrent` accepted, in bytes (base64 in JSON, or a file part).
pub const MAX_METAINFO_BYTES: usize = 16 * 1024 * 1024;
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_original(layout: &ContentLayout) -> bool {
    *layout == ContentLayout::Original
}

/// Longest `save_path`, in bytes.
const MAX_PATH: usize = 4096;

/// `POST /v1/torrents` as JSON (a multipart form carries the same fields and
/// a `torrent` file part instead of `metainfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools, reason = "the request's JSON flags, each independent")]
pub struct AddTorrentRequest {
    /// A magnet URI (exactly one of `magnet` and `metainfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnet: Option<String>,
    /// A `.torrent` file, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metainfo: Option<String>,
    /// Absolute folder to download into (default: the category's, else the
    /// engine's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_path: Option<String>,
    /// Category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Add without starting.
    #[serde(default)]
    pub paused: bool,
    /// Fetch pieces in order.
    #[serde(default)]
    pub sequential: bool,
    /// Fetch the first and last pieces of each file first (a preview).
    #[serde(default)]
    pub first_last_piece: bool,
    /// Where the files go under the save path (default `original`).
    #[serde(default, skip_serializing_if = "is_original")]
    pub content_layout: ContentLayout,
    /// Trust the files already in the save path: seed without checking
    /// them first (each piece is checked when first sent). Only for a
    /// `.torrent`: a magnet has no files to trust yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_checking: bool,
    /// Which files to download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionRules>,
    /// Download cap in bytes/s (absent or 0: none; at most 2 147 483 647).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 2_147_483_647))]
    pub download_bps: Option<u64>,
    /// Upload cap in bytes/s (absent or 0: none; at most 2 147 483 647).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 2_147_483_647))]
    pub upload_bps: Option<u64>,
    /// The torrent's own share limits (absent: every limit inherited from
    /// its category, then the global ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_limits: Option<ShareLimits>,
}

/// Where a torrent comes from, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A magnet.
    Magnet(MagnetUri),
    /// `.torrent` bytes.
    Metainfo(Vec<u8>),
}

/// A validated add request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAdd {
    /// The source.
    pub source: Source,
    /// Labels.
    pub labels: TorrentLabels,
}

impl AddTorrentRequest {
    /// Checks every field; every problem is reported with its pointer.
    pub fn validate(&self) -> Result<ValidAdd, Vec<InvalidParam>> {
        self.validate_with_file(None)
    }

    /// Checks every field of a multipart form whose `torrent` file part
    /// (if any) is `file`: exactly one of `magnet`, `metainfo` and the file
    /// part gives the torrent.
    pub fn validate_with_file(&self, file: Option<Vec<u8>>) -> Result<ValidAdd, Vec<InvalidParam>> {
        let mut errors = Vec::new();
        let given = [self.magnet.is_some(), self.metainfo.is_some(), file.is_some()];
        let source = match (&self.magnet, &self.metainfo, file) {
            _ if given.iter().filter(|g| **g).count() > 1 => {
                let pointer = if self.metainfo.is_some() { "/metainfo" } else { "/torrent" };
                errors.push(InvalidParam::new(
                    pointer,
                    "give one of magnet, metainfo or a torrent file, not several",
                ));
                None
            }
            (None, None, None) => {
                errors.push(InvalidParam::new("/magnet", "give a magnet URI or a base64 metainfo"));
                None
            }
            (Some(magnet), _, _) => match MagnetUri::parse(magnet) {
                Ok(uri) => Some(Source::Magnet(uri)),
                Err(err) => {
                    errors.push(InvalidParam::new("/magnet", err.to_string()));
                    None
                }
            },
            (None, Some(encoded), _) => match decode_metainfo(encoded) {
                Ok(bytes) => Some(Source::Metainfo(bytes)),
                Err(message) => {
                    errors.push(InvalidParam::new("/metainfo", message));
                    None
                }
            },
            (None, None, Some(bytes)) => {
                if bytes.is_empty() {
                    errors.push(InvalidParam::new("/torrent", "is empty"));
                    None
                } else {
                    Some(Source::Metainfo(bytes))
                }
            }
        };
        errors.extend(check_save_path(self.save_path.as_deref(), "/save_path"));
        errors.extend(check_caps(&[
            ("/download_bps", self.download_bps),
            ("/upload_bps", self.upload_bps),
        ]));
        if let Some(limits) = &self.share_limits {
            errors.extend(share_problems(limits, "/share_limits"));
        }
        let labels = TorrentLabels { category: self.category.clone(), tags: self.tags.clone() };
        if let Err(err) = labels.validate() {
            errors.push(label_problem(&err));
        }
        if let Some(selection) = &self.selection
            && let Err(err) = selection.compile()
        {
            errors.push(InvalidParam::new(format!("/selection{}", err.pointer()), err.to_string()));
        }
        match source {
            Some(source) if errors.is_empty() => Ok(ValidAdd { source, labels }),
            _ => Err(errors),
        }
    }
}

/// Caps over the most libtorrent keeps (`i32::MAX` bytes/s).
pub(crate) fn check_caps(caps: &[(&str, Option<u64>)]) -> Vec<InvalidParam> {
    caps.iter()
        .filter(|(_, cap)| cap.is_some_and(|bps| bps > crate::transfer::MAX_CAP_BPS))
        .map(|(pointer, _)| {
            InvalidParam::new(*pointer, format!("at most {} bytes/s", crate::transfer::MAX_CAP_BPS))
        })
        .collect()
}

fn decode_metainfo(encoded: &str) -> Result<Vec<u8>, String> {
    // base64 grows by 4/3: refuse before decoding anything too large.
    if encoded.len() > MAX_METAINFO_BYTES / 3 * 4 + 4 {
        return Err(format!("a .torrent may be at most {MAX_METAINFO_BYTES} bytes"));
    }
    let bytes =
        BASE64.decode(encoded.trim().as_bytes()).map_err(|_| "is not valid base64".to_owned())?;
    if bytes.is_empty() {
        return Err("is empty".to_owned());
    }
    Ok(bytes)
}

/// A problem with a save path, if it has one.
pub fn check_save_path(path: Option<&str>, pointer: &str) -> Option<InvalidParam> {
    let path = path?;
    let ok = path.starts_with('/')
        && path.len() <= MAX_PATH
        && !path.contains('\0')
        && !path.split('/').any(|part| part == "..");
    (!ok).then(|| {
        InvalidParam::new(
            pointer,
            format!("must be an absolute path of at most {MAX_PATH} bytes without .."),
        )
    })
}

fn label_problem(err: &LabelError) -> InvalidParam {
    let pointer = match err {
        LabelError::Category => "/category".to_owned(),
        LabelError::Tag { index } => format!("/tags/{index}"),
        _ => "/tags".to_owned(),
    };
    InvalidParam::new(pointer, err.to_string())
}

/// Share limits out of bounds, as invalid parameters under `base`.
fn share_problems(limits: &ShareLimits, base: &str) -> Vec<InvalidParam> {
    limits.validate(base).into_iter().map(|v| InvalidParam::new(v.pointer, v.message)).collect()
}

/// `POST /v1/torrents/{id}/action`. (Variants without fields are empty
/// structs so that unknown fields are refused for them too.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::option_option, reason = "an absent cap and a null cap mean different things")]
pub enum TorrentAction {
    /// Stop transferring.
    Pause {},
    /// Start again.
    Resume {},
    /// Remove the torrent (and its files, with `delete_data`).
    Remove {
        /// Delete the downloaded files too.
        #[serde(default)]
        delete_data: bool,
    },
    /// Announce to the trackers now.
    Reannounce {},
    /// Verify the data on disk.
    Recheck {},
    /// Fetch pieces in order, or not.
    Sequential {
        /// On or off.
        enable: bool,
    },
    /// Per-torrent caps, bytes/s: absent leaves a cap as it is, `null` (or
    /// 0) lifts it.
    Rate {
        /// Download cap (at most 2 147 483 647).
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, maximum = 2_147_483_647))]
        download_bps: Option<Option<u64>>,
        /// Upload cap (at most 2 147 483 647).
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, maximum = 2_147_483_647))]
        upload_bps: Option<Option<u64>>,
    },
    /// Move the files to another folder.
    Move {
        /// Absolute folder.
        save_path: String,
    },
    /// Move the torrent in the download queue.
    Queue {
        /// Where: `top`, `bottom`, `up` (one place) or `down`.
        to: QueueTo,
    },
    /// Run the torrent outside the queue (`enable`), or give it back.
    ForceStart {
        /// On or off.
        enable: bool,
    },
    /// Connect to peers (as a tracker would hand them out).
    AddPeers {
        /// `ip:port` (IPv6 as `[ip]:port`), at most 100.
        #[cfg_attr(feature = "openapi", schema(max_items = 100, min_items = 1))]
        peers: Vec<String>,
    },
    /// Edit the trackers, as one change: replacements first, then
    /// removals, then additions. A removal or replacement of a URL that is
    /// not there, or a replacement by one that is, is refused (409).
    Trackers {
        /// Trackers to add (a URL already there is not added twice).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 256))]
        add: Vec<TrackerSpec>,
        /// URLs to remove.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 256))]
        remove: Vec<String>,
        /// URLs to replace, each keeping its tier.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 256))]
        replace: Vec<TrackerReplace>,
    },
    /// Fetch the first and last pieces of each file first, or not.
    FirstLastPiece {
        /// On or off.
        enable: bool,
    },
    /// Replace the torrent's own share limits.
    ShareLimits {
        /// The limits (each `inherit`, `unlimited` or a value).
        limits: ShareLimits,
    },
}

/// Most peers one `add_peers` action names.
pub const MAX_PEERS: usize = 100;

/// A move in the download queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QueueTo {
    /// To the front.
    Top,
    /// To the back.
    Bottom,
    /// One place towards the front.
    Up,
    /// One place towards the back.
    Down,
}

/// `Some(value)` for a field that is present, even as `null`.
#[allow(clippy::option_option, reason = "an absent cap and a null cap mean different things")]
pub(crate) fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(deserializer).map(Some)
}

impl TorrentAction {
    /// Checks the action's fields.
    pub fn validate(&self) -> Result<(), Vec<InvalidParam>> {
        match self {
            Self::Move { save_path } => {
                check_save_path(Some(save_path), "/save_path").map_or(Ok(()), |p| Err(vec![p]))
            }
            Self::Rate { download_bps: None, upload_bps: None } => Err(vec![InvalidParam::new(
                "/download_bps",
                "give download_bps, upload_bps or both",
            )]),
            Self::Rate { download_bps, upload_bps } => {
                let errors = check_caps(&[
                    ("/download_bps", download_bps.flatten()),
                    ("/upload_bps", upload_bps.flatten()),
                ]);
                if errors.is_empty() { Ok(()) } else { Err(errors) }
            }
            Self::AddPeers { peers } => {
                let mut errors: Vec<InvalidParam> = peers
                    .iter()
                    .enumerate()
                    .filter(|(_, peer)| peer.parse::<std::net::SocketAddr>().is_err())
                    .map(|(at, _)| InvalidParam::new(format!("/peers/{at}"), "not an ip:port"))
                    .collect();
                if peers.is_empty() || peers.len() > MAX_PEERS {
                    errors.push(InvalidParam::new("/peers", format!("1 to {MAX_PEERS} peers")));
                }
                if errors.is_empty() { Ok(()) } else { Err(errors) }
            }
            Self::Trackers { add, remove, replace } => {
                let edit = TrackerEdit {
                    add: add.clone(),
                    remove: remove.clone(),
                    replace: replace.clone(),
                };
                let errors: Vec<InvalidParam> = edit
                    .problems("")
                    .into_iter()
                    .map(|(pointer, reason)| InvalidParam::new(pointer, reason))
                    .collect();
                if errors.is_empty() { Ok(()) } else { Err(errors) }
            }
            Self::ShareLimits { limits } => {
                let errors = share_problems(limits, "/limits");
                if errors.is_empty() { Ok(()) } else { Err(errors) }
            }
            _ => Ok(()),
        }
    }
}

/// `POST /v1/torrents/{id}/select`: the selection rules themselves.
pub type SelectRequest = SelectionRules;

/// `GET /v1/torrents/{id}`: the engine's detail view and the torrent's
/// latest post-processing job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentView {
    /// Every engine field, the files and the trackers.
    #[serde(flatten)]
    pub detail: TorrentDetail,
    /// The latest FsOps job (`null` before the torrent completes).
    pub fsops: Option<FsopsStatus>,
}

/// A torrent's latest FsOps job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsStatus {
    /// The job's id.
    pub job: i64,
    /// `pending`, `running`, `done`, `failed` or `skipped`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The library folder it delivers into, once chosen.
    pub destination: Option<String>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When a retry is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The journal's steps, in the order they ran.
    pub steps: Vec<StepRecord>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/torrents/{id}/peers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerList {
    /// The connected peers (handshakes in progress are left out).
    pub peers: Vec<PeerEntry>,
}

/// `POST /v1/torrents/{id}/select`: the files with their new priorities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelectResult {
    /// Every file.
    pub files: Vec<FileEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGNET: &str = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x";

    #[test]
    fn add_requests_report_every_problem_with_its_pointer() {
        let ok = AddTorrentRequest {
            magnet: Some(MAGNET.into()),
            tags: vec!["hd".into()],
            ..Default::default()
        };
        assert!(matches!(ok.validate().expect("valid").source, Source::Magnet(_)));
        let bad = AddTorrentRequest {
            magnet: Some("magnet:?xt=urn:btih:zz".into()),
            save_path: Some("relative/../x".into()),
            tags: vec![String::new()],
            selection: Some(SelectionRules { include: vec!["[".into()], ..Default::default() }),
            ..Default::default()
        };
        let pointers: Vec<String> =
            bad.validate().expect_err("invalid").into_iter().map(|e| e.pointer).collect();
        assert_eq!(pointers, ["/magnet", "/save_path", "/tags/0", "/selection/include/0"]);
        let both = AddTorrentRequest {
            magnet: Some(MAGNET.into()),
            metainfo: Some("AA==".into()),
            ..Default::default()
        };
        assert_eq!(both.validate().expect_err("both")[0].pointer, "/metainfo");
        let neither = AddTorrentRequest::default();
        assert_eq!(neither.validate().expect_err("neither")[0].pointer, "/magnet");
        let garbage =
            AddTorrentRequest { metainfo: Some("not base64!".into()), ..Default::default() };
        assert_eq!(garbage.validate().expect_err("garbage")[0].pointer, "/metainfo");
        // A form's file part is the third way, and excludes the other two.
        let form = AddTorrentRequest::default();
        let valid = form.validate_with_file(Some(b"d4:infode".to_vec())).expect("file");
        assert_eq!(valid.source, Source::Metainfo(b"d4:infode".to_vec()));
        assert_eq!(
            form.validate_with_file(Some(Vec::new())).expect_err("empty")[0].pointer,
            "/torrent"
        );
        let magnet_and_file =
            AddTorrentRequest { magnet: Some(MAGNET.into()), ..Default::default() };
        let err = magnet_and_file.validate_with_file(Some(b"x".to_vec())).expect_err("two");
        assert_eq!(err[0].pointer, "/torrent");
        let unknown = serde_json::from_str::<AddTorrentRequest>(r#"{"magnet": "x", "colour": 1}"#);
        assert!(unknown.is_err(), "unknown fields are refused");
    }

    #[test]
    fn actions_parse_by_type_and_rates_tell_absent_from_null() {
        let rate: TorrentAction =
            serde_json::from_str(r#"{"type":"rate","download_bps":null}"#).expect("rate");
        assert_eq!(rate, TorrentAction::Rate { download_bps: Some(None), upload_bps: None });
        assert!(rate.validate().is_ok());
        let empty: TorrentAction = serde_json::from_str(r#"{"type":"rate"}"#).expect("rate");
        assert!(empty.validate().is_err());
        let remove: TorrentAction = serde_json::from_str(r#"{"type":"remove"}"#).expect("remove");
        assert_eq!(remove, TorrentAction::Remove { delete_data: false });
        let moved = TorrentAction::Move { save_path: "x".into() };
        assert_eq!(moved.validate().expect_err("relative")[0].pointer, "/save_path");
        assert!(serde_json::from_str::<TorrentAction>(r#"{"type":"explode"}"#).is_err());
        assert!(serde_json::from_str::<TorrentAction>(r#"{"type":"pause","x":1}"#).is_err());
        let none: TorrentAction = serde_json::from_str(r#"{"type":"trackers"}"#).expect("parse");
        assert_eq!(none.validate().expect_err("empty")[0].pointer, "/add");
        let bad: TorrentAction = serde_json::from_str(
            r#"{"type":"trackers","add":[{"url":"http://t/a"},{"url":"ftp://t"}],
                "replace":[{"from":"http://t/a","to":"http://t /b"}]}"#,
        )
        .expect("parse");
        let pointers: Vec<String> =
            bad.validate().expect_err("bad").into_iter().map(|e| e.pointer).collect();
        assert_eq!(pointers, ["/add/1/url", "/replace/0/to"]);
    }
}
