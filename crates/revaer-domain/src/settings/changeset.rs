//! Changesets: partial updates of the settings documents, validated as one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{DOCUMENTS, Settings};

/// Largest changeset accepted, in bytes of JSON.
pub const MAX_CHANGESET_BYTES: usize = 256 * 1024;

/// A change to one or more settings documents: a JSON object keyed by
/// document name, each value a patch of that document. Objects merge
/// recursively; any other value, `null` included, replaces the field (so
/// `"download_limit_bps": null` means unlimited). This differs from JSON
/// Merge Patch (RFC 7396), where `null` deletes and so would reset an
/// optional field to its default instead of clearing it; the one place a
/// `null` deletes is a category: `{"categories": {"tv": null}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Changeset(pub Map<String, Value>);

/// One broken rule: where (a JSON Pointer into the changeset, which is also
/// a pointer into the settings) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) of the offending value.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a changeset was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangesetError {
    /// One or more rules are broken; every violation is listed.
    #[error("the changeset breaks {} rule(s), first at {}", violations.len(), violations.first().map_or("", |v| v.pointer.as_str()))]
    Invalid {
        /// Every violation, in document order.
        violations: Vec<Violation>,
    },
}

/// The outcome of applying a changeset.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The settings after the change.
    pub settings: Settings,
    /// The documents whose content changed.
    pub changed: Vec<&'static str>,
}

impl Changeset {
    /// Parses a changeset from JSON text, bounded in size.
    pub fn parse(text: &str) -> Result<Self, ChangesetError> {
        let refuse = |pointer: &str, message: String| ChangesetError::Invalid {
            violations: vec![Violation { pointer: pointer.to_owned(), message }],
        };
        if text.len() > MAX_CHANGESET_BYTES {
            return Err(refuse("", format!("a changeset is at most {MAX_CHANGESET_BYTES} bytes")));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(refuse("", "a changeset is a JSON object keyed by document".to_owned())),
            Err(err) => Err(refuse("", format!("not JSON: {err}"))),
        }
    }
}

/// Merges `patch` into `target`: objects recursively, other values replace.
/// With `null_deletes` (the categories map), a top-level `null` removes the
/// entry.
fn merge(target: &mut Value, patch: &Value, null_deletes: bool) {
    let (Value::Object(target), Value::Object(patch)) = (&mut *target, patch) else {
        *target = patch.clone();
        return;
    };
    for (key, value) in patch {
        match (value, target.get_mut(key)) {
            (Value::Null, _) if null_deletes => {
                target.remove(key);
            }
            (Value::Object(_), Some(existing)) if existing.is_object() => {
                merge(existing, value, false);
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Flags fields of `patch` that decoding dropped: the strict half of
/// lenient reading (stored documents ignore unknown fields; changesets must
/// not contain any).
fn unknown_fields(patch: &Value, decoded: &Value, pointer: &str, out: &mut Vec<Violation>) {
    let (Value::Object(patch), Value::Object(decoded)) = (patch, decoded) else { return };
    for (key, value) in patch {
        let here = format!("{pointer}/{}", super::categories::escape_pointer(key));
        match decoded.get(key) {
            None if !value.is_null() => {
                out.push(Violation { pointer: here, message: "unknown field".to_owned() });
            }
            None => {}
            Some(inner) => unknown_fields(value, inner, &here, out),
        }
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(super::categories::escape_pointer(key)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .fold(String::new(), |acc, token| format!("{acc}/{token}"))
}

/// Deserialises one document, reporting the pointer of a bad value.
fn decode<T: for<'de> Deserialize<'de>>(doc: &str, value: Value) -> Result<T, Violation> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let pointer = format!("/{doc}{}", pointer_of(err.path()));
        Violation { pointer, message: err.into_inner().to_string() }
    })
}

impl Settings {
    /// Applies `changeset` to these settings. Every document it touches is
    /// merge-patched and decoded, every document is validated, and the
    /// immutable keys (from these settings, before the change) are
    /// enforced; all violations are reported together.
    pub fn apply(&self, changeset: &Changeset) -> Result<Applied, ChangesetError> {
        let mut violations = Vec::new();
        let mut next = serde_json::to_value(self).unwrap_or(Value::Null);
        for (doc, patch) in &changeset.0 {
            if !DOCUMENTS.contains(&doc.as_str()) {
                violations.push(Violation {
                    pointer: format!("/{}", super::categories::escape_pointer(doc)),
                    message: format!("unknown document; use one of {}", DOCUMENTS.join(", ")),
                });
            } else if !patch.is_object() {
                violations.push(Violation {
                    pointer: format!("/{doc}"),
                    message: "a document patch is a JSON object".to_owned(),
                });
            } else if let Some(target) = next.get_mut(doc) {
                merge(target, patch, doc == "categories");
            }
        }
        let mut settings = self.clone();
        for doc in DOCUMENTS {
            let Some(value) = next.get(doc).cloned() else { continue };
            let decoded = match doc {
                "app_profile" => decode(doc, value).map(|v| settings.app_profile = v),
                "engine_profile" => decode(doc, value).map(|v| settings.engine_profile = v),
                "fs_policy" => decode(doc, value).map(|v| settings.fs_policy = v),
                _ => decode(doc, value).map(|v| settings.categories = v),
            };
            match decoded {
                Err(violation) => violations.push(violation),
                Ok(()) => {
                    if let (Some(patch), Some(decoded)) =
                        (changeset.0.get(doc), settings.document(doc))
                    {
                        unknown_fields(patch, &decoded, &format!("/{doc}"), &mut violations);
                    }
                }
            }
        }
        if violations.is_empty() {
            violations.extend(settings.validate());
        }
        violations.extend(self.immutable_violations(&settings));
        if !violations.is_empty() {
            return Err(ChangesetError::Invalid { violations });
        }
        let changed = DOCUMENTS
            .into_iter()
            .filter(|doc| self.document(doc) != settings.document(doc))
            .collect();
        Ok(Applied { settings, changed })
    }

    /// These settings with no immutable keys: the operator's way back from
    /// the host (`revaerd unlock-settings`), never offered over the API.
    pub fn lift_immutable_keys(&self) -> Applied {
        let mut settings = self.clone();
        settings.app_profile.immutable_keys.clear();
        let changed = if self.app_profile.immutable_keys.is_empty() {
            Vec::new()
        } else {
            vec!["app_profile"]
        };
        Applied { settings, changed }
    }

    /// Immutable keys (as listed before the change) keep their values, and
    /// the list keeps every entry.
    fn immutable_violations(&self, next: &Self) -> Vec<Violation> {
        let (before, after) = (serde_json::to_value(self).ok(), serde_json::to_value(next).ok());
        let (Some(before), Some(after)) = (before, after) else { return Vec::new() };
        let mut violations = Vec::new();
        let keys = &self.app_profile.immutable_keys;
        if keys.iter().any(|key| !next.app_profile.immutable_keys.contains(key)) {
            violations.push(Violation {
                pointer: "/app_profile/immutable_keys".to_owned(),
                message: "immutable keys can be added, never removed".to_owned(),
            });
        }
        for key in keys {
            if before.pointer(key) != after.pointer(key) {
                violations
                    .push(Violation { pointer: key.clone(), message: "is immutable".to_owned() });
            }
        }
        // A new key must name something that exists (a typo would protect
        // nothing, and the list can never shrink).
        for (index, key) in next.app_profile.immutable_keys.iter().enumerate() {
            if !keys.contains(key) && after.pointer(key).is_none() {
                violations.push(Violation {
                    pointer: format!("/app_profile/immutable_keys/{index}"),
                    message: format!("{key} does not point at an existing setting"),
                });
            }
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changeset(value: Value) -> Changeset {
        match value {
            Value::Object(map) => Changeset(map),
            _ => panic!("not an object"),
        }
    }

    fn pointers(err: ChangesetError) -> Vec<String> {
        let ChangesetError::Invalid { violations } = err;
        violations.into_iter().map(|v| v.pointer).collect()
    }

    #[test]
    fn merge_patch_changes_only_named_fields() {
        let applied = Settings::default()
            .apply(&changeset(json!({
                "engine_profile": {"dht": false, "active_downloads": null},
                "categories": {"tv": {"library_path": "TV/{name}"}}
            })))
            .expect("valid");
        assert!(!applied.settings.engine_profile.dht);
        assert_eq!(applied.settings.engine_profile.active_downloads, None);
        assert!(applied.settings.engine_profile.pex, "untouched fields keep their values");
        assert_eq!(applied.settings.categories.0["tv"].library_path, "TV/{name}");
        assert_eq!(applied.changed, ["engine_profile", "categories"]);
        let removed =
            applied.settings.apply(&changeset(json!({"categories": {"tv": null}}))).expect("ok");
        assert!(removed.settings.categories.0.is_empty());
    }

    #[test]
    fn every_violation_is_reported_with_its_pointer() {
        let err = Settings::default()
            .apply(&changeset(json!({
                "app_profile": {"http_port": "eighty"},
                "engine_profile": {"connections_limit": 0, "bogus": 1},
                "fs_policy": {"transfer_mode": "teleport"},
                "extra": {}
            })))
            .expect_err("invalid");
        assert_eq!(
            pointers(err),
            [
                "/extra",
                "/app_profile/http_port",
                "/engine_profile/bogus",
                "/fs_policy/transfer_mode"
            ]
        );
        // Once the documents decode, rule violations are all reported too.
        let err = Settings::default()
            .apply(&changeset(json!({
                "engine_profile": {"connections_limit": 0, "download_root": ""},
                "fs_policy": {"umask": "9"}
            })))
            .expect_err("invalid");
        assert_eq!(
            pointers(err),
            [
                "/engine_profile/connections_limit",
                "/engine_profile/download_root",
                "/fs_policy/umask"
            ]
        );
    }

    #[test]
    fn immutable_keys_are_lifted_only_by_the_host_side_helper() {
        let frozen: Settings = Settings::default()
            .apply(&changeset(
                json!({"app_profile": {"immutable_keys": ["/app_profile", "/fs_policy"]}}),
            ))
            .expect("valid")
            .settings;
        // Over the API the list can only grow.
        let refused = frozen.apply(&changeset(json!({"app_profile": {"immutable_keys": []}})));
        assert!(refused.is_err());
        let lifted = frozen.lift_immutable_keys();
        assert_eq!(lifted.changed, vec!["app_profile"]);
        assert!(lifted.settings.app_profile.immutable_keys.is_empty());
        assert_eq!(lifted.settings.fs_policy, frozen.fs_policy, "nothing else changes");
        let changed = lifted.settings.apply(&changeset(json!({"fs_policy": {"flatten": false}})));
        assert!(changed.is_ok(), "{changed:?}");
        assert!(lifted.settings.lift_immutable_keys().changed.is_empty(), "idempotent");
    }

    #[test]
    fn immutable_keys_hold_even_when_unlocked_in_the_same_changeset() {
        let locked = Settings::default()
            .apply(&changeset(
                json!({"app_profile": {"immutable_keys": ["/engine_profile/listen_port"]}}),
            ))
            .expect("lock")
            .settings;
        let err = locked
            .apply(&changeset(json!({"engine_profile": {"listen_port": 7000}})))
            .expect_err("immutable");
        assert_eq!(pointers(err), ["/engine_profile/listen_port"]);
        let typo = locked
            .apply(&changeset(json!({
                "app_profile": {"immutable_keys": ["/engine_profile/listen_port", "/engine_profile/lisen"]}
            })))
            .expect_err("typo");
        assert_eq!(pointers(typo), ["/app_profile/immutable_keys/1"]);
        let err = locked
            .apply(&changeset(json!({
                "app_profile": {"immutable_keys": []},
                "engine_profile": {"listen_port": 7000}
            })))
            .expect_err("unlock and change");
        assert_eq!(pointers(err), ["/app_profile/immutable_keys", "/engine_profile/listen_port"]);
        let err = locked
            .apply(&changeset(json!({"engine_profile": {"listen_port": null}})))
            .expect_err("null is not a port");
        assert_eq!(pointers(err), ["/engine_profile/listen_port"]);
        let same = locked.apply(&changeset(json!({"engine_profile": {"listen_port": 6881}})));
        assert_eq!(same.map(|applied| applied.changed), Ok(vec![]), "an unchanged value is fine");
        let whole = locked.apply(&changeset(json!({"engine_profile": {"dht": false}})));
        assert!(whole.is_ok(), "other fields stay changeable");
    }

    #[test]
    fn stored_documents_are_read_leniently_but_changesets_are_strict() {
        let stored =
            json!({"engine_profile": {"dht": false, "from_a_newer_version": 1}, "future_doc": {}});
        let settings: Settings = serde_json::from_value(stored).expect("lenient read");
        assert!(!settings.engine_profile.dht);
        let err = settings
            .apply(&changeset(
                json!({"categories": {"tv": {"library_path": "TV", "colour": "red"}}}),
            ))
            .expect_err("strict changeset");
        assert_eq!(pointers(err), ["/categories/tv/colour"]);
        let drops = vec!["y".repeat(1000); 10];
        let many = (0..200)
            .map(|i| {
                (
                    format!("c{i}"),
                    json!({"library_path": "x".repeat(1000), "overrides": {"cleanup_drop": drops}}),
                )
            })
            .collect::<Map<_, _>>();
        let err = Settings::default()
            .apply(&changeset(json!({"categories": many})))
            .expect_err("too big");
        assert_eq!(pointers(err), [""]);
    }

    #[test]
    fn parse_bounds_and_shapes() {
        assert!(Changeset::parse("{\"fs_policy\": {}}").is_ok());
        assert!(Changeset::parse("[]").is_err());
        assert!(Changeset::parse("{").is_err());
        let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_CHANGESET_BYTES));
        assert!(Changeset::parse(&huge).is_err());
        let err =
            Settings::default().apply(&changeset(json!({"fs_policy": 3}))).expect_err("shape");
        assert_eq!(pointers(err), ["/fs_policy"]);
    }
}
