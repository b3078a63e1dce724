//! Cancelling a backup or a restore part-way (the desktop's cancel button): a cancelled backup
//! leaves no file, a cancelled restore leaves the database as it was, and a cancel that comes
//! with the last page is too late — the copy is complete and reported as done.

use clinicdesk_domain::ClinicId;
use clinicdesk_store::tables::clinics::Clinic;
use clinicdesk_store::{now_ms, table, KeySource, Store, StoreError};

fn clinic() -> Clinic {
    let now = now_ms();
    Clinic {
        id: ClinicId::new(),
        name: "Calgary Downtown".into(),
        code: "CGY".into(),
        timezone: "America/Edmonton".into(),
        address_line1: None,
        city: None,
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

fn clinic_name(store: &Store) -> String {
    store
        .read(|x| -> clinicdesk_store::Result<String> {
            Ok(x.query_row("SELECT name FROM clinics", [], |r| r.get(0))?)
        })
        .unwrap()
}

#[test]
fn a_cancelled_backup_or_restore_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::create(
        &dir.path().join("clinic.db"),
        &KeySource::File(dir.path().join("clinic.key")),
    )?;
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c))?;
    // Enough pages (8 KiB each) for the copy to take several steps of 256 pages.
    store.write(None, |tx| -> clinicdesk_store::Result<()> {
        tx.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
             INSERT INTO local_meta (key, value) SELECT 'pad-' || i, hex(randomblob(8000)) FROM n",
        )?;
        Ok(())
    })?;

    // Backup cancelled at the first report: no file, no partial file.
    let cancelled = dir.path().join("cancelled.cdbk");
    let err = store.backup_to(&cancelled, |_, _| false).unwrap_err();
    assert!(matches!(err, StoreError::Backup(_)), "{err:?}");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(!cancelled.exists());
    assert!(!cancelled.with_extension("partial").exists());

    let backup = dir.path().join("backup.cdbk");
    let mut reports = Vec::new();
    store.backup_to(&backup, |done, total| {
        reports.push((done, total));
        true
    })?;
    assert!(reports.len() > 1, "{reports:?}");
    let (done, total) = *reports.last().unwrap();
    assert!(total > 256 && done == total, "{reports:?}");

    // A cancel with the last page is too late: the backup is complete.
    let late = dir.path().join("late.cdbk");
    store.backup_to(&late, |done, total| done < total)?;
    assert!(late.exists());

    // A change after the backup; a restore cancelled part-way leaves it in place.
    let mut renamed = c.clone();
    renamed.name = "Renamed".into();
    store.write(None, |tx| table::update(tx, &renamed))?;
    let mut calls = 0;
    let err = store
        .restore_from(&backup, |_, _| {
            calls += 1;
            false
        })
        .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(calls, 1);
    assert_eq!(clinic_name(&store), "Renamed");
    assert!(store.verify_audit()?.ok);
    assert!(store.integrity_check()?.is_empty());
    // The database still takes writes.
    let mut again = renamed.clone();
    again.name = "Renamed again".into();
    store.write(None, |tx| table::update(tx, &again))?;
    assert_eq!(clinic_name(&store), "Renamed again");

    // Cancelling with the last page: the restore is complete, and reported as done.
    store.restore_from(&backup, |done, total| done < total)?;
    assert_eq!(clinic_name(&store), "Calgary Downtown");
    assert!(store.verify_audit()?.ok);
    Ok(())
}
