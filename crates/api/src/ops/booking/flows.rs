//! The booking flows: check the rules, write the appointment, run the effects — book one
//! (`insert_checked`) and move one (`move_one`). Every booking of every area (the front desk,
//! series, the waitlist's accept) goes through these.

use chrono_tz::Tz;
use clinicdesk_domain::{
    AppointmentId, AppointmentSource, AppointmentStatus, CaseId, KpiEventType, RecurrenceSeriesId,
    RoomId, StaffId, TimeRange,
};
use clinicdesk_store::tables::{appointment_types::AppointmentType, appointments::Appointment};
use clinicdesk_store::{table, WriteTx};

use super::effects::{cancel_for, create_for, kpi, offer_freed, record_status};
use super::rules::{check_rules, Candidate};
use crate::error::{ApiError, ApiResult};
use crate::ops::time::{ms, range_ms};

/// What a new appointment carries besides its time and people.
pub(crate) struct Extra {
    pub case_id: Option<CaseId>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub source: AppointmentSource,
    pub series_id: Option<clinicdesk_domain::RecurrenceSeriesId>,
    pub rescheduled_from: Option<AppointmentId>,
}

/// Check every rule and book: the appointment, its status history row, its KPI event and its
/// reminders, in the caller's transaction. Overridable problems need `override_reason`.
pub(crate) fn insert_checked(
    tx: &WriteTx<'_>,
    c: &Candidate<'_>,
    x: Extra,
    override_reason: Option<&str>,
) -> ApiResult<Appointment> {
    let problems = check_rules(tx, c)?;
    if !problems.is_empty() && override_reason.is_none() {
        return Err(ApiError::Conflict(format!(
            "{} (a manager may override with a reason)",
            problems.join("; ")
        )));
    }
    let now = tx.ctx.now_ms;
    let a = Appointment {
        id: AppointmentId::new(),
        clinic_id: c.clinic,
        patient_id: c.patient,
        provider_id: c.provider,
        room_id: c.room,
        appointment_type_id: c.kind.map(|k| k.id),
        start_at: ms(c.range.start()),
        end_at: ms(c.range.end()),
        status: AppointmentStatus::Pending,
        case_id: x.case_id,
        reason: x.reason,
        notes: x.notes,
        source: x.source,
        rescheduled_from_id: x.rescheduled_from,
        series_id: x.series_id,
        cancel_reason: None,
        override_reason: if problems.is_empty() {
            None
        } else {
            override_reason.map(|r| format!("{r} [overrode: {}]", problems.join("; ")))
        },
        checked_in_at: None,
        started_at: None,
        completed_at: None,
        checked_out_at: None,
        cancelled_at: None,
        legacy_id: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    table::insert(tx, &a)?;
    record_status(tx, &a, None, None, false)?;
    kpi(
        tx,
        c.clinic,
        c.tz,
        KpiEventType::AppointmentScheduled,
        Some(&a),
        Some(c.range.duration().num_minutes() as f64),
        Some("minutes"),
    )?;
    create_for(tx, &a)?;
    Ok(a)
}

/// Where a moved appointment goes.
pub(crate) struct Moved {
    pub range: TimeRange,
    pub provider: StaffId,
    pub room: Option<RoomId>,
    pub series_id: Option<RecurrenceSeriesId>,
}

/// Reschedule `old` (which must be live and active): it becomes `rescheduled`, its reminders are
/// cancelled, the new appointment is booked through `insert_checked` linked to it, and the freed
/// time is offered to the waitlist. The one move path, for single moves and series edits.
pub(crate) fn move_one(
    tx: &WriteTx<'_>,
    tz: Tz,
    old: &mut Appointment,
    to: Moved,
    reason: Option<&str>,
    override_reason: Option<&str>,
) -> ApiResult<Appointment> {
    let next = old.status.transition(AppointmentStatus::Rescheduled)?;
    let kind = match old.appointment_type_id {
        Some(t) => table::get::<AppointmentType>(tx, &t)?,
        None => None,
    };
    // The old appointment leaves the schedule first, so the move may overlap its old time.
    let from = old.status;
    old.status = next;
    old.updated_at = tx.ctx.now_ms;
    table::update(tx, old)?;
    record_status(tx, old, Some(from), reason, false)?;
    cancel_for(tx, old)?;
    let c = Candidate {
        clinic: old.clinic_id,
        tz,
        patient: old.patient_id,
        provider: to.provider,
        room: to.room,
        kind: kind.as_ref(),
        range: to.range,
        exclude: Some(old.id),
        hold_exempt: None,
        now_ms: tx.ctx.now_ms,
    };
    let x = Extra {
        case_id: old.case_id,
        reason: old.reason.clone(),
        notes: old.notes.clone(),
        source: old.source,
        series_id: to.series_id,
        rescheduled_from: Some(old.id),
    };
    let new = insert_checked(tx, &c, x, override_reason)?;
    offer_freed(
        tx,
        old.clinic_id,
        old.provider_id,
        range_ms(old.start_at, old.end_at)?,
    )?;
    Ok(new)
}
