use chrono::NaiveDate;
use clinicdesk_domain::{
    AppointmentId, AppointmentTypeId, ClinicId, PatientId, RoomId, StaffId, WaitlistEntryId,
    WaitlistStatus,
};
use serde::{Deserialize, Serialize};

use crate::table::{json_text, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WaitlistEntry {
    pub id: WaitlistEntryId,
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    /// Wanted providers; empty = any provider of the clinic.
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<StaffId>)]
    pub provider_ids: Vec<StaffId>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub duration_minutes: i64,
    pub earliest_date: NaiveDate,
    pub latest_date: NaiveDate,
    /// ISO weekday numbers 1 (Monday) … 7 (Sunday); empty = any day.
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<u32>)]
    pub preferred_days: Vec<u32>,
    pub preferred_time_start: Option<String>,
    pub preferred_time_end: Option<String>,
    /// 1 = most urgent … 5.
    pub priority: i64,
    pub status: WaitlistStatus,
    pub notes: Option<String>,
    pub booked_appointment_id: Option<AppointmentId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for WaitlistEntry {
    const NAME: &'static str = "waitlist";
    type Id = WaitlistEntryId;
    fn id(&self) -> WaitlistEntryId {
        self.id
    }
}

/// An offer of a freed slot to a waitlist entry; it holds the slot until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WaitlistOffer {
    pub id: String,
    pub clinic_id: ClinicId,
    pub waitlist_id: WaitlistEntryId,
    pub provider_id: StaffId,
    pub room_id: Option<RoomId>,
    pub start_at: i64,
    pub end_at: i64,
    pub expires_at: i64,
    pub outcome: String,
    pub decided_at: Option<i64>,
    pub appointment_id: Option<AppointmentId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for WaitlistOffer {
    const NAME: &'static str = "waitlist_offers";
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
}
