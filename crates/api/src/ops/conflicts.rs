//! The sync conflicts inbox (SYNC.md §5): the server's verdicts that reached this PC by pull
//! (`sync_conflicts`, written by the server in the push that lost), in front-desk words, and
//! their resolution (rebooked, waitlisted or dismissed, with a note). Listing and resolving
//! need the right to manage the schedule of the conflict's clinic; patient names and phones
//! are shown only where the caller may read patients. A resolution is an ordinary local write
//! (audited and captured by the generated triggers) and replicates back to the server.

use chrono_tz::Tz;
use clinicdesk_domain::{AppointmentStatus, Capability, ClinicId, DomainError};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::access::{allowed, clinics_with, Scope};
use crate::error::{ApiError, ApiResult};
use crate::ops::clinic_list;
use crate::ops::time::{local_day, local_hm};
use crate::{App, Session};

/// One conflict, as the front desk reads it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncConflictView {
    pub id: String,
    pub clinic_id: String,
    pub kind: String,
    /// What collided: provider, room or patient.
    pub resource: Option<String>,
    /// The booking that lost (now cancelled).
    pub appointment_id: String,
    /// The booking that kept the slot.
    pub winner_id: Option<String>,
    /// None where the caller may not read patients.
    pub patient: Option<String>,
    pub patient_phone: Option<String>,
    pub provider: String,
    /// The lost slot in the clinic's time ("Mon 2026-03-09 09:00–09:30").
    pub slot: String,
    /// Who kept it: the winning booking's patient (or "another patient") and provider.
    pub winner: Option<String>,
    /// The server's reason (the loser's cancel reason).
    pub detail: Option<String>,
    /// The device whose push lost.
    pub device_id: Option<String>,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub rebooked_id: Option<String>,
    pub note: Option<String>,
    /// One line: what happened and what to do.
    pub message: String,
}

/// How a conflict was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictResolution {
    /// The patient was rebooked: the new appointment (same clinic and patient).
    Rebooked(String),
    Waitlisted,
    Dismissed,
}

impl ConflictResolution {
    fn as_str(&self) -> &'static str {
        match self {
            ConflictResolution::Rebooked(_) => "rebooked",
            ConflictResolution::Waitlisted => "waitlisted",
            ConflictResolution::Dismissed => "dismissed",
        }
    }
}

const SELECT: &str = "SELECT c.id, c.clinic_id, c.kind, c.resource, c.appointment_id, c.winner_id,
        c.detail, c.device_id, c.created_at, c.resolved_at, c.resolution, c.rebooked_id, c.note,
        a.start_at, a.end_at, p.first_name || ' ' || p.last_name, p.phone,
        s.first_name || ' ' || s.last_name, cl.timezone,
        w.patient_id = a.patient_id, wp.first_name || ' ' || wp.last_name, ws.first_name || ' ' || ws.last_name
   FROM sync_conflicts c
   JOIN appointments a ON a.id = c.appointment_id
   JOIN clinics cl ON cl.id = c.clinic_id
   LEFT JOIN patients p ON p.id = a.patient_id
   LEFT JOIN staff_profiles s ON s.id = a.provider_id
   LEFT JOIN appointments w ON w.id = c.winner_id
   LEFT JOIN patients wp ON wp.id = w.patient_id
   LEFT JOIN staff_profiles ws ON ws.id = w.provider_id";

impl App {
    /// The conflicts of the clinics where the caller manages the schedule: open ones, or all
    /// with `all`; newest first.
    pub fn list_sync_conflicts(&self, s: &Session, all: bool) -> ApiResult<Vec<SyncConflictView>> {
        let roles = self.require_roles(
            s,
            Capability::ManageSchedule,
            Scope::AnyClinic,
            "see sync conflicts",
        )?;
        let clinics = clinics_with(&roles, Capability::ManageSchedule);
        let sql = format!(
            "{SELECT} WHERE c.clinic_id IN ({}) AND c.deleted_at IS NULL{} ORDER BY c.created_at DESC, c.id",
            clinic_list(&clinics),
            if all { "" } else { " AND c.resolved_at IS NULL" }
        );
        self.store.read(|c| -> ApiResult<_> {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], |r| view(r, &roles))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Resolve an open conflict: rebooked (the new appointment, an active booking of the same
    /// patient at the same clinic), waitlisted or dismissed, with an optional note.
    pub fn resolve_sync_conflict(
        &self,
        s: &Session,
        id: &str,
        how: &ConflictResolution,
        note: Option<&str>,
    ) -> ApiResult<SyncConflictView> {
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| DomainError::invalid("id", format!("'{}' is not a valid id", id.trim())))?
            .to_string();
        let found: Option<(String, Option<i64>, String)> =
            self.store.read(|c| -> ApiResult<_> {
                Ok(c.query_row(
                    "SELECT c.clinic_id, c.resolved_at, a.patient_id FROM sync_conflicts c
                   JOIN appointments a ON a.id = c.appointment_id
                  WHERE c.id = ?1 AND c.deleted_at IS NULL",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?)
            })?;
        let Some((clinic, resolved, patient)) = found else {
            return Err(ApiError::NotFound(format!(
                "there is no sync conflict {id} on this PC; nothing was changed"
            )));
        };
        let clinic_id = ClinicId::parse(&clinic)?;
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(clinic_id),
            "resolve sync conflicts",
        )?;
        if resolved.is_some() {
            return Err(ApiError::Conflict(format!(
                "sync conflict {id} is already resolved; nothing was changed"
            )));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 2000) {
            return Err(DomainError::invalid("note", "is longer than 2000 characters").into());
        }
        let rebooked = match how {
            ConflictResolution::Rebooked(a) => {
                let a = uuid::Uuid::parse_str(a.trim())
                    .map_err(|_| {
                        DomainError::invalid(
                            "rebooked",
                            format!("'{}' is not a valid id", a.trim()),
                        )
                    })?
                    .to_string();
                let ok: Option<(String, String, String)> = self.store.read(|c| -> ApiResult<_> {
                    Ok(c.query_row(
                        "SELECT clinic_id, patient_id, status FROM appointments WHERE id = ?1 AND deleted_at IS NULL",
                        [&a],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?)
                })?;
                match ok {
                    None => {
                        return Err(ApiError::NotFound(format!(
                            "there is no appointment {a}; nothing was changed"
                        )))
                    }
                    Some((c, p, st)) => {
                        let active = st
                            .parse::<AppointmentStatus>()
                            .is_ok_and(AppointmentStatus::is_active);
                        if c != clinic || p != patient || !active {
                            return Err(DomainError::invalid(
                                "rebooked",
                                "must be an active appointment of the same patient at the same clinic",
                            )
                            .into());
                        }
                    }
                }
                Some(a)
            }
            _ => None,
        };
        self.tx(s, |tx| {
            let n = tx.execute(
                "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4,
                        rebooked_id = ?5, note = ?6, updated_at = ?2
                  WHERE id = ?1 AND resolved_at IS NULL",
                params![
                    id,
                    tx.ctx.now_ms,
                    s.user_id.to_string(),
                    how.as_str(),
                    rebooked,
                    note
                ],
            )?;
            if n != 1 {
                return Err(ApiError::Conflict(format!(
                    "sync conflict {id} is already resolved; nothing was changed"
                )));
            }
            Ok(())
        })?;
        let roles = self.roles(s)?;
        self.store.read(|c| -> ApiResult<_> {
            Ok(
                c.query_row(&format!("{SELECT} WHERE c.id = ?1"), [&id], |r| {
                    view(r, &roles)
                })?,
            )
        })
    }
}

fn view(
    r: &rusqlite::Row<'_>,
    roles: &[(ClinicId, clinicdesk_domain::Role)],
) -> rusqlite::Result<SyncConflictView> {
    let clinic: String = r.get(1)?;
    let names = ClinicId::parse(&clinic)
        .is_ok_and(|c| allowed(roles, Capability::ReadPatients, Scope::Clinic(c)));
    let tz: Tz = r.get::<_, String>(18)?.parse().unwrap_or(Tz::UTC);
    let (start, end): (i64, i64) = (r.get(13)?, r.get(14)?);
    let slot = format!(
        "{} {}–{}",
        local_day(tz, start),
        local_hm(tz, start),
        local_hm(tz, end)
    );
    let patient: Option<String> = if names { r.get(15)? } else { None };
    let phone: Option<String> = if names { r.get(16)? } else { None };
    let provider: String = r
        .get::<_, Option<String>>(17)?
        .unwrap_or_else(|| "an unknown provider".into());
    let winner_id: Option<String> = r.get(5)?;
    let same_patient: Option<bool> = r.get(19)?;
    let winner = winner_id.as_ref().map(|_| {
        let who = match (same_patient, names) {
            (Some(true), _) => "the same patient".to_string(),
            (_, true) => r
                .get::<_, Option<String>>(20)
                .ok()
                .flatten()
                .unwrap_or_else(|| "another patient".into()),
            _ => "another patient".to_string(),
        };
        let with = r
            .get::<_, Option<String>>(21)
            .ok()
            .flatten()
            .unwrap_or_else(|| "an unknown provider".into());
        format!("{who} with {with}")
    });
    let resource: Option<String> = r.get(3)?;
    let resolution: Option<String> = r.get(10)?;
    let who = patient.clone().unwrap_or_else(|| "the patient".into());
    let what = match resource.as_deref() {
        Some("room") => "the room was already booked",
        Some("patient") => "the patient already had an appointment then",
        _ => "the provider was already booked",
    };
    let message = match &resolution {
        None => format!(
            "{who}'s booking with {provider} on {slot} was cancelled by sync: {what} ({} reached the server first). Call {who}{} to rebook.",
            winner.as_deref().unwrap_or("another booking"),
            phone.as_deref().map_or(String::new(), |p| format!(" at {p}")),
        ),
        Some(how) => format!("{who}'s booking with {provider} on {slot}: {what}; resolved ({how})."),
    };
    Ok(SyncConflictView {
        id: r.get(0)?,
        clinic_id: clinic,
        kind: r.get(2)?,
        resource,
        appointment_id: r.get(4)?,
        winner_id,
        patient,
        patient_phone: phone,
        provider,
        slot,
        winner,
        detail: r.get(6)?,
        device_id: r.get(7)?,
        created_at: r.get(8)?,
        resolved_at: r.get(9)?,
        resolution,
        rebooked_id: r.get(11)?,
        note: r.get(12)?,
        message,
    })
}
