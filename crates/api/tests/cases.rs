//! Cases on real encrypted databases: numbering (including two PCs numbering offline and
//! merged), the status and priority flow, appointments linked to cases, authorization warnings.

mod common;

use std::collections::HashSet;

use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::{CaseStatus, ClinicId, Role};
use clinicdesk_store::tables::cases::{Case, CaseNumberBlock};
use clinicdesk_store::{table, WriteMode};
use common::*;

fn patient(
    app: &App,
    s: &Session,
    c: ClinicId,
    last: &str,
) -> clinicdesk_store::tables::patients::Patient {
    app.create_patient(
        s,
        c,
        &Fields::new()
            .with("first_name", "Ann")
            .with("last_name", last),
    )
    .unwrap()
}

fn open_case(
    app: &App,
    s: &Session,
    c: ClinicId,
    p: &clinicdesk_store::tables::patients::Patient,
) -> Case {
    app.create_case(
        s,
        c,
        &Fields::new()
            .with("patient_id", p.id.to_string())
            .with("case_type", "physio"),
    )
    .unwrap()
}

/// The year on clinic A's wall clock (America/Edmonton), which case numbers use.
fn local_now() -> chrono::DateTime<chrono_tz::Tz> {
    chrono::Utc::now().with_timezone(&chrono_tz::America::Edmonton)
}

fn year2() -> String {
    local_now().format("%y").to_string()
}

#[test]
fn numbers_statuses_links_and_authorization_warnings() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let manager = w.user_with("boss", Role::Manager, c);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let ann = patient(app, a, c, "Lee");
    let bo = patient(app, a, c, "Chan");
    let first = open_case(app, &manager, c, &ann);
    let second = open_case(app, &manager, c, &bo);
    let yy = year2();
    assert_eq!(first.case_number, format!("CGY-{yy}-0001"));
    assert_eq!(second.case_number, format!("CGY-{yy}-0002"));
    assert_eq!(first.status, CaseStatus::New);
    // Clinic B numbers on its own.
    let b_patient = patient(app, a, w.clinic_b, "Smith");
    let syd = chrono::Utc::now()
        .with_timezone(&chrono_tz::Australia::Sydney)
        .format("%y");
    assert_eq!(
        open_case(app, a, w.clinic_b, &b_patient).case_number,
        format!("SYD-{syd}-0001")
    );

    // Bad input and the front desk change nothing.
    let before = w.fingerprint();
    for (f, want) in [
        (Fields::new().with("case_type", "physio"), "patient_id"),
        (
            Fields::new().with("patient_id", ann.id.to_string()),
            "case_type",
        ),
        (
            Fields::new()
                .with("patient_id", b_patient.id.to_string())
                .with("case_type", "x"),
            "another clinic",
        ),
        (
            Fields::new()
                .with("patient_id", ann.id.to_string())
                .with("case_type", "x")
                .with("priority", "asap"),
            "priority",
        ),
        (
            Fields::new()
                .with("patient_id", ann.id.to_string())
                .with("case_type", "x")
                .with("authorization_expiry", "2027-13-01"),
            "authorization_expiry",
        ),
        (
            Fields::new()
                .with("patient_id", ann.id.to_string())
                .with("case_type", "x")
                .with("readmission_risk_score", "2"),
            "between 0 and 1",
        ),
        (
            Fields::new()
                .with("patient_id", ann.id.to_string())
                .with("case_type", "x")
                .with("colour", "red"),
            "colour",
        ),
    ] {
        let e = app.create_case(&manager, c, &f).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    assert_eq!(
        app.create_case(
            &desk,
            c,
            &Fields::new()
                .with("patient_id", ann.id.to_string())
                .with("case_type", "x")
        )
        .unwrap_err()
        .code(),
        "permission_denied"
    );
    assert!(app
        .set_case_status(&manager, first.id, "completed")
        .unwrap_err()
        .to_string()
        .contains("cannot change case"));
    assert!(app.set_case_status(&manager, first.id, "done").is_err());
    assert!(
        app.set_case_priority(&manager, first.id, "medium").is_err(),
        "same priority is not a change"
    );
    assert_eq!(before, w.fingerprint());

    // The flow: active → completed (closed) → reopened.
    let active = app.set_case_status(&manager, first.id, "active").unwrap();
    assert_eq!(active.closed_at, None);
    let done = app
        .set_case_status(&manager, first.id, "completed")
        .unwrap();
    assert!(done.closed_at.is_some());
    assert_eq!(
        app.set_case_status(&manager, first.id, "active")
            .unwrap()
            .closed_at,
        None
    );
    assert_eq!(
        app.set_case_priority(&manager, first.id, "urgent")
            .unwrap()
            .priority
            .as_str(),
        "urgent"
    );

    // Appointments link to a case of the same patient only.
    let staff = app
        .create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", "Maya")
                .with("last_name", "Singh")
                .with("is_clinical", "no"),
        )
        .unwrap();
    let book = |p: &clinicdesk_store::tables::patients::Patient, case: &Case, start: &str| {
        app.book_appointment(
            &manager,
            c,
            &Fields::new()
                .with("patient_id", p.id.to_string())
                .with("provider_id", staff.id.to_string())
                .with("start", start)
                .with("duration_minutes", "30")
                .with("case_id", case.id.to_string())
                .with("override_reason", "test"),
        )
    };
    let e = book(&bo, &first, "2027-03-01 09:00")
        .unwrap_err()
        .to_string();
    assert!(e.contains("another patient's"), "{e}");
    // Authorization expires 2027-03-10: an appointment after it is listed in the warning.
    app.update_case(
        &manager,
        first.id,
        &Fields::new()
            .with("authorization_expiry", "2027-03-10")
            .with("authorization_number", "WCB-1"),
    )
    .unwrap();
    let before_expiry = book(&ann, &first, "2027-03-09 09:00").unwrap();
    let after_expiry = book(&ann, &first, "2027-03-11 09:00").unwrap();
    assert_eq!(before_expiry.case_id, Some(first.id));
    let days = (chrono::NaiveDate::from_ymd_opt(2027, 3, 10).unwrap()
        - chrono::Utc::now().date_naive())
    .num_days()
        + 2;
    let warn = app.case_warnings(&manager, c, days.min(365)).unwrap();
    assert_eq!(warn.len(), 1);
    assert_eq!(
        warn[0]
            .appointments_after_expiry
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![after_expiry.id]
    );
    assert!(
        warn[0].message.contains("expires on 2027-03-10"),
        "{}",
        warn[0].message
    );
    assert!(app.case_warnings(&manager, c, 0).unwrap().is_empty());
    assert!(app.case_warnings(&manager, c, -1).is_err());
    // Unlink.
    assert_eq!(
        app.link_appointment_to_case(&manager, after_expiry.id, None)
            .unwrap()
            .case_id,
        None
    );
    assert_eq!(
        app.list_cases(&manager, c, Some("active")).unwrap().len(),
        1
    );
    assert_eq!(app.list_cases(&manager, c, None).unwrap().len(), 2);
}

/// A database standing for one PC (or the server), with an admin and clinic A.
fn pc() -> World {
    world()
}

#[test]
fn two_pcs_numbering_offline_never_collide_after_merge() {
    // The server (the numbering authority) and two PCs. The PCs are enrolled: they take
    // blocks from the server instead of numbering themselves.
    let server = pc();
    let (pc_a, pc_b) = (pc(), pc());
    let year: i32 = local_now().format("%Y").to_string().parse().unwrap();
    let yy = year2();
    for p in [&pc_a, &pc_b] {
        p.app.set_case_numbering(&p.admin, "server").unwrap();
    }
    // Replicate a block to a PC the way sync will: a remote write of the server's row, with
    // the clinic id mapped (each test database has its own clinic A).
    let deliver = |to: &World, b: &CaseNumberBlock| {
        let mut b = b.clone();
        b.clinic_id = to.clinic_a;
        to.app
            .store()
            .write_as(WriteMode::Remote, None, |tx| table::insert(tx, &b))
            .unwrap();
    };
    let a_block = server
        .app
        .grant_case_numbers(
            &server.admin,
            server.clinic_a,
            year,
            &pc_a.app.store().device_id().to_string(),
            3,
        )
        .unwrap();
    let b_block = server
        .app
        .grant_case_numbers(
            &server.admin,
            server.clinic_a,
            year,
            &pc_b.app.store().device_id().to_string(),
            3,
        )
        .unwrap();
    assert_eq!(
        (
            a_block.first_number,
            a_block.last_number,
            b_block.first_number
        ),
        (1, 3, 4)
    );
    deliver(&pc_a, &a_block);
    deliver(&pc_b, &b_block);
    // Offline: A opens 5 cases (3 from its block, then 2 provisional), B opens 2.
    let numbers = |w: &World, n: usize| -> Vec<String> {
        let p = patient(&w.app, &w.admin, w.clinic_a, "Offline");
        (0..n)
            .map(|_| open_case(&w.app, &w.admin, w.clinic_a, &p).case_number)
            .collect()
    };
    let a = numbers(&pc_a, 5);
    let b = numbers(&pc_b, 2);
    assert_eq!(
        &a[..3],
        &[
            format!("CGY-{yy}-0001"),
            format!("CGY-{yy}-0002"),
            format!("CGY-{yy}-0003")
        ]
    );
    assert!(
        a[3].starts_with(&format!("CGY-{yy}-P")) && a[4].starts_with(&format!("CGY-{yy}-P")),
        "{a:?}"
    );
    assert_eq!(b, vec![format!("CGY-{yy}-0004"), format!("CGY-{yy}-0005")]);
    // The merge: every number from both PCs, no duplicate.
    let merged: Vec<&String> = a.iter().chain(b.iter()).collect();
    assert_eq!(
        merged.iter().collect::<HashSet<_>>().len(),
        merged.len(),
        "{merged:?}"
    );
    // Back online, A gets a new block; its provisional numbers become final, after B's.
    let next = server
        .app
        .grant_case_numbers(
            &server.admin,
            server.clinic_a,
            year,
            &pc_a.app.store().device_id().to_string(),
            10,
        )
        .unwrap();
    assert_eq!(next.first_number, 7);
    deliver(&pc_a, &next);
    let fixed = pc_a.app.finalize_case_numbers().unwrap();
    let fixed: Vec<String> = fixed.into_iter().map(|c| c.case_number).collect();
    assert_eq!(
        fixed,
        vec![format!("CGY-{yy}-0007"), format!("CGY-{yy}-0008")]
    );
    assert!(
        pc_a.app.finalize_case_numbers().unwrap().is_empty(),
        "idempotent"
    );
    // B does not finalize A's provisional numbers even if they reached it.
    assert!(pc_b.app.finalize_case_numbers().unwrap().is_empty());
    let all: Vec<String> = a[..3].iter().cloned().chain(fixed).chain(b).collect();
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 7);
    // Granting is the authority's (admin) job; bad sizes are refused.
    let boss = server.user_with("boss", Role::Manager, server.clinic_a);
    assert_eq!(
        server
            .app
            .grant_case_numbers(&boss, server.clinic_a, year, "dev", 5)
            .unwrap_err()
            .code(),
        "permission_denied"
    );
    assert!(server
        .app
        .grant_case_numbers(&server.admin, server.clinic_a, year, "dev", 0)
        .is_err());
    assert!(pc_a
        .app
        .set_case_numbering(&pc_a.admin, "sometimes")
        .is_err());
    // A standalone database numbers itself in blocks of 50 and simply continues.
    let solo = pc();
    let p = patient(&solo.app, &solo.admin, solo.clinic_a, "Solo");
    let n: Vec<String> = (0..52)
        .map(|_| open_case(&solo.app, &solo.admin, solo.clinic_a, &p).case_number)
        .collect();
    assert_eq!(n[51], format!("CGY-{yy}-0052"));
    assert_eq!(n.iter().collect::<HashSet<_>>().len(), 52);
}
