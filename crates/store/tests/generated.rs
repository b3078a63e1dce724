//! The table registry against the migrations: the committed generated migrations are what the
//! generator produces, the triggers of the migrated database are what the registry says, and
//! every table is registered. A failure here means a migration or the registry drifted; a new
//! generated migration is written with
//! `cargo run -p clinicdesk-store --example gen_triggers -- --tables t --drop`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clinicdesk_store::registry::{self, TableSpec, HEADER, LEGACY_HEADER};
use clinicdesk_store::{open_raw, KeySource, Store};
use rusqlite::Connection;

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite")
}

/// (version, file name, text) of every migration on disk, in version order.
fn migrations() -> Result<Vec<(i32, String, String)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(migrations_dir())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_prefix('V')
            .and_then(|r| r.split_once("__"))
            .and_then(|(v, _)| v.parse().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(migrations_dir().join(&name))?;
        out.push((version, name, text));
    }
    out.sort();
    Ok(out)
}

fn migration(prefix: &str) -> Result<String> {
    migrations()?
        .into_iter()
        .find(|(_, name, _)| name.starts_with(prefix))
        .map(|(_, _, text)| text)
        .ok_or_else(|| anyhow!("no migration {prefix}"))
}

fn spec(name: &str) -> Result<&'static TableSpec> {
    registry::spec(name).ok_or_else(|| anyhow!("{name} is not in the registry"))
}

/// The generated part of a migration: from its header to the end.
fn generated_part(text: &str) -> Option<&str> {
    [LEGACY_HEADER, HEADER]
        .iter()
        .filter_map(|h| text.find(h))
        .min()
        .map(|at| &text[at..])
}

/// The generator's migration for `tables`, with their columns after migration `version`.
fn generate(header: &str, version: i32, tables: &[&str], drop: bool) -> Result<String> {
    generate_with_immutable(header, version, tables, drop, &[])
}

fn generate_with_immutable(
    header: &str,
    version: i32,
    tables: &[&str],
    drop: bool,
    immutable: &[&str],
) -> Result<String> {
    let columns = registry::schema_columns(Some(version))?;
    let mut parts = Vec::new();
    for t in tables {
        let cols = columns
            .get(*t)
            .ok_or_else(|| anyhow!("{t} does not exist after V{version}"))?;
        parts.push((spec(t)?.as_of(version), cols.as_slice()));
    }
    let parts: Vec<(&registry::TableSpec, &[String])> =
        parts.iter().map(|(s, c)| (s, *c)).collect();
    let immutable = immutable
        .iter()
        .map(|t| spec(t))
        .collect::<Result<Vec<_>>>()?;
    Ok(registry::generated_migration(
        header, &parts, drop, &immutable,
    ))
}

/// Name → SQL of the triggers in the database, and the table each is on.
fn db_triggers(conn: &Connection) -> Result<BTreeMap<String, (String, String)>> {
    let mut stmt =
        conn.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A real store (encrypted file, every migration) and a raw connection to it.
fn migrated() -> Result<(tempfile::TempDir, Connection)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("clinic.db");
    let keys = KeySource::File(dir.path().join("clinic.key"));
    drop(Store::create(&path, &keys)?);
    let conn = open_raw(&path, &keys.load(&path)?)?;
    Ok((dir, conn))
}

fn assert_same(what: &str, committed: &str, generated: &str) {
    if committed == generated {
        return;
    }
    let (c, g): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), generated.lines().collect());
    let line = (0..c.len().max(g.len()))
        .find(|&i| c.get(i) != g.get(i))
        .unwrap_or(c.len());
    // The lines are long: show them from a little before their first difference.
    let excerpt = |l: Option<&&str>, other: Option<&&str>| -> String {
        let (l, other) = (l.copied().unwrap_or(""), other.copied().unwrap_or(""));
        let at = l
            .char_indices()
            .zip(other.chars())
            .find(|((_, a), b)| a != b)
            .map_or(l.len().min(other.len()), |((i, _), _)| i);
        let from = l.floor_char_boundary(at.saturating_sub(60));
        format!(
            "…{}",
            &l[from..l.ceil_char_boundary((at + 60).min(l.len()))]
        )
    };
    panic!(
        "{what} differs from the generator's output, first at line {}:\n found:     {}\n generated: {}",
        line + 1,
        excerpt(c.get(line), g.get(line)),
        excerpt(g.get(line), c.get(line)),
    );
}

/// (a) V2 is the generator's output for every replicated table of V1, with V1's columns.
#[test]
fn v2_is_the_generators_output_for_v1() -> Result<()> {
    let v1 = registry::schema_columns(Some(1))?;
    // The script skipped ops_shifts: its `name NOT LIKE '%_fts%'` (meant for the search index)
    // matches "ops_s-hifts" as `_` is LIKE's any-character. V6 added the missing triggers.
    let tables: Vec<&str> = registry::replicated()
        .map(|t| t.name)
        .filter(|t| v1.contains_key(*t) && *t != "ops_shifts")
        .collect();
    assert!(tables.len() > 30, "{tables:?}");
    let generated = generate(LEGACY_HEADER, 1, &tables, false)?;
    assert_same(
        "V2__audit_and_change_capture.sql",
        &migration("V2__")?,
        &generated,
    );
    Ok(())
}

/// (b) V4's generated part is the generator's output for case_number_blocks.
#[test]
fn v4_triggers_are_the_generators_output() -> Result<()> {
    let v4 = migration("V4__")?;
    let part = generated_part(&v4).context("V4 has no generated part")?;
    // The hand-written DDL comes first, then a blank line, then the generated part.
    assert!(v4.starts_with("-- Case numbers") && v4[..v4.len() - part.len()].ends_with(");\n\n"));
    let generated = generate(LEGACY_HEADER, 4, &["case_number_blocks"], false)?;
    assert_same("V4's generated part", part, &generated);
    Ok(())
}

/// Every generated part of every migration (V2, V4 and those written later) is the generator's
/// output for the tables it names, with their columns after that migration.
#[test]
fn every_generated_migration_is_the_generators_output() -> Result<()> {
    let mut checked = Vec::new();
    for (version, name, text) in migrations()? {
        let Some(part) = generated_part(&text) else {
            continue;
        };
        let header = if part.starts_with(LEGACY_HEADER) {
            LEGACY_HEADER
        } else {
            HEADER
        };
        // Tables in the order the part lists them (the generator keeps the caller's order).
        let (mut tables, mut immutable) = (Vec::new(), Vec::new());
        for line in part.lines() {
            let Some(name) = line
                .strip_prefix("CREATE TRIGGER ")
                .and_then(|r| r.split_once(' '))
                .map(|(n, _)| n)
            else {
                continue;
            };
            if let Some(t) = name.strip_suffix("_ai") {
                tables.push(t);
            } else if let Some(t) = name.strip_suffix("_immutable_u") {
                immutable.push(t);
            }
        }
        let drop = part.contains("\nDROP TRIGGER IF EXISTS ");
        let generated = generate_with_immutable(header, version, &tables, drop, &immutable)?;
        assert_same(&name, part, &generated);
        checked.push(version);
    }
    assert!(checked.starts_with(&[2, 4]), "{checked:?}");
    Ok(())
}

/// (c) After every migration, each replicated table's audit/capture triggers are exactly the
/// generator's for its current columns minus its local ones, and no other trigger audits or
/// captures; tables that are not replicated have none.
#[test]
fn database_triggers_match_the_registry() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let triggers = db_triggers(&conn)?;
    let columns = registry::schema_columns(None)?;
    let mut expected = BTreeSet::new();
    for spec in registry::TABLES {
        let cols = &columns[spec.name];
        for t in registry::audit_triggers(spec, cols) {
            let Some((table, sql)) = triggers.get(&t.name) else {
                panic!("{} is missing from the database", t.name);
            };
            assert_eq!(table, spec.name);
            assert_same(
                &format!("trigger {} in the migrated database", t.name),
                sql,
                &t.sql,
            );
            expected.insert(t.name);
        }
        for local in spec.local {
            assert!(
                cols.iter().any(|c| c == local),
                "{}.{local} does not exist",
                spec.name
            );
        }
        for redacted in spec.redacted {
            assert!(
                cols.iter().any(|c| c == redacted),
                "{}.{redacted} does not exist",
                spec.name
            );
        }
    }
    // Every trigger that writes the audit or change log is one of the generated ones.
    for (name, (_, sql)) in &triggers {
        if sql.contains("cd_audit()") || sql.contains("cd_capture()") {
            assert!(
                expected.contains(name),
                "{name} audits or captures but is not generated"
            );
        }
    }
    Ok(())
}

/// A local column never reaches the audit or the change log, and a redacted one reaches the
/// audit only as a fingerprint.
#[test]
fn local_and_redacted_columns_in_the_triggers() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let triggers = db_triggers(&conn)?;
    let appointments = triggers
        .iter()
        .filter(|(n, _)| ["appointments_ai", "appointments_au"].contains(&n.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(appointments.len(), 2);
    for (name, (_, sql)) in appointments {
        assert!(!sql.contains("patient_name"), "{name} lists patient_name");
        assert!(sql.contains("NEW.patient_id"), "{name}");
    }
    let (_, users_ai) = &triggers["users_ai"];
    assert!(users_ai.contains("'password_hash', cd_fingerprint(NEW.password_hash)"));
    assert!(
        users_ai.contains("'password_hash', NEW.password_hash"),
        "replicated as is"
    );
    Ok(())
}

/// (d) Every table of the migrated database is registered (or internal), and every registry
/// entry is a table of it.
#[test]
fn every_table_is_registered() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let tables: BTreeSet<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let registered: BTreeSet<String> = registry::TABLES
        .iter()
        .map(|t| t.name.to_string())
        .chain(registry::INTERNAL_TABLES.iter().map(|t| t.to_string()))
        .collect();
    let unregistered: Vec<_> = tables.difference(&registered).collect();
    let missing: Vec<_> = registered.difference(&tables).collect();
    assert!(
        unregistered.is_empty() && missing.is_empty(),
        "tables without a registry entry: {unregistered:?}; registry entries without a table: {missing:?}"
    );
    Ok(())
}

/// (e) Immutable tables have no update trigger that audits or captures (an update would go
/// unrecorded) and no soft-delete trigger; their `_immutable_u/_d` triggers are the generator's,
/// and they really refuse UPDATE and DELETE. Mutable tables have no such triggers.
#[test]
fn immutable_tables_refuse_update_and_delete() -> Result<()> {
    let (_dir, conn) = migrated()?;
    let triggers = db_triggers(&conn)?;
    for spec in registry::TABLES {
        let refusals = registry::immutable_triggers(spec);
        let named_immutable: Vec<&String> = triggers
            .keys()
            .filter(|n| n.starts_with(&format!("{}_immutable_", spec.name)))
            .collect();
        assert_eq!(named_immutable.len(), refusals.len(), "{}", spec.name);
        for t in &refusals {
            let (table, sql) = triggers
                .get(&t.name)
                .with_context(|| format!("{} is missing", t.name))?;
            assert_eq!(table, spec.name);
            assert_same(&t.name, sql, &t.sql);
        }
        if spec.immutable {
            for suffix in ["au", "bd"] {
                assert!(!triggers.contains_key(&format!("{}_{suffix}", spec.name)));
            }
        }
    }
    // Behaviour, on a row of each immutable table (foreign keys off: only the triggers are
    // under test here).
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let columns = registry::schema_columns(None)?;
    for spec in registry::immutable() {
        let cols = &columns[spec.name];
        let notnull: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1) WHERE \"notnull\" = 1 AND dflt_value IS NULL")?
            .query_map([spec.name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        assert!(cols.contains(&"id".to_string()));
        // Minimal valid values: every CHECK of these tables accepts them.
        let values: Vec<String> = notnull.iter().map(|c| valid_value(spec.name, c)).collect();
        // Insert without the generated triggers (they call the app's SQL functions).
        conn.execute_batch(&format!("DROP TRIGGER {}_ai;", spec.name))?;
        conn.execute(
            &format!(
                "INSERT INTO {} ({}) VALUES ({})",
                spec.name,
                notnull.join(", "),
                values.join(", ")
            ),
            [],
        )
        .with_context(|| format!("insert into {}", spec.name))?;
        for sql in [
            format!("UPDATE {} SET created_at = created_at + 1", spec.name),
            format!("DELETE FROM {}", spec.name),
        ] {
            let err = conn.execute(&sql, []).expect_err(&sql).to_string();
            assert!(
                err.contains(&format!("{} is immutable", spec.name)),
                "{sql}: {err}"
            );
        }
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", spec.name), [], |r| {
            r.get(0)
        })?;
        assert_eq!(n, 1);
    }
    Ok(())
}

fn valid_value(table: &str, column: &str) -> String {
    match (table, column) {
        (_, "id") => "'row-1'".into(),
        ("ops_kpi_events", "event_type") => "'custom'".into(),
        ("ops_kpi_events", "event_date") | ("ops_capacity_snapshots", "snapshot_date") => {
            "'2030-01-07'".into()
        }
        ("appointment_status_history", "to_status") => "'pending'".into(),
        (_, c) if c.ends_with("_at") || c.ends_with("_timestamp") || c.ends_with("_hour") => {
            "1".into()
        }
        _ => "'x'".into(),
    }
}

/// Row structs never override `Table::ENTITY` or `Table::SPEC` (they come from the registry),
/// and each names a registered table.
#[test]
fn row_structs_take_their_entity_from_the_registry() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tables");
    let mut impls = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        for forbidden in ["const ENTITY", "const SPEC"] {
            assert!(
                !text.contains(forbidden),
                "{} overrides {forbidden}",
                path.display()
            );
        }
        impls += text.matches("impl Table for ").count();
        for line in text.lines() {
            if let Some(name) = line
                .trim()
                .strip_prefix("const NAME: &'static str = \"")
                .and_then(|r| r.strip_suffix("\";"))
            {
                assert!(
                    registry::spec(name).is_some(),
                    "{name} ({})",
                    path.display()
                );
            }
        }
        let names = text.matches("const NAME: &'static str = \"").count();
        assert_eq!(
            names,
            text.matches("impl Table for ").count(),
            "{}",
            path.display()
        );
    }
    assert!(impls >= 31, "{impls}");
    Ok(())
}

/// The committed trigger fingerprint (checked at every open) is that of the triggers after
/// every migration, in memory and in a migrated database file alike.
#[test]
fn trigger_fingerprint_is_current() -> Result<()> {
    let fresh = registry::fingerprint_of(&registry::expected_triggers()?);
    assert_eq!(
        registry::TRIGGER_FINGERPRINT,
        fresh,
        "stale: set TRIGGER_FINGERPRINT in crates/store/src/registry/fingerprint.rs to \"{fresh}\""
    );
    let (_dir, conn) = migrated()?;
    assert_eq!(
        registry::fingerprint_of(&registry::triggers_of(&conn)?),
        fresh
    );
    assert_eq!(registry::trigger_drift(&conn)?, None);
    Ok(())
}
