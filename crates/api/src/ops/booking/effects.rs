//! The effects of a booking change, apart from the rules and the flows: the status history
//! row, the appointment's KPI events, its reminders (created when booked, cancelled when it
//! leaves the schedule), and the offer of a freed slot to the waitlist. Each runs in the
//! caller's transaction. The sync applies remote rows without these: a change that arrives
//! from another PC already carries its effects.

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use clinicdesk_domain::{
    AppointmentStatus, ClinicId, ContactMethod, KpiEventType, ReminderChannel, ReminderId,
    ReminderStatus, StaffId, TimeRange, WaitlistStatus,
};
use clinicdesk_store::tables::{
    appointment_types::AppointmentType, appointments::Appointment, clinics::Clinic,
    patients::Patient, reminders::Reminder, waitlist::*,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::params;

use super::rules::{check_rules, Candidate};
use crate::error::ApiResult;
use crate::ops::time::{clinic_tz, range_ms};

pub(crate) fn record_status(
    tx: &WriteTx<'_>,
    a: &Appointment,
    from: Option<AppointmentStatus>,
    reason: Option<&str>,
    correction: bool,
) -> ApiResult<()> {
    let now = tx.ctx.now_ms;
    tx.execute(
        "INSERT INTO appointment_status_history (id, clinic_id, appointment_id, from_status, to_status, changed_at, changed_by, reason, is_correction, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?6, ?6)",
        params![
            uuid::Uuid::now_v7().to_string(),
            a.clinic_id.to_string(),
            a.id.to_string(),
            from.map(|s| s.as_str()),
            a.status.as_str(),
            now,
            tx.ctx.user_id,
            reason,
            correction
        ],
    )?;
    Ok(())
}

/// Record a KPI event in the caller's transaction (about `a` when given). Every KPI event is
/// built by `kpis::new_event` and written by the row layer.
pub(crate) fn kpi(
    tx: &WriteTx<'_>,
    clinic: ClinicId,
    tz: Tz,
    kind: KpiEventType,
    a: Option<&Appointment>,
    value: Option<f64>,
    unit: Option<&str>,
) -> ApiResult<()> {
    let mut e = crate::ops::kpis::new_event(tx, tz, kind, clinic);
    if let Some(a) = a {
        e.staff_id = Some(a.provider_id);
        e.patient_id = Some(a.patient_id);
        e.case_id = a.case_id;
        e.dimensions = serde_json::json!({ "source": a.source.as_str(), "appointment_type_id": a.appointment_type_id });
        e.related_entity_type = Some("appointment".into());
        e.related_entity_id = Some(a.id.to_string());
    }
    e.metric_value = value;
    e.metric_unit = unit.map(str::to_string);
    table::insert(tx, &e)?;
    Ok(())
}

// Reminders ----------------------------------------------------------------------------------

/// The channel a reminder may use for this patient, if any.
pub(crate) fn reminder_channel(p: &Patient) -> Option<ReminderChannel> {
    match p.preferred_contact_method {
        ContactMethod::Sms if p.consent_sms && p.phone.is_some() => Some(ReminderChannel::Sms),
        ContactMethod::Email if p.consent_email && p.email.is_some() => {
            Some(ReminderChannel::Email)
        }
        ContactMethod::Phone if p.phone.is_some() => Some(ReminderChannel::Phone),
        _ => None,
    }
}

/// Create the reminders of a newly booked appointment (in the booking's transaction).
pub(crate) fn create_for(tx: &WriteTx<'_>, a: &Appointment) -> ApiResult<Vec<Reminder>> {
    let clinic = table::get_live::<Clinic>(tx, &a.clinic_id)?;
    let patient = table::get_live::<Patient>(tx, &a.patient_id)?;
    let Some(channel) = reminder_channel(&patient) else {
        return Ok(Vec::new());
    };
    let now = tx.ctx.now_ms;
    let mut out = Vec::new();
    for offset in &clinic.reminder_offsets_minutes {
        let due = a.start_at - offset * 60_000;
        if due <= now {
            continue;
        }
        let r = Reminder {
            id: ReminderId::new(),
            clinic_id: a.clinic_id,
            appointment_id: a.id,
            channel,
            due_at: due,
            status: ReminderStatus::Pending,
            sent_at: None,
            failure_reason: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        table::insert(tx, &r)?;
        out.push(r);
    }
    Ok(out)
}

/// Cancel the pending (or failed) reminders of an appointment that is cancelled, moved or missed.
pub(crate) fn cancel_for(tx: &WriteTx<'_>, a: &Appointment) -> ApiResult<()> {
    let pending = table::select::<Reminder, _>(
        tx,
        &format!(
            "WHERE appointment_id = ?1 AND status IN {} AND deleted_at IS NULL",
            ReminderStatus::sql_in(ReminderStatus::is_unsent)
        ),
        [a.id.to_string()],
    )?;
    for mut r in pending {
        r.status = r.status.transition(ReminderStatus::Cancelled)?;
        r.updated_at = tx.ctx.now_ms;
        table::update(tx, &r)?;
    }
    Ok(())
}

// The waitlist's auto-offer ---------------------------------------------------------------------

/// How long an offer holds its slot (never past the slot's start).
pub const OFFER_HOLD_MINUTES: i64 = 120;
const STEP_MS: i64 = 15 * 60_000;

fn fits_preferences(e: &WaitlistEntry, tz: Tz, range: &TimeRange) -> bool {
    let (s, end) = (
        range.start().with_timezone(&tz),
        range.end().with_timezone(&tz),
    );
    let date = s.date_naive();
    if date < e.earliest_date || date > e.latest_date {
        return false;
    }
    if !e.preferred_days.is_empty() && !e.preferred_days.contains(&s.weekday().number_from_monday())
    {
        return false;
    }
    let hm = |t: chrono::DateTime<Tz>| format!("{:02}:{:02}", t.hour(), t.minute());
    if let Some(from) = &e.preferred_time_start {
        if hm(s) < *from {
            return false;
        }
    }
    if let Some(to) = &e.preferred_time_end {
        if end.date_naive() != date || hm(end) > *to {
            return false;
        }
    }
    true
}

/// Offer (part of) the freed `window` of `provider` to the best waiting entry that fits.
/// Returns the offer made, if any. Runs in the caller's transaction.
pub(crate) fn offer_freed(
    tx: &WriteTx<'_>,
    clinic: ClinicId,
    provider: StaffId,
    window: TimeRange,
) -> ApiResult<Option<WaitlistOffer>> {
    let now = tx.ctx.now_ms;
    let (w_start, w_end) = (
        window.start().timestamp_millis(),
        window.end().timestamp_millis(),
    );
    if w_end <= now {
        return Ok(None);
    }
    let (_, tz) = clinic_tz(tx, clinic)?;
    let entries = table::select::<WaitlistEntry, _>(
        tx,
        "WHERE clinic_id = ?1 AND status = 'waiting' AND deleted_at IS NULL ORDER BY priority, created_at",
        [clinic.to_string()],
    )?;
    for e in entries {
        if !e.provider_ids.is_empty() && !e.provider_ids.contains(&provider) {
            continue;
        }
        let dur = e.duration_minutes * 60_000;
        let kind = match e.appointment_type_id {
            Some(t) => table::get::<AppointmentType>(tx, &t)?,
            None => None,
        };
        // First candidate start: the window start, or the next quarter hour after now.
        let mut t = if w_start >= now {
            w_start
        } else {
            now + (STEP_MS - now.rem_euclid(STEP_MS))
        };
        while t + dur <= w_end {
            let Ok(range) = TimeRange::new(
                chrono::DateTime::from_timestamp_millis(t).unwrap_or_default(),
                chrono::DateTime::from_timestamp_millis(t + dur).unwrap_or_default(),
            ) else {
                break;
            };
            let offered_before: bool = tx.query_row(
                "SELECT count(*) > 0 FROM waitlist_offers WHERE waitlist_id = ?1 AND provider_id = ?2 AND start_at = ?3",
                rusqlite::params![e.id.to_string(), provider.to_string(), t],
                |r| r.get(0),
            )?;
            if !offered_before && fits_preferences(&e, tz, &range) {
                let c = Candidate {
                    clinic,
                    tz,
                    patient: e.patient_id,
                    provider,
                    room: None,
                    kind: kind.as_ref(),
                    range,
                    exclude: None,
                    hold_exempt: None,
                    now_ms: now,
                };
                if matches!(check_rules(tx, &c), Ok(ref v) if v.is_empty()) {
                    let offer = WaitlistOffer {
                        // One offer per entry and slot (the unique key) on every PC.
                        id: clinicdesk_domain::derived_uuid(
                            "waitlist_offer",
                            &[&e.id.to_string(), &provider.to_string(), &t.to_string()],
                        )
                        .to_string(),
                        clinic_id: clinic,
                        waitlist_id: e.id,
                        provider_id: provider,
                        room_id: None,
                        start_at: t,
                        end_at: t + dur,
                        expires_at: (now + OFFER_HOLD_MINUTES * 60_000).min(t),
                        outcome: "pending".into(),
                        decided_at: None,
                        appointment_id: None,
                        created_at: now,
                        updated_at: now,
                        deleted_at: None,
                    };
                    table::insert(tx, &offer)?;
                    let mut entry = e.clone();
                    entry.status = entry.status.transition(WaitlistStatus::Offered)?;
                    entry.updated_at = now;
                    table::update(tx, &entry)?;
                    return Ok(Some(offer));
                }
            }
            t += STEP_MS;
        }
    }
    Ok(None)
}

/// The appointment left the schedule (cancelled, no-show, moved): its reminders are cancelled
/// and its time is offered to the waitlist.
pub(crate) fn released(tx: &WriteTx<'_>, a: &Appointment) -> ApiResult<()> {
    cancel_for(tx, a)?;
    offer_freed(
        tx,
        a.clinic_id,
        a.provider_id,
        range_ms(a.start_at, a.end_at)?,
    )?;
    Ok(())
}
