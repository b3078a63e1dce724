//! The sync conflicts inbox on one PC: the server's verdict (a `sync_conflicts` row and the
//! losing booking cancelled) is written here the way the pull would, then the desk lists it,
//! gets free slots for the lost appointment, rebooks, waitlists or dismisses it.

mod common;

use clinicdesk_api::{ApiError, ConflictResolution, Fields, Session};
use clinicdesk_domain::{ClinicId, Role, StaffId};
use clinicdesk_store::tables::patients::Patient;
use common::*;

struct Inbox {
    w: World,
    desk: Session,
    maya: StaffId,
    raj: StaffId,
    jane: Patient,
    /// The conflict: Jane's 09:00–09:30 booking with Maya lost to Bo's.
    id: String,
    lost: String,
    winner: String,
}

fn staff(w: &World, first: &str, last: &str) -> StaffId {
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let s = app
        .create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", first)
                .with("last_name", last)
                .with("discipline", "physiotherapy"),
        )
        .unwrap();
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", s.id.to_string())
            .with("start", "2027-03-01 09:00")
            .with("end", "2027-03-01 11:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    s.id
}

fn patient(w: &World, first: &str, last: &str, phone: &str) -> Patient {
    w.app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &Fields::new()
                .with("first_name", first)
                .with("last_name", last)
                .with("phone", phone),
        )
        .unwrap()
}

fn book(w: &World, s: &Session, p: &Patient, who: StaffId, start: &str) -> String {
    w.app
        .book_appointment(
            s,
            w.clinic_a,
            &Fields::new()
                .with("patient_id", p.id.to_string())
                .with("provider_id", who.to_string())
                .with("start", start)
                .with("duration_minutes", "30"),
        )
        .unwrap()
        .id
        .to_string()
}

/// Bo's 09:00 booking with Maya won; Jane's (booked on this PC at 09:30 and moved by the
/// pull onto 09:00, then cancelled by the server's verdict) lost.
fn inbox() -> Inbox {
    let w = world();
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let maya = staff(&w, "Maya", "Singh");
    let raj = staff(&w, "Raj", "Patel");
    let jane = patient(&w, "Jane", "Doe", "+1 403 555 0101");
    let bo = patient(&w, "Bo", "Chan", "+1 403 555 0102");
    let winner = book(&w, &desk, &bo, maya, "2027-03-01 09:00");
    let lost = book(&w, &desk, &jane, maya, "2027-03-01 09:30");
    let id = "7d9c1a52-3f0e-4b8a-9a51-0c7e2d4b6f10".to_string();
    let device = w.app.store().device_id().to_string();
    w.app
        .store()
        .write(None, |tx| -> clinicdesk_store::Result<()> {
            tx.execute(
                "UPDATE appointments SET start_at = start_at - 1800000, end_at = end_at - 1800000,
                        status = 'cancelled', cancel_reason = 'sync conflict' WHERE id = ?1",
                [&lost],
            )?;
            tx.execute(
                "INSERT INTO sync_conflicts (id, clinic_id, kind, appointment_id, winner_id, resource,
                        device_id, detail, created_at, updated_at)
                 VALUES (?1, ?2, 'appointment_overlap', ?3, ?4, 'provider', ?5,
                        'the provider was already booked', 1, 1)",
                [&id, &w.clinic_a.to_string(), &lost, &winner, &device],
            )?;
            Ok(())
        })
        .unwrap();
    Inbox {
        w,
        desk,
        maya,
        raj,
        jane,
        id,
        lost,
        winner,
    }
}

fn count(w: &World, sql: &str) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

#[test]
fn the_desk_sees_the_conflict_in_front_desk_words() {
    let i = inbox();
    let list = i.w.app.list_sync_conflicts(&i.desk, false).unwrap();
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert!(c.this_pc);
    assert_eq!(c.appointment_id, i.lost);
    assert_eq!(c.winner_id.as_deref(), Some(i.winner.as_str()));
    assert_eq!(c.patient.as_deref(), Some("Jane Doe"));
    assert_eq!(c.patient_phone.as_deref(), Some("+1 403 555 0101"));
    assert_eq!(c.provider, "Maya Singh");
    assert_eq!(c.slot, "Mon 2027-03-01 09:00–09:30");
    assert!(c.resolved_by.is_none());
}

#[test]
fn suggestions_offer_the_same_provider_first_then_the_others() {
    let i = inbox();
    let slots = i.w.app.suggest_rebook_slots(&i.desk, &i.id).unwrap();
    let maya: Vec<&str> = slots
        .iter()
        .filter(|s| s.same_provider)
        .map(|s| &s.local_start[11..])
        .collect();
    // Maya works 09:00–11:00 and Bo holds 09:00.
    assert_eq!(maya, ["09:30", "09:45", "10:00", "10:15", "10:30"]);
    assert!(slots[..5]
        .iter()
        .all(|s| s.provider_id == i.maya.to_string()));
    assert!(slots[5..]
        .iter()
        .all(|s| s.provider_id == i.raj.to_string()));
    assert_eq!(slots[5].local_start, "2027-03-01 09:00");
    assert_eq!(slots[0].label, "Mon 2027-03-01 09:30–10:00 with Maya Singh");
}

#[test]
fn rebooking_books_the_slot_and_resolves_in_one_step() {
    let i = inbox();
    let v =
        i.w.app
            .rebook_sync_conflict(
                &i.desk,
                &i.id,
                &i.raj.to_string(),
                "2027-03-01 09:00",
                Some("called Jane"),
            )
            .unwrap();
    assert_eq!(v.resolution.as_deref(), Some("rebooked"));
    assert_eq!(v.note.as_deref(), Some("called Jane"));
    assert_eq!(v.resolved_by.as_deref(), Some("desk"));
    let new = v.rebooked_id.unwrap();
    assert_eq!(
        count(
            &i.w,
            &format!(
                "SELECT count(*) FROM appointments WHERE id = '{new}' AND patient_id = '{}' AND status NOT IN ('cancelled', 'rescheduled') AND end_at - start_at = 1800000",
                i.jane.id
            )
        ),
        1
    );
    // It leaves the open list and stays in the history.
    assert!(i
        .w
        .app
        .list_sync_conflicts(&i.desk, false)
        .unwrap()
        .is_empty());
    assert_eq!(i.w.app.list_sync_conflicts(&i.desk, true).unwrap().len(), 1);
    // Resolved: every action is refused and nothing changes.
    let before = i.w.fingerprint();
    for e in [
        i.w.app
            .rebook_sync_conflict(&i.desk, &i.id, &i.raj.to_string(), "2027-03-01 10:00", None)
            .unwrap_err(),
        i.w.app
            .waitlist_sync_conflict(&i.desk, &i.id, None)
            .unwrap_err(),
        i.w.app.suggest_rebook_slots(&i.desk, &i.id).unwrap_err(),
    ] {
        assert!(
            matches!(&e, ApiError::Conflict(m) if m.contains("already resolved")),
            "{e:?}"
        );
    }
    assert_eq!(i.w.fingerprint(), before);
}

#[test]
fn a_slot_no_longer_free_is_refused_and_nothing_changes() {
    let i = inbox();
    let before = i.w.fingerprint();
    // Bo holds Maya's 09:00.
    let e =
        i.w.app
            .rebook_sync_conflict(
                &i.desk,
                &i.id,
                &i.maya.to_string(),
                "2027-03-01 09:00",
                None,
            )
            .unwrap_err();
    assert!(
        matches!(e, ApiError::Conflict(_) | ApiError::Invalid(_)),
        "{e:?}"
    );
    assert_eq!(i.w.fingerprint(), before);
    assert_eq!(
        i.w.app.list_sync_conflicts(&i.desk, false).unwrap().len(),
        1
    );
}

#[test]
fn waitlisting_adds_an_entry_and_resolves() {
    let i = inbox();
    let v =
        i.w.app
            .waitlist_sync_conflict(&i.desk, &i.id, None)
            .unwrap();
    assert_eq!(v.resolution.as_deref(), Some("waitlisted"));
    assert_eq!(
        count(
            &i.w,
            &format!(
                "SELECT count(*) FROM waitlist WHERE patient_id = '{}' AND duration_minutes = 30 AND earliest_date = '2027-03-01' AND status = 'waiting'",
                i.jane.id
            )
        ),
        1
    );
}

#[test]
fn unknown_ids_and_callers_without_the_right_are_refused() {
    let i = inbox();
    // A viewer here, and a manager of the other clinic, may not.
    let viewer = i.w.user_with("viewer", Role::Viewer, i.w.clinic_a);
    let other: ClinicId = i.w.clinic_b;
    let away = i.w.user_with("away", Role::Manager, other);
    let before = i.w.fingerprint();
    let unknown = "00000000-0000-4000-8000-000000000001".to_string();
    assert!(matches!(
        i.w.app.suggest_rebook_slots(&i.desk, &unknown),
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        i.w.app.waitlist_sync_conflict(&i.desk, "not-an-id", None),
        Err(ApiError::Invalid(_))
    ));
    assert!(matches!(
        i.w.app.rebook_sync_conflict(
            &i.desk,
            &unknown,
            &i.raj.to_string(),
            "2027-03-01 09:00",
            None
        ),
        Err(ApiError::NotFound(_))
    ));
    for s in [&viewer, &away] {
        assert!(matches!(
            i.w.app.suggest_rebook_slots(s, &i.id),
            Err(ApiError::Denied(_))
        ));
        assert!(matches!(
            i.w.app.waitlist_sync_conflict(s, &i.id, None),
            Err(ApiError::Denied(_))
        ));
        assert!(matches!(
            i.w.app
                .rebook_sync_conflict(s, &i.id, &i.raj.to_string(), "2027-03-01 09:00", None),
            Err(ApiError::Denied(_))
        ));
        assert!(matches!(
            i.w.app
                .resolve_sync_conflict(s, &i.id, &ConflictResolution::Dismissed, Some("x")),
            Err(ApiError::Denied(_))
        ));
    }
    assert!(i.w.app.list_sync_conflicts(&away, true).unwrap().is_empty());
    assert_eq!(i.w.fingerprint(), before);
    assert_eq!(
        i.w.app.list_sync_conflicts(&i.desk, false).unwrap().len(),
        1
    );
}
