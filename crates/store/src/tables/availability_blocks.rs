use clinicdesk_domain::{AvailabilityBlockId, ClinicId, StaffId, UserId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

/// Provider-specific (provider_id set) or clinic-wide availability: `is_available` true adds
/// bookable time, false blocks it (holidays, weekends, meetings) with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AvailabilityBlock {
    pub id: AvailabilityBlockId,
    pub clinic_id: ClinicId,
    pub provider_id: Option<StaffId>,
    pub start_at: i64,
    pub end_at: i64,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_available: bool,
    pub block_reason: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for AvailabilityBlock {
    const NAME: &'static str = "availability_blocks";
    type Id = AvailabilityBlockId;
    fn id(&self) -> AvailabilityBlockId {
        self.id
    }
}
