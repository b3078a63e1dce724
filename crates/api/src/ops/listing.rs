//! Lists a new user looks for: a clinic's appointments by provider, patient, local dates and
//! status (`list_appointments`), and a clinic's patients page by page (`list_patients`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use clinicdesk_domain::{
    local_day_bounds, parse_date, AppointmentStatus, Capability, ClinicId, DomainError, PatientId,
    StaffId,
};
use clinicdesk_store::table;
use clinicdesk_store::tables::{appointments::Appointment, patients::Patient};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::scheduling::redact_appointment;
use super::time::clinic_tz;
use crate::access::{clinics_with, Scope};
use crate::error::{ApiError, ApiResult};
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

/// Most rows a list returns; the default when no limit is given.
pub const MAX_LIST_ROWS: u32 = 1000;
pub const DEFAULT_LIST_ROWS: u32 = 100;

/// Filters of `list_appointments`: the clinic's local dates `from`..=`to` (each optional,
/// `YYYY-MM-DD`), a provider, a patient, statuses (any of them; none: every status).
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct AppointmentQuery {
    pub provider_id: Option<StaffId>,
    pub patient_id: Option<PatientId>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub statuses: Vec<String>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
}

/// One appointment of a list, with what a person reads it by.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppointmentListEntry {
    pub appointment: Appointment,
    /// The start on the clinic's wall clock, `2027-03-01 09:00`.
    pub local_start: String,
    pub provider_name: String,
    /// Only for a caller who may read patients at the clinic.
    pub patient_name: Option<String>,
}

fn limit_of(limit: Option<u32>) -> ApiResult<u32> {
    match limit.unwrap_or(DEFAULT_LIST_ROWS) {
        n @ 1..=MAX_LIST_ROWS => Ok(n),
        n => Err(DomainError::invalid(
            "limit",
            format!("{n} is not between 1 and {MAX_LIST_ROWS}"),
        )
        .into()),
    }
}

impl App {
    /// One clinic's appointments in start order (at most `limit`), as the day view allows
    /// (read clinic data); patient names only where the caller may read patients.
    pub fn list_appointments(
        &self,
        s: &Session,
        clinic: ClinicId,
        q: &AppointmentQuery,
    ) -> ApiResult<Vec<AppointmentListEntry>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "list appointments",
        )?;
        let from = q
            .from
            .as_deref()
            .map(|d| parse_date("from", d))
            .transpose()?;
        let to = q.to.as_deref().map(|d| parse_date("to", d)).transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(DomainError::invalid("to", format!("{t} is before from {f}")).into());
            }
        }
        let statuses = q
            .statuses
            .iter()
            .map(|st| AppointmentStatus::parse(st).map(AppointmentStatus::as_str))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = limit_of(q.limit)?;
        let names = self
            .store
            .read(|c| crate::access::roles_of(c, s))
            .map(|roles| clinics_with(&roles, Capability::ReadPatients).contains(&clinic))?;
        let out = self.store.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            let (_, tz) = clinic_tz(&snapshot, clinic)?;
            let bound = |d: Option<NaiveDate>, end: bool| {
                d.map(|d| {
                    let (s, e) = local_day_bounds(tz, d);
                    if end { e } else { s }.timestamp_millis()
                })
            };
            let rows = table::select::<Appointment, _>(
                &snapshot,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL
                   AND (?2 IS NULL OR provider_id = ?2) AND (?3 IS NULL OR patient_id = ?3)
                   AND (?4 IS NULL OR start_at >= ?4) AND (?5 IS NULL OR start_at < ?5)
                   AND (?6 = '[]' OR status IN (SELECT value FROM json_each(?6)))
                 ORDER BY start_at, id LIMIT ?7",
                params![
                    clinic.to_string(),
                    q.provider_id.map(|p| p.to_string()),
                    q.patient_id.map(|p| p.to_string()),
                    bound(from, false),
                    bound(to, true),
                    serde_json::to_string(&statuses).unwrap_or_else(|_| "[]".into()),
                    limit,
                ],
            )?;
            let mut providers: HashMap<StaffId, String> = HashMap::new();
            let mut out = Vec::with_capacity(rows.len());
            for a in rows {
                let provider_name = match providers.get(&a.provider_id) {
                    Some(n) => n.clone(),
                    None => {
                        let n: String = snapshot.query_row(
                            "SELECT first_name || ' ' || last_name FROM staff_profiles WHERE id = ?1",
                            [a.provider_id.to_string()],
                            |r| r.get(0),
                        )?;
                        providers.insert(a.provider_id, n.clone());
                        n
                    }
                };
                let mut a = a;
                let patient_name = if names {
                    Some(snapshot.query_row(
                        "SELECT patient_name FROM appointments WHERE id = ?1",
                        [a.id.to_string()],
                        |r| r.get(0),
                    )?)
                } else {
                    // As the day view: no reason or notes without the right to read patients.
                    redact_appointment(&mut a);
                    None
                };
                let local_start = DateTime::from_timestamp_millis(a.start_at)
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                out.push(AppointmentListEntry {
                    appointment: a,
                    local_start,
                    provider_name,
                    patient_name,
                });
            }
            drop(snapshot);
            Ok::<_, ApiError>(out)
        })?;
        if names {
            self.audit_read(
                s,
                PatientRead::new(
                    "list_appointments",
                    Some(clinic),
                    Shown::Patients(out.iter().map(|e| e.appointment.patient_id).collect()),
                )
                .with("provider_id", q.provider_id)
                .with("patient_id", q.patient_id)
                .with("from", &q.from)
                .with("to", &q.to)
                .with("statuses", &statuses)
                .with("limit", limit),
            )?;
        }
        Ok(out)
    }

    /// One clinic's live patients (its home patients), by last and first name, a page at a
    /// time (`limit` 1–1000, default 100; `offset`); as patient search allows (read patients).
    pub fn list_patients(
        &self,
        s: &Session,
        clinic: ClinicId,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ApiResult<Vec<Patient>> {
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(clinic),
            "list patients",
        )?;
        let limit = limit_of(limit)?;
        let rows = self.store.read(|c| {
            clinic_tz(c, clinic)?;
            Ok::<_, ApiError>(table::select::<Patient, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL
                 ORDER BY last_name, first_name, id LIMIT ?2 OFFSET ?3",
                params![clinic.to_string(), limit, offset.unwrap_or(0)],
            )?)
        })?;
        self.audit_read(
            s,
            PatientRead::new(
                "list_patients",
                Some(clinic),
                Shown::Patients(rows.iter().map(|p| p.id).collect()),
            )
            .with("limit", limit)
            .with("offset", offset.unwrap_or(0)),
        )?;
        Ok(rows)
    }
}
