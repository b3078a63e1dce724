//! A migration import: patients, staff, rooms and appointments from another system, already parsed
//! by the caller (`clinicdesk-interop` reads them from FHIR) — the rules here, the format
//! there.
//!
//! All or nothing, in one transaction with one audit event (every row audited and captured
//! like one made by hand): patients and staff through the same validation as hand entry
//! (`new_patient`, `new_staff`); appointments through the booking rules — an overlap (provider,
//! room or patient) is a conflict reported on its record, never dropped; working time and
//! credentials, which history often breaks (past shifts were never entered), are overridden
//! with the reason "imported", and only for callers who may override booking rules. Only
//! active appointments are checked (a cancelled one blocks nothing). Idempotent: a record
//! whose id (or patient legacy id / MRN, staff employee id, room name, appointment legacy id)
//! is already in the database is skipped, and the file's references to its id mean the one
//! found; at another clinic, it is an error. Every bad record comes back
//! with the caller's line and path; with any, nothing is written.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;
use clinicdesk_domain::{
    AppointmentId, AppointmentSource, AppointmentStatus, Capability, ClinicId, DomainError,
    PatientId, RoomId, StaffId, TimeRange,
};
use clinicdesk_store::table;
use clinicdesk_store::tables::{appointment_types::AppointmentType, appointments::Appointment};
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::booking::effects::record_status;
use super::booking::rules::{check_rules, Candidate};
use super::catalog::new_room;
use super::people::{new_patient, new_staff};
use super::time::{clinic_tz, instant};
use crate::access::{allowed, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// At most this many records in one migration import (one transaction).
pub const MAX_MIGRATION_RECORDS: usize = 250_000;

/// An appointment as another system had it.
#[derive(Debug, Clone)]
pub struct MigratedAppointment {
    pub id: Option<AppointmentId>,
    pub legacy_id: Option<String>,
    pub patient: PatientId,
    pub provider: StaffId,
    pub room: Option<RoomId>,
    /// An appointment type of the clinic (or organisation-wide) by its code; an unknown code
    /// leaves the type empty.
    pub type_code: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
}

/// One record to import.
#[derive(Debug, Clone)]
pub enum Migrated {
    /// The create fields of a patient (`legacy_id`, `mrn` … as `create_patient`).
    Patient {
        id: Option<PatientId>,
        fields: Fields,
    },
    /// The create fields of a staff member (as `create_staff`).
    Staff {
        id: Option<StaffId>,
        fields: Fields,
    },
    /// The create fields of a room of the clinic (as `create_room`).
    Room {
        id: Option<RoomId>,
        fields: Fields,
    },
    Appointment(MigratedAppointment),
}

/// A record and where it came from, for its errors.
#[derive(Debug, Clone)]
pub struct MigrationRecord {
    pub line: u64,
    /// What it is, FHIRPath-like (`Patient`, `Appointment`).
    pub path: String,
    pub record: Migrated,
    /// Where each create field came from (`date_of_birth` → `Patient.birthDate`): a field's
    /// error is reported at its path.
    pub field_paths: Vec<(String, String)>,
}

impl MigrationRecord {
    /// The path of an error about `field` (the record's own path when not mapped).
    fn path_of(&self, e: &ApiError) -> String {
        if let ApiError::Invalid(DomainError::Invalid { field, .. }) = e {
            if let Some((_, p)) = self.field_paths.iter().find(|(f, _)| f == field) {
                return p.clone();
            }
        }
        self.path.clone()
    }
}

/// A record that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct MigrationError {
    pub line: u64,
    /// Where in the record (FHIRPath-like: `Patient.birthDate`).
    pub path: String,
    pub message: String,
}

/// What a migration import did, or why it did nothing.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct MigrationImport {
    pub records: u64,
    pub patients: u64,
    pub staff: u64,
    pub rooms: u64,
    pub appointments: u64,
    /// Already in the database (a re-import), left as they are.
    pub skipped: u64,
    /// Records with an error; when not 0, nothing was imported.
    pub invalid: u64,
    /// The first `MAX_IMPORT_ERRORS` errors, in line order.
    pub errors: Vec<MigrationError>,
}

impl MigrationImport {
    /// Record an error (kept when among the first ones).
    pub fn fail(&mut self, line: u64, path: impl Into<String>, message: impl Into<String>) {
        self.invalid += 1;
        self.errors.push(MigrationError {
            line,
            path: path.into(),
            message: message.into(),
        });
    }

    fn settle(&mut self) {
        self.errors.sort_by_key(|e| e.line);
        self.errors.truncate(super::MAX_IMPORT_ERRORS);
    }
}

/// The transaction is rolled back with this when a record was bad (the result says why).
const ROLLED_BACK: &str = "the import had errors; nothing was imported";

/// Where a row with this id or key lives: None (not there), or its clinic.
fn holder(tx: &rusqlite::Connection, sql: &str, key: &str) -> ApiResult<Option<String>> {
    Ok(tx
        .prepare_cached(sql)?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A row found by this id or key: (its id, its clinic), or None.
fn found(tx: &rusqlite::Connection, sql: &str, key: &str) -> ApiResult<Option<(String, String)>> {
    Ok(tx
        .prepare_cached(sql)?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

impl App {
    /// Import `records` into `clinic` (see the module docs). Needs `import_patients` at the
    /// clinic, and `manage_staff` / `manage_rooms` / `manage_schedule` when staff / rooms /
    /// appointments are among them. Bad records are not an `Err`: the result lists them and says nothing was
    /// imported. `progress(stage, done, total)`; returning false cancels, nothing is kept.
    pub fn import_migration(
        &self,
        s: &Session,
        clinic: ClinicId,
        records: Vec<MigrationRecord>,
        progress: &mut dyn FnMut(&str, u64, u64) -> bool,
    ) -> ApiResult<MigrationImport> {
        let what = "import records from another system";
        let roles =
            self.require_roles(s, Capability::ImportPatients, Scope::Clinic(clinic), what)?;
        if records
            .iter()
            .any(|r| matches!(r.record, Migrated::Staff { .. }))
        {
            self.require(s, Capability::ManageStaff, Scope::Clinic(clinic), what)?;
        }
        if records
            .iter()
            .any(|r| matches!(r.record, Migrated::Room { .. }))
        {
            self.require(s, Capability::ManageRooms, Scope::Clinic(clinic), what)?;
        }
        if records
            .iter()
            .any(|r| matches!(r.record, Migrated::Appointment(_)))
        {
            self.require(s, Capability::ManageSchedule, Scope::Clinic(clinic), what)?;
        }
        let may_override = allowed(
            &roles,
            Capability::OverrideBookingRules,
            Scope::Clinic(clinic),
        );
        if records.len() > MAX_MIGRATION_RECORDS {
            return Err(DomainError::invalid(
                "records",
                format!("more than {MAX_MIGRATION_RECORDS} records: split the file"),
            )
            .into());
        }
        let mut out = MigrationImport {
            records: records.len() as u64,
            ..Default::default()
        };
        // Every record once: patients, staff and rooms as they are read, appointments as
        // they are booked.
        let total = out.records;
        let mut done = 0u64;
        let mut tick = |stage: &str| -> ApiResult<()> {
            done += 1;
            if (done.is_multiple_of(250) || done == total) && !progress(stage, done, total) {
                return Err(ApiError::Conflict(
                    "the import was cancelled; nothing was imported".into(),
                ));
            }
            Ok(())
        };
        let result = self.tx(s, |tx| {
            let (c, tz) = clinic_tz(tx, clinic)?;
            let here = clinic.to_string();
            let now = tx.ctx.now_ms;
            let mut appointments: Vec<(&MigrationRecord, &MigratedAppointment)> = Vec::new();
            // Records found here under another id: the file's id → this database's.
            let mut patient_alias: HashMap<PatientId, PatientId> = HashMap::new();
            let mut staff_alias: HashMap<StaffId, StaffId> = HashMap::new();
            let mut room_alias: HashMap<RoomId, RoomId> = HashMap::new();
            for r in &records {
                if !matches!(r.record, Migrated::Appointment(_)) {
                    tick("importing")?;
                }
                match &r.record {
                    Migrated::Patient { id, fields } => {
                        let mut p = match new_patient(fields, clinic, &c.code, now) {
                            Ok(p) => p,
                            Err(e) => {
                                out.fail(r.line, r.path_of(&e), e.to_string());
                                continue;
                            }
                        };
                        if let Some(id) = id {
                            p.id = *id;
                        }
                        let by_id = found(tx, "SELECT id, clinic_id FROM patients WHERE id = ?1", &p.id.to_string())?;
                        let by_legacy = match &p.legacy_id {
                            Some(l) => found(tx, "SELECT id, clinic_id FROM patients WHERE legacy_id = ?1", l)?,
                            None => None,
                        };
                        let by_mrn = if fields.text("mrn")?.flatten().is_some() {
                            found(tx, "SELECT id, clinic_id FROM patients WHERE mrn = ?1", &p.mrn)?
                        } else {
                            None
                        };
                        match by_id.or(by_legacy).or(by_mrn) {
                            Some((existing, h)) if h == here => {
                                out.skipped += 1;
                                // Perhaps here under another id (found by legacy id or MRN):
                                // the file's references to its id mean that patient.
                                if let Ok(e) = PatientId::parse(&existing) {
                                    if e != p.id {
                                        patient_alias.insert(p.id, e);
                                    }
                                }
                            }
                            Some(_) => out.fail(r.line, &r.path, "this patient (by id, legacy id or MRN) belongs to another clinic"),
                            None => {
                                table::insert(tx, &p)?;
                                out.patients += 1;
                            }
                        }
                    }
                    Migrated::Staff { id, fields } => {
                        let mut st = match new_staff(fields, clinic, now) {
                            Ok(st) => st,
                            Err(e) => {
                                out.fail(r.line, r.path_of(&e), e.to_string());
                                continue;
                            }
                        };
                        if let Some(id) = id {
                            st.id = *id;
                        }
                        let by_id = found(tx, "SELECT id, primary_clinic_id FROM staff_profiles WHERE id = ?1", &st.id.to_string())?;
                        let by_employee = match &st.employee_id {
                            Some(e) => found(tx, "SELECT id, primary_clinic_id FROM staff_profiles WHERE employee_id = ?1 AND deleted_at IS NULL", e)?,
                            None => None,
                        };
                        match by_id.or(by_employee) {
                            Some((existing, h)) if h == here => {
                                out.skipped += 1;
                                // Perhaps here under another id (by employee id).
                                if let Ok(e) = StaffId::parse(&existing) {
                                    if e != st.id {
                                        staff_alias.insert(st.id, e);
                                    }
                                }
                            }
                            Some(_) => out.fail(r.line, &r.path, "this staff member (by id or employee id) belongs to another clinic"),
                            None => {
                                table::insert(tx, &st)?;
                                out.staff += 1;
                            }
                        }
                    }
                    Migrated::Room { id, fields } => {
                        let mut room = match new_room(fields, clinic, now) {
                            Ok(room) => room,
                            Err(e) => {
                                out.fail(r.line, r.path_of(&e), e.to_string());
                                continue;
                            }
                        };
                        if let Some(id) = id {
                            room.id = *id;
                        }
                        let by_id = found(tx, "SELECT id, clinic_id FROM ops_treatment_rooms WHERE id = ?1", &room.id.to_string())?;
                        let by_name = tx
                            .prepare_cached("SELECT id, clinic_id FROM ops_treatment_rooms WHERE clinic_id = ?1 AND name = ?2 AND deleted_at IS NULL")?
                            .query_row([here.as_str(), room.name.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                            .optional()?;
                        match by_id.or(by_name) {
                            Some((existing, h)) if h == here => {
                                out.skipped += 1;
                                // Perhaps here under another id (by name).
                                if let Ok(e) = RoomId::parse(&existing) {
                                    if e != room.id {
                                        room_alias.insert(room.id, e);
                                    }
                                }
                            }
                            Some(_) => out.fail(r.line, &r.path, "this room (by id) belongs to another clinic"),
                            None => {
                                table::insert(tx, &room)?;
                                out.rooms += 1;
                            }
                        }
                    }
                    Migrated::Appointment(a) => appointments.push((r, a)),
                }
            }
            // Appointments in time order, each against the ones before it.
            appointments.sort_by_key(|(r, a)| (a.start_ms, r.line));
            let mut seen: HashSet<AppointmentId> = HashSet::new();
            for (r, a) in appointments {
                tick("booking")?;
                let (patient, provider) = (patient_alias.get(&a.patient), staff_alias.get(&a.provider));
                let room = a.room.and_then(|r| room_alias.get(&r));
                let aliased;
                let a = if patient.is_some() || provider.is_some() || room.is_some() {
                    aliased = MigratedAppointment {
                        patient: patient.copied().unwrap_or(a.patient),
                        provider: provider.copied().unwrap_or(a.provider),
                        room: room.copied().or(a.room),
                        ..a.clone()
                    };
                    &aliased
                } else {
                    a
                };
                match self.import_appointment(tx, clinic, tz, a, may_override, &mut seen) {
                    Ok(true) => out.appointments += 1,
                    Ok(false) => out.skipped += 1,
                    Err((path, message)) => out.fail(r.line, format!("{}{path}", r.path), message),
                }
            }
            if out.invalid > 0 {
                return Err(ApiError::Conflict(ROLLED_BACK.into()));
            }
            tx.audit_event(
                "imports",
                None,
                "event",
                &serde_json::json!({ "migration": {
                    "clinic_id": clinic, "records": out.records, "patients": out.patients,
                    "staff": out.staff, "rooms": out.rooms, "appointments": out.appointments, "skipped": out.skipped,
                } }),
            )?;
            Ok(())
        });
        match result {
            Ok(()) => Ok(out),
            Err(ApiError::Conflict(m)) if m == ROLLED_BACK => {
                out.settle();
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }

    /// One appointment in the import's transaction: Ok(true) written, Ok(false) already
    /// there, Err((path within the record, message)).
    fn import_appointment(
        &self,
        tx: &clinicdesk_store::WriteTx<'_>,
        clinic: ClinicId,
        tz: Tz,
        a: &MigratedAppointment,
        may_override: bool,
        seen: &mut HashSet<AppointmentId>,
    ) -> Result<bool, (String, String)> {
        let here = clinic.to_string();
        let db = |e: ApiError| (String::new(), e.to_string());
        let known = |sql: &str, key: &str| holder(tx, sql, key).map_err(db);
        if let Some(id) = a.id {
            if !seen.insert(id) {
                return Err((
                    ".id".into(),
                    format!("appointment {id} is in the file twice"),
                ));
            }
            if let Some(h) = known(
                "SELECT clinic_id FROM appointments WHERE id = ?1",
                &id.to_string(),
            )? {
                return if h == here {
                    Ok(false)
                } else {
                    Err((
                        ".id".into(),
                        "this appointment belongs to another clinic".into(),
                    ))
                };
            }
        }
        if let Some(l) = &a.legacy_id {
            let there = tx
                .query_row(
                    "SELECT 1 FROM appointments WHERE legacy_id = ?1 AND clinic_id = ?2",
                    [l.as_str(), here.as_str()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(|e| db(e.into()))?;
            if there.is_some() {
                return Ok(false);
            }
        }
        let unknown = |what: &str, id: String| {
            (
                ".participant.actor".to_string(),
                format!("unknown reference {what}/{id}: import it first, or in the same file"),
            )
        };
        match known(
            "SELECT clinic_id FROM patients WHERE id = ?1 AND deleted_at IS NULL",
            &a.patient.to_string(),
        )? {
            None => return Err(unknown("Patient", a.patient.to_string())),
            Some(h) if h != here => {
                return Err((
                    ".participant.actor".into(),
                    "the patient belongs to another clinic".into(),
                ))
            }
            Some(_) => {}
        }
        if known(
            "SELECT primary_clinic_id FROM staff_profiles WHERE id = ?1 AND deleted_at IS NULL",
            &a.provider.to_string(),
        )?
        .is_none()
        {
            return Err(unknown("Practitioner", a.provider.to_string()));
        }
        if let Some(room) = a.room {
            match known(
                "SELECT clinic_id FROM ops_treatment_rooms WHERE id = ?1 AND deleted_at IS NULL",
                &room.to_string(),
            )? {
                Some(h) if h == here => {}
                Some(_) => {
                    return Err((
                        ".participant.actor".into(),
                        "the room belongs to another clinic".into(),
                    ))
                }
                None => return Err(unknown("Location", room.to_string())),
            }
        }
        let range = TimeRange::new(instant(a.start_ms), instant(a.end_ms))
            .map_err(|e| (".end".to_string(), e.to_string()))?;
        let kind: Option<AppointmentType> = match &a.type_code {
            Some(code) => table::select::<AppointmentType, _>(
                tx,
                "WHERE code = ?1 AND (clinic_id = ?2 OR clinic_id IS NULL) AND deleted_at IS NULL ORDER BY clinic_id IS NULL LIMIT 1",
                rusqlite::params![code, here],
            )
            .map_err(|e| db(e.into()))?
            .into_iter()
            .next(),
            None => None,
        };
        let mut override_reason = None;
        if a.status.is_active() {
            let problems = check_rules(
                tx,
                &Candidate {
                    clinic,
                    tz,
                    patient: a.patient,
                    provider: a.provider,
                    room: a.room,
                    kind: kind.as_ref(),
                    range,
                    exclude: None,
                    hold_exempt: None,
                    now_ms: tx.ctx.now_ms,
                },
            )
            .map_err(|e| (".start".to_string(), format!("conflict: {e}")))?;
            if !problems.is_empty() {
                if !may_override {
                    return Err((
                        ".start".into(),
                        format!("{} (only a manager may import it)", problems.join("; ")),
                    ));
                }
                override_reason = Some(format!("imported [overrode: {}]", problems.join("; ")));
            }
        }
        let now = tx.ctx.now_ms;
        let at = |s: AppointmentStatus| (a.status == s).then_some(a.start_ms);
        let appt = Appointment {
            id: a.id.unwrap_or_else(AppointmentId::new),
            clinic_id: clinic,
            patient_id: a.patient,
            provider_id: a.provider,
            room_id: a.room,
            appointment_type_id: kind.map(|k| k.id),
            start_at: a.start_ms,
            end_at: a.end_ms,
            status: a.status,
            case_id: None,
            reason: a.reason.clone(),
            notes: a.notes.clone(),
            source: AppointmentSource::FrontDesk,
            rescheduled_from_id: None,
            series_id: None,
            cancel_reason: match a.status {
                AppointmentStatus::Cancelled => Some(
                    a.cancel_reason
                        .clone()
                        .unwrap_or_else(|| "cancelled (imported)".into()),
                ),
                _ => a.cancel_reason.clone(),
            },
            override_reason,
            checked_in_at: at(AppointmentStatus::CheckedIn),
            started_at: at(AppointmentStatus::InProgress),
            completed_at: at(AppointmentStatus::Completed),
            checked_out_at: None,
            cancelled_at: (a.status == AppointmentStatus::Cancelled).then_some(now),
            legacy_id: a.legacy_id.clone(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        table::insert(tx, &appt).map_err(|e| db(e.into()))?;
        record_status(tx, &appt, None, Some("imported"), false).map_err(db)?;
        Ok(true)
    }
}
