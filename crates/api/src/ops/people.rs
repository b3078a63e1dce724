//! Staff, patients and patient insurance.

use clinicdesk_domain::{
    Capability, ClinicId, ContactMethod, DomainError, EmploymentType, Mrn, PatientId,
    PatientInsuranceId, PayerId, Sex, StaffId, UserId,
};
use clinicdesk_store::table;
use clinicdesk_store::tables::{
    patient_insurance::PatientInsurance, patients, patients::Patient, payers::Payer, staff::Staff,
};

use super::{clinic_list, ListQuery};
use crate::access::{clinics_with, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::{put, Fields};
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

fn apply_staff(f: &Fields, st: &mut Staff, creating: bool) -> ApiResult<()> {
    st.first_name = f.required_name("first_name", creating, &st.first_name)?;
    st.last_name = f.required_name("last_name", creating, &st.last_name)?;
    put(&mut st.middle_name, f.text("middle_name")?);
    put(&mut st.preferred_name, f.text("preferred_name")?);
    put(&mut st.employee_id, f.text("employee_id")?);
    put(&mut st.title, f.text("title")?);
    put(
        &mut st.discipline,
        f.text("discipline")?.map(|d| d.map(|d| d.to_lowercase())),
    );
    put(&mut st.department, f.text("department")?);
    put(&mut st.email, f.email("email")?);
    put(&mut st.phone, f.phone("phone")?);
    put(
        &mut st.employment_type,
        f.parsed("employment_type", EmploymentType::parse)?,
    );
    put(&mut st.hire_date, f.date("hire_date")?);
    put(&mut st.termination_date, f.date("termination_date")?);
    put(&mut st.is_active, f.bool("is_active")?);
    put(&mut st.is_clinical, f.bool("is_clinical")?);
    put(
        &mut st.emergency_contact_name,
        f.text("emergency_contact_name")?,
    );
    put(
        &mut st.emergency_contact_phone,
        f.phone("emergency_contact_phone")?,
    );
    put(&mut st.notes, f.text("notes")?);
    if let Some(u) = f.parsed("user_id", |v| {
        if v.is_empty() {
            Ok(None)
        } else {
            UserId::parse(v).map(Some)
        }
    })? {
        st.user_id = u;
    }
    if let (Some(h), Some(t)) = (st.hire_date, st.termination_date) {
        if t < h {
            return Err(DomainError::invalid(
                "termination_date",
                "must not be before the hire date",
            )
            .into());
        }
    }
    Ok(())
}

fn apply_patient(f: &Fields, p: &mut Patient, creating: bool) -> ApiResult<()> {
    p.first_name = f.required_name("first_name", creating, &p.first_name)?;
    p.last_name = f.required_name("last_name", creating, &p.last_name)?;
    if let Some(m) = f.parsed("mrn", Mrn::parse)? {
        p.mrn = m.as_str().to_string();
    }
    put(&mut p.middle_name, f.text("middle_name")?);
    put(&mut p.preferred_name, f.text("preferred_name")?);
    put(&mut p.date_of_birth, f.date("date_of_birth")?);
    if let Some(dob) = p.date_of_birth {
        if dob > chrono::Utc::now().date_naive() {
            return Err(DomainError::invalid("date_of_birth", "cannot be in the future").into());
        }
    }
    put(&mut p.sex, f.parsed("sex", Sex::parse)?);
    put(&mut p.email, f.email("email")?);
    put(&mut p.phone, f.phone("phone")?);
    put(&mut p.address_line1, f.text("address_line1")?);
    put(&mut p.city, f.text("city")?);
    put(&mut p.state, f.text("state")?);
    put(&mut p.postal_code, f.text("postal_code")?);
    put(
        &mut p.preferred_contact_method,
        f.parsed("preferred_contact_method", ContactMethod::parse)?,
    );
    put(&mut p.consent_sms, f.bool("consent_sms")?);
    put(&mut p.consent_email, f.bool("consent_email")?);
    put(&mut p.legacy_id, f.text("legacy_id")?);
    put(&mut p.notes, f.text("notes")?);
    f.finish()?;
    match p.preferred_contact_method {
        ContactMethod::Sms if p.phone.is_none() => {
            Err(DomainError::invalid("preferred_contact_method", "SMS needs a phone number").into())
        }
        ContactMethod::Phone if p.phone.is_none() && !creating => Err(DomainError::invalid(
            "preferred_contact_method",
            "phone contact needs a phone number",
        )
        .into()),
        ContactMethod::Email if p.email.is_none() => Err(DomainError::invalid(
            "preferred_contact_method",
            "email needs an email address",
        )
        .into()),
        _ => Ok(()),
    }
}

/// A new staff member of `clinic` from create input, validated as every staff member is (the
/// migration import builds its rows with this too).
pub(super) fn new_staff(f: &Fields, clinic: ClinicId, now: i64) -> ApiResult<Staff> {
    let mut st = Staff {
        id: StaffId::new(),
        user_id: None,
        employee_id: None,
        first_name: String::new(),
        last_name: String::new(),
        middle_name: None,
        preferred_name: None,
        title: None,
        discipline: None,
        department: None,
        email: None,
        phone: None,
        employment_type: EmploymentType::FullTime,
        primary_clinic_id: clinic,
        hire_date: None,
        termination_date: None,
        is_active: true,
        is_clinical: true,
        emergency_contact_name: None,
        emergency_contact_phone: None,
        notes: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    apply_staff(f, &mut st, true)?;
    f.finish()?;
    Ok(st)
}

/// A new patient of `clinic` from create input, validated as every patient is (the import
/// builds its rows with this too). Without an MRN one is made from the clinic's code and the
/// new id. The MRN's uniqueness is the caller's check (it needs the database).
pub(super) fn new_patient(
    f: &Fields,
    clinic: ClinicId,
    clinic_code: &str,
    now: i64,
) -> ApiResult<Patient> {
    let id = PatientId::new();
    let mut p = Patient {
        id,
        clinic_id: clinic,
        mrn: format!(
            "{clinic_code}-{}",
            &id.as_uuid().simple().to_string()[20..32].to_uppercase()
        ),
        first_name: String::new(),
        last_name: String::new(),
        middle_name: None,
        preferred_name: None,
        date_of_birth: None,
        sex: Sex::Unknown,
        email: None,
        phone: None,
        address_line1: None,
        city: None,
        state: None,
        postal_code: None,
        preferred_contact_method: ContactMethod::Phone,
        consent_sms: false,
        consent_email: false,
        legacy_id: None,
        notes: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    apply_patient(f, &mut p, true)?;
    Ok(p)
}

fn apply_insurance(f: &Fields, i: &mut PatientInsurance, creating: bool) -> ApiResult<()> {
    if let Some(p) = f.parsed("payer_id", PayerId::parse)? {
        i.payer_id = p;
    }
    i.policy_number = f.required_name("policy_number", creating, &i.policy_number)?;
    if let Some(v) = f.int("coverage_priority", 1, 3)? {
        i.coverage_priority = v.unwrap_or(1);
    }
    put(&mut i.group_number, f.text("group_number")?);
    put(&mut i.subscriber_name, f.text("subscriber_name")?);
    if let Some(r) = f.text("subscriber_relationship")? {
        let r = r.unwrap_or_else(|| "self".into()).to_lowercase();
        if !["self", "spouse", "child", "other"].contains(&r.as_str()) {
            return Err(DomainError::invalid(
                "subscriber_relationship",
                "expected self, spouse, child or other",
            )
            .into());
        }
        i.subscriber_relationship = r;
    }
    put(
        &mut i.subscriber_date_of_birth,
        f.date("subscriber_date_of_birth")?,
    );
    put(&mut i.effective_date, f.date("effective_date")?);
    put(&mut i.termination_date, f.date("termination_date")?);
    put(&mut i.copay_cents, f.int("copay_cents", 0, 10_000_000)?);
    put(&mut i.is_active, f.bool("is_active")?);
    put(&mut i.notes, f.text("notes")?);
    f.finish()?;
    if let (Some(a), Some(b)) = (i.effective_date, i.termination_date) {
        if b < a {
            return Err(DomainError::invalid(
                "termination_date",
                "must not be before the effective date",
            )
            .into());
        }
    }
    Ok(())
}

impl App {
    // Staff ---------------------------------------------------------------------------------

    pub fn create_staff(&self, s: &Session, clinic: ClinicId, f: &Fields) -> ApiResult<Staff> {
        self.require(
            s,
            Capability::ManageStaff,
            Scope::Clinic(clinic),
            "add staff",
        )?;
        self.tx(s, |tx| {
            let st = new_staff(f, clinic, tx.ctx.now_ms)?;
            table::insert(tx, &st)?;
            Ok(st)
        })
    }

    fn staff_clinic(&self, id: StaffId) -> ApiResult<ClinicId> {
        Ok(self
            .store
            .read(|c| table::get_live::<Staff>(c, &id))?
            .primary_clinic_id)
    }

    pub fn get_staff(&self, s: &Session, id: StaffId) -> ApiResult<Staff> {
        let row = self.fetch::<Staff>(&id)?;
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(row.primary_clinic_id),
            "see staff",
        )?;
        Ok(row)
    }

    /// Update a staff member; `primary_clinic_id` moves them (needs the right at both clinics).
    pub fn update_staff(&self, s: &Session, id: StaffId, f: &Fields) -> ApiResult<Staff> {
        let clinic = self.staff_clinic(id)?;
        self.require(
            s,
            Capability::ManageStaff,
            Scope::Clinic(clinic),
            "change staff",
        )?;
        let move_to = f.parsed("primary_clinic_id", ClinicId::parse)?;
        if let Some(to) = move_to {
            self.require(
                s,
                Capability::ManageStaff,
                Scope::Clinic(to),
                "move staff to that clinic",
            )?;
        }
        self.tx(s, |tx| {
            let mut st = table::get_live::<Staff>(tx, &id)?;
            apply_staff(f, &mut st, false)?;
            f.finish()?;
            if let Some(to) = move_to {
                st.primary_clinic_id = to;
            }
            st.updated_at = tx.ctx.now_ms;
            table::update(tx, &st)?;
            Ok(st)
        })
    }

    pub fn delete_staff(&self, s: &Session, id: StaffId) -> ApiResult<()> {
        let clinic = self.staff_clinic(id)?;
        self.require(
            s,
            Capability::ManageStaff,
            Scope::Clinic(clinic),
            "remove staff",
        )?;
        self.remove::<Staff>(s, &id)
    }

    pub fn list_staff(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<Staff>> {
        let ids = self.readable_clinics(s, q.clinic_id, Capability::ReadClinicData)?;
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND deleted_at IS NULL"
        };
        Ok(self.store.read(|c| {
            table::select::<Staff, _>(
                c,
                &format!(
                    "WHERE primary_clinic_id IN ({}) {deleted}
                     AND (first_name || ' ' || last_name LIKE ?1 ESCAPE '\\' OR coalesce(employee_id, '') LIKE ?1 ESCAPE '\\' OR coalesce(discipline, '') LIKE ?1 ESCAPE '\\')
                     ORDER BY last_name, first_name LIMIT ?2 OFFSET ?3",
                    clinic_list(&ids)
                ),
                rusqlite::params![q.like(), q.limit(), q.offset()],
            )
        })?)
    }

    /// The clinics a list (or an export) may cover: the one asked for (checked), or all
    /// where the caller holds `cap`.
    pub fn readable_clinics(
        &self,
        s: &Session,
        clinic: Option<ClinicId>,
        cap: Capability,
    ) -> ApiResult<Vec<ClinicId>> {
        match clinic {
            Some(c) => {
                self.require(s, cap, Scope::Clinic(c), "see this clinic's records")?;
                Ok(vec![c])
            }
            None => Ok(clinics_with(&self.roles(s)?, cap)),
        }
    }

    // Patients ------------------------------------------------------------------------------

    pub fn create_patient(&self, s: &Session, clinic: ClinicId, f: &Fields) -> ApiResult<Patient> {
        self.require(
            s,
            Capability::RegisterPatients,
            Scope::Clinic(clinic),
            "register patients",
        )?;
        self.tx(s, |tx| {
            let code: String = tx.query_row(
                "SELECT code FROM clinics WHERE id = ?1",
                [clinic.to_string()],
                |r| r.get(0),
            )?;
            let p = new_patient(f, clinic, &code, tx.ctx.now_ms)?;
            if patients::by_mrn(tx, &p.mrn)?.is_some() {
                return Err(ApiError::Conflict(format!(
                    "another patient already has MRN {}",
                    p.mrn
                )));
            }
            table::insert(tx, &p)?;
            Ok(p)
        })
    }

    fn patient_clinic(&self, id: PatientId) -> ApiResult<ClinicId> {
        Ok(self
            .store
            .read(|c| table::get_live::<Patient>(c, &id))?
            .clinic_id)
    }

    pub fn get_patient(&self, s: &Session, id: PatientId) -> ApiResult<Patient> {
        let row = self.fetch::<Patient>(&id)?;
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(row.clinic_id),
            "see patient records",
        )?;
        self.audit_read(
            s,
            PatientRead::new(
                "get_patient",
                Some(row.clinic_id),
                Shown::Patients(vec![id]),
            ),
        )?;
        Ok(row)
    }

    pub fn update_patient(&self, s: &Session, id: PatientId, f: &Fields) -> ApiResult<Patient> {
        let clinic = self.patient_clinic(id)?;
        self.require(
            s,
            Capability::RegisterPatients,
            Scope::Clinic(clinic),
            "change patient records",
        )?;
        self.tx(s, |tx| {
            let mut p = table::get_live::<Patient>(tx, &id)?;
            let old_mrn = p.mrn.clone();
            apply_patient(f, &mut p, false)?;
            if p.mrn != old_mrn && patients::by_mrn(tx, &p.mrn)?.is_some() {
                return Err(ApiError::Conflict(format!(
                    "another patient already has MRN {}",
                    p.mrn
                )));
            }
            p.updated_at = tx.ctx.now_ms;
            table::update(tx, &p)?;
            Ok(p)
        })
    }

    pub fn delete_patient(&self, s: &Session, id: PatientId) -> ApiResult<()> {
        let clinic = self.patient_clinic(id)?;
        self.require(
            s,
            Capability::DeletePatients,
            Scope::Clinic(clinic),
            "delete patient records",
        )?;
        self.remove::<Patient>(s, &id)
    }

    /// Search by name, MRN, phone or date of birth across the clinics whose patients the caller
    /// may read.
    pub fn search_patients(&self, s: &Session, query: &str, limit: u32) -> ApiResult<Vec<Patient>> {
        let roles = self.roles(s)?;
        let ids = clinics_with(&roles, Capability::ReadPatients);
        if ids.is_empty() {
            return self
                .require(
                    s,
                    Capability::ReadPatients,
                    Scope::AnyClinic,
                    "search patients",
                )
                .map(|_| Vec::new());
        }
        let limit = limit.clamp(1, 200) as usize;
        let all = self.store.read(|c| -> ApiResult<i64> {
            Ok(c.query_row(
                "SELECT count(*) FROM clinics WHERE deleted_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })?;
        let mut rows = self.store.read(|c| {
            patients::search(
                c,
                query,
                if ids.len() as i64 >= all {
                    limit
                } else {
                    limit * 4
                },
            )
        })?;
        rows.retain(|p| ids.contains(&p.clinic_id));
        rows.truncate(limit);
        // At one clinic when every patient found is its (the audit list's clinic filter).
        let mut clinics: Vec<ClinicId> = rows.iter().map(|p| p.clinic_id).collect();
        clinics.sort();
        clinics.dedup();
        let one = match clinics.as_slice() {
            [c] => Some(*c),
            _ => None,
        };
        let query: String = query.trim().chars().take(100).collect();
        self.audit_read(
            s,
            PatientRead::new(
                "search_patients",
                one,
                Shown::Patients(rows.iter().map(|p| p.id).collect()),
            )
            .with("query", query)
            .with("clinic_ids", one.is_none().then_some(clinics)),
        )?;
        Ok(rows)
    }

    // Patient insurance ---------------------------------------------------------------------

    pub fn add_patient_insurance(
        &self,
        s: &Session,
        patient: PatientId,
        f: &Fields,
    ) -> ApiResult<PatientInsurance> {
        let clinic = self.patient_clinic(patient)?;
        self.require(
            s,
            Capability::RegisterPatients,
            Scope::Clinic(clinic),
            "change patient insurance",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let payer = f
                .parsed("payer_id", PayerId::parse)?
                .ok_or_else(|| DomainError::invalid("payer_id", "is required"))?;
            table::get_live::<Payer>(tx, &payer)?;
            let mut i = PatientInsurance {
                id: PatientInsuranceId::new(),
                patient_id: patient,
                payer_id: payer,
                coverage_priority: 1,
                policy_number: String::new(),
                group_number: None,
                subscriber_name: None,
                subscriber_relationship: "self".into(),
                subscriber_date_of_birth: None,
                effective_date: None,
                termination_date: None,
                copay_cents: None,
                is_active: true,
                notes: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_insurance(f, &mut i, true)?;
            table::insert(tx, &i)?;
            Ok(i)
        })
    }

    fn insurance_clinic(&self, id: PatientInsuranceId) -> ApiResult<ClinicId> {
        let i = self
            .store
            .read(|c| table::get_live::<PatientInsurance>(c, &id))?;
        self.patient_clinic(i.patient_id)
    }

    pub fn update_patient_insurance(
        &self,
        s: &Session,
        id: PatientInsuranceId,
        f: &Fields,
    ) -> ApiResult<PatientInsurance> {
        let clinic = self.insurance_clinic(id)?;
        self.require(
            s,
            Capability::RegisterPatients,
            Scope::Clinic(clinic),
            "change patient insurance",
        )?;
        self.tx(s, |tx| {
            let mut i = table::get_live::<PatientInsurance>(tx, &id)?;
            apply_insurance(f, &mut i, false)?;
            table::get_live::<Payer>(tx, &i.payer_id)?;
            i.updated_at = tx.ctx.now_ms;
            table::update(tx, &i)?;
            Ok(i)
        })
    }

    pub fn delete_patient_insurance(&self, s: &Session, id: PatientInsuranceId) -> ApiResult<()> {
        let clinic = self.insurance_clinic(id)?;
        self.require(
            s,
            Capability::RegisterPatients,
            Scope::Clinic(clinic),
            "change patient insurance",
        )?;
        self.remove::<PatientInsurance>(s, &id)
    }

    pub fn list_patient_insurance(
        &self,
        s: &Session,
        patient: PatientId,
    ) -> ApiResult<Vec<PatientInsurance>> {
        let clinic = self.patient_clinic(patient)?;
        self.require(
            s,
            Capability::ReadPatients,
            Scope::Clinic(clinic),
            "see patient insurance",
        )?;
        let rows = self.store.read(|c| {
            table::select::<PatientInsurance, _>(
                c,
                "WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY coverage_priority",
                [patient.to_string()],
            )
        })?;
        // Even an empty list tells something about the patient (no insurance on file).
        self.audit_read(
            s,
            PatientRead::new(
                "list_patient_insurance",
                Some(clinic),
                Shown::Patients(vec![patient]),
            ),
        )?;
        Ok(rows)
    }
}
