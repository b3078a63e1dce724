//! Backup and restore under stress: a backup of a large database finishes while the app keeps
//! committing; a damaged, truncated or foreign backup is refused and changes nothing; a restore
//! killed at any moment leaves the old database or the new one, never a mix.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clinicdesk_store::{DbKey, Store, StoreError};
use support::{add_patient, assert_sound, digest, keys, new_store, patient_ids};

/// Grow the database by about `mib` MiB of incompressible rows (in one transaction).
fn pad(store: &Store, tag: &str, mib: usize) {
    let rows = mib * 64; // 16 KiB of hex per row
    store
        .write(None, |tx| -> clinicdesk_store::Result<()> {
            tx.execute_batch(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
                 INSERT INTO local_meta (key, value)
                 SELECT '{tag}-' || i, hex(randomblob(8192)) FROM n"
            ))?;
            Ok(())
        })
        .unwrap();
}

fn page_count(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len() / u64::from(clinicdesk_store::CIPHER_PAGE_SIZE)
}

#[test]
fn a_large_backup_finishes_while_the_app_commits_every_20_ms() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clinic) = new_store(dir.path());
    pad(&store, "big", 48);
    store.checkpoint().unwrap();
    let store = Arc::new(store);
    let commits = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, commits, stop) = (store.clone(), commits.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                add_patient(&store, clinic, 200);
                commits.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // Let the writer get going, then back up; a generous deadline (this is not a speed test:
    // before the fix the copy restarted at every commit and did not finish at all).
    while commits.load(Ordering::Relaxed) < 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = patient_ids(&store).len();
    let at_start = commits.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut reports = Vec::new();
    let dest = dir.path().join("big.cdbk");
    let result = store.backup_to(&dest, |done, total| {
        reports.push((done, total, commits.load(Ordering::Relaxed)));
        Instant::now() < deadline
    });
    let during = commits.load(Ordering::Relaxed) - at_start;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    result.unwrap();
    let (first, last) = (reports[0], *reports.last().unwrap());
    assert!(last.1 > 4000, "a database of {} pages is too small", last.1);
    assert!(reports.len() > 10, "the copy took {} steps", reports.len());
    assert_eq!(last.0, last.1);
    // Every step moved forward: the copy never started over.
    assert!(reports.windows(2).all(|w| w[1].0 > w[0].0), "{reports:?}");
    assert!(
        during >= 2 && last.2 > first.2,
        "the writer committed {during} times during the backup"
    );
    // The backup is a consistent database with at least what was there when it started.
    let copy = Store::open(&dest, &keys(dir.path())).unwrap();
    assert_sound(&copy);
    assert!(patient_ids(&copy).len() >= before);
    assert!(page_count(&dest) > 4000);
}

/// A backup of `store` at `dir/name`.
fn backup(store: &Store, dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    store.backup_to(&p, |_, _| true).unwrap();
    p
}

fn db_key(dir: &Path) -> DbKey {
    DbKey::from_hex(&std::fs::read_to_string(dir.join("clinic.key")).unwrap()).unwrap()
}

#[test]
fn a_truncated_damaged_or_foreign_backup_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clinic) = new_store(dir.path());
    for _ in 0..20 {
        add_patient(&store, clinic, 2000);
    }
    pad(&store, "pad", 2);
    let good = backup(&store, dir.path(), "good.cdbk");
    let bytes = std::fs::read(&good).unwrap();
    add_patient(&store, clinic, 10); // the live database now differs from the backup
    let live = digest(&store);

    let truncated = dir.path().join("truncated.cdbk");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let cut_mid_page = dir.path().join("cut-mid-page.cdbk");
    std::fs::write(&cut_mid_page, &bytes[..bytes.len() / 3 + 1000]).unwrap();
    let corrupted = dir.path().join("corrupted.cdbk");
    let mut c = bytes.clone();
    let mid = c.len() / 2;
    for b in &mut c[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&corrupted, &c).unwrap();

    // A valid database with this key and an empty schema.
    let empty = dir.path().join("empty.cdbk");
    {
        let conn = rusqlite::Connection::open(&empty).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = {}; \
             PRAGMA cipher_hmac_algorithm = HMAC_SHA256; CREATE TABLE notes (t TEXT);",
            db_key(dir.path()).to_hex(),
            clinicdesk_store::CIPHER_PAGE_SIZE
        ))
        .unwrap();
    }
    // ClinicDesk databases at another schema: one from an older version (its last migration
    // not applied), one missing a table.
    let older = dir.path().join("older.cdbk");
    std::fs::copy(&good, &older).unwrap();
    {
        let conn = clinicdesk_store::open_raw(&older, &db_key(dir.path())).unwrap();
        conn.execute_batch(
            "DELETE FROM refinery_schema_history
               WHERE version = (SELECT max(version) FROM refinery_schema_history);
             DROP INDEX IF EXISTS idx_appointments_day_view;
             CREATE TABLE legacy_only (x INTEGER);
             PRAGMA journal_mode = DELETE;",
        )
        .unwrap();
    }
    let missing_table = dir.path().join("missing-table.cdbk");
    std::fs::copy(&good, &missing_table).unwrap();
    {
        let conn = clinicdesk_store::open_raw(&missing_table, &db_key(dir.path())).unwrap();
        conn.execute_batch("DROP TABLE local_meta; PRAGMA journal_mode = DELETE;")
            .unwrap();
    }

    let cases: [(&Path, &str); 6] = [
        (&truncated, "damaged"),
        (&cut_mid_page, "damaged"),
        (&corrupted, "damaged"),
        (&empty, "not a ClinicDesk backup"),
        (&older, "another version of ClinicDesk"),
        (&missing_table, "another version of ClinicDesk"),
    ];
    for (file, expected) in cases {
        let mut copied = 0;
        let err = store
            .restore_from(file, |_, _| {
                copied += 1;
                true
            })
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Backup(_)),
            "{}: {err:?}",
            file.display()
        );
        assert!(
            err.to_string().contains(expected),
            "{}: {err}",
            file.display()
        );
        assert_eq!(copied, 0, "{}: pages were copied", file.display());
        assert_eq!(
            digest(&store),
            live,
            "{} changed the database",
            file.display()
        );
        assert_sound(&store);
    }
    // The good backup still restores.
    store.restore_from(&good, |_, _| true).unwrap();
    assert_ne!(digest(&store), live);
    assert_sound(&store);
}

/// The child: restores `RESTORE_DIR/backup.cdbk` into `RESTORE_DIR/clinic.db`, printing each
/// progress report and pausing a little so the parent's kill lands mid-copy. Run only by
/// `a_killed_restore_leaves_the_old_or_the_new_database`.
#[test]
#[ignore = "child process of a_killed_restore_leaves_the_old_or_the_new_database"]
fn restore_child() {
    let Ok(dir) = std::env::var("RESTORE_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let store = Store::open(&dir.join("clinic.db"), &keys(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    store
        .restore_from(&dir.join("backup.cdbk"), |done, total| {
            writeln!(out, "progress {done} {total}").unwrap();
            out.flush().unwrap();
            std::thread::sleep(Duration::from_millis(30));
            true
        })
        .unwrap();
    writeln!(out, "restored").unwrap();
    out.flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_restore_leaves_the_old_or_the_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clinic.db");
    let pristine = dir.path().join("pristine.db");
    let (old, new) = {
        let (store, clinic) = new_store(dir.path());
        pad(&store, "first", 4);
        for _ in 0..10 {
            add_patient(&store, clinic, 500);
        }
        backup(&store, dir.path(), "backup.cdbk");
        let new = digest(&store);
        // The live database moves on: rows changed, added, and more pages.
        pad(&store, "second", 4);
        store
            .write(None, |tx| -> clinicdesk_store::Result<()> {
                tx.execute_batch(
                    "UPDATE local_meta SET value = 'changed' WHERE key LIKE 'first-1%'",
                )?;
                Ok(())
            })
            .unwrap();
        for _ in 0..10 {
            add_patient(&store, clinic, 500);
        }
        (digest(&store), new)
    };
    assert_ne!(old, new);
    std::fs::copy(&path, &pristine).unwrap();
    let exe = std::env::current_exe().unwrap();
    // Kill at the k-th progress report (mid-copy, k = 1..), or a few ms after it started.
    let plans: Vec<(Option<usize>, u64)> = (1..=6)
        .map(|k| (Some(k), 0))
        .chain([0, 3, 7, 12, 20, 40, 80, 150].map(|ms| (None, ms)))
        .collect();
    let (mut saw_old, mut saw_new, mut mid_copy) = (0, 0, 0);
    for (at_report, delay_ms) in plans {
        for ext in ["db-wal", "db-shm"] {
            let _ = std::fs::remove_file(path.with_extension(ext));
        }
        std::fs::copy(&pristine, &path).unwrap();
        let mut child = Command::new(&exe)
            .args([
                "restore_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RESTORE_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("child.err")).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut reports, mut restored) = (0, false);
        let start = loop {
            let line = lines.next().expect("the child exits early").unwrap();
            if line.ends_with("ready") {
                break Instant::now();
            }
        };
        match at_report {
            Some(k) => {
                for line in lines.by_ref() {
                    let line = line.unwrap();
                    if line.starts_with("progress") {
                        reports += 1;
                    }
                    restored |= line == "restored";
                    if reports == k || restored {
                        break;
                    }
                }
            }
            None => {
                while start.elapsed() < Duration::from_millis(delay_ms) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if reports > 0 && !restored {
            mid_copy += 1;
        }
        let store = Store::open(&path, &keys(dir.path())).unwrap();
        assert_sound(&store);
        let now = digest(&store);
        assert!(
            now == old || now == new,
            "killed at report {at_report:?} / after {delay_ms} ms: a mix of old and new"
        );
        if now == old {
            saw_old += 1;
        } else {
            saw_new += 1;
        }
    }
    assert!(mid_copy >= 3, "only {mid_copy} kills landed mid-copy");
    assert!(saw_old > 0, "no kill left the old database");
    eprintln!("{saw_old} kills left the old database, {saw_new} the new one");
}
