//! Filling a new database with many rows in one `WriteMode::Bulk` transaction, fast: what the
//! demo generator measured (crates/demo `Tuning`), shared with a joining PC's initial copy.
//!
//! Everything here happens inside the caller's transaction, so a rollback restores every
//! trigger and index it dropped; each is recreated from its exact SQL (`sqlite_master`), so
//! the schema after the load is the schema before it (the trigger fingerprint checks it).
//!
//! - The generated audit/change-capture AFTER INSERT triggers of the loaded tables write
//!   nothing in Bulk mode, but evaluating them per row costs more than the insert itself.
//! - Indexes written in random order are cheaper to rebuild by one sort after the load.
//! - The patient search index is filled after the load by one `INSERT … SELECT` with exactly
//!   its AFTER INSERT trigger's expression (a statement into a table with triggers also
//!   flushes FTS5's pending data into a new segment), with a larger pending-changes buffer.

use rusqlite::OptionalExtension;

use crate::error::{Result, StoreError};
use crate::registry;
use crate::WriteTx;

/// FTS5's default `hashsize` (1 MiB), restored when none was set.
const FTS5_DEFAULT_HASHSIZE: i64 = 1 << 20;

/// Drop the generated AFTER INSERT (audit and capture) trigger of each of `tables` (replicated
/// tables of the registry) and return their SQL, for [`restore`]. Other triggers stay.
pub fn suspend_insert_triggers(tx: &WriteTx<'_>, tables: &[&str]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for table in tables {
        let Some(name) = registry::spec(table).and_then(|t| t.insert_trigger_name()) else {
            return Err(StoreError::Data(format!(
                "a bulk load fills {table}, which is not a replicated table of the registry"
            )));
        };
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [&name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(sql) = sql {
            tx.execute_batch(&format!("DROP TRIGGER \"{name}\";"))?;
            found.push(sql);
        }
    }
    Ok(found)
}

/// Drop the indexes of `table` created by SQL — those named in `names`, or all of them when
/// None (the primary key and UNIQUE constraints' own indexes stay) — and return their SQL.
pub fn drop_indexes(
    tx: &WriteTx<'_>,
    table: &str,
    names: Option<&[&str]>,
) -> Result<Vec<(String, String)>> {
    let indexes: Vec<(String, String)> = {
        let mut q = tx.prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL
               AND (?2 IS NULL OR name IN (SELECT value FROM json_each(?2)))",
        )?;
        let names = names.map(|n| serde_json::to_string(n).unwrap_or_default());
        let rows = q.query_map(rusqlite::params![table, names], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\";", name.replace('"', "\"\"")))?;
    }
    Ok(indexes)
}

/// Run each statement of `sql` (the triggers and indexes returned above) again.
pub fn restore<'a>(tx: &WriteTx<'_>, sql: impl IntoIterator<Item = &'a String>) -> Result<()> {
    for s in sql {
        tx.execute_batch(s)?;
    }
    Ok(())
}

/// The patient search index, suspended while patients are loaded ([`suspend_search_index`]).
#[derive(Debug)]
pub struct SuspendedSearch {
    /// The AFTER INSERT trigger's SQL and the backfill statement derived from it (None: the
    /// trigger was not of the known form and stays in place).
    trigger: Option<(String, String)>,
    /// The `hashsize` to restore.
    hashsize: Option<i64>,
}

/// Suspend the patient search index's row-by-row upkeep: with `fill_after`, its AFTER INSERT
/// trigger is dropped (when it has the form [`fts_backfill_sql`] understands); its
/// pending-changes buffer is set to `hash_mib` MiB (0: left alone).
/// [`SuspendedSearch::resume`] fills it and restores both.
pub fn suspend_search_index(
    tx: &WriteTx<'_>,
    hash_mib: i64,
    fill_after: bool,
) -> Result<SuspendedSearch> {
    let hashsize = if hash_mib > 0 {
        let old: Option<i64> = tx
            .query_row(
                "SELECT CAST(v AS INTEGER) FROM patients_fts_config WHERE k = 'hashsize'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO patients_fts(patients_fts, rank) VALUES ('hashsize', ?1)",
            [hash_mib << 20],
        )?;
        Some(old.unwrap_or(FTS5_DEFAULT_HASHSIZE))
    } else {
        None
    };
    let sql: Option<String> = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'patients_fts_ai'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .filter(|_| fill_after);
    let trigger = match sql.as_deref().and_then(fts_backfill_sql) {
        Some(backfill) => {
            tx.execute_batch("DROP TRIGGER patients_fts_ai;")?;
            sql.map(|sql| (sql, backfill))
        }
        None => None,
    };
    Ok(SuspendedSearch { trigger, hashsize })
}

impl SuspendedSearch {
    /// Fill the search index for every patient loaded meanwhile (one statement) and restore
    /// its trigger and buffer.
    pub fn resume(self, tx: &WriteTx<'_>) -> Result<()> {
        if let Some((trigger, backfill)) = &self.trigger {
            tx.execute_batch(backfill)?;
            tx.execute_batch(trigger)?;
        }
        if let Some(old) = self.hashsize {
            tx.execute(
                "INSERT INTO patients_fts(patients_fts, rank) VALUES ('hashsize', ?1)",
                [old],
            )?;
        }
        Ok(())
    }
}

/// The `INSERT … SELECT` that does for every row of `patients` what the search index's AFTER
/// INSERT trigger `sql` does for one: its `VALUES (NEW.rowid, …)` expression over the table.
/// None when the trigger is not a single insert of that form.
pub fn fts_backfill_sql(sql: &str) -> Option<String> {
    let body = sql.split_once(" BEGIN")?.1.trim();
    let body = body
        .strip_suffix("END")?
        .trim_end()
        .strip_suffix(';')?
        .trim();
    let values = body
        .strip_prefix("INSERT INTO patients_fts(rowid, search) VALUES (")?
        .strip_suffix(')')?;
    if values.contains(';') || !values.starts_with("NEW.rowid,") {
        return None;
    }
    Some(format!(
        "INSERT INTO patients_fts(rowid, search) SELECT {} FROM patients AS NEW ORDER BY NEW.rowid",
        values
    ))
}
