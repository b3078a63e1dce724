use clinicdesk_domain::{
    CredentialId, CredentialVerificationId, UserId, VerificationMethod, VerificationStatus,
};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// One check of a credential with its issuer: who, how, the result and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CredentialVerification {
    pub id: CredentialVerificationId,
    pub credential_id: CredentialId,
    pub verified_by: Option<UserId>,
    pub method: VerificationMethod,
    /// verified, failed or pending (never not_verified).
    pub result: VerificationStatus,
    pub verified_at: i64,
    pub reference: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for CredentialVerification {
    const NAME: &'static str = "ops_credential_verifications";
    type Id = CredentialVerificationId;
    fn id(&self) -> CredentialVerificationId {
        self.id
    }
}
