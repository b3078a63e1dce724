//! Files the app writes for the user (exports): never one of the database's own files, and
//! never readable by other accounts or half-written.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;

/// Whether `candidate` is the database at `db` or one of its companions (`-wal`, `-shm`,
/// `-journal`, and any `<db>.…` sidecar such as a backup's `.partial`), after resolving
/// symbolic links and relative parts. Writing an export there would destroy the database.
pub fn is_database_file(db: &Path, candidate: &Path) -> bool {
    let (Some(db), Some(c)) = (resolve(db), resolve(candidate)) else {
        return false;
    };
    if db == c {
        return true;
    }
    let same_dir = db.parent() == c.parent();
    let (Some(db_name), Some(name)) = (db.file_name(), c.file_name()) else {
        return false;
    };
    let (db_name, name) = (db_name.to_string_lossy(), name.to_string_lossy());
    same_dir
        && name.len() > db_name.len()
        && name.starts_with(db_name.as_ref())
        && matches!(name.as_bytes()[db_name.len()], b'-' | b'.')
}

/// The absolute path with symbolic links resolved: the file's own when it exists, else its
/// folder's plus its name.
fn resolve(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Some(c);
    }
    let abs = std::path::absolute(p).ok()?;
    let parent = abs.parent()?;
    let name = abs.file_name()?;
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// A new, empty file readable and writable by this account only (0600 on Unix).
pub fn create_private(path: &Path) -> Result<()> {
    private_options().open(path)?;
    Ok(())
}

/// Options that create a new file readable and writable by this account only (0600 on Unix).
pub(crate) fn private_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Write `bytes` to `path` as a whole or not at all: into a new temporary file beside it,
/// readable and writable by this account only (0600 on Unix), flushed to disk, then renamed
/// over `path` (so a reader never sees half a file and a crash leaves the old file or none).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::now_v7().simple()));
    let run = || -> std::io::Result<()> {
        let mut f = private_options().open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename itself survives a power loss once the folder is flushed.
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    };
    run().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        e.into()
    })
}
