//! A full disk in the middle of a booking (the fault-injecting VFS gives the database's
//! directory a byte budget): the booking fails with a clear `disk_full` error, the database is
//! consistent (no half booking, integrity and audit chain intact), and once space returns the
//! same booking succeeds.

mod common;

use clinicdesk_api::{ApiError, Fields, Session};
use clinicdesk_domain::{ClinicId, Role};
use clinicdesk_store::fault_vfs;
use common::*;

fn booking(patient: &str, provider: &str, start: &str) -> Fields {
    Fields::new()
        .with("patient_id", patient)
        .with("provider_id", provider)
        .with("start", start)
        .with("duration_minutes", "30")
}

fn assert_consistent(w: &World, before: &[(String, i64)], audit_before: usize) {
    assert_eq!(w.fingerprint(), before, "a refused booking changed data");
    assert_eq!(w.audit_actions().len(), audit_before);
    assert_eq!(
        w.app.store().integrity_check().unwrap(),
        Vec::<String>::new()
    );
    assert!(w.app.store().verify_audit().unwrap().ok);
}

fn expect_disk_full(r: Result<impl std::fmt::Debug, ApiError>) {
    let e = r.unwrap_err();
    assert_eq!(e.code(), "disk_full", "{e:?}");
    assert!(e.to_string().contains("the disk is full"), "{e}");
    assert!(e.to_string().contains("try again"), "{e}");
}

#[test]
fn a_booking_on_a_full_disk_fails_cleanly_and_succeeds_once_space_returns() {
    fault_vfs::install();
    let w = world();
    let (app, a, c): (_, &Session, ClinicId) = (&w.app, &w.admin, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
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
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", staff.id.to_string())
            .with("start", "2027-03-01 08:00")
            .with("end", "2027-03-01 17:00")
            .with("is_available", "yes"),
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
    let (pid, sid) = (patient.id.to_string(), staff.id.to_string());
    let dir = w.dir.path().to_path_buf();

    // Space runs out at every point of the booking's commit in turn: before its first write,
    // after some of its WAL frames, … until the budget is enough.
    let first = booking(&pid, &sid, "2027-03-01 09:00");
    let mut refused = 0;
    let mut budget = 0;
    let booked = loop {
        let before = w.fingerprint();
        let audit_before = w.audit_actions().len();
        fault_vfs::set_disk_space(&dir, Some(budget));
        let r = app.book_appointment(&desk, c, &first);
        fault_vfs::set_disk_space(&dir, None);
        match r {
            Ok(appt) => break appt,
            Err(e) => {
                expect_disk_full(Err::<(), _>(e));
                assert_consistent(&w, &before, audit_before);
                refused += 1;
            }
        }
        budget += 4096;
        assert!(budget < 4 << 20, "the booking never fit");
    };
    assert!(refused >= 3, "only {refused} budgets were too small");
    assert_eq!(app.get_appointment(&desk, booked.id).unwrap().id, booked.id);

    // A second booking on a full disk; space returns; the same booking goes through.
    let second = booking(&pid, &sid, "2027-03-01 11:00");
    let before = w.fingerprint();
    let audit_before = w.audit_actions().len();
    fault_vfs::set_disk_space(&dir, Some(0));
    expect_disk_full(app.book_appointment(&desk, c, &second));
    fault_vfs::set_disk_space(&dir, None);
    assert_consistent(&w, &before, audit_before);
    let appt = app.book_appointment(&desk, c, &second).unwrap();
    assert_ne!(appt.id, booked.id);
    assert!(w.app.store().verify_audit().unwrap().ok);
}
