//! iCalendar export (a provider's appointments, a staff member's shifts) read back by an
//! independent RFC 5545 parser (the `ical` crate) across the DST weeks of America/Edmonton and
//! Australia/Sydney, and holiday calendars imported as closures (idempotent; bad files change
//! nothing). Real encrypted databases; no wall clock.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::{ClinicId, Role, StaffId};
use clinicdesk_interop::ical::{export_ics, import_holidays, CalendarOf, IcsOptions};
use common::*;

struct Clinic {
    provider: StaffId,
    patient: String,
}

/// A clinic with a provider working 08:00–17:00 every day from `from` for `days` days, and a
/// patient with an appointment at 09:00 local each of those days.
fn clinic(app: &App, s: &Session, id: ClinicId, from: NaiveDate, days: i64) -> Clinic {
    let provider = app
        .create_staff(
            s,
            id,
            &Fields::new()
                .with("first_name", "Pat")
                .with("last_name", "Provider"),
        )
        .unwrap();
    let shift = app
        .create_shift_template(
            s,
            id,
            &Fields::new()
                .with("name", "Day")
                .with("shift_type", "full_day")
                .with("start_time", "08:00")
                .with("end_time", "17:00"),
        )
        .unwrap();
    let patient = app
        .create_patient(
            s,
            id,
            &Fields::new()
                .with("first_name", "Zoë")
                .with("last_name", "Semicolon; Comma, Esq"),
        )
        .unwrap();
    for d in 0..days {
        let day = from + Duration::days(d);
        app.assign_shift(
            s,
            id,
            &Fields::new()
                .with("staff_id", provider.id.to_string())
                .with("shift_id", shift.id.to_string())
                .with("date", day.to_string()),
        )
        .unwrap();
        app.book_appointment(
            s,
            id,
            &Fields::new()
                .with("patient_id", patient.id.to_string())
                .with("provider_id", provider.id.to_string())
                .with("start", format!("{day} 09:00"))
                .with("duration_minutes", "30")
                .with("reason", "Knee, left"),
        )
        .unwrap();
    }
    Clinic {
        provider: provider.id,
        patient: format!("{} {}", patient.first_name, patient.last_name),
    }
}

fn prop<'a>(
    props: &'a [ical::property::Property],
    name: &str,
) -> Option<&'a ical::property::Property> {
    props.iter().find(|p| p.name == name)
}

fn value(props: &[ical::property::Property], name: &str) -> String {
    prop(props, name)
        .and_then(|p| p.value.clone())
        .unwrap_or_default()
}

fn param(p: &ical::property::Property, name: &str) -> Option<String> {
    p.params
        .as_ref()?
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.join(","))
}

fn offset_secs(v: &str) -> i64 {
    let sign = if v.starts_with('-') { -1 } else { 1 };
    let h: i64 = v[1..3].parse().unwrap();
    let m: i64 = v[3..5].parse().unwrap();
    sign * (h * 3600 + m * 60)
}

/// The instant of a DTSTART/DTEND as a calendar program computes it: UTC as written, or the
/// local time with the offset of the parsed VTIMEZONE's observance in force (each observance
/// starts at its DTSTART on the wall clock of its TZOFFSETFROM).
fn instant(
    p: &ical::property::Property,
    zones: &BTreeMap<String, Vec<(i64, i64)>>,
) -> DateTime<Utc> {
    let v = p.value.as_deref().unwrap();
    if let Some(utc) = v.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .unwrap()
            .and_utc();
    }
    let tzid = param(p, "TZID").expect("a local time names its zone");
    let onsets = zones
        .get(&tzid)
        .unwrap_or_else(|| panic!("no VTIMEZONE {tzid}"));
    let local = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
        .unwrap()
        .and_utc()
        .timestamp();
    // Observances in onset order: (onset UTC seconds, offset to).
    let mut offset = None;
    for (onset, to) in onsets {
        if local - to >= *onset {
            offset = Some(*to);
        }
    }
    DateTime::from_timestamp(local - offset.expect("an observance before the time"), 0).unwrap()
}

struct Parsed {
    events: Vec<Vec<ical::property::Property>>,
    zones: BTreeMap<String, Vec<(i64, i64)>>,
}

/// Parse with the `ical` crate: exactly one calendar, its time zones and events.
fn parse(text: &str) -> Parsed {
    assert!(
        text.lines().all(|l| l.len() <= 76),
        "lines are folded at 75 octets"
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    let mut cals: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .expect("the ical crate reads it");
    assert_eq!(cals.len(), 1);
    let cal = cals.remove(0);
    assert_eq!(value(&cal.properties, "VERSION"), "2.0");
    assert!(!value(&cal.properties, "PRODID").is_empty());
    let mut zones = BTreeMap::new();
    for tz in &cal.timezones {
        let mut onsets: Vec<(i64, i64)> = tz
            .transitions
            .iter()
            .map(|t| {
                let local = NaiveDateTime::parse_from_str(
                    &value(&t.properties, "DTSTART"),
                    "%Y%m%dT%H%M%S",
                )
                .unwrap()
                .and_utc()
                .timestamp();
                let from = offset_secs(&value(&t.properties, "TZOFFSETFROM"));
                let to = offset_secs(&value(&t.properties, "TZOFFSETTO"));
                (local - from, to)
            })
            .collect();
        onsets.sort();
        zones.insert(value(&tz.properties, "TZID"), onsets);
    }
    let events = cal.events.into_iter().map(|e| e.properties).collect();
    Parsed { events, zones }
}

fn opts(from: NaiveDate, to: NaiveDate, private: bool) -> IcsOptions {
    IcsOptions {
        from,
        to,
        private,
        now_ms: NOW_MS,
    }
}

/// The appointments as stored: (id, start, end) in ms.
fn stored(app: &App, provider: StaffId) -> Vec<(String, i64, i64)> {
    app.store()
        .read(|c| {
            let mut st = c.prepare("SELECT id, start_at, end_at FROM appointments WHERE provider_id = ?1 ORDER BY start_at")?;
            let rows = st.query_map([provider.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok::<_, clinicdesk_store::StoreError>(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap()
}

#[test]
fn appointments_across_dst_weeks_read_back_at_the_same_instants_by_a_real_parser() {
    let dir = tempfile::tempdir().unwrap();
    let (app, root, edmonton) = empty(dir.path(), "Calgary", "CGY", "America/Edmonton");
    let sydney = app
        .create_clinic(
            &root,
            &Fields::new()
                .with("name", "Sydney")
                .with("code", "SYD")
                .with("timezone", "Australia/Sydney"),
        )
        .unwrap()
        .id;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Edmonton springs forward on 2026-03-08, Sydney falls back on 2026-04-05.
    let weeks = [
        (
            clinic(&app, &root, edmonton, d("2026-03-05"), 7),
            "America/Edmonton",
        ),
        (
            clinic(&app, &root, sydney, d("2026-04-02"), 7),
            "Australia/Sydney",
        ),
    ];
    let mut first_uids = Vec::new();
    for (c, zone) in &weeks {
        let from = if *zone == "America/Edmonton" {
            d("2026-03-05")
        } else {
            d("2026-04-02")
        };
        let ics = export_ics(
            &app,
            &root,
            CalendarOf::Appointments(c.provider),
            &opts(from, from + Duration::days(6), false),
            "test",
        )
        .unwrap();
        assert_eq!(ics.events, 7);
        let parsed = parse(&ics.text);
        assert_eq!(
            parsed.zones.keys().collect::<Vec<_>>(),
            vec![zone],
            "the clinic's VTIMEZONE"
        );
        assert!(
            parsed.zones[*zone].len() >= 2,
            "the DST change is an observance"
        );
        let rows = stored(&app, c.provider);
        assert_eq!(parsed.events.len(), rows.len());
        let mut utc_hours = std::collections::BTreeSet::new();
        for (e, (id, start, end)) in parsed.events.iter().zip(&rows) {
            assert_eq!(value(e, "UID"), format!("{id}@clinicdesk"));
            assert_eq!(value(e, "DTSTAMP"), "20260309T120000Z");
            let dtstart = prop(e, "DTSTART").unwrap();
            assert_eq!(param(dtstart, "TZID").as_deref(), Some(*zone));
            assert!(
                dtstart.value.as_deref().unwrap().ends_with("T090000"),
                "09:00 on the wall clock every day"
            );
            assert_eq!(instant(dtstart, &parsed.zones).timestamp_millis(), *start);
            assert_eq!(
                instant(prop(e, "DTEND").unwrap(), &parsed.zones).timestamp_millis(),
                *end
            );
            // Escaped as RFC 5545 says (the `ical` crate keeps TEXT values as written).
            assert_eq!(
                value(e, "SUMMARY"),
                c.patient.replace(';', "\\;").replace(',', "\\,")
            );
            assert_eq!(value(e, "DESCRIPTION"), "Knee\\, left");
            utc_hours.insert(instant(dtstart, &parsed.zones).format("%H").to_string());
        }
        assert_eq!(
            utc_hours.len(),
            2,
            "the week crosses a DST change: {utc_hours:?}"
        );
        first_uids.push(
            parsed
                .events
                .iter()
                .map(|e| value(e, "UID"))
                .collect::<Vec<_>>(),
        );
        // Private: no patient name, no reason; same UIDs (stable).
        let private = export_ics(
            &app,
            &root,
            CalendarOf::Appointments(c.provider),
            &opts(from, from + Duration::days(6), true),
            "test",
        )
        .unwrap();
        assert!(!private.text.contains("Semicolon") && !private.text.contains("Knee"));
        let parsed = parse(&private.text);
        assert!(parsed
            .events
            .iter()
            .all(|e| value(e, "SUMMARY") == "Booked"));
        assert_eq!(
            &parsed
                .events
                .iter()
                .map(|e| value(e, "UID"))
                .collect::<Vec<_>>(),
            first_uids.last().unwrap()
        );
    }
    // A viewer sees the times, never the names (whatever the option says).
    let viewer = {
        let u = app
            .create_user(&root, &Fields::new().with("username", "viewer1"), PW)
            .unwrap();
        app.grant_role(&root, u.id, edmonton, Role::Viewer).unwrap();
        app.login("viewer1", PW).unwrap()
    };
    let seen = export_ics(
        &app,
        &viewer,
        CalendarOf::Appointments(weeks[0].0.provider),
        &opts(d("2026-03-05"), d("2026-03-11"), false),
        "test",
    )
    .unwrap();
    assert_eq!(seen.events, 7);
    assert!(!seen.text.contains("Semicolon"));
    // … and nothing of a clinic where they hold no role.
    assert!(export_ics(
        &app,
        &viewer,
        CalendarOf::Appointments(weeks[1].0.provider),
        &opts(d("2026-04-02"), d("2026-04-08"), false),
        "test"
    )
    .is_err());
    // Audited: each export names what it was.
    let audited: i64 = app
        .store()
        .read(|c| Ok::<_, clinicdesk_store::StoreError>(c.query_row("SELECT COUNT(*) FROM audit_log WHERE table_name = 'exports' AND new_values LIKE '%ical_appointments%'", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(audited, 5);
    // A range over a year is refused.
    assert!(export_ics(
        &app,
        &root,
        CalendarOf::Appointments(weeks[0].0.provider),
        &opts(d("2026-01-01"), d("2027-06-01"), false),
        "test"
    )
    .is_err());
}

#[test]
fn the_repeated_hour_is_written_in_utc_and_shifts_export_across_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let (app, root, edmonton) = empty(dir.path(), "Calgary", "CGY", "America/Edmonton");
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Edmonton falls back on 2026-11-01: 01:30 happens twice.
    let c = clinic(&app, &root, edmonton, d("2026-10-29"), 7);
    let patient: String = app
        .store()
        .read(|c| {
            Ok::<_, clinicdesk_store::StoreError>(c.query_row(
                "SELECT id FROM patients LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    // The second 01:30 (MST, 08:30Z), booked as an instant outside working hours (override).
    let late = app
        .book_appointment(
            &root,
            edmonton,
            &Fields::new()
                .with("patient_id", patient)
                .with("provider_id", c.provider.to_string())
                .with("start", "2026-11-01T08:30:00Z")
                .with("duration_minutes", "30")
                .with("override_reason", "night clinic"),
        )
        .unwrap();
    let ics = export_ics(
        &app,
        &root,
        CalendarOf::Appointments(c.provider),
        &opts(d("2026-10-29"), d("2026-11-04"), false),
        "test",
    )
    .unwrap();
    let parsed = parse(&ics.text);
    let e = parsed
        .events
        .iter()
        .find(|e| value(e, "UID") == format!("{}@clinicdesk", late.id))
        .unwrap();
    assert_eq!(value(e, "DTSTART"), "20261101T083000Z");
    assert_eq!(
        instant(prop(e, "DTEND").unwrap(), &parsed.zones).timestamp_millis(),
        late.end_at
    );
    // Shifts: 7 days 08:00–17:00 local across the change, at the stored instants.
    let shifts = export_ics(
        &app,
        &root,
        CalendarOf::Shifts(c.provider),
        &opts(d("2026-10-29"), d("2026-11-04"), false),
        "test",
    )
    .unwrap();
    let parsed = parse(&shifts.text);
    assert_eq!(parsed.events.len(), 7);
    let stored: Vec<(i64, i64)> = app
        .store()
        .read(|x| {
            let mut st =
                x.prepare("SELECT start_at, end_at FROM ops_staff_schedules ORDER BY start_at")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok::<_, clinicdesk_store::StoreError>(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap();
    for (e, (start, end)) in parsed.events.iter().zip(&stored) {
        assert_eq!(value(e, "SUMMARY"), "Shift: Day");
        assert!(value(e, "DTSTART").ends_with("T080000"));
        assert_eq!(
            instant(prop(e, "DTSTART").unwrap(), &parsed.zones).timestamp_millis(),
            *start
        );
        assert_eq!(
            instant(prop(e, "DTEND").unwrap(), &parsed.zones).timestamp_millis(),
            *end
        );
    }
}

/// A holiday calendar as calendar programs write them: CRLF, a folded line, a two-day event,
/// a timed event (not a closure), a time zone block.
const HOLIDAYS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n\
BEGIN:VEVENT\r\nUID:xmas@example\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261225\r\n\
DTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas Day and Boxing Day\\, both\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:canada@example\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260701\r\n\
SUMMARY:Canada\r\n  Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:party@example\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261218T170000Z\r\n\
DTEND:20261218T200000Z\r\nSUMMARY:Staff party\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn blocks(app: &App) -> Vec<(i64, i64, String)> {
    app.store()
        .read(|c| {
            let mut st = c.prepare(
                "SELECT start_at, end_at, block_reason FROM availability_blocks ORDER BY start_at",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok::<_, clinicdesk_store::StoreError>(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap()
}

#[test]
fn a_holiday_calendar_becomes_closure_days_once_and_bad_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (app, root, sydney) = empty(dir.path(), "Sydney", "SYD", "Australia/Sydney");
    let r = import_holidays(&app, &root, sydney, HOLIDAYS).unwrap();
    assert_eq!(r.ignored, 1);
    assert_eq!(r.closures.created.len(), 3);
    let b = blocks(&app);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].2, "Holiday: Canada Day");
    assert_eq!(b[1].2, "Holiday: Christmas Day and Boxing Day  both");
    // Whole local days in Sydney (UTC+11 in December).
    assert_eq!(
        DateTime::from_timestamp_millis(b[1].0)
            .unwrap()
            .to_rfc3339(),
        "2026-12-24T13:00:00+00:00"
    );
    assert_eq!(b[1].1 - b[1].0, 24 * 3_600_000);
    // Re-import: nothing new.
    let again = import_holidays(&app, &root, sydney, HOLIDAYS).unwrap();
    assert!(again.closures.created.is_empty());
    assert_eq!(again.closures.already_closed.len(), 3);
    assert_eq!(blocks(&app), b);
    // Bad files: a clear error each, nothing changed.
    let recurring = HOLIDAYS.replace("SUMMARY:Canada", "RRULE:FREQ=YEARLY\r\nSUMMARY:Canada");
    let no_end = HOLIDAYS.replace("DTEND;VALUE=DATE:20261227", "DTEND;VALUE=DATE:20261220");
    let other = HOLIDAYS.replace("20260701", "20290701");
    for (bad, needle) in [
        ("hello", "not an iCalendar file"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "cannot be read"),
        (recurring.as_str(), "repeats"),
        (no_end.as_str(), "not after"),
        (other.as_str(), "two years"),
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
            "no all-day events",
        ),
    ] {
        let err = import_holidays(&app, &root, sydney, bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let big = format!("BEGIN:VCALENDAR\r\n{}", "X".repeat(2 * 1024 * 1024));
    assert!(import_holidays(&app, &root, sydney, &big)
        .unwrap_err()
        .to_string()
        .contains("larger"));
    assert_eq!(blocks(&app), b);
    // Only schedule managers.
    let u = app
        .create_user(&root, &Fields::new().with("username", "desk1"), PW)
        .unwrap();
    app.grant_role(&root, u.id, sydney, Role::FrontDesk)
        .unwrap();
    let desk = app.login("desk1", PW).unwrap();
    assert!(import_holidays(&app, &desk, sydney, HOLIDAYS).is_err());
}
