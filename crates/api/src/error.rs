use clinicdesk_domain::DomainError;
use clinicdesk_store::StoreError;
use serde::Serialize;

/// Errors of the app API. Every front door shows `message` as it is; `code` is stable for
/// programs (the UI receives `{code, message}`, the CLI prints the message on stderr).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    // Transparent: the message is the domain error's, printed once (not again as its source).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{0}")]
    Denied(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("this account is locked after repeated failed sign-ins; try again after {0}")]
    Locked(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => {
                ApiError::NotFound(format!("{entity} {id} not found"))
            }
            StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Store(other),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_input",
            ApiError::Denied(_) => "permission_denied",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Locked(_) => "account_locked",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Store(StoreError::WrongKey { .. }) => "wrong_key",
            ApiError::Store(StoreError::MissingKey { .. }) => "missing_key",
            ApiError::Store(StoreError::Constraint(_)) => "invalid_input",
            ApiError::Store(StoreError::KeySetting(_)) => "malformed_key",
            ApiError::Store(StoreError::DiskFull) => "disk_full",
            ApiError::Store(StoreError::DatabaseMissing(_)) => "database_missing",
            ApiError::Store(StoreError::Recovery(_)) => "recovery_key",
            ApiError::Store(_) => "storage_error",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
        }
    }
}

/// What a front door hands to its user for any error.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, specta::Type)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;
