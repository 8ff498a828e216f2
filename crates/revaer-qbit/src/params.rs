//! Parameters as qBittorrent reads them: a `GET` (or `HEAD`) from its
//! query, a `POST` from its form body (never both). Unknown parameters are
//! ignored; a value that does not parse falls back to the default.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode};
use revaer_domain::InfoHash;

use crate::reply::{Failure, Text};
use crate::state::QbitState;

/// Largest form body read, in bytes.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;
/// Most parameters kept from one request.
const MAX_PARAMS: usize = 256;

/// A request's parameters (the first value of each name).
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parameters from a `application/x-www-form-urlencoded` string.
    pub fn parse(text: &[u8]) -> Self {
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(text).take(MAX_PARAMS) {
            map.entry(name.into_owned()).or_insert_with(|| value.into_owned());
        }
        Self(map)
    }

    /// Adds `name` unless already given.
    pub fn insert(&mut self, name: String, value: String) {
        if self.0.len() < MAX_PARAMS {
            self.0.entry(name).or_insert(value);
        }
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `name` as a flag: `true`/`false` in any case; anything else (or
    /// nothing) is `None`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)?.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// `name` as an integer, if it is one.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name)?.trim().parse().ok()
    }

    /// The torrents `name` (usually `hashes`) names: `all`, or hashes
    /// separated by `|`. Unparsable entries are skipped, as qBittorrent
    /// skips unknown ones.
    pub fn hashes(&self, name: &str) -> Hashes {
        match self.get(name).map(str::trim) {
            Some("all") => Hashes::All,
            Some(text) => Hashes::Some(
                text.split('|').filter_map(|hash| InfoHash::parse(hash.trim()).ok()).collect(),
            ),
            None => Hashes::Some(Vec::new()),
        }
    }

    /// The one torrent `hash` names, or `404` as qBittorrent answers an
    /// unknown or malformed hash.
    pub fn hash(&self) -> Result<InfoHash, Failure> {
        self.get("hash")
            .and_then(|hash| InfoHash::parse(hash.trim()).ok())
            .ok_or_else(|| Text::status(StatusCode::NOT_FOUND))
    }
}

/// The torrents a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hashes {
    /// Every torrent.
    All,
    /// These.
    Some(Vec<InfoHash>),
}

impl FromRequest<QbitState> for Params {
    type Rejection = Failure;

    async fn from_request(req: Request, _: &QbitState) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            return Ok(Self::parse(req.uri().query().unwrap_or_default().as_bytes()));
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| Text::status(StatusCode::PAYLOAD_TOO_LARGE))?;
        Ok(Self::parse(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_leniently() {
        let hash = "0123456789abcdef0123456789abcdef01234567";
        let params = Params::parse(
            format!("hashes={hash}%7Cnothex&stopped=TRUE&x=undefined&limit=5&limit=9").as_bytes(),
        );
        assert_eq!(params.flag("stopped"), Some(true));
        assert_eq!(params.flag("x"), None, "junk is not a flag");
        assert_eq!(params.int("limit"), Some(5), "the first value counts");
        let Hashes::Some(ids) = params.hashes("hashes") else { panic!("some") };
        assert_eq!(ids.len(), 1, "the unparsable entry is skipped");
        assert_eq!(Params::parse(b"hashes=all").hashes("hashes"), Hashes::All);
        assert!(Params::parse(b"").hash().is_err());
    }
}
