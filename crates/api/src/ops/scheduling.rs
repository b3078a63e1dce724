//! Front-desk scheduling: appointment types, availability blocks, booking with every rule,
//! the appointment status flow (history + KPI events in the same transaction), free slots and
//! the day view.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinicdesk_domain::{
    free_slots, local_day_bounds, merge, parse_date, AppointmentId, AppointmentSource,
    AppointmentStatus, AppointmentTypeId, AvailabilityBlockId, Capability, CaseId, ClinicId,
    CredentialTypeId, DomainError, KpiEventType, PatientId, RecurrenceSeriesId, RoomId,
    ScheduleStatus, SlotQuery, StaffId, TimeRange,
};
use clinicdesk_store::tables::{
    appointment_types::AppointmentType, appointments::Appointment,
    availability_blocks::AvailabilityBlock, credential_types::CredentialType, patients::Patient,
    rooms::Room, staff::Staff,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::booking::effects::{kpi, offer_freed, record_status, released};
use super::booking::flows::{insert_checked, move_one, Extra, Moved};
use super::booking::rules::{check_rules, Candidate, MAX_APPOINTMENT_MS};
use super::time::{clinic_tz, instant, local_hm, ms, parse_when, range_ms};
use crate::access::{allowed, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

/// The appointment as the front desk sees it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ScheduleEntry {
    pub appointment: Appointment,
    pub patient_name: String,
    pub provider_name: String,
    pub room_name: Option<String>,
    pub type_name: Option<String>,
}

/// One appointment as the schedule grid paints it, read straight from `ix_appointments_day`
/// (V5): no per-row lookup. Provider, room and type names come from the clinic's lists, which
/// the screen loads once per clinic; the appointment panel reads the whole appointment
/// (`get_appointment`) when one is opened.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct GridEntry {
    pub id: AppointmentId,
    pub provider_id: StaffId,
    pub room_id: Option<RoomId>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    /// The patient's display name ("First Last"); the panel's full appointment has the id.
    pub patient_name: String,
    pub start_at: i64,
    pub end_at: i64,
    pub status: AppointmentStatus,
    pub series_id: Option<RecurrenceSeriesId>,
    pub case_id: Option<CaseId>,
    pub checked_in_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DaySchedule {
    pub clinic_id: ClinicId,
    pub date: NaiveDate,
    /// 23, 24 or 25 on DST-change days.
    pub hours: i64,
    pub day_start: i64,
    pub day_end: i64,
    /// In start order.
    pub entries: Vec<GridEntry>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Slot {
    pub provider_id: StaffId,
    pub start_at: i64,
    pub end_at: i64,
    /// Local wall-clock start, e.g. "2026-03-09 09:00".
    pub local_start: String,
}

impl App {
    // Appointment types ----------------------------------------------------------------------

    pub fn create_appointment_type(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<AppointmentType> {
        self.require(
            s,
            Capability::ManageScheduleSettings,
            Scope::Clinic(clinic),
            "manage appointment types",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let name = f.required_name("name", true, "")?;
            let code = f.required_name("code", true, "")?.to_uppercase();
            let duration = f
                .int("duration_minutes", 5, 720)?
                .flatten()
                .ok_or_else(|| DomainError::invalid("duration_minutes", "is required"))?;
            let mut req = Vec::new();
            if let Some(list) = f.text("required_credential_type_ids")?.flatten() {
                for id in list
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|x| x.trim().trim_matches('"'))
                    .filter(|x| !x.is_empty())
                {
                    let id = CredentialTypeId::parse(id)?;
                    table::get_live::<CredentialType>(tx, &id)?;
                    req.push(id);
                }
            }
            let color = f.text("color")?.flatten();
            f.finish()?;
            let t = AppointmentType {
                id: AppointmentTypeId::new(),
                clinic_id: Some(clinic),
                name,
                code,
                duration_minutes: duration,
                color,
                required_credential_type_ids: req,
                is_active: true,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &t)?;
            Ok(t)
        })
    }

    pub fn list_appointment_types(
        &self,
        s: &Session,
        clinic: ClinicId,
    ) -> ApiResult<Vec<AppointmentType>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see appointment types",
        )?;
        Ok(self.store.read(|c| {
            table::select::<AppointmentType, _>(
                c,
                "WHERE (clinic_id = ?1 OR clinic_id IS NULL) AND deleted_at IS NULL ORDER BY name",
                [clinic.to_string()],
            )
        })?)
    }

    // Availability blocks --------------------------------------------------------------------

    /// A block of time, clinic-wide or for one provider: `is_available=no` closes it (with a
    /// reason), `is_available=yes` adds bookable time.
    pub fn create_availability_block(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<AvailabilityBlock> {
        self.require(
            s,
            Capability::ManageScheduleSettings,
            Scope::Clinic(clinic),
            "manage availability",
        )?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let start = f
                .parsed("start", |v| parse_when("start", tz, v))?
                .ok_or_else(|| DomainError::invalid("start", "is required"))?;
            let end = f
                .parsed("end", |v| parse_when("end", tz, v))?
                .ok_or_else(|| DomainError::invalid("end", "is required"))?;
            let range = TimeRange::new(start, end)?;
            let provider = f.parsed("provider_id", StaffId::parse)?;
            if let Some(p) = provider {
                table::get_live::<Staff>(tx, &p)?;
            }
            let is_available = f.bool("is_available")?.unwrap_or(false);
            let reason = f.text("reason")?.flatten();
            f.finish()?;
            if !is_available && reason.is_none() {
                return Err(DomainError::invalid(
                    "reason",
                    "a block that closes time needs a reason (e.g. Holiday)",
                )
                .into());
            }
            let now = tx.ctx.now_ms;
            let b = AvailabilityBlock {
                id: AvailabilityBlockId::new(),
                clinic_id: clinic,
                provider_id: provider,
                start_at: ms(range.start()),
                end_at: ms(range.end()),
                is_available,
                block_reason: reason,
                created_by: Some(s.user_id),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &b)?;
            Ok(b)
        })
    }

    pub fn delete_availability_block(&self, s: &Session, id: AvailabilityBlockId) -> ApiResult<()> {
        let b = self
            .store
            .read(|c| table::get_live::<AvailabilityBlock>(c, &id))?;
        self.require(
            s,
            Capability::ManageScheduleSettings,
            Scope::Clinic(b.clinic_id),
            "manage availability",
        )?;
        self.tx(s, |tx| {
            table::soft_delete::<AvailabilityBlock>(tx, &id, tx.ctx.now_ms)?;
            if !b.is_available {
                // A closed time reopened: offer it to the waitlist, provider by provider.
                let providers: Vec<StaffId> = match b.provider_id {
                    Some(p) => vec![p],
                    None => tx
                        .prepare_cached(
                            "SELECT id FROM staff_profiles WHERE primary_clinic_id = ?1 AND is_active = 1 AND is_clinical = 1 AND deleted_at IS NULL",
                        )?
                        .query_map([b.clinic_id.to_string()], |r| r.get::<_, String>(0))?
                        .filter_map(|r| r.ok())
                        .filter_map(|id| StaffId::parse(&id).ok())
                        .collect(),
                };
                let window = range_ms(b.start_at, b.end_at)?;
                for p in providers {
                    offer_freed(tx, b.clinic_id, p, window)?;
                }
            }
            Ok(())
        })
    }

    // Booking --------------------------------------------------------------------------------

    /// Book an appointment. Fields: patient_id, provider_id, start (instant or clinic wall-clock
    /// time), end or duration_minutes (default: the type's duration), appointment_type_id,
    /// room_id, case_id, reason, notes, source, override_reason (managers: book outside working
    /// hours or without a required credential).
    pub fn book_appointment(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<Appointment> {
        let override_reason = self.require_booking(s, clinic, f, "book appointments")?;
        self.tx(s, |tx| {
            book_in(tx, s, clinic, f, override_reason.as_deref())
        })
    }

    pub(crate) fn appointment_clinic(&self, id: AppointmentId) -> ApiResult<ClinicId> {
        Ok(self
            .store
            .read(|c| table::get_live::<Appointment>(c, &id))?
            .clinic_id)
    }

    pub fn get_appointment(&self, s: &Session, id: AppointmentId) -> ApiResult<Appointment> {
        let mut row = self.fetch::<Appointment>(&id)?;
        let roles = self.require_roles(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(row.clinic_id),
            "see appointments",
        )?;
        if !allowed(
            &roles,
            Capability::ReadPatients,
            Scope::Clinic(row.clinic_id),
        ) {
            redact_appointment(&mut row);
        } else {
            self.audit_read(
                s,
                PatientRead::new(
                    "get_appointment",
                    Some(row.clinic_id),
                    Shown::Patients(vec![row.patient_id]),
                )
                .with("appointment_id", row.id),
            )?;
        }
        Ok(row)
    }

    /// Move: the old appointment becomes `rescheduled` and a new one, linked to it, is booked
    /// at the new time with every rule checked (the old one does not conflict with its move).
    pub fn reschedule_appointment(
        &self,
        s: &Session,
        id: AppointmentId,
        f: &Fields,
    ) -> ApiResult<Appointment> {
        let clinic = self.appointment_clinic(id)?;
        let override_reason = self.require_booking(s, clinic, f, "move appointments")?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let mut old = table::get_live::<Appointment>(tx, &id)?;
            let start = f
                .parsed("start", |v| parse_when("start", tz, v))?
                .ok_or_else(|| DomainError::invalid("start", "is required"))?;
            let duration = f
                .int("duration_minutes", 5, 720)?
                .flatten()
                .map(chrono::Duration::minutes)
                .unwrap_or(chrono::Duration::milliseconds(old.end_at - old.start_at));
            let provider = f
                .parsed("provider_id", StaffId::parse)?
                .unwrap_or(old.provider_id);
            let room = match f.text("room_id")? {
                None => old.room_id,
                Some(None) => None,
                Some(Some(r)) => Some(RoomId::parse(&r)?),
            };
            let reason = f.text("reason")?.flatten();
            f.finish()?;
            let range = TimeRange::new(start, start + duration)?;
            let to = Moved {
                range,
                provider,
                room,
                series_id: old.series_id,
            };
            move_one(
                tx,
                tz,
                &mut old,
                to,
                reason.as_deref(),
                override_reason.as_deref(),
            )
        })
    }

    /// Move an appointment along its status flow: confirm, remind, check in, start, complete,
    /// check out (completed + checked_out_at), cancel (reason required), no-show (only after
    /// the start). Each records its history row and KPI event in the same transaction.
    pub fn set_appointment_status(
        &self,
        s: &Session,
        id: AppointmentId,
        action: &str,
        reason: Option<&str>,
    ) -> ApiResult<Appointment> {
        let clinic = self.appointment_clinic(id)?;
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(clinic),
            "change appointments",
        )?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let mut a = table::get_live::<Appointment>(tx, &id)?;
            let now = tx.ctx.now_ms;
            let from = a.status;
            let (to, event) = match action {
                "confirm" => (AppointmentStatus::Confirmed, None),
                "remind" => (AppointmentStatus::Reminded, None),
                "check_in" => (AppointmentStatus::CheckedIn, Some(KpiEventType::PatientCheckedIn)),
                "start" => (AppointmentStatus::InProgress, Some(KpiEventType::TreatmentStarted)),
                "complete" => (AppointmentStatus::Completed, Some(KpiEventType::AppointmentCompleted)),
                "cancel" => (AppointmentStatus::Cancelled, Some(KpiEventType::AppointmentCancelled)),
                "no_show" => (AppointmentStatus::NoShow, Some(KpiEventType::AppointmentNoShow)),
                "check_out" => {
                    if a.status != AppointmentStatus::Completed || a.checked_out_at.is_some() {
                        return Err(DomainError::invalid("status", "only a completed visit that is not checked out yet can be checked out").into());
                    }
                    a.checked_out_at = Some(now);
                    a.updated_at = now;
                    table::update(tx, &a)?;
                    kpi(tx, clinic, tz, KpiEventType::PatientCheckedOut, Some(&a), None, None)?;
                    return Ok(a);
                }
                other => {
                    return Err(DomainError::invalid(
                        "action",
                        format!("'{other}' is not an action (confirm, remind, check_in, start, complete, check_out, cancel, no_show)"),
                    )
                    .into())
                }
            };
            a.status = a.status.transition(to)?;
            match to {
                AppointmentStatus::Cancelled => {
                    let r = reason.ok_or_else(|| DomainError::invalid("reason", "a cancellation needs a reason"))?;
                    a.cancel_reason = Some(r.to_string());
                    a.cancelled_at = Some(now);
                }
                AppointmentStatus::NoShow if now < a.start_at => {
                    return Err(DomainError::invalid("status", format!("a no-show can only be recorded after the start time ({})", local_hm(tz, a.start_at))).into());
                }
                AppointmentStatus::CheckedIn => a.checked_in_at = Some(now),
                AppointmentStatus::InProgress => a.started_at = Some(now),
                AppointmentStatus::Completed => a.completed_at = Some(now),
                _ => {}
            }
            a.updated_at = now;
            table::update(tx, &a)?;
            record_status(tx, &a, Some(from), reason, false)?;
            if !a.status.is_active() {
                // The slot is free again: reminders cancelled, the time offered to the waitlist.
                released(tx, &a)?;
            }
            if let Some(e) = event {
                let minutes = (to == AppointmentStatus::Completed).then(|| ((a.end_at - a.start_at) / 60_000) as f64);
                kpi(tx, clinic, tz, e, Some(&a), minutes, minutes.map(|_| "minutes"))?;
            }
            super::kpis::appointment_flow_events(tx, tz, &a, from)?;
            Ok(a)
        })
    }

    /// Manager-only correction out of a final state (audited, marked as a correction).
    pub fn correct_appointment_status(
        &self,
        s: &Session,
        id: AppointmentId,
        to: AppointmentStatus,
        reason: &str,
    ) -> ApiResult<Appointment> {
        let clinic = self.appointment_clinic(id)?;
        self.require(
            s,
            Capability::OverrideBookingRules,
            Scope::Clinic(clinic),
            "correct a final appointment status",
        )?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "a correction needs a reason").into());
        }
        self.tx(s, |tx| {
            let mut a = table::get_live::<Appointment>(tx, &id)?;
            let from = a.status;
            a.status = a.status.correct(to)?;
            if from == AppointmentStatus::Cancelled {
                a.cancel_reason = None;
                a.cancelled_at = None;
                let (_, tz) = clinic_tz(tx, a.clinic_id)?;
                let problems = check_rules(
                    tx,
                    &Candidate {
                        clinic: a.clinic_id,
                        tz,
                        patient: a.patient_id,
                        provider: a.provider_id,
                        room: a.room_id,
                        kind: None,
                        range: range_ms(a.start_at, a.end_at)?,
                        exclude: Some(a.id),
                        hold_exempt: None,
                        now_ms: tx.ctx.now_ms,
                    },
                );
                problems?;
            }
            a.updated_at = tx.ctx.now_ms;
            table::update(tx, &a)?;
            record_status(tx, &a, Some(from), Some(reason), true)?;
            Ok(a)
        })
    }

    // Reading the schedule -------------------------------------------------------------------

    /// One clinic's day (in its time zone), all providers or one; 23/25-hour days are right.
    pub fn day_schedule(
        &self,
        s: &Session,
        clinic: ClinicId,
        date: &str,
        provider: Option<StaffId>,
    ) -> ApiResult<DaySchedule> {
        let roles = self.require_roles(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see the schedule",
        )?;
        let date = parse_date("date", date)?;
        let names = allowed(&roles, Capability::ReadPatients, Scope::Clinic(clinic));
        let mut day = self.store.read(|c| {
            // One snapshot for the clinic, the appointments and the names (and one read lock
            // instead of one per statement); read-only, so dropping it is the end.
            let snapshot = c.unchecked_transaction()?;
            let (_, tz) = clinic_tz(&snapshot, clinic)?;
            let day = day_in(&snapshot, clinic, tz, date, provider)?;
            drop(snapshot);
            Ok::<_, ApiError>(day)
        })?;
        if names {
            self.audit_read(
                s,
                PatientRead::new("day_schedule", Some(clinic), grid_patients([&day]))
                    .with("date", date)
                    .with("provider_id", provider),
            )?;
        } else {
            redact_day(&mut day);
        }
        Ok(day)
    }

    /// Seven consecutive local days of one clinic from `start` (the UI passes the week's
    /// Monday), all providers or one, read in one snapshot; each day as `day_schedule` gives it.
    pub fn week_schedule(
        &self,
        s: &Session,
        clinic: ClinicId,
        start: &str,
        provider: Option<StaffId>,
    ) -> ApiResult<Vec<DaySchedule>> {
        let roles = self.require_roles(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see the schedule",
        )?;
        let start = parse_date("start", start)?;
        let names = allowed(&roles, Capability::ReadPatients, Scope::Clinic(clinic));
        let mut days = self.store.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            let (_, tz) = clinic_tz(&snapshot, clinic)?;
            let days = start
                .iter_days()
                .take(7)
                .map(|d| day_in(&snapshot, clinic, tz, d, provider))
                .collect::<ApiResult<Vec<_>>>()?;
            drop(snapshot);
            Ok::<_, ApiError>(days)
        })?;
        if names {
            self.audit_read(
                s,
                PatientRead::new("week_schedule", Some(clinic), grid_patients(&days))
                    .with("start", start)
                    .with("provider_id", provider),
            )?;
        } else {
            days.iter_mut().for_each(redact_day);
        }
        Ok(days)
    }

    /// Availability blocks of one clinic that overlap the local days `from`..=`to` (at most
    /// 366 days), clinic-wide ones and every provider's, or clinic-wide ones and one
    /// provider's; by start. For the schedule grid's background (with `list_roster`'s shifts).
    pub fn list_availability_blocks(
        &self,
        s: &Session,
        clinic: ClinicId,
        from: &str,
        to: &str,
        provider: Option<StaffId>,
    ) -> ApiResult<Vec<AvailabilityBlock>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see availability",
        )?;
        let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
        if to < from {
            return Err(DomainError::invalid("to", "must not be before from").into());
        }
        if (to - from).num_days() > 365 {
            return Err(DomainError::invalid("to", "at most 366 days at a time").into());
        }
        self.store.read(|c| {
            let (_, tz) = clinic_tz(c, clinic)?;
            let (start, _) = local_day_bounds(tz, from);
            let (_, end) = local_day_bounds(tz, to);
            Ok(table::select::<AvailabilityBlock, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL AND start_at < ?3 AND end_at > ?2
                   AND (?4 IS NULL OR provider_id IS NULL OR provider_id = ?4)
                 ORDER BY start_at",
                params![
                    clinic.to_string(),
                    ms(start),
                    ms(end),
                    provider.map(|p| p.to_string())
                ],
            )?)
        })
    }

    /// Free slots of one provider or of every active clinical provider of the clinic, from
    /// shifts and availability minus appointments and blocks, on a 15-minute local grid.
    pub fn available_slots(
        &self,
        s: &Session,
        clinic: ClinicId,
        provider: Option<StaffId>,
        duration_minutes: i64,
        from: &str,
        to: &str,
    ) -> ApiResult<Vec<Slot>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see free slots",
        )?;
        let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
        if !(5..=720).contains(&duration_minutes) {
            return Err(
                DomainError::invalid("duration_minutes", "must be between 5 and 720").into(),
            );
        }
        self.store.read(|c| {
            let (_, tz) = clinic_tz(c, clinic)?;
            let q = SlotQuery::new(tz, from, to, chrono::Duration::minutes(duration_minutes), chrono::Duration::minutes(15))?;
            let Some(window) = q.window() else { return Ok(Vec::new()) };
            let (ws, we) = (ms(window.start()), ms(window.end()));
            let providers: Vec<StaffId> = match provider {
                Some(p) => vec![p],
                None => c
                    .prepare_cached("SELECT id FROM staff_profiles WHERE primary_clinic_id = ?1 AND is_active = 1 AND is_clinical = 1 AND deleted_at IS NULL ORDER BY last_name")?
                    .query_map([clinic.to_string()], |r| r.get::<_, String>(0))?
                    .filter_map(|r| r.ok())
                    .filter_map(|id| StaffId::parse(&id).ok())
                    .collect(),
            };
            let ranges = |sql: &str, p: &str| -> ApiResult<Vec<TimeRange>> {
                Ok(c.prepare_cached(sql)?
                    .query_map(params![p, ws, we, clinic.to_string()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
                    .filter_map(|r| r.ok())
                    .filter_map(|(a, b)| TimeRange::new(instant(a), instant(b)).ok())
                    .collect())
            };
            let mut out = Vec::new();
            for p in providers {
                let pid = p.to_string();
                let mut working = ranges(
                    &format!("SELECT start_at, end_at FROM ops_staff_schedules WHERE staff_id = ?1 AND deleted_at IS NULL AND status IN {} AND start_at < ?3 AND end_at > ?2 AND ?4 = ?4", ScheduleStatus::sql_in(ScheduleStatus::is_assigned)),
                    &pid,
                )?;
                working.extend(ranges(
                    "SELECT start_at, end_at FROM availability_blocks WHERE provider_id = ?1 AND is_available = 1 AND deleted_at IS NULL AND start_at < ?3 AND end_at > ?2 AND clinic_id = ?4",
                    &pid,
                )?);
                let blocked = ranges(
                    "SELECT start_at, end_at FROM availability_blocks WHERE (provider_id = ?1 OR provider_id IS NULL) AND clinic_id = ?4 AND is_available = 0 AND deleted_at IS NULL AND start_at < ?3 AND end_at > ?2",
                    &pid,
                )?;
                let busy = ranges(
                    &format!("SELECT start_at, end_at FROM appointments WHERE provider_id = ?1 AND deleted_at IS NULL AND status IN {} AND start_at < ?3 AND start_at > ?2 - {MAX_APPOINTMENT_MS} AND end_at > ?2 AND ?4 = ?4", AppointmentStatus::sql_in(AppointmentStatus::is_active)),
                    &pid,
                )?;
                for slot in free_slots(&q, &merge(working), &blocked, &busy) {
                    out.push(Slot {
                        provider_id: p,
                        start_at: ms(slot.start()),
                        end_at: ms(slot.end()),
                        local_start: slot.start().with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                    });
                }
            }
            Ok(out)
        })
    }
}

/// The schedule grid's query: ?1 clinic, ?2/?3 the day's bounds (UTC ms), ?4 one provider or
/// NULL. Every column is in `ix_appointments_day` (V5), so SQLite reads the day as one range
/// of that index, already in start order, and never the table. `patient_name` is kept by
/// triggers (V5) on every insert, patient change and rename.
const DAY_SQL: &str = "SELECT id, provider_id, room_id, appointment_type_id,
                COALESCE(patient_name, '') AS patient_name,
                start_at, end_at, status, series_id, case_id, checked_in_at
         FROM appointments
         WHERE clinic_id = ?1 AND start_at >= ?2 AND start_at < ?3 AND deleted_at IS NULL
           AND (?4 IS NULL OR provider_id = ?4)
         ORDER BY start_at";

/// Whole appointments of a day with the patient's name (the today view): ?1 clinic, ?2/?3 the
/// bounds, ?4 one provider or NULL. Provider, room and type names come from the clinic's
/// (small) lists afterwards rather than from a join for every row.
const DAY_FULL_SQL: &str = "SELECT a.id, a.clinic_id, a.patient_id, a.provider_id, a.room_id, a.appointment_type_id,
                a.start_at, a.end_at, a.status, a.case_id, a.reason, a.notes, a.source, a.rescheduled_from_id,
                a.series_id, a.cancel_reason, a.override_reason, a.checked_in_at, a.started_at, a.completed_at,
                a.checked_out_at, a.cancelled_at, a.legacy_id, a.created_at, a.updated_at, a.deleted_at,
                COALESCE(a.patient_name, (SELECT p.first_name || ' ' || p.last_name FROM patients p WHERE p.id = a.patient_id), '') AS patient_name
         FROM appointments a
         WHERE a.clinic_id = ?1 AND a.start_at >= ?2 AND a.start_at < ?3 AND a.deleted_at IS NULL
           AND (?4 IS NULL OR a.provider_id = ?4)
         ORDER BY a.start_at";

/// Columns of `DAY_FULL_SQL` before the patient's name.
const DAY_SQL_APPOINTMENT_COLUMNS: usize = 26;

fn bad_column(i: usize, e: DomainError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// An id column: parsed straight from the row (no intermediate JSON as in `table::map_row`).
fn id_at<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: fn(&str) -> Result<T, DomainError>,
) -> rusqlite::Result<T> {
    parse(r.get_ref(i)?.as_str()?).map_err(|e| bad_column(i, e))
}

fn opt_id_at<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: fn(&str) -> Result<T, DomainError>,
) -> rusqlite::Result<Option<T>> {
    match r.get_ref(i)?.as_str_or_null()? {
        Some(s) => parse(s).map(Some).map_err(|e| bad_column(i, e)),
        None => Ok(None),
    }
}

/// The appointment in the first columns of a `DAY_FULL_SQL` row. Field by field, so that a new
/// field of `Appointment` does not compile until it is read here (and selected above).
fn appointment_at(r: &rusqlite::Row<'_>) -> rusqlite::Result<Appointment> {
    Ok(Appointment {
        id: id_at(r, 0, AppointmentId::parse)?,
        clinic_id: id_at(r, 1, ClinicId::parse)?,
        patient_id: id_at(r, 2, PatientId::parse)?,
        provider_id: id_at(r, 3, StaffId::parse)?,
        room_id: opt_id_at(r, 4, RoomId::parse)?,
        appointment_type_id: opt_id_at(r, 5, AppointmentTypeId::parse)?,
        start_at: r.get(6)?,
        end_at: r.get(7)?,
        status: id_at(r, 8, AppointmentStatus::parse)?,
        case_id: opt_id_at(r, 9, CaseId::parse)?,
        reason: r.get(10)?,
        notes: r.get(11)?,
        source: id_at(r, 12, AppointmentSource::parse)?,
        rescheduled_from_id: opt_id_at(r, 13, AppointmentId::parse)?,
        series_id: opt_id_at(r, 14, RecurrenceSeriesId::parse)?,
        cancel_reason: r.get(15)?,
        override_reason: r.get(16)?,
        checked_in_at: r.get(17)?,
        started_at: r.get(18)?,
        completed_at: r.get(19)?,
        checked_out_at: r.get(20)?,
        cancelled_at: r.get(21)?,
        legacy_id: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
        deleted_at: r.get(25)?,
    })
}

/// What the schedule shows instead of a patient's name to a caller who may not see the
/// clinic's patients (viewers: the permission matrix gives them no patient data).
pub const UNNAMED_PATIENT: &str = "Booked";

/// An appointment as a caller without patient rights may see it: no reason, no notes.
pub(crate) fn redact_appointment(a: &mut Appointment) {
    a.reason = None;
    a.notes = None;
}

/// The patients a grid showed (by its appointments and the names on them), for the read's
/// audit event.
fn grid_patients<'a>(days: impl IntoIterator<Item = &'a DaySchedule>) -> Shown {
    Shown::Appointments(
        days.into_iter()
            .flat_map(|d| &d.entries)
            .map(|e| (e.id, e.patient_name.clone()))
            .collect(),
    )
}

/// A day of the grid as a caller without patient rights may see it: no patient names.
fn redact_day(day: &mut DaySchedule) {
    for e in &mut day.entries {
        e.patient_name = UNNAMED_PATIENT.to_string();
    }
}

impl App {
    /// The SQL `day_schedule` runs (the benchmark times the same text on PostgreSQL).
    #[doc(hidden)]
    pub const DAY_SCHEDULE_SQL: &'static str = DAY_SQL;

    /// What `book_appointment` would refuse or need an override for, without booking (the
    /// benchmark picks bookable slots with it, outside its timed part). `Err` is a refusal.
    /// No session: tooling only (crates/bench), not a front door's call.
    #[doc(hidden)]
    pub fn booking_problems(
        &self,
        clinic: ClinicId,
        patient: PatientId,
        provider: StaffId,
        kind: Option<&AppointmentType>,
        range: TimeRange,
    ) -> ApiResult<Vec<String>> {
        self.store.read(|c| {
            let (_, tz) = clinic_tz(c, clinic)?;
            check_rules(
                c,
                &Candidate {
                    clinic,
                    tz,
                    patient,
                    provider,
                    room: None,
                    kind,
                    range,
                    exclude: None,
                    hold_exempt: None,
                    now_ms: clinicdesk_store::now_ms(),
                },
            )
        })
    }
}

/// One local day of a clinic's schedule (23/25-hour days included), inside the caller's read.
fn day_in(
    c: &Connection,
    clinic: ClinicId,
    tz: Tz,
    date: NaiveDate,
    provider: Option<StaffId>,
) -> ApiResult<DaySchedule> {
    let (from, to) = local_day_bounds(tz, date);
    let entries = grid_entries(c, clinic, ms(from), ms(to), provider)?;
    let hours =
        (to - from).num_minutes().div_euclid(60) + i64::from((to - from).num_minutes() % 60 != 0);
    Ok(DaySchedule {
        clinic_id: clinic,
        date,
        hours,
        day_start: ms(from),
        day_end: ms(to),
        entries,
    })
}

/// The grid's entries of one clinic's day (`DAY_SQL`), column by column.
pub(crate) fn grid_entries(
    c: &Connection,
    clinic: ClinicId,
    from: i64,
    to: i64,
    provider: Option<StaffId>,
) -> ApiResult<Vec<GridEntry>> {
    let mut stmt = c.prepare_cached(DAY_SQL)?;
    let mut rows = stmt.query(params![
        clinic.to_string(),
        from,
        to,
        provider.map(|p| p.to_string())
    ])?;
    // A busy clinic-day has a few hundred rows: no regrowing on the way.
    let mut out = Vec::with_capacity(256);
    while let Some(r) = rows.next()? {
        out.push(GridEntry {
            id: uuid_at(r, 0)?.into(),
            provider_id: uuid_at(r, 1)?.into(),
            room_id: opt_uuid_at(r, 2)?.map(Into::into),
            appointment_type_id: opt_uuid_at(r, 3)?.map(Into::into),
            patient_name: r.get(4)?,
            start_at: r.get(5)?,
            end_at: r.get(6)?,
            status: id_at(r, 7, AppointmentStatus::parse)?,
            series_id: opt_uuid_at(r, 8)?.map(Into::into),
            case_id: opt_uuid_at(r, 9)?.map(Into::into),
            checked_in_at: r.get(10)?,
        });
    }
    Ok(out)
}

/// An id column as stored (the canonical text form the row layer writes): parsed from its
/// bytes, without the UTF-8 check and trimming that `parse` does for typed-in input.
fn uuid_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<uuid::Uuid> {
    uuid::Uuid::try_parse_ascii(r.get_ref(i)?.as_bytes()?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_uuid_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<uuid::Uuid>> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => uuid_at(r, i).map(Some),
    }
}

pub fn day_entries(
    c: &Connection,
    clinic: ClinicId,
    from: i64,
    to: i64,
    provider: Option<StaffId>,
) -> ApiResult<Vec<ScheduleEntry>> {
    let mut stmt = c.prepare_cached(DAY_FULL_SQL)?;
    let rows = stmt.query_map(
        params![
            clinic.to_string(),
            from,
            to,
            provider.map(|p| p.to_string())
        ],
        |r| {
            Ok((
                appointment_at(r)?,
                r.get::<_, String>(DAY_SQL_APPOINTMENT_COLUMNS)?,
            ))
        },
    )?;
    let rows = rows.collect::<Result<Vec<_>, _>>()?;
    // Names of the clinic's staff, rooms and types: three small reads (a few dozen rows)
    // instead of a join per appointment; anyone else (a visiting provider) is read by id.
    let names = |sql: &str| -> ApiResult<HashMap<String, String>> {
        Ok(c.prepare_cached(sql)?
            .query_map([clinic.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?)
    };
    let mut staff = names(
        "SELECT id, first_name || ' ' || last_name FROM staff_profiles WHERE primary_clinic_id = ?1",
    )?;
    let mut rooms = names("SELECT id, name FROM ops_treatment_rooms WHERE clinic_id = ?1")?;
    let mut types =
        names("SELECT id, name FROM appointment_types WHERE clinic_id = ?1 OR clinic_id IS NULL")?;
    fn lookup(
        c: &Connection,
        cache: &mut HashMap<String, String>,
        sql: &str,
        id: String,
    ) -> ApiResult<Option<String>> {
        if let Some(n) = cache.get(&id) {
            return Ok(Some(n.clone()));
        }
        let n: Option<String> = c
            .prepare_cached(sql)?
            .query_row([&id], |r| r.get(0))
            .optional()?;
        if let Some(n) = &n {
            cache.insert(id, n.clone());
        }
        Ok(n)
    }
    let mut entries = Vec::with_capacity(rows.len());
    for (appointment, patient_name) in rows {
        let provider_name = lookup(
            c,
            &mut staff,
            "SELECT first_name || ' ' || last_name FROM staff_profiles WHERE id = ?1",
            appointment.provider_id.to_string(),
        )?;
        // As the inner join it replaces: no provider row, no entry (foreign keys prevent it).
        let Some(provider_name) = provider_name else {
            continue;
        };
        let room_name = match appointment.room_id {
            None => None,
            Some(id) => lookup(
                c,
                &mut rooms,
                "SELECT name FROM ops_treatment_rooms WHERE id = ?1",
                id.to_string(),
            )?,
        };
        let type_name = match appointment.appointment_type_id {
            None => None,
            Some(id) => lookup(
                c,
                &mut types,
                "SELECT name FROM appointment_types WHERE id = ?1",
                id.to_string(),
            )?,
        };
        entries.push(ScheduleEntry {
            appointment,
            patient_name,
            provider_name,
            room_name,
            type_name,
        });
    }
    // Same order as before: by start, then provider name (stable: index order within).
    entries.sort_by(|a, b| {
        (a.appointment.start_at, &a.provider_name).cmp(&(b.appointment.start_at, &b.provider_name))
    });
    Ok(entries)
}

/// The booking inside a caller's transaction (rights already checked by `require_booking`):
/// every booking rule, as `book_appointment`.
pub(crate) fn book_in(
    tx: &WriteTx<'_>,
    s: &Session,
    clinic: ClinicId,
    f: &Fields,
    override_reason: Option<&str>,
) -> ApiResult<Appointment> {
    let (_, tz) = clinic_tz(tx, clinic)?;
    let patient = f
        .parsed("patient_id", PatientId::parse)?
        .ok_or_else(|| DomainError::invalid("patient_id", "is required"))?;
    let provider = f
        .parsed("provider_id", StaffId::parse)?
        .ok_or_else(|| DomainError::invalid("provider_id", "is required"))?;
    let p = table::get_live::<Patient>(tx, &patient)?;
    // A patient of another clinic only when the caller may see that clinic's patients.
    if p.clinic_id != clinic
        && !allowed(
            &crate::access::roles_of(tx, s)?,
            Capability::ReadPatients,
            Scope::Clinic(p.clinic_id),
        )
    {
        return Err(DomainError::invalid(
            "patient_id",
            "this patient belongs to another clinic, whose patients you may not see",
        )
        .into());
    }
    let staff = table::get_live::<Staff>(tx, &provider)?;
    if !staff.is_active {
        return Err(DomainError::invalid("provider_id", "this staff member is not active").into());
    }
    let kind = match f.parsed("appointment_type_id", AppointmentTypeId::parse)? {
        Some(t) => Some(table::get_live::<AppointmentType>(tx, &t)?),
        None => None,
    };
    let room = f.parsed("room_id", RoomId::parse)?;
    if let Some(r) = room {
        let r = table::get_live::<Room>(tx, &r)?;
        if r.clinic_id != clinic {
            return Err(
                DomainError::invalid("room_id", "the room belongs to another clinic").into(),
            );
        }
        if r.status != "available" || !r.is_active {
            return Err(ApiError::Conflict(format!(
                "{} is not available ({})",
                r.name, r.status
            )));
        }
    }
    let case_id = f.parsed("case_id", CaseId::parse)?;
    if let Some(c) = case_id {
        super::cases::check_case_for(tx, c, clinic, patient)?;
    }
    let start = f
        .parsed("start", |v| parse_when("start", tz, v))?
        .ok_or_else(|| DomainError::invalid("start", "is required"))?;
    let end = match (
        f.parsed("end", |v| parse_when("end", tz, v))?,
        f.int("duration_minutes", 5, 720)?.flatten(),
    ) {
        (Some(e), _) => e,
        (None, Some(d)) => start + chrono::Duration::minutes(d),
        (None, None) => match &kind {
            Some(k) => start + chrono::Duration::minutes(k.duration_minutes),
            None => {
                return Err(DomainError::invalid(
                    "end",
                    "give an end time, a duration or an appointment type",
                )
                .into())
            }
        },
    };
    let range = TimeRange::new(start, end)?;
    if range.duration() > chrono::Duration::milliseconds(MAX_APPOINTMENT_MS) {
        return Err(
            DomainError::invalid("end", "an appointment cannot be longer than 12 hours").into(),
        );
    }
    let source = f
        .parsed("source", AppointmentSource::parse)?
        .unwrap_or(AppointmentSource::FrontDesk);
    let reason = f.text("reason")?.flatten();
    let notes = f.text("notes")?.flatten();
    f.finish()?;
    insert_checked(
        tx,
        &Candidate {
            clinic,
            tz,
            patient,
            provider,
            room,
            kind: kind.as_ref(),
            range,
            exclude: None,
            hold_exempt: None,
            now_ms: tx.ctx.now_ms,
        },
        Extra {
            case_id,
            reason,
            notes,
            source,
            series_id: None,
            rescheduled_from: None,
        },
        override_reason,
    )
}
