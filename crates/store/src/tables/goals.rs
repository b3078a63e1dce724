use clinicdesk_domain::{ClinicId, GoalTemplateId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

/// A goal on a KPI (seed 003): system-wide (`clinic_id` NULL, `is_system`) or a clinic's own.
/// `metric_key`, `comparator` (lt, lte, gt, gte) and `period` (day, week, month) are checked
/// by the schema and parsed by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GoalTemplate {
    pub id: GoalTemplateId,
    pub clinic_id: Option<ClinicId>,
    pub name: String,
    pub description: Option<String>,
    pub metric_key: String,
    pub comparator: String,
    pub target_value: f64,
    pub period: String,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_system: bool,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for GoalTemplate {
    const NAME: &'static str = "goal_templates";
    type Id = GoalTemplateId;
    fn id(&self) -> GoalTemplateId {
        self.id
    }
}
