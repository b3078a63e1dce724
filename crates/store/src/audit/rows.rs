//! Rows against the audit log: every row of every audited (replicated) table must hold the
//! values the audit log last recorded for it. An edit made with the triggers dropped or with
//! `cd_audit()` redefined to return 0 leaves the row different from its latest audited
//! values, or a row without any audit entry.
//!
//! The latest audited values of a row are its `insert` entry's `new_values` with each later
//! `update`/`soft_delete`/`restore` entry's `new_values` (the changed columns) applied. Only
//! the columns the triggers list are compared (not the registry's local ones), and not
//! `updated_at`: the update trigger does not fire when only `updated_at` changes. A column
//! missing from the audited values (added by a later migration) is not compared.
//!
//! Rows written without per-row audit entries by a bulk load (`WriteMode::Bulk`: the demo) are
//! covered by the load's baseline event (`{"audit_baseline": {table: {rows, digest}}}`, in the
//! chain): a sha256 over the (id, values) of every row that had no `insert` entry at that
//! moment. `verify` rebuilds each such row's values at the baseline from its values now and the
//! `old_values` of the update entries after the baseline, and recomputes the digest.
//!
//! One query per table for the rows and one for its audit entries, both in id order (the
//! latter walks the `(table_name, row_id)` index), merged in one pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use rusqlite::Connection;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::registry::{self, TableSpec};

/// The key of a baseline event's details.
pub(crate) const BASELINE_KEY: &str = "audit_baseline";

/// How many row problems are described (all are counted).
const DESCRIBED: usize = 20;

struct Entry {
    seq: i64,
    insert: bool,
    old: Option<Map<String, Value>>,
    new: Option<Map<String, Value>>,
}

/// What one table's check found.
#[derive(Default)]
pub(crate) struct TableCheck {
    pub rows: u64,
    pub problems: Vec<String>,
    pub problem_count: u64,
    /// Rows without an `insert` entry, and the digest of their values at the baseline.
    pub baseline_rows: u64,
    pub baseline_digest: String,
    pub baseline_ids: Vec<String>,
}

fn parse(text: Option<String>) -> Option<Map<String, Value>> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// `values` as the audit shows them: redacted columns as their fingerprint.
fn redact(spec: &TableSpec, values: &mut Map<String, Value>) {
    for c in spec.redacted {
        if let Some(Value::String(s)) = values.get(*c) {
            let f = super::fingerprint(s);
            values.insert((*c).to_string(), Value::String(f));
        }
    }
}

fn digest_row(d: &mut Sha256, id: &str, values: &Map<String, Value>) {
    let sorted: BTreeMap<&String, &Value> = values.iter().collect();
    d.update(format!("{}:{id};", id.len()).as_bytes());
    for (k, v) in sorted {
        let v = v.to_string();
        d.update(format!("{}:{k}={}:{v};", k.len(), v.len()).as_bytes());
    }
    d.update(b"|");
}

fn note(out: &mut TableCheck, spec: &TableSpec, id: &str, what: String) {
    out.problem_count += 1;
    if out.problems.len() < DESCRIBED {
        out.problems.push(format!("{} {id}: {what}", spec.entity));
    }
}

/// Check `spec`'s rows against its audit entries; rows without an `insert` entry are compared
/// with the baseline at audit entry `baseline_seq` (None: there is none, each is a problem);
/// with `seeded`, only the rows of those ids may lack one (the rows the migrations write).
pub(crate) fn check_table(
    conn: &Connection,
    spec: &TableSpec,
    baseline_seq: Option<i64>,
    seeded: Option<&BTreeSet<String>>,
) -> Result<TableCheck> {
    let all: Vec<String> = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([spec.name], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let cols: BTreeSet<&str> = registry::trigger_columns(spec, &all)
        .into_iter()
        .filter(|c| *c != "updated_at")
        .collect();
    let object = registry::trigger_columns(spec, &all)
        .iter()
        .map(|c| format!("'{c}', \"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut audit_stmt = conn.prepare_cached(
        "SELECT row_id, seq, action, old_values, new_values FROM audit_log
         WHERE table_name = ?1 AND row_id IS NOT NULL
           AND action IN ('insert', 'update', 'soft_delete', 'restore')
         ORDER BY row_id, seq",
    )?;
    let mut audit = audit_stmt.query([spec.name])?;
    let next_row = |rows: &mut rusqlite::Rows<'_>| -> Result<Option<(String, String)>> {
        Ok(match rows.next()? {
            Some(r) => Some((r.get(0)?, r.get(1)?)),
            None => None,
        })
    };
    let next_entry = |audit: &mut rusqlite::Rows<'_>| -> Result<Option<(String, Entry)>> {
        Ok(match audit.next()? {
            Some(r) => Some((
                r.get(0)?,
                Entry {
                    seq: r.get(1)?,
                    insert: r.get::<_, String>(2)? == "insert",
                    old: parse(r.get(3)?),
                    new: parse(r.get(4)?),
                },
            )),
            None => None,
        })
    };
    let mut entry = next_entry(&mut audit)?;
    if entry.is_none() && baseline_seq.is_some() && seeded.is_none() {
        // No row of the table has an audit entry (a bulk load's): each row's values at the
        // baseline are its values now, digested straight from the columns.
        if let Some(out) = baseline_of_columns(conn, spec, &cols)? {
            return Ok(out);
        }
    }
    let mut rows_stmt = conn.prepare(&format!(
        "SELECT id, json_object({object}) FROM \"{}\" ORDER BY id",
        spec.name
    ))?;
    let mut rows = rows_stmt.query([])?;
    let mut out = TableCheck::default();
    let mut digest = Sha256::new();
    let mut row = next_row(&mut rows)?;
    loop {
        let id = match (&row, &entry) {
            (None, None) => break,
            (Some((r, _)), None) => r.clone(),
            (None, Some((e, _))) => e.clone(),
            (Some((r, _)), Some((e, _))) => r.min(e).clone(),
        };
        let mut entries = Vec::new();
        while entry.as_ref().is_some_and(|(e, _)| *e == id) {
            entries.extend(entry.take().map(|(_, e)| e));
            entry = next_entry(&mut audit)?;
        }
        let current = if row.as_ref().is_some_and(|(r, _)| *r == id) {
            let values = row.take().map(|(_, v)| v);
            row = next_row(&mut rows)?;
            values
        } else {
            None
        };
        let Some(current) = current else {
            note(
                &mut out,
                spec,
                &id,
                "audited, but the row is gone (deleted underneath the app)".into(),
            );
            continue;
        };
        out.rows += 1;
        let mut current: Map<String, Value> = serde_json::from_str(&current)
            .map_err(|e| StoreError::Data(format!("{} {id}: {e}", spec.name)))?;
        redact(spec, &mut current);
        let inserted = entries.iter().rposition(|e| e.insert);
        // The entries that define the latest audited values: from the last insert on, or (a
        // baseline row) the updates after the baseline.
        let seeded_row = seeded.is_none_or(|ids| ids.contains(&id));
        let since = match (inserted, baseline_seq) {
            (Some(i), _) => i,
            (None, Some(b)) if seeded_row => entries.partition_point(|e| e.seq <= b),
            _ => {
                note(
                    &mut out,
                    spec,
                    &id,
                    "it has no audit entry (written without auditing)".into(),
                );
                continue;
            }
        };
        let mut latest = Map::new();
        for e in &entries[since..] {
            latest.extend(e.new.clone().unwrap_or_default());
        }
        let differ: Vec<&str> = latest
            .iter()
            .filter(|(k, v)| cols.contains(k.as_str()) && current.get(k.as_str()) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        if !differ.is_empty() {
            note(&mut out, spec, &id, format!(
                "{} differ from the values the audit log last recorded (changed without an audit entry)",
                differ.join(", ")
            ));
        }
        if inserted.is_none() {
            // Its values at the baseline: now, with each column an update after the baseline
            // changed set back to the value that update found.
            let mut at_baseline = current;
            let mut restored = BTreeSet::new();
            for e in &entries[since..] {
                for (k, v) in e.old.iter().flatten() {
                    if restored.insert(k.clone()) {
                        at_baseline.insert(k.clone(), v.clone());
                    }
                }
            }
            at_baseline.retain(|k, _| cols.contains(k.as_str()));
            digest_row(&mut digest, &id, &at_baseline);
            out.baseline_rows += 1;
            out.baseline_ids.push(id);
        }
    }
    out.baseline_digest = hex::encode(digest.finalize());
    Ok(out)
}

/// [`check_table`] of a table none of whose rows has an audit entry, when every row's values
/// are whole numbers, text or NULL: the same counts and digest as the general path (which
/// renders each row with `json_object` and parses it), from the columns themselves, about ten
/// times faster (the join of a large clinic spent most of its commit here). None when a value
/// is of another kind (a real number: `json_object` rounds it to 15 digits): the general path
/// decides then.
fn baseline_of_columns(
    conn: &Connection,
    spec: &TableSpec,
    cols: &BTreeSet<&str>,
) -> Result<Option<TableCheck>> {
    // In the digest's order (by name), with whether the audit shows a fingerprint.
    let named: Vec<(&str, bool)> = cols
        .iter()
        .map(|c| (*c, spec.redacted.contains(c)))
        .collect();
    let list = named
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT id, {list} FROM \"{}\" ORDER BY id",
        spec.name
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = TableCheck::default();
    let mut digest = Sha256::new();
    // One row's digest input, and one value's JSON text (reused: no allocation per value).
    let mut line: Vec<u8> = Vec::with_capacity(4096);
    let mut text: Vec<u8> = Vec::with_capacity(1024);
    let data =
        |e: &dyn std::fmt::Display, id: &str| StoreError::Data(format!("{} {id}: {e}", spec.name));
    while let Some(r) = rows.next()? {
        use std::io::Write as _;
        let id: String = r.get(0)?;
        line.clear();
        write!(line, "{}:{id};", id.len()).map_err(|e| data(&e, &id))?;
        for (i, (name, redacted)) in named.iter().enumerate() {
            text.clear();
            match r.get_ref(i + 1)? {
                rusqlite::types::ValueRef::Null => text.extend_from_slice(b"null"),
                rusqlite::types::ValueRef::Integer(n) => {
                    write!(text, "{n}").map_err(|e| data(&e, &id))?;
                }
                rusqlite::types::ValueRef::Text(t) => {
                    let t = std::str::from_utf8(t).map_err(|e| data(&e, &id))?;
                    // serde_json writes a str exactly as it writes Value::String of it.
                    if *redacted {
                        serde_json::to_writer(&mut text, &super::fingerprint(t))
                    } else {
                        serde_json::to_writer(&mut text, t)
                    }
                    .map_err(|e| data(&e, &id))?;
                }
                rusqlite::types::ValueRef::Real(_) | rusqlite::types::ValueRef::Blob(_) => {
                    return Ok(None)
                }
            }
            write!(line, "{}:{name}={}:", name.len(), text.len()).map_err(|e| data(&e, &id))?;
            line.extend_from_slice(&text);
            line.push(b';');
        }
        line.push(b'|');
        digest.update(&line);
        out.rows += 1;
        out.baseline_rows += 1;
        out.baseline_ids.push(id);
    }
    out.baseline_digest = hex::encode(digest.finalize());
    Ok(Some(out))
}

/// The latest baseline event: (its seq, per table (rows, digest)).
pub(crate) type Baseline = (i64, BTreeMap<String, (u64, String)>);

pub(crate) fn latest_baseline(conn: &Connection) -> Result<Option<Baseline>> {
    let found: Option<(i64, String)> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT seq, json_extract(new_values, '$.audit_baseline') FROM audit_log
         WHERE table_name = 'database' AND action = 'event'
           AND json_extract(new_values, '$.audit_baseline') IS NOT NULL
         ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    let Some((seq, tables)) = found else {
        return Ok(None);
    };
    let tables: Map<String, Value> = serde_json::from_str(&tables)
        .map_err(|e| StoreError::Data(format!("audit entry {seq}: {e}")))?;
    let tables = tables
        .into_iter()
        .map(|(t, v)| {
            let rows = v.get("rows").and_then(Value::as_u64).unwrap_or(0);
            let digest = v.get("digest").and_then(Value::as_str).unwrap_or("");
            (t, (rows, digest.to_string()))
        })
        .collect();
    Ok(Some((seq, tables)))
}

/// The details of a baseline event for the database as it is: every audited table's rows that
/// have no `insert` entry, counted and digested (tables without such rows are left out).
pub(crate) fn baseline(conn: &Connection) -> Result<Value> {
    let mut tables = Map::new();
    for spec in registry::replicated() {
        let c = check_table(conn, spec, Some(i64::MAX), None)?;
        if c.baseline_rows > 0 {
            tables.insert(
                spec.name.to_string(),
                serde_json::json!({ "rows": c.baseline_rows, "digest": c.baseline_digest }),
            );
        }
    }
    Ok(serde_json::json!({ BASELINE_KEY: tables }))
}

/// The rows the embedded migrations write (reference data), which no audit entry records:
/// per table, their ids, count and digest, from an in-memory database this binary migrated.
/// Per table: the seeded rows' ids, their count and their digest.
type Seeded = BTreeMap<String, (BTreeSet<String>, u64, String)>;

fn seeded() -> Result<&'static Seeded> {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    if let Some(s) = SEEDED.get() {
        return Ok(s);
    }
    let conn = crate::db::schema_in_memory(None)?;
    let mut out = BTreeMap::new();
    for spec in registry::replicated() {
        let c = check_table(&conn, spec, Some(i64::MAX), None)?;
        let ids = c.baseline_ids.into_iter().collect();
        out.insert(
            spec.name.to_string(),
            (ids, c.baseline_rows, c.baseline_digest),
        );
    }
    Ok(SEEDED.get_or_init(|| out))
}

/// Every audited table checked: (rows checked, problems described, problems counted). Rows
/// without an `insert` entry are those of the latest bulk load's baseline event, or if there
/// was none, those the migrations wrote.
pub(crate) fn check_all(conn: &Connection) -> Result<(u64, Vec<String>, u64)> {
    let baseline = latest_baseline(conn)?;
    let seeded = seeded()?;
    let (mut rows, mut problems, mut count) = (0, Vec::new(), 0);
    for spec in registry::replicated() {
        let seeds = seeded.get(spec.name);
        let (seq, ids, expected) = match &baseline {
            Some((seq, tables)) => (*seq, None, tables.get(spec.name).cloned()),
            None => (
                0,
                seeds.map(|(ids, _, _)| ids),
                seeds.map(|(_, n, d)| (*n, d.clone())),
            ),
        };
        let c = check_table(conn, spec, Some(seq), ids)?;
        rows += c.rows;
        count += c.problem_count;
        problems.extend(c.problems);
        let (n, digest) = expected.unwrap_or_else(|| (0, hex::encode(Sha256::new().finalize())));
        if (n, digest.as_str()) != (c.baseline_rows, c.baseline_digest.as_str()) {
            count += 1;
            problems.push(match &baseline {
                Some(_) => format!(
                    "{}: the {n} rows written in bulk (baseline at entry {seq}) were changed without an audit entry since (now {} such rows, or their values differ)",
                    spec.name, c.baseline_rows
                ),
                None => format!(
                    "{}: the rows the migrations wrote were changed without an audit entry",
                    spec.name
                ),
            });
        }
    }
    problems.truncate(DESCRIBED);
    Ok((rows, problems, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column path of a bulk load's baseline gives exactly the general path's counts and
    /// digest (which renders each row with `json_object` and parses it), for text that JSON
    /// escapes, non-ASCII text, integers at their limits, NULLs and a redacted column.
    #[test]
    fn the_column_baseline_equals_the_json_one() -> Result<()> {
        let conn = crate::db::schema_in_memory(None)?;
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let names = [
            "O'Brien \"Bob\"",
            "tab\there\nnewline\r\u{1}\u{1f}",
            "back\\slash / solidus",
            "Zoë Łukasz 山田 \u{2028} 🙂",
            "plain",
        ];
        for (i, n) in names.iter().enumerate() {
            conn.execute(
                "INSERT INTO patients (id, clinic_id, mrn, first_name, last_name, middle_name,
                     notes, consent_sms, created_at, updated_at, deleted_at)
                 VALUES (?1, 'c', ?2, ?3, 'X', ?4, ?5, ?6, ?7, ?8, ?9)",
                rusqlite::params![
                    format!("p{i}"),
                    format!("M{i}"),
                    n,
                    (i % 2 == 0).then_some(*n),
                    n.repeat(3),
                    i64::from(i % 2 == 0),
                    [i64::MIN, i64::MAX, 0, -1, 1_700_000_000_000][i],
                    i64::try_from(i).unwrap_or(0),
                    (i == 3).then_some(42i64),
                ],
            )?;
            conn.execute(
                "INSERT INTO users (id, username, display_name, email, password_hash,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, 2)",
                rusqlite::params![
                    format!("u{i}"),
                    format!("user{i}"),
                    n,
                    (i == 1).then_some("a@b.c"),
                    format!("$argon2id$v=19${n}"),
                ],
            )?;
        }
        for spec in registry::replicated() {
            // goal_templates: the rows the migrations seed, with real numbers.
            if !["patients", "users", "goal_templates"].contains(&spec.name) {
                continue;
            }
            let all: Vec<String> = conn
                .prepare(&format!("SELECT id FROM \"{}\"", spec.name))?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let ids: BTreeSet<String> = all.into_iter().collect();
            // With `seeded` given, check_table takes the general path.
            let general = check_table(&conn, spec, Some(i64::MAX), Some(&ids))?;
            let fast = check_table(&conn, spec, Some(i64::MAX), None)?;
            assert!(general.baseline_rows > 0, "{}", spec.name);
            assert_eq!(
                (
                    fast.rows,
                    fast.baseline_rows,
                    &fast.baseline_digest,
                    &fast.baseline_ids
                ),
                (
                    general.rows,
                    general.baseline_rows,
                    &general.baseline_digest,
                    &general.baseline_ids
                ),
                "{}",
                spec.name
            );
            // The column path ran for text and integers, and declined the real numbers.
            let all: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?1)")?
                .query_map([spec.name], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let cols: BTreeSet<&str> = all.iter().map(String::as_str).collect();
            let took = baseline_of_columns(&conn, spec, &cols)?;
            assert_eq!(
                took.is_some(),
                spec.name != "goal_templates",
                "{}",
                spec.name
            );
        }
        Ok(())
    }
}
