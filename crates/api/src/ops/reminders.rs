//! Appointment reminders: created per clinic policy (default 48 h and 2 h before) on the
//! patient's preferred channel when they consented to it; cancelled or moved with their
//! appointment; a pending queue (seed 001's v_pending_reminders) that a sender works through.
//! There is no sending gateway yet: the queue and its JSON export are the interface.

use clinicdesk_domain::{
    AppointmentStatus, Capability, ClinicId, DomainError, PatientId, ReminderId, ReminderStatus,
};
use clinicdesk_store::tables::{appointments::Appointment, reminders::Reminder};
use clinicdesk_store::{table, StoreError};
use rusqlite::params;
use serde::Serialize;

use super::booking::effects::record_status;
use super::time::clinic_tz;
use super::Export;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

/// A reminder due to be sent, with what the sender needs.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PendingReminder {
    pub reminder: Reminder,
    pub patient_id: PatientId,
    pub patient_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub provider_name: String,
    pub appointment_start_at: i64,
}

impl App {
    /// Reminders due by `until_ms` (default: now) at a clinic, oldest first.
    pub fn pending_reminders(
        &self,
        s: &Session,
        clinic: ClinicId,
        until_ms: Option<i64>,
    ) -> ApiResult<Vec<PendingReminder>> {
        let rows = self.pending_rows(s, clinic, until_ms)?;
        let patients = rows.iter().map(|r| r.patient_id).collect();
        self.audit_read(
            s,
            PatientRead::new("pending_reminders", Some(clinic), Shown::Patients(patients))
                .with("until_ms", until_ms),
        )?;
        Ok(rows)
    }

    /// The pending queue with each reminder's patient (rights checked; the read is not
    /// recorded here: `pending_reminders` and the export record it).
    fn pending_rows(
        &self,
        s: &Session,
        clinic: ClinicId,
        until_ms: Option<i64>,
    ) -> ApiResult<Vec<PendingReminder>> {
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(clinic),
            "see the reminder queue",
        )?;
        let until = until_ms.unwrap_or_else(clinicdesk_store::now_ms);
        self.store.read(|c| {
            let mut stmt = c.prepare_cached(
                &format!("SELECT r.*, p.id AS patient_id, p.first_name || ' ' || p.last_name AS patient_name, p.phone AS phone, p.email AS email,
                        s.first_name || ' ' || s.last_name AS provider_name, a.start_at AS appointment_start_at
                 FROM appointment_reminders r
                 JOIN appointments a ON a.id = r.appointment_id
                 JOIN patients p ON p.id = a.patient_id
                 JOIN staff_profiles s ON s.id = a.provider_id
                 WHERE r.clinic_id = ?1 AND r.status = 'pending' AND r.due_at <= ?2 AND r.deleted_at IS NULL
                   AND a.status IN {} AND a.deleted_at IS NULL
                 ORDER BY r.due_at", AppointmentStatus::sql_in(AppointmentStatus::is_upcoming)),
            )?;
            let rows = stmt.query_map(params![clinic.to_string(), until], |r| {
                Ok(PendingReminder {
                    reminder: table::map_row(r)?,
                    patient_id: PatientId::parse(&r.get::<_, String>("patient_id")?).map_err(
                        |e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)),
                    )?,
                    patient_name: r.get("patient_name")?,
                    phone: r.get("phone")?,
                    email: r.get("email")?,
                    provider_name: r.get("provider_name")?,
                    appointment_start_at: r.get("appointment_start_at")?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The pending queue as CSV for a sending gateway or a mail merge: one row per due
    /// reminder with the patient's contact for its channel and the appointment on the clinic's
    /// wall clock — `due_local` and `appointment_local` as "YYYY-MM-DD HH:MM" for a program to
    /// read, `appointment_date` and `appointment_time` in the exporting user's display format
    /// (the same as on screen, see [`App::display_format`]) for a message to quote. Text cells
    /// that a spreadsheet would run as a formula are prefixed with `'`.
    pub fn export_pending_reminders_csv(
        &self,
        s: &Session,
        clinic: ClinicId,
        until_ms: Option<i64>,
        destination: &str,
    ) -> ApiResult<String> {
        let rows = self.pending_rows(s, clinic, until_ms)?;
        let patients: Vec<String> = rows.iter().map(|r| r.patient_id.to_string()).collect();
        self.record_export(
            s,
            &Export {
                what: "pending_reminders_csv",
                clinic: Some(clinic),
                destination,
                rows: rows.len(),
                patients: &patients,
            },
        )?;
        let tz = self
            .store
            .read(|c| Ok::<_, ApiError>(clinic_tz(c, clinic)?.1))?;
        let display = self.display_format(s, clinic)?;
        let wall = |t: i64| {
            chrono::DateTime::from_timestamp_millis(t).map(|t| t.with_timezone(&tz).naive_local())
        };
        let local = |t: i64| {
            wall(t)
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        };
        let safe = |v: &str| -> String {
            if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{v}")
            } else {
                v.to_string()
            }
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| ApiError::from(StoreError::Io(std::io::Error::from(e)));
        w.write_record([
            "reminder_id",
            "channel",
            "due_local",
            "patient_name",
            "phone",
            "email",
            "provider_name",
            "appointment_local",
            "appointment_date",
            "appointment_time",
            "appointment_id",
        ])
        .map_err(io)?;
        for r in &rows {
            w.write_record([
                r.reminder.id.to_string(),
                r.reminder.channel.as_str().to_string(),
                local(r.reminder.due_at),
                safe(&r.patient_name),
                r.phone.clone().unwrap_or_default(),
                r.email.as_deref().map(safe).unwrap_or_default(),
                safe(&r.provider_name),
                local(r.appointment_start_at),
                wall(r.appointment_start_at)
                    .map(|t| display.date_long(t.date()))
                    .unwrap_or_default(),
                wall(r.appointment_start_at)
                    .map(|t| display.time(t.time()))
                    .unwrap_or_default(),
                r.reminder.appointment_id.to_string(),
            ])
            .map_err(io)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ApiError::from(StoreError::Io(e.into_error())))?;
        // Every cell came from a Rust String, so the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Record the outcome of sending a reminder: `sent` (the appointment becomes `reminded`
    /// when it was pending or confirmed) or `failed` with a reason (may be retried).
    pub fn mark_reminder(
        &self,
        s: &Session,
        id: ReminderId,
        outcome: &str,
        failure_reason: Option<&str>,
    ) -> ApiResult<Reminder> {
        let r = self.store.read(|c| table::get_live::<Reminder>(c, &id))?;
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(r.clinic_id),
            "update reminders",
        )?;
        self.tx(s, |tx| {
            let mut r = table::get_live::<Reminder>(tx, &id)?;
            let now = tx.ctx.now_ms;
            match outcome {
                "sent" => {
                    r.status = r.status.transition(ReminderStatus::Sent)?;
                    r.sent_at = Some(now);
                    let mut a = table::get_live::<Appointment>(tx, &r.appointment_id)?;
                    if matches!(
                        a.status,
                        AppointmentStatus::Pending | AppointmentStatus::Confirmed
                    ) {
                        let from = a.status;
                        a.status = a.status.transition(AppointmentStatus::Reminded)?;
                        a.updated_at = now;
                        table::update(tx, &a)?;
                        record_status(tx, &a, Some(from), Some("reminder sent"), false)?;
                    }
                }
                "failed" => {
                    let why = failure_reason.map(str::trim).filter(|x| !x.is_empty());
                    let why = why
                        .ok_or_else(|| DomainError::invalid("reason", "say why sending failed"))?;
                    r.status = r.status.transition(ReminderStatus::Failed)?;
                    r.failure_reason = Some(why.to_string());
                }
                "retry" => r.status = r.status.transition(ReminderStatus::Pending)?,
                other => {
                    return Err(DomainError::invalid(
                        "outcome",
                        format!("'{other}' is not sent, failed or retry"),
                    )
                    .into())
                }
            }
            r.attempts += i64::from(outcome != "retry");
            r.updated_at = now;
            table::update(tx, &r)?;
            Ok(r)
        })
    }
}
