//! Failpoints for the fault tests (SYNC.md §8): `CD_FAILPOINT=<name>` makes this process die
//! (`abort`, as a kill -9 would: no destructors, no rollback but SQLite's own) at that point.
//! Names: `push:after_send` (the server committed a batch, its acknowledgement is not yet
//! recorded here), `push:after_chunk` (a part of a large transaction staged, the rest not
//! yet sent), `apply:after_rows` (pulled rows written, the local transaction not yet
//! committed). Unset, a failpoint costs one environment lookup per batch.

/// The environment variable naming the failpoint to die at.
pub const ENV: &str = "CD_FAILPOINT";

pub(crate) fn hit(name: &str) {
    if std::env::var(ENV).is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}
