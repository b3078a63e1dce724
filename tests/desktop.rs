//! The desktop shell's command logic on a real encrypted database in a temporary folder: first
//! run, sign-in, booking through the session gate, a refused double booking, the idle lock,
//! unlock, bad input, and the long tasks (backup, restore, demo) with progress and
//! cancellation. The commands wrap exactly these `AppState` functions (and `AppState::call`
//! with one API call), so nothing of ours is mocked; only Tauri's IPC is left out.

use std::collections::BTreeMap;
use std::time::Duration;

use clinicdesk_api::domain::{ClinicId, Role, StaffId};
use clinicdesk_api::keys::KeySource;
use clinicdesk_api::{AuditQuery, ErrorBody, ListQuery};
use clinicdesk_app_lib::{fields, AppState, DbLocation, Progress, Tick, LOCKED, NOT_SIGNED_IN};

const PW: &str = "correct horse battery";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Desk {
    _dir: tempfile::TempDir,
    state: AppState,
    clinic: ClinicId,
}

fn new_state(dir: &tempfile::TempDir) -> AppState {
    AppState::new(DbLocation {
        path: dir.path().join("clinicdesk.db"),
        keys: KeySource::File(dir.path().join("clinicdesk.key")),
    })
}

/// A new database set up through `first_run_setup` (which signs the admin in).
fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let state = new_state(&dir);
    assert!(!state.app_info().unwrap().initialised);
    let st = state
        .first_run_setup(
            &fields(map(&[
                ("name", "Calgary"),
                ("code", "CGY"),
                ("timezone", "America/Edmonton"),
            ])),
            "admin",
            PW,
        )
        .unwrap();
    assert!(st.signed_in && !st.locked);
    let user = st.user.unwrap();
    assert_eq!(user.username, "admin");
    assert_eq!(user.roles.len(), 1);
    assert_eq!(user.roles[0].role, Role::Admin);
    assert_eq!(st.idle_timeout_minutes, 15);
    assert!(state.app_info().unwrap().initialised);
    Desk {
        clinic: user.roles[0].clinic_id,
        _dir: dir,
        state,
    }
}

/// Row contents of every table but the audit log: a refused command must leave it unchanged.
fn fingerprint(state: &AppState) -> Vec<(String, u64)> {
    state
        .app()
        .unwrap()
        .store()
        .read(|c| -> clinicdesk_store::Result<Vec<(String, u64)>> {
            let names: Vec<String> = c
                .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('audit_log') AND name NOT LIKE '%fts%' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'refinery%' ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for n in names {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                let mut stmt = c.prepare(&format!("SELECT * FROM {n} ORDER BY rowid"))?;
                let cols = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    for i in 0..cols {
                        format!("{:?}", r.get_ref(i)?).hash(&mut h);
                    }
                }
                out.push((n, h.finish()));
            }
            Ok(out)
        })
        .unwrap()
}

fn assert_code<T: std::fmt::Debug>(r: Result<T, ErrorBody>, code: &str) -> ErrorBody {
    let e = r.unwrap_err();
    assert_eq!(e.code, code, "{e:?}");
    assert!(!e.message.is_empty());
    e
}

/// A provider working 08:00–17:00 on 2027-03-01 and a patient, through the commands' calls.
fn provider_and_patient(d: &Desk) -> (StaffId, String) {
    let c = d.clinic;
    let staff = d
        .state
        .call(|app, s| {
            app.create_staff(
                s,
                c,
                &fields(map(&[("first_name", "Maya"), ("last_name", "Singh")])),
            )
        })
        .unwrap();
    d.state
        .call(|app, s| {
            app.create_availability_block(
                s,
                c,
                &fields(map(&[
                    ("provider_id", &staff.id.to_string()),
                    ("start", "2027-03-01 08:00"),
                    ("end", "2027-03-01 17:00"),
                    ("is_available", "yes"),
                ])),
            )
        })
        .unwrap();
    let patient = d
        .state
        .call(|app, s| {
            app.create_patient(
                s,
                c,
                &fields(map(&[("first_name", "Ann"), ("last_name", "Lee")])),
            )
        })
        .unwrap();
    (staff.id, patient.id.to_string())
}

#[test]
fn nothing_runs_before_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let state = new_state(&dir);
    let e = assert_code(
        state.call(|app, s| app.list_clinics(s, &ListQuery::default())),
        NOT_SIGNED_IN,
    );
    assert!(e.message.contains("sign in"), "{}", e.message);
    assert_code(state.login("admin", PW), "bad_credentials");
    assert_code(state.lock(), NOT_SIGNED_IN);
    assert_code(state.unlock_at(PW, Tick::now()), NOT_SIGNED_IN);
    assert_code(state.activity_at(Tick::now()), NOT_SIGNED_IN);
    let st = state.session_status_at(Tick::now());
    assert!(!st.signed_in && st.user.is_none());
}

#[test]
fn setup_login_book_double_booking_idle_lock_and_unlock() {
    let d = desk();
    let state = &d.state;
    let c = d.clinic;
    // First-run setup again is refused: the database is set up.
    let before = fingerprint(state);
    assert_code(
        state.first_run_setup(
            &fields(map(&[("name", "X"), ("code", "XX"), ("timezone", "UTC")])),
            "other",
            PW,
        ),
        "conflict",
    );
    assert_eq!(fingerprint(state), before);

    // Sign out and in again (as the UI does at start-up).
    assert!(!state.logout().signed_in);
    assert_code(
        state.call(|app, s| app.day_schedule(s, c, "2027-03-01", None)),
        NOT_SIGNED_IN,
    );
    assert_code(state.login("admin", "wrong password!"), "bad_credentials");
    assert!(state.login("admin", PW).unwrap().signed_in);

    let (provider, patient) = provider_and_patient(&d);
    let booking = map(&[
        ("patient_id", &patient),
        ("provider_id", &provider.to_string()),
        ("start", "2027-03-01 09:00"),
        ("duration_minutes", "30"),
    ]);
    let a = state
        .call(|app, s| app.book_appointment(s, c, &fields(booking.clone())))
        .unwrap();
    let day = state
        .call(|app, s| app.day_schedule(s, c, "2027-03-01", None))
        .unwrap();
    assert_eq!(day.entries.len(), 1);
    assert_eq!(day.entries[0].id, a.id);

    // The same provider at an overlapping time, another patient: refused, nothing changed.
    let other = state
        .call(|app, s| {
            app.create_patient(
                s,
                c,
                &fields(map(&[("first_name", "Bo"), ("last_name", "Chan")])),
            )
        })
        .unwrap();
    let before = fingerprint(state);
    let mut clash = booking.clone();
    clash.insert("patient_id".into(), other.id.to_string());
    clash.insert("start".into(), "2027-03-01 09:15".into());
    let e = assert_code(
        state.call(|app, s| app.book_appointment(s, c, &fields(clash))),
        "conflict",
    );
    assert!(e.message.contains("Maya Singh"), "{}", e.message);
    assert_eq!(fingerprint(state), before);

    // Idle for longer than the timeout: the next command finds the session locked.
    let later = Tick::now() + Duration::from_secs(15 * 60 + 1);
    let st = state.session_status_at(later);
    assert!(st.signed_in && st.locked);
    assert_eq!(st.seconds_until_lock, 0);
    assert_eq!(st.user.as_ref().unwrap().username, "admin");
    let e = assert_code(state.enter_at(later), LOCKED);
    assert!(e.message.contains("locked"), "{}", e.message);
    // Locked holds for every command (and for activity) until unlocked.
    let e = assert_code(
        state.call(|app, s| app.day_schedule(s, c, "2027-03-01", None)),
        LOCKED,
    );
    assert!(e.message.contains("password"), "{}", e.message);
    assert_code(state.activity_at(Tick::now()), LOCKED);
    assert_code(
        state.call(|app, s| app.book_appointment(s, c, &fields(booking.clone()))),
        LOCKED,
    );
    assert_eq!(fingerprint(state), before);

    // A wrong password keeps it locked; the right one unlocks.
    assert_code(
        state.unlock_at("not the password", Tick::now()),
        "bad_credentials",
    );
    assert_code(state.enter_at(Tick::now()), LOCKED);
    let st = state.unlock_at(PW, Tick::now()).unwrap();
    assert!(st.signed_in && !st.locked && st.seconds_until_lock > 14 * 60);
    let day = state
        .call(|app, s| app.day_schedule(s, c, "2027-03-01", None))
        .unwrap();
    assert_eq!(day.entries.len(), 1);

    // Another user cannot unlock the admin's session: they sign in, replacing it.
    state
        .call(|app, s| {
            let u = app.create_user(s, &fields(map(&[("username", "desk")])), PW)?;
            app.grant_role(s, u.id, c, Role::FrontDesk)
        })
        .unwrap();
    state.lock().unwrap();
    assert_code(
        state.unlock_at(PW.replace("horse", "mouse").as_str(), Tick::now()),
        "bad_credentials",
    );
    let st = state.login("desk", PW).unwrap();
    assert_eq!(st.user.unwrap().username, "desk");
    assert!(!st.locked);
    // The front desk may book but not change the idle lock.
    assert_code(state.set_idle_timeout(5), "permission_denied");
    assert_eq!(state.call(|app, _| app.get_idle_timeout()).unwrap(), 15);

    // The audit log shows the sign-ins (and the failed one).
    state.login("admin", PW).unwrap();
    let logins = state
        .call(|app, s| {
            app.list_audit(
                s,
                &AuditQuery {
                    action: Some("login_failed".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(logins.len() >= 2, "{logins:?}");
}

/// A clinic's `idle_lock_minutes` applies when shorter than the device's; a suspended PC is
/// locked at resume, and the hours it slept count as idle time.
#[test]
fn the_clinics_idle_lock_and_sleep_lock_the_session() {
    let d = desk();
    let state = &d.state;
    state
        .call(|app, s| app.update_clinic(s, d.clinic, &fields(map(&[("idle_lock_minutes", "5")]))))
        .unwrap();
    // Applies from the next sign-in (the device says 15).
    let st = state.login("admin", PW).unwrap();
    assert_eq!(st.idle_timeout_minutes, 5);
    assert!(st.seconds_until_lock <= 5 * 60);
    let t = Tick::now();
    assert!(state.enter_at(t + Duration::from_secs(4 * 60)).is_ok());
    assert_code(state.enter_at(t + Duration::from_secs(9 * 60 + 1)), LOCKED);
    // A longer device setting does not loosen the clinic's.
    state.unlock_at(PW, Tick::now()).unwrap();
    let st = state.set_idle_timeout(60).unwrap();
    assert_eq!(st.idle_timeout_minutes, 5);
    // Eight hours with the lid closed: locked at resume, though the process saw no time pass.
    let st = state.session_status_at(Tick::now().after_sleep(Duration::from_secs(8 * 3600)));
    assert!(st.locked, "{st:?}");
    assert_code(state.enter_at(Tick::now()), LOCKED);
}

#[test]
fn idle_timeout_setting_applies_to_the_running_session() {
    let d = desk();
    let state = &d.state;
    let before = fingerprint(state);
    for bad in [0, -1, 481] {
        let e = assert_code(state.set_idle_timeout(bad), "invalid_input");
        assert!(e.message.contains("between 1 and 480"), "{}", e.message);
        assert_eq!(fingerprint(state), before);
        assert_eq!(
            state.session_status_at(Tick::now()).idle_timeout_minutes,
            15
        );
    }
    let st = state.set_idle_timeout(1).unwrap();
    assert_eq!(st.idle_timeout_minutes, 1);
    assert!(st.seconds_until_lock <= 60);
    assert_eq!(state.call(|app, _| app.get_idle_timeout()).unwrap(), 1);
    let e = state.enter_at(Tick::now() + Duration::from_secs(61));
    assert_code(e, LOCKED);
    // The setting is the device's: a new app on the same database reads it.
    let again = AppState::new(state.location.clone());
    again.app().unwrap();
    assert_eq!(again.session_status_at(Tick::now()).idle_timeout_minutes, 1);
}

#[test]
fn bad_input_on_the_new_reads_is_refused_clearly() {
    let d = desk();
    let state = &d.state;
    let c = d.clinic;
    let before = fingerprint(state);
    let e = assert_code(
        state.call(|app, s| app.week_schedule(s, c, "03/01/2027", None)),
        "invalid_input",
    );
    assert!(e.message.contains("start"), "{}", e.message);
    let e = assert_code(
        state.call(|app, s| app.list_availability_blocks(s, c, "2027-03-02", "2027-03-01", None)),
        "invalid_input",
    );
    assert!(e.message.contains("to"), "{}", e.message);
    let e = assert_code(
        state.call(|app, s| {
            app.list_audit(
                s,
                &AuditQuery {
                    limit: Some(5000),
                    ..Default::default()
                },
            )
        }),
        "invalid_input",
    );
    assert!(e.message.contains("limit"), "{}", e.message);
    // Unknown fields in a create command's map are refused, naming them.
    let e = assert_code(
        state.call(|app, s| {
            app.create_patient(
                s,
                c,
                &fields(map(&[
                    ("first_name", "Ann"),
                    ("last_name", "Lee"),
                    ("favourite_colour", "blue"),
                ])),
            )
        }),
        "invalid_input",
    );
    assert!(e.message.contains("favourite_colour"), "{}", e.message);
    // A task needs an id.
    assert_code(
        state.backup(" ", &d._dir.path().join("x.db"), |_| {}),
        "invalid_input",
    );
    assert_eq!(fingerprint(state), before);
    assert!(!d._dir.path().join("x.db").exists());
}

#[test]
fn backup_and_restore_report_progress_and_can_be_cancelled() {
    // The small demo: a database of many pages, so copies take several steps.
    let dir = tempfile::tempdir().unwrap();
    let state = &new_state(&dir);
    state.generate_demo("demo", "small", PW, |_| {}).unwrap();
    state.login("admin", PW).unwrap();
    let c = state
        .call(|app, s| app.list_clinics(s, &ListQuery::default()))
        .unwrap()[0]
        .id;
    let dir = dir.path();

    // A backup reports its pages up to the whole database.
    let dest = dir.join("backup.db");
    let mut seen: Vec<Progress> = Vec::new();
    state.backup("b1", &dest, |p| seen.push(p)).unwrap();
    assert!(dest.exists());
    assert!(seen.len() > 1, "{seen:?}");
    assert!(seen.iter().all(|p| p.task == "b1" && p.stage == "backup"));
    let last = seen.last().unwrap();
    assert!(last.total > 256 && last.done == last.total, "{last:?}");
    // The task is gone once finished: nothing to cancel.
    assert!(!state.cancel_task("b1"));

    // Writing over an existing file is refused.
    assert_code(state.backup("b2", &dest, |_| {}), "storage_error");

    // Cancelled at the first report (as `cancel_task` from the UI): no file.
    let cancelled = dir.join("cancelled.db");
    let e = assert_code(
        state.backup("b3", &cancelled, |p| {
            assert!(state.cancel_task(&p.task));
        }),
        "cancelled",
    );
    assert!(e.message.contains("backup"), "{}", e.message);
    assert!(!cancelled.exists());

    // A patient added after the backup…
    state
        .call(|app, s| {
            app.create_patient(
                s,
                c,
                &fields(map(&[("first_name", "Late"), ("last_name", "Comer")])),
            )
        })
        .unwrap();
    let count = |state: &AppState| {
        state
            .call(|app, s| app.search_patients(s, "Comer", 10))
            .unwrap()
            .len()
    };
    assert_eq!(count(state), 1);

    // …stays after a cancelled restore (the database is unchanged, the session goes on)…
    let e = assert_code(
        state.restore("r1", &dest, |p| {
            state.cancel_task(&p.task);
        }),
        "cancelled",
    );
    assert!(e.message.contains("restore"), "{}", e.message);
    assert_eq!(count(state), 1);
    assert!(state.session_status_at(Tick::now()).signed_in);

    // …and is gone after the restore, which signs out.
    let mut seen: Vec<Progress> = Vec::new();
    state.restore("r2", &dest, |p| seen.push(p)).unwrap();
    assert!(seen.len() > 1);
    assert!(seen
        .last()
        .is_some_and(|p| p.stage == "restore" && p.done == p.total));
    assert!(!state.session_status_at(Tick::now()).signed_in);
    assert_code(
        state.call(|app, s| app.search_patients(s, "Comer", 10)),
        NOT_SIGNED_IN,
    );
    state.login("admin", PW).unwrap();
    assert_eq!(count(state), 0);
    assert!(state.call(|app, s| app.verify_audit(s)).unwrap().ok);

    // The front desk may not back up.
    state.login("frontdesk", PW).unwrap();
    assert_code(
        state.backup("b4", &dir.join("desk.db"), |_| {}),
        "permission_denied",
    );
    assert!(!dir.join("desk.db").exists());
}

#[test]
fn reminders_export_writes_the_csv_where_the_user_chose() {
    let d = desk();
    let dir = d._dir.path();
    let path = dir.join("reminders.csv");
    d.state
        .export_pending_reminders_csv(d.clinic, None, path.clone())
        .unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(
        csv.lines().next().is_some_and(|h| h.contains("patient")),
        "{csv}"
    );
    let e = assert_code(
        d.state
            .export_pending_reminders_csv(d.clinic, None, dir.join("no/such/folder/r.csv")),
        "storage_error",
    );
    assert!(e.message.contains("cannot write"), "{}", e.message);
}

#[test]
fn demo_generation_reports_progress_and_a_cancelled_run_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = new_state(&dir);
    assert_code(
        state.generate_demo("d0", "huge", PW, |_| {}),
        "invalid_input",
    );
    let e = assert_code(
        state.generate_demo("d1", "small", PW, |p| {
            state.cancel_task(&p.task);
        }),
        "cancelled",
    );
    assert!(e.message.contains("demo"), "{}", e.message);
    assert!(!state.app_info().unwrap().initialised);

    let mut seen: Vec<Progress> = Vec::new();
    let r = state
        .generate_demo("d2", "small", PW, |p| seen.push(p))
        .unwrap();
    assert!(r.rows_total > 1000);
    assert!(seen.iter().any(|p| p.stage == "appointments"));
    assert!(seen.iter().all(|p| p.task == "d2" && p.done <= p.total));
    assert!(state.app_info().unwrap().initialised);
    let st = state.login(&r.admin_username, PW).unwrap();
    assert!(st.signed_in);
    // Demo data only goes into an empty database.
    assert_code(state.generate_demo("d3", "small", PW, |_| {}), "conflict");
}

#[test]
fn patient_import_reports_progress_and_a_cancelled_import_keeps_nothing() {
    let d = desk();
    let mut csv = String::from("legacy_id,first_name,last_name\n");
    for i in 0..600 {
        csv.push_str(&format!("L-{i},Ann,Lee{i}\n"));
    }
    let before = fingerprint(&d.state);
    let e = assert_code(
        d.state.import_patients("i1", d.clinic, &csv, |p| {
            if p.stage == "importing" {
                d.state.cancel_task(&p.task);
            }
        }),
        "cancelled",
    );
    assert!(e.message.contains("patient import"), "{}", e.message);
    assert_eq!(before, fingerprint(&d.state));

    let mut seen: Vec<Progress> = Vec::new();
    let r = d
        .state
        .import_patients("i2", d.clinic, &csv, |p| seen.push(p))
        .unwrap();
    assert_eq!((r.imported, r.skipped, r.invalid), (600, 0, 0));
    assert!(seen.iter().all(|p| p.task == "i2" && p.done <= p.total));
    assert_eq!(
        seen.last(),
        Some(&Progress {
            task: "i2".into(),
            stage: "importing".into(),
            done: 600,
            total: 600
        })
    );
    // Bad rows come back in the result (not as an error) and change nothing.
    let before = fingerprint(&d.state);
    let r = d
        .state
        .import_patients(
            "i3",
            d.clinic,
            "legacy_id,first_name,last_name\nX-1,Ann,\n",
            |_| {},
        )
        .unwrap();
    assert_eq!((r.invalid, r.imported, r.errors[0].line), (1, 0, 2));
    assert_eq!(before, fingerprint(&d.state));
    assert_code(
        d.state
            .import_patients("i4", d.clinic, "nonsense\n1\n", |_| {}),
        "invalid_input",
    );
}

/// A malformed CLINICDESK_DB_KEY is refused with the CLI's message instead of being passed over
/// for the keyring: the desktop reports it as it would an error opening the database, and no
/// database is created.
#[test]
fn a_malformed_key_is_refused_and_no_database_is_created() {
    const MALFORMED: &str = "CLINICDESK_DB_KEY is malformed: expected 64 hex digits";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinicdesk.db");
    for bad in ["xyz".to_string(), String::new(), "ab".repeat(31)] {
        let err = DbLocation::from_settings(Some(db.clone()), None, Some(bad), None)
            .err()
            .unwrap();
        assert_eq!(err.to_string(), MALFORMED);
        let state = AppState::refusing(db.clone(), err);
        let e = state.app_info().err().unwrap();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("malformed_key", MALFORMED)
        );
        let e = state.login("admin", PW).err().unwrap();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("malformed_key", MALFORMED)
        );
        assert!(state.app().is_err());
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing may be created"
    );
    // A well-formed key is the key; a key file comes first; nothing set: the keyring.
    let literal = DbLocation::from_settings(Some(db.clone()), None, Some("ab".repeat(32)), None);
    assert!(matches!(literal.unwrap().keys, KeySource::Literal(_)));
    let key_file = dir.path().join("k");
    let file = DbLocation::from_settings(None, Some(key_file.clone()), Some("xyz".into()), None);
    assert_eq!(file.unwrap().keys, KeySource::File(key_file));
    let default = DbLocation::from_settings(None, None, None, Some(dir.path().into())).unwrap();
    assert_eq!((default.path, default.keys), (db, KeySource::Keyring));
}

/// An export never lands on the database's own files (whatever the path's spelling, or a
/// link to them), is readable by this account only, and is audited with who, what and where.
#[test]
fn exports_never_overwrite_the_database_are_private_and_audited() {
    use std::os::unix::fs::PermissionsExt;
    let d = desk();
    let (dir, state) = (d._dir.path(), &d.state);
    let before = fingerprint(state);
    let link = dir.join("innocent.csv");
    std::os::unix::fs::symlink(dir.join("clinicdesk.db"), &link).unwrap();
    for target in [
        dir.join("clinicdesk.db"),
        dir.join("clinicdesk.db-wal"),
        dir.join("clinicdesk.db-shm"),
        dir.join(".").join("clinicdesk.db"),
        link.clone(),
    ] {
        let e = assert_code(
            state.export_pending_reminders_csv(d.clinic, None, target.clone()),
            "invalid_input",
        );
        assert!(e.message.contains("database"), "{target:?}: {}", e.message);
        let e = assert_code(state.backup("b", &target, |_| {}), "invalid_input");
        assert!(e.message.contains("database"), "{target:?}: {}", e.message);
    }
    assert_eq!(fingerprint(state), before);
    assert!(state.call(|app, s| app.verify_audit(s)).unwrap().ok);
    let exports = |state: &AppState| {
        state
            .call(|app, s| {
                app.list_audit(
                    s,
                    &AuditQuery {
                        table_name: Some("exports".into()),
                        ..Default::default()
                    },
                )
            })
            .unwrap()
    };
    assert!(
        exports(state).is_empty(),
        "a refused export exported nothing"
    );

    // Over an existing, world-readable file: replaced whole, owner-only.
    let path = dir.join("reminders.csv");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    state
        .export_pending_reminders_csv(d.clinic, None, path.clone())
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("reminder_id,"));
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let audited = exports(state);
    assert_eq!(audited.len(), 1, "{audited:?}");
    let details: serde_json::Value =
        serde_json::from_str(audited[0].new_values.as_deref().unwrap()).unwrap();
    assert_eq!(details["export"], "pending_reminders_csv");
    assert_eq!(details["destination"], path.display().to_string());
    assert_eq!(details["clinic_id"], d.clinic.to_string());
    assert!(audited[0].user_id.is_some());
}

/// Issue 11 point 1 on the desktop: setup's recovery key is shown once; a database that is gone
/// (moved aside, its folder or drive missing) is the `database_missing` error — no new file is
/// created — whose screen restores a backup with the recovery key (a wrong one writes nothing)
/// or, on request only, starts a new clinic (the missing database's id file is kept aside).
#[test]
fn a_missing_database_is_an_error_screen_never_a_new_database() {
    let d = desk();
    let keys = d.state.take_recovery_key().expect("setup's recovery key");
    let rk = keys.recovery_key.clone();
    assert_eq!(rk.split('-').count(), 14, "{rk}");
    assert!(d.state.take_recovery_key().is_none(), "shown once");
    // Setup also shows the audit verification key once; it checks the seals of this database.
    let k0 = keys
        .audit_verification_key
        .as_deref()
        .map(|h| clinicdesk_store::audit::SealKey::from_hex(h).unwrap())
        .expect("the verification key of a database this app created");
    d.state.call(|app, s| app.seal_audit(s).map(drop)).unwrap();
    let r = d
        .state
        .call(|app, s| app.verify_audit_with(s, Some(&k0)))
        .unwrap();
    assert!(r.ok && r.seals_checked && r.seals >= 1, "{r:?}");
    let backup = d._dir.path().join("b.cdbk");
    d.state.backup("b1", &backup, |_| {}).unwrap();
    let loc = d.state.location.clone();
    // An existing database is never replaced by these choices.
    assert_code(d.state.start_new_database(), "conflict");
    assert_code(d.state.restore_new_database(&backup, &rk), "conflict");

    // The next launch finds the file moved aside (the app closed first, as when a PC restarts).
    let Desk {
        _dir: dir, state, ..
    } = d;
    drop(state);
    std::fs::rename(&loc.path, dir.path().join("aside.db")).unwrap();
    let next = AppState::new(loc.clone());
    let e = assert_code(next.app_info(), "database_missing");
    assert!(
        e.message.contains(&loc.path.display().to_string()),
        "{}",
        e.message
    );
    assert!(e.message.contains("locate it"), "{}", e.message);
    assert!(!loc.path.exists(), "a new database was created");
    // A folder that is gone (a drive not mounted): the same, and the folder is not created.
    let gone = dir.path().join("unmounted/clinicdesk.db");
    let on_drive = AppState::new(DbLocation {
        path: gone.clone(),
        keys: loc.keys.clone(),
    });
    assert_code(on_drive.app_info(), "database_missing");
    assert!(!gone.parent().unwrap().exists());

    // Restore a backup: a wrong or mistyped recovery key writes nothing.
    let mut typo: Vec<char> = rk.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    for bad in [typo.as_str(), "not a key"] {
        let e = assert_code(next.restore_new_database(&backup, bad), "recovery_key");
        assert!(e.message.contains("recovery key"), "{}", e.message);
        assert!(!loc.path.exists());
    }
    let info = next.restore_new_database(&backup, &rk).unwrap();
    assert!(info.initialised);
    next.login("admin", PW).unwrap();
    drop(next);

    // A new PC: its first start makes an empty database (a first run); a restore replaces it
    // (the key goes to the keyring — here keyring-core's mock store).
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let pc2 = tempfile::tempdir().unwrap();
    let new_pc = AppState::new(DbLocation {
        path: pc2.path().join("clinicdesk.db"),
        keys: KeySource::Keyring,
    });
    assert!(!new_pc.app_info().unwrap().initialised);
    assert_code(new_pc.restore_new_database(&backup, "typo"), "recovery_key");
    assert!(!new_pc.app_info().unwrap().initialised);
    assert!(
        new_pc
            .restore_new_database(&backup, &rk)
            .unwrap()
            .initialised
    );
    new_pc.login("admin", PW).unwrap();
    // Set up now: never replaced.
    assert_code(new_pc.restore_new_database(&backup, &rk), "conflict");

    // Start a new clinic instead (asked for): a new, empty database; the old id file is kept.
    std::fs::rename(&loc.path, dir.path().join("aside-2.db")).unwrap();
    let fresh = AppState::new(loc.clone());
    assert_code(fresh.app_info(), "database_missing");
    let info = fresh.start_new_database().unwrap();
    assert!(!info.initialised);
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.starts_with("clinicdesk.db.id.")
        })
        .count();
    assert_eq!(kept, 1);
}

/// Issue 14 point 4: the interop commands' logic. The FHIR export writes a folder with progress
/// (a cancelled one writes nothing); the import of chosen files skips an export's manifest,
/// reports bad resources by line and path (importing nothing), keeps nothing when cancelled,
/// and imports once; a provider's calendar is written where the user chose, with the privacy
/// option; a holiday calendar becomes closures.
#[test]
fn fhir_and_icalendar_exports_and_imports_with_progress_and_cancel() {
    let d = desk();
    let (dir, state, c) = (d._dir.path(), &d.state, d.clinic);
    let (provider, patient) = provider_and_patient(&d);
    let booking = map(&[
        ("patient_id", &patient),
        ("provider_id", &provider.to_string()),
        ("start", "2027-03-01 09:00"),
        ("duration_minutes", "30"),
    ]);
    state
        .call(|app, s| app.book_appointment(s, c, &fields(booking)))
        .unwrap();

    // FHIR export: cancelled at its first report, nothing is written.
    let out = dir.join("fhir");
    let e = assert_code(
        state.export_fhir("x1", &out, None, None, |p| {
            state.cancel_task(&p.task);
        }),
        "cancelled",
    );
    assert!(e.message.contains("FHIR export"), "{}", e.message);
    assert!(!out.join("manifest.json").exists());
    assert_code(
        state.export_fhir("x0", &out, None, Some("2027-03-02"), |_| {}),
        "invalid_input",
    );
    assert_code(
        state.export_fhir("x0", &out, Some("March"), None, |_| {}),
        "invalid_input",
    );
    let mut seen: Vec<Progress> = Vec::new();
    let r = state
        .export_fhir("x2", &out, Some("2027-03-01"), None, |p| seen.push(p))
        .unwrap();
    assert!(seen.iter().any(|p| p.task == "x2" && p.stage == "writing"));
    let count = |t: &str| r.files.iter().find(|f| f.resource_type == t).unwrap().count;
    assert_eq!(
        (
            count("Patient"),
            count("Practitioner"),
            count("Appointment")
        ),
        (1, 1, 1)
    );
    assert!(count("Slot") > 0, "{r:?}");
    assert_eq!(r.total, r.files.iter().map(|f| f.count).sum::<u64>());
    assert!(out.join("manifest.json").exists() && out.join("Patient.ndjson").exists());

    // Our own export back (manifest included): everything is already here.
    let mut chosen: Vec<_> = ["manifest.json", "Patient.ndjson", "Practitioner.ndjson"]
        .iter()
        .map(|f| out.join(f))
        .collect();
    chosen.push(out.join("Appointment.ndjson"));
    chosen.push(out.join("Organization.ndjson"));
    let r = state.import_fhir("m1", c, &chosen, |_| {}).unwrap();
    assert_eq!(r.manifests_skipped, 1);
    assert_eq!(r.files.len(), 4);
    assert_eq!(
        (r.result.invalid, r.result.patients, r.result.skipped),
        (0, 0, 3)
    );
    assert_eq!(r.ignored, 1);
    assert_code(
        state.import_fhir("m0", c, &[out.join("manifest.json")], |_| {}),
        "invalid_input",
    );

    // New patients: a bad one is reported by line and path, and nothing is imported.
    let file = dir.join("in.ndjson");
    let good =
        r#"{"resourceType":"Patient","id":"old-7","name":[{"family":"Imported","given":["Ida"]}]}"#;
    let bad = r#"{"resourceType":"Patient","id":"old-8","birthDate":"1990","name":[{"family":"B","given":["C"]}]}"#;
    std::fs::write(&file, format!("{good}\n{bad}\n")).unwrap();
    let before = fingerprint(state);
    let r = state
        .import_fhir("m2", c, std::slice::from_ref(&file), |_| {})
        .unwrap();
    assert_eq!((r.result.invalid, r.result.patients), (1, 0));
    assert_eq!(r.result.errors[0].line, 2);
    assert_eq!(r.result.errors[0].path, "Patient.birthDate");
    assert_eq!(fingerprint(state), before);
    // Cancelled: nothing kept.
    std::fs::write(&file, format!("{good}\n")).unwrap();
    assert_code(
        state.import_fhir("m3", c, std::slice::from_ref(&file), |p| {
            state.cancel_task(&p.task);
        }),
        "cancelled",
    );
    assert_eq!(fingerprint(state), before);
    let mut seen: Vec<Progress> = Vec::new();
    let r = state
        .import_fhir("m4", c, std::slice::from_ref(&file), |p| seen.push(p))
        .unwrap();
    assert_eq!((r.result.patients, r.result.invalid), (1, 0));
    assert!(!seen.is_empty() && seen.iter().all(|p| p.task == "m4"));
    let r = state
        .import_fhir("m5", c, std::slice::from_ref(&file), |_| {})
        .unwrap();
    assert_eq!((r.result.patients, r.result.skipped), (0, 1));
    assert_code(
        state.import_fhir("m6", c, &[dir.join("missing.ndjson")], |_| {}),
        "invalid_input",
    );

    // A provider's calendar, with and without patient names.
    let ics = dir.join("maya.ics");
    let r = state
        .export_ics(provider, "2027-03-01", "2027-03-07", false, &ics)
        .unwrap();
    assert_eq!(r.events, 1);
    let text = std::fs::read_to_string(&ics).unwrap();
    assert!(
        text.starts_with("BEGIN:VCALENDAR") && text.contains("Lee"),
        "{text}"
    );
    let r = state
        .export_ics(provider, "2027-03-01", "2027-03-07", true, &ics)
        .unwrap();
    assert_eq!(r.events, 1);
    assert!(!std::fs::read_to_string(&ics).unwrap().contains("Lee"));
    assert_code(
        state.export_ics(provider, "2027-03-07", "2027-03-01", true, &ics),
        "invalid_input",
    );
    assert_code(
        state.export_ics(provider, "", "2027-03-01", true, &ics),
        "invalid_input",
    );
    let e = assert_code(
        state.export_ics(
            provider,
            "2027-03-01",
            "2027-03-07",
            true,
            &dir.join("clinicdesk.db"),
        ),
        "invalid_input",
    );
    assert!(e.message.contains("database"), "{}", e.message);

    // A holiday calendar: its all-day event closes the clinic that day.
    let hol = dir.join("holidays.ics");
    std::fs::write(
        &hol,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:1@x\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART;VALUE=DATE:20271225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let r = state.import_holidays(c, &hol).unwrap();
    assert_eq!((r.days, r.ignored, r.closures.created.len()), (1, 0, 1));
    std::fs::write(&hol, "not a calendar").unwrap();
    assert_code(state.import_holidays(c, &hol), "invalid_input");
}
