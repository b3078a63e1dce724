//! Seeding the server from the first PC's database (SYNC.md §4.3, `clinicdesk sync enrol
//! --seed`): every row of every replicated table (tombstones included) is copied into its
//! `cd.` mirror by the owner, inside the enrolment's transaction, from one SQLite snapshot.
//! Hidden columns: `_v0` = one version from the seeder's HLC (rank device), `_seq` =
//! `sync.stamp()` per row, `_dev` = the seeding device. The server must hold no rows yet:
//! exactly one PC seeds, the others join empty.
//!
//! Not done here yet: `sync.case_counters` (from the case-number blocks and used numbers) and
//! row-by-row INSERTs are used instead of COPY into staging tables (fine on loopback; a hosted
//! server will want COPY).

use clinicdesk_store::{DeviceId, Hlc};
use clinicdesk_wire::merge::{Rank, Version};
use postgres::types::ToSql;
use rusqlite::types::ValueRef;

use crate::admin::{AdminError, AdminResult};
use crate::schema::{self, SQLITE_VERSION};

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
    let mirrors = schema::mirrors(Some(SQLITE_VERSION))?;
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
        let n = m.columns.len();
        let values: Vec<String> = m
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::text::{}", i + 1, c.pg_type))
            .collect();
        let insert = tx.prepare(&format!(
            "INSERT INTO cd.{} ({}, _v0, _seq, _dev) VALUES ({}, ${}, sync.stamp(), ${}::text::uuid)",
            m.name,
            names.join(", "),
            values.join(", "),
            n + 1,
            n + 2
        ))?;
        let mut select = from
            .local
            .prepare(&format!("SELECT {} FROM \"{}\"", names.join(", "), m.name))
            .map_err(local_err)?;
        let mut found = select.query([]).map_err(local_err)?;
        while let Some(r) = found.next().map_err(local_err)? {
            let mut text: Vec<Option<String>> = Vec::with_capacity(n);
            for i in 0..n {
                text.push(match r.get_ref(i).map_err(local_err)? {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string()),
                    ValueRef::Real(v) => Some(v.to_string()),
                    ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => {
                        return Err(AdminError::Refused(format!(
                            "cannot seed {}.{}: a blob",
                            m.name, m.columns[i].name
                        )))
                    }
                });
            }
            let mut params: Vec<&(dyn ToSql + Sync)> = text.iter().map(|v| v as _).collect();
            params.push(&version);
            params.push(&dev);
            tx.execute(&insert, &params)?;
            rows += 1;
        }
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
