//! The booking rules, pure of effects: given a candidate appointment, the problems that stop
//! it (an `Err` naming the first hard conflict) and the overridable ones (outside working
//! hours, a missing credential). Reads only; never writes. The booking flows, the waitlist's
//! auto-offer and (later) the sync's re-check all ask these.

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinicdesk_domain::{
    credential_valid_on, is_slot_available, merge, parse_date, AppointmentId, AppointmentStatus,
    ClinicId, CredentialStatus, CredentialTypeId, PatientId, RoomId, ScheduleStatus, SlotConflict,
    StaffId, TimeRange,
};
use clinicdesk_store::table;
use clinicdesk_store::tables::{
    adverse_actions::AdverseAction, appointment_types::AppointmentType, appointments::Appointment,
    availability_blocks::AvailabilityBlock, credential_types::CredentialType, staff::Staff,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{ApiError, ApiResult};
use crate::ops::time::{instant, local_day, local_hm, ms};

/// The longest appointment the overlap queries consider (keeps them on the time indexes).
pub(crate) const MAX_APPOINTMENT_MS: i64 = 12 * 3600 * 1000;

fn person(conn: &Connection, table_name: &str, id: &str) -> String {
    conn.query_row(
        &format!("SELECT first_name || ' ' || last_name FROM {table_name} WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )
    .unwrap_or_else(|_| "someone".to_string())
}

/// The other appointment's patient as the front desk may hear it: by name when the patient
/// belongs to the clinic being booked (whose patients the booking user works with), otherwise
/// only that there is one. Messages never carry ids.
fn their_patient(conn: &Connection, patient: PatientId, clinic: ClinicId) -> String {
    let home: Option<String> = conn
        .query_row(
            "SELECT clinic_id FROM patients WHERE id = ?1",
            [patient.to_string()],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten();
    if home.as_deref() == Some(clinic.to_string().as_str()) {
        format!("with {}", person(conn, "patients", &patient.to_string()))
    } else {
        "with a patient of another clinic".to_string()
    }
}

/// What a booking or move must satisfy; the caller may override the working-hours and
/// credential rules (manager, with a reason).
pub(crate) struct Candidate<'a> {
    pub clinic: ClinicId,
    pub tz: Tz,
    pub patient: PatientId,
    pub provider: StaffId,
    pub room: Option<RoomId>,
    pub kind: Option<&'a AppointmentType>,
    pub range: TimeRange,
    pub exclude: Option<AppointmentId>,
    /// The waitlist offer being accepted: its own hold does not block it.
    pub hold_exempt: Option<String>,
    /// The instant the rules are checked at (the transaction's time): holds that lapsed
    /// before it no longer block.
    pub now_ms: i64,
}

/// Every rule of SPEC.md, in the order a receptionist would want to hear them. Returns the
/// list of overridable problems (outside working hours, missing credential) separately.
pub(crate) fn check_rules(conn: &Connection, c: &Candidate<'_>) -> ApiResult<Vec<String>> {
    let (start, end) = (ms(c.range.start()), ms(c.range.end()));
    let exclude = c.exclude.map(|e| e.to_string()).unwrap_or_default();
    let tz = c.tz;
    let active = AppointmentStatus::sql_in(AppointmentStatus::is_active);
    let overlap = |col: &str, id: &str| -> ApiResult<Option<Appointment>> {
        let sql = format!(
            "SELECT * FROM appointments WHERE {col} = ?1 AND deleted_at IS NULL AND status IN {active}
             AND start_at < ?3 AND start_at > ?2 - {MAX_APPOINTMENT_MS} AND end_at > ?2 AND id <> ?4 ORDER BY start_at LIMIT 1"
        );
        Ok(conn
            .prepare_cached(&sql)?
            .query_row(
                params![id, start, end, exclude],
                table::map_row::<Appointment>,
            )
            .optional()?)
    };
    if let Some(a) = overlap("provider_id", &c.provider.to_string())? {
        return Err(ApiError::Conflict(format!(
            "{} already has an appointment from {} to {} on {} ({})",
            person(conn, "staff_profiles", &c.provider.to_string()),
            local_hm(tz, a.start_at),
            local_hm(tz, a.end_at),
            local_day(tz, a.start_at),
            their_patient(conn, a.patient_id, c.clinic),
        )));
    }
    if let Some(room) = c.room {
        if let Some(a) = overlap("room_id", &room.to_string())? {
            let name: String = conn.query_row(
                "SELECT name FROM ops_treatment_rooms WHERE id = ?1",
                [room.to_string()],
                |r| r.get(0),
            )?;
            return Err(ApiError::Conflict(format!(
                "{name} is already booked from {} to {} on {}",
                local_hm(tz, a.start_at),
                local_hm(tz, a.end_at),
                local_day(tz, a.start_at),
            )));
        }
    }
    if let Some(a) = overlap("patient_id", &c.patient.to_string())? {
        return Err(ApiError::Conflict(format!(
            "{} already has an appointment from {} to {} on {} with {}",
            person(conn, "patients", &c.patient.to_string()),
            local_hm(tz, a.start_at),
            local_hm(tz, a.end_at),
            local_day(tz, a.start_at),
            person(conn, "staff_profiles", &a.provider_id.to_string()),
        )));
    }
    // A slot held for a waitlist offer cannot be booked by anyone else until the hold ends.
    let held: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT id, expires_at FROM waitlist_offers WHERE provider_id = ?1 AND outcome = 'pending' AND expires_at > ?2
             AND start_at < ?4 AND end_at > ?3 AND deleted_at IS NULL AND id <> ?5 LIMIT 1",
        )?
        .query_row(
            params![c.provider.to_string(), c.now_ms, start, end, c.hold_exempt.clone().unwrap_or_default()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((_, until)) = held {
        return Err(ApiError::Conflict(format!(
            "this time is held for a waitlist patient until {} {}",
            local_day(tz, until),
            local_hm(tz, until)
        )));
    }
    // Availability blocks that close the time (clinic-wide or this provider's).
    let blocks = table::select::<AvailabilityBlock, _>(
        conn,
        "WHERE clinic_id = ?1 AND (provider_id IS NULL OR provider_id = ?2) AND deleted_at IS NULL
         AND start_at < ?4 AND end_at > ?3 ORDER BY start_at",
        params![c.clinic.to_string(), c.provider.to_string(), start, end],
    )?;
    if let Some(b) = blocks.iter().find(|b| !b.is_available) {
        return Err(ApiError::Conflict(format!(
            "this time is blocked: {} ({} {} – {} {})",
            b.block_reason.as_deref().unwrap_or("closed"),
            local_day(tz, b.start_at),
            local_hm(tz, b.start_at),
            local_day(tz, b.end_at),
            local_hm(tz, b.end_at),
        )));
    }
    let mut overridable = Vec::new();
    // Working time: the provider's assigned shifts plus 'available' blocks.
    let mut working: Vec<TimeRange> = conn
        .prepare_cached(&format!(
            "SELECT start_at, end_at FROM ops_staff_schedules WHERE staff_id = ?1 AND deleted_at IS NULL
             AND status IN {} AND start_at < ?3 AND end_at > ?2",
            ScheduleStatus::sql_in(ScheduleStatus::is_assigned)
        ))?
        .query_map(params![c.provider.to_string(), start, end], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .filter_map(|r| r.ok())
        .filter_map(|(a, b)| TimeRange::new(instant(a), instant(b)).ok())
        .collect();
    working.extend(
        blocks
            .iter()
            .filter(|b| b.is_available)
            .filter_map(|b| TimeRange::new(instant(b.start_at), instant(b.end_at)).ok()),
    );
    if let Err(SlotConflict::OutsideWorkingHours) =
        is_slot_available(&c.range, &merge(working), &[], &[])
    {
        overridable.push(format!(
            "{} is not scheduled to work {} {}–{}",
            person(conn, "staff_profiles", &c.provider.to_string()),
            local_day(tz, start),
            local_hm(tz, start),
            local_hm(tz, end)
        ));
    }
    // Credentials the provider must hold on the appointment's (local) date.
    let date = instant(start).with_timezone(&tz).date_naive();
    for problem in missing_credentials(conn, c.provider, c.kind, date)? {
        overridable.push(problem);
    }
    Ok(overridable)
}

/// Required credential types for this provider and appointment type that the provider will
/// not hold, valid, on `date` — in words.
pub fn missing_credentials(
    conn: &Connection,
    provider: StaffId,
    kind: Option<&AppointmentType>,
    date: NaiveDate,
) -> ApiResult<Vec<String>> {
    missing_credentials_for(conn, provider, kind, date, "this appointment")
}

/// As [`missing_credentials`]; `what` names the work in the message ("this shift").
pub(crate) fn missing_credentials_for(
    conn: &Connection,
    provider: StaffId,
    kind: Option<&AppointmentType>,
    date: NaiveDate,
    what: &str,
) -> ApiResult<Vec<String>> {
    let staff = table::get_live::<Staff>(conn, &provider)?;
    let mut required: Vec<CredentialTypeId> = kind
        .map(|k| k.required_credential_type_ids.clone())
        .unwrap_or_default();
    if staff.is_clinical {
        for t in table::select::<CredentialType, _>(
            conn,
            "WHERE deleted_at IS NULL AND is_active = 1",
            [],
        )? {
            let by_discipline = staff
                .discipline
                .as_ref()
                .is_some_and(|d| t.required_for_disciplines.iter().any(|x| x == d));
            if (t.is_required_for_clinical || by_discipline) && !required.contains(&t.id) {
                required.push(t.id);
            }
        }
    }
    let name = format!("{} {}", staff.first_name, staff.last_name);
    let day = date.format("%Y-%m-%d").to_string();
    let mut problems = Vec::new();
    for t in required {
        let ty = table::get::<CredentialType>(conn, &t)?;
        let ty_name = ty
            .map(|t| t.name)
            .unwrap_or_else(|| "a required credential".into());
        let creds = conn
            .prepare_cached(
                "SELECT id, status, expiry_date FROM ops_credentials WHERE staff_id = ?1 AND credential_type_id = ?2 AND deleted_at IS NULL
                 ORDER BY coalesce(expiry_date, '9999-12-31') DESC",
            )?
            .query_map(params![provider.to_string(), t.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut valid = false;
        for (id, status, expiry) in &creds {
            let status = CredentialStatus::parse(status)?;
            let expiry = expiry
                .as_deref()
                .map(|e| parse_date("expiry_date", e))
                .transpose()?;
            let acts = table::select::<AdverseAction, _>(
                conn,
                "WHERE credential_id = ?1 AND deleted_at IS NULL",
                [id],
            )?;
            if credential_valid_on(status, expiry, &acts, date) {
                valid = true;
                break;
            }
        }
        if !valid {
            let why = match creds.first() {
                None => format!("{name} has no {ty_name} on file"),
                Some((_, _, Some(exp))) if exp.as_str() < day.as_str() => {
                    format!("{name}'s {ty_name} expires on {exp}, before {what} on {day}")
                }
                Some((_, status, _)) if status != "active" && status != "pending_renewal" => {
                    format!("{name}'s {ty_name} is {status}")
                }
                Some(_) => format!("{name}'s {ty_name} is suspended on {day}"),
            };
            problems.push(why);
        }
    }
    Ok(problems)
}
