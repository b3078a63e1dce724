use clinicdesk_domain::{
    AppointmentId, AppointmentSource, AppointmentStatus, AppointmentTypeId, CaseId, ClinicId,
    PatientId, RecurrenceSeriesId, RoomId, StaffId,
};
use serde::{Deserialize, Serialize};

use crate::table::Table;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Appointment {
    pub id: AppointmentId,
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub provider_id: StaffId,
    pub room_id: Option<RoomId>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub start_at: i64,
    pub end_at: i64,
    pub status: AppointmentStatus,
    pub case_id: Option<CaseId>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub source: AppointmentSource,
    pub rescheduled_from_id: Option<AppointmentId>,
    pub series_id: Option<RecurrenceSeriesId>,
    pub cancel_reason: Option<String>,
    pub override_reason: Option<String>,
    pub checked_in_at: Option<i64>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub legacy_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Appointment {
    const NAME: &'static str = "appointments";
    type Id = AppointmentId;
    fn id(&self) -> AppointmentId {
        self.id
    }
}
