//! Opening the encrypted database, the per-connection SQL functions the triggers call, and the
//! transaction entry points (`Store::write`, `Store::read`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::audit::{self, Seal, SealKey};
use crate::error::{Result, StoreError};
use crate::key::{DbId, DbKey, KeySource};
use crate::registry;
use clinicdesk_wire::{DeviceId, Hlc};

mod backup_file;
pub use backup_file::{read_header as read_backup_header, BackupHeader};

mod embedded {
    refinery::embed_migrations!("../../migrations/sqlite");
}

/// Per-connection state read by the trigger functions.
#[derive(Debug, Clone)]
struct ConnState {
    user_id: Option<String>,
    now_ms: i64,
    capture: bool,
    audit: bool,
}

impl Default for ConnState {
    fn default() -> Self {
        ConnState {
            user_id: None,
            now_ms: 0,
            capture: true,
            audit: true,
        }
    }
}

struct Conn {
    conn: Connection,
    state: Arc<Mutex<ConnState>>,
}

/// How a write transaction is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// A local change: audited and captured for sync.
    Local,
    /// A change received from another PC: audited, not captured again.
    Remote,
    /// Bulk generation of demo data on a fresh database: neither audited row by row nor
    /// captured (the caller appends one summary audit event). Not replicated.
    Bulk,
}

/// The actor and clock of one write transaction.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub user_id: Option<String>,
    pub now_ms: i64,
    pub device_id: String,
}

/// The local encrypted store. Cheap to share behind an `Arc`; one writer connection, a few
/// reader connections (WAL lets reads run beside the write).
pub struct Store {
    path: PathBuf,
    key: DbKey,
    device_id: DeviceId,
    hlc: Arc<Mutex<Hlc>>,
    writer: Mutex<Conn>,
    readers: Mutex<Vec<Connection>>,
    /// The audit verification key K_0 when this open created it, until taken.
    initial_seal_key: Mutex<Option<SealKey>>,
    /// Local (captured) transactions committed through this handle: the sync loop's wake-up.
    local_commits: std::sync::atomic::AtomicU64,
    /// Commits through this handle (every write mode): every `CHECKPOINT_EVERY_COMMITS`th
    /// wakes the background checkpointer.
    commits: std::sync::atomic::AtomicU64,
    checkpointer: Checkpointer,
}

/// How many commits between two background checkpoints (~100 KiB of WAL per ordinary write,
/// so a few MiB: far below the write path's own `WAL_AUTOCHECKPOINT_PAGES`).
const CHECKPOINT_EVERY_COMMITS: u64 = 64;

/// A thread of the store's own that copies the WAL back into the database (`PASSIVE`: never
/// blocking a writer) whenever the writer has committed `CHECKPOINT_EVERY_COMMITS` more
/// transactions, so the commit that crosses `WAL_AUTOCHECKPOINT_PAGES` — which checkpoints
/// inside that write (~0.5 s for 32 MiB here) — does not come in normal use. It opens its own
/// connection for each checkpoint and ends with the store (its channel closes).
struct Checkpointer {
    wake: Mutex<Option<std::sync::mpsc::SyncSender<()>>>,
    done: Arc<std::sync::atomic::AtomicU64>,
}

impl Checkpointer {
    fn start(path: PathBuf, key: DbKey) -> Checkpointer {
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = done.clone();
        let spawned = std::thread::Builder::new()
            .name("clinicdesk-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // A connection per checkpoint, closed after it: an idle one would keep a
                    // bulk load from leaving WAL mode (it needs every other connection closed).
                    let Ok(c) = open_keyed(
                        &path,
                        &key,
                        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    ) else {
                        continue;
                    };
                    if c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0))
                        .is_ok()
                    {
                        counter.fetch_add(1, std::sync::atomic::Ordering::Release);
                    }
                }
            });
        Checkpointer {
            // Without the thread (it could not start), the write path's autocheckpoint remains.
            wake: Mutex::new(spawned.ok().map(|_| wake)),
            done,
        }
    }

    fn nudge(&self) {
        if let Some(w) = lock(&self.wake).as_ref() {
            // Full: a checkpoint is already due; it will cover these commits too.
            let _ = w.try_send(());
        }
    }
}

/// The environment variable that shifts this process's clock by a number of milliseconds
/// (read once): how the sync tests give each PC process a wrong clock (SYNC.md §6, §8), as a
/// PC with a badly set BIOS clock has. Unset in normal use.
pub const CLOCK_SKEW_ENV: &str = "CLINICDESK_CLOCK_SKEW_MS";

/// The wall clock every timestamp and HLC of this store is taken from (ms since the epoch).
pub fn now_ms() -> i64 {
    static SKEW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let skew = *SKEW.get_or_init(|| {
        std::env::var(CLOCK_SKEW_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    });
    chrono::Utc::now().timestamp_millis() + skew
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Open a connection and unlock it with the key; fails clearly on a wrong key or a build
/// without encryption.
/// Initialise SQLite (and SQLCipher's crypto provider) exactly once, before the first
/// connection. `sqlite3_initialize` marks the library initialised *before* it runs SQLCipher's
/// extra initialisation, so without this a second thread opening its first connection at the
/// same moment gets "An error occurred with PRAGMA key" (SQLCipher not yet initialised).
pub(crate) fn sqlite_ready() -> Result<()> {
    static INIT: std::sync::OnceLock<std::os::raw::c_int> = std::sync::OnceLock::new();
    // SAFETY: sqlite3_initialize takes no arguments and may be called at any time; the OnceLock
    // makes every other opener wait until the first call (extra init included) has returned.
    let rc = *INIT.get_or_init(|| unsafe { rusqlite::ffi::sqlite3_initialize() });
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rc),
            Some("SQLite failed to initialise".into()),
        )))
    }
}

/// A keyed connection to an existing database, without the app's SQL functions or migrations:
/// for maintenance tools and for tests that tamper with the file underneath the app.
pub fn open_raw(path: &Path, key: &DbKey) -> Result<Connection> {
    if !path.exists() {
        return Err(StoreError::NoDatabase(path.to_path_buf()));
    }
    open_keyed(path, key, OpenFlags::SQLITE_OPEN_READ_WRITE)
}

/// The last captured change (`change_log.seq`), 0 when none: a lookup of the rowid's end.
fn last_change_seq(c: &Connection) -> Result<i64> {
    Ok(
        c.query_row("SELECT coalesce(max(seq), 0) FROM change_log", [], |r| {
            r.get(0)
        })?,
    )
}

/// Record the transaction's captured changes (those after `before`) as one unit of the push,
/// in the transaction itself (V10 `sync_txn`); nothing when it captured none.
/// FTS5 merges the segments of a level once enough of them are there (`automerge`,
/// `crisismerge`), and a bulk fill leaves the whole index as one segment on level 0, where
/// every new row's segment lands: the 16th to 64th write after a demo load or a large import
/// merged it (a ~1.5 s rewrite of the index, inside a receptionist's write), and again a few
/// hundred writes later. Here the index is forced through one merge now (`crisismerge` 2 and a
/// one-row rewrite): the big segment moves to level 1, above the small segments writes make;
/// with `automerge` off (V12) and `crisismerge` 64 a write at worst merges 64 small segments,
/// and the housekeeping thread merges the rest in small steps (`Store::merge_search_index`).
fn settle_search_index(c: &Connection) -> Result<()> {
    let first: Option<i64> =
        c.query_row("SELECT min(rowid) FROM patients_fts", [], |r| r.get(0))?;
    let Some(rowid) = first else {
        return Ok(());
    };
    c.execute_batch("INSERT INTO patients_fts(patients_fts, rank) VALUES ('crisismerge', 2);")?;
    let merged = c.execute(
        "UPDATE patients_fts SET search = search WHERE rowid = ?1",
        [rowid],
    );
    c.execute_batch(&format!(
        "INSERT INTO patients_fts(patients_fts, rank) VALUES ('crisismerge', {SEARCH_CRISIS_MERGE});"
    ))?;
    merged?;
    Ok(())
}

/// FTS5 `crisismerge` of the patient search index (V12): how many segments a level holds
/// before a write merges them all at once.
pub const SEARCH_CRISIS_MERGE: i64 = 64;

fn record_sync_txn(c: &Connection, before: i64, user_id: Option<&str>, at: i64) -> Result<()> {
    c.execute(
        "INSERT INTO sync_txn (first_seq, last_seq, user_id, at)
         SELECT min(seq), max(seq), ?2, ?3 FROM change_log WHERE seq > ?1 HAVING count(*) > 0",
        rusqlite::params![before, user_id, at],
    )?;
    Ok(())
}

/// The clock a database starts with: the latest of its captured changes and its observed floor.
fn stored_hlc(c: &Connection) -> Result<Hlc> {
    let last: Option<String> = c.query_row("SELECT max(hlc) FROM change_log", [], |r| r.get(0))?;
    let floor: Option<String> = c
        .query_row(
            "SELECT value FROM local_meta WHERE key = ?1",
            [crate::sync_meta::HLC_FLOOR],
            |r| r.get(0),
        )
        .optional()?;
    Ok([last, floor]
        .iter()
        .flatten()
        .filter_map(|h| Hlc::decode(h))
        .max()
        .unwrap_or_default())
}

/// Each connection's page cache (KiB). A bulk load may raise the writer's for its
/// transaction (its baseline and commit included: both read or write every page it made);
/// `write_as` sets it back afterwards.
const CACHE_KIB: i64 = 32_000;

/// A commit checkpoints the WAL only past this many pages (32 MiB): checkpoints normally run
/// off the write path (`Store::checkpoint`, from the app's housekeeping thread), so a booking
/// does not wait for one; this is the safety net when nothing else checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4096;

/// SQLCipher page size (bytes) of every ClinicDesk database.
pub const CIPHER_PAGE_SIZE: u32 = 8192;

/// Prepared statements kept per connection. A booking runs some 30 distinct statements (the
/// rules' queries, the row writes and the trigger programs SQLite compiles into them); with
/// rusqlite's default of 16 the cache thrashed and every statement was parsed again each time
/// (a quarter of a migration import's time went to the parser).
const STATEMENT_CACHE: usize = 256;

fn open_keyed(path: &Path, key: &DbKey, flags: OpenFlags) -> Result<Connection> {
    sqlite_ready()?;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // SQLCipher logs decryption failures to stderr; a wrong key is reported as an error instead.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.as_deref().unwrap_or("").is_empty() {
        return Err(StoreError::NotEncrypted);
    }
    // The cipher settings are part of the file format: every connection sets the same ones
    // right after the key: 8 KiB pages (half the per-page IV/HMAC operations of SQLCipher's
    // 4 KiB default, without bloating small commits' WAL frames) and HMAC-SHA256
    // (hardware-accelerated where the CPU has SHA extensions; as strong as SHA-512 for page
    // authentication) — see ARCHITECTURE.md.
    conn.execute_batch(&format!(
        "PRAGMA key = {}; PRAGMA cipher_page_size = {CIPHER_PAGE_SIZE}; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
        key.pragma_value()
    ))?;
    // The first read of the schema fails with SQLITE_NOTADB if the key is wrong.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(StoreError::WrongKey {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    conn.busy_timeout(Duration::from_secs(10))?;
    if flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY) {
        return Ok(conn);
    }
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB};
         PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    ))?;
    Ok(conn)
}

/// Apply the embedded migrations up to `version` (all when None). A migration that updates a
/// table compiles that table's triggers, which call the cd_* functions; while migrating they
/// exist but neither audit nor capture (a migration's own data changes, such as a backfill of a
/// derived column, are not user changes). `Store` registers the real ones afterwards.
fn migrate(conn: &mut Connection, version: Option<i32>) -> Result<()> {
    register_functions(
        conn,
        Arc::new(Mutex::new(ConnState {
            capture: false,
            audit: false,
            ..ConnState::default()
        })),
        String::new(),
        Arc::new(Mutex::new(Hlc::default())),
    )?;
    let runner = embedded::migrations::runner();
    let runner = match version {
        Some(v) => runner.set_target(refinery::Target::Version(v)),
        None => runner,
    };
    runner
        .run(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(())
}

/// A plain in-memory database with the embedded migrations applied up to `version` (all when
/// None): the schema as the trigger generator reads it (`registry::schema_columns`) and the
/// server schema's generator reads its tables, CHECKs and indexes (`clinicdesk-server`). The
/// store's SQL functions are registered (capture and audit off), so the triggers can run.
pub fn schema_in_memory(version: Option<i32>) -> Result<Connection> {
    sqlite_ready()?;
    let mut conn = Connection::open_in_memory()?;
    migrate(&mut conn, version)?;
    Ok(conn)
}

fn register_functions(
    conn: &Connection,
    state: Arc<Mutex<ConnState>>,
    device_id: String,
    hlc: Arc<Mutex<Hlc>>,
) -> Result<()> {
    let det = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let nondet = FunctionFlags::SQLITE_UTF8;
    let s = state.clone();
    conn.create_scalar_function("cd_now_ms", 0, nondet, move |_| Ok(lock(&s).now_ms))?;
    let s = state.clone();
    conn.create_scalar_function("cd_user", 0, nondet, move |_| Ok(lock(&s).user_id.clone()))?;
    let s = state.clone();
    conn.create_scalar_function("cd_capture", 0, nondet, move |_| Ok(lock(&s).capture))?;
    let s = state;
    conn.create_scalar_function("cd_audit", 0, nondet, move |_| Ok(lock(&s).audit))?;
    conn.create_scalar_function("cd_device", 0, det, move |_| Ok(device_id.clone()))?;
    conn.create_scalar_function("cd_hlc", 0, nondet, move |_| {
        let mut h = lock(&hlc);
        *h = h.tick(now_ms());
        Ok(h.encode())
    })?;
    conn.create_scalar_function("cd_fingerprint", 1, det, |ctx| {
        let v: Option<String> = ctx.get(0)?;
        Ok(v.as_deref().map(audit::fingerprint))
    })?;
    conn.create_scalar_function("cd_diff", 3, det, |ctx| {
        let old: String = ctx.get(0)?;
        let new: String = ctx.get(1)?;
        let part: i64 = ctx.get(2)?;
        let parse = |s: &str| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        };
        let (o, n) = (parse(&old)?, parse(&new)?);
        let changed: Vec<&String> = n.keys().filter(|k| o.get(*k) != n.get(*k)).collect();
        let out = match part {
            0 => serde_json::Value::Object(
                changed
                    .iter()
                    .map(|k| ((*k).clone(), o[*k].clone()))
                    .collect(),
            ),
            1 => serde_json::Value::Object(
                changed
                    .iter()
                    .map(|k| ((*k).clone(), n[*k].clone()))
                    .collect(),
            ),
            _ => serde_json::Value::Array(
                changed
                    .iter()
                    .map(|k| serde_json::Value::String((*k).clone()))
                    .collect(),
            ),
        };
        Ok(out.to_string())
    })?;
    // An update's change-log columns for a table with merge groups: the changed columns and
    // every column of the groups they belong to, with their new values.
    conn.create_scalar_function("cd_group_diff", 3, det, |ctx| {
        let old: String = ctx.get(0)?;
        let new: String = ctx.get(1)?;
        let groups: String = ctx.get(2)?;
        let err = |e: serde_json::Error| rusqlite::Error::UserFunctionError(Box::new(e));
        let o: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&old).map_err(err)?;
        let n: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&new).map_err(err)?;
        let groups: Vec<Vec<String>> = serde_json::from_str(&groups).map_err(err)?;
        let changed = |k: &String| o.get(k) != n.get(k);
        let out: serde_json::Map<String, serde_json::Value> = n
            .iter()
            .filter(|(k, _)| {
                changed(k)
                    || groups
                        .iter()
                        .any(|g| g.contains(k) && g.iter().any(&changed))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(serde_json::Value::Object(out).to_string())
    })?;
    conn.create_scalar_function("cd_audit_hash", 11, det, |ctx| {
        let seq: i64 = ctx.get(0)?;
        let prev: Option<String> = ctx.get(1)?;
        let at: i64 = ctx.get(2)?;
        let table: String = ctx.get(3)?;
        let row: Option<String> = ctx.get(4)?;
        let action: String = ctx.get(5)?;
        let old: Option<String> = ctx.get(6)?;
        let new: Option<String> = ctx.get(7)?;
        let changed: Option<String> = ctx.get(8)?;
        let user: Option<String> = ctx.get(9)?;
        let device: Option<String> = ctx.get(10)?;
        Ok(audit::entry_hash(&audit::HashInput {
            seq,
            prev_hash: prev.as_deref(),
            at,
            table_name: &table,
            row_id: row.as_deref(),
            action: &action,
            old_values: old.as_deref(),
            new_values: new.as_deref(),
            changed_fields: changed.as_deref(),
            user_id: user.as_deref(),
            device_id: device.as_deref(),
        }))
    })?;
    Ok(())
}

/// A write transaction: the connection (deref), and who/when it is on behalf of.
pub struct WriteTx<'a> {
    tx: rusqlite::Transaction<'a>,
    pub ctx: WriteCtx,
    mode: WriteMode,
    state: Arc<Mutex<ConnState>>,
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl WriteTx<'_> {
    /// `Connection::execute` through the connection's statement cache (shadowing the
    /// `Deref` one): a write statement, with the trigger programs compiled into it, is
    /// prepared once per connection rather than on every call.
    pub fn execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// `Connection::query_row` through the connection's statement cache (as `execute`).
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    /// Append an audit event that is not a row write (refusal, login, …) in this transaction.
    pub fn audit_event(
        &self,
        table: &str,
        row_id: Option<&str>,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<()> {
        audit::append_event(&self.tx, &self.ctx, table, row_id, action, details)
    }

    /// While applying pulled rows (`WriteMode::Remote` only): the user the audit entries of
    /// the rows written next name (`cd_user()`), the author of the change on the PC that made
    /// it (the server's `_by`; None: not known, e.g. a change captured before authors were
    /// recorded). Other modes are refused: a local write's author is its session's user.
    pub fn set_author(&self, user_id: Option<&str>) -> Result<()> {
        if self.mode != WriteMode::Remote {
            return Err(StoreError::Conflict(
                "the author of a write can be set only while applying pulled changes".into(),
            ));
        }
        lock(&self.state).user_id = user_id.map(str::to_string);
        Ok(())
    }
}

impl Store {
    /// Create a new encrypted database at `path` with a fresh key kept by `keys` (a keyring
    /// entry named after its new id, never overwriting one) and its id file `<path>.id`.
    /// Refused when the file exists, or when only its id file does (`DatabaseMissing`: the
    /// database that lived there is missing, not to be replaced silently).
    pub fn create(path: &Path, keys: &KeySource) -> Result<Store> {
        Self::create_keyed(path, |id| keys.create(id))
    }

    fn create_keyed(path: &Path, key: impl FnOnce(&DbId) -> Result<DbKey>) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        // Its id file, or a write-ahead log left by a database that is gone: not a new place.
        if DbId::file_of(path).exists() || wal_of(path).exists() {
            return Err(StoreError::DatabaseMissing(path.to_path_buf()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let id = DbId::generate();
        let key = key(&id)?;
        let store =
            Self::open_with_key(path, key, Some(&id)).and_then(|s| id.write(path).map(|()| s));
        if store.is_err() {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.as_os_str().to_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        store
    }

    /// Open an existing database; the key comes from `keys`. A database without an id (made
    /// before ids) gets one, and its keyring key is copied to the id's entry.
    pub fn open(path: &Path, keys: &KeySource) -> Result<Store> {
        if !path.exists() {
            if DbId::file_of(path).exists() {
                return Err(StoreError::DatabaseMissing(path.to_path_buf()));
            }
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        let key = keys.load(path)?;
        let store = Self::open_with_key(path, key, DbId::read(path)?.as_ref())?;
        let id = store.db_id()?;
        keys.remember(&id, &store.key)?;
        // Best effort (a folder that cannot be written, e.g. read-only media, still opens; a
        // keyring database then keeps opening through its path entry).
        if matches!(DbId::read(path), Ok(None)) {
            let _ = id.write(path);
        }
        Ok(store)
    }

    /// Open (or, with `new_id`, create) the database; `id` is recorded as its id when it has
    /// none yet (a new database, or one made before ids: then the id file's, else a new one).
    fn open_with_key(path: &Path, key: DbKey, id: Option<&DbId>) -> Result<Store> {
        let create = !path.exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | if create {
                OpenFlags::SQLITE_OPEN_CREATE
            } else {
                OpenFlags::empty()
            };
        let mut conn = open_keyed(path, &key, flags)?;
        migrate(&mut conn, None)?;
        let device_id = match conn
            .query_row(
                "SELECT value FROM local_meta WHERE key = 'device_id'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        {
            Some(d) => DeviceId::parse(&d)
                .map_err(|e| StoreError::Data(format!("this database's device id: {e}")))?,
            None => {
                let d = DeviceId::new();
                conn.execute(
                    "INSERT INTO local_meta (key, value) VALUES ('device_id', ?1)",
                    [d.to_string()],
                )?;
                d
            }
        };
        conn.execute(
            "INSERT OR IGNORE INTO local_meta (key, value) VALUES ('db_id', ?1)",
            [id.cloned().unwrap_or_else(DbId::generate).to_string()],
        )?;
        let initial_seal_key = audit::init_seal_key(&conn)?;
        record_trigger_drift(&conn, device_id)?;
        let hlc = Arc::new(Mutex::new(stored_hlc(&conn)?));
        let state = Arc::new(Mutex::new(ConnState::default()));
        register_functions(&conn, state.clone(), device_id.to_string(), hlc.clone())?;
        let checkpointer = Checkpointer::start(path.to_path_buf(), key.clone());
        Ok(Store {
            path: path.to_path_buf(),
            key,
            device_id,
            hlc,
            writer: Mutex::new(Conn { conn, state }),
            readers: Mutex::new(Vec::new()),
            initial_seal_key: Mutex::new(initial_seal_key),
            local_commits: std::sync::atomic::AtomicU64::new(0),
            commits: std::sync::atomic::AtomicU64::new(0),
            checkpointer,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// Run `f` in one IMMEDIATE transaction on the writer connection, recorded per `mode`.
    /// Commits when `f` returns Ok, rolls back (changing nothing) when it returns Err.
    pub fn write_as<T, E: From<StoreError>>(
        &self,
        mode: WriteMode,
        user_id: Option<&str>,
        f: impl FnOnce(&WriteTx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut w = lock(&self.writer);
        let now = now_ms();
        {
            let mut s = lock(&w.state);
            s.user_id = user_id.map(str::to_string);
            s.now_ms = now;
            s.capture = mode == WriteMode::Local;
            s.audit = mode != WriteMode::Bulk;
        }
        let state = w.state.clone();
        // Bulk loads (demo data into a new, empty database) do not check foreign keys row by
        // row: the caller guarantees them (the demo generator only refers to rows it wrote;
        // its tests run `PRAGMA foreign_key_check`). `foreign_keys` cannot change inside a
        // transaction: it is set before BEGIN and restored afterwards on every path.
        let bulk = mode == WriteMode::Bulk;
        let mut left_wal = false;
        if bulk {
            if let Err(e) = w.conn.execute_batch("PRAGMA foreign_keys = OFF;") {
                *lock(&state) = ConnState::default();
                return Err(StoreError::from(e).into());
            }
            // A bulk load writes each new page once, straight into the database file, in
            // rollback-journal mode (as crash-safe with synchronous = FULL: the journal keeps
            // the original of every pre-existing page it changes), instead of into the WAL and
            // then again by the checkpoint. Leaving WAL mode needs every other connection
            // closed: idle readers are dropped (they reopen on demand); if another is in use,
            // the load simply stays in WAL mode.
            lock(&self.readers).clear();
            left_wal = w
                .conn
                .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                    r.get::<_, String>(0)
                })
                .is_ok_and(|m| m.eq_ignore_ascii_case("delete"));
        }
        let result = (|| {
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
            let wtx = WriteTx {
                tx,
                ctx: WriteCtx {
                    user_id: user_id.map(str::to_string),
                    now_ms: now,
                    device_id: self.device_id.to_string(),
                },
                mode,
                state: state.clone(),
            };
            let seq_at_begin = if mode == WriteMode::Local {
                Some(last_change_seq(&wtx.tx)?)
            } else {
                None
            };
            let out = f(&wtx)?;
            if let Some(before) = seq_at_begin {
                record_sync_txn(&wtx.tx, before, user_id, now)?;
            }
            if bulk {
                // Rows written without per-row audit entries are covered by a baseline event.
                audit::append_baseline(&wtx.tx, &wtx.ctx)?;
            }
            wtx.tx.commit().map_err(StoreError::from)?;
            if mode == WriteMode::Local {
                self.local_commits
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
            }
            let n = self
                .commits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if n.is_multiple_of(CHECKPOINT_EVERY_COMMITS) {
                self.checkpointer.nudge();
            }
            Ok(out)
        })();
        *lock(&state) = ConnState::default();
        if bulk {
            // The transaction is over (committed, or rolled back when `wtx` was dropped).
            let restored = w
                .conn
                .execute_batch(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB};"
                ))
                .map_err(StoreError::from)
                .and_then(|()| {
                    let on: bool = w.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                    if on {
                        Ok(())
                    } else {
                        Err(StoreError::Conflict(
                            "foreign key enforcement could not be restored".into(),
                        ))
                    }
                });
            let restored = restored.and_then(|()| {
                if left_wal {
                    restore_wal(&w.conn)
                } else {
                    Ok(())
                }
            });
            if let (Ok(_), Err(e)) = (&result, restored) {
                return Err(e.into());
            }
            if result.is_ok() {
                // The load's cost, not the next receptionist's (see `settle_search_index`).
                settle_search_index(&w.conn)?;
            }
        }
        result
    }

    /// After a load that filled the patient search index in bulk (the demo, a large import):
    /// move its one big segment off the level new rows' segments land on, so no later write
    /// merges it (see `settle_search_index`). Costs about one rewrite of the index (~2 s for
    /// the large demo's 200,000 patients).
    pub fn settle_search_index(&self) -> Result<()> {
        let w = lock(&self.writer);
        settle_search_index(&w.conn)
    }

    /// Merge the patient search index's segments, at most `pages` leaf pages of work, in one
    /// short write transaction; true while more merging is left. The desktop app's
    /// housekeeping thread calls it (writes never merge: V12 turned `automerge` off), so the
    /// index stays a few segments deep without a write ever waiting for a merge.
    pub fn merge_search_index(&self, pages: u32) -> Result<bool> {
        let w = lock(&self.writer);
        let before = w.conn.total_changes();
        w.conn.execute(
            "INSERT INTO patients_fts(patients_fts, rank) VALUES ('merge', ?1)",
            [i64::from(pages.max(1))],
        )?;
        // FTS5: a 'merge' that found work changes at least two rows of its tables.
        Ok(w.conn.total_changes() - before >= 2)
    }

    /// A local write on behalf of `user_id` (audited and captured).
    pub fn write<T, E: From<StoreError>>(
        &self,
        user_id: Option<&str>,
        f: impl FnOnce(&WriteTx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.write_as(WriteMode::Local, user_id, f)
    }

    /// Run `f` on a reader connection (a consistent snapshot if `f` opens a transaction).
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = match lock(&self.readers).pop() {
            Some(c) => c,
            None => open_keyed(
                &self.path,
                &self.key,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let out = f(&conn);
        let mut pool = lock(&self.readers);
        if pool.len() < 4 {
            pool.push(conn);
        }
        out
    }

    /// Copy the WAL back into the database without blocking writers (`PASSIVE`); the desktop
    /// app runs it from its housekeeping thread. Returns (WAL frames, frames checkpointed).
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        self.read(|c| {
            Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?)
        })
    }

    /// How many checkpoints the store's background checkpointer has run (see `Checkpointer`).
    pub fn background_checkpoints(&self) -> u64 {
        self.checkpointer
            .done
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many local (captured) transactions this handle has committed since it opened: the
    /// sync loop compares it to push soon after a commit without a callback on the write path.
    pub fn local_commits(&self) -> u64 {
        self.local_commits
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Current HLC of this device (for diagnostics and the sync issue).
    pub fn hlc(&self) -> Hlc {
        *lock(&self.hlc)
    }

    /// Observe the largest HLC among rows pulled from the server, bounded against a clock far
    /// in the future (SYNC.md §6), and persist the result as the floor in `tx` (the apply's
    /// transaction): an edit made after seeing a remote value carries a larger HLC, also after
    /// a restart. The in-memory clock moves only forward, so a rolled-back apply leaves it at
    /// most a little ahead, never behind.
    pub fn observe_hlc(&self, tx: &WriteTx<'_>, remote: Hlc) -> Result<Hlc> {
        let h = {
            let mut cur = lock(&self.hlc);
            *cur = cur.observe_bounded(remote, now_ms());
            *cur
        };
        crate::sync_meta::set(tx, crate::sync_meta::HLC_FLOOR, &h.encode())?;
        Ok(h)
    }

    /// `PRAGMA integrity_check` and `PRAGMA cipher_integrity_check`; returns the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let w = lock(&self.writer);
        let mut problems = Vec::new();
        let mut stmt = w.conn.prepare("PRAGMA integrity_check")?;
        for r in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let r = r?;
            if r != "ok" {
                problems.push(r);
            }
        }
        drop(stmt);
        drop(w);
        problems.extend(self.page_check()?);
        Ok(problems)
    }

    /// Every page of the file read back with a valid MAC (`PRAGMA cipher_integrity_check`):
    /// the problems found, none when the file is whole. Cheaper than [`Self::integrity_check`],
    /// which also checks every b-tree and index against its table.
    pub fn page_check(&self) -> Result<Vec<String>> {
        let w = lock(&self.writer);
        let mut stmt = w.conn.prepare("PRAGMA cipher_integrity_check")?;
        let found = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|r| r.map(|p| format!("cipher: {p}")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(found)
    }

    /// Verify the audit log: the chain, the triggers, every audited row against its latest
    /// audited values, and the seals' structure (not their MACs: see `verify_audit_with`).
    pub fn verify_audit(&self) -> Result<audit::VerifyReport> {
        self.verify_audit_with(None)
    }

    /// `verify_audit`, and with the verification key `k0` every seal's MAC and the current
    /// sealing key (see `audit::seal`).
    pub fn verify_audit_with(&self, k0: Option<&SealKey>) -> Result<audit::VerifyReport> {
        self.read(|c| audit::verify_all(c, k0))
    }

    /// The audit verification key K_0, if this open created it (a new database, or the first
    /// open of one created before sealing existed) and it was not taken yet. Show it once to
    /// the administrator: it is not kept anywhere else, and the database only holds later keys.
    pub fn take_initial_seal_key(&self) -> Option<SealKey> {
        lock(&self.initial_seal_key).take()
    }

    /// Seal the audit entries written since the last seal (None when there are none) and
    /// evolve the sealing key, erasing the old one: the old key's page is overwritten
    /// (`secure_delete`) and the WAL checkpointed and truncated when no reader holds it (best
    /// effort; copies made before keep it — see `audit::seal`).
    pub fn seal_audit(&self) -> Result<Option<Seal>> {
        let mut w = lock(&self.writer);
        w.conn.execute_batch("PRAGMA secure_delete = ON;")?;
        let sealed = (|| {
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let sealed = audit::seal(&tx, now_ms())?;
            tx.commit()?;
            Ok::<_, StoreError>(sealed)
        })();
        let _ = w.conn.execute_batch("PRAGMA secure_delete = OFF;");
        let sealed = sealed?;
        if sealed.is_some() {
            // Without waiting for readers: a busy checkpoint leaves the old key in the WAL
            // until a later checkpoint overwrites it.
            w.conn.busy_timeout(Duration::ZERO)?;
            let _ = w
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                });
            w.conn.busy_timeout(Duration::from_secs(10))?;
        }
        Ok(sealed)
    }

    /// Re-create the triggers that differ from this build's (dropped, changed or added by
    /// someone with the key: see `registry::trigger_drift`) from the binary's SQL, in one
    /// transaction that records the repair in the audit log. Returns what was repaired.
    pub fn repair_triggers(&self, user_id: Option<&str>) -> Result<Option<registry::TriggerDrift>> {
        let drift = self.read(registry::trigger_drift)?;
        let Some(drift) = drift else {
            return Ok(None);
        };
        let expected = registry::expected_triggers()?;
        self.write(user_id, |tx| {
            for name in drift.changed.iter().chain(&drift.extra) {
                tx.execute_batch(&format!("DROP TRIGGER \"{}\";", name.replace('"', "\"\"")))?;
            }
            for name in drift.missing.iter().chain(&drift.changed) {
                tx.execute_batch(&expected[name])?;
            }
            tx.audit_event(
                "database",
                None,
                "event",
                &serde_json::json!({ "triggers_repaired": drift.describe() }),
            )
        })?;
        Ok(Some(drift))
    }

    /// Online backup to `dest` (encrypted with the same key). `progress(done_pages, total_pages)`
    /// is called as it goes; returning false cancels (the partial file is removed) — except
    /// with the last page, when the copy is already complete.
    pub fn backup_to(&self, dest: &Path, mut progress: impl FnMut(i32, i32) -> bool) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        let tmp = dest.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let mut run = || -> Result<()> {
            // Owner-only, like the database (SQLite gives its journal the same mode).
            crate::files::create_private(&tmp)?;
            let src = open_keyed(
                &self.path,
                &self.key,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            let mut dst = open_keyed(
                &tmp,
                &self.key,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            )?;
            // One read transaction for the whole copy: the backup copies that snapshot, so the
            // app's commits meanwhile (into the WAL, beside the reader) neither wait for it nor
            // restart it. Without it every step starts a new read transaction, and a write
            // between two steps makes the online backup start over from the first page — under
            // a steady stream of bookings a large backup would never finish.
            src.execute_batch("BEGIN")?;
            src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
            copy_pages(&src, &mut dst, &mut progress)?;
            src.execute_batch("COMMIT")?;
            dst.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")?;
            drop(dst);
            std::fs::rename(&tmp, dest)?;
            Ok(())
        };
        let r = run().map_err(|e| match e {
            StoreError::Backup(_) => e,
            other => StoreError::Backup(format!("cannot write {}: {other}", dest.display())),
        });
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(tmp.with_extension("partial-wal"));
            let _ = std::fs::remove_file(tmp.with_extension("partial-shm"));
        }
        r
    }

    /// Replace the whole database with the backup at `src` (which must open with this
    /// database's key and pass the integrity and audit-chain checks first). `progress` as for
    /// `backup_to`: a cancel before the last page rolls the copy back (the database is
    /// unchanged). `src` is a backup file (`export_backup`, header and database) or a bare
    /// database copy (`backup_to`, and backups of older versions).
    pub fn restore_from(&self, src: &Path, progress: impl FnMut(i32, i32) -> bool) -> Result<()> {
        match backup_file::unpack_beside(src, &self.path)? {
            Some(plain) => self.restore_plain(plain.path(), progress),
            None => self.restore_plain(src, progress),
        }
    }

    fn restore_plain(&self, src: &Path, mut progress: impl FnMut(i32, i32) -> bool) -> Result<()> {
        if !src.exists() {
            return Err(StoreError::Backup(format!(
                "{} does not exist",
                src.display()
            )));
        }
        let source = open_keyed(
            src,
            &self.key,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| match e {
            StoreError::WrongKey { .. } => StoreError::Backup(format!(
                "{} is not a backup of this database (it does not open with this database's key)",
                src.display()
            )),
            other => StoreError::Backup(format!(
                "the backup is damaged: {} cannot be read ({other})",
                src.display()
            )),
        })?;
        // What is checked is what is copied: one read transaction on the backup for both.
        source.execute_batch("BEGIN")?;
        self.read(|live| check_backup(&source, live))?;
        lock(&self.readers).clear();
        let mut w = lock(&self.writer);
        copy_pages(&source, &mut w.conn, &mut progress)?;
        let h = stored_hlc(&w.conn)?;
        {
            let mut cur = lock(&self.hlc);
            *cur = (*cur).max(h);
        }
        // An enrolled database restored from a backup is a new incarnation: its change_log
        // will reuse sequence numbers the server already acknowledged with other changes.
        w.conn.execute(
            "UPDATE local_meta SET value = ?2 WHERE key = ?1",
            [
                crate::sync_meta::INCARNATION,
                &uuid::Uuid::now_v7().to_string(),
            ],
        )?;
        Ok(())
    }
}

#[cfg(feature = "fault-injection")]
impl Store {
    /// Tests only (feature `fault-injection`): run `sql` on the writer connection, e.g.
    /// `PRAGMA synchronous = OFF` to show that the power-loss test tells the difference.
    #[doc(hidden)]
    pub fn writer_execute_batch(&self, sql: &str) -> Result<()> {
        Ok(lock(&self.writer).conn.execute_batch(sql)?)
    }
}

/// Refuse a backup that is damaged (integrity or page authentication fails, e.g. a truncated
/// or altered file), is not a ClinicDesk database, has another schema than `live` (another
/// version of the app), or whose audit chain is broken. Nothing is written.
fn check_backup(source: &Connection, live: &Connection) -> Result<()> {
    let damaged = |e: StoreError| StoreError::Backup(format!("the backup is damaged: {e}"));
    let mut problems = Vec::new();
    for pragma in ["PRAGMA integrity_check", "PRAGMA cipher_integrity_check"] {
        let mut stmt = source.prepare(pragma).map_err(|e| damaged(e.into()))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| damaged(e.into()))?;
        for r in rows {
            let r = r.map_err(|e| damaged(e.into()))?;
            if r != "ok" {
                problems.push(r);
            }
        }
    }
    if let Some(first) = problems.first() {
        return Err(StoreError::Backup(format!(
            "the backup is damaged ({} problem(s), first: {first})",
            problems.len()
        )));
    }
    let (theirs, ours) = (schema_of(source).map_err(damaged)?, schema_of(live)?);
    if !theirs
        .1
        .iter()
        .any(|(t, n, _)| t == "table" && n == "audit_log")
    {
        return Err(StoreError::Backup(
            "the file is not a ClinicDesk backup".into(),
        ));
    }
    if theirs != ours {
        let v = |v: Option<i64>| v.map_or("unknown".to_string(), |v| v.to_string());
        return Err(StoreError::Backup(format!(
            "the backup was made by another version of ClinicDesk (database schema {}, this \
             database has schema {}{}): it cannot be restored here",
            v(theirs.0),
            v(ours.0),
            if theirs.0 == ours.0 {
                ", with other tables"
            } else {
                ""
            }
        )));
    }
    let report = audit::verify(source).map_err(damaged)?;
    if !report.ok {
        return Err(StoreError::Backup(format!(
            "the backup's audit chain is broken at entry {}",
            report.first_broken_seq.unwrap_or_default()
        )));
    }
    Ok(())
}

/// Compare the triggers with this build's at open. A difference is not refused (the clinic
/// keeps working and the administrator repairs with `Store::repair_triggers`): it is recorded
/// in the audit log, and `verify` reports it for as long as it lasts.
fn record_trigger_drift(conn: &Connection, device_id: DeviceId) -> Result<()> {
    if let Some(drift) = registry::trigger_drift(conn)? {
        let ctx = WriteCtx {
            user_id: None,
            now_ms: now_ms(),
            device_id: device_id.to_string(),
        };
        audit::append_event(
            conn,
            &ctx,
            "database",
            None,
            "event",
            &serde_json::json!({ "trigger_drift": drift.describe() }),
        )?;
    }
    Ok(())
}

/// (type, name, sql) of every schema object, by type and name.
type SchemaObjects = Vec<(String, String, Option<String>)>;

/// A database's last applied migration (if it has the history table) and its schema objects.
fn schema_of(c: &Connection) -> Result<(Option<i64>, SchemaObjects)> {
    let version = c
        .query_row(
            "SELECT max(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten()
        .flatten();
    let objects = c
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
             ORDER BY type, name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((version, objects))
}

/// The write-ahead log file of the database at `path`.
pub(crate) fn wal_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push("-wal");
    PathBuf::from(p)
}

/// Back to WAL mode after a bulk load (as `open_keyed` sets it); retried while another
/// connection briefly holds a lock.
fn restore_wal(conn: &Connection) -> Result<()> {
    let mut last = None;
    for attempt in 0..100 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(m) => last = Some(StoreError::Conflict(format!("journal mode stayed {m}"))),
            Err(e) => last = Some(e.into()),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Conflict("cannot restore WAL mode".into())))
}

fn copy_pages(
    src: &Connection,
    dst: &mut Connection,
    progress: &mut impl FnMut(i32, i32) -> bool,
) -> Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let b = Backup::new(src, dst).map_err(|e| StoreError::Backup(e.to_string()))?;
    loop {
        let r = b.step(256).map_err(|e| StoreError::Backup(e.to_string()))?;
        let p = b.progress();
        let go_on = progress(p.pagecount - p.remaining, p.pagecount);
        match r {
            // Every page is copied (and committed): too late to cancel, so this is success.
            // Before that, stopping rolls the destination's transaction back (it is unchanged).
            StepResult::Done => return Ok(()),
            _ if !go_on => return Err(StoreError::Backup("cancelled".into())),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(20)),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
