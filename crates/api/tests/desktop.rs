//! The reads and settings the desktop shell needs: this device's idle lock, the week view, the
//! availability blocks behind the schedule grid, a case with its appointments, the audit log
//! list and the managers' swap and time-off queues — on a real encrypted database.

mod common;

use clinicdesk_api::{
    ApiError, AuditQuery, Fields, DEFAULT_IDLE_TIMEOUT_MINUTES, MAX_IDLE_TIMEOUT_MINUTES,
};
use clinicdesk_domain::{Role, StaffId};
use clinicdesk_store::tables::patients::Patient;
use common::*;

fn staff_and_patient(w: &World) -> (StaffId, Patient) {
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let staff = app
        .create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", "Maya")
                .with("last_name", "Singh"),
        )
        .unwrap();
    let patient = app
        .create_patient(
            a,
            c,
            &Fields::new()
                .with("first_name", "Ann")
                .with("last_name", "Lee"),
        )
        .unwrap();
    (staff.id, patient)
}

fn open_day(w: &World, provider: StaffId, day: &str) {
    w.app
        .create_availability_block(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("provider_id", provider.to_string())
                .with("start", format!("{day} 08:00"))
                .with("end", format!("{day} 17:00"))
                .with("is_available", "yes"),
        )
        .unwrap();
}

fn book(provider: StaffId, patient: &Patient, start: &str) -> Fields {
    Fields::new()
        .with("patient_id", patient.id.to_string())
        .with("provider_id", provider.to_string())
        .with("start", start)
        .with("duration_minutes", "30")
}

#[test]
fn idle_timeout_defaults_to_15_and_only_an_admin_may_change_it() {
    let w = world();
    let app = &w.app;
    assert_eq!(
        app.get_idle_timeout().unwrap(),
        DEFAULT_IDLE_TIMEOUT_MINUTES
    );
    assert_eq!(DEFAULT_IDLE_TIMEOUT_MINUTES, 15);

    // A manager (every right but the organisation's) is refused, and the refusal is audited.
    let manager = w.user_with("boss", Role::Manager, w.clinic_a);
    let before = w.fingerprint();
    let e = app.set_idle_timeout(&manager, 5).unwrap_err();
    assert_eq!(e.code(), "permission_denied", "{e}");
    assert!(e.to_string().contains("idle lock"), "{e}");
    assert_eq!(w.fingerprint(), before);
    assert_eq!(app.get_idle_timeout().unwrap(), 15);
    assert_eq!(w.audit_actions().last().map(String::as_str), Some("denied"));

    // Bad values: a clear field error, nothing changed.
    for bad in [0, -5, MAX_IDLE_TIMEOUT_MINUTES + 1, i64::MAX] {
        let e = app.set_idle_timeout(&w.admin, bad).unwrap_err();
        assert!(matches!(e, ApiError::Invalid(_)), "{bad}: {e:?}");
        assert_eq!(e.code(), "invalid_input");
        assert!(
            e.to_string().contains("minutes") && e.to_string().contains("between 1 and 480"),
            "{e}"
        );
        assert_eq!(w.fingerprint(), before);
        assert_eq!(app.get_idle_timeout().unwrap(), 15);
    }

    // The admin sets it; it is kept and the change is audited with both values.
    assert_eq!(app.set_idle_timeout(&w.admin, 5).unwrap(), 5);
    assert_eq!(app.get_idle_timeout().unwrap(), 5);
    assert_eq!(
        app.set_idle_timeout(&w.admin, MAX_IDLE_TIMEOUT_MINUTES)
            .unwrap(),
        480
    );
    assert_eq!(app.get_idle_timeout().unwrap(), 480);
    let events = app
        .list_audit(
            &w.admin,
            &AuditQuery {
                table_name: Some("settings".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(events.len(), 2);
    let newest: serde_json::Value =
        serde_json::from_str(events[0].new_values.as_deref().unwrap()).unwrap();
    assert_eq!(newest["from"], 5);
    assert_eq!(newest["to"], 480);
    assert_eq!(events[0].user_id, Some(w.admin.user_id.to_string()));
    assert!(app.store().verify_audit().unwrap().ok);
}

#[test]
fn audit_list_filters_pages_and_needs_the_right() {
    let w = world();
    let app = &w.app;
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let all = app.list_audit(&w.admin, &AuditQuery::default()).unwrap();
    assert!(all.len() > 5);
    assert!(all.windows(2).all(|p| p[0].seq > p[1].seq), "newest first");

    let logins = app
        .list_audit(
            &w.admin,
            &AuditQuery {
                action: Some("login".into()),
                user_id: Some(desk.user_id),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].table_name, "users");

    let page = app
        .list_audit(
            &w.admin,
            &AuditQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.len(), 2);
    let next = app
        .list_audit(
            &w.admin,
            &AuditQuery {
                limit: Some(2),
                before_seq: Some(page[1].seq),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(next[0].seq, page[1].seq - 1);

    let at = all[all.len() / 2].at;
    let since = app
        .list_audit(
            &w.admin,
            &AuditQuery {
                from_ms: Some(at),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(!since.is_empty() && since.iter().all(|e| e.at >= at));

    for (q, field) in [
        (
            AuditQuery {
                limit: Some(0),
                ..Default::default()
            },
            "limit",
        ),
        (
            AuditQuery {
                from_ms: Some(10),
                to_ms: Some(5),
                ..Default::default()
            },
            "to_ms",
        ),
    ] {
        let e = app.list_audit(&w.admin, &q).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains(field), "{e}");
    }
    let e = app.list_audit(&desk, &AuditQuery::default()).unwrap_err();
    assert_eq!(e.code(), "permission_denied");
}

#[test]
fn week_schedule_gives_seven_local_days_with_their_appointments() {
    let w = world();
    let app = &w.app;
    let (provider, patient) = staff_and_patient(&w);
    // 2026-03-08 is the spring-forward Sunday in America/Edmonton: a 23-hour day.
    for day in ["2026-03-02", "2026-03-04", "2026-03-08"] {
        open_day(&w, provider, day);
    }
    let monday = app
        .book_appointment(
            &w.admin,
            w.clinic_a,
            &book(provider, &patient, "2026-03-02 09:00"),
        )
        .unwrap();
    let sunday = app
        .book_appointment(
            &w.admin,
            w.clinic_a,
            &book(provider, &patient, "2026-03-08 10:00"),
        )
        .unwrap();
    let week = app
        .week_schedule(&w.admin, w.clinic_a, "2026-03-02", None)
        .unwrap();
    assert_eq!(week.len(), 7);
    let dates: Vec<String> = week.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates.first().unwrap(), "2026-03-02");
    assert_eq!(dates.last().unwrap(), "2026-03-08");
    assert_eq!(week[0].entries.len(), 1);
    assert_eq!(week[0].entries[0].id, monday.id);
    assert_eq!(week[6].entries[0].id, sunday.id);
    assert_eq!(week[6].hours, 23);
    assert!(week[1..6].iter().all(|d| d.entries.is_empty()));
    // Each day is what day_schedule gives.
    for d in &week {
        let one = app
            .day_schedule(&w.admin, w.clinic_a, &d.date.to_string(), None)
            .unwrap();
        assert_eq!(
            serde_json::to_value(&one).unwrap(),
            serde_json::to_value(d).unwrap()
        );
    }
    // Another provider's week is empty; a viewer of clinic B may not look.
    let other = app
        .create_staff(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("first_name", "Jo")
                .with("last_name", "Ng"),
        )
        .unwrap();
    let theirs = app
        .week_schedule(&w.admin, w.clinic_a, "2026-03-02", Some(other.id))
        .unwrap();
    assert!(theirs.iter().all(|d| d.entries.is_empty()));
    let viewer_b = w.user_with("viewb", Role::Viewer, w.clinic_b);
    assert_eq!(
        app.week_schedule(&viewer_b, w.clinic_a, "2026-03-02", None)
            .unwrap_err()
            .code(),
        "permission_denied"
    );
    let e = app
        .week_schedule(&w.admin, w.clinic_a, "2026-13-01", None)
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("start"), "{e}");
}

#[test]
fn availability_blocks_are_listed_by_local_days_and_provider() {
    let w = world();
    let app = &w.app;
    let (provider, _) = staff_and_patient(&w);
    let other = app
        .create_staff(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("first_name", "Jo")
                .with("last_name", "Ng"),
        )
        .unwrap();
    open_day(&w, provider, "2026-05-04");
    open_day(&w, other.id, "2026-05-04");
    open_day(&w, provider, "2026-05-06");
    // A clinic-wide closure late on the 5th (local), which is the 6th in UTC.
    app.create_availability_block(
        &w.admin,
        w.clinic_a,
        &Fields::new()
            .with("start", "2026-05-05 20:00")
            .with("end", "2026-05-05 23:00")
            .with("reason", "Staff meeting"),
    )
    .unwrap();
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let all = app
        .list_availability_blocks(&desk, w.clinic_a, "2026-05-04", "2026-05-06", None)
        .unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|p| p[0].start_at <= p[1].start_at));
    let mine = app
        .list_availability_blocks(
            &desk,
            w.clinic_a,
            "2026-05-04",
            "2026-05-06",
            Some(provider),
        )
        .unwrap();
    assert_eq!(
        mine.len(),
        3,
        "the provider's two days and the clinic-wide block"
    );
    assert!(mine
        .iter()
        .all(|b| b.provider_id.is_none() || b.provider_id == Some(provider)));
    let fifth = app
        .list_availability_blocks(&desk, w.clinic_a, "2026-05-05", "2026-05-05", None)
        .unwrap();
    assert_eq!(fifth.len(), 1);
    assert_eq!(fifth[0].block_reason.as_deref(), Some("Staff meeting"));

    for (from, to, field) in [
        ("2026-05-06", "2026-05-04", "to"),
        ("2026-01-01", "2027-01-02", "to"),
        ("May 4", "2026-05-04", "from"),
    ] {
        let e = app
            .list_availability_blocks(&desk, w.clinic_a, from, to, None)
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{from}..{to}");
        assert!(e.to_string().contains(field), "{e}");
    }
    let viewer_b = w.user_with("viewb", Role::Viewer, w.clinic_b);
    assert_eq!(
        app.list_availability_blocks(&viewer_b, w.clinic_a, "2026-05-04", "2026-05-06", None)
            .unwrap_err()
            .code(),
        "permission_denied"
    );
}

#[test]
fn case_detail_lists_the_linked_appointments() {
    let w = world();
    let app = &w.app;
    let (provider, patient) = staff_and_patient(&w);
    open_day(&w, provider, "2027-03-01");
    let case = app
        .create_case(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("patient_id", patient.id.to_string())
                .with("case_type", "physio"),
        )
        .unwrap();
    let late = app
        .book_appointment(
            &w.admin,
            w.clinic_a,
            &book(provider, &patient, "2027-03-01 11:00").with("case_id", case.id.to_string()),
        )
        .unwrap();
    let early = app
        .book_appointment(
            &w.admin,
            w.clinic_a,
            &book(provider, &patient, "2027-03-01 09:00").with("case_id", case.id.to_string()),
        )
        .unwrap();
    app.book_appointment(
        &w.admin,
        w.clinic_a,
        &book(provider, &patient, "2027-03-01 13:00"),
    )
    .unwrap();
    let d = app.get_case_detail(&w.admin, case.id).unwrap();
    assert_eq!(d.case.id, case.id);
    let ids: Vec<_> = d.appointments.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![early.id, late.id]);
    let viewer = w.user_with("viewer", Role::Viewer, w.clinic_a);
    assert_eq!(
        app.get_case_detail(&viewer, case.id).unwrap_err().code(),
        "permission_denied"
    );
}

#[test]
fn swap_and_time_off_queues_list_requests_for_managers() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let manager = w.user_with("boss", Role::Manager, c);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let staff = |first: &str| {
        app.create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", first)
                .with("last_name", "Aide"),
        )
        .unwrap()
        .id
    };
    let (ana, ben) = (staff("Ana"), staff("Ben"));
    let day = app
        .create_shift_template(
            a,
            c,
            &Fields::new()
                .with("name", "Day")
                .with("start_time", "08:00")
                .with("end_time", "16:00"),
        )
        .unwrap()
        .id;
    let assign = |who: StaffId, date: &str| {
        app.assign_shift(
            &manager,
            c,
            &Fields::new()
                .with("staff_id", who.to_string())
                .with("shift_id", day.to_string())
                .with("date", date),
        )
        .unwrap()
    };
    let mine = assign(ana, "2027-03-01");
    let swap = app
        .request_swap(
            &manager,
            &Fields::new()
                .with("requester_schedule_id", mine.id.to_string())
                .with("target_staff_id", ben.to_string()),
        )
        .unwrap();
    let off = |who: StaffId, from: &str| {
        app.request_time_off(
            &manager,
            c,
            &Fields::new()
                .with("staff_id", who.to_string())
                .with("start_date", from)
                .with("end_date", from),
        )
        .unwrap()
    };
    let later = off(ben, "2027-05-10");
    let sooner = off(ana, "2027-04-01");

    let swaps = app.list_swaps(&manager, c, None).unwrap();
    assert_eq!(
        swaps.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![swap.id]
    );
    let queue = app.list_time_off(&manager, c, None).unwrap();
    assert_eq!(
        queue.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![sooner.id, later.id],
        "by start date"
    );

    // Decided requests leave the default queue but stay under their status and `all`.
    app.decide_swap(&manager, swap.id, false, Some("no"), None)
        .unwrap();
    app.decide_time_off(&manager, later.id, false, None)
        .unwrap();
    assert!(app.list_swaps(&manager, c, None).unwrap().is_empty());
    assert_eq!(
        app.list_swaps(&manager, c, Some("rejected")).unwrap().len(),
        1
    );
    assert_eq!(
        app.list_time_off(&manager, c, Some("all")).unwrap().len(),
        2
    );
    assert_eq!(app.list_time_off(&manager, c, None).unwrap().len(), 1);

    // Bad status: a clear error; the front desk and other clinics' managers may not look.
    let e = app.list_swaps(&manager, c, Some("maybe")).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("maybe"), "{e}");
    assert_eq!(
        app.list_time_off(&desk, c, None).unwrap_err().code(),
        "permission_denied"
    );
    let boss_b = w.user_with("bossb", Role::Manager, w.clinic_b);
    assert_eq!(
        app.list_swaps(&boss_b, c, None).unwrap_err().code(),
        "permission_denied"
    );
}
