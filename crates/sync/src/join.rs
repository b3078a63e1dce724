//! A new PC joins (SYNC.md §4.2 "Initial sync", §4.3): `clinicdesk sync enrol --join`.
//!
//! 1. A fresh encrypted database is created beside the destination (`<db>.joining`), with its
//!    own key (keyring or key file), device id and database id.
//! 2. The owner enrols the device (its role and password; the password is kept like the DB
//!    key) for the server's live clinics, or those asked for.
//! 3. As the device, in one REPEATABLE READ snapshot bounded by `sync.clock`, every replicated
//!    table is read by binary `COPY` (row-level security gives the device exactly its rows)
//!    and loaded in one bulk transaction (no per-row audit or capture; one baseline audit
//!    event), with the cursor, server id and connection in the same transaction; loaded as the
//!    demo generator loads (`clinicdesk_store::bulk`: insert triggers suspended, indexes and
//!    the search index rebuilt after the rows).
//! 4. Foreign keys and every page's MAC are checked; only then is the file renamed into place.
//!
//! Any failure removes the new file and its kept password and revokes the device: nothing is
//! left half-joined. The destination must not exist (merging two databases is not supported).

use std::path::{Path, PathBuf};

use clinicdesk_server::admin::{self, ServerUrl};
use clinicdesk_store::{
    bulk, sync_meta, DbId, KeySource, RecoveryKey, SecretPlace, Store, WriteMode,
};
use postgres::binary_copy::BinaryCopyOutIter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use rusqlite::types::Value as Sql;

use crate::tables::{tables, Table};
use crate::{pull, Result, SyncError};

/// What joining needs.
pub struct JoinRequest<'a> {
    /// Where the new database goes (must not exist).
    pub dest: &'a Path,
    pub keys: &'a KeySource,
    /// Keep the sync password in this file instead of the keyring.
    pub sync_key_file: Option<PathBuf>,
    /// The server, as its owner (the URL's user).
    pub url: &'a ServerUrl,
    pub owner_password: &'a str,
    /// Clinic ids to sync; all live clinics of the server when None.
    pub clinics: Option<Vec<String>>,
}

/// What a join did.
#[derive(Debug)]
pub struct Joined {
    pub device_id: String,
    pub database_id: String,
    pub role: String,
    pub url: String,
    pub clinics: Vec<String>,
    pub rows: u64,
    pub server_seq: i64,
    /// Where the sync password is kept.
    pub password_place: String,
    /// The new database's recovery key (shown once).
    pub recovery_key: RecoveryKey,
    /// Where the load's time went (milliseconds; for `sync_bench` and support).
    pub phases: JoinPhases,
}

/// Where a join's writing side spent its time, in milliseconds.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct JoinPhases {
    /// Waiting for the reading thread (the server's COPY and its decoding).
    pub wait_ms: u64,
    /// Inserting the rows.
    pub insert_ms: u64,
    /// Rebuilding each table's indexes after its rows.
    pub index_ms: u64,
    /// Filling the patient search index.
    pub search_ms: u64,
    /// Committing the one transaction.
    pub commit_ms: u64,
    /// Checking foreign keys and every page's MAC before the file goes into place.
    pub check_ms: u64,
}

fn ms_since(t: std::time::Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn staging_of(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".joining");
    dest.with_file_name(name)
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_file(DbId::file_of(path));
}

pub fn join(req: &JoinRequest<'_>) -> Result<Joined> {
    if req.dest.exists() || DbId::file_of(req.dest).exists() {
        return Err(SyncError::Apply(format!(
            "{} already exists: a PC joins with a new database (nothing was changed)",
            req.dest.display()
        )));
    }
    // A key file this join creates goes again when the join fails (a retry must be able to
    // create it anew; an existing one is the user's and stays).
    let new_key_file = match req.keys {
        KeySource::File(p) if !p.exists() => Some(p.clone()),
        _ => None,
    };
    let forget_key = || {
        if let Some(p) = &new_key_file {
            let _ = std::fs::remove_file(p);
        }
    };
    let staging = staging_of(req.dest);
    remove_db_files(&staging); // a previous attempt that died
    let mut owner = req.url.connect(None, req.owner_password)?;
    let clinics = match &req.clinics {
        Some(c) => c.clone(),
        None => owner
            .query(
                "SELECT id::text FROM cd.clinics WHERE deleted_at IS NULL ORDER BY id",
                &[],
            )
            .map_err(|e| SyncError::from_pg(e, |c, m| SyncError::Protocol(format!("{c}: {m}"))))?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    };
    let store = Store::create(&staging, req.keys)?;
    let db_id = store.db_id()?;
    let device = store.device_id();
    let place = SecretPlace::sync(req.keys, &db_id, req.sync_key_file.clone());
    let refused = |store: Store, e: SyncError| {
        drop(store);
        remove_db_files(&staging);
        forget_key();
        Err(e)
    };
    if clinics.is_empty() {
        return refused(
            store,
            SyncError::Apply(
                "the server holds no clinic yet: enrol the first PC with --seed".into(),
            ),
        );
    }
    if let Some(c) = req
        .clinics
        .iter()
        .flatten()
        .find(|c| !server_has_clinic(&mut owner, c))
    {
        return refused(
            store,
            SyncError::Apply(format!(
                "{c:?} is not a clinic of this server (nothing was changed)"
            )),
        );
    }
    let enrolment = match admin::enrol_device(&mut owner, &device, &clinics, None) {
        Ok(e) => e,
        Err(e) => return refused(store, e.into()),
    };
    let role = enrolment.credentials.role.clone();
    let password = enrolment.credentials.password.clone();
    let kept = place.put_new(&password).map_err(SyncError::from);
    let committed = kept.and_then(|()| enrolment.commit().map_err(SyncError::from));
    if let Err(e) = committed {
        let _ = place.remove();
        return refused(store, e);
    }
    let url = req.url.with_user(&role);
    let loaded = load(&store, &url, &role, &password);
    let finished = loaded.and_then(|(rows, seq, phases)| {
        let rk = store.new_recovery_key(None)?;
        drop(store);
        std::fs::rename(&staging, req.dest)
            .map_err(|e| SyncError::Apply(format!("moving the new database into place: {e}")))?;
        let _ = std::fs::rename(DbId::file_of(&staging), DbId::file_of(req.dest));
        if let Some(dir) = req.dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((rows, seq, rk, phases))
    });
    match finished {
        Ok((rows, server_seq, recovery_key, phases)) => Ok(Joined {
            device_id: device.to_string(),
            database_id: db_id.to_string(),
            role,
            url,
            clinics,
            rows,
            server_seq,
            password_place: place.describe(),
            recovery_key,
            phases,
        }),
        Err(e) => {
            remove_db_files(&staging);
            forget_key();
            let _ = place.remove();
            let _ = admin::revoke_device(&mut owner, &device);
            Err(e)
        }
    }
}

/// Whether `id` names a live clinic of the server (as its owner).
fn server_has_clinic(owner: &mut postgres::Client, id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
        && owner
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM cd.clinics WHERE id = $1::text::uuid AND deleted_at IS NULL)",
                &[&id],
            )
            .is_ok_and(|r| r.get::<_, bool>(0))
}

/// The page cache of the joining load (MiB; the demo generator's measured choice is 1,536).
const JOIN_CACHE_MIB: i64 = 1024;

/// SQLite's sorter threads while the join rebuilds indexes (`PRAGMA threads`).
const JOIN_SORT_THREADS: i64 = 2;

fn pg_type(t: &Table, i: usize) -> Type {
    match t.columns[i].pg_type {
        "uuid" => Type::UUID,
        "bigint" => Type::INT8,
        "double precision" => Type::FLOAT8,
        _ => Type::TEXT,
    }
}

/// Rows decoded from the server's COPY, handed from the reading thread to the writing one.
enum Copied {
    /// The snapshot's clock and the server's id (first).
    Clock(i64, String),
    /// The next table's rows follow.
    Table(usize),
    Rows(Vec<Vec<Sql>>),
}

/// The table being loaded: its dropped indexes (to rebuild) and its insert.
type Loading<'w> = (
    &'static Table,
    Vec<(String, String)>,
    rusqlite::Statement<'w>,
);

/// How many rows the reading thread hands over at once.
const COPY_CHUNK: usize = 2048;

/// Read every replicated table in one snapshot (binary COPY, decoded here) and hand the rows
/// to `out`, table by table. Runs on its own thread, beside the SQLite writer.
fn read_server(
    url: &str,
    password: &str,
    out: &std::sync::mpsc::SyncSender<Result<Copied>>,
) -> Result<()> {
    let settings = crate::Settings {
        url: url.to_string(),
        password: password.to_string(),
    };
    let mut pg = settings.connect()?;
    let pg_err =
        |e: postgres::Error| SyncError::from_pg(e, |c, m| SyncError::Protocol(format!("{c}: {m}")));
    let gone = || SyncError::Apply("the join's writer stopped".into());
    let mut tx = pg
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg_err)?;
    // The device role's timeouts (60 s a statement, 30 s idle in a transaction) guard the
    // sync calls. Here a table's COPY lasts as long as this PC takes to write it (a large
    // clinic: minutes); the user can stop a join at any time.
    tx.batch_execute(
        "SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0",
    )
    .map_err(pg_err)?;
    let (server_seq, server_id) = pull::clock(&mut tx)?;
    out.send(Ok(Copied::Clock(server_seq, server_id)))
        .map_err(|_| gone())?;
    for (i, t) in tables()?.iter().enumerate() {
        out.send(Ok(Copied::Table(i))).map_err(|_| gone())?;
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let types: Vec<Type> = (0..t.columns.len()).map(|i| pg_type(t, i)).collect();
        let reader = tx
            .copy_out(&format!(
                "COPY (SELECT {} FROM cd.\"{}\" WHERE _seq <= {server_seq}) TO STDOUT (FORMAT binary)",
                cols.join(", "),
                t.name
            ))
            .map_err(pg_err)?;
        let mut it = BinaryCopyOutIter::new(reader, &types);
        let mut chunk = Vec::with_capacity(COPY_CHUNK);
        while let Some(r) = it.next().map_err(pg_err)? {
            let mut values: Vec<Sql> = Vec::with_capacity(types.len());
            for (i, ty) in types.iter().enumerate() {
                let v = match *ty {
                    Type::UUID => r
                        .try_get::<Option<uuid::Uuid>>(i)
                        .map(|v| v.map(|u| Sql::Text(u.to_string()))),
                    Type::INT8 => r.try_get::<Option<i64>>(i).map(|v| v.map(Sql::Integer)),
                    Type::FLOAT8 => r.try_get::<Option<f64>>(i).map(|v| v.map(Sql::Real)),
                    _ => r.try_get::<Option<String>>(i).map(|v| v.map(Sql::Text)),
                }
                .map_err(pg_err)?;
                values.push(v.unwrap_or(Sql::Null));
            }
            chunk.push(values);
            if chunk.len() == COPY_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(COPY_CHUNK));
                out.send(Ok(Copied::Rows(full))).map_err(|_| gone())?;
            }
        }
        if !chunk.is_empty() {
            out.send(Ok(Copied::Rows(chunk))).map_err(|_| gone())?;
        }
    }
    tx.commit().map_err(pg_err)?;
    Ok(())
}

/// Copy every replicated table into `store` in one bulk transaction; returns (rows, X, where
/// the time went). A thread reads and decodes the server's rows while this one writes them.
fn load(store: &Store, url: &str, role: &str, password: &str) -> Result<(u64, i64, JoinPhases)> {
    let (send, recv) = std::sync::mpsc::sync_channel::<Result<Copied>>(8);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            if let Err(e) = read_server(url, password, &send) {
                let _ = send.send(Err(e));
            }
        });
        let loaded = write_rows(store, url, role, &recv);
        // The writer failed: the reader stops at its next hand-over (the channel is closed).
        drop(recv);
        let _ = reader.join();
        loaded
    })
}

/// The writing side of [`load`]: everything the reader hands over, in one Bulk transaction.
fn write_rows(
    store: &Store,
    url: &str,
    role: &str,
    recv: &std::sync::mpsc::Receiver<Result<Copied>>,
) -> Result<(u64, i64, JoinPhases)> {
    let phases = std::cell::Cell::new(JoinPhases::default());
    let add = |f: fn(&mut JoinPhases) -> &mut u64, since: std::time::Instant| {
        let mut p = phases.get();
        *f(&mut p) += ms_since(since);
        phases.set(p);
    };
    let next = || -> Result<Option<Copied>> {
        let t = std::time::Instant::now();
        let m = recv.recv();
        add(|p| &mut p.wait_ms, t);
        match m {
            Ok(m) => m.map(Some),
            Err(_) => Ok(None),
        }
    };
    let Some(Copied::Clock(server_seq, server_id)) = next()? else {
        return Err(SyncError::Protocol(
            "the server's rows came before its clock".into(),
        ));
    };
    let body_done = std::cell::Cell::new(None);
    let rows = store.write_as(WriteMode::Bulk, None, |w| -> Result<u64> {
        // As the demo generator loads (store::bulk): the generated insert triggers (no-ops in
        // Bulk mode) suspended, every table's indexes rebuilt by one sort after its rows, the
        // search index filled by one statement at the end; a large page cache meanwhile.
        let all = tables()?;
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        let old_threads: i64 = w
            .query_row("PRAGMA threads", [], |r| r.get(0))
            .map_err(|e| SyncError::Store(e.into()))?;
        // Index rebuilds sort with a helper thread (the reader is done with a table by then).
        w.execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA threads = {JOIN_SORT_THREADS}",
            JOIN_CACHE_MIB * 1024
        ))
        .map_err(|e| SyncError::Store(e.into()))?;
        let triggers = bulk::suspend_insert_triggers(w, &names)?;
        let search = bulk::suspend_search_index(w, 64, true)?;
        let mut rows = 0u64;
        let mut current: Option<Loading<'_>> = None;
        let finish = |c: Option<Loading<'_>>| -> Result<()> {
            if let Some((_, indexes, stmt)) = c {
                drop(stmt);
                let t = std::time::Instant::now();
                bulk::restore(w, indexes.iter().map(|(_, sql)| sql))?;
                add(|p| &mut p.index_ms, t);
            }
            Ok(())
        };
        let mut seen = 0usize;
        while let Some(m) = next()? {
            match m {
                Copied::Clock(..) => {
                    return Err(SyncError::Protocol("the server's clock came twice".into()))
                }
                Copied::Table(i) => {
                    finish(current.take())?;
                    let t = all.get(i).ok_or_else(|| {
                        SyncError::Protocol(format!("the server sent table {i} of {}", all.len()))
                    })?;
                    let indexes = bulk::drop_indexes(w, &t.name, None)?;
                    let stmt = w
                        .prepare(&insert_sql(t))
                        .map_err(|e| SyncError::Store(e.into()))?;
                    current = Some((t, indexes, stmt));
                    seen += 1;
                }
                Copied::Rows(chunk) => {
                    let Some((t, _, stmt)) = current.as_mut() else {
                        return Err(SyncError::Protocol("rows before their table".into()));
                    };
                    let started = std::time::Instant::now();
                    for values in &chunk {
                        stmt.execute(rusqlite::params_from_iter(values.iter()))
                            .map_err(|e| SyncError::Apply(format!("{}: {e}", t.name)))?;
                    }
                    add(|p| &mut p.insert_ms, started);
                    rows += chunk.len() as u64;
                }
            }
        }
        finish(current.take())?;
        if seen != all.len() {
            // The reader stopped early; its error came through `next` unless it panicked.
            return Err(SyncError::Apply(format!(
                "the server's copy stopped after {seen} of {} tables",
                all.len()
            )));
        }
        bulk::restore(w, &triggers)?;
        let t = std::time::Instant::now();
        search.resume(w)?;
        add(|p| &mut p.search_ms, t);
        // The large cache stays for the baseline and the commit (`write_as` restores it).
        w.execute_batch(&format!("PRAGMA threads = {old_threads}"))
            .map_err(|e| SyncError::Store(e.into()))?;
        for (k, v) in [
            (sync_meta::URL, url.to_string()),
            (sync_meta::ROLE, role.to_string()),
            (sync_meta::PULL_CURSOR, server_seq.to_string()),
            (sync_meta::PUSH_ACKED_SEQ, "0".to_string()),
            (sync_meta::SERVER_ID, server_id.clone()),
            (sync_meta::INCARNATION, uuid::Uuid::now_v7().to_string()),
        ] {
            sync_meta::set(w, k, &v)?;
        }
        body_done.set(Some(std::time::Instant::now()));
        Ok(rows)
    })?;
    if let Some(t) = body_done.get() {
        add(|p| &mut p.commit_ms, t);
    }
    // The rows came from a server that checks the same constraints, into tables SQLite
    // built in this one transaction: what is left to prove before the file goes into place
    // is that every reference resolves and every page reads back with a valid MAC. (A full
    // `integrity_check` re-reads every index against its table: 17 s of the large demo's
    // join, for what SQLite itself just wrote.)
    let checking = std::time::Instant::now();
    let problems = store.read(|c| -> Result<Vec<String>> {
        let mut stmt = c
            .prepare("PRAGMA foreign_key_check")
            .map_err(|e| SyncError::Store(e.into()))?;
        let found = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{} row {} refers to a missing {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?
                ))
            })
            .map_err(|e| SyncError::Store(e.into()))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| SyncError::Store(e.into()))?;
        Ok(found)
    })?;
    let mut problems = problems;
    problems.extend(store.page_check()?);
    add(|p| &mut p.check_ms, checking);
    if !problems.is_empty() {
        return Err(SyncError::Apply(format!(
            "the initial copy is inconsistent: {}",
            problems.join("; ")
        )));
    }
    Ok((rows, server_seq, phases.get()))
}

/// The insert of one pulled row into a new database. Rows a migration already seeded (the
/// system goal templates) take the server's values. An appointment brings its patient's
/// display name (a local column the V5 trigger would otherwise fill by a second write).
fn insert_sql(t: &Table) -> String {
    let mut names: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let mut marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
    if t.name == "appointments" {
        if let Some(p) = t.index_of("patient_id") {
            names.push("patient_name".into());
            marks.push(format!(
                "(SELECT p.first_name || ' ' || p.last_name FROM patients p WHERE p.id = ?{})",
                p + 1
            ));
        }
    }
    let sets: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.name != "id")
        .map(|c| format!("\"{0}\" = excluded.\"{0}\"", c.name))
        .collect();
    let conflict = if t.immutable || sets.is_empty() {
        "NOTHING".to_string()
    } else {
        format!("UPDATE SET {}", sets.join(", "))
    };
    format!(
        "INSERT INTO \"{}\" ({}) VALUES ({}) ON CONFLICT (id) DO {conflict}",
        t.name,
        names.join(", "),
        marks.join(", ")
    )
}
