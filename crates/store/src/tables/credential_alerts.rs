use chrono::NaiveDate;
use clinicdesk_domain::{CredentialAlertId, CredentialId, StaffId, UserId};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// An expiry alert: one per credential, threshold (days before expiry) and expiry date (unique
/// index), raised by the credential evaluator on the clinic's local `alert_date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CredentialAlert {
    pub id: CredentialAlertId,
    pub credential_id: CredentialId,
    pub staff_id: StaffId,
    pub threshold_days: i64,
    pub expiry_date: NaiveDate,
    pub alert_date: NaiveDate,
    pub message: String,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for CredentialAlert {
    const NAME: &'static str = "ops_credential_alerts";
    type Id = CredentialAlertId;
    fn id(&self) -> CredentialAlertId {
        self.id
    }
}
