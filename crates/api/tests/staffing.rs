//! Shifts and staffing on a real encrypted database: assignments (one and bulk), overlaps and
//! credentials with the manager's override, swaps, time off and coverage needs.

mod common;

use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::{
    CoverageNeedStatus, CoverageReason, Role, ScheduleStatus, ShiftId, StaffId, StaffScheduleId,
};
use common::*;

struct Roster {
    w: World,
    manager: Session,
    desk: Session,
    /// Physiotherapists with a PT licence valid until 2027-12-31.
    ana: StaffId,
    ben: StaffId,
    /// A physiotherapist with no licence on file.
    cal: StaffId,
    day: ShiftId,
    evening: ShiftId,
    night: ShiftId,
}

fn staff(app: &App, a: &Session, c: clinicdesk_domain::ClinicId, first: &str) -> StaffId {
    app.create_staff(
        a,
        c,
        &Fields::new()
            .with("first_name", first)
            .with("last_name", "Physio")
            .with("discipline", "physiotherapy"),
    )
    .unwrap()
    .id
}

fn roster() -> Roster {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let manager = w.user_with("boss", Role::Manager, c);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let pt = app
        .create_credential_type(
            a,
            &Fields::new()
                .with("name", "PT licence")
                .with("code", "PT")
                .with("required_for_disciplines", "physiotherapy"),
        )
        .unwrap();
    let (ana, ben, cal) = (
        staff(app, a, c, "Ana"),
        staff(app, a, c, "Ben"),
        staff(app, a, c, "Cal"),
    );
    for s in [ana, ben] {
        app.create_credential(
            a,
            s,
            &Fields::new()
                .with("credential_type_id", pt.id.to_string())
                .with("expiry_date", "2027-12-31"),
        )
        .unwrap();
    }
    let template = |name: &str, kind: &str, from: &str, to: &str| {
        app.create_shift_template(
            a,
            c,
            &Fields::new()
                .with("name", name)
                .with("shift_type", kind)
                .with("start_time", from)
                .with("end_time", to),
        )
        .unwrap()
        .id
    };
    let day = template("Day", "full_day", "08:00", "16:00");
    let evening = template("Evening", "evening", "14:00", "22:00");
    let night = template("Night", "night", "22:00", "06:00");
    Roster {
        w,
        manager,
        desk,
        ana,
        ben,
        cal,
        day,
        evening,
        night,
    }
}

fn assign(
    r: &Roster,
    who: StaffId,
    shift: ShiftId,
    date: &str,
    extra: &[(&str, &str)],
) -> Result<clinicdesk_store::tables::staff_schedules::StaffSchedule, clinicdesk_api::ApiError> {
    let mut f = Fields::new()
        .with("staff_id", who.to_string())
        .with("shift_id", shift.to_string())
        .with("date", date);
    for (k, v) in extra {
        f.set(k, *v);
    }
    r.w.app.assign_shift(&r.manager, r.w.clinic_a, &f)
}

fn count(w: &World, sql: &str) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

#[test]
fn assignments_refuse_overlaps_and_need_credentials_or_an_override() {
    let r = roster();
    let app = &r.w.app;
    let a = assign(&r, r.ana, r.day, "2027-03-01", &[]).unwrap();
    assert_eq!(a.status, ScheduleStatus::Scheduled);
    assert_eq!(a.end_at - a.start_at, 8 * 3_600_000);
    let before = r.w.fingerprint();
    // Overlap (Day 08–16 and Evening 14–22) is refused, naming the shift, even with an override.
    let e = assign(
        &r,
        r.ana,
        r.evening,
        "2027-03-01",
        &[("override_reason", "busy day")],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("already on the Day shift 2027-03-01 08:00"),
        "{e}"
    );
    // No licence: refused in words, unless a manager overrides with a reason.
    let e = assign(&r, r.cal, r.day, "2027-03-01", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Cal Physio has no PT licence on file") && e.contains("override"),
        "{e}"
    );
    // Licence expired by then.
    let e = assign(&r, r.ben, r.day, "2028-01-03", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expires on 2027-12-31, before this shift on 2028-01-03"),
        "{e}"
    );
    // Bad input and the front desk (no staffing rights) change nothing.
    for (f, want) in [
        (
            Fields::new()
                .with("shift_id", r.day.to_string())
                .with("date", "2027-03-02"),
            "staff_id",
        ),
        (
            Fields::new()
                .with("staff_id", r.ana.to_string())
                .with("shift_id", r.day.to_string())
                .with("date", "2027-02-30"),
            "date",
        ),
        (
            Fields::new()
                .with("staff_id", "nobody")
                .with("shift_id", r.day.to_string())
                .with("date", "2027-03-02"),
            "staff_id",
        ),
        (
            Fields::new()
                .with("staff_id", r.ana.to_string())
                .with("shift_id", ShiftId::new().to_string())
                .with("date", "2027-03-02"),
            "not found",
        ),
        (
            Fields::new()
                .with("staff_id", r.ana.to_string())
                .with("shift_id", r.day.to_string())
                .with("date", "2027-03-02")
                .with("colour", "red"),
            "colour",
        ),
    ] {
        let e = app
            .assign_shift(&r.manager, r.w.clinic_a, &f)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    let e = app
        .assign_shift(
            &r.desk,
            r.w.clinic_a,
            &Fields::new()
                .with("staff_id", r.ana.to_string())
                .with("shift_id", r.day.to_string())
                .with("date", "2027-03-02"),
        )
        .unwrap_err();
    assert_eq!(e.code(), "permission_denied");
    assert_eq!(before, r.w.fingerprint());
    // The override is kept on the assignment (and so in the audit log).
    let o = assign(
        &r,
        r.cal,
        r.day,
        "2027-03-01",
        &[("override_reason", "licence in the post")],
    )
    .unwrap();
    assert_eq!(o.override_reason.as_deref(), Some("licence in the post"));
    assert_eq!(
        count(&r.w, &format!("SELECT count(*) FROM audit_log WHERE row_id = '{}' AND new_values LIKE '%licence in the post%'", o.id)),
        1
    );
    // A night shift crosses midnight; on the fall-back night (2027-11-06/07) it is 9 hours long.
    let n = assign(&r, r.ben, r.night, "2027-11-06", &[]).unwrap();
    assert_eq!(n.end_at - n.start_at, 9 * 3_600_000);
    // On duty, then ended: each records its KPI event.
    app.set_shift_status(&r.manager, a.id, "start").unwrap();
    app.set_shift_status(&r.manager, a.id, "end").unwrap();
    assert_eq!(count(&r.w, "SELECT count(*) FROM ops_kpi_events WHERE event_type IN ('staff_shift_started','staff_shift_ended')"), 2);
    let e = app
        .set_shift_status(&r.manager, a.id, "start")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot change shift assignment"), "{e}");
    assert!(app
        .set_shift_status(&r.manager, a.id, "dance")
        .unwrap_err()
        .to_string()
        .contains("not an action"));
}

#[test]
fn bulk_assignment_lists_every_conflict_or_skips_them() {
    let r = roster();
    let app = &r.w.app;
    assign(&r, r.ana, r.evening, "2027-03-03", &[]).unwrap();
    let f = || {
        Fields::new()
            .with("staff_id", r.ana.to_string())
            .with("shift_id", r.day.to_string())
            .with("from", "2027-03-01")
            .with("to", "2027-03-14")
            .with("weekdays", "mon,wed,fri")
    };
    let before = r.w.fingerprint();
    let e = app
        .assign_shifts_bulk(&r.manager, r.w.clinic_a, &f())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("1 of 6 dates cannot be assigned — 2027-03-03: Ana Physio is already on the Evening shift"), "{e}");
    for (fields, want) in [
        (f().with("to", "2027-02-01"), "must not be before"),
        (f().with("to", "2029-01-01"), "at most a year"),
        (f().with("weekdays", "mon,funday"), "not a weekday"),
    ] {
        let e = app
            .assign_shifts_bulk(&r.manager, r.w.clinic_a, &fields)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    assert_eq!(before, r.w.fingerprint());
    let b = app
        .assign_shifts_bulk(&r.manager, r.w.clinic_a, &f().with("skip_conflicts", "yes"))
        .unwrap();
    assert_eq!((b.assigned.len(), b.skipped.len()), (5, 1));
    let roster = app
        .list_roster(
            &r.manager,
            r.w.clinic_a,
            "2027-03-01",
            "2027-03-14",
            Some(r.ana),
        )
        .unwrap();
    assert_eq!(roster.len(), 6);
    assert_eq!(roster[0].shift_name, "Day");
}

#[test]
fn swaps_are_rechecked_on_approval() {
    let r = roster();
    let app = &r.w.app;
    let mine = assign(&r, r.ana, r.day, "2027-03-01", &[]).unwrap();
    let theirs = assign(&r, r.ben, r.day, "2027-03-02", &[]).unwrap();
    let req = |target: StaffId, back: Option<StaffScheduleId>| {
        let mut f = Fields::new()
            .with("requester_schedule_id", mine.id.to_string())
            .with("target_staff_id", target.to_string());
        if let Some(b) = back {
            f.set("target_schedule_id", b.to_string());
        }
        app.request_swap(&r.manager, &f)
    };
    // Bad requests change nothing.
    let before = r.w.fingerprint();
    assert!(req(r.ana, None)
        .unwrap_err()
        .to_string()
        .contains("another staff member"));
    assert!(req(r.cal, Some(theirs.id))
        .unwrap_err()
        .to_string()
        .contains("not the target staff member's"));
    assert_eq!(before, r.w.fingerprint());
    // Cal has no licence: approval is refused until a manager overrides.
    let to_cal = req(r.cal, None).unwrap();
    let e = app
        .decide_swap(&r.manager, to_cal.id, true, None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Cal Physio has no PT licence"), "{e}");
    // Ben then takes a conflicting shift: the exchange is refused on approval.
    let swap = req(r.ben, Some(theirs.id)).unwrap();
    let clash = assign(&r, r.ben, r.evening, "2027-03-01", &[]).unwrap();
    let e = app
        .decide_swap(&r.manager, swap.id, true, None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Ben Physio is already on the Evening shift"),
        "{e}"
    );
    app.set_shift_status(&r.manager, clash.id, "cancel")
        .unwrap();
    let done = app
        .decide_swap(&r.manager, swap.id, true, Some("ok"), None)
        .unwrap();
    assert_eq!(done.status.as_str(), "approved");
    let after = app
        .list_roster(&r.manager, r.w.clinic_a, "2027-03-01", "2027-03-02", None)
        .unwrap();
    let holder = |id: StaffScheduleId| {
        after
            .iter()
            .find(|e| e.schedule.id == id)
            .unwrap()
            .schedule
            .staff_id
    };
    assert_eq!((holder(mine.id), holder(theirs.id)), (r.ben, r.ana));
    assert!(app
        .decide_swap(&r.manager, swap.id, false, None, None)
        .unwrap_err()
        .to_string()
        .contains("cannot change shift swap"));
    // Rejecting the other one; the front desk may not decide.
    assert_eq!(
        app.decide_swap(&r.desk, to_cal.id, false, None, None)
            .unwrap_err()
            .code(),
        "permission_denied"
    );
    assert_eq!(
        app.decide_swap(&r.manager, to_cal.id, false, None, None)
            .unwrap()
            .status
            .as_str(),
        "rejected"
    );
}

#[test]
fn approved_time_off_releases_shifts_into_coverage_needs_that_can_be_filled() {
    let r = roster();
    let app = &r.w.app;
    let c = r.w.clinic_a;
    let s1 = assign(&r, r.ana, r.day, "2027-03-01", &[]).unwrap();
    let s2 = assign(&r, r.ana, r.day, "2027-03-02", &[]).unwrap();
    let outside = assign(&r, r.ana, r.day, "2027-03-05", &[]).unwrap();
    let f = || {
        Fields::new()
            .with("staff_id", r.ana.to_string())
            .with("start_date", "2027-03-01")
            .with("end_date", "2027-03-03")
            .with("kind", "vacation")
    };
    let before = r.w.fingerprint();
    for (fields, want) in [
        (f().with("end_date", "2027-02-01"), "must not be before"),
        (f().with("kind", "nap"), "not one of"),
        (f().with("start_date", ""), "start_date"),
    ] {
        let e = app
            .request_time_off(&r.manager, c, &fields)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    assert_eq!(before, r.w.fingerprint());
    let req = app.request_time_off(&r.manager, c, &f()).unwrap();
    let d = app
        .decide_time_off(&r.manager, req.id, true, Some("enjoy"))
        .unwrap();
    assert_eq!(d.coverage_needs.len(), 2);
    assert!(d
        .coverage_needs
        .iter()
        .all(|n| n.reason == CoverageReason::TimeOff && n.status == CoverageNeedStatus::Open));
    let status = |id: StaffScheduleId| {
        app.list_roster(&r.manager, c, "2027-03-01", "2027-03-05", None)
            .unwrap()
            .into_iter()
            .find(|e| e.schedule.id == id)
            .unwrap()
            .schedule
            .status
    };
    assert_eq!(
        (status(s1.id), status(s2.id), status(outside.id)),
        (
            ScheduleStatus::Cancelled,
            ScheduleStatus::Cancelled,
            ScheduleStatus::Scheduled
        )
    );
    // Ana cannot be put back on those days.
    let e = assign(&r, r.ana, r.evening, "2027-03-02", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("on approved time off 2027-03-01 – 2027-03-03"),
        "{e}"
    );
    // Fill one need with Ben; Ana (the person replaced) and Cal (no licence) are refused.
    let need = d.coverage_needs[0].id;
    assert!(app
        .fill_coverage_need(&r.manager, need, r.ana, None)
        .unwrap_err()
        .to_string()
        .contains("this need replaces"));
    assert!(app
        .fill_coverage_need(&r.manager, need, r.cal, None)
        .unwrap_err()
        .to_string()
        .contains("no PT licence"));
    let (filled, row) = app
        .fill_coverage_need(&r.manager, need, r.ben, None)
        .unwrap();
    assert_eq!(
        (filled.status, filled.filled_schedule_id),
        (CoverageNeedStatus::Filled, Some(row.id))
    );
    assert_eq!(row.staff_id, r.ben);
    // The other is cancelled with a reason; open needs are listed.
    assert!(app
        .cancel_coverage_need(&r.manager, d.coverage_needs[1].id, " ")
        .is_err());
    app.cancel_coverage_need(&r.manager, d.coverage_needs[1].id, "clinic closed")
        .unwrap();
    assert!(app
        .list_coverage_needs(&r.manager, c, None)
        .unwrap()
        .is_empty());
    assert_eq!(
        app.list_coverage_needs(&r.manager, c, Some("all"))
            .unwrap()
            .len(),
        2
    );
    // A demand need for an extra evening shift.
    let extra = app
        .create_coverage_need(
            &r.manager,
            c,
            &Fields::new()
                .with("shift_id", r.evening.to_string())
                .with("date", "2027-03-04"),
        )
        .unwrap();
    assert_eq!(extra.reason, CoverageReason::Demand);
    // Time off can be withdrawn; a rejected request cannot be approved.
    let other = app
        .request_time_off(
            &r.manager,
            c,
            &f().with("start_date", "2027-04-01")
                .with("end_date", "2027-04-02"),
        )
        .unwrap();
    app.decide_time_off(&r.manager, other.id, false, None)
        .unwrap();
    assert!(app
        .decide_time_off(&r.manager, other.id, true, None)
        .unwrap_err()
        .to_string()
        .contains("cannot change time off request"));
    assert_eq!(
        app.cancel_time_off(&r.manager, req.id)
            .unwrap()
            .status
            .as_str(),
        "cancelled"
    );
}

#[test]
fn staff_see_their_own_requests_and_withdraw_them_while_they_wait() {
    let r = roster();
    let (app, c) = (&r.w.app, r.w.clinic_a);
    // Ana (a clinician) and Ben (front desk) sign in as themselves, linked to their profiles.
    let link = |name: &str, role: Role, staff: StaffId| {
        let s = r.w.user_with(name, role, c);
        app.update_staff(
            &r.w.admin,
            staff,
            &Fields::new().with("user_id", s.user_id.to_string()),
        )
        .unwrap();
        s
    };
    let ana = link("ana", Role::Clinician, r.ana);
    let ben = link("ben", Role::FrontDesk, r.ben);
    let mine = assign(&r, r.ana, r.day, "2027-03-01", &[]).unwrap();
    let theirs = assign(&r, r.ben, r.day, "2027-03-02", &[]).unwrap();
    let swap = app
        .request_swap(
            &ana,
            &Fields::new()
                .with("requester_schedule_id", mine.id.to_string())
                .with("target_staff_id", r.ben.to_string())
                .with("target_schedule_id", theirs.id.to_string())
                .with("reason", "dentist"),
        )
        .unwrap();
    let off = |s: &Session, who: StaffId, from: &str, to: &str| {
        app.request_time_off(
            s,
            c,
            &Fields::new()
                .with("staff_id", who.to_string())
                .with("start_date", from)
                .with("end_date", to),
        )
        .unwrap()
    };
    let pending = off(&ana, r.ana, "2027-04-01", "2027-04-02");
    let approved = off(&ana, r.ana, "2027-05-01", "2027-05-03");
    app.decide_time_off(&r.manager, approved.id, true, None)
        .unwrap();
    let cals = off(&r.manager, r.cal, "2027-04-01", "2027-04-01");

    // Ana sees the swap she asked for, Ben the one he was asked to take; nobody sees Cal's.
    let a = app.my_swaps(&ana, Some(c), None).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].swap.id, swap.id);
    assert!(a[0].is_requester);
    assert_eq!(
        (a[0].requester_name.as_str(), a[0].target_name.as_str()),
        ("Ana Physio", "Ben Physio")
    );
    assert_eq!(a[0].handed_over.schedule.id, mine.id);
    assert_eq!(a[0].handed_over.shift_name, "Day");
    assert_eq!(
        a[0].in_return.as_ref().map(|e| e.schedule.id),
        Some(theirs.id)
    );
    let b = app.my_swaps(&ben, None, None).unwrap();
    assert_eq!(b.len(), 1);
    assert!(!b[0].is_requester);
    let ids = |v: Vec<clinicdesk_store::tables::time_off::TimeOffRequest>| {
        v.into_iter().map(|t| t.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(app.my_time_off(&ana, None, None).unwrap()),
        vec![approved.id, pending.id],
        "every status, latest start first"
    );
    assert_eq!(
        ids(app.my_time_off(&ana, Some(c), Some("requested")).unwrap()),
        vec![pending.id]
    );
    assert!(app.my_time_off(&ben, Some(c), None).unwrap().is_empty());
    assert!(!ids(app.my_time_off(&ana, None, Some("all")).unwrap()).contains(&cals.id));

    // Refusals and bad input change nothing.
    let elsewhere = r.w.user_with("ana_b", Role::Clinician, r.w.clinic_b);
    let before = r.w.fingerprint();
    let code = |e: clinicdesk_api::ApiError| e.code();
    assert_eq!(
        code(app.my_time_off(&ana, None, Some("maybe")).unwrap_err()),
        "invalid_input"
    );
    // Ben may not withdraw Ana's swap nor cancel her time off; Ana may not withdraw approved
    // time off (a manager's decision) nor Cal's request.
    assert_eq!(
        code(app.cancel_swap(&ben, swap.id).unwrap_err()),
        "permission_denied"
    );
    assert_eq!(
        code(app.cancel_time_off(&ben, pending.id).unwrap_err()),
        "permission_denied"
    );
    assert_eq!(
        code(app.cancel_time_off(&ana, approved.id).unwrap_err()),
        "permission_denied"
    );
    assert_eq!(
        code(app.cancel_time_off(&ana, cals.id).unwrap_err()),
        "permission_denied"
    );
    // Unknown ids say so.
    let e = app
        .cancel_swap(&ana, clinicdesk_domain::ShiftSwapId::new())
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert!(e.to_string().contains("shift swap"), "{e}");
    let e = app
        .cancel_time_off(&ana, clinicdesk_domain::TimeOffRequestId::new())
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert!(e.to_string().contains("time off"), "{e}");
    // A user without a staff profile is told so; a role at another clinic sees nothing here.
    let e = app.my_swaps(&r.desk, Some(c), None).unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert_eq!(e.to_string(), clinicdesk_api::NO_STAFF_PROFILE);
    assert_eq!(
        code(app.my_time_off(&r.desk, None, None).unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(app.my_swaps(&elsewhere, Some(c), None).unwrap_err()),
        "permission_denied"
    );
    assert_eq!(before, r.w.fingerprint());

    // Ana withdraws what still waits, once; the transitions refuse a second time.
    let w = app.cancel_swap(&ana, swap.id).unwrap();
    assert_eq!(w.status.as_str(), "cancelled");
    assert_eq!(
        app.cancel_time_off(&ana, pending.id)
            .unwrap()
            .status
            .as_str(),
        "cancelled"
    );
    let e = app.cancel_swap(&ana, swap.id).unwrap_err().to_string();
    assert!(e.contains("cannot change shift swap"), "{e}");
    // Her swap was not exchanged: the assignments stay where they were.
    let roster = app
        .list_roster(&r.manager, c, "2027-03-01", "2027-03-02", None)
        .unwrap();
    assert_eq!(roster[0].schedule.staff_id, r.ana);
    assert_eq!(roster[1].schedule.staff_id, r.ben);
    // A manager may still withdraw approved time off.
    assert_eq!(
        app.cancel_time_off(&r.manager, approved.id)
            .unwrap()
            .status
            .as_str(),
        "cancelled"
    );
    assert_eq!(
        app.my_swaps(&ana, Some(c), Some("cancelled"))
            .unwrap()
            .len(),
        1
    );
}
