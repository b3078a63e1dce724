//! Seeding the server from the first PC's database (SYNC.md §4.3, `clinicdesk sync enrol
//! --seed`): every row of every replicated table (tombstones included) is copied into its
//! `cd.` mirror by the owner, inside the enrolment's transaction, from one SQLite snapshot.
//! Hidden columns: `_v0` = one version from the seeder's HLC (rank device), `_seq` =
//! `sync.stamp()` per row, `_dev` = the seeding device. The server must hold no rows yet:
//! exactly one PC seeds, the others join empty.
//!
//! Rows travel by binary COPY into a temporary table (COPY FROM cannot write a table under
//! row-level security), then one `INSERT … SELECT` per table stamps them with one clock range.
//!
//! Not done here yet: `sync.case_counters` (from the case-number blocks and used numbers).

use clinicdesk_store::{DeviceId, Hlc};
use clinicdesk_wire::merge::{Rank, Version};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::types::ValueRef;

use crate::admin::{AdminError, AdminResult};
use crate::evolve::MIRRORED_VERSION;
use crate::schema;

/// The local database to seed from: a connection inside a read transaction (one snapshot).
pub struct Seed<'a> {
    pub local: &'a rusqlite::Connection,
    /// The seeder's HLC (its latest), for the rows' `_v0`.
    pub hlc: Hlc,
}

/// What the seed copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub rows: u64,
    /// The last local change the server now holds (`max(change_log.seq)` of the snapshot): the
    /// device's push watermark.
    pub push_acked_seq: i64,
    /// The server's clock after the seed: the seeding PC holds every row up to it (its pull
    /// cursor), so its first pull does not download its own data again.
    pub server_seq: i64,
}

pub(crate) fn seed(
    tx: &mut postgres::Transaction<'_>,
    from: &Seed<'_>,
    device: &DeviceId,
) -> AdminResult<Seeded> {
    let version = Version::new(Rank::Device, from.hlc, from.hlc, *device)
        .map_err(|e| AdminError::Refused(format!("cannot seed: {e}")))?
        .encode();
    let mirrors = schema::mirrors(Some(MIRRORED_VERSION))?;
    for m in &mirrors {
        let held: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM cd.{})", m.name), &[])?
            .get(0);
        if held {
            return Err(AdminError::Refused(format!(
                "the server already holds data (cd.{}): only the first PC seeds it; enrol this one without --seed; nothing was changed",
                m.name
            )));
        }
    }
    let local_err =
        |e: rusqlite::Error| AdminError::Refused(format!("reading the local database: {e}"));
    let mut rows = 0u64;
    let dev = device.to_string();
    for m in &mirrors {
        let names: Vec<String> = m
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let types: Vec<Type> = m
            .columns
            .iter()
            .map(|c| match c.pg_type {
                "uuid" => Type::UUID,
                "bigint" => Type::INT8,
                "double precision" => Type::FLOAT8,
                _ => Type::TEXT,
            })
            .collect();
        // COPY FROM cannot write a table under row-level security: the rows go into a
        // temporary table first, then into the mirror with one INSERT … SELECT.
        tx.batch_execute(&format!(
            "CREATE TEMP TABLE seed_rows ON COMMIT DROP AS SELECT {} FROM cd.\"{}\" WITH NO DATA",
            names.join(", "),
            m.name
        ))?;
        let sink = tx.copy_in(&format!(
            "COPY seed_rows ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        ))?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        let mut select = from
            .local
            .prepare(&format!("SELECT {} FROM \"{}\"", names.join(", "), m.name))
            .map_err(local_err)?;
        let mut found = select.query([]).map_err(local_err)?;
        let mut n = 0i64;
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(types.len());
        while let Some(r) = found.next().map_err(local_err)? {
            values.clear();
            for (i, ty) in types.iter().enumerate() {
                let bad = |what: &str| {
                    AdminError::Refused(format!(
                        "cannot seed {}.{}: {what}",
                        m.name, m.columns[i].name
                    ))
                };
                let v = r.get_ref(i).map_err(local_err)?;
                values.push(match (v, ty) {
                    (ValueRef::Null, &Type::UUID) => {
                        Box::new(None::<uuid::Uuid>) as Box<dyn ToSql + Sync>
                    }
                    (ValueRef::Null, &Type::INT8) => Box::new(None::<i64>),
                    (ValueRef::Null, &Type::FLOAT8) => Box::new(None::<f64>),
                    (ValueRef::Null, _) => Box::new(None::<String>),
                    (ValueRef::Integer(x), &Type::INT8) => Box::new(x),
                    (ValueRef::Integer(x), &Type::FLOAT8) => Box::new(x as f64),
                    (ValueRef::Real(x), &Type::FLOAT8) => Box::new(x),
                    (ValueRef::Text(t), &Type::UUID) => Box::new(
                        uuid::Uuid::parse_str(&String::from_utf8_lossy(t))
                            .map_err(|_| bad("not a valid id"))?,
                    ),
                    (ValueRef::Text(t), &Type::TEXT) => {
                        Box::new(String::from_utf8_lossy(t).into_owned())
                    }
                    _ => {
                        return Err(bad(&format!(
                            "a {:?} value for a {ty} column",
                            v.data_type()
                        )))
                    }
                });
            }
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
            writer.write(&refs)?;
            n += 1;
        }
        writer.finish()?;
        if n > 0 {
            // One clock range for the table's rows (not one clock update per row).
            let base: i64 = tx
                .query_one(
                    "UPDATE sync.clock SET seq = seq + $1 WHERE id = 1 RETURNING seq - $1",
                    &[&n],
                )?
                .get(0);
            // The first PC's appointments are history: outside the overlap backstop of
            // V7 (`_judged`), like an upgraded server's older rows (ARCHITECTURE invariant 39).
            let (judged, not_judged) = if m.name == "appointments" {
                (", _judged", ", false")
            } else {
                ("", "")
            };
            tx.execute(
                &format!(
                    "INSERT INTO cd.\"{}\" ({cols}, _v0, _seq, _dev{judged})
                     SELECT {cols}, $1, $2 + row_number() OVER (), $3::text::uuid{not_judged} FROM seed_rows",
                    m.name,
                    cols = names.join(", ")
                ),
                &[&version, &base, &dev],
            )?;
        }
        tx.batch_execute("DROP TABLE seed_rows")?;
        rows += n as u64;
    }
    let push_acked_seq: i64 = from
        .local
        .query_row("SELECT coalesce(max(seq), 0) FROM change_log", [], |r| {
            r.get(0)
        })
        .map_err(local_err)?;
    let server_seq: i64 = tx
        .query_one("SELECT seq FROM sync.clock WHERE id = 1", &[])?
        .get(0);
    Ok(Seeded {
        rows,
        push_acked_seq,
        server_seq,
    })
}
