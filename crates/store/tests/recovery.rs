//! The database key's safety net (issue 11, point 1): keyring entries named by the database id
//! and never overwritten, a missing database that is never silently replaced, and the recovery
//! key that restores a backup on a PC whose keyring never held the key. The OS keyring is
//! keyring-core's mock store; a "fresh PC" is a new mock store and a new folder. The tests share
//! the process-wide default keyring, so they run one at a time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clinicdesk_store::{
    open_raw, read_backup_header, DbId, DbKey, KeySource, RecoveryKey, Store, StoreError,
};

static KEYRING: Mutex<()> = Mutex::new(());

/// A new, empty OS keyring (a fresh PC, or a fresh OS account), held for the whole test.
fn fresh_keyring() -> std::sync::MutexGuard<'static, ()> {
    let g = KEYRING.lock().unwrap_or_else(|p| p.into_inner());
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    g
}

fn entry(account: &str) -> keyring_core::Entry {
    keyring_core::Entry::new("ClinicDesk", account).unwrap()
}

/// A new (closed) database at `path` with its key in the keyring: its id and the stored key.
fn new_database(path: &Path) -> (DbId, String) {
    let id = Store::create(path, &KeySource::Keyring)
        .unwrap()
        .db_id()
        .unwrap();
    let key = entry(&format!("db:{id}")).get_password().unwrap();
    (id, key)
}

fn marker(store: &Store) -> Option<String> {
    store
        .read(|c| -> clinicdesk_store::Result<Option<String>> {
            use rusqlite::OptionalExtension;
            Ok(c.query_row(
                "SELECT value FROM local_meta WHERE key = 'marker'",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })
        .unwrap()
}

fn set_marker(store: &Store, v: &str) {
    store
        .write(None, |tx| -> clinicdesk_store::Result<()> {
            tx.execute(
                "INSERT OR REPLACE INTO local_meta (key, value) VALUES ('marker', ?1)",
                [v],
            )?;
            Ok(())
        })
        .unwrap();
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn move_db(from: &Path, to: &Path) {
    std::fs::rename(from, to).unwrap();
    std::fs::rename(DbId::file_of(from), DbId::file_of(to)).unwrap();
}

#[test]
fn keyring_create_never_overwrites_an_entry() {
    let _k = fresh_keyring();
    let id = DbId::generate();
    let existing = DbKey::generate();
    entry(&format!("db:{id}"))
        .set_password(&existing.to_hex())
        .unwrap();
    let err = KeySource::Keyring.create(&id).unwrap_err();
    assert!(matches!(err, StoreError::KeyringEntryExists(_)), "{err}");
    assert!(err.to_string().contains("not overwritten"), "{err}");
    assert_eq!(
        entry(&format!("db:{id}")).get_password().unwrap(),
        existing.to_hex()
    );
    // A new database gets its own entry: two databases created at the same path one after the
    // other keep both keys.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let (first_id, first_key) = new_database(&path);
    std::fs::rename(&path, dir.path().join("aside.db")).unwrap();
    std::fs::remove_file(DbId::file_of(&path)).unwrap();
    let second = Store::create(&path, &KeySource::Keyring).unwrap();
    assert_ne!(second.db_id().unwrap(), first_id);
    assert_eq!(
        entry(&format!("db:{first_id}")).get_password().unwrap(),
        first_key
    );
}

#[test]
fn the_key_follows_the_database_id_across_a_move_and_a_legacy_path_entry_migrates() {
    let _k = fresh_keyring();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let store = Store::create(&a, &KeySource::Keyring).unwrap();
    let id = store.db_id().unwrap();
    set_marker(&store, "moved");
    drop(store);
    assert_eq!(DbId::read(&a).unwrap(), Some(id.clone()));
    // Moved with its id file to another folder: the same keyring entry opens it.
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let b = dir.path().join("elsewhere/b.db");
    move_db(&a, &b);
    let store = Store::open(&b, &KeySource::Keyring).unwrap();
    assert_eq!(store.db_id().unwrap(), id);
    assert_eq!(marker(&store).as_deref(), Some("moved"));
    drop(store);

    // A database made before ids: no id file, no db_id, its key under `db:<absolute path>`.
    let legacy = dir.path().join("legacy.db");
    let key = DbKey::generate();
    drop(Store::create(&legacy, &KeySource::Literal(key.clone())).unwrap());
    std::fs::remove_file(DbId::file_of(&legacy)).unwrap();
    open_raw(&legacy, &key)
        .unwrap()
        .execute_batch("DELETE FROM local_meta WHERE key = 'db_id';")
        .unwrap();
    let legacy_account = format!("db:{}", std::path::absolute(&legacy).unwrap().display());
    entry(&legacy_account).set_password(&key.to_hex()).unwrap();
    let store = Store::open(&legacy, &KeySource::Keyring).unwrap();
    let new_id = store.db_id().unwrap();
    drop(store);
    // It now has an id, an id file and an id entry holding the same key; the path entry is
    // left as it was.
    assert_eq!(DbId::read(&legacy).unwrap(), Some(new_id.clone()));
    assert_eq!(
        entry(&format!("db:{new_id}")).get_password().unwrap(),
        key.to_hex()
    );
    assert_eq!(entry(&legacy_account).get_password().unwrap(), key.to_hex());
    // …so it opens after a move, which the path entry could not follow.
    let moved = dir.path().join("elsewhere/legacy-moved.db");
    move_db(&legacy, &moved);
    Store::open(&moved, &KeySource::Keyring).unwrap();
}

#[test]
fn a_missing_database_is_an_error_and_is_never_replaced_by_a_new_one() {
    let _k = fresh_keyring();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clinic.db");
    let (id, key) = new_database(&path);
    // Moved aside (or its drive unmounted): its id file stays.
    std::fs::rename(&path, dir.path().join("moved-aside.db")).unwrap();
    let before = files_in(dir.path());
    for err in [
        Store::open(&path, &KeySource::Keyring).err().unwrap(),
        Store::create(&path, &KeySource::Keyring).err().unwrap(),
    ] {
        assert!(matches!(err, StoreError::DatabaseMissing(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("is missing"), "{msg}");
        assert!(msg.contains("restore a backup"), "{msg}");
        assert!(msg.contains("start a new clinic"), "{msg}");
    }
    assert_eq!(files_in(dir.path()), before, "a file was created");
    assert_eq!(entry(&format!("db:{id}")).get_password().unwrap(), key);
    // Put back, it opens as before.
    std::fs::rename(dir.path().join("moved-aside.db"), &path).unwrap();
    Store::open(&path, &KeySource::Keyring).unwrap();
}

#[test]
fn a_backup_restores_on_a_fresh_pc_with_the_recovery_key_and_a_wrong_one_writes_nothing() {
    let pc1 = tempfile::tempdir().unwrap();
    let backup = pc1.path().join("clinic.cdbk");
    let rk = {
        let _k = fresh_keyring();
        let store = Store::create(&pc1.path().join("clinic.db"), &KeySource::Keyring).unwrap();
        assert!(!store.has_recovery_key().unwrap());
        let rk = store.new_recovery_key(None).unwrap();
        assert!(store.has_recovery_key().unwrap());
        set_marker(&store, "before the fire");
        store.export_backup(&backup, |_, _| true).unwrap();
        // The backup file also restores in place, with the database key (the usual restore).
        set_marker(&store, "after the backup");
        store.restore_from(&backup, |_, _| true).unwrap();
        assert_eq!(marker(&store).as_deref(), Some("before the fire"));
        rk
    };
    // The header holds the database id and the wrapped key, never the key itself.
    let (header, _) = read_backup_header(&backup).unwrap().unwrap();
    let bytes = std::fs::read(&backup).unwrap();
    let head = String::from_utf8_lossy(&bytes[..200.min(bytes.len())]).to_string();
    assert!(head.starts_with("CLINICDESK BACKUP 1\n"), "{head}");
    assert!(header.recovery.is_some());

    // A new PC: an empty keyring, no key file, a new folder.
    let _k = fresh_keyring();
    let pc2 = tempfile::tempdir().unwrap();
    let target = pc2.path().join("clinic.db");
    let written = rk.to_string();
    assert_eq!(written.len(), 14 * 4 + 13, "{written}");
    let mut typo: Vec<char> = written.chars().collect();
    typo[5] = if typo[5] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let err = RecoveryKey::parse(&typo).unwrap_err();
    assert!(err.to_string().contains("typo"), "{err}");
    let err = Store::restore_with_recovery_key(
        &backup,
        &RecoveryKey::generate(),
        &target,
        &KeySource::Keyring,
    )
    .err()
    .unwrap();
    assert!(matches!(err, StoreError::Recovery(_)), "{err}");
    assert!(
        err.to_string().contains("does not open this backup"),
        "{err}"
    );
    assert!(files_in(pc2.path()).is_empty(), "a wrong key wrote files");

    // Typed in lower case without dashes, it still reads.
    let typed = RecoveryKey::parse(&written.replace('-', "").to_lowercase()).unwrap();
    let store =
        Store::restore_with_recovery_key(&backup, &typed, &target, &KeySource::Keyring).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    assert!(store.verify_audit().unwrap().ok);
    assert_eq!(marker(&store).as_deref(), Some("before the fire"));
    assert_eq!(store.db_id().unwrap().to_string(), header.db_id);
    drop(store);
    // It is an ordinary database of this PC now: it opens from the keyring.
    let store = Store::open(&target, &KeySource::Keyring).unwrap();
    assert_eq!(marker(&store).as_deref(), Some("before the fire"));
    // …and the recovery key still opens its future backups.
    let again = pc2.path().join("again.cdbk");
    store.export_backup(&again, |_, _| true).unwrap();
    let (h, _) = read_backup_header(&again).unwrap().unwrap();
    h.recovery.unwrap().unwrap_with(&rk).unwrap();
    // Restoring over an existing file is refused.
    let err = Store::restore_with_recovery_key(&backup, &rk, &target, &KeySource::Keyring)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err}");
}

#[test]
fn a_new_recovery_kit_makes_the_old_recovery_key_useless_for_new_backups() {
    let _k = fresh_keyring();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("c.db"), &KeySource::Keyring).unwrap();
    let old = store.new_recovery_key(None).unwrap();
    let b1 = dir.path().join("b1.cdbk");
    store.export_backup(&b1, |_, _| true).unwrap();
    let new = store.new_recovery_key(None).unwrap();
    assert_ne!(old, new);
    let b2 = dir.path().join("b2.cdbk");
    store.export_backup(&b2, |_, _| true).unwrap();
    let wrap = |b: &Path| read_backup_header(b).unwrap().unwrap().0.recovery.unwrap();
    let err = wrap(&b2).unwrap_with(&old).unwrap_err();
    assert!(
        err.to_string().contains("does not open this backup"),
        "{err}"
    );
    wrap(&b2).unwrap_with(&new).unwrap();
    // A backup made before keeps the wrap it was made with (see ARCHITECTURE.md).
    wrap(&b1).unwrap_with(&old).unwrap();
    assert!(wrap(&b1).unwrap_with(&new).is_err());
    // The rotation is in the audit log.
    let n: i64 = store
        .read(|c| -> clinicdesk_store::Result<i64> {
            Ok(c.query_row(
                "SELECT count(*) FROM audit_log WHERE table_name = 'database' \
                 AND new_values LIKE '%recovery_key%'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn a_recovery_key_reads_back_and_a_bad_one_says_what_is_wrong() {
    for _ in 0..50 {
        let rk = RecoveryKey::generate();
        let s = rk.to_string();
        assert_eq!(s.split('-').count(), 14);
        assert_eq!(RecoveryKey::parse(&s).unwrap(), rk);
        assert_eq!(
            RecoveryKey::parse(&format!(" {} ", s.to_lowercase().replace('0', "o"))).unwrap(),
            rk
        );
    }
    let s = RecoveryKey::generate().to_string();
    for (bad, expected) in [
        (s[..s.len() - 5].to_string(), "expected 56"),
        (format!("{s}-AAAA"), "expected 56"),
        (s.replacen(&s[..1], "U", 1), "'U' is not one of"),
        (String::new(), "expected 56"),
    ] {
        let err = RecoveryKey::parse(&bad).unwrap_err();
        assert!(matches!(err, StoreError::Recovery(_)), "{bad}: {err}");
        assert!(err.to_string().contains(expected), "{bad}: {err}");
    }
}
