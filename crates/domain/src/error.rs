//! The one error type of the domain.

/// An error a front-desk user can read: which field is wrong and why, or which status change is
/// not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value was refused. `field` names the input, `message` says what is wrong in plain English.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A status change that the workflow does not allow.
    #[error("cannot change {entity} from {from} to {to}")]
    IllegalTransition {
        entity: &'static str,
        from: &'static str,
        to: &'static str,
    },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_message_reads_plainly() {
        let e = DomainError::invalid("name", "must not be empty");
        assert_eq!(e.to_string(), "name: must not be empty");
        assert_eq!(
            e,
            DomainError::Invalid {
                field: "name",
                message: "must not be empty".into()
            }
        );
    }

    #[test]
    fn illegal_transition_message() {
        let e = DomainError::IllegalTransition {
            entity: "appointment",
            from: "completed",
            to: "pending",
        };
        assert_eq!(
            e.to_string(),
            "cannot change appointment from completed to pending"
        );
    }
}
