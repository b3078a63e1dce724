//! Rows and checks shared by the durability tests (`power_loss.rs`, `backup_restore.rs`).
#![allow(dead_code)]

use std::path::Path;

use clinicdesk_domain::{ClinicId, ContactMethod, PatientId, Sex};
use clinicdesk_store::tables::{clinics::Clinic, patients::Patient};
use clinicdesk_store::{now_ms, table, KeySource, Store};

pub fn keys(dir: &Path) -> KeySource {
    KeySource::File(dir.join("clinic.key"))
}

pub fn clinic() -> Clinic {
    let now = now_ms();
    Clinic {
        id: ClinicId::new(),
        name: "Durable Clinic".into(),
        code: "DUR".into(),
        timezone: "UTC".into(),
        address_line1: None,
        city: None,
        state: None,
        postal_code: None,
        country: None,
        phone: None,
        email: None,
        reminder_offsets_minutes: vec![],
        idle_lock_minutes: 15,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        display_locale: None,
        hour_cycle: None,
    }
}

pub fn patient(clinic: ClinicId, notes_len: usize) -> Patient {
    let id = PatientId::new();
    let now = now_ms();
    Patient {
        id,
        clinic_id: clinic,
        mrn: id.as_uuid().simple().to_string(),
        first_name: "Durable".into(),
        last_name: "Test".into(),
        middle_name: None,
        preferred_name: None,
        date_of_birth: None,
        sex: Sex::Unknown,
        email: None,
        phone: None,
        address_line1: None,
        city: None,
        state: None,
        postal_code: None,
        preferred_contact_method: ContactMethod::None,
        consent_sms: false,
        consent_email: false,
        legacy_id: None,
        notes: Some("x".repeat(notes_len)),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    }
}

/// A new database at `dir/clinic.db` with one clinic.
pub fn new_store(dir: &Path) -> (Store, ClinicId) {
    let store = Store::create(&dir.join("clinic.db"), &keys(dir)).unwrap();
    let c = clinic();
    store.write(None, |tx| table::insert(tx, &c)).unwrap();
    (store, c.id)
}

/// Insert one patient in its own transaction; returns its id.
pub fn add_patient(store: &Store, clinic: ClinicId, notes_len: usize) -> String {
    let p = patient(clinic, notes_len);
    store
        .write(Some("durability-test"), |tx| table::insert(tx, &p))
        .unwrap();
    p.id.to_string()
}

pub fn patient_ids(store: &Store) -> std::collections::BTreeSet<String> {
    store
        .read(|c| -> clinicdesk_store::Result<_> {
            let mut s = c.prepare("SELECT id FROM patients")?;
            let ids = s
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .unwrap()
}

/// The database is sound: integrity and cipher checks pass, the audit chain verifies.
pub fn assert_sound(store: &Store) {
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{report:?}");
}

/// A digest of every table's rows (audit log included): equal digests, equal content.
pub fn digest(store: &Store) -> String {
    use sha2::Digest;
    store
        .read(|c| -> clinicdesk_store::Result<String> {
            let names: Vec<String> = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' ORDER BY name",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut h = sha2::Sha256::new();
            for n in names {
                h.update(n.as_bytes());
                let mut stmt = c.prepare(&format!("SELECT * FROM \"{n}\" ORDER BY rowid"))?;
                let cols = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    for i in 0..cols {
                        h.update(format!("{:?}|", r.get_ref(i)?).as_bytes());
                    }
                }
            }
            Ok(hex::encode(h.finalize()))
        })
        .unwrap()
}
