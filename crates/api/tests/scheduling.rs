//! Booking rules, the status flow, free slots and the day view on a real encrypted database.

mod common;

use clinicdesk_api::{ApiError, App, Fields, Session};
use clinicdesk_domain::{AppointmentStatus, ClinicId, Role, StaffId};
use clinicdesk_store::tables::{patients::Patient, rooms::Room};
use common::*;

struct Desk {
    w: World,
    desk: Session,
    manager: Session,
    provider: StaffId,
    patient: Patient,
    other_patient: Patient,
    room: Room,
}

/// Clinic A (America/Edmonton) with a physiotherapist who works 08:00–17:00 on the days the
/// tests use and holds a PT licence valid until 2027-06-30.
fn desk() -> Desk {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let manager = w.user_with("boss", Role::Manager, c);
    let staff = app
        .create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", "Maya")
                .with("last_name", "Singh")
                .with("discipline", "physiotherapy"),
        )
        .unwrap();
    let pt = app
        .create_credential_type(
            a,
            &Fields::new()
                .with("name", "PT licence")
                .with("code", "PT")
                .with("required_for_disciplines", "physiotherapy"),
        )
        .unwrap();
    app.create_credential(
        a,
        staff.id,
        &Fields::new()
            .with("credential_type_id", pt.id.to_string())
            .with("expiry_date", "2027-06-30"),
    )
    .unwrap();
    for day in [
        "2027-03-01",
        "2027-03-02",
        "2027-07-05",
        "2026-01-05",
        "2026-03-08",
        "2026-11-01",
    ] {
        app.create_availability_block(
            a,
            c,
            &Fields::new()
                .with("provider_id", staff.id.to_string())
                .with("start", format!("{day} 08:00"))
                .with("end", format!("{day} 17:00"))
                .with("is_available", "yes"),
        )
        .unwrap();
    }
    let patient = app
        .create_patient(
            a,
            c,
            &Fields::new()
                .with("first_name", "Ann")
                .with("last_name", "Lee"),
        )
        .unwrap();
    let other_patient = app
        .create_patient(
            a,
            c,
            &Fields::new()
                .with("first_name", "Bo")
                .with("last_name", "Chan"),
        )
        .unwrap();
    let room = app
        .create_room(a, c, &Fields::new().with("name", "Room 1"))
        .unwrap();
    Desk {
        w,
        desk,
        manager,
        provider: staff.id,
        patient,
        other_patient,
        room,
    }
}

fn book(
    app: &App,
    s: &Session,
    c: ClinicId,
    patient: &Patient,
    provider: StaffId,
    start: &str,
    minutes: u32,
) -> Result<clinicdesk_store::tables::appointments::Appointment, ApiError> {
    app.book_appointment(
        s,
        c,
        &Fields::new()
            .with("patient_id", patient.id.to_string())
            .with("provider_id", provider.to_string())
            .with("start", start)
            .with("duration_minutes", minutes.to_string()),
    )
}

fn count(w: &World, sql: &str) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

#[test]
fn booking_records_history_kpi_and_audit_and_refuses_double_booking() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let a = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 09:00",
        30,
    )
    .unwrap();
    assert_eq!(a.status, AppointmentStatus::Pending);
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM appointment_status_history"),
        1
    );
    assert_eq!(
        count(
            &d.w,
            "SELECT count(*) FROM ops_kpi_events WHERE event_type='appointment_scheduled'"
        ),
        1
    );
    assert_eq!(
        count(
            &d.w,
            "SELECT count(*) FROM audit_log WHERE table_name='appointments' AND action='insert'"
        ),
        1
    );

    let before = d.w.fingerprint();
    // Same provider, overlapping.
    let e = book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 09:15",
        30,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("Maya Singh already has an appointment from 09:00 to 09:30"),
        "{msg}"
    );
    // Front-desk words: the other patient by name (a patient of this clinic), no ids.
    assert!(
        !msg.contains(&a.id.to_string()) && msg.contains("(with Ann Lee)"),
        "{msg}"
    );
    // Same patient with another provider at the same time.
    let other = app
        .create_staff(
            &d.w.admin,
            c,
            &Fields::new()
                .with("first_name", "Li")
                .with("last_name", "Wu")
                .with("is_clinical", "no"),
        )
        .unwrap();
    app.create_availability_block(
        &d.w.admin,
        c,
        &Fields::new()
            .with("provider_id", other.id.to_string())
            .with("start", "2027-03-01 08:00")
            .with("end", "2027-03-01 17:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    let before2 = d.w.fingerprint();
    let e = book(
        app,
        &d.desk,
        c,
        &d.patient,
        other.id,
        "2027-03-01 09:00",
        30,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("Ann Lee already has an appointment from 09:00 to 09:30"),
        "{e}"
    );
    assert_eq!(before2, d.w.fingerprint());
    drop(before);
    // Touching end-to-start is fine.
    book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 09:30",
        30,
    )
    .unwrap();
}

#[test]
fn room_conflict_and_bad_times() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let other = app
        .create_staff(
            &d.w.admin,
            c,
            &Fields::new()
                .with("first_name", "Li")
                .with("last_name", "Wu")
                .with("is_clinical", "no"),
        )
        .unwrap();
    app.create_availability_block(
        &d.w.admin,
        c,
        &Fields::new()
            .with("provider_id", other.id.to_string())
            .with("start", "2027-03-01 08:00")
            .with("end", "2027-03-01 17:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    let f = |p: &Patient, prov: StaffId| {
        Fields::new()
            .with("patient_id", p.id.to_string())
            .with("provider_id", prov.to_string())
            .with("room_id", d.room.id.to_string())
            .with("start", "2027-03-01 10:00")
            .with("end", "2027-03-01 10:45")
    };
    app.book_appointment(&d.desk, c, &f(&d.patient, d.provider))
        .unwrap();
    let before = d.w.fingerprint();
    let e = app
        .book_appointment(&d.desk, c, &f(&d.other_patient, other.id))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Room 1 is already booked from 10:00 to 10:45"),
        "{e}"
    );
    let e = app
        .book_appointment(
            &d.desk,
            c,
            &Fields::new()
                .with("patient_id", d.patient.id.to_string())
                .with("provider_id", d.provider.to_string())
                .with("start", "2027-03-02 11:00")
                .with("end", "2027-03-02 10:00"),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("the end must be after the start"),
        "{e}"
    );
    // 02:30 on spring-forward day does not exist in Edmonton.
    let e = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2026-03-08 02:30",
        30,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("02:30 on 2026-03-08 does not exist in America/Edmonton"),
        "{e}"
    );
    assert_eq!(before, d.w.fingerprint());
}

#[test]
fn blocks_working_hours_and_credentials_with_manager_override() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    app.create_availability_block(
        &d.w.admin,
        c,
        &Fields::new()
            .with("start", "2027-03-02 12:00")
            .with("end", "2027-03-02 13:00")
            .with("reason", "Staff meeting"),
    )
    .unwrap();
    let before = d.w.fingerprint();
    let e = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-02 12:30",
        30,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("this time is blocked: Staff meeting"),
        "{e}"
    );
    // Outside the provider's working time: refused for the front desk...
    let e = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-02 18:00",
        30,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("Maya Singh is not scheduled to work"),
        "{e}"
    );
    // ...and the front desk cannot override.
    let mut f = Fields::new()
        .with("patient_id", d.patient.id.to_string())
        .with("provider_id", d.provider.to_string())
        .with("start", "2027-03-02 18:00")
        .with("duration_minutes", "30")
        .with("override_reason", "evening clinic");
    assert!(matches!(
        app.book_appointment(&d.desk, c, &f),
        Err(ApiError::Denied(_))
    ));
    // Licence expires 2027-06-30: a booking on 2027-07-05 is refused with the reason.
    let e = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-07-05 09:00",
        30,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "Maya Singh's PT licence expires on 2027-06-30, before this appointment on 2027-07-05"
        ),
        "{e}"
    );
    assert_eq!(before, d.w.fingerprint());
    // A manager overrides with a reason; the override is stored and audited.
    let a = app.book_appointment(&d.manager, c, &f).unwrap();
    assert!(a
        .override_reason
        .as_deref()
        .unwrap()
        .starts_with("evening clinic [overrode:"));
    f.set("start", "2027-07-05 09:00");
    f.set("override_reason", "licence renewal in progress");
    let b = app.book_appointment(&d.manager, c, &f).unwrap();
    assert!(b.override_reason.unwrap().contains("PT licence"));
    assert_eq!(count(&d.w, "SELECT count(*) FROM audit_log WHERE table_name='appointments' AND new_values LIKE '%overrode%'"), 2);
}

#[test]
fn status_flow_with_history_and_kpi_events() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let a = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2026-01-05 09:00",
        30,
    )
    .unwrap();
    for (action, status) in [
        ("confirm", AppointmentStatus::Confirmed),
        ("check_in", AppointmentStatus::CheckedIn),
        ("start", AppointmentStatus::InProgress),
        ("complete", AppointmentStatus::Completed),
    ] {
        assert_eq!(
            app.set_appointment_status(&d.desk, a.id, action, None)
                .unwrap()
                .status,
            status
        );
    }
    let done = app
        .set_appointment_status(&d.desk, a.id, "check_out", None)
        .unwrap();
    assert!(done.checked_out_at.is_some());
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM appointment_status_history"),
        5
    );
    for e in [
        "patient_checked_in",
        "treatment_started",
        "appointment_completed",
        "patient_checked_out",
    ] {
        assert_eq!(
            count(
                &d.w,
                &format!("SELECT count(*) FROM ops_kpi_events WHERE event_type='{e}'")
            ),
            1,
            "{e}"
        );
    }
    // Illegal moves and bad actions change nothing.
    let before = d.w.fingerprint();
    let e = app
        .set_appointment_status(&d.desk, a.id, "cancel", Some("changed mind"))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot change appointment from completed to cancelled"),
        "{e}"
    );
    assert!(app
        .set_appointment_status(&d.desk, a.id, "check_out", None)
        .is_err());
    assert!(app
        .set_appointment_status(&d.desk, a.id, "teleport", None)
        .unwrap_err()
        .to_string()
        .contains("not an action"));
    assert_eq!(before, d.w.fingerprint());
    // A manager's correction out of a final state is marked and audited.
    let fixed = app
        .correct_appointment_status(
            &d.manager,
            a.id,
            AppointmentStatus::InProgress,
            "completed by mistake",
        )
        .unwrap();
    assert_eq!(fixed.status, AppointmentStatus::InProgress);
    assert_eq!(
        count(
            &d.w,
            "SELECT count(*) FROM appointment_status_history WHERE is_correction = 1"
        ),
        1
    );
    assert!(matches!(
        app.correct_appointment_status(&d.desk, a.id, AppointmentStatus::Completed, "x"),
        Err(ApiError::Denied(_))
    ));
}

/// The UI offers exactly `AppointmentAction::next_steps` (the bindings' APPOINTMENT_NEXT_STEPS):
/// each offered step is one the API takes, and each step not offered is one it refuses, changing
/// nothing. Appointments in the past (2026-01-05), so a no-show is allowed by its time.
#[test]
fn the_api_takes_exactly_the_next_steps_the_ui_offers() {
    use clinicdesk_domain::AppointmentAction as A;
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let mut slot = 0;
    let mut next_time = || {
        let m = 8 * 60 + 5 * slot;
        slot += 1;
        format!("2026-01-05 {:02}:{:02}", m / 60, m % 60)
    };
    // How to bring a new booking (pending) to each status the API can reach by steps.
    let paths: &[(AppointmentStatus, &[&str])] = &[
        (AppointmentStatus::Pending, &[]),
        (AppointmentStatus::Confirmed, &["confirm"]),
        (AppointmentStatus::Reminded, &["remind"]),
        (AppointmentStatus::CheckedIn, &["check_in"]),
        (AppointmentStatus::InProgress, &["check_in", "start"]),
        (
            AppointmentStatus::Completed,
            &["check_in", "start", "complete"],
        ),
        (AppointmentStatus::NoShow, &["no_show"]),
        (AppointmentStatus::Cancelled, &["cancel"]),
    ];
    let mut taken = 0;
    for &(status, path) in paths {
        for &action in A::ALL {
            let start = next_time();
            let a = book(app, &d.desk, c, &d.patient, d.provider, &start, 5).unwrap();
            for step in path {
                app.set_appointment_status(&d.desk, a.id, step, Some("test"))
                    .unwrap();
            }
            let before = d.w.fingerprint();
            let r = match action {
                A::Move => app
                    .reschedule_appointment(
                        &d.desk,
                        a.id,
                        &Fields::new().with("start", next_time()),
                    )
                    .map(|_| ()),
                _ => app
                    .set_appointment_status(&d.desk, a.id, action.as_str(), Some("test"))
                    .map(|_| ()),
            };
            let offered = A::next_steps(status, false).contains(&action);
            assert_eq!(r.is_ok(), offered, "{action} on {status}: {r:?}");
            if offered {
                taken += 1;
            } else {
                assert_eq!(
                    before,
                    d.w.fingerprint(),
                    "{action} on {status} changed something"
                );
            }
        }
    }
    assert_eq!(taken, 6 + 5 + 4 + 2 + 1 + 1);
    // Rescheduled (the old appointment of a move) offers nothing, and the API agrees.
    let a = book(app, &d.desk, c, &d.patient, d.provider, &next_time(), 5).unwrap();
    app.reschedule_appointment(&d.desk, a.id, &Fields::new().with("start", next_time()))
        .unwrap();
    assert!(A::next_steps(AppointmentStatus::Rescheduled, false).is_empty());
    for &action in A::ALL.iter().filter(|&&x| x != A::Move) {
        assert!(app
            .set_appointment_status(&d.desk, a.id, action.as_str(), Some("test"))
            .is_err());
    }
}

#[test]
fn cancel_needs_a_reason_no_show_only_after_start_and_cancelled_time_is_free_again() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let future = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 11:00",
        30,
    )
    .unwrap();
    let e = app
        .set_appointment_status(&d.desk, future.id, "no_show", None)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("only be recorded after the start time"),
        "{e}"
    );
    assert!(app
        .set_appointment_status(&d.desk, future.id, "cancel", None)
        .unwrap_err()
        .to_string()
        .contains("needs a reason"));
    let x = app
        .set_appointment_status(&d.desk, future.id, "cancel", Some("patient is ill"))
        .unwrap();
    assert_eq!(x.cancel_reason.as_deref(), Some("patient is ill"));
    assert_eq!(
        count(
            &d.w,
            "SELECT count(*) FROM ops_kpi_events WHERE event_type='appointment_cancelled'"
        ),
        1
    );
    book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 11:00",
        30,
    )
    .unwrap();
    let past = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2026-01-05 10:00",
        30,
    )
    .unwrap();
    assert_eq!(
        app.set_appointment_status(&d.desk, past.id, "no_show", None)
            .unwrap()
            .status,
        AppointmentStatus::NoShow
    );
}

#[test]
fn reschedule_links_the_new_appointment_and_frees_the_old_time() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let a = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 09:00",
        30,
    )
    .unwrap();
    // Moving by 15 minutes overlaps only itself: allowed.
    let b = app
        .reschedule_appointment(
            &d.desk,
            a.id,
            &Fields::new().with("start", "2027-03-01 09:15"),
        )
        .unwrap();
    assert_eq!(b.rescheduled_from_id, Some(a.id));
    assert_eq!(
        app.get_appointment(&d.desk, a.id).unwrap().status,
        AppointmentStatus::Rescheduled
    );
    assert_eq!(b.end_at - b.start_at, 30 * 60_000);
    book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 08:30",
        45,
    )
    .unwrap();
}

#[test]
fn day_view_of_23_and_25_hour_days_and_free_slots() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    assert_eq!(
        app.day_schedule(&d.desk, c, "2026-03-08", None)
            .unwrap()
            .hours,
        23
    );
    assert_eq!(
        app.day_schedule(&d.desk, c, "2026-11-01", None)
            .unwrap()
            .hours,
        25
    );
    assert_eq!(
        app.day_schedule(&d.desk, c, "2027-03-01", None)
            .unwrap()
            .hours,
        24
    );
    book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2026-11-01 16:00",
        30,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let day = app
        .day_schedule(&d.desk, c, "2026-11-01", Some(d.provider))
        .unwrap();
    assert_eq!(day.entries.len(), 1);
    assert_eq!(day.entries[0].patient_name, "Ann Lee");

    book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 10:00",
        30,
    )
    .unwrap();
    let slots = app
        .available_slots(&d.desk, c, Some(d.provider), 30, "2027-03-01", "2027-03-01")
        .unwrap();
    let starts: Vec<&str> = slots.iter().map(|s| &s.local_start[11..]).collect();
    assert_eq!(starts.first(), Some(&"08:00"));
    assert_eq!(starts.last(), Some(&"16:30"));
    assert!(!starts.contains(&"09:45") && !starts.contains(&"10:00") && !starts.contains(&"10:15"));
    assert!(starts.contains(&"09:30") && starts.contains(&"10:30"));
    assert_eq!(slots.len(), 35 - 3);
    assert!(app
        .available_slots(&d.desk, c, Some(d.provider), 3, "2027-03-01", "2027-03-01")
        .is_err());
}

/// The grid reads the patient's name from the appointment's derived `patient_name` column
/// (V5): every booking gets it, a rename reaches every appointment of the patient, and the
/// column is local — neither audited nor captured for replication.
#[test]
fn grid_patient_names_follow_renames_and_stay_local() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let first = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 09:00",
        30,
    )
    .unwrap();
    let second = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-02 09:00",
        30,
    )
    .unwrap();
    let other = book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 10:00",
        30,
    )
    .unwrap();
    let names = |date: &str| -> Vec<(String, String)> {
        app.day_schedule(&d.desk, c, date, None)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| (e.id.to_string(), e.patient_name))
            .collect()
    };
    let day1 = names("2027-03-01");
    assert_eq!(day1.len(), 2);
    assert_eq!(day1[0], (first.id.to_string(), "Ann Lee".to_string()));
    let other_name = format!(
        "{} {}",
        d.other_patient.first_name, d.other_patient.last_name
    );
    assert_eq!(day1[1], (other.id.to_string(), other_name.clone()));

    // Every column of the grid's entry is the appointment's own.
    let e = &app
        .day_schedule(&d.desk, c, "2027-03-02", None)
        .unwrap()
        .entries[0];
    let a = app.get_appointment(&d.desk, second.id).unwrap();
    assert_eq!(
        (
            e.id,
            e.provider_id,
            e.room_id,
            e.appointment_type_id,
            e.start_at,
            e.end_at,
            e.status,
            e.series_id,
            e.case_id,
            e.checked_in_at
        ),
        (
            a.id,
            a.provider_id,
            a.room_id,
            a.appointment_type_id,
            a.start_at,
            a.end_at,
            a.status,
            a.series_id,
            a.case_id,
            a.checked_in_at
        )
    );

    let (audit_before, changes_before) = (
        count(&d.w, "SELECT count(*) FROM audit_log"),
        count(&d.w, "SELECT count(*) FROM change_log"),
    );
    app.update_patient(
        &d.desk,
        d.patient.id,
        &Fields::new()
            .with("last_name", "Leung")
            .with("phone", "780-555-0101"),
    )
    .unwrap();
    // The rename is one audited, captured change of the patient; the appointments' derived
    // names add nothing to either log. (Counted before the grid is read again: reading the
    // renamed names is a patient read, which has its own audit event — tests/read_audit.rs.)
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM audit_log") - audit_before,
        1
    );
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM change_log") - changes_before,
        1
    );
    assert_eq!(names("2027-03-01")[0].1, "Ann Leung");
    assert_eq!(names("2027-03-02")[0].1, "Ann Leung");
    assert_eq!(
        names("2027-03-01")[1].1,
        other_name,
        "another patient's appointment is untouched"
    );
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM change_log WHERE table_name = 'appointments' AND columns LIKE '%patient_name%'"),
        0
    );
    assert_eq!(
        count(&d.w, "SELECT count(*) FROM audit_log WHERE table_name = 'appointments' AND (coalesce(new_values, '') || coalesce(changed_fields, '')) LIKE '%patient_name%'"),
        0
    );
}

#[test]
fn two_bookings_racing_for_one_slot_cannot_both_succeed() {
    let d = desk();
    let app = d.w.app.clone();
    let c = d.w.clinic_a;
    let results: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = [&d.patient, &d.other_patient]
            .into_iter()
            .map(|p| {
                let app = app.clone();
                let desk = d.desk.clone();
                let provider = d.provider;
                s.spawn(move || book(&app, &desk, c, p, provider, "2027-03-02 14:00", 30).is_ok())
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
}

#[test]
fn reminders_follow_policy_consent_and_the_appointment() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let texter = app
        .create_patient(
            &d.w.admin,
            c,
            &Fields::new()
                .with("first_name", "Tex")
                .with("last_name", "Ting")
                .with("phone", "403 555 0199")
                .with("consent_sms", "yes")
                .with("preferred_contact_method", "sms"),
        )
        .unwrap();
    // No consent (Ann Lee has none): no reminders.
    let quiet = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 13:00",
        30,
    )
    .unwrap();
    assert_eq!(
        count(
            &d.w,
            &format!(
                "SELECT count(*) FROM appointment_reminders WHERE appointment_id = '{}'",
                quiet.id
            )
        ),
        0
    );
    // Consent to SMS: 48 h and 2 h before, by SMS.
    let a = book(app, &d.desk, c, &texter, d.provider, "2027-03-01 09:00", 30).unwrap();
    let due = |h: i64| a.start_at - h * 3_600_000;
    let queue = app.pending_reminders(&d.desk, c, Some(due(2))).unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0].reminder.due_at, due(48));
    assert_eq!(queue[0].reminder.channel.as_str(), "sms");
    assert_eq!(queue[0].phone.as_deref(), Some("403 555 0199"));
    assert_eq!(
        app.pending_reminders(&d.desk, c, Some(due(48) - 1))
            .unwrap()
            .len(),
        0
    );
    // Sent: the appointment becomes reminded. Failed needs a reason.
    app.mark_reminder(&d.desk, queue[0].reminder.id, "sent", None)
        .unwrap();
    assert_eq!(
        app.get_appointment(&d.desk, a.id).unwrap().status,
        AppointmentStatus::Reminded
    );
    assert!(app
        .mark_reminder(&d.desk, queue[1].reminder.id, "failed", None)
        .unwrap_err()
        .to_string()
        .contains("say why"));
    assert!(app
        .mark_reminder(&d.desk, queue[0].reminder.id, "sent", None)
        .unwrap_err()
        .to_string()
        .contains("cannot change reminder"));
    // Moving the appointment cancels its pending reminders and schedules new ones.
    let moved = app
        .reschedule_appointment(
            &d.desk,
            a.id,
            &Fields::new().with("start", "2027-03-02 09:00"),
        )
        .unwrap();
    assert_eq!(count(&d.w, &format!("SELECT count(*) FROM appointment_reminders WHERE appointment_id = '{}' AND status = 'cancelled'", a.id)), 1);
    assert_eq!(count(&d.w, &format!("SELECT count(*) FROM appointment_reminders WHERE appointment_id = '{}' AND status = 'pending'", moved.id)), 2);
    // Cancelling cancels them.
    app.set_appointment_status(&d.desk, moved.id, "cancel", Some("moved away"))
        .unwrap();
    assert_eq!(count(&d.w, &format!("SELECT count(*) FROM appointment_reminders WHERE appointment_id = '{}' AND status = 'pending'", moved.id)), 0);
}

#[test]
fn recurring_series_checks_every_occurrence_keeps_local_time_and_cancels_by_scope() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let series = |who: &Session, extra: &[(&str, &str)]| {
        let mut f = Fields::new()
            .with("patient_id", d.patient.id.to_string())
            .with("provider_id", d.provider.to_string())
            .with("start", "2027-03-02 09:00")
            .with("duration_minutes", "30")
            .with("weekdays", "tue,thu")
            .with("count", "12");
        for (k, v) in extra {
            f.set(k, *v);
        }
        app.book_series(who, c, &f)
    };
    // Twice a week for six weeks: only 2027-03-02 is inside the provider's working time, so the
    // front desk is told about the 11 others and nothing is booked.
    let before = d.w.fingerprint();
    let e = series(&d.desk, &[]).unwrap_err().to_string();
    assert!(
        e.starts_with("11 of 12 occurrences cannot be booked"),
        "{e}"
    );
    assert!(
        e.contains("Thu 2027-03-04 09:00: Maya Singh is not scheduled to work"),
        "{e}"
    );
    assert_eq!(before, d.w.fingerprint());
    let preview = app
        .preview_series(
            &d.desk,
            c,
            &Fields::new()
                .with("patient_id", d.patient.id.to_string())
                .with("provider_id", d.provider.to_string())
                .with("start", "2027-03-02 09:00")
                .with("duration_minutes", "30")
                .with("weekdays", "tue,thu")
                .with("count", "12"),
        )
        .unwrap();
    assert_eq!(preview.len(), 12);
    assert_eq!(preview.iter().filter(|o| o.problem.is_none()).count(), 1);
    // skip_conflicts books the free one.
    let r = series(&d.desk, &[("skip_conflicts", "yes")]).unwrap();
    assert_eq!((r.booked.len(), r.skipped.len()), (1, 11));
    app.set_appointment_status(&d.desk, r.booked[0].id, "cancel", Some("test"))
        .unwrap();
    // A manager overrides working hours for the whole series: 12 booked, 09:00 local across the
    // 2027-03-14 spring-forward (UTC-7 → UTC-6).
    let r = series(&d.manager, &[("override_reason", "standing Tue/Thu slot")]).unwrap();
    assert_eq!(r.booked.len(), 12);
    let hour_utc =
        |a: &clinicdesk_store::tables::appointments::Appointment| (a.start_at / 3_600_000) % 24;
    assert_eq!(hour_utc(&r.booked[0]), 16);
    assert_eq!(hour_utc(&r.booked[11]), 15);
    // Cancel this-and-following from the 10th occurrence, then one, then all the rest.
    let cancelled = app
        .cancel_series(&d.desk, r.booked[9].id, "following", "moving away")
        .unwrap();
    assert_eq!(cancelled.len(), 3);
    assert_eq!(
        app.cancel_series(&d.desk, r.booked[0].id, "one", "sick")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.cancel_series(&d.desk, r.booked[1].id, "all", "stopped")
            .unwrap()
            .len(),
        8
    );
    assert!(app
        .cancel_series(&d.desk, r.booked[1].id, "all", "again")
        .is_err());
    assert!(app
        .cancel_series(&d.desk, r.booked[1].id, "some", "x")
        .unwrap_err()
        .to_string()
        .contains("not one, following or all"));
    // A rule that never ends is refused.
    let e = series(
        &d.manager,
        &[
            ("weekdays", ""),
            ("count", ""),
            ("rule", "FREQ=WEEKLY;BYDAY=MO"),
        ],
    )
    .unwrap_err();
    assert!(e.to_string().contains("rule"), "{e}");
}

#[test]
fn series_edit_one_following_and_all_keeps_local_time_and_refuses_conflicts() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let r = app
        .book_series(
            &d.manager,
            c,
            &Fields::new()
                .with("patient_id", d.patient.id.to_string())
                .with("provider_id", d.provider.to_string())
                .with("start", "2027-03-02 09:00")
                .with("duration_minutes", "30")
                .with("weekdays", "tue,thu")
                .with("count", "12")
                .with("override_reason", "standing slot"),
        )
        .unwrap();
    assert_eq!(r.booked.len(), 12);
    let local = |a: &clinicdesk_store::tables::appointments::Appointment| {
        chrono::DateTime::from_timestamp_millis(a.start_at)
            .unwrap()
            .with_timezone(&chrono_tz::America::Edmonton)
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    };
    let edit = |who: &Session, id, scope: &str, f: Fields| app.edit_series(who, id, scope, &f);

    // Bad input changes nothing.
    let before = d.w.fingerprint();
    for (scope, f, want) in [
        ("following", Fields::new(), "nothing to change"),
        (
            "following",
            Fields::new().with("time", "25:00"),
            "not a time",
        ),
        (
            "some",
            Fields::new().with("time", "10:00"),
            "not one, following or all",
        ),
        ("all", Fields::new().with("shift_days", "9"), "shift_days"),
        ("all", Fields::new().with("colour", "red"), "colour"),
        (
            "all",
            Fields::new().with("provider_id", StaffId::new().to_string()),
            "not found",
        ),
    ] {
        let e = edit(&d.manager, r.booked[6].id, scope, f)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{scope}: {e}");
    }
    // The front desk cannot move the second half to 10:00 on days the provider is not
    // scheduled: every conflict is listed and nothing moves.
    let e = edit(
        &d.desk,
        r.booked[6].id,
        "following",
        Fields::new().with("time", "10:00"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("6 of 6 occurrences cannot move"), "{e}");
    assert!(e.contains("Thu 2027-04-08 10:00"), "{e}");
    assert_eq!(before, d.w.fingerprint());
    // A hard conflict (the patient is busy with someone else) refuses the manager too.
    let other = app
        .create_staff(
            &d.w.admin,
            c,
            &Fields::new()
                .with("first_name", "Ola")
                .with("last_name", "Berg")
                .with("discipline", "nursing"),
        )
        .unwrap();
    let busy = app
        .book_appointment(
            &d.manager,
            c,
            &Fields::new()
                .with("patient_id", d.patient.id.to_string())
                .with("provider_id", other.id.to_string())
                .with("start", "2027-03-30 10:15")
                .with("duration_minutes", "30")
                .with("override_reason", "walk-in"),
        )
        .unwrap();
    let before = d.w.fingerprint();
    let e = edit(
        &d.manager,
        r.booked[6].id,
        "following",
        Fields::new()
            .with("time", "10:00")
            .with("override_reason", "new hours"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("1 of 6 occurrences cannot move"), "{e}");
    assert!(
        e.contains("Tue 2027-03-30 10:00") && e.contains("Ann Lee"),
        "{e}"
    );
    assert_eq!(before, d.w.fingerprint());
    app.set_appointment_status(&d.manager, busy.id, "cancel", Some("moved"))
        .unwrap();

    // The manager moves this-and-following (occurrences 7–12) to 10:00 with an override: they
    // are rescheduled into a new series, 10:00 local on both sides of nothing (all after the
    // 2027-03-14 change), the first six untouched.
    let moved = edit(
        &d.manager,
        r.booked[6].id,
        "following",
        Fields::new()
            .with("time", "10:00")
            .with("override_reason", "new room hours")
            .with("reason", "patient asked"),
    )
    .unwrap();
    assert_eq!(moved.booked.len(), 6);
    assert_ne!(moved.series_id, r.series_id);
    assert!(moved.booked.iter().all(|a| local(a).ends_with("10:00")));
    assert_eq!(local(&moved.booked[0]), "Tue 2027-03-23 10:00");
    assert!(moved
        .booked
        .iter()
        .zip(&r.booked[6..])
        .all(|(n, o)| n.rescheduled_from_id == Some(o.id) && n.series_id == Some(moved.series_id)));
    assert_eq!(
        count(
            &d.w,
            &format!(
                "SELECT count(*) FROM appointments WHERE series_id = '{}' AND status = 'rescheduled'",
                r.series_id
            )
        ),
        6
    );
    // One occurrence moves a day later (Tue → Wed) and stays in its series.
    let one = edit(
        &d.manager,
        r.booked[0].id,
        "one",
        Fields::new()
            .with("shift_days", "1")
            .with("override_reason", "holiday"),
    )
    .unwrap();
    assert_eq!(one.series_id, r.series_id);
    assert_eq!(local(&one.booked[0]), "Wed 2027-03-03 09:00");
    // All remaining occurrences of the original series become 45 minutes long; 09:00 local on
    // both sides of the spring-forward (UTC 16:00 before, 15:00 after).
    let all = edit(
        &d.manager,
        r.booked[1].id,
        "all",
        Fields::new()
            .with("duration_minutes", "45")
            .with("override_reason", "longer sessions"),
    )
    .unwrap();
    assert_eq!(all.booked.len(), 6);
    assert!(all
        .booked
        .iter()
        .all(|a| a.end_at - a.start_at == 45 * 60_000 && local(a).ends_with("09:00")));
    let hours: Vec<i64> = all
        .booked
        .iter()
        .map(|a| (a.start_at / 3_600_000) % 24)
        .collect();
    assert_eq!(hours, vec![16, 16, 16, 16, 15, 15]);
    // Nothing overlaps after all of that.
    assert_eq!(
        count(
            &d.w,
            "SELECT count(*) FROM appointments a JOIN appointments b ON a.id < b.id
             AND a.provider_id = b.provider_id AND a.start_at < b.end_at AND b.start_at < a.end_at
             WHERE a.status IN ('pending','confirmed','reminded','checked_in','in_progress')
               AND b.status IN ('pending','confirmed','reminded','checked_in','in_progress')"
        ),
        0
    );
}

#[test]
fn weekend_and_holiday_closures_are_whole_local_days_idempotent_and_list_what_they_hit() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let booked = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 10:00",
        30,
    )
    .unwrap();
    let f = || {
        Fields::new()
            .with("from", "2027-02-27")
            .with("to", "2027-03-14")
            .with("holidays", "2027-03-01=Founders Day")
    };
    // Bad input and a role without the permission change nothing.
    let before = d.w.fingerprint();
    for (fields, want) in [
        (f().with("to", "2027-02-01"), "must not be before"),
        (f().with("holidays", "2027-04-01"), "outside"),
        (f().with("holidays", "2027-02-30"), "holidays"),
        (
            f().with("holidays", "").with("weekends", "no"),
            "nothing to close",
        ),
        (f().with("weekend_days", "funday"), "not a weekday"),
        (f().with("to", "2030-01-01"), "two years"),
        (f().with("colour", "red"), "colour"),
    ] {
        let e = app
            .generate_closures(&d.manager, c, &fields)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    let e = app.generate_closures(&d.desk, c, &f()).unwrap_err();
    assert_eq!(e.code(), "permission_denied");
    assert_eq!(before, d.w.fingerprint());

    // Six weekend days and the holiday; the appointment on the holiday is listed to be moved.
    let r = app.generate_closures(&d.manager, c, &f()).unwrap();
    assert_eq!(r.created.len(), 7);
    assert_eq!(
        r.affected.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![booked.id]
    );
    let reasons: Vec<&str> = r
        .created
        .iter()
        .filter_map(|b| b.block_reason.as_deref())
        .collect();
    assert_eq!(reasons.iter().filter(|r| **r == "Weekend").count(), 6);
    assert!(reasons.contains(&"Holiday: Founders Day"));
    // 2027-03-14 is the spring-forward Sunday in Edmonton: its block is 23 hours long.
    let last = r.created.last().unwrap();
    assert_eq!(last.end_at - last.start_at, 23 * 3_600_000);
    assert!(r
        .created
        .iter()
        .all(|b| !b.is_available && b.provider_id.is_none()));
    // Running it again creates nothing.
    let again = app.generate_closures(&d.manager, c, &f()).unwrap();
    assert_eq!((again.created.len(), again.already_closed.len()), (0, 7));
    // Booking on the holiday is refused, naming the block.
    let e = book(
        app,
        &d.desk,
        c,
        &d.other_patient,
        d.provider,
        "2027-03-01 11:00",
        30,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("Founders Day"), "{e}");
}

#[test]
fn reminder_export_is_csv_on_the_clinic_clock_and_defuses_formulas() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let sly = app
        .create_patient(
            &d.w.admin,
            c,
            &Fields::new()
                .with("first_name", "=HYPERLINK(\"x\")")
                .with("last_name", "O'Neil, Jr")
                .with("phone", "403 555 0177")
                .with("consent_sms", "yes")
                .with("preferred_contact_method", "sms"),
        )
        .unwrap();
    let a = book(app, &d.desk, c, &sly, d.provider, "2027-03-01 09:00", 30).unwrap();
    let csv = app
        .export_pending_reminders_csv(&d.desk, c, Some(a.start_at), "test")
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("reminder_id,channel,due_local,patient_name"));
    // 48 h before 09:00 local, the name quoted (it has a comma and quotes) and defused.
    assert!(lines[1].contains(",sms,2027-02-27 09:00,"), "{}", lines[1]);
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"x\"\") O'Neil, Jr\""),
        "{}",
        lines[1]
    );
    // The program's columns stay ISO; the message's follow the display setting: the clinic
    // has no country and no setting (en-US, 12-hour) …
    assert!(
        lines[1].ends_with(&format!(
            ",2027-03-01 09:00,\"Mon, Mar 1, 2027\",9:00 AM,{}",
            a.id
        )),
        "{}",
        lines[1]
    );
    // … the clinic's default (set by its admin) applies to everyone there …
    app.update_clinic(
        &d.w.admin,
        c,
        &Fields::new().with("display_locale", "fr-CA"),
    )
    .unwrap();
    let csv = app
        .export_pending_reminders_csv(&d.desk, c, Some(a.start_at), "test")
        .unwrap();
    assert!(
        csv.contains(&format!(
            ",2027-03-01 09:00,lun. 1 mars 2027,09 h 00,{}",
            a.id
        )),
        "{csv}"
    );
    // … and a user's own override wins over it, for that user only.
    app.set_display_preferences(
        &d.desk,
        &Fields::new()
            .with("display_locale", "en-GB")
            .with("hour_cycle", "h12"),
    )
    .unwrap();
    let csv = app
        .export_pending_reminders_csv(&d.desk, c, Some(a.start_at), "test")
        .unwrap();
    assert!(
        csv.contains(&format!(
            ",2027-03-01 09:00,Mon 1 Mar 2027,9:00 am,{}",
            a.id
        )),
        "{csv}"
    );
    let csv = app
        .export_pending_reminders_csv(&d.w.admin, c, Some(a.start_at), "test")
        .unwrap();
    assert!(csv.contains("lun. 1 mars 2027,09 h 00"), "{csv}");
    // Reading the queue is the front desk's; a viewer is refused.
    let viewer = d.w.user_with("eye", Role::Viewer, c);
    assert_eq!(
        app.export_pending_reminders_csv(&viewer, c, None, "test")
            .unwrap_err()
            .code(),
        "permission_denied"
    );
}

#[test]
fn today_lists_the_clinics_own_date_with_who_is_waiting() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let tz = chrono_tz::America::Edmonton;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let at = |hm: &str| format!("{today} {hm}");
    let f = |p: &clinicdesk_store::tables::patients::Patient, hm: &str| {
        Fields::new()
            .with("patient_id", p.id.to_string())
            .with("provider_id", d.provider.to_string())
            .with("start", at(hm))
            .with("duration_minutes", "30")
            .with("override_reason", "test day")
    };
    let first = app
        .book_appointment(&d.manager, c, &f(&d.patient, "00:30"))
        .unwrap();
    let second = app
        .book_appointment(&d.manager, c, &f(&d.other_patient, "01:30"))
        .unwrap();
    let gone = app
        .book_appointment(&d.manager, c, &f(&d.other_patient, "03:00"))
        .unwrap();
    app.set_appointment_status(&d.desk, gone.id, "cancel", Some("ill"))
        .unwrap();
    app.set_appointment_status(&d.desk, first.id, "check_in", None)
        .unwrap();
    let viewer = d.w.user_with("eye", Role::Viewer, c);
    let t = app.todays_appointments(&viewer, c, None).unwrap();
    assert_eq!(t.date, today);
    let ids: Vec<_> = t.entries.iter().map(|e| e.entry.appointment.id).collect();
    assert_eq!(
        ids,
        vec![first.id, second.id],
        "cancelled ones are left out"
    );
    assert_eq!(t.entries[0].local_time, "00:30");
    assert_eq!(t.entries[0].waiting_minutes, Some(0));
    assert_eq!(t.entries[1].waiting_minutes, None);
    assert_eq!((t.counts.booked, t.counts.checked_in), (1, 1));
    // Clinic B's today is Sydney's date, which may differ from Edmonton's.
    let b = app
        .todays_appointments(&d.w.admin, d.w.clinic_b, None)
        .unwrap();
    assert_eq!(
        b.date,
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Australia::Sydney)
            .date_naive()
    );
    assert!(b.entries.is_empty());
}

#[test]
fn waitlist_offer_decline_expiry_accept_and_hold() {
    let d = desk();
    let (app, c, a) = (&d.w.app, d.w.clinic_a, &d.w.admin);
    let patient = |first: &str| {
        app.create_patient(
            a,
            c,
            &Fields::new()
                .with("first_name", first)
                .with("last_name", "Wait"),
        )
        .unwrap()
    };
    let (bo, cy, dee, tex) = (patient("Bo"), patient("Cy"), patient("Dee"), patient("Tex"));
    let wait = |p: &Patient, extra: &[(&str, &str)]| {
        let mut f = Fields::new()
            .with("patient_id", p.id.to_string())
            .with("duration_minutes", "30")
            .with("earliest_date", "2027-03-01")
            .with("latest_date", "2027-03-05");
        for (k, v) in extra {
            f.set(k, *v);
        }
        app.add_to_waitlist(&d.desk, c, &f).unwrap()
    };
    let e_tex = wait(&tex, &[("priority", "1"), ("preferred_days", "fri")]); // urgent, but only Fridays
    let e_bo = wait(&bo, &[("provider_ids", &d.provider.to_string())]);
    let e_cy = wait(&cy, &[]);
    let appt = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 10:00",
        30,
    )
    .unwrap();

    // Cancelling frees 10:00–10:30 on a Monday: Tex does not fit, Bo waited longest.
    app.set_appointment_status(&d.desk, appt.id, "cancel", Some("patient ill"))
        .unwrap();
    let list = app.list_waitlist(&d.desk, c).unwrap();
    let offer_of = |id| {
        list.iter()
            .find(|v| v.entry.id == id)
            .and_then(|v| v.offer.clone())
    };
    assert!(offer_of(e_tex.id).is_none());
    let bo_offer = offer_of(e_bo.id).expect("Bo gets the offer");
    assert_eq!(bo_offer.start_at, appt.start_at);
    assert!(offer_of(e_cy.id).is_none());
    // The held slot cannot be booked by anyone else.
    let e = book(app, &d.desk, c, &dee, d.provider, "2027-03-01 10:00", 30).unwrap_err();
    assert!(e.to_string().contains("held for a waitlist patient"), "{e}");

    // Bo declines: the slot goes to Cy; Bo is waiting again and never gets this slot again.
    let next = app
        .decline_offer(&d.desk, &bo_offer.id)
        .unwrap()
        .expect("passed on");
    assert_eq!(next.waitlist_id, e_cy.id);
    assert!(app.decline_offer(&d.desk, &bo_offer.id).is_err());
    // Cy's offer lapses (its deadline passes): Cy waits again; nobody else fits this slot.
    app.store()
        .write(None, |tx| -> clinicdesk_store::Result<usize> {
            Ok(tx.execute(
                "UPDATE waitlist_offers SET expires_at = 0 WHERE id = ?1",
                [&next.id],
            )?)
        })
        .unwrap();
    // The system's housekeeping (what the desktop app runs every minute) closes it.
    let h = app.run_housekeeping().unwrap();
    assert_eq!((h.clinics, h.offers_expired), (2, 1));
    assert_eq!(
        app.expire_waitlist_offers(&d.desk, c).unwrap(),
        0,
        "idempotent"
    );
    let list = app.list_waitlist(&d.desk, c).unwrap();
    assert!(
        list.iter().all(|v| v.offer.is_none()),
        "no one else may get the same slot twice"
    );
    assert_eq!(list.len(), 3);
    let e = app.accept_offer(&d.desk, &next.id).unwrap_err();
    assert!(e.to_string().contains("no longer open"), "{e}");

    // A second cancellation at 11:00: Bo (waiting longest) gets it and accepts.
    let appt2 = book(
        app,
        &d.desk,
        c,
        &d.patient,
        d.provider,
        "2027-03-01 11:00",
        30,
    )
    .unwrap();
    app.set_appointment_status(&d.desk, appt2.id, "cancel", Some("clash"))
        .unwrap();
    let offer = app
        .list_waitlist(&d.desk, c)
        .unwrap()
        .into_iter()
        .find_map(|v| v.offer)
        .unwrap();
    assert_eq!(offer.waitlist_id, e_bo.id);
    let booked = app.accept_offer(&d.desk, &offer.id).unwrap();
    assert_eq!(booked.patient_id, bo.id);
    assert_eq!(booked.source.as_str(), "waitlist");
    let remaining = app.list_waitlist(&d.desk, c).unwrap();
    assert_eq!(remaining.len(), 2, "Bo is booked and leaves the list");
    // Nothing was lost: every entry is still there with a status.
    assert_eq!(count(&d.w, "SELECT count(*) FROM waitlist"), 3);
}

/// Viewers get no patient data (the permission matrix): the grid, the week, today's list and
/// an opened appointment show them the slot as booked, without the patient's name, reason or
/// notes — while the front desk sees everything. A booking may not use a patient of a clinic
/// whose patients the booking user may not see.
#[test]
fn viewers_see_booked_slots_without_patient_data_and_bookings_stay_in_reach() {
    let d = desk();
    let (app, c) = (&d.w.app, d.w.clinic_a);
    let a = app
        .book_appointment(
            &d.desk,
            c,
            &Fields::new()
                .with("patient_id", d.patient.id.to_string())
                .with("provider_id", d.provider.to_string())
                .with("start", "2027-03-01 09:00")
                .with("duration_minutes", "30")
                .with("reason", "knee pain")
                .with("notes", "prefers mornings"),
        )
        .unwrap();
    let viewer = d.w.user_with("eye", Role::Viewer, c);
    let day = app.day_schedule(&viewer, c, "2027-03-01", None).unwrap();
    assert_eq!(day.entries.len(), 1);
    assert_eq!(day.entries[0].patient_name, clinicdesk_api::UNNAMED_PATIENT);
    let week = app.week_schedule(&viewer, c, "2027-03-01", None).unwrap();
    assert_eq!(
        week[0].entries[0].patient_name,
        clinicdesk_api::UNNAMED_PATIENT
    );
    let seen = app.get_appointment(&viewer, a.id).unwrap();
    assert_eq!((seen.reason, seen.notes), (None, None));
    assert_eq!(seen.start_at, a.start_at);
    // The front desk sees the patient.
    let day = app.day_schedule(&d.desk, c, "2027-03-01", None).unwrap();
    assert_eq!(day.entries[0].patient_name, "Ann Lee");
    let full = app.get_appointment(&d.desk, a.id).unwrap();
    assert_eq!(full.reason.as_deref(), Some("knee pain"));

    // A patient of clinic B, booked at clinic A by a desk that may not see B's patients.
    let theirs = app
        .create_patient(
            &d.w.admin,
            d.w.clinic_b,
            &Fields::new()
                .with("first_name", "Zed")
                .with("last_name", "Far"),
        )
        .unwrap();
    let before = d.w.fingerprint();
    let e = book(app, &d.desk, c, &theirs, d.provider, "2027-03-01 11:00", 30).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("another clinic"), "{e}");
    assert_eq!(before, d.w.fingerprint());
    // An admin of both clinics may.
    book(
        app,
        &d.w.admin,
        c,
        &theirs,
        d.provider,
        "2027-03-01 11:00",
        30,
    )
    .unwrap();
}
