//! Recurring series ("twice a week for six weeks", "every other Tuesday until a date"): every
//! occurrence is checked before anything is booked and the conflicts are listed; a series is
//! booked in one transaction; one, this-and-following or all occurrences can be cancelled.

use chrono::{NaiveDateTime, Weekday};
use clinicdesk_domain::{
    expand, weekly_rule, AppointmentId, AppointmentSource, AppointmentStatus, AppointmentTypeId,
    Capability, ClinicId, DomainError, KpiEventType, PatientId, RecurrenceSeriesId, RoomId,
    SeriesSpec, StaffId,
};
use clinicdesk_store::tables::{
    appointment_types::AppointmentType, appointments::Appointment, patients::Patient,
    series::Series, staff::Staff,
};
use clinicdesk_store::{table, WriteTx};
use serde::Serialize;

use super::scheduling::{
    check_rules, clinic_tz, insert_checked, kpi, range_ms, record_status, Candidate, Extra,
};
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// One occurrence of a proposed series and whether it can be booked.
#[derive(Debug, Clone, Serialize)]
pub struct OccurrenceCheck {
    pub index: u32,
    pub local_start: String,
    pub start_at: Option<i64>,
    /// Why it cannot be booked as proposed (None = free).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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

fn weekday(s: &str) -> Result<Weekday, DomainError> {
    s.trim().parse::<Weekday>().map_err(|_| {
        DomainError::invalid("weekdays", format!("'{s}' is not a weekday (mon, tue, …)"))
    })
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
    table::get_live::<Patient>(conn, &patient.to_string())?;
    table::get_live::<Staff>(conn, &provider.to_string())?;
    let room = f.parsed("room_id", RoomId::parse)?;
    let kind = match f.parsed("appointment_type_id", AppointmentTypeId::parse)? {
        Some(t) => Some(table::get_live::<AppointmentType>(conn, &t.to_string())?),
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
    let given_rule = f.text("rule").flatten();
    let days = f.text("weekdays").flatten();
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
            let days = days
                .split(',')
                .filter(|d| !d.trim().is_empty())
                .map(weekday)
                .collect::<Result<Vec<_>, _>>()?;
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
    let override_reason = f.text("override_reason").flatten();
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

fn check_all(conn: &rusqlite::Connection, p: &Parsed) -> ApiResult<Vec<OccurrenceCheck>> {
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
            check_all(c, &p)
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
            let checks = check_all(tx, &p)?;
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
            .read(|c| table::get_live::<Appointment>(c, &appointment.to_string()))?;
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
        let filter = match scope {
            "one" => "AND id = ?2",
            "following" => "AND start_at >= (SELECT start_at FROM appointments WHERE id = ?2)",
            "all" => "AND ?2 IS NOT NULL",
            other => {
                return Err(DomainError::invalid(
                    "scope",
                    format!("'{other}' is not one, following or all"),
                )
                .into())
            }
        };
        self.tx(s, |tx| {
            let rows = table::select::<Appointment, _>(
                tx,
                &format!("WHERE series_id = ?1 AND deleted_at IS NULL AND status IN ('pending','confirmed','reminded') {filter} ORDER BY start_at"),
                rusqlite::params![series.to_string(), appointment.to_string()],
            )?;
            if rows.is_empty() {
                return Err(ApiError::Conflict("no occurrence in that range can still be cancelled".into()));
            }
            let mut out = Vec::new();
            for mut r in rows {
                out.push(cancel_one(tx, &mut r, reason)?);
            }
            if scope == "all" {
                let mut ser = table::get_live::<Series>(tx, &series.to_string())?;
                ser.status = "cancelled".into();
                ser.updated_at = tx.ctx.now_ms;
                table::update(tx, &ser)?;
            }
            Ok(out)
        })
    }
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
    super::reminders::cancel_for(tx, a)?;
    let freed = range_ms(a.start_at, a.end_at)?;
    super::waitlist::offer_freed(tx, a.clinic_id, a.provider_id, freed)?;
    Ok(a.clone())
}
