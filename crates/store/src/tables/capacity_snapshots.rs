use chrono::NaiveDate;
use clinicdesk_domain::{CapacitySnapshotId, CapacityStatus, ClinicId, ShiftType, UserId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, json_text, Table};

/// A point-in-time capacity measurement (seed 000). Immutable: the table refuses UPDATE and
/// DELETE (trigger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CapacitySnapshot {
    pub id: CapacitySnapshotId,
    pub clinic_id: ClinicId,
    pub snapshot_timestamp: i64,
    /// The clinic's local date and hour of `snapshot_timestamp`.
    pub snapshot_date: NaiveDate,
    pub snapshot_hour: i64,
    pub total_staff_available: i64,
    pub total_staff_scheduled: i64,
    pub total_staff_on_duty: i64,
    pub staff_utilization_percent: Option<f64>,
    pub total_rooms: i64,
    pub rooms_available: i64,
    pub rooms_in_use: i64,
    pub rooms_maintenance: i64,
    pub room_utilization_percent: Option<f64>,
    pub total_appointment_slots: i64,
    pub slots_booked: i64,
    pub slots_available: i64,
    pub active_patients_in_clinic: i64,
    pub waiting_patients: i64,
    pub critical_equipment_available: Option<i64>,
    pub critical_equipment_in_use: Option<i64>,
    pub average_wait_time_minutes: Option<f64>,
    pub average_visit_duration_minutes: Option<f64>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_at_capacity: bool,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_overcapacity: bool,
    pub capacity_status: CapacityStatus,
    pub service_line: Option<String>,
    pub shift_type: Option<ShiftType>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = serde_json::Value)]
    pub dimensions: serde_json::Value,
    pub captured_by: Option<UserId>,
    pub notes: Option<String>,
    pub created_at: i64,
}

impl Table for CapacitySnapshot {
    const NAME: &'static str = "ops_capacity_snapshots";
    type Id = CapacitySnapshotId;
    fn id(&self) -> CapacitySnapshotId {
        self.id
    }
}
