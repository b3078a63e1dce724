//! HL7 FHIR R4 (4.0.1): what our records are in FHIR, and back.
//!
//! The mapping (each resource's `id` is our row's UUID; references are relative,
//! `Type/id`):
//!
//! | ours | FHIR |
//! |---|---|
//! | clinic | `Organization` and `Location` (the building, same id) |
//! | treatment room | `Location` (`partOf` the clinic's) |
//! | staff profile | `Practitioner` (qualifications: the credentials valid on the export's date by `credential_valid_on`, with their period) and `PractitionerRole` (same id; at the primary clinic) |
//! | patient | `Patient` (identifiers MRN and legacy id with the systems below; telecom ranked by the preferred contact method; consents as extensions) |
//! | a clinical provider's free time | `Schedule` (same id as the staff member) and `Slot`s (free, from the desk's free-slot search) |
//! | appointment | `Appointment` ([`appointment_status`]; our exact status also in an extension) |
//! | case | `EpisodeOfCare` ([`episode_status`]) |

pub mod export;
pub mod import;

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use clinicdesk_domain::{AppointmentStatus, CaseStatus};

pub use export::{export_fhir, patient_bundle, BulkExport, ExportOptions, RESOURCE_TYPES};
pub use import::{import_fhir, FhirImport, MAX_FHIR_BYTES};

/// The FHIR version written and read.
pub const FHIR_VERSION: &str = "4.0.1";
/// Identifier system of a patient's medical record number.
pub const SYSTEM_MRN: &str = "urn:clinicdesk:mrn";
/// Identifier system of the id a record had in the system it was imported from.
pub const SYSTEM_LEGACY_ID: &str = "urn:clinicdesk:legacy-id";
/// Identifier system of a staff member's employee id.
pub const SYSTEM_EMPLOYEE_ID: &str = "urn:clinicdesk:employee-id";
/// Identifier system of a clinic's short code (`CGY`).
pub const SYSTEM_CLINIC_CODE: &str = "urn:clinicdesk:clinic-code";
/// Identifier system of a case number (`CGY-26-0001`).
pub const SYSTEM_CASE_NUMBER: &str = "urn:clinicdesk:case-number";
/// Code system of our credential types (their `code`).
pub const SYSTEM_CREDENTIAL_TYPE: &str = "urn:clinicdesk:credential-type";
/// Identifier system of a credential's number.
pub const SYSTEM_CREDENTIAL_NUMBER: &str = "urn:clinicdesk:credential-number";
/// Code system of our appointment types (their `code`).
pub const SYSTEM_APPOINTMENT_TYPE: &str = "urn:clinicdesk:appointment-type";
/// Extension: our appointment status exactly (FHIR's is coarser).
pub const EXT_APPOINTMENT_STATUS: &str = "urn:clinicdesk:fhir:appointment-status";
/// Extension: our case status exactly.
pub const EXT_CASE_STATUS: &str = "urn:clinicdesk:fhir:case-status";
/// Extension: the patient's preferred contact method (`sms`, `email`, `phone`, `none`).
pub const EXT_PREFERRED_CONTACT: &str = "urn:clinicdesk:fhir:preferred-contact-method";
/// Extension: the patient consented to SMS messages.
pub const EXT_CONSENT_SMS: &str = "urn:clinicdesk:fhir:consent-sms";
/// Extension: the patient consented to e-mail.
pub const EXT_CONSENT_EMAIL: &str = "urn:clinicdesk:fhir:consent-email";
/// HL7's identifier type codes (`MR`: medical record number).
pub const SYSTEM_V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// HL7's location physical types (`bu` building, `ro` room).
pub const SYSTEM_LOCATION_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/location-physical-type";

/// FHIR `Appointment.status` of our status. The mapping (ARCHITECTURE.md, invariant 38):
/// pending → `pending` (booked at the desk, not confirmed by the patient), confirmed and reminded → `booked`, checked_in → `checked-in`,
/// in_progress → `arrived` (the patient is with the provider: FHIR R4 has no "in progress"),
/// completed → `fulfilled`, no_show → `noshow`, cancelled and rescheduled → `cancelled` (a
/// rescheduled appointment's `cancelationReason` says so). The exact status travels in the
/// [`EXT_APPOINTMENT_STATUS`] extension, so our own import restores it.
pub fn appointment_status(s: AppointmentStatus) -> &'static str {
    use AppointmentStatus::*;
    match s {
        Pending => "pending",
        Confirmed | Reminded => "booked",
        CheckedIn => "checked-in",
        InProgress => "arrived",
        Completed => "fulfilled",
        NoShow => "noshow",
        Cancelled | Rescheduled => "cancelled",
    }
}

/// Our status of a FHIR `Appointment.status` that came without our extension (another
/// system's export): the inverse of [`appointment_status`] choosing the first of ours;
/// `entered-in-error` and `waitlist` have no counterpart (None: the resource is refused).
pub fn appointment_status_from_fhir(s: &str) -> Option<AppointmentStatus> {
    use AppointmentStatus::*;
    Some(match s {
        "proposed" | "pending" => Pending,
        "booked" => Confirmed,
        "checked-in" => CheckedIn,
        "arrived" => InProgress,
        "fulfilled" => Completed,
        "noshow" => NoShow,
        "cancelled" => Cancelled,
        _ => return None,
    })
}

/// FHIR `EpisodeOfCare.status` of a case status: new → `planned`, active → `active`,
/// on_hold → `onhold`, pending_approval → `waitlist`, completed and archived → `finished`,
/// cancelled → `cancelled`.
pub fn episode_status(s: CaseStatus) -> &'static str {
    use CaseStatus::*;
    match s {
        New => "planned",
        Active => "active",
        OnHold => "onhold",
        PendingApproval => "waitlist",
        Completed | Archived => "finished",
        Cancelled => "cancelled",
    }
}

/// An instant (ms) as a FHIR `instant` on the clinic's wall clock with its offset
/// (`2026-03-09T09:00:00-06:00`).
pub fn instant(ms: i64, tz: Tz) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
