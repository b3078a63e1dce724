//! Issue 11, point 11: what someone with the database key can do to the audit trail, and how
//! each is detected — a dropped trigger (at open and by verify), edits with auditing switched
//! off (rows against their latest audited values), history rewritten and re-hashed, and sealed
//! entries cut off (forward-secure seals, checked with the verification key).

use clinicdesk_domain::ClinicId;
use clinicdesk_store::audit::{entry_hash, HashInput, SealKey, VerifyReport};
use clinicdesk_store::tables::clinics::Clinic;
use clinicdesk_store::{now_ms, open_raw, table, KeySource, Store, WriteMode};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use serde_json::json;

fn clinic(code: &str) -> Clinic {
    let now = now_ms();
    Clinic {
        id: ClinicId::new(),
        name: format!("Clinic {code}"),
        code: code.into(),
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

struct Db {
    dir: tempfile::TempDir,
    keys: KeySource,
}

impl Db {
    fn new() -> (Db, Store) {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySource::File(dir.path().join("clinic.key"));
        let store = Store::create(&dir.path().join("clinic.db"), &keys).unwrap();
        (Db { dir, keys }, store)
    }
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("clinic.db")
    }
    fn open(&self) -> Store {
        Store::open(&self.path(), &self.keys).unwrap()
    }
    /// A connection of someone with the key, outside the app.
    fn raw(&self) -> Connection {
        open_raw(&self.path(), &self.keys.load(&self.path()).unwrap()).unwrap()
    }
    /// Such a connection with the app's trigger functions defined by the intruder: auditing
    /// and change capture switched off (`cd_audit()` returns 0).
    fn raw_unaudited(&self) -> Connection {
        let c = self.raw();
        let f = FunctionFlags::SQLITE_UTF8;
        c.create_scalar_function("cd_audit", 0, f, |_| Ok(0))
            .unwrap();
        c.create_scalar_function("cd_capture", 0, f, |_| Ok(0))
            .unwrap();
        for name in ["cd_now_ms", "cd_user", "cd_device", "cd_hlc"] {
            c.create_scalar_function(name, 0, f, |_| Ok(0)).unwrap();
        }
        c.create_scalar_function("cd_fingerprint", 1, f, |_| Ok(0))
            .unwrap();
        c.create_scalar_function("cd_diff", 3, f, |_| Ok(0))
            .unwrap();
        c.create_scalar_function("cd_audit_hash", 11, f, |_| Ok(0))
            .unwrap();
        c
    }
}

fn event(store: &Store, n: i64) {
    store
        .write(None, |tx| {
            tx.audit_event("database", None, "event", &json!({ "n": n }))
        })
        .unwrap();
}

fn problems(r: &VerifyReport) -> String {
    r.problems.join("\n")
}

#[test]
fn a_dropped_trigger_is_recorded_at_open_reported_and_repaired() {
    let (db, store) = Db::new();
    let c = clinic("CGY");
    store.write(None, |tx| table::insert(tx, &c)).unwrap();
    assert!(store.verify_audit().unwrap().ok);
    drop(store);
    // The update trigger is dropped, so this edit goes unaudited.
    db.raw()
        .execute_batch(
            "DROP TRIGGER clinics_au; UPDATE clinics SET name = 'Quietly renamed', phone = '555';",
        )
        .unwrap();
    let store = db.open();
    let r = store.verify_audit().unwrap();
    assert!(!r.ok);
    assert_eq!(r.trigger_drift, ["missing: clinics_au"]);
    assert_eq!(r.row_problems, 1, "{}", problems(&r));
    assert!(
        problems(&r).contains(&format!("clinic {}: name, phone differ", c.id)),
        "{}",
        problems(&r)
    );
    // The open recorded the drift in the audit log (the chain stays intact).
    let recorded: i64 = store
        .read(|x| {
            x.query_row(
                "SELECT count(*) FROM audit_log WHERE json_extract(new_values, '$.trigger_drift[0]') = 'missing: clinics_au'",
                [],
                |r| r.get(0),
            )
            .map_err(clinicdesk_store::StoreError::from)
        })
        .unwrap();
    assert_eq!(recorded, 1);
    assert_eq!(r.first_broken_seq, None);
    // The repair re-creates the trigger from the binary and is audited; an audited update of
    // the row then makes it consistent again.
    let repaired = store.repair_triggers(Some("admin")).unwrap().unwrap();
    assert_eq!(repaired.missing, ["clinics_au"]);
    assert_eq!(store.repair_triggers(None).unwrap(), None);
    let r = store.verify_audit().unwrap();
    assert!(r.trigger_drift.is_empty() && r.row_problems == 1);
    let mut c2 = c.clone();
    c2.name = "Calgary".into();
    c2.phone = Some("(403) 555-0100".into());
    store.write(None, |tx| table::update(tx, &c2)).unwrap();
    let r = store.verify_audit().unwrap();
    assert!(r.ok, "{}", problems(&r));
}

#[test]
fn a_changed_or_added_trigger_is_reported_by_name() {
    let (db, store) = Db::new();
    drop(store);
    db.raw()
        .execute_batch(
            "DROP TRIGGER patients_ai;
             CREATE TRIGGER patients_ai AFTER INSERT ON patients BEGIN SELECT 1; END;
             CREATE TRIGGER sneaky AFTER INSERT ON clinics BEGIN SELECT 1; END;",
        )
        .unwrap();
    let store = db.open();
    let r = store.verify_audit().unwrap();
    assert_eq!(r.trigger_drift, ["changed: patients_ai", "extra: sneaky"]);
    assert!(!r.ok);
    let repaired = store.repair_triggers(None).unwrap().unwrap();
    assert_eq!(
        (repaired.changed, repaired.extra),
        (vec!["patients_ai".into()], vec!["sneaky".into()])
    );
    assert!(store.verify_audit().unwrap().ok);
}

#[test]
fn edits_with_auditing_switched_off_are_reported() {
    let (db, store) = Db::new();
    // The reference rows the migrations write are checked too.
    let seeded = store.verify_audit().unwrap().rows_checked;
    assert!(seeded > 0);
    let (a, b, d) = (clinic("AAA"), clinic("BBB"), clinic("DDD"));
    for c in [&a, &b, &d] {
        store.write(None, |tx| table::insert(tx, c)).unwrap();
    }
    let mut a2 = a.clone();
    a2.city = Some("Banff".into());
    store.write(None, |tx| table::update(tx, &a2)).unwrap();
    // Only updated_at changing is not audited (the trigger ignores it): not a problem.
    let mut b2 = b.clone();
    b2.updated_at += 10;
    store.write(None, |tx| table::update(tx, &b2)).unwrap();
    assert!(store.verify_audit().unwrap().ok);
    drop(store);
    let raw = db.raw_unaudited();
    raw.execute(
        "UPDATE clinics SET city = 'Canmore' WHERE id = ?1",
        [a.id.to_string()],
    )
    .unwrap();
    // A row slipped in without an audit entry, and one deleted underneath the app.
    raw.execute_batch(&format!(
        "INSERT INTO clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at)
         SELECT 'ghost', 'Ghost', 'GHO', timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at FROM clinics LIMIT 1;
         DROP TRIGGER clinics_bd; DELETE FROM clinics WHERE id = '{}';",
        d.id
    ))
    .unwrap();
    drop(raw);
    let r = db.open().verify_audit().unwrap();
    assert!(!r.ok);
    assert_eq!(r.row_problems, 3, "{}", problems(&r));
    assert_eq!(r.rows_checked, seeded + 3);
    let p = problems(&r);
    assert!(p.contains(&format!("clinic {}: city differ", a.id)), "{p}");
    assert!(p.contains("clinic ghost: it has no audit entry"), "{p}");
    assert!(
        p.contains(&format!("clinic {}: audited, but the row is gone", d.id)),
        "{p}"
    );
    // The reference rows the migrations wrote, changed without an audit entry.
    let raw = db.raw_unaudited();
    raw.execute_batch("UPDATE goal_templates SET name = name || ' (edited)' WHERE rowid = (SELECT min(rowid) FROM goal_templates);")
        .unwrap();
    drop(raw);
    let r2 = db.open().verify_audit().unwrap();
    assert!(
        problems(&r2).contains("goal_templates: the rows the migrations wrote were changed"),
        "{}",
        problems(&r2)
    );
    // The chain itself is intact: only the row check sees these.
    assert_eq!(r.first_broken_seq, None);
}

#[test]
fn bulk_rows_are_covered_by_the_baseline() {
    let (db, store) = Db::new();
    let seeded = store.verify_audit().unwrap().rows_checked;
    let (a, b) = (clinic("AAA"), clinic("BBB"));
    store
        .write_as(WriteMode::Bulk, None, |tx| {
            table::insert(tx, &a)?;
            table::insert(tx, &b)
        })
        .unwrap();
    // No per-row entries, one baseline event; later audited updates are fine.
    let r = store.verify_audit().unwrap();
    assert!(
        r.ok && r.rows_checked == seeded + 2 && r.entries == 1,
        "{r:?}"
    );
    let mut a2 = a.clone();
    a2.name = "Renamed".into();
    store.write(None, |tx| table::update(tx, &a2)).unwrap();
    assert!(store.verify_audit().unwrap().ok);
    drop(store);
    // An unaudited edit of a bulk row, never updated since the load: only the baseline's
    // digest can tell.
    db.raw_unaudited()
        .execute(
            "UPDATE clinics SET city = 'Canmore' WHERE id = ?1",
            [b.id.to_string()],
        )
        .unwrap();
    let r = db.open().verify_audit().unwrap();
    assert!(!r.ok);
    assert!(
        problems(&r).contains("clinics: the 2 rows written in bulk (baseline at entry 1)"),
        "{}",
        problems(&r)
    );
    // An unaudited edit of the updated bulk row is seen against its update entry.
    let (db, store) = Db::new();
    store
        .write_as(WriteMode::Bulk, None, |tx| table::insert(tx, &a))
        .unwrap();
    store.write(None, |tx| table::update(tx, &a2)).unwrap();
    drop(store);
    db.raw_unaudited()
        .execute("UPDATE clinics SET name = 'Other'", [])
        .unwrap();
    let r = db.open().verify_audit().unwrap();
    assert_eq!(r.row_problems, 1, "{}", problems(&r));
    assert!(problems(&r).contains("name differ"), "{}", problems(&r));
}

#[test]
fn the_verification_key_is_shown_once_and_seals_verify_with_it() {
    let (db, store) = Db::new();
    let k0 = store.take_initial_seal_key().expect("a new database's K_0");
    assert_eq!(store.take_initial_seal_key(), None);
    assert_eq!(store.seal_audit().unwrap(), None, "nothing to seal");
    for n in 0..3 {
        event(&store, n);
    }
    let s = store.seal_audit().unwrap().unwrap();
    assert_eq!((s.epoch, s.from_seq, s.to_seq), (0, 1, 3));
    assert_eq!(store.seal_audit().unwrap(), None);
    event(&store, 3);
    let s = store.seal_audit().unwrap().unwrap();
    assert_eq!((s.epoch, s.from_seq, s.to_seq), (1, 4, 4));
    event(&store, 4);
    let r = store.verify_audit_with(Some(&k0)).unwrap();
    assert!(r.ok, "{}", problems(&r));
    assert_eq!(
        (
            r.seals,
            r.seals_checked,
            r.sealed_through,
            r.unsealed_entries
        ),
        (2, true, Some(4), 1)
    );
    let r = store.verify_audit().unwrap();
    assert!(r.ok && !r.seals_checked && r.seals == 2);
    // Another key does not verify.
    let other = SealKey::from_hex(&"ab".repeat(32)).unwrap();
    let r = store.verify_audit_with(Some(&other)).unwrap();
    assert!(!r.ok);
    assert!(r
        .reason
        .unwrap()
        .contains("does not verify with the verification key"));
    // The database no longer holds K_0, nor K_1: only K_2.
    drop(store);
    let stored: String = db
        .raw()
        .query_row(
            "SELECT value FROM local_meta WHERE key = 'audit_seal_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(stored, k0.to_hex());
    // A database opened again does not hand out a key.
    assert_eq!(db.open().take_initial_seal_key(), None);
}

/// Run `f` with `triggers` dropped, then put them back exactly as they were (so that the
/// trigger check at open sees nothing), as a careful intruder would.
fn quietly(raw: &Connection, triggers: &[&str], f: impl FnOnce(&Connection)) {
    let mut saved = Vec::new();
    for t in triggers {
        let sql: String = raw
            .query_row("SELECT sql FROM sqlite_master WHERE name = ?1", [t], |r| {
                r.get(0)
            })
            .unwrap();
        raw.execute_batch(&format!("DROP TRIGGER {t};")).unwrap();
        saved.push(sql);
    }
    f(raw);
    for sql in saved {
        raw.execute_batch(&sql).unwrap();
    }
}

/// Rewrite an old entry and re-hash the chain after it, as someone with the key can.
fn rewrite_history(raw: &Connection, seq: i64) {
    quietly(raw, &["audit_log_no_update"], |raw| rehash(raw, seq));
}

/// seq, at, table_name, action, new_values, user_id, device_id of an event entry.
type EventRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn rehash(raw: &Connection, seq: i64) {
    raw.execute(
        "UPDATE audit_log SET new_values = '{\"n\":\"forged\"}' WHERE seq = ?1",
        [seq],
    )
    .unwrap();
    let rows: Vec<EventRow> = raw
        .prepare("SELECT seq, at, table_name, action, new_values, user_id, device_id FROM audit_log WHERE seq >= ?1 - 1 ORDER BY seq")
        .unwrap()
        .query_map([seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev: Option<String> = raw
        .query_row(
            "SELECT hash FROM audit_log WHERE seq = ?1 - 1",
            [seq],
            |r| r.get(0),
        )
        .ok();
    for (s, at, table, action, new, user, device) in rows.into_iter().filter(|r| r.0 >= seq) {
        let hash = entry_hash(&HashInput {
            seq: s,
            prev_hash: prev.as_deref(),
            at,
            table_name: &table,
            row_id: None,
            action: &action,
            old_values: None,
            new_values: new.as_deref(),
            changed_fields: None,
            user_id: user.as_deref(),
            device_id: Some(&device),
        });
        raw.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            rusqlite::params![s, prev, hash],
        )
        .unwrap();
        prev = Some(hash);
    }
}

#[test]
fn history_rewritten_and_rehashed_is_caught_by_the_seals() {
    let (db, store) = Db::new();
    let k0 = store.take_initial_seal_key().unwrap();
    for n in 0..4 {
        event(&store, n);
    }
    store.seal_audit().unwrap();
    event(&store, 4);
    store.seal_audit().unwrap();
    drop(store);
    let raw = db.raw();
    rewrite_history(&raw, 2);
    // The intruder also points the seals at the new hashes (they cannot recompute the MACs of
    // epochs 0 and 1: those keys are gone).
    quietly(&raw, &["audit_seals_no_update"], |raw| {
        raw.execute_batch(
            "UPDATE audit_seals SET head_hash = (SELECT hash FROM audit_log WHERE seq = to_seq);",
        )
        .unwrap();
    });
    drop(raw);
    let store = db.open();
    // The unkeyed chain is consistent again: without the verification key this goes unseen
    // (and the report says the seals were not checked).
    let r = store.verify_audit().unwrap();
    assert!(r.ok && !r.seals_checked, "{r:?}");
    let r = store.verify_audit_with(Some(&k0)).unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, Some(1));
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .contains("seal 0 (entries 1-4) does not verify"),
        "{r:?}"
    );
}

#[test]
fn history_rewritten_without_touching_the_seals_is_caught_without_the_key() {
    let (db, store) = Db::new();
    for n in 0..4 {
        event(&store, n);
    }
    store.seal_audit().unwrap();
    drop(store);
    rewrite_history(&db.raw(), 2);
    let r = db.open().verify_audit().unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, Some(4));
    assert!(r
        .reason
        .unwrap()
        .contains("entry 4 no longer matches seal 0"));
}

#[test]
fn sealed_entries_cut_off_are_caught_but_unsealed_ones_are_not() {
    let (db, store) = Db::new();
    let k0 = store.take_initial_seal_key().unwrap();
    for n in 0..3 {
        event(&store, n);
    }
    store.seal_audit().unwrap(); // epoch 0: 1-3
    for n in 3..6 {
        event(&store, n);
    }
    store.seal_audit().unwrap(); // epoch 1: 4-6
    event(&store, 6);
    event(&store, 7); // 7-8 unsealed
    drop(store);
    // Cutting off the unsealed tail: not detectable here (only the off-PC anchor of the sync
    // issue can see it).
    let cut = |sql: &str| {
        quietly(
            &db.raw(),
            &["audit_log_no_delete", "audit_seals_no_delete"],
            |raw| raw.execute_batch(sql).unwrap(),
        )
    };
    cut("DELETE FROM audit_log WHERE seq >= 7;");
    let r = db.open().verify_audit_with(Some(&k0)).unwrap();
    assert!(r.ok, "{}", problems(&r));
    assert_eq!((r.sealed_through, r.unsealed_entries), (Some(6), 0));
    // Cutting off sealed entries together with their seal: the stored key is K_2, which the
    // one remaining seal does not lead to, and the intruder cannot go back to K_1.
    cut("DELETE FROM audit_log WHERE seq >= 4; DELETE FROM audit_seals WHERE epoch = 1;");
    let r = db.open().verify_audit().unwrap();
    assert!(r.ok, "without the key: {}", problems(&r));
    let r = db.open().verify_audit_with(Some(&k0)).unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, Some(4));
    assert!(r
        .reason
        .unwrap()
        .contains("does not follow from the verification key after 1 seals"),);
    // Cutting off entries a remaining seal covers is seen without the key.
    cut("DELETE FROM audit_log WHERE seq >= 3;");
    let r = db.open().verify_audit().unwrap();
    assert!(r
        .reason
        .unwrap()
        .contains("entry 3 is missing (the log was cut off)"));
}
