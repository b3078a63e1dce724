//! The sync conflicts inbox (SYNC.md §5): the server's verdicts that reached this PC by pull
//! (`sync_conflicts`, written by the server in the push that lost), in front-desk words, and
//! their resolution (rebooked, waitlisted or dismissed, with a note). Listing and resolving
//! need the right to manage the schedule of the conflict's clinic; patient names and phones
//! are shown only where the caller may read patients. A resolution is an ordinary local write
//! (audited and captured by the generated triggers) and replicates back to the server.

use chrono_tz::Tz;
use clinicdesk_domain::{AppointmentStatus, Capability, ClinicId, DomainError, StaffId};
use clinicdesk_store::WriteTx;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::access::{allowed, clinics_with, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::ops::clinic_list;
use crate::ops::scheduling::{book_in, Slot};
use crate::ops::time::{local_day, local_hm};
use crate::ops::waitlist::add_waitlist_in;
use crate::{App, Session};

/// One conflict, as the front desk reads it.
#[derive(Debug, Clone, Serialize, specta::Type)]
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
    /// The losing push came from this PC (its front desk made the booking that was cancelled).
    pub this_pc: bool,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    /// Who resolved it (display name).
    pub resolved_by: Option<String>,
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
        w.patient_id = a.patient_id, wp.first_name || ' ' || wp.last_name, ws.first_name || ' ' || ws.last_name,
        u.display_name
   FROM sync_conflicts c
   JOIN appointments a ON a.id = c.appointment_id
   JOIN clinics cl ON cl.id = c.clinic_id
   LEFT JOIN patients p ON p.id = a.patient_id
   LEFT JOIN staff_profiles s ON s.id = a.provider_id
   LEFT JOIN appointments w ON w.id = c.winner_id
   LEFT JOIN patients wp ON wp.id = w.patient_id
   LEFT JOIN staff_profiles ws ON ws.id = w.provider_id
   LEFT JOIN users u ON u.id = c.resolved_by";

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
        let device = self.store.device_id().to_string();
        self.store.read(|c| -> ApiResult<_> {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], |r| view(r, &roles, &device))?;
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
        let note = clean_note(note)?;
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
            mark_resolved(tx, s, &id, how.as_str(), rebooked.as_deref(), note)
        })?;
        self.conflict_view(s, &id)
    }

    fn conflict_view(&self, s: &Session, id: &str) -> ApiResult<SyncConflictView> {
        let roles = self.roles(s)?;
        let device = self.store.device_id().to_string();
        self.store.read(|c| -> ApiResult<_> {
            Ok(
                c.query_row(&format!("{SELECT} WHERE c.id = ?1"), [id], |r| {
                    view(r, &roles, &device)
                })?,
            )
        })
    }

    /// An open conflict the caller may resolve, with its lost appointment.
    fn open_conflict(&self, s: &Session, id: &str, what: &str) -> ApiResult<Lost> {
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| DomainError::invalid("id", format!("'{}' is not a valid id", id.trim())))?
            .to_string();
        let found: Option<Lost> = self.store.read(|c| -> ApiResult<_> {
            Ok(c.query_row(
                "SELECT c.id, c.clinic_id, c.resolved_at, a.patient_id, a.provider_id, a.start_at,
                        a.end_at, a.appointment_type_id, a.reason, cl.timezone
                   FROM sync_conflicts c
                   JOIN appointments a ON a.id = c.appointment_id
                   JOIN clinics cl ON cl.id = c.clinic_id
                  WHERE c.id = ?1 AND c.deleted_at IS NULL",
                [&id],
                |r| {
                    Ok(Lost {
                        id: r.get(0)?,
                        clinic: r.get(1)?,
                        resolved: r.get::<_, Option<i64>>(2)?.is_some(),
                        patient: r.get(3)?,
                        provider: r.get(4)?,
                        start_at: r.get(5)?,
                        end_at: r.get(6)?,
                        kind: r.get(7)?,
                        reason: r.get(8)?,
                        tz: r.get::<_, String>(9)?.parse().unwrap_or(Tz::UTC),
                    })
                },
            )
            .optional()?)
        })?;
        let Some(lost) = found else {
            return Err(ApiError::NotFound(format!(
                "there is no sync conflict {id} on this PC; nothing was changed"
            )));
        };
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(ClinicId::parse(&lost.clinic)?),
            what,
        )?;
        if lost.resolved {
            return Err(ApiError::Conflict(format!(
                "sync conflict {id} is already resolved; nothing was changed"
            )));
        }
        Ok(lost)
    }

    /// Free slots to rebook a conflict's lost appointment (same length): from the lost day (or
    /// today, when later) for two weeks, the same provider's first, then the clinic's other
    /// providers'; at most `SUGGESTED_SLOTS` of each, earliest first.
    pub fn suggest_rebook_slots(&self, s: &Session, id: &str) -> ApiResult<Vec<RebookSlot>> {
        let lost = self.open_conflict(s, id, "rebook sync conflicts")?;
        let clinic = ClinicId::parse(&lost.clinic)?;
        let now = chrono::Utc::now().timestamp_millis();
        let first = local_date(lost.tz, lost.start_at.max(now));
        let last = first + chrono::Duration::days(SUGGEST_DAYS);
        let (from, to) = (first.to_string(), last.to_string());
        let minutes = ((lost.end_at - lost.start_at) / 60_000).clamp(5, 720);
        let same = StaffId::parse(&lost.provider)?;
        let names: std::collections::HashMap<String, String> =
            self.store.read(|c| -> ApiResult<_> {
                let mut stmt = c.prepare(
                    "SELECT id, first_name || ' ' || last_name FROM staff_profiles WHERE primary_clinic_id = ?1 OR id = ?2",
                )?;
                let rows = stmt.query_map(params![lost.clinic, lost.provider], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })?;
        let slot = |x: Slot| {
            let provider = names
                .get(&x.provider_id.to_string())
                .cloned()
                .unwrap_or_else(|| "an unknown provider".into());
            RebookSlot {
                label: format!(
                    "{} {}–{} with {provider}",
                    local_day(lost.tz, x.start_at),
                    local_hm(lost.tz, x.start_at),
                    local_hm(lost.tz, x.end_at)
                ),
                same_provider: x.provider_id == same,
                provider,
                provider_id: x.provider_id.to_string(),
                start_at: x.start_at,
                end_at: x.end_at,
                local_start: x.local_start,
            }
        };
        let mut out: Vec<RebookSlot> = self
            .available_slots(s, clinic, Some(same), minutes, &from, &to)?
            .into_iter()
            .filter(|x| x.start_at > now)
            .take(SUGGESTED_SLOTS)
            .map(&slot)
            .collect();
        let mut others: Vec<Slot> = self
            .available_slots(s, clinic, None, minutes, &from, &to)?
            .into_iter()
            .filter(|x| x.start_at > now && x.provider_id != same)
            .collect();
        others.sort_by_key(|x| x.start_at);
        out.extend(others.into_iter().take(SUGGESTED_SLOTS).map(&slot));
        Ok(out)
    }

    /// Rebook a conflict's patient into a free slot (`provider_id`, `start` as an instant or
    /// the clinic's wall-clock time; the lost appointment's length, type and reason) and
    /// resolve the conflict as rebooked, in one transaction: when the slot is no longer free
    /// (every booking rule applies), nothing is changed.
    pub fn rebook_sync_conflict(
        &self,
        s: &Session,
        id: &str,
        provider_id: &str,
        start: &str,
        note: Option<&str>,
    ) -> ApiResult<SyncConflictView> {
        let lost = self.open_conflict(s, id, "rebook sync conflicts")?;
        let clinic = ClinicId::parse(&lost.clinic)?;
        let note = clean_note(note)?;
        let mut f = Fields::new()
            .with("patient_id", lost.patient.clone())
            .with("provider_id", provider_id.trim())
            .with("start", start.trim())
            .with(
                "duration_minutes",
                ((lost.end_at - lost.start_at) / 60_000).to_string(),
            );
        if let Some(k) = &lost.kind {
            f = f.with("appointment_type_id", k.clone());
        }
        if let Some(r) = &lost.reason {
            f = f.with("reason", r.clone());
        }
        self.require_booking(s, clinic, &f, "book appointments")?;
        self.tx(s, |tx| {
            let booked = book_in(tx, s, clinic, &f, None)?;
            mark_resolved(
                tx,
                s,
                &lost.id,
                "rebooked",
                Some(&booked.id.to_string()),
                note,
            )
        })?;
        self.conflict_view(s, &lost.id)
    }

    /// Put a conflict's patient on the clinic's waitlist (the lost appointment's length and
    /// provider, from the lost day or today for two weeks, priority 2) and resolve the conflict
    /// as waitlisted, in one transaction.
    pub fn waitlist_sync_conflict(
        &self,
        s: &Session,
        id: &str,
        note: Option<&str>,
    ) -> ApiResult<SyncConflictView> {
        let lost = self.open_conflict(s, id, "resolve sync conflicts")?;
        let clinic = ClinicId::parse(&lost.clinic)?;
        self.require(
            s,
            Capability::ManageWaitlist,
            Scope::Clinic(clinic),
            "manage the waitlist",
        )?;
        let note = clean_note(note)?;
        let now = chrono::Utc::now().timestamp_millis();
        let first = local_date(lost.tz, lost.start_at.max(now));
        let mut f = Fields::new()
            .with("patient_id", lost.patient.clone())
            .with(
                "duration_minutes",
                ((lost.end_at - lost.start_at) / 60_000)
                    .clamp(5, 720)
                    .to_string(),
            )
            .with("earliest_date", first.to_string())
            .with(
                "latest_date",
                (first + chrono::Duration::days(SUGGEST_DAYS)).to_string(),
            )
            .with("provider_ids", lost.provider.clone())
            .with("priority", "2")
            .with(
                "notes",
                note.map_or("Lost a booking to a sync conflict".to_string(), |n| {
                    format!("Lost a booking to a sync conflict: {n}")
                }),
            );
        if let Some(k) = &lost.kind {
            f = f.with("appointment_type_id", k.clone());
        }
        self.tx(s, |tx| {
            add_waitlist_in(tx, clinic, &f)?;
            mark_resolved(tx, s, &lost.id, "waitlisted", None, note)
        })?;
        self.conflict_view(s, &lost.id)
    }
}

/// How many suggestions of the same provider, and of the others, `suggest_rebook_slots` gives.
pub const SUGGESTED_SLOTS: usize = 5;
/// How many days after the first one the suggestions and the waitlist entry cover.
const SUGGEST_DAYS: i64 = 14;

/// A free slot to rebook a lost appointment into.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RebookSlot {
    pub provider_id: String,
    pub provider: String,
    /// The lost appointment's provider.
    pub same_provider: bool,
    pub start_at: i64,
    pub end_at: i64,
    /// The clinic's wall-clock start ("2026-03-09 09:00"), what `rebook_sync_conflict` takes.
    pub local_start: String,
    /// "Mon 2026-03-09 09:00–09:30 with Maya Singh".
    pub label: String,
}

struct Lost {
    id: String,
    clinic: String,
    resolved: bool,
    patient: String,
    provider: String,
    start_at: i64,
    end_at: i64,
    kind: Option<String>,
    reason: Option<String>,
    tz: Tz,
}

fn local_date(tz: Tz, v: i64) -> chrono::NaiveDate {
    crate::ops::time::instant(v).with_timezone(&tz).date_naive()
}

fn clean_note(note: Option<&str>) -> ApiResult<Option<&str>> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(DomainError::invalid("note", "is longer than 2000 characters").into());
    }
    Ok(note)
}

/// Mark an open conflict resolved (refused when another resolution came first).
fn mark_resolved(
    tx: &WriteTx<'_>,
    s: &Session,
    id: &str,
    how: &str,
    rebooked: Option<&str>,
    note: Option<&str>,
) -> ApiResult<()> {
    let n = tx.execute(
        "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4,
                rebooked_id = ?5, note = ?6, updated_at = ?2
          WHERE id = ?1 AND resolved_at IS NULL",
        params![
            id,
            tx.ctx.now_ms,
            s.user_id.to_string(),
            how,
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
}

fn view(
    r: &rusqlite::Row<'_>,
    roles: &[(ClinicId, clinicdesk_domain::Role)],
    device: &str,
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
        this_pc: r.get::<_, Option<String>>(7)?.as_deref() == Some(device),
        device_id: r.get(7)?,
        created_at: r.get(8)?,
        resolved_at: r.get(9)?,
        resolved_by: r.get(22)?,
        resolution,
        rebooked_id: r.get(11)?,
        note: r.get(12)?,
        message,
    })
}
