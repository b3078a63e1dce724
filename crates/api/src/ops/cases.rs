//! Cases (episodes of care): CODE-YY-NNNN numbers that never collide across PCs, statuses and
//! priorities through their transitions, appointments linked to cases, authorization warnings.
//!
//! Case numbers come from blocks (`case_number_blocks`): a run of numbers for one device, one
//! clinic and one year. Only the numbering authority grants blocks — the database itself while
//! it stands alone, the server once the PC syncs — so two PCs never draw the same number. A
//! synced PC that has used up its blocks while offline gives a new case a provisional number
//! (CODE-YY-P<device>-<n>, unique because it names the device) and `finalize_case_numbers`
//! replaces it with a final one when a new block arrives.

use chrono::{Datelike, NaiveDate};
use clinicdesk_domain::{
    AppointmentId, AppointmentStatus, Capability, CaseId, CasePriority, CaseStatus, ClinicId,
    DomainError, EmployerId, PatientId, PayerId, StaffId,
};
use clinicdesk_store::tables::{
    appointments::Appointment,
    cases::{Case, CaseNumberBlock},
    clinics::Clinic,
    patients::Patient,
    staff::Staff,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::time::clinic_tz;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

/// Numbers per block granted at a time.
pub const CASE_BLOCK_SIZE: i64 = 50;
const MODE_KEY: &str = "case_numbering";

/// A case whose authorization has lapsed or soon will, with the appointments it affects.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CaseWarning {
    pub case: Case,
    pub days_left: i64,
    pub message: String,
    /// Active appointments of the case on or after the authorization's expiry.
    pub appointments_after_expiry: Vec<Appointment>,
}

/// A case with the appointments linked to it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CaseDetail {
    pub case: Case,
    pub appointments: Vec<Appointment>,
}

/// The audit event of a read of one case (its patient, and those of its `appointments`).
fn case_read(operation: &'static str, case: &Case, appointments: Vec<PatientId>) -> PatientRead {
    let mut patients = appointments;
    patients.push(case.patient_id);
    PatientRead::new(operation, Some(case.clinic_id), Shown::Patients(patients))
        .with("case_id", case.id)
}

fn year_prefix(clinic: &Clinic, year: i32) -> String {
    format!("{}-{:02}-", clinic.code, year.rem_euclid(100))
}

/// Whether this database numbers cases itself ("local") or takes blocks from the server.
fn numbering_mode(conn: &Connection) -> ApiResult<String> {
    Ok(conn
        .query_row(
            "SELECT value FROM local_meta WHERE key = ?1",
            [MODE_KEY],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .unwrap_or_else(|| "local".into()))
}

/// The highest final number used at `clinic` in `year` within [lo, hi].
fn max_used(
    conn: &Connection,
    prefix: &str,
    clinic: ClinicId,
    lo: i64,
    hi: i64,
) -> ApiResult<Option<i64>> {
    Ok(conn.query_row(
        "SELECT max(n) FROM (SELECT CAST(substr(case_number, ?3) AS INTEGER) AS n FROM ops_cases
           WHERE clinic_id = ?1 AND case_number GLOB ?2) WHERE n BETWEEN ?4 AND ?5",
        params![
            clinic.to_string(),
            format!("{prefix}[0-9]*"),
            prefix.chars().count() as i64 + 1,
            lo,
            hi
        ],
        |r| r.get(0),
    )?)
}

/// The next free number in this device's blocks, if any.
fn next_from_blocks(
    tx: &WriteTx<'_>,
    clinic: &Clinic,
    year: i32,
    device: &str,
) -> ApiResult<Option<String>> {
    let prefix = year_prefix(clinic, year);
    let blocks = table::select::<CaseNumberBlock, _>(
        tx,
        "WHERE clinic_id = ?1 AND year = ?2 AND device_id = ?3 AND deleted_at IS NULL ORDER BY first_number",
        params![clinic.id.to_string(), year, device],
    )?;
    for b in blocks {
        let next = max_used(tx, &prefix, clinic.id, b.first_number, b.last_number)?
            .map_or(b.first_number, |n| n + 1);
        if next <= b.last_number {
            return Ok(Some(format!("{prefix}{next:04}")));
        }
    }
    Ok(None)
}

/// The authority's operation: the next `size` numbers after every block granted so far (and
/// after any final number already used) for `clinic` and `year`, granted to `device`.
fn grant_block(
    tx: &WriteTx<'_>,
    clinic: &Clinic,
    year: i32,
    device: &str,
    size: i64,
    granted_by: &str,
) -> ApiResult<CaseNumberBlock> {
    let last_granted: Option<i64> = tx.query_row(
        "SELECT max(last_number) FROM case_number_blocks WHERE clinic_id = ?1 AND year = ?2",
        params![clinic.id.to_string(), year],
        |r| r.get(0),
    )?;
    let last_used = max_used(tx, &year_prefix(clinic, year), clinic.id, 1, i64::MAX)?;
    let first = last_granted.max(last_used).unwrap_or(0) + 1;
    let now = tx.ctx.now_ms;
    let b = CaseNumberBlock {
        id: uuid::Uuid::now_v7().to_string(),
        clinic_id: clinic.id,
        year: i64::from(year),
        device_id: device.to_string(),
        first_number: first,
        last_number: first + size - 1,
        granted_by: granted_by.to_string(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    table::insert(tx, &b)?;
    Ok(b)
}

/// A case number for a new case at `clinic` on local date `today`.
fn allocate(
    tx: &WriteTx<'_>,
    clinic: &Clinic,
    today: NaiveDate,
    device: &str,
) -> ApiResult<String> {
    let year = today.year();
    if let Some(n) = next_from_blocks(tx, clinic, year, device)? {
        return Ok(n);
    }
    if numbering_mode(tx)? == "local" {
        grant_block(tx, clinic, year, device, CASE_BLOCK_SIZE, "local")?;
        return next_from_blocks(tx, clinic, year, device)?
            .ok_or_else(|| ApiError::Conflict("no case number available".into()));
    }
    // Synced and out of numbers while offline: a provisional number naming this device.
    let tag = provisional_tag(clinic, year, device);
    let used: i64 = tx.query_row(
        "SELECT count(*) FROM ops_cases WHERE clinic_id = ?1 AND case_number GLOB ?2",
        params![clinic.id.to_string(), format!("{tag}*")],
        |r| r.get(0),
    )?;
    Ok(format!("{tag}{:03}", used + 1))
}

/// "CGY-26-P1a2b3c-": the provisional numbers of `device` at `clinic` in `year`.
fn provisional_tag(clinic: &Clinic, year: i32, device: &str) -> String {
    let dev: String = device.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let short = &dev[dev.len().saturating_sub(6)..];
    format!("{}P{short}-", year_prefix(clinic, year))
}

fn today(tx: &Connection, clinic: ClinicId, now: i64) -> ApiResult<(Clinic, NaiveDate)> {
    let (c, tz) = clinic_tz(tx, clinic)?;
    let d = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    Ok((c, d))
}

impl App {
    /// Open a case. Fields: patient_id, case_type; optional priority, diagnosis_code,
    /// diagnosis_description, target_completion_date, primary_clinician_id, chief_complaint,
    /// treatment_plan, authorization_number, authorization_expiry, employer_id, payer_id,
    /// referral_source, tags (comma list).
    pub fn create_case(&self, s: &Session, clinic: ClinicId, f: &Fields) -> ApiResult<Case> {
        self.require(
            s,
            Capability::ManageCases,
            Scope::Clinic(clinic),
            "open cases",
        )?;
        let device = self.store.device_id().to_string();
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let (c, today) = today(tx, clinic, now)?;
            let patient = f
                .parsed("patient_id", PatientId::parse)?
                .ok_or_else(|| DomainError::invalid("patient_id", "is required"))?;
            let p = table::get_live::<Patient>(tx, &patient)?;
            if p.clinic_id != clinic {
                return Err(DomainError::invalid(
                    "patient_id",
                    "this patient is registered at another clinic",
                )
                .into());
            }
            let case_type = f.text("case_type")?.flatten().ok_or_else(|| {
                DomainError::invalid("case_type", "is required (e.g. workers_comp, physio)")
            })?;
            let mut case = Case {
                id: CaseId::new(),
                case_number: String::new(),
                patient_id: patient,
                clinic_id: clinic,
                case_type,
                diagnosis_code: None,
                diagnosis_description: None,
                status: CaseStatus::New,
                priority: CasePriority::Medium,
                opened_at: now,
                closed_at: None,
                target_completion_date: None,
                primary_clinician_id: None,
                assigned_team_ids: Vec::new(),
                chief_complaint: None,
                treatment_plan: None,
                clinical_notes: None,
                authorization_number: None,
                authorization_expiry: None,
                employer_id: None,
                payer_id: None,
                referral_source: None,
                outcome_status: None,
                discharge_disposition: None,
                readmission_risk_score: None,
                tags: Vec::new(),
                custom_fields: serde_json::Map::new(),
                created_by: Some(s.user_id),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            if let Some(p) = f.parsed("priority", CasePriority::parse)? {
                case.priority = p;
            }
            apply_fields(tx, &mut case, f)?;
            f.finish()?;
            case.case_number = allocate(tx, &c, today, &device)?;
            table::insert(tx, &case)?;
            Ok(case)
        })
    }

    /// Change a case's details (not its number, status or priority). Managers, or the case's
    /// primary clinician (their own cases).
    pub fn update_case(&self, s: &Session, id: CaseId, f: &Fields) -> ApiResult<Case> {
        let case = self.fetch::<Case>(&id)?;
        self.require_case_write(s, &case, "update cases")?;
        self.tx(s, |tx| {
            let mut case = table::get_live::<Case>(tx, &id)?;
            apply_fields(tx, &mut case, f)?;
            f.finish()?;
            case.updated_at = tx.ctx.now_ms;
            table::update(tx, &case)?;
            Ok(case)
        })
    }

    /// Move a case along its workflow (new → active → on hold / completed …). Completing or
    /// cancelling sets closed_at; reopening clears it.
    pub fn set_case_status(&self, s: &Session, id: CaseId, status: &str) -> ApiResult<Case> {
        let case = self.fetch::<Case>(&id)?;
        self.require_case_write(s, &case, "change case status")?;
        let to = CaseStatus::parse(status)?;
        self.tx(s, |tx| {
            let mut case = table::get_live::<Case>(tx, &id)?;
            case.status = case.status.transition(to)?;
            let now = tx.ctx.now_ms;
            match to {
                CaseStatus::Completed | CaseStatus::Cancelled => case.closed_at = Some(now),
                CaseStatus::Active => case.closed_at = None,
                CaseStatus::New
                | CaseStatus::OnHold
                | CaseStatus::PendingApproval
                | CaseStatus::Archived => {}
            }
            case.updated_at = now;
            table::update(tx, &case)?;
            Ok(case)
        })
    }

    pub fn set_case_priority(&self, s: &Session, id: CaseId, priority: &str) -> ApiResult<Case> {
        let case = self.fetch::<Case>(&id)?;
        self.require_case_write(s, &case, "change case priority")?;
        let to = CasePriority::parse(priority)?;
        self.tx(s, |tx| {
            let mut case = table::get_live::<Case>(tx, &id)?;
            case.priority = case.priority.transition(to)?;
            case.updated_at = tx.ctx.now_ms;
            table::update(tx, &case)?;
            Ok(case)
        })
    }

    /// A case, for a caller who may read its clinic's patients (not recorded: the callers do).
    fn readable_case(&self, s: &Session, id: CaseId) -> ApiResult<Case> {
        let case = self.fetch::<Case>(&id)?;
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(case.clinic_id),
            "see cases",
        )?;
        Ok(case)
    }

    pub fn get_case(&self, s: &Session, id: CaseId) -> ApiResult<Case> {
        let case = self.readable_case(s, id)?;
        self.audit_read(s, case_read("get_case", &case, Vec::new()))?;
        Ok(case)
    }

    /// A case with its appointments (every status, oldest first).
    pub fn get_case_detail(&self, s: &Session, id: CaseId) -> ApiResult<CaseDetail> {
        let case = self.readable_case(s, id)?;
        let appointments = self.store.read(|c| {
            table::select::<Appointment, _>(
                c,
                "WHERE case_id = ?1 AND deleted_at IS NULL ORDER BY start_at",
                [id.to_string()],
            )
        })?;
        let patients = appointments.iter().map(|a| a.patient_id).collect();
        self.audit_read(s, case_read("get_case_detail", &case, patients))?;
        Ok(CaseDetail { case, appointments })
    }

    /// Cases at a clinic, newest first; `status` filters (e.g. active).
    pub fn list_cases(
        &self,
        s: &Session,
        clinic: ClinicId,
        status: Option<&str>,
    ) -> ApiResult<Vec<Case>> {
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(clinic),
            "see cases",
        )?;
        let status = status.map(CaseStatus::parse).transpose()?;
        let cases = self.store.read(|c| {
            table::select::<Case, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR status = ?2) ORDER BY opened_at DESC",
                params![clinic.to_string(), status.map(|s| s.as_str())],
            )
        })?;
        self.audit_read(
            s,
            PatientRead::new(
                "list_cases",
                Some(clinic),
                Shown::Patients(cases.iter().map(|c| c.patient_id).collect()),
            )
            .with("status", status.map(|s| s.as_str())),
        )?;
        Ok(cases)
    }

    /// Link an appointment to a case (same clinic and patient), or unlink with `None`.
    pub fn link_appointment_to_case(
        &self,
        s: &Session,
        appointment: AppointmentId,
        case: Option<CaseId>,
    ) -> ApiResult<Appointment> {
        let clinic = self.appointment_clinic(appointment)?;
        self.require(
            s,
            Capability::ManageSchedule,
            Scope::Clinic(clinic),
            "change appointments",
        )?;
        self.tx(s, |tx| {
            let mut a = table::get_live::<Appointment>(tx, &appointment)?;
            if let Some(cid) = case {
                check_case_for(tx, cid, a.clinic_id, a.patient_id)?;
            }
            a.case_id = case;
            a.updated_at = tx.ctx.now_ms;
            table::update(tx, &a)?;
            Ok(a)
        })
    }

    /// Open cases whose authorization has expired or expires within `within_days` (clinic
    /// local date), with the appointments booked under them on or after the expiry.
    pub fn case_warnings(
        &self,
        s: &Session,
        clinic: ClinicId,
        within_days: i64,
    ) -> ApiResult<Vec<CaseWarning>> {
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(clinic),
            "see cases",
        )?;
        if !(0..=365).contains(&within_days) {
            return Err(DomainError::invalid("within_days", "give 0 to 365 days").into());
        }
        let now = clinicdesk_store::now_ms();
        let warnings = self.store.read(|c| {
            let (_, tz) = clinic_tz(c, clinic)?;
            let (_, today) = today(c, clinic, now)?;
            let horizon = today + chrono::Duration::days(within_days);
            let cases = table::select::<Case, _>(
                c,
                &format!("WHERE clinic_id = ?1 AND deleted_at IS NULL AND status IN {}
                   AND authorization_expiry IS NOT NULL AND authorization_expiry <= ?2 ORDER BY authorization_expiry", CaseStatus::sql_in(CaseStatus::is_open)),
                params![clinic.to_string(), horizon.to_string()],
            )?;
            let mut out = Vec::new();
            for case in cases {
                let exp = case.authorization_expiry.expect("filtered on");
                let days_left = (exp - today).num_days();
                let (from, _) = clinicdesk_domain::local_day_bounds(tz, exp + chrono::Duration::days(1));
                let after = table::select::<Appointment, _>(
                    c,
                    &format!("WHERE case_id = ?1 AND deleted_at IS NULL AND status IN {}
                       AND start_at >= ?2 ORDER BY start_at", AppointmentStatus::sql_in(AppointmentStatus::awaits_visit)),
                    params![case.id.to_string(), from.timestamp_millis()],
                )?;
                let message = if days_left < 0 {
                    format!("authorization for case {} expired on {exp}", case.case_number)
                } else {
                    format!("authorization for case {} expires on {exp} ({days_left} days)", case.case_number)
                };
                out.push(CaseWarning { case, days_left, message, appointments_after_expiry: after });
            }
            Ok::<_, ApiError>(out)
        })?;
        let patients = warnings.iter().flat_map(|w| {
            std::iter::once(w.case.patient_id)
                .chain(w.appointments_after_expiry.iter().map(|a| a.patient_id))
        });
        self.audit_read(
            s,
            PatientRead::new(
                "case_warnings",
                Some(clinic),
                Shown::Patients(patients.collect()),
            )
            .with("within_days", within_days),
        )?;
        Ok(warnings)
    }

    /// The numbering authority (this database while it stands alone; the server's copy of
    /// this logic once synced) grants `device` the next block of case numbers. Admins only.
    pub fn grant_case_numbers(
        &self,
        s: &Session,
        clinic: ClinicId,
        year: i32,
        device: &str,
        size: i64,
    ) -> ApiResult<CaseNumberBlock> {
        self.require(
            s,
            Capability::ManageClinics,
            Scope::Clinic(clinic),
            "grant case numbers",
        )?;
        if !(1..=1000).contains(&size) {
            return Err(DomainError::invalid("size", "grant 1 to 1000 numbers at a time").into());
        }
        if !(2000..=2999).contains(&year) {
            return Err(DomainError::invalid("year", "give a year like 2026").into());
        }
        if device.trim().is_empty() {
            return Err(DomainError::invalid("device", "is required").into());
        }
        self.tx(s, |tx| {
            let (c, _) = clinic_tz(tx, clinic)?;
            grant_block(tx, &c, year, device.trim(), size, "server")
        })
    }

    /// Switch this database between numbering cases itself (`local`, the default) and taking
    /// blocks from the server (`server`: used when the PC is enrolled for sync). Admins only.
    pub fn set_case_numbering(&self, s: &Session, mode: &str) -> ApiResult<()> {
        self.require(
            s,
            Capability::ManageClinics,
            Scope::AnyClinic,
            "change case numbering",
        )?;
        let mode = match mode.trim() {
            m @ ("local" | "server") => m.to_string(),
            other => {
                return Err(DomainError::invalid(
                    "mode",
                    format!("'{other}' is not local or server"),
                )
                .into())
            }
        };
        self.tx(s, |tx| {
            tx.execute(
                "INSERT INTO local_meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![MODE_KEY, mode],
            )?;
            Ok(())
        })
    }

    /// Give this device's provisional case numbers final ones from its blocks (run after a
    /// block arrives; also part of housekeeping). Returns the cases renumbered.
    pub fn finalize_case_numbers(&self) -> ApiResult<Vec<Case>> {
        let device = self.store.device_id().to_string();
        self.store.write(None, |tx| {
            let provisional = table::select::<Case, _>(
                tx,
                "WHERE deleted_at IS NULL AND case_number GLOB '*-P*-*' ORDER BY created_at",
                [],
            )?;
            let mut out = Vec::new();
            for mut case in provisional {
                let (c, _) = clinic_tz(tx, case.clinic_id)?;
                let year = chrono::DateTime::from_timestamp_millis(case.opened_at)
                    .unwrap_or_default()
                    .year();
                // Only this device's provisional numbers are its to finalize.
                let tag = provisional_tag(&c, year, &device);
                if !case.case_number.starts_with(&tag) {
                    continue;
                }
                let Some(n) = next_from_blocks(tx, &c, year, &device)? else {
                    break;
                };
                case.case_number = n;
                case.updated_at = tx.ctx.now_ms;
                table::update(tx, &case)?;
                out.push(case);
            }
            Ok(out)
        })
    }

    fn require_case_write(&self, s: &Session, case: &Case, what: &str) -> ApiResult<()> {
        let own = match case.primary_clinician_id {
            Some(p) => self.fetch::<Staff>(&p)?.user_id == Some(s.user_id),
            None => false,
        };
        if own {
            self.require(
                s,
                Capability::UpdateOwnCases,
                Scope::Clinic(case.clinic_id),
                what,
            )
        } else {
            self.require(
                s,
                Capability::ManageCases,
                Scope::Clinic(case.clinic_id),
                what,
            )
        }
    }
}

/// The case must be live and belong to this clinic and patient (booking and linking).
pub(crate) fn check_case_for(
    conn: &Connection,
    case: CaseId,
    clinic: ClinicId,
    patient: PatientId,
) -> ApiResult<Case> {
    let c = table::get_live::<Case>(conn, &case)?;
    if c.clinic_id != clinic || c.patient_id != patient {
        return Err(DomainError::invalid(
            "case_id",
            format!("case {} is another patient's", c.case_number),
        )
        .into());
    }
    if matches!(c.status, CaseStatus::Cancelled | CaseStatus::Archived) {
        return Err(ApiError::Conflict(format!(
            "case {} is {}",
            c.case_number, c.status
        )));
    }
    Ok(c)
}

fn apply_fields(tx: &WriteTx<'_>, case: &mut Case, f: &Fields) -> ApiResult<()> {
    let text = |k: &'static str, slot: &mut Option<String>| -> ApiResult<()> {
        if let Some(v) = f.text(k)? {
            *slot = v;
        }
        Ok(())
    };
    if let Some(Some(t)) = f.text("case_type")? {
        case.case_type = t;
    }
    text("diagnosis_code", &mut case.diagnosis_code)?;
    text("diagnosis_description", &mut case.diagnosis_description)?;
    text("chief_complaint", &mut case.chief_complaint)?;
    text("treatment_plan", &mut case.treatment_plan)?;
    text("clinical_notes", &mut case.clinical_notes)?;
    text("authorization_number", &mut case.authorization_number)?;
    text("referral_source", &mut case.referral_source)?;
    text("outcome_status", &mut case.outcome_status)?;
    text("discharge_disposition", &mut case.discharge_disposition)?;
    if let Some(d) = f.date("target_completion_date")? {
        case.target_completion_date = d;
    }
    if let Some(d) = f.date("authorization_expiry")? {
        case.authorization_expiry = d;
    }
    if let Some(v) = f.text("primary_clinician_id")? {
        case.primary_clinician_id = match v {
            None => None,
            Some(id) => {
                let st = table::get_live::<Staff>(tx, &StaffId::parse(&id)?)?;
                Some(st.id)
            }
        };
    }
    if let Some(v) = f.text("employer_id")? {
        case.employer_id = v.map(|x| EmployerId::parse(&x)).transpose()?;
    }
    if let Some(v) = f.text("payer_id")? {
        case.payer_id = v.map(|x| PayerId::parse(&x)).transpose()?;
    }
    if let Some(v) = f.text("tags")? {
        case.tags = v
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
    }
    if let Some(v) = f.text("readmission_risk_score")? {
        case.readmission_risk_score = match v {
            None => None,
            Some(x) => {
                let n: f64 = x.trim().parse().map_err(|_| {
                    DomainError::invalid("readmission_risk_score", format!("'{x}' is not a number"))
                })?;
                if !(0.0..=1.0).contains(&n) {
                    return Err(DomainError::invalid(
                        "readmission_risk_score",
                        "must be between 0 and 1",
                    )
                    .into());
                }
                Some(n)
            }
        };
    }
    Ok(())
}
