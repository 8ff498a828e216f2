//! Arguments people type, read into the API's types: rates with units,
//! info-hashes, file priorities, times, `key.path=value` settings. The
//! `*_arg` functions are clap value parsers (a refusal is a usage error,
//! exit code 2).

use chrono::{DateTime, Utc};
use revaer_domain::selection::PriorityOverride;
use revaer_domain::share::{Limit, MAX_TIME_SECS, Ratio};
use revaer_domain::{FilePriority, InfoHash};
use serde_json::{Map, Value};

use crate::error::{CliError, CliResult};

/// A rate cap as typed: `Rate(None)` lifts the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub Option<u64>);

/// `--download 5MiB/s`: a [`rate`] for clap.
pub fn rate_arg(text: &str) -> Result<Rate, String> {
    rate(text).map(Rate).map_err(|err| err.to_string())
}

/// `--ratio 2`: a ratio limit, or `inherit` / `unlimited`.
pub fn ratio_limit_arg(text: &str) -> Result<Limit<Ratio>, String> {
    limit_word(text).map_or_else(
        || {
            let ratio = text.trim().parse::<f64>().ok().and_then(Ratio::new);
            ratio.map(Limit::At).ok_or_else(|| {
                format!("`{text}`: give a ratio from 0 to 9998, `inherit` or `unlimited`")
            })
        },
        Ok,
    )
}

/// `--seeding-time 2h`: a time limit (`90m`, `2h`, `7d`, or seconds), or
/// `inherit` / `unlimited`.
pub fn time_limit_arg(text: &str) -> Result<Limit<u64>, String> {
    if let Some(word) = limit_word(text) {
        return Ok(word);
    }
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let secs = number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale));
    match secs {
        Some(secs) if scale > 0 && secs <= MAX_TIME_SECS => Ok(Limit::At(secs)),
        _ => Err(format!(
            "`{text}`: give a time up to a year (`90m`, `2h`, `7d`, seconds), `inherit` or `unlimited`"
        )),
    }
}

fn limit_word<T>(text: &str) -> Option<Limit<T>> {
    match text.trim() {
        "inherit" => Some(Limit::Inherit),
        "unlimited" | "none" => Some(Limit::Unlimited),
        _ => None,
    }
}

/// An info-hash: 40 hex digits or 32 base32 letters.
pub fn info_hash_arg(text: &str) -> Result<InfoHash, String> {
    InfoHash::parse(text.trim()).map_err(|err| format!("`{text}`: {err}"))
}

/// `INDEX=skip|low|normal|high`: a [`priority`] for clap.
pub fn priority_arg(text: &str) -> Result<PriorityOverride, String> {
    priority(text).map_err(|err| err.to_string())
}

/// An RFC 3339 time (`2026-12-31T23:59:59Z`).
pub fn timestamp_arg(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.to_utc()).map_err(|err| {
        format!("`{text}`: {err} (give an RFC 3339 time such as 2026-12-31T23:59:59Z)")
    })
}

/// A rate: `5MiB/s`, `800k`, `1.5M`, `1000` (bytes/s), or `unlimited`,
/// `none` or `0` (no cap: `None`). Decimal units (`k`, `M`, `G`, `KB`…)
/// are powers of 1000, binary ones (`KiB`, `MiB`, `GiB`) of 1024.
pub fn rate(text: &str) -> CliResult<Option<u64>> {
    let invalid = || {
        CliError::Invalid(format!(
            "`{text}` is not a rate: give bytes per second such as 5MiB/s, 800k or unlimited"
        ))
    };
    let trimmed = text.trim();
    if ["unlimited", "none", "0"].iter().any(|word| trimmed.eq_ignore_ascii_case(word)) {
        return Ok(None);
    }
    let without_per = trimmed.strip_suffix("/s").unwrap_or(trimmed);
    let split =
        without_per.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(without_per.len());
    let (number, unit) = without_per.split_at(split);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(invalid()),
    };
    let bytes = (number * factor).round();
    if !bytes.is_finite() || bytes < 1.0 || bytes > f64::from(i32::MAX) {
        return Err(CliError::Invalid(format!("`{text}`: a cap is 1 B/s to 2 GiB/s")));
    }
    Ok(Some(bytes as u64))
}

/// `INDEX=skip|low|normal|high`.
pub fn priority(text: &str) -> CliResult<PriorityOverride> {
    let invalid =
        || CliError::Invalid(format!("`{text}`: give a priority as INDEX=skip|low|normal|high"));
    let (index, level) = text.split_once('=').ok_or_else(invalid)?;
    let index = index.trim().parse::<u32>().map_err(|_| invalid())?;
    let priority = FilePriority::parse(level.trim()).ok_or_else(invalid)?;
    Ok(PriorityOverride { index, priority })
}

/// `engine_profile.dht=false` pairs into a changeset: each value is read as
/// JSON when it is JSON (`false`, `5`, `["a"]`, `null`), as text otherwise.
pub fn changeset(pairs: &[String]) -> CliResult<Map<String, Value>> {
    let mut root = Map::new();
    for pair in pairs {
        let (path, raw) = pair.split_once('=').ok_or_else(|| {
            CliError::Invalid(format!("`{pair}`: give settings as key.path=value"))
        })?;
        let keys: Vec<&str> = path.split('.').map(str::trim).collect();
        if keys.iter().any(|k| k.is_empty()) || keys.len() < 2 {
            return Err(CliError::Invalid(format!(
                "`{path}`: name a document and a field, such as engine_profile.dht"
            )));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        insert(&mut root, &keys, value).map_err(|()| {
            CliError::Invalid(format!("`{path}` is set twice, or inside another value"))
        })?;
    }
    Ok(root)
}

fn insert(map: &mut Map<String, Value>, keys: &[&str], value: Value) -> Result<(), ()> {
    match keys {
        [] => Err(()),
        [last] => match map.insert((*last).to_owned(), value) {
            None => Ok(()),
            Some(_) => Err(()),
        },
        [first, rest @ ..] => {
            let child = map.entry((*first).to_owned()).or_insert_with(|| Value::Object(Map::new()));
            match child {
                Value::Object(child) => insert(child, rest, value),
                _ => Err(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_take_units() {
        assert_eq!(rate("5MiB/s").expect("ok"), Some(5 * 1024 * 1024));
        assert_eq!(rate("800k").expect("ok"), Some(800_000));
        assert_eq!(rate("1.5M").expect("ok"), Some(1_500_000));
        assert_eq!(rate("1000").expect("ok"), Some(1000));
        assert_eq!(rate("unlimited").expect("ok"), None);
        assert_eq!(rate("0").expect("ok"), None);
        for bad in ["fast", "5 parsecs", "-1", "3GiB/s", ""] {
            assert!(rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clap_parsers_say_what_is_wrong() {
        assert_eq!(rate_arg("1k"), Ok(Rate(Some(1000))));
        assert_eq!(rate_arg("unlimited"), Ok(Rate(None)));
        assert!(rate_arg("warp 9").is_err_and(|e| e.contains("warp 9")));
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(info_hash_arg(id).map(|h| h.to_hex()).as_deref(), Ok(id));
        assert!(info_hash_arg("nothex").is_err_and(|e| e.contains("nothex")));
        assert!(priority_arg("1=high").is_ok() && priority_arg("high").is_err());
        assert!(timestamp_arg("2026-12-31T23:59:59Z").is_ok());
        assert!(timestamp_arg("tomorrow").is_err_and(|e| e.contains("RFC 3339")));
    }

    #[test]
    fn priorities_and_pairs_parse() {
        let p = priority("3=high").expect("ok");
        assert_eq!((p.index, p.priority), (3, FilePriority::High));
        assert!(
            priority("x=high").is_err() && priority("3=urgent").is_err() && priority("3").is_err()
        );
        let set = changeset(&[
            "engine_profile.dht=false".into(),
            "engine_profile.download_root=/srv/dl".into(),
            "fs_policy.cleanup_drop=[\"*.nfo\"]".into(),
        ])
        .expect("ok");
        assert_eq!(
            Value::Object(set),
            serde_json::json!({
                "engine_profile": {"dht": false, "download_root": "/srv/dl"},
                "fs_policy": {"cleanup_drop": ["*.nfo"]}
            })
        );
        assert!(changeset(&["dht=false".into()]).is_err(), "a document is needed");
        assert!(changeset(&["a.b=1".into(), "a.b=2".into()]).is_err(), "twice");
        assert!(changeset(&["novalue".into()]).is_err());
    }
}
