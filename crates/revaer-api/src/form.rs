//! `POST /v1/torrents` bodies: JSON, or `multipart/form-data` with the same
//! fields as text parts and the `.torrent` as a `torrent` file part. The
//! form is read as it streams in, every part under a size guard: the file
//! part answers 413 as soon as it passes the configured limit, text parts
//! are small, and the number of parts is bounded.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use revaer_api_models::{AddTorrentRequest, InvalidParam};

use crate::error::ApiError;
use crate::extract::{has_media_type, parse_json};
use crate::state::{ApiLimits, ApiState};

/// Most parts in one form.
const MAX_PARTS: usize = 64;
/// Largest text part (a `selection` JSON with its globs fits).
const MAX_TEXT_PART: usize = 256 * 1024;

/// `POST /v1/torrents` as `multipart/form-data` (for the OpenAPI document;
/// the form is read part by part, see [`AddBody`]).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code, reason = "a schema only: describes the form's parts")]
pub struct AddTorrentForm {
    /// The `.torrent` file (instead of `magnet` or `metainfo`).
    #[schema(value_type = Option<String>, format = Binary)]
    torrent: Option<Vec<u8>>,
    /// A magnet URI.
    magnet: Option<String>,
    /// Absolute folder to download into.
    save_path: Option<String>,
    /// Category.
    category: Option<String>,
    /// Tags: repeat the part, or give a comma list.
    tags: Option<String>,
    /// `true` or `false`.
    paused: Option<bool>,
    /// `true` or `false`.
    sequential: Option<bool>,
    /// `true` or `false`.
    first_last_piece: Option<bool>,
    /// `original`, `subfolder` or `no_subfolder`.
    content_layout: Option<String>,
    /// `true` or `false`.
    skip_checking: Option<bool>,
    /// The selection rules as JSON.
    selection: Option<String>,
    /// Download cap in bytes/s.
    download_bps: Option<u64>,
    /// Upload cap in bytes/s.
    upload_bps: Option<u64>,
    /// The torrent's share limits as JSON.
    share_limits: Option<String>,
}

/// A text part holding JSON, read as `T`; errors point under `at`.
fn json_part<T: serde::de::DeserializeOwned>(value: String, at: &str) -> Result<T, InvalidParam> {
    parse_json(&axum::body::Bytes::from(value)).map_err(|err| match err {
        ApiError::Malformed { detail, pointer } => {
            InvalidParam::new(format!("{at}{}", pointer.unwrap_or_default()), detail)
        }
        other => InvalidParam::new(at, other.to_string()),
    })
}

/// An add request, with the `.torrent` file part when it came as a form.
#[derive(Debug)]
pub struct AddBody {
    /// The fields.
    pub request: AddTorrentRequest,
    /// The `torrent` file part.
    pub file: Option<Vec<u8>>,
}

impl FromRequest<ApiState> for AddBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let is_form = has_media_type(req.headers(), "multipart/form-data");
        if !is_form {
            if !crate::extract::is_json(req.headers()) {
                return Err(ApiError::UnsupportedMediaType {
                    expected: "application/json or multipart/form-data",
                });
            }
            let request = crate::extract::read_json(req, state.limits().json_body).await?;
            return Ok(Self { request, file: None });
        }
        let form = Multipart::from_request(req, state)
            .await
            .map_err(|err| ApiError::Malformed { detail: err.body_text(), pointer: None })?;
        read_form(form, state.limits()).await
    }
}

async fn read_form(mut form: Multipart, limits: ApiLimits) -> Result<AddBody, ApiError> {
    let form_error = |err: MultipartError| {
        if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            // The whole body passed the request limit.
            return ApiError::TooLarge { limit: limits.json_body };
        }
        match crate::extract::unread_body(&err, limits.json_body) {
            ApiError::Malformed { .. } => {
                ApiError::Malformed { detail: err.body_text(), pointer: None }
            }
            other => other,
        }
    };
    let mut request = AddTorrentRequest::default();
    let mut file = None;
    let mut errors = Vec::new();
    let mut parts = 0;
    while let Some(field) = form.next_field().await.map_err(&form_error)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::Validation(vec![InvalidParam::new(
                "",
                format!("a form may have at most {MAX_PARTS} parts"),
            )]));
        }
        let name = field.name().unwrap_or_default().chars().take(64).collect::<String>();
        if name == "torrent" {
            if file.is_some() {
                errors.push(InvalidParam::new("/torrent", "give one torrent file"));
            }
            file = Some(read_part(field, limits.torrent_file, &form_error).await?);
            continue;
        }
        let bytes = read_part(field, MAX_TEXT_PART, &form_error).await?;
        match String::from_utf8(bytes) {
            Ok(value) => {
                if let Err(problem) = set_field(&mut request, &name, value) {
                    errors.push(problem);
                }
            }
            Err(_) => errors.push(InvalidParam::new(pointer(&name), "is not UTF-8 text")),
        }
    }
    if errors.is_empty() {
        Ok(AddBody { request, file })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Reads a part as it streams in; 413 once it passes `limit`.
async fn read_part(
    mut field: Field<'_>,
    limit: usize,
    form_error: &impl Fn(MultipartError) -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(&form_error)? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Sets a field of the request from a text part (the same names as the
/// JSON body; `tags` may repeat and may hold a comma-separated list).
fn set_field(
    request: &mut AddTorrentRequest,
    name: &str,
    value: String,
) -> Result<(), InvalidParam> {
    let flag = |value: &str| match value.trim() {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "off" | "" => Ok(false),
        _ => Err(InvalidParam::new(pointer(name), "must be true or false")),
    };
    let rate = |value: &str| {
        value.trim().parse::<u64>().map(Some).map_err(|_| {
            InvalidParam::new(pointer(name), "must be a whole number of bytes per second")
        })
    };
    match name {
        "magnet" => request.magnet = Some(value),
        "metainfo" => request.metainfo = Some(value),
        "save_path" => request.save_path = Some(value),
        "category" => request.category = Some(value),
        "tags" => request
            .tags
            .extend(value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)),
        "paused" => request.paused = flag(&value)?,
        "sequential" => request.sequential = flag(&value)?,
        "first_last_piece" => request.first_last_piece = flag(&value)?,
        "skip_checking" => request.skip_checking = flag(&value)?,
        "content_layout" => {
            request.content_layout = serde_json::from_value(serde_json::Value::String(value))
                .map_err(|_| {
                    InvalidParam::new(pointer(name), "must be original, subfolder or no_subfolder")
                })?;
        }
        "download_bps" => request.download_bps = rate(&value)?,
        "upload_bps" => request.upload_bps = rate(&value)?,
        "selection" => request.selection = Some(json_part(value, "/selection")?),
        "share_limits" => request.share_limits = Some(json_part(value, "/share_limits")?),
        _ => return Err(InvalidParam::new(pointer(name), "is not a known field")),
    }
    Ok(())
}

fn pointer(name: &str) -> String {
    format!("/{}", name.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts_map_onto_the_json_fields() {
        let mut request = AddTorrentRequest::default();
        for (name, value) in [
            ("magnet", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"),
            ("tags", "a, b"),
            ("tags", "c"),
            ("paused", "true"),
            ("sequential", "0"),
            ("upload_bps", "1000"),
            ("selection", r#"{"include": ["*.mkv"]}"#),
            ("share_limits", r#"{"ratio": 2}"#),
        ] {
            set_field(&mut request, name, value.to_owned()).expect(name);
        }
        assert_eq!(request.tags, ["a", "b", "c"]);
        assert!(request.paused && !request.sequential);
        assert_eq!(request.upload_bps, Some(1000));
        assert_eq!(request.selection.expect("rules").include, ["*.mkv"]);
        let ratio = request.share_limits.expect("limits").ratio;
        assert_eq!(ratio, revaer_domain::Limit::At(revaer_domain::Ratio::new(2.0).expect("ratio")));
        let err = |name: &str, value: &str| {
            let mut request = AddTorrentRequest::default();
            set_field(&mut request, name, value.to_owned()).expect_err(name).pointer
        };
        assert_eq!(err("paused", "maybe"), "/paused");
        assert_eq!(err("download_bps", "-1"), "/download_bps");
        assert_eq!(err("selection", r#"{"include": 3}"#), "/selection/include");
        assert!(err("share_limits", r#"{"ratio": "lots"}"#).starts_with("/share_limits"));
        assert_eq!(err("colour", "red"), "/colour");
        assert_eq!(err("a/b", "x"), "/a~1b");
    }
}
