use chrono::NaiveDate;
use clinicdesk_domain::{AdverseActionId, AdverseActionType, CredentialId, StaffId, UserId};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// A suspension, revocation, probation or restriction of a credential, for a period
/// (`end_date` inclusive; open-ended when absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AdverseAction {
    pub id: AdverseActionId,
    pub credential_id: CredentialId,
    pub staff_id: StaffId,
    pub action_type: AdverseActionType,
    pub reason: String,
    pub authority: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub reported_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for AdverseAction {
    const NAME: &'static str = "ops_adverse_actions";
    type Id = AdverseActionId;
    fn id(&self) -> AdverseActionId {
        self.id
    }
}

impl AdverseAction {
    /// In force on `date` (start and end dates included).
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start_date <= date && self.end_date.is_none_or(|e| date <= e)
    }
}

impl clinicdesk_domain::AdverseFacts for AdverseAction {
    fn action_type(&self) -> AdverseActionType {
        self.action_type
    }
    fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    fn end_date(&self) -> Option<NaiveDate> {
        self.end_date
    }
}
