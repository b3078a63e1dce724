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
    let mut f = PrivateFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// A file written as a whole or not at all, a piece at a time (an export too large to hold
/// in memory): into a new temporary file beside `path`, owner-only (0600 on Unix), renamed
/// into place by `commit`; dropped without `commit` (an error, a cancel), the temporary file
/// is removed and `path` never appears.
pub struct PrivateFile {
    path: PathBuf,
    dir: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
}

impl PrivateFile {
    pub fn create(path: &Path) -> Result<PrivateFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::now_v7().simple()));
        let file = private_options().read(true).open(&tmp)?;
        Ok(PrivateFile {
            path: path.to_path_buf(),
            dir,
            tmp,
            file: Some(file),
        })
    }

    fn file(&mut self) -> std::io::Result<&mut std::fs::File> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the file was already committed"))
    }

    /// Everything written so far, from the start (this file's content copied elsewhere).
    pub fn read_back(&mut self) -> std::io::Result<&mut std::fs::File> {
        use std::io::Seek;
        let f = self.file()?;
        f.flush()?;
        f.rewind()?;
        Ok(f)
    }

    /// Flush to disk and rename into place (the rename flushed too, where the OS allows).
    pub fn commit(mut self) -> Result<()> {
        let run = |me: &mut PrivateFile| -> std::io::Result<()> {
            let f = me.file.take().expect("not committed twice");
            f.sync_all()?;
            drop(f);
            std::fs::rename(&me.tmp, &me.path)?;
            // The rename itself survives a power loss once the folder is flushed.
            #[cfg(unix)]
            std::fs::File::open(&me.dir)?.sync_all()?;
            Ok(())
        };
        run(&mut self).map_err(Into::into)
    }
}

impl Write for PrivateFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        // Not committed, or the rename failed: the temporary file goes.
        if self.file.is_some() || self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
