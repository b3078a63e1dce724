//! The trigger fingerprint: sha256 over the name and SQL of every trigger of the database.
//! Auditing lives in triggers, and anyone with the database key can drop or rewrite one (so
//! that later edits go unaudited); `Store::open` compares the database's triggers with those
//! this build's migrations create, and `audit::verify_all` reports any difference.
//!
//! [`TRIGGER_FINGERPRINT`] is the fingerprint after every embedded migration, committed so the
//! check at open costs one hash of the trigger SQL (the expected triggers themselves come from
//! an in-memory database migrated by this binary, only when the fingerprint differs).
//! `tests/generated.rs` fails when it is stale.

use std::collections::BTreeMap;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The fingerprint of the triggers after every embedded migration. GENERATED: when a migration
/// changes the triggers, `tests/generated.rs` (`trigger_fingerprint_is_current`) fails and
/// prints the new value.
pub const TRIGGER_FINGERPRINT: &str =
    "f0d140908b36cffb2872425b137255ee07cb66816149abfa81161e243f714fb6";

/// Every trigger of `conn`: name → SQL.
pub fn triggers_of(conn: &Connection) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// sha256 over the sorted (name, SQL) of `triggers`, length-prefixed, as hex.
pub fn fingerprint_of(triggers: &BTreeMap<String, String>) -> String {
    let mut d = Sha256::new();
    for (name, sql) in triggers {
        d.update(format!("{}:{name};{}:{sql};", name.len(), sql.len()).as_bytes());
    }
    hex::encode(d.finalize())
}

/// The triggers this build's migrations create (from an in-memory database).
pub fn expected_triggers() -> Result<BTreeMap<String, String>> {
    triggers_of(&crate::db::schema_in_memory(None)?)
}

/// How a database's triggers differ from this build's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerDrift {
    pub missing: Vec<String>,
    pub changed: Vec<String>,
    pub extra: Vec<String>,
}

impl TriggerDrift {
    /// "missing: a", "changed: b", "extra: c", one per trigger.
    pub fn describe(&self) -> Vec<String> {
        let tag = |what: &str, names: &[String]| {
            names
                .iter()
                .map(|n| format!("{what}: {n}"))
                .collect::<Vec<_>>()
        };
        [
            tag("missing", &self.missing),
            tag("changed", &self.changed),
            tag("extra", &self.extra),
        ]
        .concat()
    }
}

/// The difference between `actual` and `expected` triggers; None when they are the same.
pub fn drift_between(
    actual: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
) -> Option<TriggerDrift> {
    let mut d = TriggerDrift::default();
    for (name, sql) in expected {
        match actual.get(name) {
            None => d.missing.push(name.clone()),
            Some(s) if s != sql => d.changed.push(name.clone()),
            Some(_) => {}
        }
    }
    d.extra = actual
        .keys()
        .filter(|n| !expected.contains_key(*n))
        .cloned()
        .collect();
    (d != TriggerDrift::default()).then_some(d)
}

/// How `conn`'s triggers differ from this build's (cheap when they do not).
pub fn trigger_drift(conn: &Connection) -> Result<Option<TriggerDrift>> {
    let actual = triggers_of(conn)?;
    if fingerprint_of(&actual) == TRIGGER_FINGERPRINT {
        return Ok(None);
    }
    Ok(drift_between(&actual, &expected_triggers()?))
}
