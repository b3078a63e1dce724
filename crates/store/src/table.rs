//! A small generic layer over the row structs of `tables/`: a row struct serialises (serde) to
//! its columns, and reads back from `SELECT *`. Writes go through the audit and change-capture
//! triggers like any other write. Table-specific queries live beside each row struct.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Map;

use crate::error::{Result, StoreError};
use crate::registry::{self, TableSpec};

pub trait Table: Serialize + DeserializeOwned {
    /// SQL table name: an entry of `registry::TABLES` (the build fails when `SPEC` or `ENTITY`
    /// is used for a name that is not).
    const NAME: &'static str;
    /// The table's registry entry. Implementations never override it (`tests/generated.rs`).
    const SPEC: &'static TableSpec = registry::spec_of(Self::NAME);
    /// What the user calls one row ("patient", "credential type"): the registry's `entity`.
    /// Implementations never override it (`tests/generated.rs`).
    const ENTITY: &'static str = Self::SPEC.entity;
    /// The row's id: the entity's newtype (`ClinicId` for a clinic), so an id of another
    /// entity cannot be passed by mistake.
    type Id: std::fmt::Display;
    fn id(&self) -> Self::Id;
}

fn to_columns<T: Serialize>(row: &T) -> Result<Map<String, serde_json::Value>> {
    match serde_json::to_value(row).map_err(|e| StoreError::Data(e.to_string()))? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(StoreError::Data("a row must serialise to an object".into())),
    }
}

fn to_sql(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(b as i64),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

fn from_sql(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or_default(),
        ValueRef::Text(t) => serde_json::Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => serde_json::Value::String(hex::encode(b)),
    }
}

/// Map one result row (any column list) onto `T` by column name.
pub fn map_row<T: DeserializeOwned>(row: &rusqlite::Row<'_>) -> rusqlite::Result<T> {
    let stmt = row.as_ref();
    let mut m = Map::with_capacity(stmt.column_count());
    for i in 0..stmt.column_count() {
        m.insert(stmt.column_name(i)?.to_string(), from_sql(row.get_ref(i)?));
    }
    serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub fn insert<T: Table>(conn: &Connection, row: &T) -> Result<()> {
    let cols = to_columns(row)?;
    let names: Vec<&str> = cols.keys().map(String::as_str).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        T::NAME,
        names.join(", "),
        (1..=names.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let values: Vec<Value> = cols.into_iter().map(|(_, v)| to_sql(v)).collect();
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Write every column of `row` (except id and created_at) back; the triggers record only the
/// columns that actually changed.
pub fn update<T: Table>(conn: &Connection, row: &T) -> Result<()> {
    let id = row.id().to_string();
    let cols = to_columns(row)?;
    let mut sets = Vec::new();
    let mut values = Vec::new();
    for (k, v) in cols {
        if k == "id" || k == "created_at" {
            continue;
        }
        values.push(to_sql(v));
        sets.push(format!("{k} = ?{}", values.len()));
    }
    values.push(Value::Text(id.clone()));
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ?{}",
        T::NAME,
        sets.join(", "),
        values.len()
    );
    let n = conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: T::ENTITY,
            id,
        });
    }
    Ok(())
}

/// Soft delete: sets deleted_at (the tombstone replicates like any other change).
pub fn soft_delete<T: Table>(conn: &Connection, id: &T::Id, now_ms: i64) -> Result<()> {
    let id = id.to_string();
    let sql = format!(
        "UPDATE {} SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
        T::NAME
    );
    let n = conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params![now_ms, id])?;
    if n == 0 {
        return Err(StoreError::NotFound {
            entity: T::ENTITY,
            id: id.to_string(),
        });
    }
    Ok(())
}

/// A row by id, including soft-deleted rows (check `deleted_at` where it matters).
pub fn get<T: Table>(conn: &Connection, id: &T::Id) -> Result<Option<T>> {
    let id = id.to_string();
    let sql = format!("SELECT * FROM {} WHERE id = ?1", T::NAME);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([&id])?;
    match rows.next()? {
        Some(r) => Ok(Some(map_row(r)?)),
        None => Ok(None),
    }
}

/// A live (not soft-deleted) row by id, or NotFound.
pub fn get_live<T: Table>(conn: &Connection, id: &T::Id) -> Result<T> {
    let id = id.to_string();
    let sql = format!(
        "SELECT * FROM {} WHERE id = ?1 AND deleted_at IS NULL",
        T::NAME
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([&id])?;
    match rows.next()? {
        Some(r) => Ok(map_row(r)?),
        None => Err(StoreError::NotFound {
            entity: T::ENTITY,
            id: id.to_string(),
        }),
    }
}

/// `SELECT * FROM table <rest>` mapped onto `T`.
pub fn select<T: Table, P: Params>(conn: &Connection, rest: &str, params: P) -> Result<Vec<T>> {
    let sql = format!("SELECT * FROM {} {rest}", T::NAME);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, map_row::<T>)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// serde helper: SQLite stores booleans as 0/1.
pub fn bool_int<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        B(bool),
        I(i64),
    }
    Ok(match B::deserialize(d)? {
        B::B(b) => b,
        B::I(i) => i != 0,
    })
}

/// serde helper: a JSON column comes back from SQLite as text.
pub fn json_text<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> std::result::Result<T, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match v {
        serde_json::Value::String(s) => serde_json::from_str(&s).map_err(serde::de::Error::custom),
        other => serde_json::from_value(other).map_err(serde::de::Error::custom),
    }
}
