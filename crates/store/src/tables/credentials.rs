use chrono::NaiveDate;
use clinicdesk_domain::{
    CredentialId, CredentialStatus, CredentialTypeId, StaffId, UserId, VerificationStatus,
};
use serde::{Deserialize, Serialize};

use crate::table::Table;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Credential {
    pub id: CredentialId,
    pub staff_id: StaffId,
    pub credential_type_id: CredentialTypeId,
    pub credential_number: Option<String>,
    pub issuing_authority: Option<String>,
    pub issuing_state: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub status: CredentialStatus,
    pub verification_status: VerificationStatus,
    pub verified_at: Option<i64>,
    pub verified_by: Option<UserId>,
    pub renewed_at: Option<i64>,
    pub document_ref: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Credential {
    const NAME: &'static str = "ops_credentials";
    type Id = CredentialId;
    fn id(&self) -> CredentialId {
        self.id
    }
}
