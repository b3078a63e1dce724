//! KPIs, goals and capacity on a real encrypted database: aggregates of a known week (exact
//! values per day, week and month), weeks in a non-UTC clinic, goal progress, a capacity
//! snapshot of a known moment with its threshold event, the hourly housekeeping snapshot,
//! events staff record, immutability, permissions and bad input.

mod common;

use chrono::{NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;
use clinicdesk_api::{ApiError, App, Fields, KpiReport, Metric, Session};
use clinicdesk_domain::{
    AppointmentId, CapacityStatus, ClinicId, KpiEventType, PatientId, Role, RoomId, StaffId,
};
use clinicdesk_store::tables::appointments::Appointment;
use common::*;

// Helpers ------------------------------------------------------------------------------------

fn staff(app: &App, a: &Session, c: ClinicId, first: &str, extra: &[(&str, &str)]) -> StaffId {
    let mut f = Fields::new()
        .with("first_name", first)
        .with("last_name", "Test");
    for (k, v) in extra {
        f.set(k, *v);
    }
    app.create_staff(a, c, &f).unwrap().id
}

fn patient(app: &App, a: &Session, c: ClinicId, first: &str) -> PatientId {
    app.create_patient(
        a,
        c,
        &Fields::new()
            .with("first_name", first)
            .with("last_name", "Patient"),
    )
    .unwrap()
    .id
}

fn shift_template(app: &App, a: &Session, c: ClinicId, name: &str, from: &str, to: &str) -> String {
    app.create_shift_template(
        a,
        c,
        &Fields::new()
            .with("name", name)
            .with("shift_type", "full_day")
            .with("start_time", from)
            .with("end_time", to),
    )
    .unwrap()
    .id
    .to_string()
}

fn assign(app: &App, s: &Session, c: ClinicId, who: StaffId, shift: &str, date: &str) {
    app.assign_shift(
        s,
        c,
        &Fields::new()
            .with("staff_id", who.to_string())
            .with("shift_id", shift)
            .with("date", date),
    )
    .unwrap();
}

#[allow(clippy::too_many_arguments)]
fn book(
    app: &App,
    s: &Session,
    c: ClinicId,
    p: PatientId,
    provider: StaffId,
    start: &str,
    minutes: i64,
    room: Option<RoomId>,
) -> Appointment {
    let mut f = Fields::new()
        .with("patient_id", p.to_string())
        .with("provider_id", provider.to_string())
        .with("start", start)
        .with("duration_minutes", minutes.to_string());
    if let Some(r) = room {
        f.set("room_id", r.to_string());
    }
    app.book_appointment(s, c, &f)
        .unwrap_or_else(|e| panic!("booking {start}: {e}"))
}

fn flow(app: &App, s: &Session, id: AppointmentId, actions: &[&str]) {
    for a in actions {
        let reason = (*a == "cancel").then_some("patient called");
        app.set_appointment_status(s, id, a, reason)
            .unwrap_or_else(|e| panic!("{a}: {e}"));
    }
}

fn count(w: &World, sql: &str) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The metric is exactly numerator / denominator.
#[track_caller]
fn rate(m: &Metric, numerator: f64, denominator: f64) {
    assert_eq!(m.numerator, Some(numerator), "numerator of {m:?}");
    assert_eq!(m.denominator, Some(denominator), "denominator of {m:?}");
    let want = (denominator > 0.0).then(|| numerator / denominator);
    assert_eq!(m.value, want, "value of {m:?}");
}

fn local_ms(tz: Tz, s: &str) -> i64 {
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&t).unwrap().timestamp_millis()
}

fn denied(r: Result<impl std::fmt::Debug, ApiError>) {
    match r {
        Err(ApiError::Denied(m)) => assert!(m.contains("not allowed"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[track_caller]
fn invalid<T: std::fmt::Debug>(w: &World, r: Result<T, ApiError>, needle: &str) {
    let before = w.fingerprint();
    match r {
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains(needle), "expected '{needle}' in '{m}'");
        }
        Ok(v) => panic!("expected an error with '{needle}', got {v:?}"),
    }
    assert_eq!(before, w.fingerprint());
}

// A known week at clinic A (America/Edmonton) -------------------------------------------------

struct Week {
    w: World,
    manager: Session,
}

/// The week of Monday 2025-02-03 at clinic A:
/// - physiotherapists Maya (licence valid to 2030), Omar (licence expires 2025-02-05) and Nia
///   (no licence); Rae is not clinical;
/// - Day shifts (08:00–16:00, 480 min): Maya Mon + Tue, Omar Mon, Rae Mon;
/// - Monday: Maya 09:00 30 min completed, 10:00 60 min completed; Omar 09:00 30 min no-show,
///   11:00 30 min cancelled. Tuesday: Maya 09:00 30 min pending; 10:00 30 min moved to 11:00;
/// - Tuesday's waitlist offers (written with known times): five offers, four accepted, filled
///   after 3 h (a declined offer first), 5 h, 1 h and 2 h (a slot freed again after a fill).
fn known_week() -> Week {
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
    let physio = [("discipline", "physiotherapy")];
    let maya = staff(app, a, c, "Maya", &physio);
    let omar = staff(app, a, c, "Omar", &physio);
    let _nia = staff(app, a, c, "Nia", &physio);
    let rae = staff(app, a, c, "Rae", &[("is_clinical", "no")]);
    for (who, expiry) in [(maya, "2030-12-31"), (omar, "2025-02-05")] {
        app.create_credential(
            a,
            who,
            &Fields::new()
                .with("credential_type_id", pt.id.to_string())
                .with("expiry_date", expiry),
        )
        .unwrap();
    }
    let day = shift_template(app, a, c, "Day", "08:00", "16:00");
    for (who, d) in [
        (maya, "2025-02-03"),
        (maya, "2025-02-04"),
        (omar, "2025-02-03"),
        (rae, "2025-02-03"),
    ] {
        assign(app, &manager, c, who, &day, d);
    }
    let p: Vec<PatientId> = (1..=7)
        .map(|i| patient(app, a, c, &format!("P{i}")))
        .collect();
    let a1 = book(app, &desk, c, p[0], maya, "2025-02-03 09:00", 30, None);
    let a2 = book(app, &desk, c, p[1], maya, "2025-02-03 10:00", 60, None);
    let a3 = book(app, &desk, c, p[2], omar, "2025-02-03 09:00", 30, None);
    let a4 = book(app, &desk, c, p[3], omar, "2025-02-03 11:00", 30, None);
    let _a5 = book(app, &desk, c, p[4], maya, "2025-02-04 09:00", 30, None);
    let a6 = book(app, &desk, c, p[5], maya, "2025-02-04 10:00", 30, None);
    flow(app, &desk, a1.id, &["check_in", "start", "complete"]);
    flow(app, &desk, a2.id, &["check_in", "start", "complete"]);
    flow(app, &desk, a3.id, &["no_show"]);
    flow(app, &desk, a4.id, &["cancel"]);
    app.reschedule_appointment(
        &desk,
        a6.id,
        &Fields::new().with("start", "2025-02-04 11:00"),
    )
    .unwrap();

    // Waitlist offers with known times (the flow itself stamps them with the clock).
    let entries: Vec<String> = (0..3)
        .map(|i| {
            app.add_to_waitlist(
                &desk,
                c,
                &Fields::new()
                    .with("patient_id", p[i].to_string())
                    .with("earliest_date", "2025-02-04")
                    .with("latest_date", "2025-02-04")
                    .with("duration_minutes", "30"),
            )
            .unwrap()
            .id
            .to_string()
        })
        .collect();
    let tz: Tz = "America/Edmonton".parse().unwrap();
    let t0 = local_ms(tz, "2025-02-04 08:00");
    let h = 3_600_000;
    let (s1, s2, s3) = (
        local_ms(tz, "2025-02-04 14:00"),
        local_ms(tz, "2025-02-04 14:30"),
        local_ms(tz, "2025-02-04 15:00"),
    );
    let offers = [
        (&entries[0], maya, s1, t0, "declined", t0 + h),
        (&entries[1], maya, s1, t0 + h, "accepted", t0 + 3 * h),
        (&entries[0], maya, s2, t0, "accepted", t0 + 5 * h),
        (&entries[1], omar, s3, t0 + 2 * h, "accepted", t0 + 3 * h),
        (&entries[2], maya, s1, t0 + 10 * h, "accepted", t0 + 12 * h),
    ];
    w.app
        .store()
        .write(None, |tx| -> clinicdesk_store::Result<()> {
            for (entry, provider, start, created, outcome, decided) in offers {
                tx.execute(
                    "INSERT INTO waitlist_offers (id, clinic_id, waitlist_id, provider_id, start_at, end_at, expires_at,
                        outcome, decided_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)",
                    rusqlite::params![
                        uuid::Uuid::now_v7().to_string(),
                        c.to_string(),
                        entry,
                        provider.to_string(),
                        start,
                        start + 30 * 60_000,
                        created + 2 * h,
                        outcome,
                        decided,
                        created
                    ],
                )?;
            }
            Ok(())
        })
        .unwrap();
    Week { w, manager }
}

#[test]
fn aggregates_of_a_known_week_by_day_week_and_month() {
    let k = known_week();
    let (app, c) = (&k.w.app, k.w.clinic_a);

    let week = app
        .kpi_report(&k.manager, c, "week", "2025-02-03", "2025-02-09")
        .unwrap();
    assert_eq!(week.timezone, "America/Edmonton");
    assert_eq!(
        (week.from, week.to),
        (date("2025-02-03"), date("2025-02-09"))
    );
    assert_eq!(week.rows.len(), 1);
    let r = &week.rows[0];
    assert_eq!(
        (r.period_start, r.period_end),
        (date("2025-02-03"), date("2025-02-09"))
    );
    // 2 completed + 1 no-show reached an outcome; the cancellation does not count.
    rate(&r.no_show_rate, 1.0, 3.0);
    // Booked: 4 on Monday, 2 on Tuesday (the moved appointment counts once).
    rate(&r.cancellation_rate, 1.0, 6.0);
    // Active minutes 30 + 60 + 30 + 30 over clinical shifts 3 × 480 (Rae is not clinical).
    rate(&r.provider_utilization, 150.0, 1440.0);
    rate(&r.waitlist_fill_rate, 4.0, 5.0);
    // Fills after 3, 5, 1 and 2 hours: the median is 2.5.
    assert_eq!(r.waitlist_time_to_fill_hours.value, Some(2.5));
    assert_eq!(r.waitlist_time_to_fill_hours.denominator, Some(4.0));
    assert_eq!(r.waitlist_time_to_fill_hours.numerator, None);
    // On Sunday 2025-02-09 only Maya holds a valid licence (Omar's expired on the 5th).
    rate(&r.credential_compliance, 1.0, 3.0);

    let days = app
        .kpi_report(&k.manager, c, "day", "2025-02-03", "2025-02-04")
        .unwrap();
    assert_eq!(days.rows.len(), 2);
    let (mon, tue) = (&days.rows[0], &days.rows[1]);
    assert_eq!(mon.period_start, date("2025-02-03"));
    assert_eq!(mon.period_end, date("2025-02-03"));
    rate(&mon.no_show_rate, 1.0, 3.0);
    rate(&mon.cancellation_rate, 1.0, 4.0);
    rate(&mon.provider_utilization, 90.0, 960.0);
    rate(&mon.waitlist_fill_rate, 0.0, 0.0);
    assert_eq!(mon.waitlist_time_to_fill_hours.value, None);
    rate(&mon.credential_compliance, 2.0, 3.0);
    assert_eq!(tue.period_start, date("2025-02-04"));
    rate(&tue.no_show_rate, 0.0, 0.0);
    rate(&tue.cancellation_rate, 0.0, 2.0);
    rate(&tue.provider_utilization, 60.0, 480.0);
    rate(&tue.waitlist_fill_rate, 4.0, 5.0);
    assert_eq!(tue.waitlist_time_to_fill_hours.value, Some(2.5));
    rate(&tue.credential_compliance, 2.0, 3.0);

    // A month: the row covers the whole of February whatever day was asked for.
    let month = app
        .kpi_report(&k.manager, c, "month", "2025-02-10", "2025-02-10")
        .unwrap();
    assert_eq!(
        (month.from, month.to),
        (date("2025-02-01"), date("2025-02-28"))
    );
    let m = &month.rows[0];
    rate(&m.no_show_rate, 1.0, 3.0);
    rate(&m.cancellation_rate, 1.0, 6.0);
    rate(&m.provider_utilization, 150.0, 1440.0);
    rate(&m.credential_compliance, 1.0, 3.0);

    // An empty week next to it: nothing booked, no shifts.
    let next = app
        .kpi_report(&k.manager, c, "week", "2025-02-10", "2025-02-16")
        .unwrap();
    rate(&next.rows[0].no_show_rate, 0.0, 0.0);
    rate(&next.rows[0].provider_utilization, 0.0, 0.0);

    // The report is a read: nothing changed.
    let before = k.w.fingerprint();
    app.kpi_report(&k.manager, c, "day", "2025-01-01", "2025-03-31")
        .unwrap();
    assert_eq!(before, k.w.fingerprint());
}

#[test]
fn goal_progress_shows_met_and_unmet_goals_with_their_gap() {
    let k = known_week();
    let (app, c) = (&k.w.app, k.w.clinic_a);
    assert_eq!(app.list_goals(&k.manager, c).unwrap().len(), 6);
    let weekly = app
        .create_goal(
            &k.manager,
            c,
            &Fields::new()
                .with("name", "Cancellations at most 20% a week")
                .with("metric_key", "cancellation_rate")
                .with("comparator", "<=")
                .with("target_value", "20%")
                .with("period", "week"),
        )
        .unwrap();
    assert_eq!(weekly.target_value, 0.2);
    assert_eq!(weekly.comparator, "lte");
    assert_eq!(weekly.clinic_id, Some(c));
    assert!(!weekly.is_system);
    app.create_goal(
        &k.manager,
        c,
        &Fields::new()
            .with("name", "Daily no-shows under 10%")
            .with("metric_key", "no_show_rate")
            .with("comparator", "lt")
            .with("target_value", "0.1")
            .with("period", "day"),
    )
    .unwrap();
    // Another clinic's goal does not apply here.
    app.create_goal(
        &k.w.admin,
        k.w.clinic_b,
        &Fields::new()
            .with("name", "Sydney goal")
            .with("metric_key", "no_show_rate")
            .with("comparator", "lt")
            .with("target_value", "0.5"),
    )
    .unwrap();
    let goals = app.list_goals(&k.manager, c).unwrap();
    assert_eq!(goals.len(), 8);
    assert!(goals[..6].iter().all(|g| g.is_system));

    let p = app
        .goal_progress(&k.manager, c, Some("2025-02-04"))
        .unwrap();
    assert_eq!(p.len(), 8);
    let by = |name: &str| p.iter().find(|g| g.goal.name == name).unwrap();
    let g = by("No-shows under 5%");
    assert_eq!(
        (g.period_start, g.period_end),
        (date("2025-02-01"), date("2025-02-28"))
    );
    assert_eq!(g.value, Some(1.0 / 3.0));
    assert!(!g.met);
    assert_eq!(g.gap, Some(1.0 / 3.0 - 0.05));
    assert!(!by("Cancellations under 10%").met);
    let u = by("Provider utilization at least 80%");
    assert_eq!(u.period_start, date("2025-02-03"));
    assert_eq!(u.value, Some(150.0 / 1440.0));
    assert!(!u.met);
    let f = by("Waitlist fill rate at least 60%");
    assert!(f.met);
    assert_eq!(f.gap, Some(0.8 - 0.6));
    let t = by("Fill freed slots within 24 hours");
    assert!(t.met);
    assert_eq!(t.value, Some(2.5));
    assert_eq!(t.gap, Some(2.5 - 24.0));
    let cc = by("100% of clinical staff fully credentialed");
    assert_eq!(cc.value, Some(1.0 / 3.0));
    assert!(!cc.met);
    let wk = by("Cancellations at most 20% a week");
    assert!(wk.met);
    assert_eq!(wk.value, Some(1.0 / 6.0));
    assert_eq!(wk.target, 0.2);
    // No appointment reached an outcome on Tuesday: no value, not met.
    let d = by("Daily no-shows under 10%");
    assert_eq!((d.value, d.met, d.gap), (None, false, None));
    assert_eq!(d.period_start, date("2025-02-04"));

    // On Monday the daily goal has data (1 of 3: not met).
    let p = app
        .goal_progress(&k.manager, c, Some("2025-02-03"))
        .unwrap();
    let d = p
        .iter()
        .find(|g| g.goal.name == "Daily no-shows under 10%")
        .unwrap();
    assert_eq!(d.value, Some(1.0 / 3.0));
    assert!(!d.met);
}

#[test]
fn waitlist_offers_made_through_the_flow_count_on_the_day_they_are_made() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let manager = w.user_with("boss", Role::Manager, c);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let maya = staff(app, a, c, "Maya", &[]);
    let day = shift_template(app, a, c, "Day", "08:00", "16:00");
    assign(app, &manager, c, maya, &day, "2030-01-07");
    let p: Vec<PatientId> = (1..=3)
        .map(|i| patient(app, a, c, &format!("P{i}")))
        .collect();
    let b1 = book(app, &desk, c, p[0], maya, "2030-01-07 09:00", 30, None);
    for (i, priority) in [(1, "1"), (2, "2")] {
        app.add_to_waitlist(
            &desk,
            c,
            &Fields::new()
                .with("patient_id", p[i].to_string())
                .with("provider_ids", maya.to_string())
                .with("earliest_date", "2030-01-07")
                .with("latest_date", "2030-01-07")
                .with("duration_minutes", "30")
                .with("priority", priority),
        )
        .unwrap();
    }
    flow(app, &desk, b1.id, &["cancel"]);
    let first = app.list_waitlist(&desk, c).unwrap();
    let offer = first.iter().find_map(|v| v.offer.clone()).unwrap();
    let next = app.decline_offer(&desk, &offer.id).unwrap().unwrap();
    app.accept_offer(&desk, &next.id).unwrap();

    let tz: Tz = "America/Edmonton".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let (from, to) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let r = app
        .kpi_report(&manager, c, "day", &from.to_string(), &to.to_string())
        .unwrap();
    let offers: f64 = r
        .rows
        .iter()
        .filter_map(|x| x.waitlist_fill_rate.denominator)
        .sum();
    let accepted: f64 = r
        .rows
        .iter()
        .filter_map(|x| x.waitlist_fill_rate.numerator)
        .sum();
    assert_eq!((accepted, offers), (1.0, 2.0));
    let fill = r
        .rows
        .iter()
        .find(|x| x.waitlist_time_to_fill_hours.denominator == Some(1.0))
        .unwrap();
    // Freed (first offer) and booked within this test: a few milliseconds.
    let hours = fill.waitlist_time_to_fill_hours.value.unwrap();
    assert!((0.0..0.01).contains(&hours), "{hours}");
    // The 2030 appointments are in their own week: 2 booked (the cancelled one and the fill).
    let later = app
        .kpi_report(&manager, c, "week", "2030-01-07", "2030-01-07")
        .unwrap();
    rate(&later.rows[0].cancellation_rate, 1.0, 2.0);
    rate(&later.rows[0].provider_utilization, 30.0, 480.0);
}

#[test]
fn weeks_start_on_monday_in_the_clinics_own_zone() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_b); // Australia/Sydney
    let kai = staff(app, a, c, "Kai", &[]);
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", kai.to_string())
            .with("start", "2025-01-05 19:00")
            .with("end", "2025-01-06 10:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    let p1 = patient(app, a, c, "Sun");
    let p2 = patient(app, a, c, "Mon");
    let sunday = book(app, a, c, p1, kai, "2025-01-05 20:00", 30, None);
    let monday = book(app, a, c, p2, kai, "2025-01-06 09:00", 30, None);
    // Both start on Sunday 2025-01-05 in UTC: a UTC week would put them together.
    for x in [&sunday, &monday] {
        let utc = chrono::DateTime::from_timestamp_millis(x.start_at).unwrap();
        assert_eq!(utc.date_naive(), date("2025-01-05"));
    }
    flow(app, a, monday.id, &["cancel"]);

    let r: KpiReport = app
        .kpi_report(a, c, "week", "2025-01-01", "2025-01-08")
        .unwrap();
    assert_eq!(r.timezone, "Australia/Sydney");
    assert_eq!((r.from, r.to), (date("2024-12-30"), date("2025-01-12")));
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[0].period_start, date("2024-12-30"));
    rate(&r.rows[0].cancellation_rate, 0.0, 1.0);
    assert_eq!(r.rows[1].period_start, date("2025-01-06"));
    rate(&r.rows[1].cancellation_rate, 1.0, 1.0);
    // Days and months read the same local dates.
    let d = app
        .kpi_report(a, c, "day", "2025-01-05", "2025-01-06")
        .unwrap();
    rate(&d.rows[0].cancellation_rate, 0.0, 1.0);
    rate(&d.rows[1].cancellation_rate, 1.0, 1.0);
    let m = app
        .kpi_report(a, c, "month", "2024-12-15", "2025-01-15")
        .unwrap();
    assert_eq!(m.rows.len(), 2);
    rate(&m.rows[0].cancellation_rate, 0.0, 0.0);
    rate(&m.rows[1].cancellation_rate, 1.0, 2.0);
    // No shifts: utilization has no denominator.
    assert_eq!(m.rows[1].provider_utilization.value, None);
}

// Capacity -------------------------------------------------------------------------------------

/// A fixed-offset zone in which it is now between 12:00 and 13:00, so that the scenario's
/// times around "now" are the same whenever the test runs.
fn noon_zone() -> String {
    let offset = 12 - chrono::Utc::now().hour() as i32;
    match offset {
        0 => "Etc/GMT".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[test]
fn capacity_snapshot_of_a_known_moment_and_its_threshold_event() {
    let w = world();
    let a = &w.admin;
    let app = &w.app;
    let zone = noon_zone();
    let c = app
        .create_clinic(
            a,
            &Fields::new()
                .with("name", "Noon")
                .with("code", "NOON")
                .with("timezone", zone.as_str()),
        )
        .unwrap()
        .id;
    let tz: Tz = zone.parse().unwrap();
    let manager = w.user_with("boss", Role::Manager, c);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let today = chrono::Utc::now()
        .with_timezone(&tz)
        .date_naive()
        .to_string();
    let at = |hm: &str| format!("{today} {hm}");

    let p1 = staff(app, a, c, "P1", &[]);
    let p2 = staff(app, a, c, "P2", &[]);
    let p3 = staff(app, a, c, "P3", &[]);
    let p4 = staff(app, a, c, "P4", &[]);
    let r = staff(app, a, c, "R", &[("is_clinical", "no")]);
    let long = shift_template(app, a, c, "Long", "06:00", "20:00");
    let late = shift_template(app, a, c, "Late", "15:00", "20:00");
    for who in [p1, p2, r] {
        assign(app, &manager, c, who, &long, &today);
    }
    assign(app, &manager, c, p4, &late, &today);
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", p3.to_string())
            .with("start", at("10:00"))
            .with("end", at("15:00"))
            .with("is_available", "yes"),
    )
    .unwrap();
    let room = |name: &str, status: &str| {
        app.create_room(
            a,
            c,
            &Fields::new().with("name", name).with("status", status),
        )
        .unwrap()
        .id
    };
    let (r1, r2, r3) = (
        room("R1", "available"),
        room("R2", "available"),
        room("R3", "available"),
    );
    room("R4", "maintenance");
    room("R5", "closed");
    let pts: Vec<PatientId> = (1..=6)
        .map(|i| patient(app, a, c, &format!("P{i}")))
        .collect();
    let a1 = book(app, &desk, c, pts[0], p1, &at("11:00"), 120, Some(r1));
    let a2 = book(app, &desk, c, pts[1], p2, &at("10:00"), 60, Some(r2));
    let a3 = book(app, &desk, c, pts[2], p3, &at("12:00"), 120, Some(r3));
    let _a4 = book(app, &desk, c, pts[3], p1, &at("13:00"), 30, None);
    let a5 = book(app, &desk, c, pts[4], p2, &at("08:00"), 30, None);
    let a6 = book(app, &desk, c, pts[5], p2, &at("09:00"), 30, None);
    flow(app, &desk, a1.id, &["check_in", "start"]);
    flow(app, &desk, a2.id, &["check_in"]);
    flow(app, &desk, a5.id, &["check_in", "start", "complete"]);
    flow(app, &desk, a6.id, &["cancel"]);
    let events = |kind: &str| {
        count(
            &w,
            &format!("SELECT count(*) FROM ops_kpi_events WHERE event_type = '{kind}' AND clinic_id = '{c}'"),
        )
    };
    // Room events: only the visit with a room occupies one; both completions are treatments.
    assert_eq!(events("room_occupied"), 1);
    assert_eq!(events("room_released"), 0);
    assert_eq!(events("treatment_completed"), 1);

    let s = app.take_capacity_snapshot(&manager, c).unwrap();
    let local = chrono::DateTime::from_timestamp_millis(s.snapshot_timestamp)
        .unwrap()
        .with_timezone(&tz);
    assert_eq!(s.snapshot_date, local.date_naive());
    assert_eq!(s.snapshot_hour, local.hour() as i64);
    assert_eq!(s.captured_by, Some(manager.user_id));
    // Staff: 5 employed; P1, P2, R and P4 have assignments today; P1, P2, R (shift) and P3
    // (available block) work now; of the clinical ones P1 (in progress) and P3 (an
    // appointment now) are busy, P2's checked-in patient's time has passed.
    assert_eq!(
        (
            s.total_staff_available,
            s.total_staff_scheduled,
            s.total_staff_on_duty
        ),
        (5, 4, 4)
    );
    assert_eq!(s.staff_utilization_percent, Some(66.7));
    // Rooms: R1..R4 (R5 closed); R1 (in progress) and R2 (checked in) in use; R4 maintenance.
    assert_eq!(
        (
            s.total_rooms,
            s.rooms_in_use,
            s.rooms_maintenance,
            s.rooms_available
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(s.room_utilization_percent, Some(66.7));
    // Slots of 30 min: P1 and P2 14 h each (28 + 28), P3 5 h (10), P4 5 h (10) = 76; booked
    // 4 + 2 + 4 + 1 + 1 (the cancelled one is free again).
    assert_eq!(
        (s.total_appointment_slots, s.slots_booked, s.slots_available),
        (76, 12, 64)
    );
    assert_eq!((s.waiting_patients, s.active_patients_in_clinic), (1, 2));
    assert_eq!(s.average_wait_time_minutes, Some(0.0));
    assert_eq!(s.average_visit_duration_minutes, Some(0.0));
    assert_eq!(s.capacity_status, CapacityStatus::Normal);
    assert!(!s.is_at_capacity && !s.is_overcapacity);
    assert_eq!(events("capacity_threshold_reached"), 0);

    // The third room fills: every usable room is in use, with a patient waiting.
    flow(app, &desk, a3.id, &["check_in", "start"]);
    let s2 = app.take_capacity_snapshot(&manager, c).unwrap();
    assert_eq!((s2.rooms_in_use, s2.rooms_available), (3, 0));
    assert_eq!(s2.room_utilization_percent, Some(100.0));
    assert_eq!(s2.staff_utilization_percent, Some(66.7));
    assert_eq!(s2.capacity_status, CapacityStatus::Critical);
    assert!(s2.is_at_capacity && s2.is_overcapacity);
    assert_eq!(events("capacity_threshold_reached"), 1);
    let (value, related): (f64, String) = w
        .app
        .store()
        .read(|x| -> clinicdesk_store::Result<(f64, String)> {
            Ok(x.query_row(
                "SELECT metric_value, related_entity_id FROM ops_kpi_events WHERE event_type = 'capacity_threshold_reached'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!((value, related), (100.0, s2.id.to_string()));
    assert_eq!(events("room_occupied"), 2);

    let list = app
        .list_capacity_snapshots(&manager, c, None, None, None)
        .unwrap();
    assert_eq!(
        list.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![s2.id, s.id]
    );
    assert_eq!(
        app.list_capacity_snapshots(&manager, c, Some(&today), Some(&today), Some(1))
            .unwrap()
            .len(),
        1
    );

    // Completing a visit in a room releases it (with the minutes it was occupied).
    flow(app, &desk, a1.id, &["complete"]);
    assert_eq!(events("room_released"), 1);
    assert_eq!(events("treatment_completed"), 2);
    let released: String = w
        .app
        .store()
        .read(|x| -> clinicdesk_store::Result<String> {
            Ok(x.query_row(
                "SELECT related_entity_id FROM ops_kpi_events WHERE event_type = 'room_released'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(released, r1.to_string());

    // Housekeeping: clinics A and B get their snapshot; this one already has one this hour
    // (unless the hour turned meanwhile); a second run takes none.
    let h = app.run_housekeeping().unwrap();
    assert!((2..=3).contains(&h.capacity_snapshots), "{h:?}");
    let system: i64 = count(
        &w,
        "SELECT count(*) FROM ops_capacity_snapshots WHERE captured_by IS NULL",
    );
    assert_eq!(system as usize, h.capacity_snapshots);
    assert_eq!(app.run_housekeeping().unwrap().capacity_snapshots, 0);
}

// Events staff record --------------------------------------------------------------------------

#[test]
fn staff_record_incidents_alerts_equipment_and_supplies() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let clinician = w.user_with("doc", Role::Clinician, c);
    let maya = staff(app, a, c, "Maya", &[]);
    let p = patient(app, a, c, "Ann");
    let tz: Tz = "America/Edmonton".parse().unwrap();
    let earlier = chrono::Utc::now() - chrono::Duration::hours(30);
    let local = earlier
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let e = app
        .record_kpi_event(
            &desk,
            c,
            &Fields::new()
                .with("event_type", "safety_alert")
                .with("severity", "HIGH")
                .with("staff_id", maya.to_string())
                .with("patient_id", p.to_string())
                .with("occurred_at", local.as_str())
                .with("notes", "wet floor by the entrance")
                .with("tags", "floor, entrance,floor"),
        )
        .unwrap();
    assert_eq!(e.event_type, KpiEventType::SafetyAlert);
    assert_eq!(e.event_name, "safety alert");
    assert_eq!((e.staff_id, e.patient_id), (Some(maya), Some(p)));
    assert_eq!(e.dimensions["severity"], "high");
    assert_eq!(e.metadata["notes"], "wet floor by the entrance");
    assert_eq!(e.tags, vec!["floor".to_string(), "entrance".to_string()]);
    assert_eq!(e.event_date, earlier.with_timezone(&tz).date_naive());
    assert_eq!(e.triggered_by, Some(desk.user_id));
    let used = app
        .record_kpi_event(
            &clinician,
            c,
            &Fields::new()
                .with("event_type", "equipment_used")
                .with("item", "Ultrasound unit 2")
                .with("metric_value", "45")
                .with("metric_unit", "minutes"),
        )
        .unwrap();
    assert_eq!(used.dimensions["item"], "Ultrasound unit 2");
    assert_eq!(
        (used.metric_value, used.metric_unit.as_deref()),
        (Some(45.0), Some("minutes"))
    );
    let custom = app
        .record_kpi_event(
            a,
            c,
            &Fields::new()
                .with("event_type", "custom")
                .with("event_name", "Open house visitors")
                .with("metric_value", "12.5"),
        )
        .unwrap();
    assert_eq!(custom.event_name, "Open house visitors");
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM ops_kpi_events WHERE json_extract(dimensions, '$.reported') = 1"
        ),
        3
    );
    // Each one is audited like any insert.
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM audit_log WHERE table_name = 'ops_kpi_events' AND action = 'insert'"
        ),
        3
    );
}

// Immutability ---------------------------------------------------------------------------------

#[test]
fn kpi_events_and_capacity_snapshots_cannot_be_changed_or_deleted() {
    let w = world();
    let c = w.clinic_a;
    w.app
        .record_kpi_event(
            &w.admin,
            c,
            &Fields::new()
                .with("event_type", "quality_incident")
                .with("notes", "wrong form"),
        )
        .unwrap();
    w.app.take_capacity_snapshot(&w.admin, c).unwrap();
    let before = w.fingerprint();
    for sql in [
        "UPDATE ops_kpi_events SET event_name = 'nothing happened'",
        "DELETE FROM ops_kpi_events",
        "UPDATE ops_capacity_snapshots SET capacity_status = 'critical'",
        "DELETE FROM ops_capacity_snapshots",
    ] {
        let e = w
            .app
            .store()
            .write(None, |tx| -> clinicdesk_store::Result<usize> {
                Ok(tx.execute(sql, [])?)
            })
            .unwrap_err();
        assert!(e.to_string().contains("is immutable"), "{sql}: {e}");
    }
    assert_eq!(before, w.fingerprint());
    assert_eq!(count(&w, "SELECT count(*) FROM ops_kpi_events"), 1);
    assert_eq!(count(&w, "SELECT count(*) FROM ops_capacity_snapshots"), 1);
}

// Permissions ----------------------------------------------------------------------------------

#[test]
fn kpis_goals_and_capacity_need_the_kpi_capability_at_the_clinic() {
    let w = world();
    let (app, c) = (&w.app, w.clinic_a);
    let manager = w.user_with("boss", Role::Manager, c);
    let goal = Fields::new()
        .with("name", "Mine")
        .with("metric_key", "no_show_rate")
        .with("comparator", "lt")
        .with("target_value", "0.1");
    let denied_before = w.audit_actions().iter().filter(|x| *x == "denied").count();
    for (name, role) in [
        ("desk", Role::FrontDesk),
        ("doc", Role::Clinician),
        ("view", Role::Viewer),
    ] {
        let s = w.user_with(name, role, c);
        let before = w.fingerprint();
        denied(app.kpi_report(&s, c, "week", "2025-02-03", "2025-02-09"));
        denied(app.list_goals(&s, c));
        denied(app.create_goal(&s, c, &goal));
        denied(app.goal_progress(&s, c, None));
        denied(app.take_capacity_snapshot(&s, c));
        denied(app.list_capacity_snapshots(&s, c, None, None, None));
        assert_eq!(before, w.fingerprint(), "{name}");
    }
    // The manager of clinic A reads A, not B.
    let b = w.clinic_b;
    let before_b = w.fingerprint();
    denied(app.kpi_report(&manager, b, "week", "2025-02-03", "2025-02-09"));
    denied(app.goal_progress(&manager, b, None));
    denied(app.take_capacity_snapshot(&manager, b));
    assert_eq!(before_b, w.fingerprint());
    let denied_after = w.audit_actions().iter().filter(|x| *x == "denied").count();
    assert_eq!(denied_after - denied_before, 3 * 6 + 3);
    assert!(app
        .kpi_report(&manager, c, "week", "2025-02-03", "2025-02-09")
        .is_ok());
    assert!(app.create_goal(&manager, c, &goal).is_ok());
    assert!(app.take_capacity_snapshot(&manager, c).is_ok());

    // Reporting an event: everyone who works at the clinic, not viewers.
    let alert = Fields::new().with("event_type", "safety_alert");
    let viewer = w.app.login("view", PW).unwrap();
    let before = w.fingerprint();
    denied(app.record_kpi_event(&viewer, c, &alert));
    assert_eq!(before, w.fingerprint());
    for who in ["desk", "doc", "boss"] {
        let s = w.app.login(who, PW).unwrap();
        app.record_kpi_event(&s, c, &alert).unwrap();
    }
}

// Bad input ------------------------------------------------------------------------------------

#[test]
fn bad_input_is_refused_with_the_field_named_and_changes_nothing() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    // Reports.
    invalid(
        &w,
        app.kpi_report(a, c, "year", "2025-01-01", "2025-02-01"),
        "'year' is not a period",
    );
    invalid(
        &w,
        app.kpi_report(a, c, "week", "2025-02-30", "2025-03-01"),
        "from",
    );
    invalid(
        &w,
        app.kpi_report(a, c, "week", "2025-03-01", "2025-02-01"),
        "must not be before from",
    );
    invalid(
        &w,
        app.kpi_report(a, c, "day", "2020-01-01", "2025-01-01"),
        "at most 400 periods",
    );
    invalid(&w, app.goal_progress(a, c, Some("tomorrow")), "date");
    // Goals.
    let goal = |pairs: &[(&str, &str)]| {
        let mut f = Fields::new()
            .with("name", "G")
            .with("metric_key", "no_show_rate")
            .with("comparator", "lt")
            .with("target_value", "0.05");
        for (k, v) in pairs {
            f.set(k, *v);
        }
        f
    };
    for (pairs, needle) in [
        (vec![("name", " ")], "name"),
        (vec![("metric_key", "revenue")], "'revenue' is not a metric"),
        (vec![("comparator", "eq")], "'eq' is not a comparator"),
        (vec![("target_value", "abc")], "'abc' is not a number"),
        (vec![("target_value", "1.5")], "a rate between 0 and 1"),
        (vec![("target_value", "150%")], "a rate between 0 and 1"),
        (
            vec![
                ("metric_key", "waitlist_time_to_fill_hours"),
                ("target_value", "5%"),
            ],
            "in hours",
        ),
        (vec![("period", "quarter")], "'quarter' is not a period"),
        (vec![("colour", "red")], "unknown field colour"),
    ] {
        invalid(&w, app.create_goal(a, c, &goal(&pairs)), needle);
    }
    invalid(
        &w,
        app.create_goal(a, c, &Fields::new().with("name", "G")),
        "metric_key",
    );
    app.create_goal(a, c, &goal(&[])).unwrap();
    invalid(
        &w,
        app.create_goal(a, c, &goal(&[("name", "g")])),
        "already has a goal named",
    );
    // Events.
    let ev = |pairs: &[(&str, &str)]| {
        let mut f = Fields::new();
        for (k, v) in pairs {
            f.set(k, *v);
        }
        f
    };
    let future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let ancient = (chrono::Utc::now() - chrono::Duration::days(400)).to_rfc3339();
    for (pairs, needle) in [
        (vec![], "event_type"),
        (
            vec![("event_type", "appointment_completed")],
            "recorded by the app itself",
        ),
        (
            vec![("event_type", "party")],
            "'party' is not a valid KPI event type",
        ),
        (
            vec![("event_type", "custom")],
            "a custom event needs a name",
        ),
        (
            vec![("event_type", "equipment_used")],
            "say which equipment",
        ),
        (
            vec![
                ("event_type", "supply_depleted"),
                ("item", "Gloves"),
                ("severity", "high"),
            ],
            "severity",
        ),
        (
            vec![("event_type", "safety_alert"), ("severity", "extreme")],
            "'extreme' is not a severity",
        ),
        (
            vec![
                ("event_type", "supply_depleted"),
                ("item", "Gloves"),
                ("metric_value", "lots"),
            ],
            "'lots' is not a number",
        ),
        (
            vec![
                ("event_type", "supply_depleted"),
                ("item", "Gloves"),
                ("metric_value", "-3"),
            ],
            "must not be negative",
        ),
        (
            vec![("event_type", "safety_alert"), ("metric_unit", "kg")],
            "give a metric_value",
        ),
        (
            vec![
                ("event_type", "safety_alert"),
                ("occurred_at", future.as_str()),
            ],
            "must not be in the future",
        ),
        (
            vec![
                ("event_type", "safety_alert"),
                ("occurred_at", ancient.as_str()),
            ],
            "within the last 366 days",
        ),
        (
            vec![("event_type", "safety_alert"), ("occurred_at", "yesterday")],
            "occurred_at",
        ),
        (
            vec![
                ("event_type", "safety_alert"),
                ("staff_id", "0190aaaa-0000-7000-8000-000000000000"),
            ],
            "not found",
        ),
        (
            vec![("event_type", "safety_alert"), ("patient_id", "nope")],
            "patient_id",
        ),
        (
            vec![("event_type", "safety_alert"), ("mood", "bad")],
            "unknown field mood",
        ),
    ] {
        invalid(&w, app.record_kpi_event(a, c, &ev(&pairs)), needle);
    }
    // Capacity lists.
    invalid(
        &w,
        app.list_capacity_snapshots(a, c, None, None, Some(0)),
        "limit",
    );
    invalid(
        &w,
        app.list_capacity_snapshots(a, c, Some("2025-02-02"), Some("2025-02-01"), None),
        "must not be before from",
    );
    invalid(
        &w,
        app.list_capacity_snapshots(a, c, Some("02/01/2025"), None, None),
        "from",
    );
}
