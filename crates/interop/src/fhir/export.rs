//! The FHIR R4 bulk export and the single-patient Bundle.
//!
//! What the caller gets: clinic-level resources (Organization, Location, Practitioner,
//! PractitionerRole, Schedule, Slot) of every clinic where they hold `read_clinic_data`;
//! patient data (Patient, Appointment, EpisodeOfCare) of every clinic where they hold
//! `read_patients` (a viewer's export has none). Rows of other clinics are never read. Only
//! live rows (no tombstones). Each file is streamed, as its rows are read, into a temporary
//! owner-only file beside it (`App::export_file`: a large export never sits in memory); the
//! export is audited (one entry: who, what, where, how many resources, which patients) before
//! any file appears under its name; an error or a cancel removes the temporary files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinicdesk_api::{cannot_write, App, Export, PrivateFile, Session};
use clinicdesk_domain::credential::{credential_valid_on, AdverseSpan};
use clinicdesk_domain::{
    AdverseActionType, AppointmentStatus, Capability, CaseStatus, ClinicId, CredentialStatus,
    DomainError, PatientId, TimeZoneName,
};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::*;
use crate::{cancelled, ApiError, ApiResult, Progress};

/// The resource types of a bulk export, in the manifest's order (one NDJSON file each).
pub const RESOURCE_TYPES: [&str; 9] = [
    "Organization",
    "Location",
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "Schedule",
    "Slot",
    "Appointment",
    "EpisodeOfCare",
];

/// The longest range of free slots one export computes (days).
pub const MAX_SLOT_DAYS: i64 = 92;

/// What to export and as of when (the clock is the caller's, never read here).
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// `transactionTime` of the manifest and `timestamp` of a Bundle (ms).
    pub now_ms: i64,
    /// Qualifications are the credentials valid on this date (the credential rule).
    pub as_of: NaiveDate,
    /// Free slots (and the Schedules' planning horizon) for these clinic dates, inclusive;
    /// None: no Slot resources.
    pub slots: Option<(NaiveDate, NaiveDate)>,
    /// The length of a free slot, minutes (the desk's default booking length: 30).
    pub slot_minutes: i64,
}

/// What a bulk export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BulkExport {
    /// Per resource type (manifest order): the file name and the number of resources.
    pub files: Vec<(String, String, u64)>,
    pub total: u64,
    pub manifest: PathBuf,
}

/// One resource type's NDJSON being built: in memory, or streamed to its file.
#[derive(Default)]
struct Ndjson {
    bytes: Vec<u8>,
    count: u64,
    /// Where the lines go once `FLUSH_BYTES` have gathered; None: they stay in `bytes`.
    sink: Option<PrivateFile>,
    /// The first write error (reported by `finish`; lines after it are dropped).
    failed: Option<std::io::Error>,
}

/// Lines gathered before a streamed file is written to.
const FLUSH_BYTES: usize = 1 << 20;

impl Ndjson {
    fn streamed(sink: PrivateFile) -> Ndjson {
        Ndjson {
            sink: Some(sink),
            ..Default::default()
        }
    }

    fn push(&mut self, v: &Value) {
        serde_json::to_writer(&mut self.bytes, v).expect("a Value always serializes");
        self.bytes.push(b'\n');
        self.count += 1;
        if self.bytes.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.failed.is_none() {
            if let Err(e) = std::io::Write::write_all(sink, &self.bytes) {
                self.failed = Some(e);
            }
        }
        self.bytes.clear();
    }

    /// Append everything `other` (streamed) holds.
    fn append(&mut self, mut other: Ndjson) -> std::io::Result<()> {
        other.flush();
        if let Some(e) = other.failed.take() {
            return Err(e);
        }
        self.flush();
        if let (Some(from), Some(to)) = (other.sink.as_mut(), self.sink.as_mut()) {
            std::io::copy(from.read_back()?, to)?;
        } else {
            self.bytes.extend_from_slice(&other.bytes);
        }
        self.count += other.count;
        Ok(())
    }

    /// The streamed file, complete (still under its temporary name).
    fn finish(mut self, path: &Path) -> ApiResult<PrivateFile> {
        self.flush();
        match (self.failed, self.sink) {
            (Some(e), _) => Err(cannot_write(path, e)),
            (None, Some(sink)) => Ok(sink),
            (None, None) => Err(cannot_write(path, "not a streamed file")),
        }
    }
}

fn reference(kind: &str, id: &str) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

/// Insert `key: value` when the value is present (FHIR has no nulls or empty strings).
fn put(m: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        m.insert(key.to_string(), Value::String(v));
    }
}

fn address(
    line: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal: Option<String>,
    country: Option<String>,
) -> Option<Value> {
    let mut a = Map::new();
    if let Some(l) = line.filter(|l| !l.trim().is_empty()) {
        a.insert("line".into(), json!([l]));
    }
    put(&mut a, "city", city);
    put(&mut a, "state", state);
    put(&mut a, "postalCode", postal);
    put(&mut a, "country", country);
    (!a.is_empty()).then_some(Value::Object(a))
}

fn telecom(phone: Option<String>, email: Option<String>, preferred: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    for (system, value) in [("phone", phone), ("email", email)] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            let mut t = json!({ "system": system, "value": v });
            let prefers = match preferred {
                Some("sms") | Some("phone") => system == "phone",
                Some("email") => system == "email",
                _ => false,
            };
            if prefers {
                t["rank"] = json!(1);
            }
            out.push(t);
        }
    }
    out
}

fn date_text(v: Option<String>) -> Option<String> {
    v.filter(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
}

fn bad(e: DomainError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

/// `IN (...)` over clinic ids (validated UUIDs, so inlining is safe).
fn clinic_in(ids: &[ClinicId]) -> String {
    if ids.is_empty() {
        "('')".into()
    } else {
        format!(
            "({})",
            ids.iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(",")
        )
    }
}

/// The clinics' time zones.
fn zones(c: &Connection, clinics: &[ClinicId]) -> ApiResult<HashMap<String, Tz>> {
    let mut out = HashMap::new();
    let sql = format!(
        "SELECT id, timezone FROM clinics WHERE id IN {}",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for r in rows {
        let (id, tz) = r?;
        out.insert(id, TimeZoneName::parse(&tz)?.tz());
    }
    Ok(out)
}

// Resources ------------------------------------------------------------------------------------

fn organizations_and_locations(
    c: &Connection,
    clinics: &[ClinicId],
    org: &mut Ndjson,
    loc: &mut Ndjson,
) -> ApiResult<()> {
    let sql = format!(
        "SELECT id, name, code, address_line1, city, state, postal_code, country, phone, email
         FROM clinics WHERE id IN {} AND deleted_at IS NULL ORDER BY id",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let name: String = r.get(1)?;
        let code: String = r.get(2)?;
        let addr = address(r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
        let tel = telecom(r.get(8)?, r.get(9)?, None);
        let mut o = json!({
            "resourceType": "Organization",
            "id": id,
            "identifier": [{ "system": SYSTEM_CLINIC_CODE, "value": code }],
            "active": true,
            "name": name,
        });
        let mut l = json!({
            "resourceType": "Location",
            "id": id,
            "identifier": [{ "system": SYSTEM_CLINIC_CODE, "value": code }],
            "status": "active",
            "name": name,
            "mode": "instance",
            "physicalType": { "coding": [{ "system": SYSTEM_LOCATION_TYPE, "code": "bu", "display": "Building" }] },
            "managingOrganization": reference("Organization", &id),
        });
        if !tel.is_empty() {
            o["telecom"] = json!(tel);
            l["telecom"] = json!(tel);
        }
        if let Some(a) = addr {
            o["address"] = json!([a]);
            l["address"] = a;
        }
        org.push(&o);
        loc.push(&l);
    }
    Ok(())
}

fn rooms(c: &Connection, clinics: &[ClinicId], loc: &mut Ndjson) -> ApiResult<()> {
    let sql = format!(
        "SELECT id, clinic_id, name, room_type, status, is_active
         FROM ops_treatment_rooms WHERE clinic_id IN {} AND deleted_at IS NULL ORDER BY id",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let clinic: String = r.get(1)?;
        let status: String = r.get(4)?;
        let active: bool = r.get(5)?;
        let mut l = json!({
            "resourceType": "Location",
            "id": id,
            "status": if !active || status == "closed" { "inactive" } else if status == "maintenance" { "suspended" } else { "active" },
            "name": r.get::<_, String>(2)?,
            "mode": "instance",
            "physicalType": { "coding": [{ "system": SYSTEM_LOCATION_TYPE, "code": "ro", "display": "Room" }] },
            "managingOrganization": reference("Organization", &clinic),
            "partOf": reference("Location", &clinic),
        });
        if let Some(t) = r
            .get::<_, Option<String>>(3)?
            .filter(|t| !t.trim().is_empty())
        {
            l["type"] = json!([{ "text": t }]);
        }
        loc.push(&l);
    }
    Ok(())
}

/// A credential as a qualification, if it is valid on the day (the one credential rule).
struct Qualification {
    staff: String,
    value: Value,
}

fn qualifications(
    c: &Connection,
    clinics: &[ClinicId],
    as_of: NaiveDate,
) -> ApiResult<HashMap<String, Vec<Value>>> {
    let mut actions: HashMap<String, Vec<AdverseSpan>> = HashMap::new();
    let sql = format!(
        "SELECT a.credential_id, a.action_type, a.start_date, a.end_date FROM ops_adverse_actions a
         JOIN staff_profiles s ON s.id = a.staff_id
         WHERE s.primary_clinic_id IN {} AND a.deleted_at IS NULL",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let date = |i: usize| -> rusqlite::Result<Option<NaiveDate>> {
            r.get::<_, Option<String>>(i)?
                .map(|d| clinicdesk_domain::parse_date("date", &d).map_err(bad))
                .transpose()
        };
        let span = AdverseSpan {
            action_type: AdverseActionType::parse(&r.get::<_, String>(1)?).map_err(bad)?,
            start: date(2)?.unwrap_or(NaiveDate::MIN),
            end: date(3)?,
        };
        actions.entry(r.get(0)?).or_default().push(span);
    }
    let sql = format!(
        "SELECT c.id, c.staff_id, c.status, c.credential_number, c.issuing_authority,
                c.issue_date, c.expiry_date, t.code, t.name
         FROM ops_credentials c
         JOIN ops_credential_types t ON t.id = c.credential_type_id
         JOIN staff_profiles s ON s.id = c.staff_id
         WHERE s.primary_clinic_id IN {} AND c.deleted_at IS NULL AND s.deleted_at IS NULL
         ORDER BY c.staff_id, t.code, c.id",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let q = qualification(r, &actions, as_of)?;
        if let Some(q) = q {
            out.entry(q.staff).or_default().push(q.value);
        }
    }
    Ok(out)
}

fn qualification(
    r: &Row<'_>,
    actions: &HashMap<String, Vec<AdverseSpan>>,
    as_of: NaiveDate,
) -> ApiResult<Option<Qualification>> {
    let id: String = r.get(0)?;
    let status = CredentialStatus::parse(&r.get::<_, String>(2)?)?;
    let issue = date_text(r.get(5)?);
    let expiry = date_text(r.get(6)?);
    let expiry_date = expiry
        .as_deref()
        .map(|d| clinicdesk_domain::parse_date("expiry_date", d))
        .transpose()?;
    let none = Vec::new();
    if !credential_valid_on(
        status,
        expiry_date,
        actions.get(&id).unwrap_or(&none),
        as_of,
    ) {
        return Ok(None);
    }
    let code: String = r.get(7)?;
    let name: String = r.get(8)?;
    let mut q = json!({
        "code": {
            "coding": [{ "system": SYSTEM_CREDENTIAL_TYPE, "code": code, "display": name }],
            "text": name,
        },
    });
    if let Some(n) = r
        .get::<_, Option<String>>(3)?
        .filter(|n| !n.trim().is_empty())
    {
        q["identifier"] = json!([{ "system": SYSTEM_CREDENTIAL_NUMBER, "value": n }]);
    }
    let mut period = Map::new();
    put(&mut period, "start", issue);
    put(&mut period, "end", expiry);
    if !period.is_empty() {
        q["period"] = Value::Object(period);
    }
    if let Some(a) = r
        .get::<_, Option<String>>(4)?
        .filter(|a| !a.trim().is_empty())
    {
        q["issuer"] = json!({ "display": a });
    }
    Ok(Some(Qualification {
        staff: r.get(1)?,
        value: q,
    }))
}

/// Practitioners and their roles; returns the active clinical staff per clinic (the
/// Schedules).
fn practitioners(
    c: &Connection,
    clinics: &[ClinicId],
    as_of: NaiveDate,
    prac: &mut Ndjson,
    roles: &mut Ndjson,
) -> ApiResult<Vec<(String, String)>> {
    let mut quals = qualifications(c, clinics, as_of)?;
    let sql = format!(
        "SELECT id, primary_clinic_id, employee_id, first_name, last_name, middle_name,
                title, discipline, email, phone, is_active, is_clinical
         FROM staff_profiles WHERE primary_clinic_id IN {} AND deleted_at IS NULL ORDER BY id",
        clinic_in(clinics)
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query([])?;
    let mut clinical = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let clinic: String = r.get(1)?;
        let active: bool = r.get(10)?;
        let mut given = vec![r.get::<_, String>(3)?];
        if let Some(m) = r
            .get::<_, Option<String>>(5)?
            .filter(|m| !m.trim().is_empty())
        {
            given.push(m);
        }
        let mut p = json!({
            "resourceType": "Practitioner",
            "id": id,
            "active": active,
            "name": [{ "use": "official", "family": r.get::<_, String>(4)?, "given": given }],
        });
        if let Some(e) = r
            .get::<_, Option<String>>(2)?
            .filter(|e| !e.trim().is_empty())
        {
            p["identifier"] = json!([{ "system": SYSTEM_EMPLOYEE_ID, "value": e }]);
        }
        let tel = telecom(r.get(9)?, r.get(8)?, None);
        if !tel.is_empty() {
            p["telecom"] = json!(tel);
        }
        if let Some(q) = quals.remove(&id) {
            p["qualification"] = json!(q);
        }
        prac.push(&p);
        let mut role = json!({
            "resourceType": "PractitionerRole",
            "id": id,
            "active": active,
            "practitioner": reference("Practitioner", &id),
            "organization": reference("Organization", &clinic),
            "location": [reference("Location", &clinic)],
        });
        if let Some(t) = r
            .get::<_, Option<String>>(6)?
            .filter(|t| !t.trim().is_empty())
        {
            role["code"] = json!([{ "text": t }]);
        }
        if let Some(d) = r
            .get::<_, Option<String>>(7)?
            .filter(|d| !d.trim().is_empty())
        {
            role["specialty"] = json!([{ "text": d }]);
        }
        roles.push(&role);
        if active && r.get::<_, bool>(11)? {
            clinical.push((clinic, id));
        }
    }
    Ok(clinical)
}

/// A patient row as a FHIR Patient (the columns of `PATIENT_SQL`).
fn patient(r: &Row<'_>) -> ApiResult<Value> {
    let id: String = r.get(0)?;
    let clinic: String = r.get(1)?;
    let mut identifier = vec![json!({
        "use": "official",
        "type": { "coding": [{ "system": SYSTEM_V2_0203, "code": "MR", "display": "Medical record number" }] },
        "system": SYSTEM_MRN,
        "value": r.get::<_, String>(2)?,
    })];
    if let Some(l) = r
        .get::<_, Option<String>>(18)?
        .filter(|l| !l.trim().is_empty())
    {
        identifier.push(json!({ "use": "secondary", "system": SYSTEM_LEGACY_ID, "value": l }));
    }
    let mut given = vec![r.get::<_, String>(3)?];
    if let Some(m) = r
        .get::<_, Option<String>>(5)?
        .filter(|m| !m.trim().is_empty())
    {
        given.push(m);
    }
    let mut names =
        vec![json!({ "use": "official", "family": r.get::<_, String>(4)?, "given": given })];
    if let Some(p) = r
        .get::<_, Option<String>>(6)?
        .filter(|p| !p.trim().is_empty())
    {
        names.push(json!({ "use": "usual", "given": [p] }));
    }
    let preferred: String = r.get(15)?;
    let mut p = json!({
        "resourceType": "Patient",
        "id": id,
        "identifier": identifier,
        "active": true,
        "name": names,
        "gender": r.get::<_, String>(8)?,
        "managingOrganization": reference("Organization", &clinic),
        "extension": [
            { "url": EXT_PREFERRED_CONTACT, "valueCode": preferred },
            { "url": EXT_CONSENT_SMS, "valueBoolean": r.get::<_, bool>(16)? },
            { "url": EXT_CONSENT_EMAIL, "valueBoolean": r.get::<_, bool>(17)? },
        ],
    });
    if let Some(d) = date_text(r.get(7)?) {
        p["birthDate"] = json!(d);
    }
    let tel = telecom(r.get(10)?, r.get(9)?, Some(&preferred));
    if !tel.is_empty() {
        p["telecom"] = json!(tel);
    }
    if let Some(a) = address(r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, None) {
        p["address"] = json!([a]);
    }
    Ok(p)
}

const PATIENT_SQL: &str =
    "SELECT id, clinic_id, mrn, first_name, last_name, middle_name, preferred_name,
        date_of_birth, sex, email, phone, address_line1, city, state, postal_code,
        preferred_contact_method, consent_sms, consent_email, legacy_id
     FROM patients";

/// An appointment row as a FHIR Appointment (the columns of `APPOINTMENT_SQL`).
fn appointment(r: &Row<'_>, tz: Tz) -> ApiResult<Value> {
    let id: String = r.get(0)?;
    let status = AppointmentStatus::parse(&r.get::<_, String>(7)?)?;
    let start: i64 = r.get(5)?;
    let end: i64 = r.get(6)?;
    let mut participant = vec![
        json!({
            "actor": reference("Patient", &r.get::<_, String>(2)?),
            "required": "required",
            "status": if status == AppointmentStatus::Pending { "needs-action" } else { "accepted" },
        }),
        json!({
            "actor": reference("Practitioner", &r.get::<_, String>(3)?),
            "required": "required",
            "status": "accepted",
        }),
    ];
    if let Some(room) = r.get::<_, Option<String>>(4)? {
        participant.push(json!({
            "actor": reference("Location", &room),
            "required": "required",
            "status": "accepted",
        }));
    }
    let mut a = json!({
        "resourceType": "Appointment",
        "id": id,
        "extension": [{ "url": EXT_APPOINTMENT_STATUS, "valueCode": status.as_str() }],
        "status": appointment_status(status),
        "start": instant(start, tz),
        "end": instant(end, tz),
        "minutesDuration": (end - start) / 60_000,
        "participant": participant,
    });
    if let Some(l) = r
        .get::<_, Option<String>>(10)?
        .filter(|l| !l.trim().is_empty())
    {
        a["identifier"] = json!([{ "use": "secondary", "system": SYSTEM_LEGACY_ID, "value": l }]);
    }
    if let Some(reason) = r
        .get::<_, Option<String>>(8)?
        .filter(|x| !x.trim().is_empty())
    {
        a["reasonCode"] = json!([{ "text": reason }]);
    }
    let cancel = r
        .get::<_, Option<String>>(9)?
        .filter(|x| !x.trim().is_empty());
    match (status, cancel) {
        (_, Some(why)) => a["cancelationReason"] = json!({ "text": why }),
        (AppointmentStatus::Rescheduled, None) => {
            a["cancelationReason"] = json!({ "text": "rescheduled" })
        }
        _ => {}
    }
    if let Some(case) = r.get::<_, Option<String>>(11)? {
        a["supportingInformation"] = json!([reference("EpisodeOfCare", &case)]);
    }
    if let (Some(code), Some(name)) = (
        r.get::<_, Option<String>>(12)?,
        r.get::<_, Option<String>>(13)?,
    ) {
        a["appointmentType"] = json!({
            "coding": [{ "system": SYSTEM_APPOINTMENT_TYPE, "code": code, "display": name }],
            "text": name,
        });
    }
    if let Some(n) = r
        .get::<_, Option<String>>(14)?
        .filter(|x| !x.trim().is_empty())
    {
        a["comment"] = json!(n);
    }
    Ok(a)
}

const APPOINTMENT_SQL: &str = "SELECT a.id, a.clinic_id, a.patient_id, a.provider_id, a.room_id,
        a.start_at, a.end_at, a.status, a.reason, a.cancel_reason, a.legacy_id, a.case_id,
        t.code, t.name, a.notes
     FROM appointments a LEFT JOIN appointment_types t ON t.id = a.appointment_type_id";

fn episode(r: &Row<'_>, tz: Tz) -> ApiResult<Value> {
    let id: String = r.get(0)?;
    let status = CaseStatus::parse(&r.get::<_, String>(5)?)?;
    let mut period = json!({ "start": instant(r.get(6)?, tz) });
    if let Some(end) = r.get::<_, Option<i64>>(7)? {
        period["end"] = json!(instant(end, tz));
    }
    let mut e = json!({
        "resourceType": "EpisodeOfCare",
        "id": id,
        "extension": [{ "url": EXT_CASE_STATUS, "valueCode": status.as_str() }],
        "identifier": [{ "system": SYSTEM_CASE_NUMBER, "value": r.get::<_, String>(3)? }],
        "status": episode_status(status),
        "type": [{ "text": r.get::<_, String>(4)? }],
        "patient": reference("Patient", &r.get::<_, String>(2)?),
        "managingOrganization": reference("Organization", &r.get::<_, String>(1)?),
        "period": period,
    });
    if let Some(p) = r.get::<_, Option<String>>(8)? {
        e["careManager"] = reference("Practitioner", &p);
    }
    Ok(e)
}

const CASE_SQL: &str = "SELECT id, clinic_id, patient_id, case_number, case_type, status,
        opened_at, closed_at, primary_clinician_id
     FROM ops_cases";

/// Runs `sql` (ordered) and pushes `map(row)` of each row, ticking progress.
fn each(
    c: &Connection,
    sql: &str,
    out: &mut Ndjson,
    tick: &mut dyn FnMut(u64) -> ApiResult<()>,
    mut map: impl FnMut(&Row<'_>) -> ApiResult<Value>,
) -> ApiResult<()> {
    let mut st = c.prepare(sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        out.push(&map(r)?);
        tick(1)?;
    }
    Ok(())
}

fn tz_of(zones: &HashMap<String, Tz>, clinic: &str) -> Tz {
    zones.get(clinic).copied().unwrap_or(Tz::UTC)
}

/// The bulk export of everything the caller may read into `dir` (created if missing): one
/// `<Type>.ndjson` per resource type (empty types too, so a reader sees the whole set) and
/// `manifest.json` (the Bulk Data manifest: `transactionTime`, `output[]` with `type`, `url`
/// — the file name — and `count`). Returns what was written.
pub fn export_fhir(
    app: &App,
    s: &Session,
    dir: &Path,
    opts: &ExportOptions,
    progress: Progress<'_>,
) -> ApiResult<BulkExport> {
    let clinic_cap = app.readable_clinics(s, None, Capability::ReadClinicData)?;
    let patient_cap = app.readable_clinics(s, None, Capability::ReadPatients)?;
    if clinic_cap.is_empty() {
        return Err(ApiError::Denied(
            "you may not read any clinic's data: nothing to export".into(),
        ));
    }
    if !(5..=720).contains(&opts.slot_minutes) {
        return Err(DomainError::invalid("slot_minutes", "must be between 5 and 720").into());
    }
    if let Some((from, to)) = opts.slots {
        if to < from {
            return Err(DomainError::invalid("to", "must not be before from").into());
        }
        if (to - from).num_days() >= MAX_SLOT_DAYS {
            return Err(DomainError::invalid(
                "to",
                format!("free slots are exported for at most {MAX_SLOT_DAYS} days at a time"),
            )
            .into());
        }
    }
    let paths: Vec<PathBuf> = RESOURCE_TYPES
        .iter()
        .map(|t| dir.join(format!("{t}.ndjson")))
        .chain([dir.join("manifest.json")])
        .collect();
    for p in &paths {
        app.check_destination(p)?;
    }
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let result = stream_fhir(app, s, dir, opts, progress, clinic_cap, patient_cap);
    if result.is_err() && created {
        // Only when empty: the temporary files are gone.
        let _ = std::fs::remove_dir(dir);
    }
    result
}

/// `export_fhir` once the destination is checked and `dir` exists.
fn stream_fhir(
    app: &App,
    s: &Session,
    dir: &Path,
    opts: &ExportOptions,
    progress: Progress<'_>,
    clinic_cap: Vec<ClinicId>,
    patient_cap: Vec<ClinicId>,
) -> ApiResult<BulkExport> {
    let mut files: HashMap<&str, Ndjson> = HashMap::new();
    for t in RESOURCE_TYPES {
        let path = dir.join(format!("{t}.ndjson"));
        files.insert(t, Ndjson::streamed(app.export_file(&path)?));
    }
    let mut take = |t: &str| files.remove(t).expect("a resource type");
    let (mut org, mut loc, mut prac, mut role) = (
        take("Organization"),
        take("Location"),
        take("Practitioner"),
        take("PractitionerRole"),
    );
    let (mut pat, mut sched, mut slot, mut appt, mut epi) = (
        take("Patient"),
        take("Schedule"),
        take("Slot"),
        take("Appointment"),
        take("EpisodeOfCare"),
    );
    let mut done = 0u64;
    let mut tick = |n: u64| -> ApiResult<()> {
        let before = done;
        done += n;
        if before / 10_000 != done / 10_000 && !progress("exporting", done, 0) {
            return Err(cancelled("FHIR export"));
        }
        Ok(())
    };
    let store = app.store();
    let mut patients: Vec<String> = Vec::new();
    let clinical = store.read(|c| -> ApiResult<_> {
        let zones = zones(c, &clinic_cap)?;
        organizations_and_locations(c, &clinic_cap, &mut org, &mut loc)?;
        rooms(c, &clinic_cap, &mut loc)?;
        let clinical = practitioners(c, &clinic_cap, opts.as_of, &mut prac, &mut role)?;
        tick(org.count + loc.count + prac.count + role.count)?;
        let inp = clinic_in(&patient_cap);
        each(
            c,
            &format!("{PATIENT_SQL} WHERE clinic_id IN {inp} AND deleted_at IS NULL ORDER BY id"),
            &mut pat,
            &mut tick,
            |r| {
                patients.push(r.get(0)?);
                patient(r)
            },
        )?;
        // The appointments (most of a large export) in two halves by id, the upper half on a
        // second thread with its own read connection, joined in id order.
        let live = format!("a.clinic_id IN {inp} AND a.deleted_at IS NULL");
        let mid: Option<String> = c
            .query_row(
                &format!(
                    "SELECT a.id FROM appointments a WHERE {live} ORDER BY a.id
                     LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM appointments a WHERE {live})"
                ),
                [],
                |r| r.get(0),
            )
            .optional()?;
        let map = |r: &Row<'_>| appointment(r, tz_of(&zones, &r.get::<_, String>(1)?));
        // Ids are validated UUIDs: inlined safely. None: no appointments.
        if let Some(mid) = mid {
            let lower = format!("{APPOINTMENT_SQL} WHERE {live} AND a.id < '{mid}' ORDER BY a.id");
            let upper = format!("{APPOINTMENT_SQL} WHERE {live} AND a.id >= '{mid}' ORDER BY a.id");
            // The upper half streams to a file of its own, appended after the lower half.
            let mut rest = Ndjson::streamed(app.export_file(&dir.join("Appointment.upper"))?);
            std::thread::scope(|scope| -> ApiResult<()> {
                let other = scope
                    .spawn(|| store.read(|c2| each(c2, &upper, &mut rest, &mut |_| Ok(()), map)));
                let mine = each(c, &lower, &mut appt, &mut tick, map);
                let theirs = other.join().unwrap_or_else(|_| {
                    Err(ApiError::Conflict(
                        "the export's reader thread failed".into(),
                    ))
                });
                mine.and(theirs)
            })?;
            tick(rest.count)?;
            appt.append(rest)
                .map_err(|e| io(&dir.join("Appointment.ndjson"), e))?;
        }
        each(
            c,
            &format!("{CASE_SQL} WHERE clinic_id IN {inp} AND deleted_at IS NULL ORDER BY id"),
            &mut epi,
            &mut tick,
            |r| episode(r, tz_of(&zones, &r.get::<_, String>(1)?)),
        )?;
        Ok((clinical, zones))
    })?;
    let (clinical, zones) = clinical;
    // Schedules and free slots: the desk's free-slot search, clinic by clinic.
    let horizon = |clinic: &str| -> Option<Value> {
        let (from, to) = opts.slots?;
        let tz = tz_of(&zones, clinic);
        let (start, _) = clinicdesk_domain::local_day_bounds(tz, from);
        let (_, end) = clinicdesk_domain::local_day_bounds(tz, to);
        Some(json!({
            "start": instant(start.timestamp_millis(), tz),
            "end": instant(end.timestamp_millis(), tz),
        }))
    };
    for (clinic, staff) in &clinical {
        let mut sc = json!({
            "resourceType": "Schedule",
            "id": staff,
            "active": true,
            "actor": [reference("Practitioner", staff), reference("Location", clinic)],
        });
        if let Some(h) = horizon(clinic) {
            sc["planningHorizon"] = h;
        }
        sched.push(&sc);
    }
    if let Some((from, to)) = opts.slots {
        for clinic in &clinic_cap {
            let tz = tz_of(&zones, &clinic.to_string());
            let mut free = app.available_slots(
                s,
                *clinic,
                None,
                opts.slot_minutes,
                &from.to_string(),
                &to.to_string(),
            )?;
            free.sort_by_key(|a| (a.provider_id, a.start_at));
            for f in free {
                slot.push(&json!({
                    "resourceType": "Slot",
                    "id": format!("{}-{}", f.provider_id, f.start_at),
                    "schedule": reference("Schedule", &f.provider_id.to_string()),
                    "status": "free",
                    "start": instant(f.start_at, tz),
                    "end": instant(f.end_at, tz),
                }));
            }
        }
        tick(slot.count)?;
    }
    let built: Vec<(&str, Ndjson)> = vec![
        ("Organization", org),
        ("Location", loc),
        ("Practitioner", prac),
        ("PractitionerRole", role),
        ("Patient", pat),
        ("Schedule", sched),
        ("Slot", slot),
        ("Appointment", appt),
        ("EpisodeOfCare", epi),
    ];
    let total: u64 = built.iter().map(|(_, n)| n.count).sum();
    if !progress("writing", total, total) {
        return Err(cancelled("FHIR export"));
    }
    app.record_export(
        s,
        &Export {
            what: "fhir_bulk",
            clinic: None,
            destination: &dir.display().to_string(),
            rows: total as usize,
            patients: &patients,
        },
    )?;
    let mut out = BulkExport {
        files: Vec::new(),
        total,
        manifest: dir.join("manifest.json"),
    };
    let mut complete = Vec::new();
    for (t, n) in built {
        let name = format!("{t}.ndjson");
        out.files.push((t.to_string(), name.clone(), n.count));
        complete.push((dir.join(&name), n.finish(&dir.join(&name))?));
    }
    for (path, f) in complete {
        f.commit().map_err(|e| cannot_write(&path, e))?;
    }
    let manifest = json!({
        "transactionTime": instant(opts.now_ms, Tz::UTC),
        "request": "clinicdesk export fhir",
        "requiresAccessToken": false,
        "output": out.files.iter().map(|(t, name, count)| json!({ "type": t, "url": name, "count": count })).collect::<Vec<_>>(),
        "error": [],
    });
    let text = serde_json::to_vec_pretty(&manifest).expect("JSON");
    app.write_export(&out.manifest, &text)?;
    Ok(out)
}

fn io(path: &Path, e: std::io::Error) -> ApiError {
    ApiError::Store(clinicdesk_api::StoreError::CannotWrite {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// One patient as a FHIR `Bundle` of type `collection`: the Patient, their clinic's
/// Organization, their appointments and their cases (EpisodeOfCare), each entry with a
/// `urn:uuid:` full URL. Needs `read_patients` at the patient's clinic (the API's
/// `get_patient` checks it). The export is audited; `destination` is where the caller sends it.
pub fn patient_bundle(
    app: &App,
    s: &Session,
    id: PatientId,
    now_ms: i64,
    destination: &str,
) -> ApiResult<Value> {
    let p = app.get_patient(s, id)?;
    let clinic = p.clinic_id;
    let (entries, rows) = app.store().read(|c| -> ApiResult<_> {
        let tz = zones(c, &[clinic])?.get(&clinic.to_string()).copied().unwrap_or(Tz::UTC);
        let mut entries = Vec::new();
        let one = |sql: &str, entries: &mut Vec<Value>, map: &dyn Fn(&Row<'_>) -> ApiResult<Value>| -> ApiResult<()> {
            let mut st = c.prepare(sql)?;
            let mut rows = st.query([id.to_string()])?;
            while let Some(r) = rows.next()? {
                entries.push(map(r)?);
            }
            Ok(())
        };
        one(&format!("{PATIENT_SQL} WHERE id = ?1 AND deleted_at IS NULL"), &mut entries, &|r| patient(r))?;
        let mut org = Ndjson::default();
        let mut loc = Ndjson::default();
        organizations_and_locations(c, &[clinic], &mut org, &mut loc)?;
        for line in org.bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            entries.push(serde_json::from_slice(line).expect("our own JSON"));
        }
        // Appointments at any clinic where the caller reads patients; cases likewise.
        let readable = app.readable_clinics(s, None, Capability::ReadPatients)?;
        let zones = zones(c, &readable)?;
        let inp = clinic_in(&readable);
        one(
            &format!("{APPOINTMENT_SQL} WHERE a.patient_id = ?1 AND a.clinic_id IN {inp} AND a.deleted_at IS NULL ORDER BY a.start_at, a.id"),
            &mut entries,
            &|r| appointment(r, zones.get(&r.get::<_, String>(1)?).copied().unwrap_or(tz)),
        )?;
        one(
            &format!("{CASE_SQL} WHERE patient_id = ?1 AND clinic_id IN {inp} AND deleted_at IS NULL ORDER BY opened_at, id"),
            &mut entries,
            &|r| episode(r, zones.get(&r.get::<_, String>(1)?).copied().unwrap_or(tz)),
        )?;
        let rows = entries.len();
        Ok((entries, rows))
    })?;
    app.record_export(
        s,
        &Export {
            what: "fhir_patient_bundle",
            clinic: Some(clinic),
            destination,
            rows,
            patients: &[id.to_string()],
        },
    )?;
    Ok(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(now_ms, Tz::UTC),
        "entry": entries.into_iter().map(|r| json!({
            "fullUrl": format!("urn:uuid:{}", r["id"].as_str().unwrap_or_default()),
            "resource": r,
        })).collect::<Vec<_>>(),
    }))
}
