use clinicdesk_domain::{
    AppointmentTypeId, ClinicId, PatientId, RecurrenceSeriesId, RoomId, StaffId,
};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// A recurring series: an RFC 5545 rule expanded on the clinic's wall clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Series {
    pub id: RecurrenceSeriesId,
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub provider_id: StaffId,
    pub room_id: Option<RoomId>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub rrule: String,
    pub timezone: String,
    pub first_local_start: String,
    pub duration_minutes: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Series {
    const NAME: &'static str = "appointment_series";
    type Id = RecurrenceSeriesId;
    fn id(&self) -> RecurrenceSeriesId {
        self.id
    }
}
