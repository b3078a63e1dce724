//! A fault-injecting SQLite VFS for tests (cargo feature `fault-injection`): simulated power
//! loss and a full disk.
//!
//! It wraps the platform's default VFS ("unix") and, once [`install`]ed, is the process's
//! default VFS, so `Store::open`/`Store::create` use it unchanged. Per file (database, WAL,
//! rollback journal) it keeps every write in memory — the "page cache" — until `xSync`, which
//! writes them through to the real file and fsyncs it; reads see the unsynced writes, as they
//! would see the OS page cache. [`power_loss`] discards every unsynced write of the files under
//! a directory and makes every I/O on the handles open at that moment fail (the machine is
//! off): what the real files then hold is exactly what a power cut would have left. The WAL
//! index (`-shm`) is a memory map shared between connections and passes through; after a power
//! loss it is rebuilt from the WAL (a test deletes it before reopening, as RAM is lost).
//!
//! [`set_disk_space`] gives the files under a directory a budget of bytes that may still be
//! written (every write counts, as on a copy-on-write filesystem); a write beyond it fails with
//! `SQLITE_FULL` and writes nothing, until the budget is lifted ("space returns").
//!
//! State is kept per directory, so tests in one binary can run in parallel in their own
//! temporary directories.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::size_of;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rusqlite::ffi;

/// One unsynced change to a file, replayed in order.
enum Op {
    Write(u64, Vec<u8>),
    Truncate(u64),
}

#[derive(Default)]
struct FileState {
    /// Writes and truncations since the last sync (lost at a power loss).
    ops: Vec<Op>,
    /// The file's length as readers see it, while `ops` is not empty.
    len: Option<u64>,
    /// Bumped by a power loss: handles opened before it are dead.
    generation: u64,
}

#[derive(Default)]
struct World {
    files: HashMap<PathBuf, FileState>,
    /// (directory, bytes that may still be written under it).
    space: Vec<(PathBuf, u64)>,
}

fn world() -> MutexGuard<'static, World> {
    static WORLD: OnceLock<Mutex<World>> = OnceLock::new();
    WORLD
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

static BASE: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

fn base() -> *mut ffi::sqlite3_vfs {
    BASE.load(Ordering::Acquire)
}

/// Register the fault-injecting VFS as the process's default (idempotent). Call it before
/// opening the databases it should see.
pub fn install() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        crate::db::sqlite_ready().expect("SQLite initialises");
        // SAFETY: the default VFS lives for the whole process; the copy we register is leaked
        // (registered VFSes must outlive every connection).
        unsafe {
            let base = ffi::sqlite3_vfs_find(ptr::null());
            assert!(!base.is_null(), "no default SQLite VFS");
            BASE.store(base, Ordering::Release);
            let mut vfs: ffi::sqlite3_vfs = *base;
            vfs.szOsFile = (size_of::<FaultFile>() as c_int) + (*base).szOsFile;
            vfs.pNext = ptr::null_mut();
            vfs.zName = c"clinicdesk-fault".as_ptr();
            vfs.pAppData = ptr::null_mut();
            vfs.xOpen = Some(x_open);
            vfs.xDelete = Some(x_delete);
            vfs.xAccess = Some(x_access);
            let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 1);
            assert_eq!(rc, ffi::SQLITE_OK, "registering the fault VFS");
        }
    });
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The power goes off for the files under `dir`: their unsynced writes are gone, and every
/// handle open on them fails from now on (drop the stores, then reopen).
pub fn power_loss(dir: &Path) {
    let dir = canonical(dir);
    let mut w = world();
    for (path, st) in w.files.iter_mut() {
        if path.starts_with(&dir) {
            st.ops.clear();
            st.len = None;
            st.generation += 1;
        }
    }
}

/// Bytes that may still be written under `dir` before writes fail with `SQLITE_FULL`; `None`
/// lifts the limit.
pub fn set_disk_space(dir: &Path, bytes: Option<u64>) {
    let dir = canonical(dir);
    let mut w = world();
    w.space.retain(|(d, _)| *d != dir);
    if let Some(b) = bytes {
        w.space.push((dir, b));
    }
}

/// Bytes written under `dir` that a power loss would discard now.
pub fn unsynced_bytes(dir: &Path) -> u64 {
    let dir = canonical(dir);
    world()
        .files
        .iter()
        .filter(|(p, _)| p.starts_with(&dir))
        .flat_map(|(_, st)| st.ops.iter())
        .map(|op| match op {
            Op::Write(_, d) => d.len() as u64,
            Op::Truncate(_) => 0,
        })
        .sum()
}

/// Our file object; the base VFS's file follows it in the same allocation.
#[repr(C)]
struct FaultFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    /// None: a file without a name (temporary), passed through untouched.
    path: *mut PathBuf,
    generation: u64,
}

impl FaultFile {
    /// SAFETY: `f` is a file opened by `x_open`.
    unsafe fn from<'a>(f: *mut ffi::sqlite3_file) -> &'a mut FaultFile {
        &mut *(f as *mut FaultFile)
    }
    unsafe fn real_methods(&self) -> &ffi::sqlite3_io_methods {
        &*(*self.real).pMethods
    }
    fn path(&self) -> Option<&PathBuf> {
        // SAFETY: set from Box::into_raw in x_open, freed in x_close only.
        unsafe { self.path.as_ref() }
    }
    unsafe fn real_size(&self) -> Result<u64, c_int> {
        let mut n: ffi::sqlite3_int64 = 0;
        let rc = (self.real_methods().xFileSize.unwrap())(self.real, &mut n);
        if rc == ffi::SQLITE_OK {
            Ok(n as u64)
        } else {
            Err(rc)
        }
    }
}

/// The state of the named file `ff`, or Err(code) when the power went off since it was opened.
fn state<'w>(w: &'w mut World, ff: &FaultFile, dead: c_int) -> Result<&'w mut FileState, c_int> {
    let path = ff.path().expect("a named file");
    let st = w.files.entry(path.clone()).or_default();
    if st.generation == ff.generation {
        Ok(st)
    } else {
        Err(dead)
    }
}

macro_rules! try_rc {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(rc) => return rc,
        }
    };
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let base = base();
    let ff = file as *mut FaultFile;
    let real = (file as *mut u8).add(size_of::<FaultFile>()) as *mut ffi::sqlite3_file;
    ptr::write(
        ff,
        FaultFile {
            base: ffi::sqlite3_file {
                pMethods: ptr::null(),
            },
            real,
            path: ptr::null_mut(),
            generation: 0,
        },
    );
    let rc = ((*base).xOpen.unwrap())(base, name, real, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        if !(*real).pMethods.is_null() {
            ((*(*real).pMethods).xClose.unwrap())(real);
        }
        return rc;
    }
    let kinds = ffi::SQLITE_OPEN_MAIN_DB
        | ffi::SQLITE_OPEN_WAL
        | ffi::SQLITE_OPEN_MAIN_JOURNAL
        | ffi::SQLITE_OPEN_SUPER_JOURNAL;
    if !name.is_null() && flags & kinds != 0 {
        let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
        let mut w = world();
        let st = w.files.entry(path.clone()).or_default();
        (*ff).generation = st.generation;
        (*ff).path = Box::into_raw(Box::new(path));
    }
    (*ff).base.pMethods = &METHODS;
    rc
}

unsafe extern "C" fn x_delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    if !name.is_null() {
        let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
        world().files.remove(&path);
    }
    let base = base();
    ((*base).xDelete.unwrap())(base, name, sync_dir)
}

unsafe extern "C" fn x_access(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    if flags == ffi::SQLITE_ACCESS_EXISTS && !name.is_null() {
        // A file whose content is all unsynced still exists for its readers.
        let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
        if let Some(FileState { len: Some(n), .. }) = world().files.get(&path) {
            if *n > 0 {
                *out = 1;
                return ffi::SQLITE_OK;
            }
        }
    }
    let base = base();
    ((*base).xAccess.unwrap())(base, name, flags, out)
}

unsafe extern "C" fn x_close(f: *mut ffi::sqlite3_file) -> c_int {
    let ff = FaultFile::from(f);
    let rc = (ff.real_methods().xClose.unwrap())(ff.real);
    if !ff.path.is_null() {
        drop(Box::from_raw(ff.path));
        ff.path = ptr::null_mut();
    }
    rc
}

unsafe extern "C" fn x_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    let ff = FaultFile::from(f);
    let real_read = ff.real_methods().xRead.unwrap();
    if ff.path.is_null() {
        return real_read(ff.real, buf, amt, off);
    }
    let mut w = world();
    let st = try_rc!(state(&mut w, ff, ffi::SQLITE_IOERR_READ));
    if st.ops.is_empty() {
        return real_read(ff.real, buf, amt, off);
    }
    let rc = real_read(ff.real, buf, amt, off);
    if rc != ffi::SQLITE_OK && rc != ffi::SQLITE_IOERR_SHORT_READ {
        return rc;
    }
    let out = std::slice::from_raw_parts_mut(buf as *mut u8, amt as usize);
    let (start, end) = (off as u64, off as u64 + amt as u64);
    for op in &st.ops {
        match op {
            Op::Write(o, data) => {
                let (s, e) = ((*o).max(start), (o + data.len() as u64).min(end));
                if s < e {
                    out[(s - start) as usize..(e - start) as usize]
                        .copy_from_slice(&data[(s - o) as usize..(e - o) as usize]);
                }
            }
            Op::Truncate(n) => {
                if *n < end {
                    out[(n.max(&start) - start) as usize..].fill(0);
                }
            }
        }
    }
    let len = st.len.unwrap_or(0);
    if len < end {
        out[(len.max(start) - start) as usize..].fill(0);
        return ffi::SQLITE_IOERR_SHORT_READ;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    let ff = FaultFile::from(f);
    if ff.path.is_null() {
        return (ff.real_methods().xWrite.unwrap())(ff.real, buf, amt, off);
    }
    let mut w = world();
    let path = ff.path().expect("named").clone();
    let World { files, space } = &mut *w;
    let room = space
        .iter_mut()
        .filter(|(d, _)| path.starts_with(d))
        .map(|(_, left)| left)
        .min_by_key(|l| **l);
    if let Some(left) = room {
        if *left < amt as u64 {
            return ffi::SQLITE_FULL;
        }
        *left -= amt as u64;
    }
    let st = files.entry(path).or_default();
    if st.generation != ff.generation {
        return ffi::SQLITE_IOERR_WRITE;
    }
    let len = match st.len {
        Some(n) => n,
        None => try_rc!(ff.real_size()),
    };
    let data = std::slice::from_raw_parts(buf as *const u8, amt as usize).to_vec();
    st.ops.push(Op::Write(off as u64, data));
    st.len = Some(len.max(off as u64 + amt as u64));
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    let ff = FaultFile::from(f);
    if ff.path.is_null() {
        return (ff.real_methods().xTruncate.unwrap())(ff.real, size);
    }
    let mut w = world();
    let st = try_rc!(state(&mut w, ff, ffi::SQLITE_IOERR_TRUNCATE));
    st.ops.push(Op::Truncate(size as u64));
    st.len = Some(size as u64);
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let ff = FaultFile::from(f);
    let m = ff.real_methods();
    if !ff.path.is_null() {
        let mut w = world();
        let st = try_rc!(state(&mut w, ff, ffi::SQLITE_IOERR_FSYNC));
        for op in std::mem::take(&mut st.ops) {
            let rc = match op {
                Op::Write(o, data) => (m.xWrite.unwrap())(
                    ff.real,
                    data.as_ptr() as *const c_void,
                    data.len() as c_int,
                    o as ffi::sqlite3_int64,
                ),
                Op::Truncate(n) => (m.xTruncate.unwrap())(ff.real, n as ffi::sqlite3_int64),
            };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        st.len = None;
    }
    (m.xSync.unwrap())(ff.real, flags)
}

unsafe extern "C" fn x_file_size(f: *mut ffi::sqlite3_file, out: *mut ffi::sqlite3_int64) -> c_int {
    let ff = FaultFile::from(f);
    if !ff.path.is_null() {
        let mut w = world();
        let st = try_rc!(state(&mut w, ff, ffi::SQLITE_IOERR_FSTAT));
        if let Some(n) = st.len {
            *out = n as ffi::sqlite3_int64;
            return ffi::SQLITE_OK;
        }
    }
    (ff.real_methods().xFileSize.unwrap())(ff.real, out)
}

unsafe extern "C" fn x_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let ff = FaultFile::from(f);
    if !ff.path.is_null() {
        let mut w = world();
        try_rc!(state(&mut w, ff, ffi::SQLITE_IOERR_LOCK));
    }
    (ff.real_methods().xLock.unwrap())(ff.real, level)
}

unsafe extern "C" fn x_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xUnlock.unwrap())(ff.real, level)
}

unsafe extern "C" fn x_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xCheckReservedLock.unwrap())(ff.real, out)
}

unsafe extern "C" fn x_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xFileControl.unwrap())(ff.real, op, arg)
}

unsafe extern "C" fn x_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xSectorSize.unwrap())(ff.real)
}

unsafe extern "C" fn x_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    let ff = FaultFile::from(f);
    // Writes here are neither atomic in batches nor anything but what a sync makes durable.
    (ff.real_methods().xDeviceCharacteristics.unwrap())(ff.real) & !ffi::SQLITE_IOCAP_BATCH_ATOMIC
}

unsafe extern "C" fn x_shm_map(
    f: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xShmMap.unwrap())(ff.real, page, size, extend, out)
}

unsafe extern "C" fn x_shm_lock(
    f: *mut ffi::sqlite3_file,
    ofst: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xShmLock.unwrap())(ff.real, ofst, n, flags)
}

unsafe extern "C" fn x_shm_barrier(f: *mut ffi::sqlite3_file) {
    let ff = FaultFile::from(f);
    (ff.real_methods().xShmBarrier.unwrap())(ff.real)
}

unsafe extern "C" fn x_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    let ff = FaultFile::from(f);
    (ff.real_methods().xShmUnmap.unwrap())(ff.real, delete)
}

/// Version 2: no `xFetch`, so SQLite never memory-maps the database past the overlay.
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: None,
    xUnfetch: None,
};
