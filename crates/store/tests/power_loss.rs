//! Durability across a power loss, not just a killed process: the fault-injecting VFS
//! (`clinicdesk_store::fault_vfs`) keeps every write that was not fsynced in memory and throws
//! it away at the "power cut". Every commit the store acknowledged survives as configured
//! (WAL, `synchronous = FULL`); with `synchronous = OFF` the same scenario loses acknowledged
//! commits — which shows the test can tell the difference (a SIGKILL cannot: the OS page cache
//! survives it).

mod support;

use std::path::Path;

use clinicdesk_store::{fault_vfs, Store};
use support::{add_patient, assert_sound, keys, new_store, patient_ids};

const COMMITS: usize = 25;

/// Power off, drop the store (its handles fail now), forget the WAL index (it lived in RAM)
/// and reopen what the disk holds.
fn power_cycle(store: Store, dir: &Path) -> Store {
    fault_vfs::power_loss(dir);
    drop(store);
    let _ = std::fs::remove_file(dir.join("clinic.db-shm"));
    Store::open(&dir.join("clinic.db"), &keys(dir)).unwrap()
}

#[test]
fn acknowledged_commits_survive_a_power_loss() {
    fault_vfs::install();
    let dir = tempfile::tempdir().unwrap();
    let (store, clinic) = new_store(dir.path());
    let mut committed = Vec::new();
    for _ in 0..COMMITS {
        committed.push(add_patient(&store, clinic, 300));
        // Each commit returned only after its WAL frames were fsynced.
        assert_eq!(fault_vfs::unsynced_bytes(dir.path()), 0);
    }
    let store = power_cycle(store, dir.path());
    let present = patient_ids(&store);
    let lost: Vec<_> = committed
        .iter()
        .filter(|id| !present.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {COMMITS} acknowledged commits lost",
        lost.len()
    );
    assert_sound(&store);
    // The database takes writes again, and those survive the next power cut too.
    let after = add_patient(&store, clinic, 300);
    let store = power_cycle(store, dir.path());
    assert!(patient_ids(&store).contains(&after));
    assert_sound(&store);
}

#[test]
fn with_synchronous_off_a_power_loss_loses_acknowledged_commits() {
    fault_vfs::install();
    let dir = tempfile::tempdir().unwrap();
    let (store, clinic) = new_store(dir.path());
    store
        .writer_execute_batch("PRAGMA synchronous = OFF;")
        .unwrap();
    let committed: Vec<String> = (0..COMMITS)
        .map(|_| add_patient(&store, clinic, 300))
        .collect();
    // Before the cut, every commit is visible (the "page cache" has them)…
    assert_eq!(patient_ids(&store).len(), COMMITS);
    assert!(fault_vfs::unsynced_bytes(dir.path()) > 0);
    // …after it, they are gone although each commit returned Ok.
    let store = power_cycle(store, dir.path());
    let present = patient_ids(&store);
    let lost = committed.iter().filter(|id| !present.contains(*id)).count();
    assert!(
        lost > 0,
        "synchronous = OFF lost nothing: the VFS does not simulate a power loss"
    );
}

#[test]
fn a_power_loss_during_a_checkpoint_loses_nothing() {
    fault_vfs::install();
    let dir = tempfile::tempdir().unwrap();
    let (store, clinic) = new_store(dir.path());
    let mut committed: Vec<String> = (0..COMMITS)
        .map(|_| add_patient(&store, clinic, 2000))
        .collect();
    // A checkpoint copies WAL pages into the database file; cut the power before its writes
    // are synced: the WAL (synced) still holds them.
    fault_vfs::set_disk_space(dir.path(), Some(3 * 8192));
    let _ = store.checkpoint();
    assert!(
        fault_vfs::unsynced_bytes(dir.path()) > 0,
        "the checkpoint wrote nothing"
    );
    fault_vfs::set_disk_space(dir.path(), None);
    let store = power_cycle(store, dir.path());
    committed.push(add_patient(&store, clinic, 10));
    let present = patient_ids(&store);
    assert!(committed.iter().all(|id| present.contains(id)));
    assert_sound(&store);
}
