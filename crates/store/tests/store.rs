//! Store tests on real encrypted database files.

use clinicdesk_domain::{ClinicId, ContactMethod, PatientId, Sex};
use clinicdesk_store::tables::{clinics::Clinic, patients, patients::Patient};
use clinicdesk_store::{now_ms, table, DbKey, KeySource, Store, StoreError};

fn clinic() -> Clinic {
    let now = now_ms();
    Clinic {
        id: ClinicId::new(),
        name: "Calgary Downtown".into(),
        code: "CGY".into(),
        timezone: "America/Edmonton".into(),
        address_line1: None,
        city: Some("Calgary".into()),
        state: None,
        postal_code: None,
        country: None,
        phone: None,
        email: None,
        reminder_offsets_minutes: vec![2880, 120],
        idle_lock_minutes: 15,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        display_locale: None,
        hour_cycle: None,
    }
}

fn patient(clinic: &Clinic, first: &str, last: &str, mrn: &str, phone: &str) -> Patient {
    let now = now_ms();
    Patient {
        id: PatientId::new(),
        clinic_id: clinic.id,
        mrn: mrn.into(),
        first_name: first.into(),
        last_name: last.into(),
        middle_name: None,
        preferred_name: None,
        date_of_birth: Some(chrono::NaiveDate::from_ymd_opt(1984, 7, 19).unwrap()),
        sex: Sex::Female,
        email: None,
        phone: Some(phone.into()),
        address_line1: None,
        city: None,
        state: None,
        postal_code: None,
        preferred_contact_method: ContactMethod::Sms,
        consent_sms: true,
        consent_email: false,
        legacy_id: None,
        notes: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    }
}

fn new_store(dir: &tempfile::TempDir) -> (Store, KeySource, std::path::PathBuf) {
    let path = dir.path().join("clinic.db");
    let keys = KeySource::File(dir.path().join("clinic.key"));
    (Store::create(&path, &keys).unwrap(), keys, path)
}

#[test]
fn writes_are_audited_captured_and_encrypted_on_disk() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, keys, path) = new_store(&dir);
    let c = clinic();
    let p = patient(
        &c,
        "Zephyrine",
        "Quillfeather",
        "MRN-1001",
        "(403) 555-0101",
    );
    store.write(Some("u1"), |tx| -> clinicdesk_store::Result<()> {
        table::insert(tx, &c)?;
        table::insert(tx, &p)?;
        Ok(())
    })?;
    let mut p2 = p.clone();
    p2.phone = Some("403-555-9999".into());
    store.write(Some("u1"), |tx| table::update(tx, &p2))?;
    store.write(Some("u1"), |tx| {
        table::soft_delete::<Patient>(tx, &p.id, now_ms())
    })?;

    let (audit, changes): (Vec<(String, String, Option<String>)>, i64) =
        store.read(|c| -> clinicdesk_store::Result<_> {
            let mut s =
                c.prepare("SELECT table_name, action, changed_fields FROM audit_log ORDER BY seq")?;
            let a = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let n = c.query_row("SELECT count(*) FROM change_log", [], |r| r.get(0))?;
            Ok((a, n))
        })?;
    assert_eq!(audit.len(), 4);
    assert_eq!(audit[2].1, "update");
    assert_eq!(audit[2].2.as_deref(), Some(r#"["phone"]"#));
    assert_eq!(audit[3].1, "soft_delete");
    assert_eq!(changes, 4);
    assert!(store.verify_audit()?.ok);
    drop(store);

    // The name is nowhere in the raw bytes (database, WAL).
    for f in ["clinic.db", "clinic.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            assert!(
                !bytes.windows(12).any(|w| w == b"Quillfeather"),
                "plaintext name in {f}"
            );
        }
    }
    // Reopen with the right key works; with a wrong key it is refused clearly.
    let store = Store::open(&path, &keys)?;
    assert!(store.integrity_check()?.is_empty());
    drop(store);
    let err = Store::open(&path, &KeySource::Literal(DbKey::generate()))
        .err()
        .expect("wrong key must fail");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("key is wrong"));
    let err = Store::open(&path, &KeySource::File(dir.path().join("missing.key")))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::MissingKey { .. }), "{err}");
    Ok(())
}

#[test]
fn hard_delete_and_audit_tampering_are_refused_by_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    let e = store.write(None, |tx| -> clinicdesk_store::Result<usize> {
        Ok(tx.execute("DELETE FROM clinics", [])?)
    });
    assert!(e.unwrap_err().to_string().contains("soft-deleted"));
    let e = store.write(None, |tx| -> clinicdesk_store::Result<usize> {
        Ok(tx.execute("UPDATE audit_log SET user_id = 'x'", [])?)
    });
    assert!(e.unwrap_err().to_string().contains("append-only"));
    let e = store.write(None, |tx| -> clinicdesk_store::Result<usize> {
        Ok(tx.execute("DELETE FROM audit_log", [])?)
    });
    assert!(e.unwrap_err().to_string().contains("append-only"));
    assert!(store.verify_audit()?.ok);
    Ok(())
}

#[test]
fn patient_search_prefix_substring_phone_dob() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let c = clinic();
    let a = patient(&c, "Anna", "Smith", "MRN-1", "(403) 555-0101");
    let b = patient(&c, "Bob", "Goldsmith", "MRN-2", "587 555 0199");
    let d = patient(&c, "Cleo", "Jones", "MRN-3", "+1 780 555 0123");
    store.write(None, |tx| -> clinicdesk_store::Result<()> {
        table::insert(tx, &c)?;
        for p in [&a, &b, &d] {
            table::insert(tx, p)?;
        }
        Ok(())
    })?;
    let names = |q: &str| -> Vec<String> {
        store
            .read(|c| patients::search(c, q, 10))
            .unwrap()
            .into_iter()
            .map(|p| p.last_name)
            .collect()
    };
    assert_eq!(names("smi"), vec!["Smith", "Goldsmith"]); // prefix first, then substring
    assert_eq!(names("Sm"), vec!["Smith"]); // short: prefix only
    assert_eq!(names("mrn-3"), vec!["Jones"]);
    assert_eq!(names("4035550101"), vec!["Smith"]);
    assert_eq!(names("555-0199"), vec!["Goldsmith"]);
    assert_eq!(names("anna smith"), vec!["Smith"]);
    assert_eq!(names("1984-07-19").len(), 3);
    assert!(names("nobody").is_empty());
    assert!(names("   ").is_empty());
    Ok(())
}

#[test]
fn backup_and_restore_round_trip() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    let backup = dir.path().join("backup.cdbk");
    let mut calls = 0;
    store.backup_to(&backup, |_, _| {
        calls += 1;
        true
    })?;
    assert!(calls > 0);
    // A change after the backup is undone by the restore.
    let mut c2 = c.clone();
    c2.name = "Renamed".into();
    store.write(None, |tx| table::update(tx, &c2))?;
    store.restore_from(&backup, |_, _| true)?;
    let name: String = store.read(|x| -> clinicdesk_store::Result<String> {
        Ok(x.query_row("SELECT name FROM clinics", [], |r| r.get(0))?)
    })?;
    assert_eq!(name, "Calgary Downtown");
    assert!(store.verify_audit()?.ok);
    // A backup of another database (other key) is refused and changes nothing.
    let other_dir = tempfile::tempdir()?;
    let (other, _, _) = new_store(&other_dir);
    let other_backup = other_dir.path().join("o.cdbk");
    other.backup_to(&other_backup, |_, _| true)?;
    let err = store.restore_from(&other_backup, |_, _| true).unwrap_err();
    assert!(
        err.to_string().contains("not a backup of this database"),
        "{err}"
    );
    // Backing up onto an existing file is refused.
    assert!(store.backup_to(&backup, |_, _| true).is_err());
    Ok(())
}

#[test]
fn tampering_underneath_the_app_is_reported_by_verify() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, keys, path) = new_store(&dir);
    let c = clinic();
    store.write(Some("u1"), |tx| table::insert(tx, &c))?;
    for i in 0..5 {
        let mut c2 = c.clone();
        c2.name = format!("Clinic {i}");
        c2.updated_at += i + 1;
        store.write(Some("u1"), |tx| table::update(tx, &c2))?;
    }
    assert_eq!(
        store.verify_audit()?,
        clinicdesk_store::audit::VerifyReport {
            entries: 6,
            ok: true,
            first_broken_seq: None,
            reason: None,
            problems: vec![],
            rows_checked: 7, // the clinic and the 6 goal templates V1 writes
            row_problems: 0,
            trigger_drift: vec![],
            seals: 0,
            seals_checked: false,
            sealed_through: None,
            unsealed_entries: 6,
        }
    );
    drop(store);
    // Someone with the key edits entry 3 directly, bypassing the append-only trigger.
    let key = keys.load(&path)?;
    let raw = clinicdesk_store::open_raw(&path, &key)?;
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET new_values = '{\"name\":\"Innocent\"}' WHERE seq = 3;",
    )?;
    drop(raw);
    let store = Store::open(&path, &keys)?;
    let r = store.verify_audit()?;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, Some(3));
    assert!(r.reason.unwrap().contains("altered"));
    Ok(())
}

#[test]
fn remote_changes_are_audited_but_not_captured_again() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let c = clinic();
    store.write(Some("local-user"), |tx| table::insert(tx, &c))?;
    let counts = |s: &Store| -> (i64, i64) {
        s.read(|x| -> clinicdesk_store::Result<(i64, i64)> {
            Ok((
                x.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?,
                x.query_row("SELECT count(*) FROM change_log", [], |r| r.get(0))?,
            ))
        })
        .unwrap()
    };
    assert_eq!(counts(&store), (1, 1));
    // A change pulled from another PC is applied without being captured for sending again.
    let mut c2 = c.clone();
    c2.name = "Renamed on another PC".into();
    store.write_as(
        clinicdesk_store::WriteMode::Remote,
        Some("remote-user"),
        |tx| table::update(tx, &c2),
    )?;
    assert_eq!(counts(&store), (2, 1));
    // Change-log entries carry an increasing HLC and this device's id.
    let mut c3 = c2.clone();
    c3.name = "Local again".into();
    store.write(Some("local-user"), |tx| table::update(tx, &c3))?;
    let rows: Vec<(String, String, String)> = store.read(|x| -> clinicdesk_store::Result<_> {
        let mut s = x.prepare("SELECT hlc, device_id, columns FROM change_log ORDER BY seq")?;
        let v = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    })?;
    assert_eq!(rows.len(), 2);
    assert!(rows[0].0 < rows[1].0);
    assert!(rows.iter().all(|r| r.1 == store.device_id().to_string()));
    assert_eq!(rows[1].2, r#"{"name":"Local again"}"#);
    Ok(())
}

#[test]
fn cipher_settings_are_part_of_the_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, keys, path) = new_store(&dir);
    drop(store);
    let key = keys.load(&path)?;
    let raw = clinicdesk_store::open_raw(&path, &key)?;
    let page: String = raw.query_row("PRAGMA cipher_page_size", [], |r| r.get(0))?;
    let hmac: String = raw.query_row("PRAGMA cipher_hmac_algorithm", [], |r| r.get(0))?;
    assert_eq!(page, clinicdesk_store::CIPHER_PAGE_SIZE.to_string());
    assert_eq!(hmac, "HMAC_SHA256");
    drop(raw);
    // With SQLCipher's defaults (4 KiB pages, HMAC-SHA512) the same key cannot read it.
    let plain = rusqlite::Connection::open(&path)?;
    plain.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    plain.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex()))?;
    assert!(plain
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
    Ok(())
}

#[test]
fn checkpoint_moves_the_wal_into_the_database() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    let (frames, done) = store.checkpoint()?;
    assert!(frames > 0, "the write left frames in the WAL");
    assert_eq!(
        frames, done,
        "a passive checkpoint with no readers copies every frame"
    );
    Ok(())
}

/// Writes never merge the patient search index (V12: `automerge` 0, `crisismerge` 64): each
/// adds a segment, the housekeeping's `merge_search_index` merges them in bounded steps until
/// it says none is left, and a bulk load ends settled. Searches find the same patients
/// throughout. (Speed is the benchmark's: `clinicdesk bench`, "write: patient phone".)
#[test]
fn the_search_index_is_merged_off_the_write_path() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _, _) = new_store(&dir);
    let config = |k: &str| -> i64 {
        store
            .read(|c| {
                c.query_row("SELECT v FROM patients_fts_config WHERE k = ?1", [k], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)
            })
            .unwrap()
    };
    assert_eq!(config("automerge"), 0);
    assert_eq!(config("crisismerge"), clinicdesk_store::SEARCH_CRISIS_MERGE);
    let segments = || -> i64 {
        store
            .read(|c| {
                c.query_row(
                    "SELECT count(DISTINCT segid) FROM patients_fts_idx",
                    [],
                    |r| r.get(0),
                )
                .map_err(StoreError::from)
            })
            .unwrap()
    };
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    for i in 0..12 {
        let p = patient(
            &c,
            "Ada",
            &format!("Stone{i}"),
            &format!("MRN-{i}"),
            "(403) 555-0101",
        );
        store.write(None, |tx| table::insert(tx, &p))?;
    }
    let before = segments();
    assert!(
        before >= 12,
        "each write its own segment, none merged: {before}"
    );
    let found = |q: &str| store.read(|c| patients::search(c, q, 50)).unwrap().len();
    assert_eq!(found("stone"), 12);
    let mut steps = 0;
    while store.merge_search_index(1)? {
        steps += 1;
        assert!(steps < 1000, "merging never ends");
    }
    assert!(steps >= 1, "there was merging to do");
    let after = segments();
    assert!(after < before / 2, "merged: {before} → {after} segments");
    assert!(!store.merge_search_index(64)?, "nothing left to merge");
    assert_eq!(found("stone"), 12);
    assert_eq!(found("stone7"), 1);
    store.settle_search_index()?;
    assert_eq!(found("stone"), 12);
    assert_eq!(config("crisismerge"), clinicdesk_store::SEARCH_CRISIS_MERGE);
    Ok(())
}

/// The store checkpoints the WAL on a thread of its own every few dozen commits, so an
/// ordinary write does not run the 32 MiB autocheckpoint itself (the benchmark's "write:
/// patient phone" max shows the difference). Here: the checkpoints happen without anyone
/// asking, and the data is all there afterwards.
#[test]
fn the_wal_is_checkpointed_in_the_background() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, keys, path) = new_store(&dir);
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    assert_eq!(store.background_checkpoints(), 0);
    for i in 0..200 {
        let p = patient(
            &c,
            "Ada",
            &format!("Wal{i}"),
            &format!("W-{i}"),
            "(403) 555-0101",
        );
        store.write(None, |tx| table::insert(tx, &p))?;
    }
    // The thread runs on its own time: wait for it (not a timing assertion).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.background_checkpoints() < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        store.background_checkpoints() >= 1,
        "no background checkpoint ran"
    );
    let n = store.read(|c| {
        c.query_row("SELECT count(*) FROM patients", [], |r| r.get::<_, i64>(0))
            .map_err(StoreError::from)
    })?;
    assert_eq!(n, 200);
    drop(store);
    let store = Store::open(&path, &keys)?;
    assert!(
        store.verify_audit()?.ok,
        "the chain survives the background checkpoints"
    );
    Ok(())
}
