//! The registry rules the sync's merge depends on (SYNC.md §3.2, §5 item 2), checked against
//! the schema after every migration:
//! - every CHECK of a replicated table lies within one merge group (`TableSpec::merge_groups`;
//!   a column in no declared group is a group of its own), so that the per-group merge can
//!   never combine two writers' halves into a row the CHECK refuses;
//! - the declared merge groups are real, replicated, disjoint columns of mutable tables, and
//!   make a valid merge schema (`clinicdesk_wire::MergeSchema`);
//! - every UNIQUE index of a replicated table has a declared policy (`TableSpec::unique`), and
//!   every policy names a UNIQUE index of its table.
//!
//! A failure names the table, the CHECK or index and the fix in `crates/store/src/registry.rs`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use clinicdesk_store::registry::{self, TableSpec, UniquePolicy};
use clinicdesk_store::{open_raw, KeySource, Store};
use clinicdesk_wire::MergeSchema;
use rusqlite::Connection;

/// A real store (encrypted file, every migration) and a raw connection to it.
fn migrated() -> Result<(tempfile::TempDir, Connection)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("clinic.db");
    let keys = KeySource::File(dir.path().join("clinic.key"));
    drop(Store::create(&path, &keys)?);
    let conn = open_raw(&path, &keys.load(&path)?)?;
    Ok((dir, conn))
}

/// `CREATE TABLE` text of every table, by name.
fn table_sql(conn: &Connection) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `sql` with string literals and comments blanked out (same length, so positions hold) and
/// double quotes of quoted identifiers dropped.
fn masked(sql: &str) -> Vec<u8> {
    let b = sql.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while i < b.len() {
        let blank_to = |out: &mut Vec<u8>, from: usize, to: usize| {
            out[from..to].iter_mut().for_each(|c| *c = b' ');
        };
        match b[i] {
            b'\'' => {
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == b'\'' {
                        if b.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                let end = (j + 1).min(b.len());
                blank_to(&mut out, i, end);
                // Keep a placeholder so `x = 'a'` still reads as a comparison with a value.
                out[i] = b'0';
                i = end;
            }
            b'"' => {
                out[i] = b' ';
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                blank_to(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                blank_to(&mut out, i, end);
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every `CHECK (…)` of a `CREATE TABLE` statement: its text and the columns of `columns` it
/// names (identifiers outside string literals that are not function calls).
fn checks(sql: &str, columns: &BTreeSet<String>) -> Vec<(String, BTreeSet<String>)> {
    let m = masked(sql);
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= m.len() {
        let word_start = i == 0 || !is_ident(m[i - 1]);
        if !(word_start
            && m[i..i + 5].eq_ignore_ascii_case(b"check")
            && m.get(i + 5).is_none_or(|&c| !is_ident(c)))
        {
            i += 1;
            continue;
        }
        let Some(open) = m[i + 5..]
            .iter()
            .position(|&c| !c.is_ascii_whitespace())
            .map(|p| i + 5 + p)
            .filter(|&p| m[p] == b'(')
        else {
            i += 5;
            continue;
        };
        let (mut depth, mut close) = (0usize, open);
        for (k, &c) in m.iter().enumerate().skip(open) {
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let body = &m[open + 1..close];
        let mut cols = BTreeSet::new();
        let mut k = 0;
        while k < body.len() {
            if is_ident(body[k]) && (k == 0 || !is_ident(body[k - 1])) {
                let end = body[k..]
                    .iter()
                    .position(|&c| !is_ident(c))
                    .map_or(body.len(), |p| k + p);
                let word = String::from_utf8_lossy(&body[k..end]).to_lowercase();
                let call = body[end..]
                    .iter()
                    .find(|c| !c.is_ascii_whitespace())
                    .is_some_and(|&c| c == b'(');
                if !call && columns.contains(&word) {
                    cols.insert(word);
                }
                k = end;
            } else {
                k += 1;
            }
        }
        out.push((sql[i..=close].to_string(), cols));
        i = close + 1;
    }
    out
}

/// The merge group of `column` in `spec`: its declared group, or itself.
fn group_of(spec: &TableSpec, column: &str) -> Vec<String> {
    spec.merge_groups
        .iter()
        .find(|g| g.contains(&column))
        .map_or_else(
            || vec![column.to_string()],
            |g| g.iter().map(|c| c.to_string()).collect(),
        )
}

/// The CHECKs of `spec`'s table (`sql`, its replicated `columns`) that span merge groups,
/// each as a message naming the table, the CHECK and the fix.
fn checks_across_groups(spec: &TableSpec, sql: &str, columns: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (check, cols) in checks(sql, columns) {
        let groups: BTreeSet<Vec<String>> = cols.iter().map(|c| group_of(spec, c)).collect();
        if groups.len() > 1 {
            let all: Vec<&String> = groups.iter().flatten().collect();
            out.push(format!(
                "{}: `{check}` ties columns {cols:?} of different merge groups {groups:?}; the \
                 merge could take half of them from one PC and half from another. Fix: in \
                 crates/store/src/registry.rs give `{}` one group with them, \
                 `.merge_groups(&[&{all:?}])` (join the groups already declared)",
                spec.name, spec.name
            ));
        }
    }
    out
}

/// The UNIQUE indexes of `table` (not the primary key).
fn unique_indexes(conn: &Connection, table: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND origin <> 'pk'",
    )?;
    let rows = stmt.query_map([table], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The UNIQUE indexes of `spec`'s table without a policy, and policies naming no UNIQUE index.
fn unique_policy_problems(spec: &TableSpec, indexes: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    if !spec.replicated {
        if !spec.unique.is_empty() {
            out.push(format!(
                "{}: not replicated, yet declares UNIQUE policies {:?}; remove them",
                spec.name, spec.unique
            ));
        }
        return out;
    }
    for ix in indexes {
        if !spec.unique.iter().any(|(name, _)| name == ix) {
            out.push(format!(
                "{}: UNIQUE index {ix} has no sync policy: two PCs may each create a row with \
                 the same key offline. Fix: declare one in crates/store/src/registry.rs, \
                 `.unique(&[(\"{ix}\", UniquePolicy::…)])` (SYNC.md §5 item 2: DeterministicId, \
                 Dedupe, RenameAndInbox, OnlineOnly, ImpossibleByConstruction); an inline \
                 UNIQUE constraint gets a named CREATE UNIQUE INDEX instead",
                spec.name
            ));
        }
    }
    for (name, _) in spec.unique {
        if !indexes.contains(*name) {
            out.push(format!(
                "{}: the UNIQUE policy for {name} names no UNIQUE index of the table; remove \
                 it or fix the name in crates/store/src/registry.rs",
                spec.name
            ));
        }
    }
    out
}

/// The replicated columns of every replicated table after all migrations.
fn replicated_columns() -> Result<BTreeMap<&'static str, BTreeSet<String>>> {
    let all = registry::schema_columns(None)?;
    Ok(registry::replicated()
        .map(|spec| {
            let cols = registry::trigger_columns(spec, &all[spec.name]);
            (spec.name, cols.into_iter().map(str::to_string).collect())
        })
        .collect())
}

#[test]
fn every_check_lies_within_one_merge_group() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let sql = table_sql(&conn)?;
    let columns = replicated_columns()?;
    let mut problems = Vec::new();
    let mut multi_column = 0;
    // Immutable tables are insert-only: no merge ever splits their rows.
    for spec in registry::replicated().filter(|s| !s.immutable) {
        let cols = &columns[spec.name];
        multi_column += checks(&sql[spec.name], cols)
            .iter()
            .filter(|(_, c)| c.len() > 1)
            .count();
        problems.extend(checks_across_groups(spec, &sql[spec.name], cols));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // The parser finds every multi-column CHECK of V1–V8 (appointments, availability blocks
    // and coverage needs have two each).
    assert_eq!(multi_column, 18, "multi-column CHECKs found");
    Ok(())
}

#[test]
fn a_check_across_groups_is_reported_with_its_fix() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let sql = table_sql(&conn)?;
    let columns = replicated_columns()?;
    let appointments = registry::spec("appointments").unwrap();
    // Without its declared groups, both of appointments' multi-column CHECKs span groups.
    let bare = TableSpec {
        merge_groups: &[],
        ..*appointments
    };
    let problems = checks_across_groups(&bare, &sql["appointments"], &columns["appointments"]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("appointments: `CHECK (end_at > start_at)`"));
    assert!(problems[0].contains(".merge_groups(&[&[\"end_at\", \"start_at\"]])"));
    assert!(problems[1].contains("cancel_reason") && problems[1].contains("status"));
    // The parser: names in string literals, comments and function calls are not columns.
    let cols: BTreeSet<String> = ["a", "b", "c", "date"].map(String::from).into();
    let found = checks(
        "CREATE TABLE t (a TEXT CHECK (a <> 'b' AND date(a) = a), -- CHECK (c)\n \
         b INT, c INT, CHECK (\"b\" > c), CHECK(length(a) > 0))",
        &cols,
    );
    let found: Vec<Vec<&str>> = found
        .iter()
        .map(|(_, c)| c.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(found, [vec!["a"], vec!["b", "c"], vec!["a"]]);
    Ok(())
}

#[test]
fn merge_groups_are_real_disjoint_replicated_columns() -> Result<()> {
    let all = registry::schema_columns(None)?;
    let mut problems = Vec::new();
    for spec in registry::TABLES
        .iter()
        .filter(|s| !s.merge_groups.is_empty())
    {
        if !spec.replicated || spec.immutable {
            problems.push(format!(
                "{}: merge groups on a table that is not replicated or is immutable",
                spec.name
            ));
            continue;
        }
        let cols = &all[spec.name];
        for group in spec.merge_groups {
            if group.len() < 2 {
                problems.push(format!(
                    "{}: merge group {group:?} has one column (every column is a group of its own already)",
                    spec.name
                ));
            }
            for c in *group {
                if !cols.iter().any(|k| k == c) || spec.is_local(c) || *c == "id" {
                    problems.push(format!(
                        "{}: merge group {group:?} names {c}, which is not a replicated column",
                        spec.name
                    ));
                }
            }
        }
        let trigger_cols = registry::trigger_columns(spec, cols);
        if let Err(e) = MergeSchema::new(spec.name, &trigger_cols, spec.merge_groups, false) {
            problems.push(e.to_string());
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    Ok(())
}

#[test]
fn every_unique_index_has_a_sync_policy() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let mut problems = Vec::new();
    let mut policies = 0;
    for spec in registry::TABLES {
        let indexes = unique_indexes(&conn, spec.name)?;
        problems.extend(unique_policy_problems(spec, &indexes));
        policies += spec.unique.len();
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert_eq!(policies, 17);
    // The test notices a missing policy and a policy without an index.
    let patients = registry::spec("patients").unwrap();
    let indexes = unique_indexes(&conn, "patients")?;
    let missing = TableSpec {
        unique: &[("ux_patients_mrn", UniquePolicy::RenameAndInbox)],
        ..*patients
    };
    let problems = unique_policy_problems(&missing, &indexes);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("patients: UNIQUE index ux_patients_legacy has no sync policy"));
    let stray = TableSpec {
        unique: &[
            ("ux_patients_mrn", UniquePolicy::RenameAndInbox),
            ("ux_patients_legacy", UniquePolicy::RenameAndInbox),
            ("ux_patients_phone", UniquePolicy::Dedupe),
        ],
        ..*patients
    };
    let problems = unique_policy_problems(&stray, &indexes);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("ux_patients_phone names no UNIQUE index"));
    Ok(())
}

/// An update's change-log entry carries every column of each merge group it touches (V9,
/// `cd_group_diff`): changing `end_at` alone captures `start_at` with it (their CHECK ties
/// them), changing `block_reason` captures `is_available`; a column outside any group travels
/// alone; the audit entry still names only what changed.
#[test]
fn an_update_captures_its_whole_merge_group() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::create(
        &dir.path().join("c.db"),
        &KeySource::File(dir.path().join("c.key")),
    )?;
    let clinic = uuid::Uuid::now_v7().to_string();
    let block = uuid::Uuid::now_v7().to_string();
    store.write(None, |tx| -> clinicdesk_store::Result<()> {
        tx.execute(
            "INSERT INTO clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at)
             VALUES (?1, 'Groups', 'GRP', 'UTC', '[]', 15, 0, 0)",
            [&clinic],
        )?;
        tx.execute(
            "INSERT INTO availability_blocks (id, clinic_id, start_at, end_at, is_available, block_reason, created_at, updated_at)
             VALUES (?1, ?2, 1000, 2000, 0, 'Holiday', 0, 0)",
            [&block, &clinic],
        )?;
        Ok(())
    })?;
    let captured = |sql: &str| -> Result<(serde_json::Value, serde_json::Value)> {
        store.write(None, |tx| -> clinicdesk_store::Result<()> {
            tx.execute(sql, [&block])?;
            Ok(())
        })?;
        Ok(store.read(
            |c| -> clinicdesk_store::Result<(serde_json::Value, serde_json::Value)> {
                let cols: String = c.query_row(
                    "SELECT columns FROM change_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )?;
                let changed: String = c.query_row(
                    "SELECT changed_fields FROM audit_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )?;
                Ok((
                    serde_json::from_str(&cols).unwrap(),
                    serde_json::from_str(&changed).unwrap(),
                ))
            },
        )?)
    };
    let (cols, changed) = captured("UPDATE availability_blocks SET end_at = 3000 WHERE id = ?1")?;
    assert_eq!(
        cols,
        serde_json::json!({ "start_at": 1000, "end_at": 3000 })
    );
    assert_eq!(changed, serde_json::json!(["end_at"]));
    let (cols, _) =
        captured("UPDATE availability_blocks SET block_reason = 'Closed' WHERE id = ?1")?;
    assert_eq!(
        cols,
        serde_json::json!({ "is_available": 0, "block_reason": "Closed" })
    );
    let (cols, _) = captured(
        "UPDATE availability_blocks SET deleted_at = 5, block_reason = 'Gone' WHERE id = ?1",
    )?;
    assert_eq!(
        cols,
        serde_json::json!({ "is_available": 0, "block_reason": "Gone", "deleted_at": 5 })
    );
    Ok(())
}
