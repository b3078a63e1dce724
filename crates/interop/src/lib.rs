//! Interop: ClinicDesk's data in and out in the healthcare and calendar standards.
//!
//! - [`fhir`] — HL7 FHIR R4: a bulk export (one NDJSON file per resource type and a manifest,
//!   as the FHIR Bulk Data `$export` writes them) of the clinics the caller may read, and a
//!   single patient's `Bundle` (type `collection`).
//! - [`ical`] — iCalendar (RFC 5545): a provider's appointments or a staff member's shifts as
//!   an `.ics` file with the clinic's `VTIMEZONE`; a holiday calendar imported as closures.
//!
//! A crate beside the API (it depends on api, store and domain; the API does not depend on
//! it): every read goes through the API's permission checks (`App::readable_clinics`,
//! `App::require`, the API's own reads such as the free-slot search), and every export is
//! audited through `App::record_export` before a byte of it is written.

pub mod fhir;
pub mod ical;

pub use clinicdesk_api::{ApiError, ApiResult};

/// Progress and cancellation, as the API's long tasks: `progress(stage, done, total)`;
/// returning false cancels and nothing is kept.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64) -> bool;

/// The error of a cancelled task.
pub(crate) fn cancelled(what: &str) -> ApiError {
    ApiError::Conflict(format!("the {what} was cancelled; nothing was written"))
}
