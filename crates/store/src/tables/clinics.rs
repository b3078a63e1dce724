use clinicdesk_domain::{ClinicId, DisplayLocale, HourCycle};
use serde::{Deserialize, Serialize};

use crate::table::{json_text, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Clinic {
    pub id: ClinicId,
    pub name: String,
    pub code: String,
    pub timezone: String,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<i64>)]
    pub reminder_offsets_minutes: Vec<i64>,
    pub idle_lock_minutes: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// The clinic's display locale (None: the one its country implies; see
    /// `clinicdesk_domain::DisplayFormat::resolve`).
    pub display_locale: Option<DisplayLocale>,
    /// The clinic's hour cycle (None: the locale's own).
    pub hour_cycle: Option<HourCycle>,
}

impl Table for Clinic {
    const NAME: &'static str = "clinics";
    type Id = ClinicId;
    fn id(&self) -> ClinicId {
        self.id
    }
}
