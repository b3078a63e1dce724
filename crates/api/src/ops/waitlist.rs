//! The waitlist and its auto-offer: when a slot frees up (cancellation, no-show, move, block
//! removed), waiting entries that fit are ranked (priority, then time waiting) and the best one
//! gets an offer that holds the slot until a deadline; accepting books it (source = waitlist),
//! declining or expiry passes it to the next. The same slot is never offered twice to the same
//! entry (unique index), and a held slot cannot be booked by anyone else (booking rules).

use chrono::NaiveTime;
use clinicdesk_domain::{
    AppointmentSource, AppointmentTypeId, Capability, ClinicId, DomainError, PatientId, StaffId,
    WaitlistEntryId, WaitlistStatus,
};
use clinicdesk_store::tables::{
    appointment_types::AppointmentType, appointments::Appointment, patients::Patient, waitlist::*,
};
use clinicdesk_store::{table, WriteTx};
use serde::Serialize;

use super::booking::effects::offer_freed;
use super::booking::flows::{insert_checked, Extra};
use super::booking::rules::Candidate;
use super::time::{clinic_tz, range_ms};
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

fn weekday_number(s: &str) -> Result<u32, DomainError> {
    s.trim()
        .parse::<chrono::Weekday>()
        .map(|d| d.number_from_monday())
        .map_err(|_| {
            DomainError::invalid(
                "preferred_days",
                format!("'{s}' is not a weekday (mon, tue, …)"),
            )
        })
}

fn hhmm(field: &'static str, v: &str) -> Result<String, DomainError> {
    NaiveTime::parse_from_str(v.trim(), "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| DomainError::invalid(field, format!("'{v}' is not a time like 08:30")))
}

/// Close lapsed offers (entry back to waiting, slot offered to the next) and expire entries
/// whose date window has passed. Idempotent.
pub(crate) fn sweep(tx: &WriteTx<'_>, clinic: ClinicId) -> ApiResult<usize> {
    let now = tx.ctx.now_ms;
    let (_, tz) = clinic_tz(tx, clinic)?;
    let lapsed = table::select::<WaitlistOffer, _>(
        tx,
        "WHERE clinic_id = ?1 AND outcome = 'pending' AND expires_at <= ?2 AND deleted_at IS NULL ORDER BY expires_at",
        rusqlite::params![clinic.to_string(), now],
    )?;
    let n = lapsed.len();
    for mut o in lapsed {
        o.outcome = "expired".into();
        o.decided_at = Some(now);
        o.updated_at = now;
        table::update(tx, &o)?;
        let mut e = table::get_live::<WaitlistEntry>(tx, &o.waitlist_id)?;
        if e.status == WaitlistStatus::Offered {
            e.status = e.status.transition(WaitlistStatus::Waiting)?;
            e.updated_at = now;
            table::update(tx, &e)?;
        }
        let window = range_ms(o.start_at, o.end_at)?;
        offer_freed(tx, clinic, o.provider_id, window)?;
    }
    let today = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    for mut e in table::select::<WaitlistEntry, _>(
        tx,
        "WHERE clinic_id = ?1 AND status = 'waiting' AND latest_date < ?2 AND deleted_at IS NULL",
        rusqlite::params![clinic.to_string(), today.format("%Y-%m-%d").to_string()],
    )? {
        e.status = e.status.transition(WaitlistStatus::Expired)?;
        e.updated_at = now;
        table::update(tx, &e)?;
    }
    Ok(n)
}

/// A waitlist entry with its live offer, if any.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WaitlistView {
    pub entry: WaitlistEntry,
    pub patient_name: String,
    pub offer: Option<WaitlistOffer>,
}

impl App {
    /// Fields: patient_id, earliest_date, latest_date, duration_minutes (or appointment_type_id),
    /// provider_ids (comma list; empty = any), preferred_days (mon,wed), preferred_time_start,
    /// preferred_time_end (HH:MM), priority (1 most urgent … 5), notes.
    pub fn add_to_waitlist(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<WaitlistEntry> {
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(clinic),
            "manage the waitlist",
        )?;
        self.tx(s, |tx| add_waitlist_in(tx, clinic, f))
    }

    pub fn remove_from_waitlist(
        &self,
        s: &Session,
        id: WaitlistEntryId,
    ) -> ApiResult<WaitlistEntry> {
        let e = self
            .store
            .read(|c| table::get_live::<WaitlistEntry>(c, &id))?;
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(e.clinic_id),
            "manage the waitlist",
        )?;
        self.tx(s, |tx| {
            let mut e = table::get_live::<WaitlistEntry>(tx, &id)?;
            e.status = e.status.transition(WaitlistStatus::Removed)?;
            e.updated_at = tx.ctx.now_ms;
            table::update(tx, &e)?;
            for mut o in table::select::<WaitlistOffer, _>(
                tx,
                "WHERE waitlist_id = ?1 AND outcome = 'pending'",
                [id.to_string()],
            )? {
                o.outcome = "withdrawn".into();
                o.decided_at = Some(tx.ctx.now_ms);
                o.updated_at = tx.ctx.now_ms;
                table::update(tx, &o)?;
                let w = range_ms(o.start_at, o.end_at)?;
                offer_freed(tx, e.clinic_id, o.provider_id, w)?;
            }
            Ok(e)
        })
    }

    /// The clinic's waitlist (waiting and offered entries, best first) with live offers; lapsed
    /// offers are closed first.
    pub fn list_waitlist(&self, s: &Session, clinic: ClinicId) -> ApiResult<Vec<WaitlistView>> {
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(clinic),
            "see the waitlist",
        )?;
        let out = self.tx(s, |tx| {
            sweep(tx, clinic)?;
            let entries = table::select::<WaitlistEntry, _>(
                tx,
                &format!("WHERE clinic_id = ?1 AND status IN {} AND deleted_at IS NULL ORDER BY priority, created_at", WaitlistStatus::sql_in(WaitlistStatus::is_listed)),
                [clinic.to_string()],
            )?;
            let mut out = Vec::new();
            for e in entries {
                let offer = table::select::<WaitlistOffer, _>(tx, "WHERE waitlist_id = ?1 AND outcome = 'pending' LIMIT 1", [e.id.to_string()])?.into_iter().next();
                let patient_name: String = tx.query_row("SELECT first_name || ' ' || last_name FROM patients WHERE id = ?1", [e.patient_id.to_string()], |r| r.get(0))?;
                out.push(WaitlistView { entry: e, patient_name, offer });
            }
            Ok(out)
        })?;
        // After the sweep's commit: a list that is not recorded again writes only the sweep.
        self.audit_read(
            s,
            PatientRead::new(
                "list_waitlist",
                Some(clinic),
                Shown::Patients(out.iter().map(|v| v.entry.patient_id).collect()),
            ),
        )?;
        Ok(out)
    }

    /// Close lapsed offers and pass their slots on (run at start-up and periodically).
    pub fn expire_waitlist_offers(&self, s: &Session, clinic: ClinicId) -> ApiResult<usize> {
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(clinic),
            "manage the waitlist",
        )?;
        self.tx(s, |tx| sweep(tx, clinic))
    }

    fn live_offer(tx: &WriteTx<'_>, offer: &str) -> ApiResult<(WaitlistOffer, WaitlistEntry)> {
        let o = table::get_live::<WaitlistOffer>(tx, &offer.to_string())?;
        if o.outcome != "pending" {
            return Err(ApiError::Conflict(format!(
                "this offer is no longer open (it was {})",
                o.outcome
            )));
        }
        if o.expires_at <= tx.ctx.now_ms {
            return Err(ApiError::Conflict(
                "this offer has expired; the slot has been passed on".into(),
            ));
        }
        let e = table::get_live::<WaitlistEntry>(tx, &o.waitlist_id)?;
        Ok((o, e))
    }

    /// Accept an offer: books the held slot for the entry's patient (source = waitlist).
    pub fn accept_offer(&self, s: &Session, offer: &str) -> ApiResult<Appointment> {
        let o = self
            .store
            .read(|c| table::get_live::<WaitlistOffer>(c, &offer.to_string()))?;
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(o.clinic_id),
            "manage the waitlist",
        )?;
        self.tx(s, |tx| {
            let (mut o, mut e) = Self::live_offer(tx, offer)?;
            let (_, tz) = clinic_tz(tx, o.clinic_id)?;
            let kind = match e.appointment_type_id {
                Some(t) => table::get::<AppointmentType>(tx, &t)?,
                None => None,
            };
            let range = range_ms(o.start_at, o.end_at)?;
            let c = Candidate {
                clinic: o.clinic_id,
                tz,
                patient: e.patient_id,
                provider: o.provider_id,
                room: o.room_id,
                kind: kind.as_ref(),
                range,
                exclude: None,
                hold_exempt: Some(o.id.clone()),
                now_ms: tx.ctx.now_ms,
            };
            let x = Extra {
                case_id: None,
                reason: e.notes.clone(),
                notes: None,
                source: AppointmentSource::Waitlist,
                series_id: None,
                rescheduled_from: None,
            };
            let a = insert_checked(tx, &c, x, None)?;
            let now = tx.ctx.now_ms;
            o.outcome = "accepted".into();
            o.decided_at = Some(now);
            o.appointment_id = Some(a.id);
            o.updated_at = now;
            table::update(tx, &o)?;
            e.status = e.status.transition(WaitlistStatus::Booked)?;
            e.booked_appointment_id = Some(a.id);
            e.updated_at = now;
            table::update(tx, &e)?;
            Ok(a)
        })
    }

    /// Decline an offer: the entry goes back to waiting and the slot is offered to the next
    /// entry (never again to this one). Returns the next offer, if one was made.
    pub fn decline_offer(&self, s: &Session, offer: &str) -> ApiResult<Option<WaitlistOffer>> {
        let o = self
            .store
            .read(|c| table::get_live::<WaitlistOffer>(c, &offer.to_string()))?;
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(o.clinic_id),
            "manage the waitlist",
        )?;
        self.tx(s, |tx| {
            let (mut o, mut e) = Self::live_offer(tx, offer)?;
            let now = tx.ctx.now_ms;
            o.outcome = "declined".into();
            o.decided_at = Some(now);
            o.updated_at = now;
            table::update(tx, &o)?;
            e.status = e.status.transition(WaitlistStatus::Waiting)?;
            e.updated_at = now;
            table::update(tx, &e)?;
            let w = range_ms(o.start_at, o.end_at)?;
            offer_freed(tx, o.clinic_id, o.provider_id, w)
        })
    }
}

/// A waitlist entry inside a caller's transaction (rights already checked), as
/// `add_to_waitlist`.
pub(crate) fn add_waitlist_in(
    tx: &WriteTx<'_>,
    clinic: ClinicId,
    f: &Fields,
) -> ApiResult<WaitlistEntry> {
    clinic_tz(tx, clinic)?;
    let patient = f
        .parsed("patient_id", PatientId::parse)?
        .ok_or_else(|| DomainError::invalid("patient_id", "is required"))?;
    table::get_live::<Patient>(tx, &patient)?;
    let kind = match f.parsed("appointment_type_id", AppointmentTypeId::parse)? {
        Some(t) => Some(table::get_live::<AppointmentType>(tx, &t)?),
        None => None,
    };
    let duration = match (f.int("duration_minutes", 5, 720)?.flatten(), &kind) {
        (Some(d), _) => d,
        (None, Some(k)) => k.duration_minutes,
        (None, None) => {
            return Err(DomainError::invalid(
                "duration_minutes",
                "give a duration or an appointment type",
            )
            .into())
        }
    };
    let earliest = f
        .date("earliest_date")?
        .flatten()
        .ok_or_else(|| DomainError::invalid("earliest_date", "is required"))?;
    let latest = f
        .date("latest_date")?
        .flatten()
        .ok_or_else(|| DomainError::invalid("latest_date", "is required"))?;
    if latest < earliest {
        return Err(
            DomainError::invalid("latest_date", "must not be before the earliest date").into(),
        );
    }
    let mut providers = Vec::new();
    for p in f
        .text("provider_ids")?
        .flatten()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let p = StaffId::parse(p)?;
        table::get_live::<clinicdesk_store::tables::staff::Staff>(tx, &p)?;
        providers.push(p);
    }
    let days = f
        .text("preferred_days")?
        .flatten()
        .unwrap_or_default()
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(weekday_number)
        .collect::<Result<Vec<_>, _>>()?;
    let from = f
        .text("preferred_time_start")?
        .flatten()
        .map(|v| hhmm("preferred_time_start", &v))
        .transpose()?;
    let to = f
        .text("preferred_time_end")?
        .flatten()
        .map(|v| hhmm("preferred_time_end", &v))
        .transpose()?;
    if let (Some(a), Some(b)) = (&from, &to) {
        if b <= a {
            return Err(DomainError::invalid(
                "preferred_time_end",
                "must be after the preferred start time",
            )
            .into());
        }
    }
    let priority = f.int("priority", 1, 5)?.flatten().unwrap_or(3);
    let notes = f.text("notes")?.flatten();
    f.finish()?;
    let now = tx.ctx.now_ms;
    let e = WaitlistEntry {
        id: WaitlistEntryId::new(),
        clinic_id: clinic,
        patient_id: patient,
        provider_ids: providers,
        appointment_type_id: kind.map(|k| k.id),
        duration_minutes: duration,
        earliest_date: earliest,
        latest_date: latest,
        preferred_days: days,
        preferred_time_start: from,
        preferred_time_end: to,
        priority,
        status: WaitlistStatus::Waiting,
        notes,
        booked_appointment_id: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    table::insert(tx, &e)?;
    Ok(e)
}
