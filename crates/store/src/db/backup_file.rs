//! The backup file and the recovery key's part in it.
//!
//! A backup file is one file: the line `CLINICDESK BACKUP 1`, one line of JSON
//! (`BackupHeader`: the database id and the database key wrapped under the recovery key, which
//! hold no usable secret), then the SQLCipher database itself, byte for byte as `backup_to`
//! writes it. The header is what lets `restore_with_recovery_key` find the database key on a
//! PC whose keyring never held it; it cannot be separated from the data it opens.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{check_backup, open_keyed, schema_in_memory, Store};
use crate::error::{Result, StoreError};
use crate::key::{DbId, DbKey, KeySource};
use crate::recovery::{RecoveryKey, WrappedKey};

const MAGIC: &str = "CLINICDESK BACKUP 1";
const WRAP_KEY: &str = "recovery_wrap";
/// The header line is small; a longer one is not a backup header.
const MAX_HEADER: u64 = 64 * 1024;

/// The plain header of a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    pub db_id: String,
    /// The database key wrapped under the recovery key current when the backup was made;
    /// None when no recovery key had been set (such a backup restores only where the
    /// database key is).
    pub recovery: Option<WrappedKey>,
}

/// A file removed when dropped (the unpacked database of a backup).
pub(crate) struct TempFile(PathBuf);

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        remove_with_journals(&self.0);
    }
}

fn remove_with_journals(p: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut q = p.as_os_str().to_os_string();
        q.push(suffix);
        let _ = std::fs::remove_file(q);
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut q = p.as_os_str().to_os_string();
    q.push(suffix);
    PathBuf::from(q)
}

/// The header of a backup file and where its database starts; None for a bare database copy.
pub fn read_header(src: &Path) -> Result<Option<(BackupHeader, u64)>> {
    let not_found = || StoreError::Backup(format!("{} does not exist", src.display()));
    let f = File::open(src).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_found(),
        _ => StoreError::Backup(format!("cannot read {}: {e}", src.display())),
    })?;
    let mut r = BufReader::new(f).take(MAX_HEADER);
    let mut first = Vec::new();
    r.read_until(b'\n', &mut first)?;
    if first != format!("{MAGIC}\n").as_bytes() {
        return Ok(None);
    }
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    let header: BackupHeader = serde_json::from_slice(&line).map_err(|e| {
        StoreError::Backup(format!(
            "the backup is damaged: its header cannot be read ({e})"
        ))
    })?;
    Ok(Some((header, (first.len() + line.len()) as u64)))
}

/// Copy the database part of a backup file to `dest` (created, synced).
fn unpack_to(src: &Path, offset: u64, dest: &Path) -> Result<()> {
    let mut from = File::open(src)?;
    from.seek(SeekFrom::Start(offset))?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)?;
    std::io::copy(&mut from, &mut to)?;
    to.sync_all()?;
    Ok(())
}

/// The database part of the backup file `src`, unpacked beside the database `db` (the backup
/// may be on a read-only medium); None when `src` is a bare database copy.
pub(crate) fn unpack_beside(src: &Path, db: &Path) -> Result<Option<TempFile>> {
    let Some((_, offset)) = read_header(src)? else {
        return Ok(None);
    };
    let tmp = with_suffix(db, ".restore-source");
    remove_with_journals(&tmp);
    let t = TempFile(tmp);
    unpack_to(src, offset, t.path())
        .map_err(|e| StoreError::Backup(format!("cannot unpack {}: {e}", src.display())))?;
    Ok(Some(t))
}

fn read_wrap(conn: &rusqlite::Connection) -> Result<Option<WrappedKey>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT value FROM local_meta WHERE key = ?1",
            [WRAP_KEY],
            |r| r.get(0),
        )
        .optional()?;
    json.map(|j| {
        serde_json::from_str(&j)
            .map_err(|e| StoreError::Data(format!("the stored recovery wrap: {e}")))
    })
    .transpose()
}

impl Store {
    /// This database's id (`local_meta.db_id`, mirrored in the id file `<db>.id`).
    pub fn db_id(&self) -> Result<DbId> {
        let id: String = self.read(|c| {
            Ok::<_, StoreError>(c.query_row(
                "SELECT value FROM local_meta WHERE key = 'db_id'",
                [],
                |r| r.get(0),
            )?)
        })?;
        DbId::parse(&id)
    }

    /// Whether a recovery key has been set (the database key is kept wrapped under one).
    pub fn has_recovery_key(&self) -> Result<bool> {
        Ok(self.read(read_wrap)?.is_some())
    }

    /// A new recovery key: the database key is wrapped under it and the wrap replaces the
    /// previous one (in this audited transaction, on behalf of `user_id`). Backups made from now
    /// on open with this recovery key only; earlier backups keep the wrap they were made with.
    /// The recovery key itself is returned once and stored nowhere.
    pub fn new_recovery_key(&self, user_id: Option<&str>) -> Result<RecoveryKey> {
        let rk = RecoveryKey::generate();
        let wrap = WrappedKey::wrap(&self.key, &rk, &self.db_id()?);
        let json = serde_json::to_string(&wrap)
            .map_err(|e| StoreError::Data(format!("recovery wrap: {e}")))?;
        self.write(user_id, |tx| {
            tx.execute(
                "INSERT INTO local_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [WRAP_KEY, &json],
            )?;
            tx.audit_event(
                "database",
                None,
                "event",
                &serde_json::json!({ "recovery_key": "replaced", "db_id": wrap.db_id }),
            )
        })?;
        Ok(rk)
    }

    /// A backup file (see the module doc): the database as `backup_to` copies it, behind a
    /// header holding the database key wrapped under the current recovery key.
    pub fn export_backup(&self, dest: &Path, progress: impl FnMut(i32, i32) -> bool) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        let inner = TempFile(with_suffix(dest, ".db-partial"));
        remove_with_journals(inner.path());
        self.backup_to(inner.path(), progress)?;
        let packed = TempFile(with_suffix(dest, ".packing"));
        let run = || -> Result<()> {
            // The header is read from the copy itself: it wraps exactly the key of that copy.
            let recovery = {
                let c = open_keyed(inner.path(), &self.key, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                read_wrap(&c)?
            };
            let header = BackupHeader {
                db_id: self.db_id()?.to_string(),
                recovery,
            };
            // Owner-only, like the database.
            let mut out = crate::files::private_options().open(packed.path())?;
            writeln!(out, "{MAGIC}")?;
            serde_json::to_writer(&mut out, &header)
                .map_err(|e| StoreError::Data(format!("backup header: {e}")))?;
            writeln!(out)?;
            std::io::copy(&mut File::open(inner.path())?, &mut out)?;
            out.sync_all()?;
            std::fs::rename(packed.path(), dest)?;
            Ok(())
        };
        run().map_err(|e| match e {
            StoreError::Backup(_) => e,
            other => StoreError::Backup(format!("cannot write {}: {other}", dest.display())),
        })
    }

    /// Restore a backup file on a PC that does not have its database key (a new PC, a lost
    /// keyring): the database key is unwrapped from the backup's header with the recovery key,
    /// the backup is checked as `restore_from` checks it (against this version's schema), and
    /// becomes a new database at `new_path` whose key is kept by `keys`. A wrong or mistyped
    /// recovery key, or a damaged backup, is refused before anything is written.
    pub fn restore_with_recovery_key(
        backup: &Path,
        recovery_key: &RecoveryKey,
        new_path: &Path,
        keys: &KeySource,
    ) -> Result<Store> {
        if new_path.exists() {
            return Err(StoreError::AlreadyExists(new_path.to_path_buf()));
        }
        if super::wal_of(new_path).exists() {
            return Err(StoreError::Backup(format!(
                "{} is still there (the log of a database that was at {}): move it away first",
                super::wal_of(new_path).display(),
                new_path.display()
            )));
        }
        let Some((header, offset)) = read_header(backup)? else {
            return Err(StoreError::Recovery(format!(
                "{} has no recovery header (a bare database copy, or a backup from an older version of ClinicDesk): it restores only where its database key is, with `restore`",
                backup.display()
            )));
        };
        let wrap = header.recovery.ok_or_else(|| {
            StoreError::Recovery(
                "this backup was made before a recovery key was set: it restores only where its database key is".into(),
            )
        })?;
        let key = wrap.unwrap_with(recovery_key)?;
        let id = DbId::parse(&wrap.db_id)?;
        if let Some(dir) = new_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = TempFile(with_suffix(new_path, ".restoring"));
        remove_with_journals(tmp.path());
        unpack_to(backup, offset, tmp.path())
            .map_err(|e| StoreError::Backup(format!("cannot unpack {}: {e}", backup.display())))?;
        checked_copy(tmp.path(), &key)?;
        keys.adopt(&id, &key)?;
        // An id file left by a missing database of another id is kept aside, not replaced.
        if let Some(old) = DbId::read(new_path)? {
            if old != id {
                std::fs::rename(
                    DbId::file_of(new_path),
                    with_suffix(&DbId::file_of(new_path), &format!(".{old}")),
                )?;
            }
        }
        std::fs::rename(tmp.path(), new_path)?;
        if DbId::read(new_path)?.is_none() {
            id.write(new_path)?;
        }
        Store::open(new_path, keys)
    }
}

/// The checks of `restore_from`, on an unpacked backup against this version's schema.
fn checked_copy(path: &Path, key: &DbKey) -> Result<()> {
    let source = open_keyed(path, key, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
        StoreError::Backup(format!("the backup is damaged: it cannot be read ({e})"))
    })?;
    source.execute_batch("BEGIN")?;
    let live = schema_in_memory(None)?;
    check_backup(&source, &live)
}
