//! The replicated tables as the sync client sees them: the server's mirror of each (columns
//! and their PostgreSQL types, from `clinicdesk_server::schema`, itself generated from the
//! store's registry and the SQLite schema) and its merge groups, computed once per process.

use std::sync::OnceLock;

use clinicdesk_server::evolve::MIRRORED_VERSION;
use clinicdesk_server::schema;

use crate::{Result, SyncError};

/// One mirrored column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `uuid`, `bigint`, `double precision` or `text`.
    pub pg_type: &'static str,
}

/// One replicated table.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub immutable: bool,
    /// The merge groups, each named by its first column (as in the server's `_v`).
    pub groups: Vec<Vec<String>>,
}

impl Table {
    /// The group (its columns) `column` belongs to.
    pub fn group_of(&self, column: &str) -> Option<&[String]> {
        self.groups
            .iter()
            .find(|g| g.iter().any(|c| c == column))
            .map(Vec::as_slice)
    }

    pub fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }
}

/// Every replicated table, parents before children where the load order matters (patients
/// before appointments: the appointment insert reads the patient's name).
pub fn tables() -> Result<&'static [Table]> {
    static TABLES: OnceLock<std::result::Result<Vec<Table>, String>> = OnceLock::new();
    TABLES
        .get_or_init(|| load().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| SyncError::Protocol(format!("the replicated tables: {e}")))
}

fn load() -> std::result::Result<Vec<Table>, clinicdesk_server::ServerError> {
    let mut out = Vec::new();
    for m in schema::mirrors(Some(MIRRORED_VERSION))? {
        let groups = clinicdesk_server::push::merge_groups(&m)?;
        let immutable = clinicdesk_store::registry::spec(&m.name).is_some_and(|s| s.immutable);
        out.push(Table {
            name: m.name.clone(),
            columns: m
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    pg_type: c.pg_type,
                })
                .collect(),
            immutable,
            groups,
        });
    }
    out.sort_by_key(|t| (t.name != "patients", t.name.clone()));
    Ok(out)
}

/// The table named `name`, if it replicates.
pub fn table(name: &str) -> Result<Option<&'static Table>> {
    Ok(tables()?.iter().find(|t| t.name == name))
}
