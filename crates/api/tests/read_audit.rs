//! Patient reads leave a trace (ARCHITECTURE.md, invariant 22): every operation that returns
//! patient data appends one audit event per call naming the user, the operation, the clinic and
//! the patients returned; a read without patient data (a viewer's schedule) leaves none; a
//! refused read leaves its `denied` entry only; an identical read within the window is not
//! recorded again.

mod common;

use std::time::{Duration, Instant};

use clinicdesk_api::{
    AppointmentQuery, CredentialFilter, DaySchedule, Fields, Session, READ_AUDIT_WINDOW_MINUTES,
};
use clinicdesk_domain::{ClinicId, PatientId, Role, StaffId};
use clinicdesk_store::tables::{appointments::Appointment, patients::Patient};
use common::*;
use serde_json::Value;

/// An audit entry as these tests look at it.
#[derive(Debug)]
struct Entry {
    table: String,
    action: String,
    row_id: Option<String>,
    user: Option<String>,
    details: Value,
}

fn last_seq(w: &World) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> {
            Ok(
                c.query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .unwrap()
}

fn entries_since(w: &World, seq: i64) -> Vec<Entry> {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<Vec<Entry>> {
            Ok(c.prepare(
                "SELECT table_name, action, row_id, user_id, new_values FROM audit_log
                 WHERE seq > ?1 ORDER BY seq",
            )?
            .query_map([seq], |r| {
                Ok(Entry {
                    table: r.get(0)?,
                    action: r.get(1)?,
                    row_id: r.get(2)?,
                    user: r.get(3)?,
                    details: r
                        .get::<_, Option<String>>(4)?
                        .map(|s| serde_json::from_str(&s).unwrap())
                        .unwrap_or(Value::Null),
                })
            })?
            .collect::<Result<_, _>>()?)
        })
        .unwrap()
}

fn ids(v: &[PatientId]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(ToString::to_string).collect();
    v.sort();
    v.dedup();
    v
}

/// Runs `read` and checks that it appended exactly one read event by `who` for `operation`
/// at `clinic` naming exactly `patients`; returns the event's details.
fn one_read<T>(
    w: &World,
    who: &Session,
    operation: &str,
    clinic: Option<ClinicId>,
    patients: &[PatientId],
    read: impl FnOnce() -> T,
) -> Value {
    let before = last_seq(w);
    read();
    let new = entries_since(w, before);
    assert_eq!(new.len(), 1, "{operation}: {new:?}");
    let e = &new[0];
    assert_eq!((e.table.as_str(), e.action.as_str()), ("patients", "event"));
    assert_eq!(e.user, Some(who.user_id.to_string()), "{operation}: who");
    let d = &e.details;
    assert_eq!(d["read"], operation);
    assert_eq!(
        d["clinic_id"].as_str(),
        clinic.map(|c| c.to_string()).as_deref()
    );
    let expected = ids(patients);
    let listed: Vec<String> = serde_json::from_value(d["patients"].clone()).unwrap();
    assert_eq!(listed, expected, "{operation}: patients");
    assert_eq!(d["count"], expected.len());
    let one = (expected.len() == 1).then(|| expected[0].clone());
    assert_eq!(e.row_id, one, "{operation}: row");
    d.clone()
}

fn no_trace<T>(w: &World, what: &str, read: impl FnOnce() -> T) -> T {
    let before = last_seq(w);
    let out = read();
    assert_eq!(entries_since(w, before).len(), 0, "{what} left a trace");
    out
}

struct Clinic {
    w: World,
    desk: Session,
    manager: Session,
    viewer: Session,
    provider: StaffId,
    lapsed: StaffId,
    ann: Patient,
    bo: Patient,
    first: Appointment,
}

fn patient(w: &World, first: &str, last: &str, extra: &[(&str, &str)]) -> Patient {
    let mut f = Fields::new()
        .with("first_name", first)
        .with("last_name", last);
    for (k, v) in extra {
        f.set(k, *v);
    }
    w.app.create_patient(&w.admin, w.clinic_a, &f).unwrap()
}

fn book(w: &World, s: &Session, p: &Patient, provider: StaffId, start: &str) -> Appointment {
    w.app
        .book_appointment(
            s,
            w.clinic_a,
            &Fields::new()
                .with("patient_id", p.id.to_string())
                .with("provider_id", provider.to_string())
                .with("start", start)
                .with("duration_minutes", "30"),
        )
        .unwrap()
}

/// Clinic A with a desk, a manager and a viewer; Ann (who takes SMS reminders) and Bo booked
/// on 2027-03-01; a provider missing a required licence.
fn clinic() -> Clinic {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let manager = w.user_with("boss", Role::Manager, c);
    let viewer = w.user_with("eye", Role::Viewer, c);
    let staff = |first: &str, discipline: &str| {
        app.create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", first)
                .with("last_name", "Singh")
                .with("discipline", discipline),
        )
        .unwrap()
        .id
    };
    let provider = staff("Maya", "massage");
    let lapsed = staff("Lee", "physiotherapy");
    app.create_credential_type(
        a,
        &Fields::new()
            .with("name", "PT licence")
            .with("code", "PT")
            .with("required_for_disciplines", "physiotherapy"),
    )
    .unwrap();
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", provider.to_string())
            .with("start", "2027-03-01 08:00")
            .with("end", "2027-03-01 17:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    let ann = patient(
        &w,
        "Ann",
        "Lee",
        &[
            ("phone", "403 555 0199"),
            ("consent_sms", "yes"),
            ("preferred_contact_method", "sms"),
        ],
    );
    let bo = patient(&w, "Bo", "Wait", &[]);
    let first = book(&w, &desk, &ann, provider, "2027-03-01 09:00");
    book(&w, &desk, &bo, provider, "2027-03-01 10:00");
    Clinic {
        w,
        desk,
        manager,
        viewer,
        provider,
        lapsed,
        ann,
        bo,
        first,
    }
}

#[test]
fn each_patient_read_leaves_one_event_naming_the_user_the_operation_and_the_patients() {
    let k = clinic();
    let (w, app, c) = (&k.w, &k.w.app, k.w.clinic_a);
    let (desk, manager) = (&k.desk, &k.manager);
    let (ann, bo) = (k.ann.id, k.bo.id);
    let both = [ann, bo];

    let d = one_read(w, desk, "get_patient", Some(c), &[ann], || {
        app.get_patient(desk, ann).unwrap()
    });
    assert!(d.get("truncated").is_none());
    let d = one_read(w, desk, "search_patients", Some(c), &[ann], || {
        app.search_patients(desk, "Ann", 10).unwrap()
    });
    assert_eq!(d["query"], "Ann");
    one_read(w, desk, "list_patients", Some(c), &both, || {
        app.list_patients(desk, c, None, None).unwrap()
    });
    let payer = app
        .create_payer(
            &w.admin,
            &Fields::new()
                .with("payer_name", "Blue Cross")
                .with("payer_type", "commercial"),
        )
        .unwrap();
    app.add_patient_insurance(
        &w.admin,
        ann,
        &Fields::new()
            .with("payer_id", payer.id.to_string())
            .with("policy_number", "P-1"),
    )
    .unwrap();
    one_read(w, desk, "list_patient_insurance", Some(c), &[ann], || {
        assert_eq!(app.list_patient_insurance(desk, ann).unwrap().len(), 1)
    });
    // Bo has no insurance: the empty answer is still about Bo.
    one_read(w, desk, "list_patient_insurance", Some(c), &[bo], || {
        assert!(app.list_patient_insurance(desk, bo).unwrap().is_empty())
    });
    let d = one_read(w, desk, "get_appointment", Some(c), &[ann], || {
        app.get_appointment(desk, k.first.id).unwrap()
    });
    assert_eq!(d["appointment_id"], k.first.id.to_string());
    let d = one_read(w, desk, "day_schedule", Some(c), &both, || {
        assert_eq!(
            app.day_schedule(desk, c, "2027-03-01", None)
                .unwrap()
                .entries
                .len(),
            2
        )
    });
    assert_eq!(
        (d["date"].as_str(), d["appointments"].as_u64()),
        (Some("2027-03-01"), Some(2))
    );
    one_read(w, desk, "week_schedule", Some(c), &both, || {
        app.week_schedule(desk, c, "2027-03-01", None).unwrap()
    });
    let d = one_read(w, desk, "list_appointments", Some(c), &[bo], || {
        let q = AppointmentQuery {
            patient_id: Some(bo),
            ..Default::default()
        };
        app.list_appointments(desk, c, &q).unwrap()
    });
    assert_eq!(d["patient_id"], bo.to_string());
    let f = Fields::new()
        .with("patient_id", bo.to_string())
        .with("duration_minutes", "30")
        .with("earliest_date", "2027-03-01")
        .with("latest_date", "2027-03-05");
    app.add_to_waitlist(desk, c, &f).unwrap();
    one_read(w, desk, "list_waitlist", Some(c), &[bo], || {
        app.list_waitlist(desk, c).unwrap()
    });
    let due = k.first.start_at;
    one_read(w, desk, "pending_reminders", Some(c), &[ann], || {
        assert_eq!(app.pending_reminders(desk, c, Some(due)).unwrap().len(), 2)
    });

    // Cases: one event for the case and its appointments, not one per part.
    let case = app
        .create_case(
            manager,
            c,
            &Fields::new()
                .with("patient_id", ann.to_string())
                .with("case_type", "physio")
                .with("authorization_expiry", "2020-01-31"),
        )
        .unwrap();
    app.link_appointment_to_case(desk, k.first.id, Some(case.id))
        .unwrap();
    let d = one_read(w, manager, "get_case", Some(c), &[ann], || {
        app.get_case(manager, case.id).unwrap()
    });
    assert_eq!(d["case_id"], case.id.to_string());
    one_read(w, manager, "get_case_detail", Some(c), &[ann], || {
        assert_eq!(
            app.get_case_detail(manager, case.id)
                .unwrap()
                .appointments
                .len(),
            1
        )
    });
    one_read(w, manager, "list_cases", Some(c), &[ann], || {
        app.list_cases(manager, c, None).unwrap()
    });
    one_read(w, manager, "case_warnings", Some(c), &[ann], || {
        assert_eq!(app.case_warnings(manager, c, 30).unwrap().len(), 1)
    });

    // Today's list: Bo booked on the clinic's own date (a manager overrides the working time).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Edmonton)
        .date_naive();
    app.book_appointment(
        manager,
        c,
        &Fields::new()
            .with("patient_id", bo.to_string())
            .with("provider_id", k.provider.to_string())
            .with("start", format!("{today} 00:30"))
            .with("duration_minutes", "30")
            .with("override_reason", "test day"),
    )
    .unwrap();
    one_read(w, desk, "todays_appointments", Some(c), &[bo], || {
        assert_eq!(
            app.todays_appointments(desk, c, None)
                .unwrap()
                .entries
                .len(),
            1
        )
    });

    // The credential views list the patients of at-risk appointments: Ann, booked in ten days
    // with a provider who lacks the licence his discipline requires.
    app.book_appointment(
        manager,
        c,
        &Fields::new()
            .with("patient_id", ann.to_string())
            .with("provider_id", k.lapsed.to_string())
            .with(
                "start",
                format!("{} 10:00", today + chrono::Duration::days(10)),
            )
            .with("duration_minutes", "30")
            .with("override_reason", "test day"),
    )
    .unwrap();
    let filter = CredentialFilter {
        clinic_id: Some(c),
        ..Default::default()
    };
    one_read(w, manager, "credentials_at_risk", Some(c), &[ann], || {
        assert_eq!(app.credentials_at_risk(manager, &filter).unwrap().len(), 1)
    });
    one_read(w, manager, "credential_dashboard", Some(c), &[ann], || {
        app.credential_dashboard(manager, &filter).unwrap()
    });
    assert!(app.store().verify_audit().unwrap().ok);
}

#[test]
fn reads_without_patient_data_leave_no_trace_and_a_refusal_only_its_denial() {
    let k = clinic();
    let (w, app, c) = (&k.w, &k.w.app, k.w.clinic_a);
    let viewer = &k.viewer;
    // A viewer sees the booked slots without patient data: nothing to record.
    let day = no_trace(w, "a viewer's day", || {
        app.day_schedule(viewer, c, "2027-03-01", None).unwrap()
    });
    assert_eq!(day.entries.len(), 2);
    assert!(day
        .entries
        .iter()
        .all(|e| e.patient_name == clinicdesk_api::UNNAMED_PATIENT));
    no_trace(w, "a viewer's week", || {
        app.week_schedule(viewer, c, "2027-03-01", None).unwrap()
    });
    no_trace(w, "a viewer's today", || {
        app.todays_appointments(viewer, c, None).unwrap()
    });
    let a = no_trace(w, "a viewer's appointment", || {
        app.get_appointment(viewer, k.first.id).unwrap()
    });
    assert_eq!((a.reason, a.notes), (None, None));
    let list = no_trace(w, "a viewer's appointment list", || {
        app.list_appointments(viewer, c, &AppointmentQuery::default())
            .unwrap()
    });
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|e| e.patient_name.is_none()
        && e.appointment.reason.is_none()
        && e.appointment.notes.is_none()));
    // A read that finds no patient has nothing to record.
    no_trace(w, "an empty day", || {
        app.day_schedule(&k.desk, c, "2027-03-02", None).unwrap()
    });
    no_trace(w, "a search finding nobody", || {
        app.search_patients(&k.desk, "Nobody", 10).unwrap()
    });

    // Refused reads: the refusal is audited, nothing else.
    for (what, refused) in [
        ("get_patient", app.get_patient(viewer, k.ann.id).map(drop)),
        (
            "list_patients",
            app.list_patients(viewer, c, None, None).map(drop),
        ),
        ("list_cases", app.list_cases(viewer, c, None).map(drop)),
        ("list_waitlist", app.list_waitlist(viewer, c).map(drop)),
        (
            "day_schedule at another clinic",
            app.day_schedule(&k.desk, w.clinic_b, "2027-03-01", None)
                .map(drop),
        ),
    ] {
        assert_eq!(refused.unwrap_err().code(), "permission_denied", "{what}");
    }
    let before = last_seq(w);
    assert!(app.get_patient(viewer, k.ann.id).is_err());
    let new = entries_since(w, before);
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (new[0].table.as_str(), new[0].action.as_str()),
        ("permission", "denied")
    );
}

#[test]
fn an_identical_read_within_the_window_is_recorded_once() {
    let k = clinic();
    let (w, app, c) = (&k.w, &k.w.app, k.w.clinic_a);
    let (desk, manager) = (&k.desk, &k.manager);
    let both = [k.ann.id, k.bo.id];
    let day = || app.day_schedule(desk, c, "2027-03-01", None).unwrap();
    assert_eq!(READ_AUDIT_WINDOW_MINUTES, 5);

    // The screen refreshes: the first read is recorded, the same content again is not.
    one_read(w, desk, "day_schedule", Some(c), &both, day);
    no_trace(w, "a refresh", day);
    no_trace(w, "another refresh", day);
    // Another user, another day or another operation is another event.
    one_read(w, manager, "day_schedule", Some(c), &both, || {
        app.day_schedule(manager, c, "2027-03-01", None).unwrap()
    });
    one_read(w, desk, "day_schedule", Some(c), &both, || {
        app.day_schedule(desk, c, "2027-03-01", Some(k.provider))
            .unwrap()
    });
    one_read(w, desk, "week_schedule", Some(c), &both, || {
        app.week_schedule(desk, c, "2027-03-01", None).unwrap()
    });
    // What the grid shows changes (a new patient, a rename): recorded again.
    let cy = patient(w, "Cy", "New", &[]);
    book(w, desk, &cy, k.provider, "2027-03-01 11:00");
    let all = [k.ann.id, k.bo.id, cy.id];
    let recorded = |read: &dyn Fn() -> DaySchedule| {
        one_read(w, desk, "day_schedule", Some(c), &all, read);
    };
    recorded(&day);
    let rename = Fields::new().with("first_name", "Anne");
    app.update_patient(&w.admin, k.ann.id, &rename).unwrap();
    recorded(&day);
    no_trace(w, "a refresh after the rename", day);

    // A restored database has another audit log: an event this process remembers recording
    // after the backup is not in it, so the same read is recorded again.
    let backup = w.dir.path().join("backup.db");
    app.backup(&w.admin, &backup, |_, _| true).unwrap();
    let provider = || {
        app.day_schedule(desk, c, "2027-03-01", Some(k.provider))
            .unwrap()
    };
    recorded(&provider);
    no_trace(w, "a refresh before the restore", provider);
    no_trace(w, "a refresh before the restore", day);
    app.restore(&w.admin, &backup, |_, _| true).unwrap();
    recorded(&provider);
    // What was recorded before the backup is in the restored log too.
    no_trace(w, "a refresh after the restore", day);

    // With no window every read is recorded.
    app.set_read_audit_window(Duration::ZERO);
    recorded(&day);
    recorded(&day);
    assert!(app.store().verify_audit().unwrap().ok);
}

/// Not a timed assertion: prints what the read audit costs the day view (run with
/// `--nocapture`). A viewer's read is the day view without the audit.
#[test]
fn day_schedule_cost_with_the_read_audit() {
    let k = clinic();
    let (w, app, c) = (&k.w, &k.w.app, k.w.clinic_a);
    for h in 11..16 {
        let p = patient(w, &format!("P{h}"), "Grid", &[]);
        book(w, &k.desk, &p, k.provider, &format!("2027-03-01 {h}:00"));
    }
    let n = 200;
    let time = |s: &Session| {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(app.day_schedule(s, c, "2027-03-01", None).unwrap());
        }
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    };
    time(&k.viewer); // warm up
    let without = time(&k.viewer);
    let refresh = time(&k.desk);
    let before = last_seq(w);
    app.set_read_audit_window(Duration::ZERO);
    let every = time(&k.desk);
    assert_eq!(entries_since(w, before).len(), n);
    println!(
        "day_schedule, 7 appointments, mean of {n}: no audit (viewer) {without:.3} ms; \
         audited, refresh not recorded again {refresh:.3} ms; audited, every read written \
         {every:.3} ms"
    );
}

/// The audit log holds whole patient records: listing it is a patient read, recorded once with
/// the patients its row entries are about (events in it — sign-ins, refusals, earlier reads —
/// name no patient of their own, so reading the log does not feed on itself).
#[test]
fn listing_the_audit_log_is_a_patient_read() {
    let w = world();
    let p = w
        .app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("first_name", "Audra")
                .with("last_name", "Logan"),
        )
        .unwrap();
    let q = clinicdesk_api::AuditQuery {
        table_name: Some("patients".into()),
        ..Default::default()
    };
    let before = last_seq(&w);
    let listed = w.app.list_audit(&w.admin, &q).unwrap();
    assert!(listed
        .iter()
        .any(|e| e.row_id.as_deref() == Some(&p.id.to_string())));
    let new = entries_since(&w, before);
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].table, "patients");
    assert_eq!(new[0].action, "event");
    assert_eq!(
        new[0].user.as_deref(),
        Some(w.admin.user_id.to_string().as_str())
    );
    assert_eq!(new[0].details["read"], "list_audit");
    assert_eq!(
        new[0].details["patients"],
        serde_json::json!([p.id.to_string()])
    );
    assert_eq!(new[0].details["table_name"], "patients");
    // The same listing again (it now also shows the read event) is not recorded again.
    let again = last_seq(&w);
    w.app.list_audit(&w.admin, &q).unwrap();
    assert!(entries_since(&w, again).is_empty());
}
