//! Organisation catalogues (credential types, employers, payers), credentials, rooms and shift
//! templates.

use clinicdesk_domain::{
    Capability, ClinicId, CredentialId, CredentialStatus, CredentialTypeId, DomainError,
    EmployerId, PayerId, RoomId, ShiftId, ShiftType, StaffId, VerificationStatus,
};
use clinicdesk_store::tables::{
    credential_types::CredentialType, credentials::Credential, employers::Employer, payers::Payer,
    payers::PAYER_TYPES, rooms::Room, shifts::ShiftTemplate, staff::Staff,
};
use clinicdesk_store::{table, Table};

use super::{clinic_list, ListQuery};
use crate::access::Scope;
use crate::error::ApiResult;
use crate::fields::{put, Fields};
use crate::{App, Session};

fn int_list(f: &Fields, k: &'static str, min: i64, max: i64) -> ApiResult<Option<Vec<i64>>> {
    let Some(v) = f.text(k)? else { return Ok(None) };
    let v = v.unwrap_or_default();
    let v = v.trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    for x in v.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let n: i64 = x
            .parse()
            .map_err(|_| DomainError::invalid(k, format!("'{x}' is not a whole number")))?;
        if n < min || n > max {
            return Err(
                DomainError::invalid(k, format!("values must be between {min} and {max}")).into(),
            );
        }
        out.push(n);
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.dedup();
    Ok(Some(out))
}

fn text_list(f: &Fields, k: &'static str) -> ApiResult<Option<Vec<String>>> {
    Ok(f.text(k)?.map(|v| {
        let v = v.unwrap_or_default();
        let v = v.trim_start_matches('[').trim_end_matches(']');
        v.split(',')
            .map(|x| x.trim().trim_matches('"').to_lowercase())
            .filter(|x| !x.is_empty())
            .collect()
    }))
}

fn hhmm(k: &'static str, v: &str) -> Result<String, DomainError> {
    chrono::NaiveTime::parse_from_str(v, "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| DomainError::invalid(k, format!("'{v}' is not a time like 08:30")))
}

fn apply_credential_type(f: &Fields, t: &mut CredentialType, creating: bool) -> ApiResult<()> {
    t.name = f.required_name("name", creating, &t.name)?;
    t.code = f.required_name("code", creating, &t.code)?.to_uppercase();
    put(&mut t.description, f.text("description")?);
    put(
        &mut t.required_for_disciplines,
        text_list(f, "required_for_disciplines")?,
    );
    put(
        &mut t.is_required_for_clinical,
        f.bool("is_required_for_clinical")?,
    );
    put(
        &mut t.renewal_period_months,
        f.int("renewal_period_months", 1, 240)?,
    );
    put(
        &mut t.alert_thresholds_days,
        int_list(f, "alert_thresholds_days", 0, 730)?,
    );
    put(&mut t.is_active, f.bool("is_active")?);
    f.finish()?;
    Ok(())
}

fn apply_credential(f: &Fields, c: &mut Credential) -> ApiResult<()> {
    put(&mut c.credential_number, f.text("credential_number")?);
    put(&mut c.issuing_authority, f.text("issuing_authority")?);
    put(&mut c.issuing_state, f.text("issuing_state")?);
    put(&mut c.issue_date, f.date("issue_date")?);
    put(&mut c.expiry_date, f.date("expiry_date")?);
    put(&mut c.document_ref, f.text("document_ref")?);
    put(&mut c.notes, f.text("notes")?);
    if let Some(to) = f.parsed("status", CredentialStatus::parse)? {
        if to != c.status {
            c.status = c.status.transition(to)?;
        }
    }
    if let Some(to) = f.parsed("verification_status", VerificationStatus::parse)? {
        if to != c.verification_status {
            c.verification_status = c.verification_status.transition(to)?;
        }
    }
    f.finish()?;
    if let (Some(i), Some(e)) = (c.issue_date, c.expiry_date) {
        if e < i {
            return Err(
                DomainError::invalid("expiry_date", "must not be before the issue date").into(),
            );
        }
    }
    Ok(())
}

fn apply_employer(f: &Fields, e: &mut Employer, creating: bool) -> ApiResult<()> {
    e.employer_name = f.required_name("employer_name", creating, &e.employer_name)?;
    put(&mut e.industry, f.text("industry")?);
    put(
        &mut e.employee_count,
        f.int("employee_count", 0, 10_000_000)?,
    );
    put(&mut e.primary_contact_name, f.text("primary_contact_name")?);
    put(
        &mut e.primary_contact_email,
        f.email("primary_contact_email")?,
    );
    put(
        &mut e.primary_contact_phone,
        f.phone("primary_contact_phone")?,
    );
    put(&mut e.address_line1, f.text("address_line1")?);
    put(&mut e.city, f.text("city")?);
    put(&mut e.state, f.text("state")?);
    put(&mut e.postal_code, f.text("postal_code")?);
    put(&mut e.contract_start_date, f.date("contract_start_date")?);
    put(&mut e.contract_end_date, f.date("contract_end_date")?);
    put(&mut e.is_active, f.bool("is_active")?);
    put(&mut e.notes, f.text("notes")?);
    f.finish()?;
    if let (Some(a), Some(b)) = (e.contract_start_date, e.contract_end_date) {
        if b < a {
            return Err(DomainError::invalid(
                "contract_end_date",
                "must not be before the contract start",
            )
            .into());
        }
    }
    Ok(())
}

fn apply_payer(f: &Fields, p: &mut Payer, creating: bool) -> ApiResult<()> {
    p.payer_name = f.required_name("payer_name", creating, &p.payer_name)?;
    put(
        &mut p.payer_code,
        f.text("payer_code")?.map(|c| c.map(|c| c.to_uppercase())),
    );
    if let Some(t) = f.text("payer_type")? {
        let t = t.unwrap_or_default().to_lowercase();
        if !PAYER_TYPES.contains(&t.as_str()) {
            return Err(DomainError::invalid(
                "payer_type",
                format!("expected one of: {}", PAYER_TYPES.join(", ")),
            )
            .into());
        }
        p.payer_type = t;
    }
    put(&mut p.address_line1, f.text("address_line1")?);
    put(&mut p.city, f.text("city")?);
    put(&mut p.state, f.text("state")?);
    put(&mut p.postal_code, f.text("postal_code")?);
    put(&mut p.phone, f.phone("phone")?);
    put(&mut p.fax, f.phone("fax")?);
    put(&mut p.email, f.email("email")?);
    put(&mut p.website, f.text("website")?);
    put(
        &mut p.claims_submission_url,
        f.text("claims_submission_url")?,
    );
    put(&mut p.eligibility_phone, f.phone("eligibility_phone")?);
    put(&mut p.authorization_phone, f.phone("authorization_phone")?);
    put(&mut p.is_active, f.bool("is_active")?);
    put(&mut p.notes, f.text("notes")?);
    f.finish()?;
    Ok(())
}

/// A new room of `clinic` from its create fields (validated as `create_room` does).
pub(super) fn new_room(f: &Fields, clinic: ClinicId, now: i64) -> ApiResult<Room> {
    let mut r = Room {
        id: RoomId::new(),
        clinic_id: clinic,
        name: String::new(),
        room_type: None,
        capacity: 1,
        status: "available".into(),
        is_active: true,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    apply_room(f, &mut r, true)?;
    Ok(r)
}

fn apply_room(f: &Fields, r: &mut Room, creating: bool) -> ApiResult<()> {
    r.name = f.required_name("name", creating, &r.name)?;
    put(&mut r.room_type, f.text("room_type")?);
    if let Some(c) = f.int("capacity", 1, 100)? {
        r.capacity = c.unwrap_or(1);
    }
    if let Some(st) = f.text("status")? {
        let st = st.unwrap_or_default().to_lowercase();
        if !["available", "maintenance", "closed"].contains(&st.as_str()) {
            return Err(DomainError::invalid(
                "status",
                "expected available, maintenance or closed",
            )
            .into());
        }
        r.status = st;
    }
    put(&mut r.is_active, f.bool("is_active")?);
    f.finish()?;
    Ok(())
}

fn apply_shift(f: &Fields, t: &mut ShiftTemplate, creating: bool) -> ApiResult<()> {
    t.name = f.required_name("name", creating, &t.name)?;
    put(&mut t.shift_type, f.parsed("shift_type", ShiftType::parse)?);
    match f.parsed("start_time", |v| hhmm("start_time", v))? {
        Some(v) => t.start_time = v,
        None if creating => return Err(DomainError::invalid("start_time", "is required").into()),
        None => {}
    }
    match f.parsed("end_time", |v| hhmm("end_time", v))? {
        Some(v) => t.end_time = v,
        None if creating => return Err(DomainError::invalid("end_time", "is required").into()),
        None => {}
    }
    if let Some(c) = f.int("default_capacity", 1, 500)? {
        t.default_capacity = c.unwrap_or(1);
    }
    if let Some(c) = f.text("color")? {
        if let Some(c) = &c {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit());
            if !ok {
                return Err(DomainError::invalid("color", "expected a colour like #3366cc").into());
            }
        }
        t.color = c;
    }
    put(&mut t.is_active, f.bool("is_active")?);
    f.finish()?;
    if t.start_time == t.end_time {
        return Err(DomainError::invalid(
            "end_time",
            "must differ from the start time (an end before the start crosses midnight)",
        )
        .into());
    }
    Ok(())
}

impl App {
    fn list_global<T: Table>(
        &self,
        s: &Session,
        q: &ListQuery,
        name_col: &str,
        what: &str,
    ) -> ApiResult<Vec<T>> {
        self.require(s, Capability::ReadClinicData, Scope::AnyClinic, what)?;
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND deleted_at IS NULL"
        };
        Ok(self.store.read(|c| {
            table::select::<T, _>(
                c,
                &format!("WHERE {name_col} LIKE ?1 ESCAPE '\\' {deleted} ORDER BY {name_col} LIMIT ?2 OFFSET ?3"),
                rusqlite::params![q.like(), q.limit(), q.offset()],
            )
        })?)
    }

    fn list_clinic_rows<T: Table>(
        &self,
        s: &Session,
        q: &ListQuery,
        name_col: &str,
    ) -> ApiResult<Vec<T>> {
        let ids = self.readable_clinics(s, q.clinic_id, Capability::ReadClinicData)?;
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND deleted_at IS NULL"
        };
        Ok(self.store.read(|c| {
            table::select::<T, _>(
                c,
                &format!(
                    "WHERE clinic_id IN ({}) AND {name_col} LIKE ?1 ESCAPE '\\' {deleted} ORDER BY {name_col} LIMIT ?2 OFFSET ?3",
                    clinic_list(&ids)
                ),
                rusqlite::params![q.like(), q.limit(), q.offset()],
            )
        })?)
    }

    fn get_global<T: Table>(&self, s: &Session, id: &T::Id, what: &str) -> ApiResult<T> {
        self.require(s, Capability::ReadClinicData, Scope::AnyClinic, what)?;
        Ok(self.store.read(|c| table::get_live::<T>(c, id))?)
    }

    fn delete_global<T: Table>(
        &self,
        s: &Session,
        cap: Capability,
        id: &T::Id,
        what: &str,
    ) -> ApiResult<()> {
        self.require(s, cap, Scope::AnyClinic, what)?;
        self.remove::<T>(s, id)
    }

    // Credential types ------------------------------------------------------------------------

    pub fn create_credential_type(&self, s: &Session, f: &Fields) -> ApiResult<CredentialType> {
        self.require(
            s,
            Capability::ManageCredentialTypes,
            Scope::AnyClinic,
            "manage credential types",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let mut t = CredentialType {
                id: CredentialTypeId::new(),
                name: String::new(),
                code: String::new(),
                description: None,
                required_for_disciplines: Vec::new(),
                is_required_for_clinical: false,
                renewal_period_months: None,
                alert_thresholds_days: vec![90, 60, 30, 7, 0],
                is_active: true,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_credential_type(f, &mut t, true)?;
            table::insert(tx, &t)?;
            Ok(t)
        })
    }

    pub fn update_credential_type(
        &self,
        s: &Session,
        id: CredentialTypeId,
        f: &Fields,
    ) -> ApiResult<CredentialType> {
        self.require(
            s,
            Capability::ManageCredentialTypes,
            Scope::AnyClinic,
            "manage credential types",
        )?;
        self.tx(s, |tx| {
            let mut t = table::get_live::<CredentialType>(tx, &id)?;
            apply_credential_type(f, &mut t, false)?;
            t.updated_at = tx.ctx.now_ms;
            table::update(tx, &t)?;
            Ok(t)
        })
    }

    pub fn get_credential_type(
        &self,
        s: &Session,
        id: CredentialTypeId,
    ) -> ApiResult<CredentialType> {
        self.get_global(s, &id, "see credential types")
    }

    pub fn delete_credential_type(&self, s: &Session, id: CredentialTypeId) -> ApiResult<()> {
        self.delete_global::<CredentialType>(
            s,
            Capability::ManageCredentialTypes,
            &id,
            "manage credential types",
        )
    }

    pub fn list_credential_types(
        &self,
        s: &Session,
        q: &ListQuery,
    ) -> ApiResult<Vec<CredentialType>> {
        self.list_global(s, q, "name", "see credential types")
    }

    // Credentials ---------------------------------------------------------------------------

    fn staff_of(&self, id: StaffId) -> ApiResult<Staff> {
        Ok(self.store.read(|c| table::get_live::<Staff>(c, &id))?)
    }

    fn credential_clinic(&self, id: CredentialId) -> ApiResult<ClinicId> {
        let c = self.store.read(|c| table::get_live::<Credential>(c, &id))?;
        Ok(self.staff_of(c.staff_id)?.primary_clinic_id)
    }

    pub fn create_credential(
        &self,
        s: &Session,
        staff: StaffId,
        f: &Fields,
    ) -> ApiResult<Credential> {
        let clinic = self.staff_of(staff)?.primary_clinic_id;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(clinic),
            "record credentials",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let ty = f
                .parsed("credential_type_id", CredentialTypeId::parse)?
                .ok_or_else(|| DomainError::invalid("credential_type_id", "is required"))?;
            table::get_live::<CredentialType>(tx, &ty)?;
            let mut c = Credential {
                id: CredentialId::new(),
                staff_id: staff,
                credential_type_id: ty,
                credential_number: None,
                issuing_authority: None,
                issuing_state: None,
                issue_date: None,
                expiry_date: None,
                status: CredentialStatus::Active,
                verification_status: VerificationStatus::NotVerified,
                verified_at: None,
                verified_by: None,
                renewed_at: None,
                document_ref: None,
                notes: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_credential(f, &mut c)?;
            table::insert(tx, &c)?;
            Ok(c)
        })
    }

    pub fn get_credential(&self, s: &Session, id: CredentialId) -> ApiResult<Credential> {
        let clinic = self.credential_clinic(id)?;
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see credentials",
        )?;
        Ok(self.store.read(|c| table::get_live::<Credential>(c, &id))?)
    }

    /// Update fields; status and verification status move only through their transitions.
    pub fn update_credential(
        &self,
        s: &Session,
        id: CredentialId,
        f: &Fields,
    ) -> ApiResult<Credential> {
        let clinic = self.credential_clinic(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(clinic),
            "change credentials",
        )?;
        self.tx(s, |tx| {
            let mut c = table::get_live::<Credential>(tx, &id)?;
            apply_credential(f, &mut c)?;
            c.updated_at = tx.ctx.now_ms;
            table::update(tx, &c)?;
            Ok(c)
        })
    }

    pub fn delete_credential(&self, s: &Session, id: CredentialId) -> ApiResult<()> {
        let clinic = self.credential_clinic(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(clinic),
            "remove credentials",
        )?;
        self.remove::<Credential>(s, &id)
    }

    /// Credentials of one staff member, or of every staff member of the clinics the caller reads.
    pub fn list_credentials(
        &self,
        s: &Session,
        staff: Option<StaffId>,
        q: &ListQuery,
    ) -> ApiResult<Vec<Credential>> {
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND c.deleted_at IS NULL"
        };
        if let Some(st) = staff {
            let clinic = self.staff_of(st)?.primary_clinic_id;
            self.require(
                s,
                Capability::ReadClinicData,
                Scope::Clinic(clinic),
                "see credentials",
            )?;
            return Ok(self.store.read(|c| {
                table::select::<Credential, _>(
                    c,
                    &format!("c WHERE staff_id = ?1 {deleted} ORDER BY expiry_date"),
                    [st.to_string()],
                )
            })?);
        }
        let ids = self.readable_clinics(s, q.clinic_id, Capability::ReadClinicData)?;
        Ok(self.store.read(|c| {
            table::select::<Credential, _>(
                c,
                &format!(
                    "c WHERE staff_id IN (SELECT id FROM staff_profiles WHERE primary_clinic_id IN ({})) {deleted}
                     ORDER BY expiry_date LIMIT ?1 OFFSET ?2",
                    clinic_list(&ids)
                ),
                rusqlite::params![q.limit(), q.offset()],
            )
        })?)
    }

    // Employers -----------------------------------------------------------------------------

    pub fn create_employer(&self, s: &Session, f: &Fields) -> ApiResult<Employer> {
        self.require(
            s,
            Capability::ManagePayersAndEmployers,
            Scope::AnyClinic,
            "manage employers",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let mut e = Employer {
                id: EmployerId::new(),
                employer_name: String::new(),
                industry: None,
                employee_count: None,
                primary_contact_name: None,
                primary_contact_email: None,
                primary_contact_phone: None,
                address_line1: None,
                city: None,
                state: None,
                postal_code: None,
                contract_start_date: None,
                contract_end_date: None,
                is_active: true,
                notes: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_employer(f, &mut e, true)?;
            table::insert(tx, &e)?;
            Ok(e)
        })
    }

    pub fn update_employer(&self, s: &Session, id: EmployerId, f: &Fields) -> ApiResult<Employer> {
        self.require(
            s,
            Capability::ManagePayersAndEmployers,
            Scope::AnyClinic,
            "manage employers",
        )?;
        self.tx(s, |tx| {
            let mut e = table::get_live::<Employer>(tx, &id)?;
            apply_employer(f, &mut e, false)?;
            e.updated_at = tx.ctx.now_ms;
            table::update(tx, &e)?;
            Ok(e)
        })
    }

    pub fn get_employer(&self, s: &Session, id: EmployerId) -> ApiResult<Employer> {
        self.get_global(s, &id, "see employers")
    }

    pub fn delete_employer(&self, s: &Session, id: EmployerId) -> ApiResult<()> {
        self.delete_global::<Employer>(
            s,
            Capability::ManagePayersAndEmployers,
            &id,
            "manage employers",
        )
    }

    pub fn list_employers(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<Employer>> {
        self.list_global(s, q, "employer_name", "see employers")
    }

    // Payers ----------------------------------------------------------------------------------

    pub fn create_payer(&self, s: &Session, f: &Fields) -> ApiResult<Payer> {
        self.require(
            s,
            Capability::ManagePayersAndEmployers,
            Scope::AnyClinic,
            "manage payers",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let mut p = Payer {
                id: PayerId::new(),
                payer_name: String::new(),
                payer_code: None,
                payer_type: "commercial".into(),
                address_line1: None,
                city: None,
                state: None,
                postal_code: None,
                phone: None,
                fax: None,
                email: None,
                website: None,
                claims_submission_url: None,
                eligibility_phone: None,
                authorization_phone: None,
                is_active: true,
                notes: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_payer(f, &mut p, true)?;
            table::insert(tx, &p)?;
            Ok(p)
        })
    }

    pub fn update_payer(&self, s: &Session, id: PayerId, f: &Fields) -> ApiResult<Payer> {
        self.require(
            s,
            Capability::ManagePayersAndEmployers,
            Scope::AnyClinic,
            "manage payers",
        )?;
        self.tx(s, |tx| {
            let mut p = table::get_live::<Payer>(tx, &id)?;
            apply_payer(f, &mut p, false)?;
            p.updated_at = tx.ctx.now_ms;
            table::update(tx, &p)?;
            Ok(p)
        })
    }

    pub fn get_payer(&self, s: &Session, id: PayerId) -> ApiResult<Payer> {
        self.get_global(s, &id, "see payers")
    }

    pub fn delete_payer(&self, s: &Session, id: PayerId) -> ApiResult<()> {
        self.delete_global::<Payer>(
            s,
            Capability::ManagePayersAndEmployers,
            &id,
            "manage payers",
        )
    }

    pub fn list_payers(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<Payer>> {
        self.list_global(s, q, "payer_name", "see payers")
    }

    // Rooms -----------------------------------------------------------------------------------

    pub fn create_room(&self, s: &Session, clinic: ClinicId, f: &Fields) -> ApiResult<Room> {
        self.require(
            s,
            Capability::ManageRooms,
            Scope::Clinic(clinic),
            "manage rooms",
        )?;
        self.tx(s, |tx| {
            let r = new_room(f, clinic, tx.ctx.now_ms)?;
            table::insert(tx, &r)?;
            Ok(r)
        })
    }

    fn room_clinic(&self, id: RoomId) -> ApiResult<ClinicId> {
        Ok(self
            .store
            .read(|c| table::get_live::<Room>(c, &id))?
            .clinic_id)
    }

    pub fn update_room(&self, s: &Session, id: RoomId, f: &Fields) -> ApiResult<Room> {
        self.require(
            s,
            Capability::ManageRooms,
            Scope::Clinic(self.room_clinic(id)?),
            "manage rooms",
        )?;
        self.tx(s, |tx| {
            let mut r = table::get_live::<Room>(tx, &id)?;
            apply_room(f, &mut r, false)?;
            r.updated_at = tx.ctx.now_ms;
            table::update(tx, &r)?;
            Ok(r)
        })
    }

    pub fn get_room(&self, s: &Session, id: RoomId) -> ApiResult<Room> {
        let row = self.fetch::<Room>(&id)?;
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(row.clinic_id),
            "see rooms",
        )?;
        Ok(row)
    }

    pub fn delete_room(&self, s: &Session, id: RoomId) -> ApiResult<()> {
        self.require(
            s,
            Capability::ManageRooms,
            Scope::Clinic(self.room_clinic(id)?),
            "manage rooms",
        )?;
        self.remove::<Room>(s, &id)
    }

    pub fn list_rooms(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<Room>> {
        self.list_clinic_rows(s, q, "name")
    }

    // Shift templates -----------------------------------------------------------------------

    pub fn create_shift_template(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<ShiftTemplate> {
        self.require(
            s,
            Capability::ManageShiftTemplates,
            Scope::Clinic(clinic),
            "manage shift templates",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let mut t = ShiftTemplate {
                id: ShiftId::new(),
                clinic_id: clinic,
                name: String::new(),
                shift_type: ShiftType::FullDay,
                start_time: String::new(),
                end_time: String::new(),
                default_capacity: 1,
                color: None,
                is_active: true,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            apply_shift(f, &mut t, true)?;
            table::insert(tx, &t)?;
            Ok(t)
        })
    }

    fn shift_clinic(&self, id: ShiftId) -> ApiResult<ClinicId> {
        Ok(self
            .store
            .read(|c| table::get_live::<ShiftTemplate>(c, &id))?
            .clinic_id)
    }

    pub fn update_shift_template(
        &self,
        s: &Session,
        id: ShiftId,
        f: &Fields,
    ) -> ApiResult<ShiftTemplate> {
        self.require(
            s,
            Capability::ManageShiftTemplates,
            Scope::Clinic(self.shift_clinic(id)?),
            "manage shift templates",
        )?;
        self.tx(s, |tx| {
            let mut t = table::get_live::<ShiftTemplate>(tx, &id)?;
            apply_shift(f, &mut t, false)?;
            t.updated_at = tx.ctx.now_ms;
            table::update(tx, &t)?;
            Ok(t)
        })
    }

    pub fn get_shift_template(&self, s: &Session, id: ShiftId) -> ApiResult<ShiftTemplate> {
        let row = self.fetch::<ShiftTemplate>(&id)?;
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(row.clinic_id),
            "see shift templates",
        )?;
        Ok(row)
    }

    pub fn delete_shift_template(&self, s: &Session, id: ShiftId) -> ApiResult<()> {
        self.require(
            s,
            Capability::ManageShiftTemplates,
            Scope::Clinic(self.shift_clinic(id)?),
            "manage shift templates",
        )?;
        self.remove::<ShiftTemplate>(s, &id)
    }

    pub fn list_shift_templates(
        &self,
        s: &Session,
        q: &ListQuery,
    ) -> ApiResult<Vec<ShiftTemplate>> {
        self.list_clinic_rows(s, q, "name")
    }
}
