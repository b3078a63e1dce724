//! Recurring series ("twice a week for six weeks", "every other Tuesday until a date"): every
//! occurrence is checked before anything is booked and the conflicts are listed; a series is
//! booked in one transaction; one, this-and-following or all occurrences can be edited (moved
//! to another time of day or weekday, another provider, room or length) or cancelled.

use chrono::{Duration, NaiveDateTime, NaiveTime};
use clinicdesk_domain::{
    expand, local_to_utc, weekly_rule, AppointmentId, AppointmentSource, AppointmentStatus,
    AppointmentTypeId, Capability, ClinicId, DomainError, KpiEventType, PatientId,
    RecurrenceSeriesId, RoomId, SeriesSpec, StaffId, TimeRange,
};
use clinicdesk_store::tables::{
    appointment_types::AppointmentType, appointments::Appointment, patients::Patient,
    series::Series, staff::Staff,
};
use clinicdesk_store::{table, WriteTx};
use serde::Serialize;

use super::booking::effects::{kpi, record_status, released};
use super::booking::flows::{insert_checked, move_one, Extra, Moved};
use super::booking::rules::{check_rules, Candidate};
use super::time::clinic_tz;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// One occurrence of a proposed series and whether it can be booked.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct OccurrenceCheck {
    pub index: u32,
    pub local_start: String,
    pub start_at: Option<i64>,
    /// Why it cannot be booked as proposed (None = free).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SeriesResult {
    pub series_id: RecurrenceSeriesId,
    pub booked: Vec<Appointment>,
    pub skipped: Vec<OccurrenceCheck>,
}

struct Parsed {
    clinic: ClinicId,
    tz: chrono_tz::Tz,
    patient: PatientId,
    provider: StaffId,
    room: Option<RoomId>,
    kind: Option<AppointmentType>,
    spec: SeriesSpec,
    rule: String,
    first: NaiveDateTime,
    duration: u32,
    skip_conflicts: bool,
    override_reason: Option<String>,
}

/// Fields: patient_id, provider_id, start (clinic wall-clock "YYYY-MM-DD HH:MM" of the first
/// occurrence), duration_minutes (or appointment_type_id), and either `rule` (RRULE, e.g.
/// FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12) or weekdays (tue,thu) + every_n_weeks + count or until.
/// Optional: room_id, skip_conflicts (book the free ones), override_reason (manager).
fn parse(conn: &rusqlite::Connection, clinic: ClinicId, f: &Fields) -> ApiResult<Parsed> {
    let (_, tz) = clinic_tz(conn, clinic)?;
    let patient = f
        .parsed("patient_id", PatientId::parse)?
        .ok_or_else(|| DomainError::invalid("patient_id", "is required"))?;
    let provider = f
        .parsed("provider_id", StaffId::parse)?
        .ok_or_else(|| DomainError::invalid("provider_id", "is required"))?;
    table::get_live::<Patient>(conn, &patient)?;
    table::get_live::<Staff>(conn, &provider)?;
    let room = f.parsed("room_id", RoomId::parse)?;
    let kind = match f.parsed("appointment_type_id", AppointmentTypeId::parse)? {
        Some(t) => Some(table::get_live::<AppointmentType>(conn, &t)?),
        None => None,
    };
    let first = f
        .parsed("start", |v| {
            ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
                .iter()
                .find_map(|fmt| NaiveDateTime::parse_from_str(v, fmt).ok())
                .ok_or_else(|| {
                    DomainError::invalid(
                        "start",
                        format!("'{v}' is not a local date and time like 2027-03-02 09:00"),
                    )
                })
        })?
        .ok_or_else(|| DomainError::invalid("start", "is required"))?;
    let duration = match (f.int("duration_minutes", 5, 720)?.flatten(), &kind) {
        (Some(d), _) => d as u32,
        (None, Some(k)) => k.duration_minutes as u32,
        (None, None) => {
            return Err(DomainError::invalid(
                "duration_minutes",
                "give a duration or an appointment type",
            )
            .into())
        }
    };
    let given_rule = f.text("rule")?.flatten();
    let days = f.text("weekdays")?.flatten();
    let every = f.int("every_n_weeks", 1, 52)?.flatten().unwrap_or(1) as u32;
    let count = f.int("count", 1, 500)?.flatten().map(|c| c as u32);
    let until = f.date("until")?.flatten();
    let rule = match (given_rule, days) {
        (Some(_), Some(_)) => {
            return Err(
                DomainError::invalid("rule", "give either a rule or weekdays, not both").into(),
            )
        }
        (Some(r), None) => r,
        (None, Some(days)) => {
            let days = clinicdesk_domain::parse_weekdays("weekdays", &days)?;
            weekly_rule(&days, every, count, until, tz)?
        }
        (None, None) => {
            return Err(DomainError::invalid(
                "rule",
                "give a rule (e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=6) or weekdays",
            )
            .into())
        }
    };
    let skip_conflicts = f.bool("skip_conflicts")?.unwrap_or(false);
    let override_reason = f.text("override_reason")?.flatten();
    f.finish()?;
    let spec = SeriesSpec::parse(tz, first, duration, &rule)?;
    Ok(Parsed {
        clinic,
        tz,
        patient,
        provider,
        room,
        kind,
        spec,
        rule,
        first,
        duration,
        skip_conflicts,
        override_reason,
    })
}

fn check_all(
    conn: &rusqlite::Connection,
    p: &Parsed,
    now_ms: i64,
) -> ApiResult<Vec<OccurrenceCheck>> {
    let mut out = Vec::new();
    for o in expand(&p.spec)? {
        let local_start = o.local_start.format("%a %Y-%m-%d %H:%M").to_string();
        let Some(range) = o.range else {
            out.push(OccurrenceCheck {
                index: o.index,
                local_start: local_start.clone(),
                start_at: None,
                problem: Some(format!(
                    "{} does not exist in {} (clocks jump forward)",
                    local_start,
                    p.tz.name()
                )),
            });
            continue;
        };
        let c = Candidate {
            clinic: p.clinic,
            tz: p.tz,
            patient: p.patient,
            provider: p.provider,
            room: p.room,
            kind: p.kind.as_ref(),
            range,
            exclude: None,
            hold_exempt: None,
            now_ms,
        };
        let problem = match check_rules(conn, &c) {
            Ok(v) if v.is_empty() => None,
            Ok(v) if p.override_reason.is_some() => {
                let _ = v;
                None
            }
            Ok(v) => Some(v.join("; ")),
            Err(ApiError::Conflict(m)) => Some(m),
            Err(e) => return Err(e),
        };
        out.push(OccurrenceCheck {
            index: o.index,
            local_start,
            start_at: Some(range.start().timestamp_millis()),
            problem,
        });
    }
    Ok(out)
}

impl App {
    /// Every occurrence of a proposed series with its conflicts; books nothing.
    pub fn preview_series(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<Vec<OccurrenceCheck>> {
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(clinic),
            "book appointments",
        )?;
        self.store.read(|c| {
            let p = parse(c, clinic, f)?;
            check_all(c, &p, clinicdesk_store::now_ms())
        })
    }

    /// Book a whole series in one transaction. Refused, listing every conflicting occurrence,
    /// unless `skip_conflicts=yes` (then the free occurrences are booked and the rest listed).
    pub fn book_series(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<SeriesResult> {
        self.require_booking(s, clinic, f, "book appointments")?;
        self.tx(s, |tx| {
            let p = parse(tx, clinic, f)?;
            let checks = check_all(tx, &p, tx.ctx.now_ms)?;
            let conflicts: Vec<&OccurrenceCheck> =
                checks.iter().filter(|c| c.problem.is_some()).collect();
            if !conflicts.is_empty() && !p.skip_conflicts {
                let list = conflicts
                    .iter()
                    .map(|c| format!("{}: {}", c.local_start, c.problem.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(" | ");
                return Err(ApiError::Conflict(format!(
                    "{} of {} occurrences cannot be booked — {list}",
                    conflicts.len(),
                    checks.len()
                )));
            }
            if conflicts.len() == checks.len() {
                return Err(ApiError::Conflict(
                    "none of the occurrences can be booked".into(),
                ));
            }
            let now = tx.ctx.now_ms;
            let series = Series {
                id: RecurrenceSeriesId::new(),
                clinic_id: clinic,
                patient_id: p.patient,
                provider_id: p.provider,
                room_id: p.room,
                appointment_type_id: p.kind.as_ref().map(|k| k.id),
                rrule: p.rule.clone(),
                timezone: p.tz.name().to_string(),
                first_local_start: p.first.format("%Y-%m-%dT%H:%M").to_string(),
                duration_minutes: i64::from(p.duration),
                status: "active".into(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &series)?;
            let mut booked = Vec::new();
            let mut skipped = Vec::new();
            for (o, c) in expand(&p.spec)?.into_iter().zip(checks) {
                match (o.range, &c.problem) {
                    (Some(range), None) => {
                        let cand = Candidate {
                            clinic,
                            tz: p.tz,
                            patient: p.patient,
                            provider: p.provider,
                            room: p.room,
                            kind: p.kind.as_ref(),
                            range,
                            exclude: None,
                            hold_exempt: None,
                            now_ms: now,
                        };
                        let x = Extra {
                            case_id: None,
                            reason: None,
                            notes: None,
                            source: AppointmentSource::FrontDesk,
                            series_id: Some(series.id),
                            rescheduled_from: None,
                        };
                        booked.push(insert_checked(tx, &cand, x, p.override_reason.as_deref())?);
                    }
                    _ => skipped.push(c),
                }
            }
            Ok(SeriesResult {
                series_id: series.id,
                booked,
                skipped,
            })
        })
    }

    /// Edit one occurrence (`one`), it and every later one (`following`) or every future one
    /// (`all`) of the series `appointment` belongs to. Fields (at least one change): `time`
    /// (new wall-clock start "HH:MM"), `shift_days` (move each occurrence by −6…6 days, e.g.
    /// Tuesday → Wednesday), `duration_minutes`, `provider_id`, `room_id` (empty = none);
    /// optional `reason`, `override_reason` (manager). Every moved occurrence is checked first and
    /// all conflicts are listed; nothing changes unless all can move. Each move is a reschedule
    /// (new appointment linked to the old). `following` splits the series: the moved occurrences
    /// join a new series that starts at the first of them; `all` updates the series itself.
    pub fn edit_series(
        &self,
        s: &Session,
        appointment: AppointmentId,
        scope: &str,
        f: &Fields,
    ) -> ApiResult<SeriesResult> {
        let clinic = self.appointment_clinic(appointment)?;
        let override_reason = self.require_booking(s, clinic, f, "move appointments")?;
        let scope = SeriesScope::parse(scope)?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let chosen = table::get_live::<Appointment>(tx, &appointment)?;
            let series_id = chosen.series_id.ok_or_else(|| {
                DomainError::invalid("appointment", "this appointment is not part of a series")
            })?;
            let time = f.parsed("time", |v| {
                NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
                    DomainError::invalid("time", format!("'{v}' is not a time like 09:30"))
                })
            })?;
            let shift = f.int("shift_days", -6, 6)?.flatten().unwrap_or(0);
            let duration = f.int("duration_minutes", 5, 720)?.flatten();
            let provider = f.parsed("provider_id", StaffId::parse)?;
            let room = match f.text("room_id")? {
                None => None,
                Some(None) => Some(None),
                Some(Some(r)) => Some(Some(RoomId::parse(&r)?)),
            };
            let reason = f.text("reason")?.flatten();
            f.finish()?;
            if time.is_none() && shift == 0 && duration.is_none() && provider.is_none() && room.is_none() {
                return Err(DomainError::invalid(
                    "time",
                    "nothing to change: give a time, shift_days, duration_minutes, provider_id or room_id",
                )
                .into());
            }
            if let Some(p) = provider {
                table::get_live::<Staff>(tx, &p)?;
            }
            let rows = occurrences(tx, series_id, appointment, scope, "moved")?;
            let mut series = table::get_live::<Series>(tx, &series_id)?;
            // Where each occurrence goes, on the clinic's wall clock.
            let mut plan = Vec::with_capacity(rows.len());
            let mut problems = Vec::new();
            for a in &rows {
                let local = chrono::DateTime::from_timestamp_millis(a.start_at)
                    .ok_or_else(|| DomainError::invalid("start_at", "out of range"))?
                    .with_timezone(&tz)
                    .naive_local();
                let day = local.date() + Duration::days(shift);
                let at = day.and_time(time.unwrap_or(local.time()));
                let label = at.format("%a %Y-%m-%d %H:%M").to_string();
                let length = duration
                    .map(Duration::minutes)
                    .unwrap_or(Duration::milliseconds(a.end_at - a.start_at));
                let start = match local_to_utc(tz, at) {
                    Ok(t) => t,
                    Err(e) => {
                        problems.push(format!("{label}: {e}"));
                        continue;
                    }
                };
                let range = TimeRange::new(start, start + length)?;
                let to_provider = provider.unwrap_or(a.provider_id);
                let to_room = room.unwrap_or(a.room_id);
                let kind = match a.appointment_type_id {
                    Some(t) => table::get::<AppointmentType>(tx, &t)?,
                    None => None,
                };
                let c = Candidate {
                    clinic,
                    tz,
                    patient: a.patient_id,
                    provider: to_provider,
                    room: to_room,
                    kind: kind.as_ref(),
                    range,
                    exclude: Some(a.id),
                    hold_exempt: None,
                    now_ms: tx.ctx.now_ms,
                };
                match check_rules(tx, &c) {
                    Ok(v) if v.is_empty() || override_reason.is_some() => {}
                    Ok(v) => problems.push(format!(
                        "{label}: {} (a manager may override with a reason)",
                        v.join("; ")
                    )),
                    Err(ApiError::Conflict(m)) => problems.push(format!("{label}: {m}")),
                    Err(e) => return Err(e),
                }
                plan.push((a.clone(), at, range, to_provider, to_room));
            }
            if !problems.is_empty() {
                return Err(ApiError::Conflict(format!(
                    "{} of {} occurrences cannot move — {}",
                    problems.len(),
                    rows.len(),
                    problems.join(" | ")
                )));
            }
            let now = tx.ctx.now_ms;
            let target_series = match scope {
                SeriesScope::One => series.id,
                SeriesScope::All => {
                    let (_, first_at, first_range, p, r) = &plan[0];
                    series.provider_id = *p;
                    series.room_id = *r;
                    series.duration_minutes = (first_range.end() - first_range.start()).num_minutes();
                    series.first_local_start = first_at.format("%Y-%m-%dT%H:%M").to_string();
                    series.updated_at = now;
                    table::update(tx, &series)?;
                    series.id
                }
                SeriesScope::Following => {
                    let (_, first_at, first_range, p, r) = &plan[0];
                    let split = Series {
                        id: RecurrenceSeriesId::new(),
                        provider_id: *p,
                        room_id: *r,
                        duration_minutes: (first_range.end() - first_range.start()).num_minutes(),
                        first_local_start: first_at.format("%Y-%m-%dT%H:%M").to_string(),
                        status: "active".into(),
                        created_at: now,
                        updated_at: now,
                        deleted_at: None,
                        ..series.clone()
                    };
                    table::insert(tx, &split)?;
                    split.id
                }
            };
            let mut booked = Vec::with_capacity(plan.len());
            for (mut old, _, range, provider, room) in plan {
                let to = Moved {
                    range,
                    provider,
                    room,
                    series_id: Some(target_series),
                };
                booked.push(move_one(
                    tx,
                    tz,
                    &mut old,
                    to,
                    reason.as_deref(),
                    override_reason.as_deref(),
                )?);
            }
            Ok(SeriesResult {
                series_id: target_series,
                booked,
                skipped: Vec::new(),
            })
        })
    }

    /// Cancel one occurrence (`one`), it and every later one (`following`) or every future one
    /// (`all`) of the series `appointment` belongs to. Only active, not-yet-started occurrences
    /// are cancelled; returns the cancelled appointments.
    pub fn cancel_series(
        &self,
        s: &Session,
        appointment: AppointmentId,
        scope: &str,
        reason: &str,
    ) -> ApiResult<Vec<Appointment>> {
        let a = self
            .store
            .read(|c| table::get_live::<Appointment>(c, &appointment))?;
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(a.clinic_id),
            "cancel appointments",
        )?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "a cancellation needs a reason").into());
        }
        let series = a.series_id.ok_or_else(|| {
            DomainError::invalid("appointment", "this appointment is not part of a series")
        })?;
        let scope = SeriesScope::parse(scope)?;
        self.tx(s, |tx| {
            let rows = occurrences(tx, series, appointment, scope, "cancelled")?;
            let mut out = Vec::new();
            for mut r in rows {
                out.push(cancel_one(tx, &mut r, reason)?);
            }
            if scope == SeriesScope::All {
                let mut ser = table::get_live::<Series>(tx, &series)?;
                ser.status = "cancelled".into();
                ser.updated_at = tx.ctx.now_ms;
                table::update(tx, &ser)?;
            }
            Ok(out)
        })
    }
}

/// Which occurrences of a series an edit or cancellation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesScope {
    /// Only the chosen occurrence.
    One,
    /// The chosen occurrence and every later one.
    Following,
    /// Every occurrence that has not started yet.
    All,
}

impl SeriesScope {
    pub fn parse(s: &str) -> Result<SeriesScope, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "one" => Ok(SeriesScope::One),
            "following" => Ok(SeriesScope::Following),
            "all" => Ok(SeriesScope::All),
            other => Err(DomainError::invalid(
                "scope",
                format!("'{other}' is not one, following or all"),
            )),
        }
    }
}

/// The series' occurrences in `scope` (relative to `appointment`) that can still change: live,
/// active and not yet started. An empty range is a conflict naming what could not be `done`.
fn occurrences(
    tx: &WriteTx<'_>,
    series: RecurrenceSeriesId,
    appointment: AppointmentId,
    scope: SeriesScope,
    done: &str,
) -> ApiResult<Vec<Appointment>> {
    let filter = match scope {
        SeriesScope::One => "AND id = ?2",
        SeriesScope::Following => {
            "AND start_at >= (SELECT start_at FROM appointments WHERE id = ?2)"
        }
        SeriesScope::All => "AND ?2 IS NOT NULL",
    };
    let rows = table::select::<Appointment, _>(
        tx,
        &format!(
            "WHERE series_id = ?1 AND deleted_at IS NULL AND status IN {upcoming}
             AND start_at > ?3 {filter} ORDER BY start_at",
            upcoming = AppointmentStatus::sql_in(AppointmentStatus::is_upcoming)
        ),
        rusqlite::params![series.to_string(), appointment.to_string(), tx.ctx.now_ms],
    )?;
    if rows.is_empty() {
        return Err(ApiError::Conflict(format!(
            "no occurrence in that range can still be {done} (only future, active occurrences can)"
        )));
    }
    Ok(rows)
}

fn cancel_one(tx: &WriteTx<'_>, a: &mut Appointment, reason: &str) -> ApiResult<Appointment> {
    let (_, tz) = clinic_tz(tx, a.clinic_id)?;
    let from = a.status;
    a.status = a.status.transition(AppointmentStatus::Cancelled)?;
    a.cancel_reason = Some(reason.to_string());
    a.cancelled_at = Some(tx.ctx.now_ms);
    a.updated_at = tx.ctx.now_ms;
    table::update(tx, a)?;
    record_status(tx, a, Some(from), Some(reason), false)?;
    kpi(
        tx,
        a.clinic_id,
        tz,
        KpiEventType::AppointmentCancelled,
        Some(a),
        None,
        None,
    )?;
    released(tx, a)?;
    Ok(a.clone())
}
