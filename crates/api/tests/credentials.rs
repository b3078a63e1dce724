//! The credential lifecycle, the evaluator and the manager's view on a real encrypted database.
//!
//! The store's clock is the real one, so dates are chosen relative to each clinic's local
//! today as the test computes it.

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use clinicdesk_api::{ApiError, CredentialFilter, Fields, LapseKind, Session};
use clinicdesk_domain::{
    ClinicId, CredentialAlertId, CredentialId, CredentialStatus, CredentialTypeId, Role, ShiftId,
    StaffId, StaffScheduleId, VerificationStatus,
};
use clinicdesk_store::tables::{credential_types::CredentialType, patients::Patient};
use common::*;

const EDMONTON: &str = "America/Edmonton";

fn today_in(tz: &str) -> NaiveDate {
    Utc::now()
        .with_timezone(&tz.parse::<Tz>().unwrap())
        .date_naive()
}

fn plus(d: NaiveDate, days: i64) -> String {
    (d + Duration::days(days)).to_string()
}

fn count(w: &World, sql: &str) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

fn sql(w: &World, statement: &str) {
    w.app
        .store()
        .write(
            Some(&w.admin.user_id.to_string()),
            |tx| -> clinicdesk_store::Result<()> {
                tx.execute_batch(statement)?;
                Ok(())
            },
        )
        .unwrap();
}

fn status(w: &World, c: CredentialId) -> CredentialStatus {
    w.app.get_credential(&w.admin, c).unwrap().status
}

fn staff(w: &World, clinic: ClinicId, first: &str, discipline: Option<&str>) -> StaffId {
    let mut f = Fields::new()
        .with("first_name", first)
        .with("last_name", "Tester");
    if let Some(d) = discipline {
        f.set("discipline", d);
    }
    w.app.create_staff(&w.admin, clinic, &f).unwrap().id
}

fn ctype(w: &World, code: &str, extra: &[(&str, &str)]) -> CredentialType {
    let mut f = Fields::new()
        .with("name", format!("{code} licence"))
        .with("code", code);
    for (k, v) in extra {
        f.set(k, *v);
    }
    w.app.create_credential_type(&w.admin, &f).unwrap()
}

fn credential(w: &World, st: StaffId, t: &CredentialType, expiry: &str) -> CredentialId {
    w.app
        .create_credential(
            &w.admin,
            st,
            &Fields::new()
                .with("credential_type_id", t.id.to_string())
                .with("expiry_date", expiry),
        )
        .unwrap()
        .id
}

fn shift_template(w: &World, clinic: ClinicId) -> ShiftId {
    w.app
        .create_shift_template(
            &w.admin,
            clinic,
            &Fields::new()
                .with("name", "Day")
                .with("shift_type", "full_day")
                .with("start_time", "08:00")
                .with("end_time", "17:00"),
        )
        .unwrap()
        .id
}

/// A scheduled 08:00–17:00 assignment on `date` (written directly: the roster API belongs to
/// the staffing module).
fn assign(
    w: &World,
    clinic: ClinicId,
    st: StaffId,
    shift: ShiftId,
    tz: &str,
    date: NaiveDate,
) -> StaffScheduleId {
    let tz: Tz = tz.parse().unwrap();
    let start = tz
        .from_local_datetime(&date.and_hms_opt(8, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp_millis();
    let id = StaffScheduleId::new();
    sql(
        w,
        &format!(
            "INSERT INTO ops_staff_schedules (id, clinic_id, staff_id, shift_id, schedule_date, start_at, end_at, status, created_at, updated_at)
             VALUES ('{id}', '{clinic}', '{st}', '{shift}', '{date}', {start}, {}, 'scheduled', {start}, {start})",
            start + 9 * 3_600_000
        ),
    );
    id
}

fn patient(w: &World, clinic: ClinicId) -> Patient {
    w.app
        .create_patient(
            &w.admin,
            clinic,
            &Fields::new()
                .with("first_name", "Ann")
                .with("last_name", "Lee"),
        )
        .unwrap()
}

fn book(w: &World, s: &Session, clinic: ClinicId, p: &Patient, st: StaffId, start: &str) {
    w.app
        .book_appointment(
            s,
            clinic,
            &Fields::new()
                .with("patient_id", p.id.to_string())
                .with("provider_id", st.to_string())
                .with("start", start)
                .with("duration_minutes", "30")
                .with("override_reason", "test booking past the expiry"),
        )
        .unwrap();
}

fn all() -> CredentialFilter {
    CredentialFilter::default()
}

fn open_alerts(w: &World) -> Vec<clinicdesk_api::CredentialAlertView> {
    w.app
        .list_credential_alerts(&w.admin, &all(), false)
        .unwrap()
}

/// A zone whose local date differs from UTC's right now (UTC+14 or UTC−11: one of them always
/// does).
fn zone_off_utc() -> &'static str {
    let utc = Utc::now().date_naive();
    ["Pacific/Kiritimati", "Pacific/Pago_Pago"]
        .into_iter()
        .find(|z| today_in(z) != utc)
        .unwrap()
}

#[test]
fn evaluator_uses_the_clinics_local_date_and_a_second_run_changes_nothing() {
    let w = world();
    let zone = zone_off_utc();
    let island = w
        .app
        .create_clinic(
            &w.admin,
            &Fields::new()
                .with("name", "Island")
                .with("code", "ISL")
                .with("timezone", zone),
        )
        .unwrap()
        .id;
    let today = today_in(zone);
    assert_ne!(
        today,
        Utc::now().date_naive(),
        "the test needs a date off UTC's"
    );
    let st = staff(&w, island, "Kai", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[("required_for_disciplines", "physiotherapy")]);
    let cpr = ctype(&w, "CPR", &[]);
    let aid = ctype(&w, "AID", &[]);
    let kin = ctype(&w, "KIN", &[]);
    let today_c = credential(&w, st, &pt, &today.to_string());
    let yesterday_c = credential(&w, st, &cpr, &plus(today, -1));
    let soon_c = credential(&w, st, &aid, &plus(today, 20));
    // An old registration superseded by a new one: it expires, but raises no alert.
    let old_c = credential(&w, st, &kin, &plus(today, -30));
    let new_c = credential(&w, st, &kin, &plus(today, 400));

    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!(r.credentials_checked, 5);
    assert_eq!((r.expired, r.kpi_events), (2, 2), "{r:?}");
    // Expiring today (local) is still valid today; expired yesterday (local) is expired.
    assert_eq!(status(&w, today_c), CredentialStatus::Active);
    assert_eq!(status(&w, yesterday_c), CredentialStatus::Expired);
    assert_eq!(status(&w, soon_c), CredentialStatus::Active);
    assert_eq!(status(&w, old_c), CredentialStatus::Expired);
    assert_eq!(status(&w, new_c), CredentialStatus::Active);
    // One alert each, at the smallest threshold reached (0 for today and yesterday, 30 for
    // 20 days ahead — not 90 and 60 as well); none for the superseded or the far one.
    assert_eq!(r.alerts_raised, 3, "{r:?}");
    let mut alerts: Vec<(CredentialId, i64, String)> = open_alerts(&w)
        .into_iter()
        .map(|a| {
            assert_eq!(a.alert.alert_date, today);
            (
                a.alert.credential_id,
                a.alert.threshold_days,
                a.alert.message,
            )
        })
        .collect();
    alerts.sort_by_key(|a| a.1);
    assert_eq!(alerts.len(), 3);
    let of = |c: CredentialId| alerts.iter().find(|a| a.0 == c).unwrap();
    assert_eq!(of(today_c).1, 0);
    assert!(of(today_c).2.contains("expires today"), "{alerts:?}");
    assert_eq!(of(yesterday_c).1, 0);
    assert!(of(yesterday_c).2.contains("expired on"), "{alerts:?}");
    assert_eq!(of(soon_c).1, 30);
    assert!(of(soon_c).2.contains("in 20 days"), "{alerts:?}");

    // The second run (and housekeeping) changes nothing at all.
    let before = w.fingerprint();
    let again = w.app.evaluate_credentials().unwrap();
    assert_eq!(
        (
            again.expired,
            again.alerts_raised,
            again.kpi_events,
            again.coverage_needs_raised
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(before, w.fingerprint());
    // Housekeeping runs the evaluator too (it also takes capacity snapshots).
    let hk = w.app.run_housekeeping().unwrap();
    assert_eq!(hk.credentials.credentials_checked, 5);
    assert_eq!(
        (hk.credentials.alerts_raised, hk.credentials.expired),
        (0, 0)
    );
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM ops_kpi_events WHERE event_type = 'credential_expired'"
        ),
        2
    );
    // The KPI event is dated on the clinic's local date and names the credential.
    let date: String = w
        .app
        .store()
        .read(|c| -> clinicdesk_store::Result<String> {
            Ok(c.query_row(
                "SELECT event_date FROM ops_kpi_events WHERE event_type = 'credential_expired' AND related_entity_id = ?1",
                [yesterday_c.to_string()],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(date, today.to_string());
    // Marked pending renewal by hand and expired again: still one event for that expiry date.
    w.app
        .update_credential(
            &w.admin,
            yesterday_c,
            &Fields::new().with("status", "pending_renewal"),
        )
        .unwrap();
    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!((r.expired, r.kpi_events), (1, 0));
}

#[test]
fn a_suspension_suspends_during_its_period_and_lifts_after_it() {
    let w = world();
    let c = w.clinic_a;
    let today = today_in(EDMONTON);
    let st = staff(&w, c, "Maya", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[("required_for_disciplines", "physiotherapy")]);
    let lic = credential(&w, st, &pt, &plus(today, 400));

    let r = w
        .app
        .record_adverse_action(
            &w.admin,
            lic,
            &Fields::new()
                .with("action_type", "suspension")
                .with("reason", "complaint under investigation")
                .with("authority", "College of Physiotherapists")
                .with("start_date", plus(today, -2))
                .with("end_date", plus(today, 3)),
        )
        .unwrap();
    assert_eq!(r.credential.status, CredentialStatus::Suspended);
    assert_eq!(r.action.reported_by, Some(w.admin.user_id));
    // Evaluating again keeps it suspended and changes nothing.
    let before = w.fingerprint();
    let e = w.app.evaluate_credentials().unwrap();
    assert_eq!((e.suspended, e.reinstated), (0, 0));
    assert_eq!(before, w.fingerprint());
    // The suspension shows as a lapse with its period.
    let shift = shift_template(&w, c);
    assign(&w, c, st, shift, EDMONTON, today + Duration::days(1));
    assign(&w, c, st, shift, EDMONTON, today + Duration::days(10));
    let risk = w.app.credentials_at_risk(&w.admin, &all()).unwrap();
    assert_eq!(risk.len(), 1);
    assert_eq!(risk[0].lapses.len(), 1);
    assert_eq!(risk[0].lapses[0].kind, LapseKind::Suspended);
    assert_eq!(risk[0].lapses[0].until, Some(today + Duration::days(3)));
    assert_eq!(
        risk[0].shifts.len(),
        1,
        "only the shift inside the suspension"
    );
    assert!(risk[0].shifts[0].reason.contains("suspended from"));

    // Time passes: the suspension ended yesterday → active again (once).
    sql(
        &w,
        &format!(
            "UPDATE ops_adverse_actions SET end_date = '{}' WHERE credential_id = '{lic}'",
            plus(today, -1)
        ),
    );
    let e = w.app.evaluate_credentials().unwrap();
    assert_eq!(e.reinstated, 1);
    assert_eq!(status(&w, lic), CredentialStatus::Active);
    assert_eq!(w.app.evaluate_credentials().unwrap().reinstated, 0);

    // A suspension that starts later leaves it active for now.
    let later = w
        .app
        .record_adverse_action(
            &w.admin,
            lic,
            &Fields::new()
                .with("action_type", "suspension")
                .with("reason", "unpaid dues")
                .with("start_date", plus(today, 30)),
        )
        .unwrap();
    assert_eq!(later.credential.status, CredentialStatus::Active);
    // Probation does not change the status.
    let prob = w
        .app
        .record_adverse_action(
            &w.admin,
            lic,
            &Fields::new()
                .with("action_type", "probation")
                .with("reason", "supervised practice")
                .with("start_date", today.to_string()),
        )
        .unwrap();
    assert_eq!(prob.credential.status, CredentialStatus::Active);

    // A revocation is final: revoked at once, no renewal, no further actions.
    let rev = w
        .app
        .record_adverse_action(
            &w.admin,
            lic,
            &Fields::new()
                .with("action_type", "revocation")
                .with("reason", "struck off")
                .with("start_date", today.to_string()),
        )
        .unwrap();
    assert_eq!(rev.credential.status, CredentialStatus::Revoked);
    let before = w.fingerprint();
    let e = w
        .app
        .renew_credential(
            &w.admin,
            lic,
            &Fields::new().with("expiry_date", plus(today, 800)),
        )
        .unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    let e = w
        .app
        .record_adverse_action(
            &w.admin,
            lic,
            &Fields::new()
                .with("action_type", "suspension")
                .with("reason", "again")
                .with("start_date", today.to_string()),
        )
        .unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    assert_eq!(before, w.fingerprint());
    let h = w.app.credential_history(&w.admin, lic).unwrap();
    assert_eq!(h.adverse_actions.len(), 4);
}

#[test]
fn renewal_records_its_kpi_event_and_retires_the_old_alerts() {
    let w = world();
    let c = w.clinic_a;
    let today = today_in(EDMONTON);
    let st = staff(&w, c, "Maya", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[("required_for_disciplines", "physiotherapy")]);
    let lic = credential(&w, st, &pt, &plus(today, -3));
    w.app.evaluate_credentials().unwrap();
    assert_eq!(status(&w, lic), CredentialStatus::Expired);
    assert_eq!(open_alerts(&w).len(), 1);

    // Bad renewals change nothing.
    let before = w.fingerprint();
    for (f, needle) in [
        (Fields::new(), "expiry_date: is required"),
        (
            Fields::new().with("expiry_date", plus(today, -10)),
            "must be after the current expiry date",
        ),
        (
            Fields::new().with("expiry_date", plus(today, -1)),
            "has already passed",
        ),
        (
            Fields::new()
                .with("expiry_date", plus(today, 365))
                .with("issue_date", plus(today, 400)),
            "issue_date: must not be after the new expiry date",
        ),
        (
            Fields::new().with("expiry_date", "next year"),
            "expiry_date",
        ),
        (
            Fields::new()
                .with("expiry_date", plus(today, 365))
                .with("colour", "red"),
            "unknown field colour",
        ),
    ] {
        let e = w.app.renew_credential(&w.admin, lic, &f).unwrap_err();
        assert!(e.to_string().contains(needle), "{e} / {needle}");
        assert_eq!(e.code(), "invalid_input");
    }
    assert_eq!(before, w.fingerprint());

    let renewed = w
        .app
        .renew_credential(
            &w.admin,
            lic,
            &Fields::new()
                .with("expiry_date", plus(today, 365))
                .with("issue_date", today.to_string())
                .with("credential_number", "PT-2"),
        )
        .unwrap();
    assert_eq!(renewed.status, CredentialStatus::Active);
    assert_eq!(renewed.credential_number.as_deref(), Some("PT-2"));
    assert!(renewed.renewed_at.is_some());
    let (kind, dims, by): (String, String, String) = w
        .app
        .store()
        .read(|c| -> clinicdesk_store::Result<_> {
            Ok(c.query_row(
                "SELECT event_type, dimensions, triggered_by FROM ops_kpi_events WHERE event_type = 'credential_renewed'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .unwrap();
    assert_eq!(kind, "credential_renewed");
    assert!(dims.contains(&plus(today, 365)) && dims.contains(&plus(today, -3)));
    assert_eq!(by, w.admin.user_id.to_string());
    // The KPI event was written by the renewal's transaction (same clock reading).
    assert_eq!(
        count(
            &w,
            &format!(
                "SELECT event_timestamp FROM ops_kpi_events WHERE event_type = 'credential_renewed' AND related_entity_id = '{lic}'"
            )
        ),
        renewed.renewed_at.unwrap()
    );
    // The old expiry's alert is closed by the renewal; nothing new is raised or expired.
    assert!(open_alerts(&w).is_empty());
    let all_alerts = w
        .app
        .list_credential_alerts(&w.admin, &all(), true)
        .unwrap();
    assert_eq!(all_alerts.len(), 1);
    assert!(!all_alerts[0].current && all_alerts[0].alert.acknowledged_at.is_some());
    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!((r.expired, r.alerts_raised, r.kpi_events), (0, 0, 0));
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM ops_kpi_events WHERE event_type = 'credential_renewed'"
        ),
        1
    );
}

#[test]
fn verification_moves_the_verification_status() {
    let w = world();
    let today = today_in(EDMONTON);
    let st = staff(&w, w.clinic_a, "Maya", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[]);
    let lic = credential(&w, st, &pt, &plus(today, 100));
    let r = w
        .app
        .record_credential_verification(
            &w.admin,
            lic,
            &Fields::new()
                .with("method", "pending")
                .with("result", "verified"),
        )
        .unwrap_err();
    assert!(r
        .to_string()
        .contains("method: 'pending' is not a valid verification method"));
    let p = w
        .app
        .record_credential_verification(
            &w.admin,
            lic,
            &Fields::new()
                .with("method", "online_lookup")
                .with("result", "pending"),
        )
        .unwrap();
    assert_eq!(
        p.credential.verification_status,
        VerificationStatus::Pending
    );
    assert_eq!(p.credential.verified_at, None);
    let v = w
        .app
        .record_credential_verification(
            &w.admin,
            lic,
            &Fields::new()
                .with("method", "primary_source")
                .with("result", "verified")
                .with("reference", "register #4411"),
        )
        .unwrap();
    assert_eq!(
        v.credential.verification_status,
        VerificationStatus::Verified
    );
    assert_eq!(v.credential.verified_by, Some(w.admin.user_id));
    assert!(v.credential.verified_at.is_some());
    assert_eq!(v.verification.reference.as_deref(), Some("register #4411"));
    // Verified again: allowed (a re-check), status stays verified.
    let again = w
        .app
        .record_credential_verification(
            &w.admin,
            lic,
            &Fields::new()
                .with("method", "document")
                .with("result", "verified"),
        )
        .unwrap();
    assert_eq!(
        again.credential.verification_status,
        VerificationStatus::Verified
    );
    assert_eq!(
        w.app
            .credential_history(&w.admin, lic)
            .unwrap()
            .verifications
            .len(),
        3
    );
}

#[test]
fn at_risk_lists_shifts_and_appointments_and_raises_one_coverage_need() {
    let w = world();
    let c = w.clinic_a;
    let today = today_in(EDMONTON);
    let maya = staff(&w, c, "Maya", Some("physiotherapy"));
    let ben = staff(&w, c, "Ben", Some("massage_therapy"));
    let pt = ctype(&w, "PT", &[("required_for_disciplines", "physiotherapy")]);
    let cpr = ctype(&w, "CPR", &[("is_required_for_clinical", "yes")]);
    let lic = credential(&w, maya, &pt, &plus(today, 10));
    credential(&w, maya, &cpr, &plus(today, 700));
    // Ben holds no CPR at all: every shift of his is at risk.
    let shift = shift_template(&w, c);
    let before_expiry = assign(&w, c, maya, shift, EDMONTON, today + Duration::days(5));
    let on_expiry = assign(&w, c, maya, shift, EDMONTON, today + Duration::days(10));
    let after_expiry = assign(&w, c, maya, shift, EDMONTON, today + Duration::days(20));
    let bens = assign(&w, c, ben, shift, EDMONTON, today + Duration::days(2));
    assign(&w, c, ben, shift, EDMONTON, today + Duration::days(3));
    let p = patient(&w, c);
    let manager = w.user_with("boss", Role::Manager, c);
    book(
        &w,
        &manager,
        c,
        &p,
        maya,
        &format!("{} 10:00", plus(today, 5)),
    );
    book(
        &w,
        &manager,
        c,
        &p,
        maya,
        &format!("{} 11:00", plus(today, 20)),
    );

    let d = w.app.credential_dashboard(&manager, &all()).unwrap();
    assert_eq!(d.expiries.expiring.len(), 1);
    assert_eq!(d.expiries.expiring[0].credential_id, lic);
    assert_eq!(d.expiries.expiring[0].window_days, Some(30));
    assert_eq!(d.expiries.counts.within_7, 0);
    assert_eq!(d.expiries.counts.within_30, 1);
    assert_eq!(d.expiries.counts.within_90, 1);
    assert_eq!(d.at_risk.len(), 2, "{:#?}", d.at_risk);
    let m = d.at_risk.iter().find(|r| r.staff_id == maya).unwrap();
    assert_eq!(m.lapses.len(), 1);
    assert_eq!(m.lapses[0].kind, LapseKind::Expires);
    assert_eq!(m.lapses[0].from, today + Duration::days(11));
    let shifts: Vec<StaffScheduleId> = m.shifts.iter().map(|s| s.schedule_id).collect();
    assert_eq!(
        shifts,
        vec![after_expiry],
        "the expiry day itself is still valid"
    );
    assert!(!shifts.contains(&before_expiry) && !shifts.contains(&on_expiry));
    assert_eq!(m.appointments.len(), 1);
    assert!(m.appointments[0].local_start.ends_with("11:00"));
    assert!(m.appointments[0].reason.contains("expires on"));
    let b = d.at_risk.iter().find(|r| r.staff_id == ben).unwrap();
    assert_eq!(b.lapses[0].kind, LapseKind::Missing);
    assert_eq!(b.lapses[0].reason, "no CPR licence on file");
    assert_eq!(b.shifts[0].schedule_id, bens);

    // Filters: by type, by staff member, by clinic, a window of 7 days, a short horizon.
    let by_type = w
        .app
        .credentials_at_risk(
            &manager,
            &CredentialFilter {
                credential_type_id: Some(pt.id),
                ..all()
            },
        )
        .unwrap();
    assert_eq!(by_type.len(), 1);
    assert_eq!(by_type[0].staff_id, maya);
    let by_staff = w
        .app
        .credential_dashboard(
            &manager,
            &CredentialFilter {
                staff_id: Some(ben),
                ..all()
            },
        )
        .unwrap();
    assert!(by_staff.expiries.expiring.is_empty());
    assert_eq!(by_staff.at_risk.len(), 1);
    let other_clinic = w
        .app
        .credential_dashboard(
            &w.admin,
            &CredentialFilter {
                clinic_id: Some(w.clinic_b),
                ..all()
            },
        )
        .unwrap();
    assert!(other_clinic.at_risk.is_empty() && other_clinic.expiries.expiring.is_empty());
    let week = w
        .app
        .credential_expiries(
            &manager,
            &CredentialFilter {
                within_days: Some(7),
                ..all()
            },
        )
        .unwrap();
    assert!(week.expiring.is_empty());
    let short = w
        .app
        .credentials_at_risk(
            &manager,
            &CredentialFilter {
                horizon_days: Some(15),
                ..all()
            },
        )
        .unwrap();
    // Maya's lapse starts inside 15 days, but her work after it is further away.
    assert_eq!(short.len(), 1);
    assert_eq!(short[0].staff_id, ben);
    let capped = w
        .app
        .credentials_at_risk(
            &manager,
            &CredentialFilter {
                limit: Some(1),
                staff_id: Some(ben),
                ..all()
            },
        )
        .unwrap();
    assert_eq!(capped[0].shifts.len(), 1);
    assert!(capped[0].more_shifts);
    let uncapped = w
        .app
        .credentials_at_risk(
            &manager,
            &CredentialFilter {
                staff_id: Some(ben),
                ..all()
            },
        )
        .unwrap();
    assert_eq!(uncapped[0].shifts.len(), 2);
    assert!(!uncapped[0].more_shifts);

    // The evaluator raises one coverage need per at-risk shift, once.
    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!((r.shifts_at_risk, r.coverage_needs_raised), (3, 3), "{r:?}");
    let needs = "SELECT count(*) FROM ops_shift_coverage_needs WHERE reason = 'credential_lapse' AND status = 'open'";
    assert_eq!(count(&w, needs), 3);
    let before = w.fingerprint();
    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!((r.shifts_at_risk, r.coverage_needs_raised), (3, 0));
    assert_eq!(before, w.fingerprint());
    assert_eq!(
        count(
            &w,
            &format!(
                "SELECT count(*) FROM ops_shift_coverage_needs WHERE schedule_id = '{after_expiry}' AND original_staff_id = '{maya}'"
            )
        ),
        1
    );
    let d = w.app.credential_dashboard(&manager, &all()).unwrap();
    let m = d.at_risk.iter().find(|r| r.staff_id == maya).unwrap();
    assert!(m.shifts[0].coverage_need_id.is_some());

    // Renewed: Maya is no longer at risk and her need is cancelled in the same transaction.
    w.app
        .renew_credential(
            &manager,
            lic,
            &Fields::new().with("expiry_date", plus(today, 375)),
        )
        .unwrap();
    assert_eq!(count(&w, needs), 2);
    assert_eq!(
        count(
            &w,
            &format!(
                "SELECT count(*) FROM ops_shift_coverage_needs WHERE schedule_id = '{after_expiry}' AND status = 'cancelled'"
            )
        ),
        1
    );
    let d = w.app.credential_dashboard(&manager, &all()).unwrap();
    assert_eq!(d.at_risk.len(), 1);
    assert_eq!(d.at_risk[0].staff_id, ben);
    let r = w.app.evaluate_credentials().unwrap();
    assert_eq!(
        (r.coverage_needs_raised, r.coverage_needs_cancelled),
        (0, 0)
    );
}

#[test]
fn alerts_are_acknowledged_once() {
    let w = world();
    let today = today_in(EDMONTON);
    let st = staff(&w, w.clinic_a, "Maya", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[("alert_thresholds_days", "14, 3")]);
    credential(&w, st, &pt, &plus(today, 10));
    w.app.evaluate_credentials().unwrap();
    let alerts = open_alerts(&w);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert.threshold_days, 14);
    let manager = w.user_with("boss", Role::Manager, w.clinic_a);
    let a = w
        .app
        .acknowledge_credential_alert(&manager, alerts[0].alert.id)
        .unwrap();
    assert!(a.acknowledged_at.is_some());
    assert_eq!(a.acknowledged_by, Some(manager.user_id));
    assert!(open_alerts(&w).is_empty());
    let before = w.fingerprint();
    let e = w
        .app
        .acknowledge_credential_alert(&manager, alerts[0].alert.id)
        .unwrap_err();
    assert!(matches!(e, ApiError::Conflict(_)));
    assert!(e.to_string().contains("already acknowledged"), "{e}");
    let e = w
        .app
        .acknowledge_credential_alert(&manager, CredentialAlertId::new())
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert_eq!(before, w.fingerprint());
    // An acknowledged alert is not raised again.
    assert_eq!(w.app.evaluate_credentials().unwrap().alerts_raised, 0);
    assert_eq!(
        w.app
            .list_credential_alerts(&manager, &all(), true)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn only_managers_and_admins_manage_and_review_credentials() {
    let w = world();
    let today = today_in(EDMONTON);
    let st = staff(&w, w.clinic_a, "Maya", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[]);
    let lic = credential(&w, st, &pt, &plus(today, 5));
    w.app.evaluate_credentials().unwrap();
    let alert = open_alerts(&w)[0].alert.id;
    let a = w.clinic_a;
    let refused = [
        w.user_with("desk", Role::FrontDesk, a),
        w.user_with("doc", Role::Clinician, a),
        w.user_with("view", Role::Viewer, a),
        // A manager elsewhere is not a manager here.
        w.user_with("bboss", Role::Manager, w.clinic_b),
    ];
    type Op = fn(&World, &Session, CredentialId, CredentialAlertId) -> Result<(), ApiError>;
    let ops: Vec<(&str, Op)> = vec![
        ("verify", |w, s, c, _| {
            w.app
                .record_credential_verification(
                    s,
                    c,
                    &Fields::new()
                        .with("method", "phone")
                        .with("result", "verified"),
                )
                .map(drop)
        }),
        ("adverse action", |w, s, c, _| {
            w.app
                .record_adverse_action(
                    s,
                    c,
                    &Fields::new()
                        .with("action_type", "probation")
                        .with("reason", "x")
                        .with("start_date", "2020-01-01"),
                )
                .map(drop)
        }),
        ("ack", |w, s, _, al| {
            w.app.acknowledge_credential_alert(s, al).map(drop)
        }),
        ("renew", |w, s, c, _| {
            w.app
                .renew_credential(s, c, &Fields::new().with("expiry_date", "2099-01-01"))
                .map(drop)
        }),
        ("history", |w, s, c, _| {
            w.app.credential_history(s, c).map(drop)
        }),
        ("alerts", |w, s, _, _| {
            let f = CredentialFilter {
                clinic_id: Some(w.clinic_a),
                ..CredentialFilter::default()
            };
            w.app.list_credential_alerts(s, &f, false).map(drop)
        }),
        ("expiries", |w, s, _, _| {
            let f = CredentialFilter {
                clinic_id: Some(w.clinic_a),
                ..CredentialFilter::default()
            };
            w.app.credential_expiries(s, &f).map(drop)
        }),
        ("at risk", |w, s, _, _| {
            let f = CredentialFilter {
                clinic_id: Some(w.clinic_a),
                ..CredentialFilter::default()
            };
            w.app.credentials_at_risk(s, &f).map(drop)
        }),
        ("dashboard", |w, s, _, _| {
            let f = CredentialFilter {
                clinic_id: Some(w.clinic_a),
                ..CredentialFilter::default()
            };
            w.app.credential_dashboard(s, &f).map(drop)
        }),
    ];
    let before = w.fingerprint();
    for s in &refused {
        for (name, op) in &ops {
            let e = op(&w, s, lic, alert).unwrap_err();
            assert_eq!(
                e.code(),
                "permission_denied",
                "{} / {name}: {e}",
                s.username
            );
            assert!(e.to_string().starts_with("you are not allowed to"), "{e}");
        }
    }
    // Across all clinics, roles without the capability anywhere are refused outright; a
    // manager elsewhere sees only their own clinic.
    for s in &refused[..3] {
        let e = w.app.credential_dashboard(s, &all()).unwrap_err();
        assert_eq!(e.code(), "permission_denied");
    }
    let elsewhere = w.app.credential_dashboard(&refused[3], &all()).unwrap();
    assert!(elsewhere.expiries.expiring.is_empty());
    assert_eq!(before, w.fingerprint());
    assert!(w.audit_actions().iter().any(|a| a == "denied"));

    let manager = w.user_with("boss", Role::Manager, a);
    for (name, op) in &ops {
        op(&w, &manager, lic, alert).unwrap_or_else(|e| panic!("manager / {name}: {e}"));
    }
    assert_eq!(status(&w, lic), CredentialStatus::Active);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let w = world();
    let today = today_in(EDMONTON);
    let st = staff(&w, w.clinic_a, "Maya", Some("physiotherapy"));
    let other = staff(&w, w.clinic_b, "Sam", Some("physiotherapy"));
    let pt = ctype(&w, "PT", &[]);
    let lic = credential(&w, st, &pt, &plus(today, 5));
    let before = w.fingerprint();
    let check = |e: ApiError, needle: &str| {
        assert!(e.to_string().contains(needle), "{e} / {needle}");
        assert_eq!(w.fingerprint(), before, "{needle}");
    };
    let verify = |f: Fields| {
        w.app
            .record_credential_verification(&w.admin, lic, &f)
            .unwrap_err()
    };
    check(
        verify(Fields::new().with("result", "verified")),
        "method: is required",
    );
    check(
        verify(
            Fields::new()
                .with("method", "fax")
                .with("result", "verified"),
        ),
        "'fax' is not a valid verification method",
    );
    check(
        verify(Fields::new().with("method", "phone")),
        "result: is required",
    );
    check(
        verify(
            Fields::new()
                .with("method", "phone")
                .with("result", "not_verified"),
        ),
        "result: a verification's result is verified, failed or pending",
    );
    check(
        verify(
            Fields::new()
                .with("method", "phone")
                .with("result", "verified")
                .with("by", "me"),
        ),
        "unknown field by",
    );
    let act = |f: Fields| w.app.record_adverse_action(&w.admin, lic, &f).unwrap_err();
    let base = || {
        Fields::new()
            .with("action_type", "suspension")
            .with("reason", "complaint")
            .with("start_date", "2027-03-01")
    };
    check(
        act(base().with("action_type", "warning")),
        "'warning' is not a valid adverse action type",
    );
    check(act(base().with("reason", "  ")), "reason: is required");
    check(act(base().with("start_date", "March")), "start_date");
    check(
        act(base().with("end_date", "2027-02-01")),
        "end_date: must not be before the start date",
    );
    check(
        act(base()
            .with("action_type", "revocation")
            .with("end_date", "2027-04-01")),
        "a revocation is final",
    );
    check(
        act(base().with("severity", "high")),
        "unknown field severity",
    );
    check(
        w.app
            .record_adverse_action(&w.admin, CredentialId::new(), &base())
            .unwrap_err(),
        "not found",
    );
    check(
        w.app
            .credential_history(&w.admin, CredentialId::new())
            .unwrap_err(),
        "credential",
    );
    let view = |f: CredentialFilter| w.app.credential_dashboard(&w.admin, &f).unwrap_err();
    check(
        view(CredentialFilter {
            within_days: Some(400),
            ..all()
        }),
        "within_days: 400 is out of range",
    );
    check(
        view(CredentialFilter {
            within_days: Some(-1),
            ..all()
        }),
        "within_days",
    );
    check(
        view(CredentialFilter {
            horizon_days: Some(0),
            ..all()
        }),
        "horizon_days",
    );
    check(
        view(CredentialFilter {
            limit: Some(0),
            ..all()
        }),
        "limit: 0 is out of range",
    );
    check(
        view(CredentialFilter {
            credential_type_id: Some(CredentialTypeId::new()),
            ..all()
        }),
        "credential type",
    );
    check(
        view(CredentialFilter {
            staff_id: Some(other),
            clinic_id: Some(w.clinic_a),
            ..all()
        }),
        "belongs to another clinic",
    );
    check(
        view(CredentialFilter {
            clinic_id: Some(ClinicId::new()),
            ..all()
        }),
        "not found",
    );
    check(
        w.app
            .list_credential_alerts(
                &w.admin,
                &CredentialFilter {
                    limit: Some(5000),
                    ..all()
                },
                false,
            )
            .unwrap_err(),
        "limit",
    );
    check(
        w.app
            .credentials_at_risk(
                &w.admin,
                &CredentialFilter {
                    horizon_days: Some(367),
                    ..all()
                },
            )
            .unwrap_err(),
        "horizon_days",
    );
    check(
        w.app
            .credential_expiries(
                &w.admin,
                &CredentialFilter {
                    staff_id: Some(StaffId::new()),
                    ..all()
                },
            )
            .unwrap_err(),
        "staff member",
    );
}

#[test]
fn credential_type_thresholds_are_validated_and_normalised() {
    let w = world();
    let t = ctype(
        &w,
        "PT",
        &[
            ("alert_thresholds_days", "[30, 90, 7, 30, 0]"),
            ("required_for_disciplines", "Physiotherapy, kinesiology"),
            ("renewal_period_months", "24"),
        ],
    );
    assert_eq!(t.alert_thresholds_days, vec![90, 30, 7, 0]);
    assert_eq!(
        t.required_for_disciplines,
        vec!["physiotherapy", "kinesiology"]
    );
    assert_eq!(t.renewal_period_months, Some(24));
    let before = w.fingerprint();
    for (k, v, needle) in [
        ("alert_thresholds_days", "30, -1", "alert_thresholds_days"),
        (
            "alert_thresholds_days",
            "30, soon",
            "'soon' is not a whole number",
        ),
        ("alert_thresholds_days", "9999", "between 0 and 730"),
        ("renewal_period_months", "0", "renewal_period_months"),
        ("is_required_for_clinical", "maybe", "is not yes/no"),
    ] {
        let e = w
            .app
            .update_credential_type(&w.admin, t.id, &Fields::new().with(k, v))
            .unwrap_err();
        assert!(e.to_string().contains(needle), "{e} / {needle}");
    }
    assert_eq!(before, w.fingerprint());
    let t2 = w
        .app
        .update_credential_type(
            &w.admin,
            t.id,
            &Fields::new().with("alert_thresholds_days", "7,7,60"),
        )
        .unwrap();
    assert_eq!(t2.alert_thresholds_days, vec![60, 7]);
}
