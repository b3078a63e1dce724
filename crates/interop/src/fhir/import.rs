//! FHIR R4 import of Patient, Practitioner, Location (rooms) and Appointment resources
//! (NDJSON, one resource a line, or one `Bundle`) into a clinic: the resources are read here into the API's migration
//! records (`App::import_migration`: all or nothing in one audited transaction, idempotent,
//! appointments through the booking rules).
//!
//! Reading: a resource id that is a UUID is kept as the row's id (our own export's ids come
//! back as they were); any other id becomes the row's legacy id (and a new UUID), and
//! references to it within the same import resolve. Identifiers of our systems
//! (`SYSTEM_MRN`, `SYSTEM_LEGACY_ID`, `SYSTEM_EMPLOYEE_ID`) become MRN, legacy id and employee
//! id. An appointment's exact status comes from our extension, else from FHIR's status
//! (`appointment_status_from_fhir`). A time without an offset is read on the clinic's wall
//! clock, and one in a daylight-saving gap is refused. A Location whose physical type is a
//! room (`ro`) becomes a room of the clinic (found again by id or name); any other Location
//! (the clinic's building, a site) is context, and an appointment's reference to it names no
//! room. The other resource types our export writes (Organization, PractitionerRole,
//! Schedule, Slot, EpisodeOfCare) are context and ignored (counted); any other type is an
//! error. Each bad resource is reported
//! with its line (a Bundle: its entry's number) and a FHIRPath-like path.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime};
use chrono_tz::Tz;
use clinicdesk_api::{
    App, Fields, Migrated, MigratedAppointment, MigrationImport, MigrationRecord, Scope, Session,
};
use clinicdesk_domain::{
    local_to_utc, AppointmentId, AppointmentStatus, Capability, ClinicId, DomainError, PatientId,
    RoomId, StaffId, TimeZoneName,
};
use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::{ApiError, ApiResult, Progress};

/// The largest input read (bytes).
pub const MAX_FHIR_BYTES: usize = 64 * 1024 * 1024;
/// The largest single resource (one NDJSON line), bytes.
pub const MAX_RESOURCE_BYTES: usize = 1024 * 1024;
/// Types our export writes that an import reads as context only (and Location, but for
/// rooms).
pub const IGNORED_TYPES: [&str; 5] = [
    "Organization",
    "PractitionerRole",
    "Schedule",
    "Slot",
    "EpisodeOfCare",
];

/// What an import did: the migration's result and the context resources left aside.
#[derive(Debug, Clone, Serialize)]
pub struct FhirImport {
    #[serde(flatten)]
    pub result: MigrationImport,
    pub ignored: u64,
}

/// A resource's problem: (path, message).
type Bad = (String, String);

/// A resource read: its migration record and where each of its fields came from.
type Read = (Migrated, Vec<(String, String)>);

fn bad(path: impl Into<String>, message: impl Into<String>) -> Bad {
    (path.into(), message.into())
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn array<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a [Value], Bad> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(format!("{path}.{key}"), "must be an array")),
    }
}

/// Identifier values by system.
fn identifiers(r: &Value, t: &str) -> Result<HashMap<String, String>, Bad> {
    let mut out = HashMap::new();
    for i in array(r, "identifier", t)? {
        if let (Some(sys), Some(val)) = (str_at(i, "system"), str_at(i, "value")) {
            out.entry(sys.to_string())
                .or_insert_with(|| val.to_string());
        }
    }
    Ok(out)
}

/// Names: (family, given, middle, preferred) from `name`.
fn names(r: &Value, t: &str) -> Result<(String, String, Option<String>, Option<String>), Bad> {
    let list = array(r, "name", t)?;
    let official = list
        .iter()
        .find(|n| str_at(n, "use") == Some("official"))
        .or_else(|| list.iter().find(|n| n.get("family").is_some()))
        .ok_or_else(|| bad(format!("{t}.name"), "a name with a family name is required"))?;
    let family =
        str_at(official, "family").ok_or_else(|| bad(format!("{t}.name.family"), "is required"))?;
    let given: Vec<&str> = array(official, "given", &format!("{t}.name"))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let first = given
        .first()
        .ok_or_else(|| bad(format!("{t}.name.given"), "is required"))?;
    let middle = (given.len() > 1).then(|| given[1..].join(" "));
    let preferred = list
        .iter()
        .find(|n| str_at(n, "use") == Some("usual"))
        .and_then(|n| n.get("given")?.get(0)?.as_str())
        .map(str::to_string);
    Ok((family.to_string(), first.to_string(), middle, preferred))
}

fn telecom(r: &Value, t: &str, f: &mut Fields) -> Result<(), Bad> {
    for c in array(r, "telecom", t)? {
        let key = match str_at(c, "system") {
            Some("phone") | Some("sms") => "phone",
            Some("email") => "email",
            _ => continue,
        };
        if let (Some(v), None) = (str_at(c, "value"), f.text(key).ok().flatten()) {
            f.set(key, v);
        }
    }
    Ok(())
}

/// Patient/x, Practitioner/x … → (type, id).
fn reference(v: &Value) -> Option<(&str, &str)> {
    str_at(v, "reference")?.split_once('/')
}

/// Ids of the resources of this import: foreign id → the UUID given to it.
#[derive(Default)]
struct Ids {
    patients: HashMap<String, PatientId>,
    staff: HashMap<String, StaffId>,
    rooms: HashMap<String, RoomId>,
    /// Locations of the file that are not rooms (the clinic's building): no room.
    sites: std::collections::HashSet<String>,
}

struct Reader<'a> {
    tz: Tz,
    ids: Ids,
    app: &'a App,
}

impl Reader<'_> {
    /// An instant (with offset), or a wall-clock time of the clinic.
    fn instant(&self, v: &Value, path: &str) -> Result<i64, Bad> {
        let text = v.as_str().ok_or_else(|| {
            bad(
                path,
                "is required (an instant such as 2026-03-09T09:00:00-06:00)",
            )
        })?;
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.timestamp_millis());
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
            if let Ok(local) = NaiveDateTime::parse_from_str(text, fmt) {
                return local_to_utc(self.tz, local)
                    .map(|t| t.timestamp_millis())
                    .map_err(|e| bad(path, format!("{text}: {}", message(&e))));
            }
        }
        Err(bad(path, format!("'{text}' is not a date and time")))
    }

    fn patient(&mut self, r: &Value) -> Result<(Migrated, Vec<(String, String)>), Bad> {
        let t = "Patient";
        let mut f = Fields::new();
        let ids = identifiers(r, t)?;
        let (id, legacy) = own_id(r, t, ids.get(SYSTEM_LEGACY_ID))?;
        let id = id
            .map(PatientId::from_uuid)
            .or_else(|| legacy.as_ref().map(|_| PatientId::new()));
        if let (Some(foreign), Some(id)) = (str_at(r, "id"), id) {
            self.ids.patients.insert(foreign.to_string(), id);
        }
        if let Some(l) = legacy {
            f.set("legacy_id", l);
        }
        if let Some(m) = ids.get(SYSTEM_MRN) {
            f.set("mrn", m.clone());
        }
        let (family, given, middle, preferred) = names(r, t)?;
        f.set("last_name", family);
        f.set("first_name", given);
        if let Some(m) = middle {
            f.set("middle_name", m);
        }
        if let Some(p) = preferred {
            f.set("preferred_name", p);
        }
        if let Some(g) = r.get("gender") {
            let g = g.as_str().unwrap_or_default();
            if !["male", "female", "other", "unknown"].contains(&g) {
                return Err(bad(
                    "Patient.gender",
                    format!("'{g}' is not male, female, other or unknown"),
                ));
            }
            f.set("sex", g);
        }
        if let Some(d) = r.get("birthDate") {
            let d = d.as_str().unwrap_or_default();
            if d.len() != 10 {
                return Err(bad(
                    "Patient.birthDate",
                    format!("'{d}' is not a full date (YYYY-MM-DD)"),
                ));
            }
            f.set("date_of_birth", d);
        }
        telecom(r, t, &mut f)?;
        if let Some(a) = array(r, "address", t)?.first() {
            if let Some(l) = a.get("line").and_then(|l| l.get(0)).and_then(Value::as_str) {
                f.set("address_line1", l);
            }
            for (key, field) in [
                ("city", "city"),
                ("state", "state"),
                ("postalCode", "postal_code"),
            ] {
                if let Some(v) = str_at(a, key) {
                    f.set(field, v);
                }
            }
        }
        for e in array(r, "extension", t)? {
            match (str_at(e, "url"), e.get("valueCode"), e.get("valueBoolean")) {
                (Some(EXT_PREFERRED_CONTACT), Some(Value::String(c)), _) => {
                    f.set("preferred_contact_method", c.as_str())
                }
                (Some(EXT_CONSENT_SMS), _, Some(Value::Bool(b))) => {
                    f.set("consent_sms", b.to_string())
                }
                (Some(EXT_CONSENT_EMAIL), _, Some(Value::Bool(b))) => {
                    f.set("consent_email", b.to_string())
                }
                _ => {}
            }
        }
        let paths = [
            ("first_name", "Patient.name.given"),
            ("last_name", "Patient.name.family"),
            ("middle_name", "Patient.name.given"),
            ("preferred_name", "Patient.name.given"),
            ("mrn", "Patient.identifier"),
            ("legacy_id", "Patient.identifier"),
            ("date_of_birth", "Patient.birthDate"),
            ("sex", "Patient.gender"),
            ("email", "Patient.telecom"),
            ("phone", "Patient.telecom"),
            ("address_line1", "Patient.address.line"),
            ("city", "Patient.address.city"),
            ("state", "Patient.address.state"),
            ("postal_code", "Patient.address.postalCode"),
            ("preferred_contact_method", "Patient.extension"),
            ("consent_sms", "Patient.extension"),
            ("consent_email", "Patient.extension"),
        ];
        Ok((Migrated::Patient { id, fields: f }, owned(&paths)))
    }

    fn practitioner(&mut self, r: &Value) -> Result<(Migrated, Vec<(String, String)>), Bad> {
        let t = "Practitioner";
        let mut f = Fields::new();
        let ids = identifiers(r, t)?;
        let (id, _) = own_id(r, t, None)?;
        let id = id.map(StaffId::from_uuid).unwrap_or_else(StaffId::new);
        if let Some(foreign) = str_at(r, "id") {
            self.ids.staff.insert(foreign.to_string(), id);
        }
        if let Some(e) = ids.get(SYSTEM_EMPLOYEE_ID) {
            f.set("employee_id", e.clone());
        }
        let (family, given, middle, _) = names(r, t)?;
        f.set("last_name", family);
        f.set("first_name", given);
        if let Some(m) = middle {
            f.set("middle_name", m);
        }
        if let Some(Value::Bool(a)) = r.get("active") {
            f.set("is_active", a.to_string());
        }
        telecom(r, t, &mut f)?;
        let paths = [
            ("first_name", "Practitioner.name.given"),
            ("last_name", "Practitioner.name.family"),
            ("middle_name", "Practitioner.name.given"),
            ("employee_id", "Practitioner.identifier"),
            ("email", "Practitioner.telecom"),
            ("phone", "Practitioner.telecom"),
            ("is_active", "Practitioner.active"),
        ];
        Ok((
            Migrated::Staff {
                id: Some(id),
                fields: f,
            },
            owned(&paths),
        ))
    }

    /// A Location: a room (`Some`), or context (`None`: a building or site, remembered so an
    /// appointment's reference to it names no room).
    fn location(&mut self, r: &Value) -> Result<Option<Read>, Bad> {
        let t = "Location";
        let is_room = r
            .get("physicalType")
            .and_then(|p| p.get("coding"))
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| str_at(c, "code") == Some("ro")));
        let foreign = str_at(r, "id");
        if !is_room {
            if let Some(f) = foreign {
                self.ids.sites.insert(f.to_string());
            }
            return Ok(None);
        }
        let (id, _) = own_id(r, t, None)?;
        let id = id.map(RoomId::from_uuid).unwrap_or_else(RoomId::new);
        if let Some(foreign) = foreign {
            self.ids.rooms.insert(foreign.to_string(), id);
        }
        let mut f = Fields::new();
        f.set(
            "name",
            str_at(r, "name").ok_or_else(|| bad("Location.name", "is required for a room"))?,
        );
        if let Some(kind) = array(r, "type", t)?.first().and_then(|c| str_at(c, "text")) {
            f.set("room_type", kind);
        }
        let status = match str_at(r, "status") {
            None | Some("active") => "available",
            Some("suspended") => "maintenance",
            Some("inactive") => "closed",
            Some(other) => {
                return Err(bad(
                    "Location.status",
                    format!("'{other}' is not a Location status (active, suspended, inactive)"),
                ))
            }
        };
        f.set("status", status);
        let paths = [
            ("name", "Location.name"),
            ("room_type", "Location.type"),
            ("status", "Location.status"),
        ];
        Ok(Some((
            Migrated::Room {
                id: Some(id),
                fields: f,
            },
            owned(&paths),
        )))
    }

    /// A patient or practitioner reference: this import's, a UUID, or a legacy id on record.
    fn patient_ref(&self, id: &str) -> Result<PatientId, Bad> {
        if let Some(p) = self.ids.patients.get(id) {
            return Ok(*p);
        }
        if let Ok(p) = PatientId::parse(id) {
            return Ok(p);
        }
        let found: Option<String> = self
            .app
            .store()
            .read(|c| {
                use rusqlite::OptionalExtension;
                Ok::<_, ApiError>(
                    c.query_row("SELECT id FROM patients WHERE legacy_id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?,
                )
            })
            .map_err(|e| bad("Appointment.participant.actor", e.to_string()))?;
        found
            .and_then(|p| PatientId::parse(&p).ok())
            .ok_or_else(|| {
                bad(
                    "Appointment.participant.actor",
                    format!("unknown reference Patient/{id}"),
                )
            })
    }

    fn appointment(&self, r: &Value) -> Result<(Migrated, Vec<(String, String)>), Bad> {
        let t = "Appointment";
        let ids = identifiers(r, t)?;
        let (id, legacy) = own_id(r, t, ids.get(SYSTEM_LEGACY_ID))?;
        if id.is_none() && legacy.is_none() {
            return Err(bad(
                "Appointment.id",
                "an id or identifier is required (a re-import finds the appointment by it)",
            ));
        }
        let ours = array(r, "extension", t)?
            .iter()
            .find(|e| str_at(e, "url") == Some(EXT_APPOINTMENT_STATUS))
            .and_then(|e| str_at(e, "valueCode"));
        let status = match (ours, str_at(r, "status")) {
            (Some(code), _) => AppointmentStatus::parse(code)
                .map_err(|e| bad("Appointment.extension", message(&e)))?,
            (None, Some(s)) => appointment_status_from_fhir(s).ok_or_else(|| {
                bad(
                    "Appointment.status",
                    format!("'{s}' cannot be imported (entered-in-error, waitlist or unknown)"),
                )
            })?,
            (None, None) => return Err(bad("Appointment.status", "is required")),
        };
        let start = self.instant(r.get("start").unwrap_or(&Value::Null), "Appointment.start")?;
        let end = self.instant(r.get("end").unwrap_or(&Value::Null), "Appointment.end")?;
        let participants = array(r, "participant", t)?;
        if participants.is_empty() {
            return Err(bad("Appointment.participant", "is required"));
        }
        let (mut patient, mut provider, mut room) = (None, None, None);
        for p in participants {
            let Some((kind, id)) = p.get("actor").and_then(reference) else {
                continue;
            };
            match kind {
                "Patient" => patient = Some(self.patient_ref(id)?),
                "Practitioner" | "PractitionerRole" => {
                    provider = Some(match self.ids.staff.get(id) {
                        Some(s) => *s,
                        None => StaffId::parse(id).map_err(|_| {
                            bad(
                                "Appointment.participant.actor",
                                format!("unknown reference {kind}/{id}"),
                            )
                        })?,
                    })
                }
                "Location" if self.ids.sites.contains(id) => {}
                "Location" => {
                    room = Some(match self.ids.rooms.get(id) {
                        Some(r) => *r,
                        None => RoomId::parse(id).map_err(|_| {
                            bad(
                                "Appointment.participant.actor",
                                format!("unknown reference Location/{id}"),
                            )
                        })?,
                    })
                }
                _ => {}
            }
        }
        let patient = patient.ok_or_else(|| {
            bad(
                "Appointment.participant",
                "a Patient participant is required",
            )
        })?;
        let provider = provider.ok_or_else(|| {
            bad(
                "Appointment.participant",
                "a Practitioner participant is required",
            )
        })?;
        let text = |key: &str| {
            r.get(key)
                .and_then(|v| str_at(v, "text"))
                .map(str::to_string)
        };
        let type_code = r
            .get("appointmentType")
            .and_then(|t| t.get("coding"))
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .find(|c| str_at(c, "system") == Some(SYSTEM_APPOINTMENT_TYPE))
                    .or(c.first())
            })
            .and_then(|c| str_at(c, "code"))
            .map(str::to_string);
        let a = MigratedAppointment {
            id: id.map(AppointmentId::from_uuid),
            legacy_id: legacy,
            patient,
            provider,
            room,
            type_code,
            start_ms: start,
            end_ms: end,
            status,
            reason: array(r, "reasonCode", t)?
                .first()
                .and_then(|c| str_at(c, "text"))
                .map(str::to_string),
            notes: str_at(r, "comment").map(str::to_string),
            cancel_reason: text("cancelationReason")
                .filter(|c| !(status == AppointmentStatus::Rescheduled && c == "rescheduled")),
        };
        Ok((Migrated::Appointment(a), Vec::new()))
    }
}

fn owned(paths: &[(&str, &str)]) -> Vec<(String, String)> {
    paths
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn message(e: &DomainError) -> String {
    match e {
        DomainError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The resource's id as our UUID, or (when it is another system's id) as the legacy id —
/// unless an identifier of our legacy system gives it.
fn own_id(
    r: &Value,
    t: &str,
    legacy: Option<&String>,
) -> Result<(Option<uuid::Uuid>, Option<String>), Bad> {
    let id = match r.get("id") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => Some(s.as_str()),
        Some(_) => {
            return Err(bad(
                format!("{t}.id"),
                "must be a FHIR id (1–64 letters, digits, '-', '.')",
            ))
        }
    };
    let uuid = id.and_then(|s| uuid::Uuid::parse_str(s).ok());
    let legacy = legacy.cloned().or_else(|| match uuid {
        Some(_) => None,
        None => id.map(str::to_string),
    });
    Ok((uuid, legacy))
}

/// The resources of one input, each with its line (a Bundle: its entry's number) and the
/// prefix of its paths.
/// One resource of an input: its line, the prefix of its paths, the resource or its problem.
type Doc = (u64, String, Result<Value, Bad>);

fn documents(text: &str) -> Vec<Doc> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            if v.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
                let entries = v
                    .get("entry")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                return entries
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let r = e
                            .get("resource")
                            .cloned()
                            .ok_or_else(|| bad("Bundle.entry.resource", "is required"));
                        (i as u64 + 1, format!("Bundle.entry[{i}].resource."), r)
                    })
                    .collect();
            }
        }
    }
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > MAX_RESOURCE_BYTES {
            out.push((
                n,
                String::new(),
                Err(bad(
                    "",
                    format!(
                        "the line is {} MiB: a resource may be at most {} MiB",
                        line.len() / (1024 * 1024),
                        MAX_RESOURCE_BYTES / (1024 * 1024)
                    ),
                )),
            ));
            continue;
        }
        let r = serde_json::from_str::<Value>(line)
            .map_err(|e| bad("", format!("not valid JSON: {e}")))
            .and_then(|v| {
                if v.is_object() {
                    Ok(v)
                } else {
                    Err(bad("", "a resource must be a JSON object"))
                }
            });
        out.push((n, String::new(), r));
    }
    out
}

/// Import FHIR resources into `clinic` (see the module docs). `sources` are (name, text)
/// pairs (files); errors name the source when there are several. Needs `import_patients` at
/// the clinic (and what the API's migration import needs for staff and appointments).
pub fn import_fhir(
    app: &App,
    s: &Session,
    clinic: ClinicId,
    sources: &[(String, String)],
    progress: Progress<'_>,
) -> ApiResult<FhirImport> {
    app.require(
        s,
        Capability::ImportPatients,
        Scope::Clinic(clinic),
        "import FHIR resources",
    )?;
    let size: usize = sources.iter().map(|(_, t)| t.len()).sum();
    if size > MAX_FHIR_BYTES {
        return Err(DomainError::invalid(
            "file",
            format!("more than {} MiB: split it", MAX_FHIR_BYTES / (1024 * 1024)),
        )
        .into());
    }
    let tz = app.store().read(|c| {
        let name: String = c.query_row(
            "SELECT timezone FROM clinics WHERE id = ?1 AND deleted_at IS NULL",
            [clinic.to_string()],
            |r| r.get(0),
        )?;
        Ok::<_, ApiError>(TimeZoneName::parse(&name)?.tz())
    })?;
    let mut reader = Reader {
        tz,
        ids: Ids::default(),
        app,
    };
    let mut failed = MigrationImport::default();
    let mut ignored = 0u64;
    let mut records = Vec::new();
    // Patients and practitioners first, so appointments may refer to them in any order.
    let mut docs = Vec::new();
    for (name, text) in sources {
        let prefix = if sources.len() > 1 {
            format!("{name}: ")
        } else {
            String::new()
        };
        for (line, path, doc) in documents(text) {
            docs.push((prefix.clone(), line, path, doc));
        }
    }
    let rank = |d: &Result<Value, Bad>| match d
        .as_ref()
        .ok()
        .and_then(|v| v.get("resourceType"))
        .and_then(Value::as_str)
    {
        Some("Appointment") => 1,
        _ => 0,
    };
    docs.sort_by_key(|(_, _, _, d)| rank(d));
    for (prefix, line, base, doc) in docs {
        let fail = |failed: &mut MigrationImport, (path, msg): Bad| {
            let path = if path.is_empty() {
                base.trim_end_matches('.').to_string()
            } else {
                format!("{base}{path}")
            };
            failed.fail(line, path, format!("{prefix}{msg}"));
        };
        let r = match doc {
            Ok(r) => r,
            Err(b) => {
                fail(&mut failed, b);
                continue;
            }
        };
        let t = r
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let read = match t.as_str() {
            "Patient" => reader.patient(&r),
            "Practitioner" => reader.practitioner(&r),
            "Appointment" => reader.appointment(&r),
            "Location" => match reader.location(&r) {
                Ok(Some(room)) => Ok(room),
                Ok(None) => {
                    ignored += 1;
                    continue;
                }
                Err(b) => Err(b),
            },
            t if IGNORED_TYPES.contains(&t) => {
                ignored += 1;
                continue;
            }
            "" => Err(bad("resourceType", "is required")),
            other => Err(bad(
                "resourceType",
                format!("'{other}' is not imported (Patient, Practitioner, Location and Appointment are)"),
            )),
        };
        match read {
            Ok((record, field_paths)) => records.push(MigrationRecord {
                line,
                path: format!("{base}{t}"),
                record,
                field_paths: field_paths
                    .into_iter()
                    .map(|(f, p)| (f, format!("{base}{p}")))
                    .collect(),
            }),
            Err(b) => fail(&mut failed, b),
        }
    }
    if failed.invalid > 0 {
        failed.records = (records.len() as u64) + failed.invalid;
        failed.errors.sort_by_key(|e| e.line);
        failed.errors.truncate(clinicdesk_api::MAX_IMPORT_ERRORS);
        return Ok(FhirImport {
            result: failed,
            ignored,
        });
    }
    let result = app.import_migration(s, clinic, records, progress)?;
    Ok(FhirImport { result, ignored })
}
