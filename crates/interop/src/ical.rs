//! iCalendar (RFC 5545): a provider's appointments or a staff member's shifts for a date range
//! as an `.ics` file, and a holiday calendar imported as closure days.
//!
//! The export: one `VTIMEZONE` per clinic zone used, generated from the IANA database for the
//! exported range (one observance per offset change, `DTSTART`/`TZOFFSETFROM`/`TZOFFSETTO`,
//! no `RRULE`, so any reader gets the same offsets as we do); each event's `DTSTART`/`DTEND`
//! on the clinic's wall clock with its `TZID` — except a time in the repeated hour at the end
//! of daylight saving time, which a `TZID` time cannot tell apart (RFC 5545 takes the first),
//! written in UTC instead. `UID`s are stable (`<row id>@clinicdesk`); `DTSTAMP` is the export
//! time. With `private`, events carry no patient name, reason or type (only "Booked"); without
//! it, names only for clinics where the caller may read patients. Audited as an export.
//!
//! The import: every all-day `VEVENT` (`DTSTART;VALUE=DATE`, `DTEND` exclusive) becomes
//! closed days through the API's closure generator (`App::generate_closures`: one blocking
//! block per whole local day, already closed days left alone, so a re-import changes
//! nothing). Timed events are not closures and are counted as ignored; a recurring event
//! (`RRULE`/`RDATE`) is refused, since its days would have to be guessed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use clinicdesk_api::{App, ClosureResult, Export, Fields, Session, UNNAMED_PATIENT};
use clinicdesk_domain::{
    local_day_bounds, AppointmentStatus, Capability, ClinicId, DomainError, StaffId, TimeZoneName,
};
use icalendar::{Component, DatePerhapsTime};
use serde::Serialize;

use crate::{ApiError, ApiResult};

/// The longest range one calendar export covers (days).
pub const MAX_ICS_DAYS: i64 = 366;
/// The largest holiday calendar read (bytes).
pub const MAX_ICS_BYTES: usize = 1024 * 1024;
/// The product id written in every calendar.
pub const PRODID: &str = "-//ClinicDesk//ClinicDesk//EN";

/// Whose calendar.
#[derive(Debug, Clone, Copy)]
pub enum CalendarOf {
    /// A provider's appointments.
    Appointments(StaffId),
    /// A staff member's shifts.
    Shifts(StaffId),
}

/// The range and options of a calendar export (the clock is the caller's).
#[derive(Debug, Clone)]
pub struct IcsOptions {
    /// First and last day (inclusive), on the staff member's primary clinic's calendar.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Leave patient names (and reasons, types) out.
    pub private: bool,
    /// `DTSTAMP` (ms).
    pub now_ms: i64,
}

/// One event before it is written.
struct Event {
    uid: String,
    start: i64,
    end: i64,
    tz: Tz,
    summary: String,
    description: Option<String>,
    location: Option<String>,
    status: &'static str,
}

/// Escape a TEXT value (RFC 5545 §3.3.11).
fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Append a content line, folded at 75 octets (§3.1), CRLF-terminated.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn utc_stamp(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    if a % 60 == 0 {
        format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", a / 3600, a / 60 % 60, a % 60)
    }
}

/// `DTSTART;TZID=…:local` — or UTC for a local time that occurs twice (the repeated hour).
fn when(name: &str, ms: i64, tz: Tz) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let local = t.with_timezone(&tz).naive_local();
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(_) => {
            format!(
                "{name};TZID={}:{}",
                tz.name(),
                local.format("%Y%m%dT%H%M%S")
            )
        }
        _ => format!("{name}:{}", utc_stamp(ms)),
    }
}

/// The offset (seconds), whether it is daylight time, and its abbreviation at `t`.
fn offset_at(tz: Tz, t: DateTime<Utc>) -> (i32, bool, String) {
    let o = tz.offset_from_utc_datetime(&t.naive_utc());
    let abbrev = o
        .abbreviation()
        .map(str::to_string)
        .unwrap_or_else(|| offset_text(o.fix().local_minus_utc()));
    (o.fix().local_minus_utc(), !o.dst_offset().is_zero(), abbrev)
}

/// The instants in `[start, end]` where `tz`'s offset changes, to the second.
fn transitions(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut t = start;
    let step = Duration::hours(1);
    while t < end {
        let next = (t + step).min(end);
        if offset_at(tz, t).0 != offset_at(tz, next).0 {
            // The first second of the new offset, by bisection.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid).0 == offset_at(tz, lo).0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(hi);
        }
        t = next;
    }
    out
}

/// A `VTIMEZONE` for `tz` valid over `[start, end]`: the observance in force at `start`, then
/// one per change of offset.
fn vtimezone(out: &mut String, tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) {
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", tz.name()));
    let observance = |out: &mut String, at: DateTime<Utc>, from: i32| {
        let (to, dst, name) = offset_at(tz, at);
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        // DTSTART is the onset on the wall clock of the offset before it (§3.6.5).
        let local = at.naive_utc() + Duration::seconds(i64::from(from));
        line(out, &format!("BEGIN:{kind}"));
        line(out, &format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")));
        line(out, &format!("TZOFFSETFROM:{}", offset_text(from)));
        line(out, &format!("TZOFFSETTO:{}", offset_text(to)));
        line(out, &format!("TZNAME:{}", text(&name)));
        line(out, &format!("END:{kind}"));
    };
    let first = offset_at(tz, start).0;
    observance(out, start, first);
    let mut before = first;
    for t in transitions(tz, start, end) {
        observance(out, t, before);
        before = offset_at(tz, t).0;
    }
    line(out, "END:VTIMEZONE");
}

fn tz_of(app: &App, clinic: ClinicId) -> ApiResult<Tz> {
    let name: String = app.store().read(|c| {
        Ok::<_, ApiError>(c.query_row(
            "SELECT timezone FROM clinics WHERE id = ?1",
            [clinic.to_string()],
            |r| r.get(0),
        )?)
    })?;
    Ok(TimeZoneName::parse(&name)?.tz())
}

/// What an `.ics` export holds besides its text.
#[derive(Debug, Clone, Serialize)]
pub struct IcsExport {
    pub text: String,
    pub events: usize,
}

/// A provider's appointments or a staff member's shifts from `opts.from` to `opts.to` as an
/// iCalendar file (see the module docs). Needs `read_clinic_data` at the staff member's
/// clinic (the API's `get_staff`); events of clinics the caller may not read are left out.
/// `destination` is where the caller sends it (for the audit entry).
pub fn export_ics(
    app: &App,
    s: &Session,
    of: CalendarOf,
    opts: &IcsOptions,
    destination: &str,
) -> ApiResult<IcsExport> {
    let staff_id = match of {
        CalendarOf::Appointments(id) | CalendarOf::Shifts(id) => id,
    };
    let staff = app.get_staff(s, staff_id)?;
    if opts.to < opts.from {
        return Err(DomainError::invalid("to", "must not be before from").into());
    }
    if (opts.to - opts.from).num_days() >= MAX_ICS_DAYS {
        return Err(DomainError::invalid(
            "to",
            format!("a calendar covers at most {MAX_ICS_DAYS} days"),
        )
        .into());
    }
    let home = tz_of(app, staff.primary_clinic_id)?;
    let (start, _) = local_day_bounds(home, opts.from);
    let (_, end) = local_day_bounds(home, opts.to);
    let (start_ms, end_ms) = (start.timestamp_millis(), end.timestamp_millis());
    let readable = app.readable_clinics(s, None, Capability::ReadClinicData)?;
    let with_names: Vec<ClinicId> = if opts.private {
        Vec::new()
    } else {
        app.readable_clinics(s, None, Capability::ReadPatients)?
    };
    let mut zones: BTreeMap<String, Tz> = BTreeMap::new();
    let mut events = Vec::new();
    let mut patients = Vec::new();
    let what = match of {
        CalendarOf::Appointments(_) => "ical_appointments",
        CalendarOf::Shifts(_) => "ical_shifts",
    };
    app.store().read(|c| -> ApiResult<()> {
        let clinics: BTreeMap<String, (String, Tz)> = {
            let mut st = c.prepare("SELECT id, name, timezone FROM clinics")?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut m = BTreeMap::new();
            for r in rows {
                let (id, name, tz) = r?;
                m.insert(id, (name, TimeZoneName::parse(&tz)?.tz()));
            }
            m
        };
        let readable: Vec<String> = readable.iter().map(ToString::to_string).collect();
        let named: Vec<String> = with_names.iter().map(ToString::to_string).collect();
        // The rows of `sql` (?1 the staff member, ?2/?3 the range) at clinics the caller reads.
        type Each<'r> = dyn FnMut(&rusqlite::Row<'_>, &str) -> ApiResult<()> + 'r;
        let each = |sql: &str, id: StaffId, f: &mut Each<'_>| -> ApiResult<()> {
            let mut st = c.prepare(sql)?;
            let mut rows = st.query(rusqlite::params![id.to_string(), start_ms, end_ms])?;
            while let Some(r) = rows.next()? {
                let clinic: String = r.get(1)?;
                if readable.contains(&clinic) {
                    f(r, &clinic)?;
                }
            }
            Ok(())
        };
        match of {
            CalendarOf::Appointments(id) => {
                each(
                    "SELECT a.id, a.clinic_id, a.start_at, a.end_at, a.status, a.patient_id,
                            p.first_name || ' ' || p.last_name, t.name, a.reason, r.name
                     FROM appointments a
                     JOIN patients p ON p.id = a.patient_id
                     LEFT JOIN appointment_types t ON t.id = a.appointment_type_id
                     LEFT JOIN ops_treatment_rooms r ON r.id = a.room_id
                     WHERE a.provider_id = ?1 AND a.deleted_at IS NULL
                       AND a.start_at < ?3 AND a.end_at > ?2
                     ORDER BY a.start_at, a.id",
                    id,
                    &mut |r, clinic| {
                        let status = AppointmentStatus::parse(&r.get::<_, String>(4)?)?;
                        let (clinic_name, tz) = clinics.get(clinic).cloned().unwrap_or_default();
                        let named = named.iter().any(|n| n == clinic);
                        let type_name: Option<String> = r.get(7)?;
                        let summary = if named {
                            patients.push(r.get::<_, String>(5)?);
                            match &type_name {
                                Some(t) => format!("{}: {t}", r.get::<_, String>(6)?),
                                None => r.get::<_, String>(6)?,
                            }
                        } else {
                            UNNAMED_PATIENT.to_string()
                        };
                        let room: Option<String> = r.get(9)?;
                        events.push(Event {
                            uid: format!("{}@clinicdesk", r.get::<_, String>(0)?),
                            start: r.get(2)?,
                            end: r.get(3)?,
                            tz,
                            summary,
                            description: if named { r.get(8)? } else { None },
                            location: Some(match room {
                                Some(room) => format!("{clinic_name}, {room}"),
                                None => clinic_name,
                            }),
                            status: match status {
                                AppointmentStatus::Pending => "TENTATIVE",
                                AppointmentStatus::Cancelled | AppointmentStatus::Rescheduled => {
                                    "CANCELLED"
                                }
                                _ => "CONFIRMED",
                            },
                        });
                        Ok(())
                    },
                )?;
            }
            CalendarOf::Shifts(id) => {
                each(
                    "SELECT s.id, s.clinic_id, s.start_at, s.end_at, s.status, t.name
                     FROM ops_staff_schedules s JOIN ops_shifts t ON t.id = s.shift_id
                     WHERE s.staff_id = ?1 AND s.deleted_at IS NULL
                       AND s.start_at < ?3 AND s.end_at > ?2
                     ORDER BY s.start_at, s.id",
                    id,
                    &mut |r, clinic| {
                        let (clinic_name, tz) = clinics.get(clinic).cloned().unwrap_or_default();
                        let status: String = r.get(4)?;
                        events.push(Event {
                            uid: format!("{}@clinicdesk", r.get::<_, String>(0)?),
                            start: r.get(2)?,
                            end: r.get(3)?,
                            tz,
                            summary: format!("Shift: {}", r.get::<_, String>(5)?),
                            description: None,
                            location: Some(clinic_name),
                            status: if status == "cancelled" {
                                "CANCELLED"
                            } else {
                                "CONFIRMED"
                            },
                        });
                        Ok(())
                    },
                )?;
            }
        }
        Ok(())
    })?;
    zones.insert(home.name().to_string(), home);
    for e in &events {
        zones.insert(e.tz.name().to_string(), e.tz);
    }
    app.record_export(
        s,
        &Export {
            what,
            clinic: Some(staff.primary_clinic_id),
            destination,
            rows: events.len(),
            patients: &patients,
        },
    )?;
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    let who = format!("{} {}", staff.first_name, staff.last_name);
    let title = match of {
        CalendarOf::Appointments(_) => format!("Appointments of {who}"),
        CalendarOf::Shifts(_) => format!("Shifts of {who}"),
    };
    line(&mut out, &format!("X-WR-CALNAME:{}", text(&title)));
    // The zones over the range and the events' own extent (an event may start before it).
    let first = events
        .iter()
        .map(|e| e.start)
        .min()
        .unwrap_or(start_ms)
        .min(start_ms);
    let last = events
        .iter()
        .map(|e| e.end)
        .max()
        .unwrap_or(end_ms)
        .max(end_ms);
    let (zs, ze) = (
        DateTime::<Utc>::from_timestamp_millis(first).unwrap_or_default() - Duration::days(1),
        DateTime::<Utc>::from_timestamp_millis(last).unwrap_or_default() + Duration::days(1),
    );
    for tz in zones.values() {
        vtimezone(&mut out, *tz, zs, ze);
    }
    let stamp = utc_stamp(opts.now_ms);
    for e in &events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", e.uid));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &when("DTSTART", e.start, e.tz));
        line(&mut out, &when("DTEND", e.end, e.tz));
        line(&mut out, &format!("SUMMARY:{}", text(&e.summary)));
        if let Some(d) = e.description.as_deref().filter(|d| !d.trim().is_empty()) {
            line(&mut out, &format!("DESCRIPTION:{}", text(d)));
        }
        if let Some(l) = &e.location {
            line(&mut out, &format!("LOCATION:{}", text(l)));
        }
        line(&mut out, &format!("STATUS:{}", e.status));
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    Ok(IcsExport {
        events: events.len(),
        text: out,
    })
}

/// What a holiday import did.
#[derive(Debug, Clone, Serialize)]
pub struct HolidayImport {
    /// The closure days of the calendar's all-day events (each date once).
    pub days: Vec<(NaiveDate, String)>,
    /// Timed events, which are not closures.
    pub ignored: usize,
    /// What the closure generator did (created, already closed, appointments hit).
    pub closures: ClosureResult,
}

fn invalid(message: impl Into<String>) -> ApiError {
    DomainError::invalid("ics", message).into()
}

/// Read a holiday calendar's all-day events as (date, name), each date once.
pub fn holiday_days(ics: &str) -> ApiResult<(Vec<(NaiveDate, String)>, usize)> {
    if ics.len() > MAX_ICS_BYTES {
        return Err(invalid(format!(
            "the calendar is larger than {} KiB",
            MAX_ICS_BYTES / 1024
        )));
    }
    if !ics.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err(invalid(
            "this is not an iCalendar file (it must begin with BEGIN:VCALENDAR)",
        ));
    }
    let cal: icalendar::Calendar = ics
        .parse()
        .map_err(|e: String| invalid(format!("the calendar cannot be read: {}", first_line(&e))))?;
    let mut days: BTreeMap<NaiveDate, String> = BTreeMap::new();
    let mut ignored = 0;
    for (n, event) in cal
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .enumerate()
    {
        let name = event
            .get_summary()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("Holiday")
            .to_string();
        let which = format!("event {} ({name})", n + 1);
        if event.property_value("RRULE").is_some() || event.property_value("RDATE").is_some() {
            return Err(invalid(format!(
                "{which} repeats (RRULE/RDATE): export the calendar with each holiday as its own event"
            )));
        }
        let start = match event.get_start() {
            Some(DatePerhapsTime::Date(d)) => d,
            Some(DatePerhapsTime::DateTime(_)) => {
                ignored += 1;
                continue;
            }
            None => return Err(invalid(format!("{which} has no valid DTSTART"))),
        };
        let end = match event.get_end() {
            Some(DatePerhapsTime::Date(d)) => d,
            None => start + Duration::days(1),
            Some(DatePerhapsTime::DateTime(_)) => {
                return Err(invalid(format!(
                    "{which}: DTEND is a time but DTSTART a date"
                )))
            }
        };
        if end <= start {
            return Err(invalid(format!("{which}: DTEND is not after DTSTART")));
        }
        if (end - start).num_days() > 31 {
            return Err(invalid(format!("{which} lasts more than 31 days")));
        }
        let mut d = start;
        while d < end {
            days.entry(d).or_insert_with(|| name.clone());
            d += Duration::days(1);
        }
    }
    Ok((days.into_iter().collect(), ignored))
}

fn first_line(e: &str) -> String {
    e.lines().next().unwrap_or("").chars().take(200).collect()
}

/// Import a holiday calendar into `clinic`'s closures (see the module docs): all or nothing
/// (one transaction of the closure generator), idempotent. Needs `manage_schedule_settings`.
pub fn import_holidays(
    app: &App,
    s: &Session,
    clinic: ClinicId,
    ics: &str,
) -> ApiResult<HolidayImport> {
    app.require(
        s,
        Capability::ManageScheduleSettings,
        clinicdesk_api::Scope::Clinic(clinic),
        "manage availability",
    )?;
    let (days, ignored) = holiday_days(ics)?;
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Err(invalid(
            "the calendar has no all-day events: nothing to close",
        ));
    };
    // The generator's list syntax: "date=name,…" (names lose the separators).
    let list: Vec<String> = days
        .iter()
        .map(|(d, n)| format!("{d}={}", n.replace([',', '=', '\n', '\r'], " ")))
        .collect();
    let closures = app.generate_closures(
        s,
        clinic,
        &Fields::new()
            .with("from", first.0.to_string())
            .with("to", last.0.to_string())
            .with("weekends", "no")
            .with("holidays", list.join(",")),
    )?;
    Ok(HolidayImport {
        days,
        ignored,
        closures,
    })
}
