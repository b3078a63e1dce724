//! The one rule of credential validity: "is this credential valid on date D". The booking
//! rules (a provider must hold the required credentials on the appointment's local date), the
//! shift checks, the credential evaluator and dashboard, the KPI compliance metric and the
//! FHIR export all ask it here; none keeps a copy.

use chrono::NaiveDate;

use crate::{AdverseActionType, CredentialStatus};

/// What the rule needs to know of an adverse action against the credential. Implemented by
/// the store's row and by any projection a caller reads.
pub trait AdverseFacts {
    fn action_type(&self) -> AdverseActionType;
    fn start_date(&self) -> NaiveDate;
    /// The last day in force (inclusive); `None` while open-ended.
    fn end_date(&self) -> Option<NaiveDate>;
}

/// An adverse action's facts as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdverseSpan {
    pub action_type: AdverseActionType,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl AdverseFacts for AdverseSpan {
    fn action_type(&self) -> AdverseActionType {
        self.action_type
    }
    fn start_date(&self) -> NaiveDate {
        self.start
    }
    fn end_date(&self) -> Option<NaiveDate> {
        self.end
    }
}

/// The revocation in force on `d`: a revocation is final from its start date on (an end date
/// on it does not lift it).
pub fn revoked_on<A: AdverseFacts>(actions: &[A], d: NaiveDate) -> Option<&A> {
    actions
        .iter()
        .find(|a| a.action_type() == AdverseActionType::Revocation && a.start_date() <= d)
}

/// The suspension in force on `d` (start and end dates included).
pub fn suspended_on<A: AdverseFacts>(actions: &[A], d: NaiveDate) -> Option<&A> {
    actions.iter().find(|a| {
        a.action_type() == AdverseActionType::Suspension
            && a.start_date() <= d
            && a.end_date().is_none_or(|e| d <= e)
    })
}

/// Whether any suspension is on record (a `suspended` status without one was set by hand and
/// holds until changed by hand).
pub fn has_suspensions<A: AdverseFacts>(actions: &[A]) -> bool {
    actions
        .iter()
        .any(|a| a.action_type() == AdverseActionType::Suspension)
}

/// A credential is valid on `d` when it is neither revoked nor expired, `d` is not after its
/// expiry date (the expiry date is its last valid day), and no revocation or suspension is in
/// force on `d`. A credential suspended by an adverse action is valid again on the days after
/// the suspension ends; one suspended by hand (no suspension on record) is not valid on any
/// day. Probation and restriction do not affect validity.
pub fn credential_valid_on<A: AdverseFacts>(
    status: CredentialStatus,
    expiry: Option<NaiveDate>,
    actions: &[A],
    d: NaiveDate,
) -> bool {
    use CredentialStatus::*;
    match status {
        Revoked | Expired => false,
        Suspended if !has_suspensions(actions) => false,
        Active | PendingRenewal | Suspended => {
            expiry.is_none_or(|e| d <= e)
                && revoked_on(actions, d).is_none()
                && suspended_on(actions, d).is_none()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Duration::days(n)
    }

    fn span(t: AdverseActionType, s: i64, e: Option<i64>) -> AdverseSpan {
        AdverseSpan {
            action_type: t,
            start: day(s),
            end: e.map(day),
        }
    }

    #[test]
    fn expiry_date_is_the_last_valid_day() {
        let none: [AdverseSpan; 0] = [];
        assert!(credential_valid_on(
            CredentialStatus::Active,
            Some(day(10)),
            &none,
            day(10)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Active,
            Some(day(10)),
            &none,
            day(11)
        ));
        assert!(credential_valid_on(
            CredentialStatus::PendingRenewal,
            None,
            &none,
            day(999)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Expired,
            None,
            &none,
            day(0)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Revoked,
            None,
            &none,
            day(0)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Suspended,
            None,
            &none,
            day(0)
        ));
    }

    #[test]
    fn adverse_actions_in_force() {
        use AdverseActionType::*;
        let acts = [span(Suspension, 5, Some(7)), span(Probation, 0, None)];
        assert!(credential_valid_on(
            CredentialStatus::Active,
            None,
            &acts,
            day(4)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Active,
            None,
            &acts,
            day(5)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Suspended,
            None,
            &acts,
            day(7)
        ));
        assert!(credential_valid_on(
            CredentialStatus::Suspended,
            None,
            &acts,
            day(8)
        ));
        let revoked = [span(Revocation, 3, Some(4))];
        assert!(credential_valid_on(
            CredentialStatus::Active,
            None,
            &revoked,
            day(2)
        ));
        assert!(!credential_valid_on(
            CredentialStatus::Active,
            None,
            &revoked,
            day(30)
        ));
    }

    fn kind() -> impl Strategy<Value = AdverseActionType> {
        prop_oneof![
            Just(AdverseActionType::Suspension),
            Just(AdverseActionType::Revocation),
            Just(AdverseActionType::Probation),
            Just(AdverseActionType::Restriction),
        ]
    }

    proptest! {
        /// Adding an adverse action never makes a credential valid on a day it was not, and a
        /// revocation's effect never ends.
        #[test]
        fn actions_only_take_validity_away(
            expiry in proptest::option::of(0i64..60),
            acts in proptest::collection::vec((kind(), 0i64..60, proptest::option::of(0i64..30)), 0..4),
            extra in (kind(), 0i64..60, proptest::option::of(0i64..30)),
            d in 0i64..90,
        ) {
            let mk = |(t, s, len): (AdverseActionType, i64, Option<i64>)| span(t, s, len.map(|l| s + l));
            let before: Vec<AdverseSpan> = acts.into_iter().map(mk).collect();
            let mut after = before.clone();
            after.push(mk(extra));
            for status in [CredentialStatus::Active, CredentialStatus::PendingRenewal] {
                let was = credential_valid_on(status, expiry.map(day), &before, day(d));
                let now = credential_valid_on(status, expiry.map(day), &after, day(d));
                prop_assert!(was || !now);
                if let Some(r) = revoked_on(&after, day(d)) {
                    prop_assert!(!credential_valid_on(status, expiry.map(day), &after, r.start.max(day(d)) + chrono::Duration::days(365)));
                }
            }
        }
    }
}
