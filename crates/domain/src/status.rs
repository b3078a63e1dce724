//! Status enums and their allowed transitions.
//!
//! Each transition table is an explicit, exhaustive `match` on the current state, so adding a state
//! forces a decision about where it may go.

use crate::error::DomainError;

// ---------------------------------------------------------------------------------------------
// Appointments
// ---------------------------------------------------------------------------------------------

string_enum! {
    /// Appointment workflow: pending → confirmed → reminded → checked_in → in_progress → completed,
    /// with no_show, cancelled and rescheduled as exits.
    pub enum AppointmentStatus("status", "appointment status") {
        Pending => "pending",
        Confirmed => "confirmed",
        Reminded => "reminded",
        CheckedIn => "checked_in",
        InProgress => "in_progress",
        Completed => "completed",
        NoShow => "no_show",
        Cancelled => "cancelled",
        Rescheduled => "rescheduled",
    }
}

impl AppointmentStatus {
    /// Whether the normal workflow allows moving from `self` to `to`.
    pub fn can_transition_to(self, to: Self) -> bool {
        use AppointmentStatus::*;
        match self {
            Pending => matches!(
                to,
                Confirmed | Reminded | CheckedIn | NoShow | Cancelled | Rescheduled
            ),
            Confirmed => matches!(to, Reminded | CheckedIn | NoShow | Cancelled | Rescheduled),
            Reminded => matches!(to, CheckedIn | NoShow | Cancelled | Rescheduled),
            CheckedIn => matches!(to, InProgress | Cancelled),
            InProgress => matches!(to, Completed),
            Completed => false,
            NoShow => false,
            Cancelled => false,
            Rescheduled => false,
        }
    }

    /// No further normal moves are possible.
    pub fn is_final(self) -> bool {
        use AppointmentStatus::*;
        match self {
            Pending | Confirmed | Reminded | CheckedIn | InProgress => false,
            Completed | NoShow | Cancelled | Rescheduled => true,
        }
    }

    /// The appointment occupies its slot (provider, room, patient) — everything except cancelled,
    /// rescheduled and no-show.
    pub fn is_active(self) -> bool {
        use AppointmentStatus::*;
        match self {
            Pending | Confirmed | Reminded | CheckedIn | InProgress | Completed => true,
            NoShow | Cancelled | Rescheduled => false,
        }
    }

    /// The appointment still needs its provider: booked and not yet started (pending,
    /// confirmed, reminded, checked in).
    pub fn awaits_visit(self) -> bool {
        use AppointmentStatus::*;
        match self {
            Pending | Confirmed | Reminded | CheckedIn => true,
            InProgress | Completed | NoShow | Cancelled | Rescheduled => false,
        }
    }

    /// The patient has not arrived yet (pending, confirmed, reminded): the appointment can
    /// still be moved, reminded or flagged for a closure.
    pub fn is_upcoming(self) -> bool {
        use AppointmentStatus::*;
        match self {
            Pending | Confirmed | Reminded => true,
            CheckedIn | InProgress | Completed | NoShow | Cancelled | Rescheduled => false,
        }
    }

    /// Manager corrections out of a final state (undoing a mistake): no_show → checked_in,
    /// cancelled → confirmed, completed → in_progress. These are not allowed by `transition`.
    pub fn correction_allowed(self, to: Self) -> bool {
        use AppointmentStatus::*;
        match self {
            NoShow => matches!(to, CheckedIn),
            Cancelled => matches!(to, Confirmed),
            Completed => matches!(to, InProgress),
            Pending | Confirmed | Reminded | CheckedIn | InProgress | Rescheduled => false,
        }
    }

    /// Applies a manager correction (see [`Self::correction_allowed`]).
    pub fn correct(self, to: Self) -> Result<Self, DomainError> {
        if self.correction_allowed(to) {
            Ok(to)
        } else {
            Err(DomainError::IllegalTransition {
                entity: "appointment",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}
impl_transition!(AppointmentStatus, "appointment");

string_enum! {
    /// What the front desk can do with an appointment, in the order the panel offers them: the
    /// first legal one is the primary next step. All but `check_out` (which marks a completed
    /// visit) and `move` (a new appointment; this one becomes rescheduled) are
    /// `set_appointment_status` actions.
    pub enum AppointmentAction("action", "appointment action") {
        Confirm => "confirm",
        CheckIn => "check_in",
        Start => "start",
        Complete => "complete",
        CheckOut => "check_out",
        Remind => "remind",
        NoShow => "no_show",
        Move => "move",
        Cancel => "cancel",
    }
}

impl AppointmentAction {
    /// The status the action moves the appointment to (`None`: checking out keeps it completed).
    pub fn target(self) -> Option<AppointmentStatus> {
        use AppointmentAction::*;
        match self {
            Confirm => Some(AppointmentStatus::Confirmed),
            CheckIn => Some(AppointmentStatus::CheckedIn),
            Start => Some(AppointmentStatus::InProgress),
            Complete => Some(AppointmentStatus::Completed),
            CheckOut => None,
            Remind => Some(AppointmentStatus::Reminded),
            NoShow => Some(AppointmentStatus::NoShow),
            Move => Some(AppointmentStatus::Rescheduled),
            Cancel => Some(AppointmentStatus::Cancelled),
        }
    }

    /// Whether the action is a legal next step for an appointment in `status`: its move is in
    /// the transition table, or (check out) the visit is completed and not checked out yet.
    /// Rules that depend on more than the status (a no-show only after the start, the booking
    /// rules of a move) are the API's to check.
    pub fn allowed(self, status: AppointmentStatus, checked_out: bool) -> bool {
        match self.target() {
            Some(to) => status.can_transition_to(to),
            None => status == AppointmentStatus::Completed && !checked_out,
        }
    }

    /// The legal next steps for an appointment in `status`, the primary one first.
    pub fn next_steps(status: AppointmentStatus, checked_out: bool) -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|a| a.allowed(status, checked_out))
            .collect()
    }
}

/// One row of the next-steps table: what may be done with an appointment in `status`
/// (`checked_out`: a completed visit already checked out), the primary step first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NextSteps {
    pub status: AppointmentStatus,
    pub checked_out: bool,
    pub actions: Vec<AppointmentAction>,
}

/// The next-steps table for every status, checked out or not: what the UI offers (exported to
/// it through the generated bindings as `APPOINTMENT_NEXT_STEPS`).
pub fn appointment_next_steps() -> Vec<NextSteps> {
    AppointmentStatus::ALL
        .iter()
        .flat_map(|&status| {
            [false, true].map(|checked_out| NextSteps {
                status,
                checked_out,
                actions: AppointmentAction::next_steps(status, checked_out),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

string_enum! {
    /// Case workflow.
    pub enum CaseStatus("status", "case status") {
        New => "new",
        Active => "active",
        OnHold => "on_hold",
        PendingApproval => "pending_approval",
        Completed => "completed",
        Cancelled => "cancelled",
        Archived => "archived",
    }
}

impl CaseStatus {
    /// The case is still open (new, active, on hold, pending approval): it counts for
    /// authorization warnings and can take appointments.
    pub fn is_open(self) -> bool {
        use CaseStatus::*;
        match self {
            New | Active | OnHold | PendingApproval => true,
            Completed | Cancelled | Archived => false,
        }
    }
}

impl CaseStatus {
    /// Whether the workflow allows moving from `self` to `to`.
    pub fn can_transition_to(self, to: Self) -> bool {
        use CaseStatus::*;
        match self {
            New => matches!(to, Active | PendingApproval | Cancelled),
            PendingApproval => matches!(to, Active | Cancelled),
            Active => matches!(to, OnHold | Completed | Cancelled),
            OnHold => matches!(to, Active | Cancelled),
            Completed => matches!(to, Archived | Active),
            Cancelled => matches!(to, Archived),
            Archived => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use CaseStatus::*;
        match self {
            New | Active | OnHold | PendingApproval | Completed | Cancelled => false,
            Archived => true,
        }
    }
}
impl_transition!(CaseStatus, "case");

string_enum! {
    /// Case priority, lowest to highest.
    pub enum CasePriority("priority", "case priority") {
        Low => "low",
        Medium => "medium",
        High => "high",
        Urgent => "urgent",
        Critical => "critical",
    }
}

impl CasePriority {
    /// Any change to a different priority is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use CasePriority::*;
        match self {
            Low | Medium | High | Urgent | Critical => self != to,
        }
    }

    /// Priorities are never final.
    pub fn is_final(self) -> bool {
        false
    }

    /// Ordering rank: low = 0 … critical = 4.
    pub fn rank(self) -> u8 {
        use CasePriority::*;
        match self {
            Low => 0,
            Medium => 1,
            High => 2,
            Urgent => 3,
            Critical => 4,
        }
    }
}
impl_transition!(CasePriority, "case priority");

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

string_enum! {
    /// Status of a staff credential (licence, certification).
    pub enum CredentialStatus("status", "credential status") {
        Active => "active",
        Expired => "expired",
        Suspended => "suspended",
        Revoked => "revoked",
        PendingRenewal => "pending_renewal",
    }
}

impl CredentialStatus {
    /// Whether moving from `self` to `to` is allowed. A suspension may start while a renewal
    /// is pending, and a credential renewed while a suspension is in force goes from expired
    /// straight to suspended.
    pub fn can_transition_to(self, to: Self) -> bool {
        use CredentialStatus::*;
        match self {
            Active => matches!(to, Expired | Suspended | Revoked | PendingRenewal),
            PendingRenewal => matches!(to, Active | Expired | Suspended | Revoked),
            Expired => matches!(to, Active | PendingRenewal | Suspended | Revoked),
            Suspended => matches!(to, Active | Revoked | Expired),
            Revoked => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use CredentialStatus::*;
        match self {
            Active | Expired | Suspended | PendingRenewal => false,
            Revoked => true,
        }
    }
}
impl_transition!(CredentialStatus, "credential");

string_enum! {
    /// Whether a credential has been checked with the issuing authority.
    pub enum VerificationStatus("verification_status", "verification status") {
        NotVerified => "not_verified",
        Pending => "pending",
        Verified => "verified",
        Failed => "failed",
    }
}

impl VerificationStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use VerificationStatus::*;
        match self {
            NotVerified => matches!(to, Pending | Verified | Failed),
            Pending => matches!(to, Verified | Failed),
            Verified => matches!(to, Pending | Failed),
            Failed => matches!(to, Pending | Verified),
        }
    }

    /// Verification can always be redone, so no state is final.
    pub fn is_final(self) -> bool {
        use VerificationStatus::*;
        match self {
            NotVerified | Pending | Verified | Failed => false,
        }
    }
}
impl_transition!(VerificationStatus, "credential verification");

// ---------------------------------------------------------------------------------------------
// Staffing
// ---------------------------------------------------------------------------------------------

string_enum! {
    /// A staff member's assignment to a shift on a date.
    pub enum ScheduleStatus("status", "shift assignment status") {
        Scheduled => "scheduled",
        OnDuty => "on_duty",
        Completed => "completed",
        Absent => "absent",
        Cancelled => "cancelled",
    }
}

impl ScheduleStatus {
    /// The assignment still holds its staff member (scheduled or on duty).
    pub fn is_assigned(self) -> bool {
        use ScheduleStatus::*;
        match self {
            Scheduled | OnDuty => true,
            Completed | Absent | Cancelled => false,
        }
    }

    /// The assignment was or will be worked (scheduled, on duty, completed): what utilisation
    /// and staffing counts measure.
    pub fn is_worked(self) -> bool {
        use ScheduleStatus::*;
        match self {
            Scheduled | OnDuty | Completed => true,
            Absent | Cancelled => false,
        }
    }
}

impl ScheduleStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use ScheduleStatus::*;
        match self {
            Scheduled => matches!(to, OnDuty | Absent | Cancelled),
            OnDuty => matches!(to, Completed),
            Completed => false,
            Absent => false,
            Cancelled => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use ScheduleStatus::*;
        match self {
            Scheduled | OnDuty => false,
            Completed | Absent | Cancelled => true,
        }
    }

    /// Holds the staff member's time (counts for overlaps, coverage and credentials).
    pub fn is_active(self) -> bool {
        use ScheduleStatus::*;
        match self {
            Scheduled | OnDuty => true,
            Completed | Absent | Cancelled => false,
        }
    }
}
impl_transition!(ScheduleStatus, "shift assignment");

string_enum! {
    /// A request to swap shifts between staff.
    pub enum SwapStatus("status", "shift swap status") {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
}

impl SwapStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use SwapStatus::*;
        match self {
            Requested => matches!(to, Approved | Rejected | Cancelled),
            Approved => false,
            Rejected => false,
            Cancelled => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use SwapStatus::*;
        match self {
            Requested => false,
            Approved | Rejected | Cancelled => true,
        }
    }
}
impl_transition!(SwapStatus, "shift swap");

string_enum! {
    /// A time-off request.
    pub enum TimeOffStatus("status", "time off status") {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
}

impl TimeOffStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use TimeOffStatus::*;
        match self {
            Requested => matches!(to, Approved | Rejected | Cancelled),
            Approved => matches!(to, Cancelled),
            Rejected => false,
            Cancelled => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use TimeOffStatus::*;
        match self {
            Requested | Approved => false,
            Rejected | Cancelled => true,
        }
    }
}
impl_transition!(TimeOffStatus, "time off request");

string_enum! {
    /// An open shift that needs someone.
    pub enum CoverageNeedStatus("status", "coverage need status") {
        Open => "open",
        Filled => "filled",
        Cancelled => "cancelled",
    }
}

impl CoverageNeedStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use CoverageNeedStatus::*;
        match self {
            Open => matches!(to, Filled | Cancelled),
            Filled => matches!(to, Open),
            Cancelled => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use CoverageNeedStatus::*;
        match self {
            Open | Filled => false,
            Cancelled => true,
        }
    }
}
impl_transition!(CoverageNeedStatus, "coverage need");

// ---------------------------------------------------------------------------------------------
// Waitlist and reminders
// ---------------------------------------------------------------------------------------------

string_enum! {
    /// A patient waiting for an earlier or suitable slot.
    pub enum WaitlistStatus("status", "waitlist status") {
        Waiting => "waiting",
        Offered => "offered",
        Booked => "booked",
        Expired => "expired",
        Removed => "removed",
    }
}

impl WaitlistStatus {
    /// The entry is still on the list (waiting, or holding an offer).
    pub fn is_listed(self) -> bool {
        use WaitlistStatus::*;
        match self {
            Waiting | Offered => true,
            Booked | Expired | Removed => false,
        }
    }
}

impl WaitlistStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use WaitlistStatus::*;
        match self {
            Waiting => matches!(to, Offered | Removed | Expired),
            Offered => matches!(to, Booked | Waiting | Removed | Expired),
            Booked => false,
            Expired => false,
            Removed => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use WaitlistStatus::*;
        match self {
            Waiting | Offered => false,
            Booked | Expired | Removed => true,
        }
    }
}
impl_transition!(WaitlistStatus, "waitlist entry");

string_enum! {
    /// An appointment reminder.
    pub enum ReminderStatus("status", "reminder status") {
        Pending => "pending",
        Sent => "sent",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

impl ReminderStatus {
    /// Not sent yet (pending, or failed and to be retried): cancelled with its appointment.
    pub fn is_unsent(self) -> bool {
        use ReminderStatus::*;
        match self {
            Pending | Failed => true,
            Sent | Cancelled => false,
        }
    }
}

impl ReminderStatus {
    /// Whether moving from `self` to `to` is allowed.
    pub fn can_transition_to(self, to: Self) -> bool {
        use ReminderStatus::*;
        match self {
            Pending => matches!(to, Sent | Failed | Cancelled),
            Failed => matches!(to, Pending | Cancelled),
            Sent => false,
            Cancelled => false,
        }
    }

    /// No further moves are possible.
    pub fn is_final(self) -> bool {
        use ReminderStatus::*;
        match self {
            Pending | Failed => false,
            Sent | Cancelled => true,
        }
    }
}
impl_transition!(ReminderStatus, "reminder");

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every (from, to) pair of ALL × ALL against the explicit `allowed` table, that refusals
    /// are `IllegalTransition` naming the entity and both states, that `is_final` equals `finals`,
    /// and the parse/as_str/Display/serde round trip of every variant.
    macro_rules! check_enum {
        ($ty:ident, $entity:literal, allowed: [$(($f:ident, $t:ident)),* $(,)?], finals: [$($fin:ident),* $(,)?]) => {{
            let allowed: &[($ty, $ty)] = &[$(($ty::$f, $ty::$t)),*];
            let finals: &[$ty] = &[$($ty::$fin),*];
            for &(f, t) in allowed {
                assert!($ty::ALL.contains(&f) && $ty::ALL.contains(&t));
            }
            let mut checked = 0;
            for &from in $ty::ALL {
                for &to in $ty::ALL {
                    let expected = allowed.contains(&(from, to));
                    assert_eq!(
                        from.can_transition_to(to),
                        expected,
                        "{} {} -> {}",
                        $entity,
                        from,
                        to
                    );
                    match from.transition(to) {
                        Ok(got) => {
                            assert!(expected, "{from} -> {to} should be refused");
                            assert_eq!(got, to);
                        }
                        Err(e) => {
                            assert!(!expected, "{from} -> {to} should be allowed");
                            assert_eq!(
                                e,
                                DomainError::IllegalTransition {
                                    entity: $entity,
                                    from: from.as_str(),
                                    to: to.as_str()
                                }
                            );
                            assert_eq!(
                                e.to_string(),
                                format!("cannot change {} from {} to {}", $entity, from, to)
                            );
                        }
                    }
                    checked += 1;
                }
                assert!(!from.can_transition_to(from), "same -> same must be refused");
                assert_eq!(from.is_final(), finals.contains(&from), "is_final({from})");
            }
            assert_eq!(checked, $ty::ALL.len() * $ty::ALL.len());
            // round trips
            for &v in $ty::ALL {
                assert_eq!($ty::parse(v.as_str()).unwrap(), v);
                assert_eq!(v.to_string(), v.as_str());
                assert_eq!(v.as_str().parse::<$ty>().unwrap(), v);
                assert_eq!($ty::parse(&format!("  {}  ", v.as_str().to_uppercase())).unwrap(), v);
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", v.as_str()));
                assert_eq!(serde_json::from_str::<$ty>(&json).unwrap(), v);
            }
            let mut strs: Vec<_> = $ty::ALL.iter().map(|v| v.as_str()).collect();
            strs.sort();
            strs.dedup();
            assert_eq!(strs.len(), $ty::ALL.len(), "distinct strings");
            match $ty::parse("bogus") {
                Err(DomainError::Invalid { message, .. }) => {
                    assert!(message.starts_with("'bogus' is not a valid"), "{message}");
                    for &v in $ty::ALL {
                        assert!(message.contains(v.as_str()), "{message} lists {v}");
                    }
                }
                other => panic!("expected Invalid, got {other:?}"),
            }
            assert!($ty::parse("").is_err());
            assert!(serde_json::from_str::<$ty>("\"bogus\"").is_err());
        }};
    }

    #[test]
    fn appointment_status_table() {
        check_enum!(AppointmentStatus, "appointment",
            allowed: [
                (Pending, Confirmed), (Pending, Reminded), (Pending, CheckedIn),
                (Pending, NoShow), (Pending, Cancelled), (Pending, Rescheduled),
                (Confirmed, Reminded), (Confirmed, CheckedIn),
                (Confirmed, NoShow), (Confirmed, Cancelled), (Confirmed, Rescheduled),
                (Reminded, CheckedIn), (Reminded, NoShow), (Reminded, Cancelled), (Reminded, Rescheduled),
                (CheckedIn, InProgress), (CheckedIn, Cancelled),
                (InProgress, Completed),
            ],
            finals: [Completed, NoShow, Cancelled, Rescheduled]);
        assert_eq!(AppointmentStatus::ALL.len(), 9);
    }

    #[test]
    fn appointment_active_and_corrections() {
        use AppointmentStatus::*;
        let active = [
            Pending, Confirmed, Reminded, CheckedIn, InProgress, Completed,
        ];
        for &s in AppointmentStatus::ALL {
            assert_eq!(s.is_active(), active.contains(&s), "{s}");
        }
        let corrections = [
            (NoShow, CheckedIn),
            (Cancelled, Confirmed),
            (Completed, InProgress),
        ];
        for &from in AppointmentStatus::ALL {
            for &to in AppointmentStatus::ALL {
                let expected = corrections.contains(&(from, to));
                assert_eq!(from.correction_allowed(to), expected, "{from} -> {to}");
                match from.correct(to) {
                    Ok(got) => {
                        assert!(expected);
                        assert_eq!(got, to);
                    }
                    Err(e) => {
                        assert!(!expected);
                        assert!(matches!(
                            e,
                            DomainError::IllegalTransition {
                                entity: "appointment",
                                ..
                            }
                        ));
                    }
                }
                // corrections are never plain transitions
                if expected {
                    assert!(from.transition(to).is_err());
                }
            }
        }
    }

    #[test]
    fn case_status_table() {
        check_enum!(CaseStatus, "case",
            allowed: [
                (New, Active), (New, PendingApproval), (New, Cancelled),
                (PendingApproval, Active), (PendingApproval, Cancelled),
                (Active, OnHold), (Active, Completed), (Active, Cancelled),
                (OnHold, Active), (OnHold, Cancelled),
                (Completed, Archived), (Completed, Active),
                (Cancelled, Archived),
            ],
            finals: [Archived]);
        assert_eq!(CaseStatus::ALL.len(), 7);
    }

    #[test]
    fn case_priority_table() {
        check_enum!(CasePriority, "case priority",
            allowed: [
                (Low, Medium), (Low, High), (Low, Urgent), (Low, Critical),
                (Medium, Low), (Medium, High), (Medium, Urgent), (Medium, Critical),
                (High, Low), (High, Medium), (High, Urgent), (High, Critical),
                (Urgent, Low), (Urgent, Medium), (Urgent, High), (Urgent, Critical),
                (Critical, Low), (Critical, Medium), (Critical, High), (Critical, Urgent),
            ],
            finals: []);
        use CasePriority::*;
        assert_eq!(
            [Low, Medium, High, Urgent, Critical].map(CasePriority::rank),
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn credential_status_table() {
        check_enum!(CredentialStatus, "credential",
            allowed: [
                (Active, Expired), (Active, Suspended), (Active, Revoked), (Active, PendingRenewal),
                (PendingRenewal, Active), (PendingRenewal, Expired), (PendingRenewal, Suspended),
                (PendingRenewal, Revoked),
                (Expired, Active), (Expired, PendingRenewal), (Expired, Suspended), (Expired, Revoked),
                (Suspended, Active), (Suspended, Revoked), (Suspended, Expired),
            ],
            finals: [Revoked]);
    }

    #[test]
    fn verification_status_table() {
        check_enum!(VerificationStatus, "credential verification",
            allowed: [
                (NotVerified, Pending), (NotVerified, Verified), (NotVerified, Failed),
                (Pending, Verified), (Pending, Failed),
                (Verified, Pending), (Verified, Failed),
                (Failed, Pending), (Failed, Verified),
            ],
            finals: []);
    }

    #[test]
    fn schedule_status_table() {
        check_enum!(ScheduleStatus, "shift assignment",
            allowed: [
                (Scheduled, OnDuty), (Scheduled, Absent), (Scheduled, Cancelled),
                (OnDuty, Completed),
            ],
            finals: [Completed, Absent, Cancelled]);
    }

    #[test]
    fn swap_status_table() {
        check_enum!(SwapStatus, "shift swap",
            allowed: [(Requested, Approved), (Requested, Rejected), (Requested, Cancelled)],
            finals: [Approved, Rejected, Cancelled]);
    }

    #[test]
    fn time_off_status_table() {
        check_enum!(TimeOffStatus, "time off request",
            allowed: [
                (Requested, Approved), (Requested, Rejected), (Requested, Cancelled),
                (Approved, Cancelled),
            ],
            finals: [Rejected, Cancelled]);
    }

    #[test]
    fn waitlist_status_table() {
        check_enum!(WaitlistStatus, "waitlist entry",
            allowed: [
                (Waiting, Offered), (Waiting, Removed), (Waiting, Expired),
                (Offered, Booked), (Offered, Waiting), (Offered, Removed), (Offered, Expired),
            ],
            finals: [Booked, Expired, Removed]);
    }

    #[test]
    fn coverage_need_status_table() {
        check_enum!(CoverageNeedStatus, "coverage need",
            allowed: [(Open, Filled), (Open, Cancelled), (Filled, Open)],
            finals: [Cancelled]);
    }

    #[test]
    fn reminder_status_table() {
        check_enum!(ReminderStatus, "reminder",
            allowed: [
                (Pending, Sent), (Pending, Failed), (Pending, Cancelled),
                (Failed, Pending), (Failed, Cancelled),
            ],
            finals: [Sent, Cancelled]);
    }

    #[test]
    fn parse_error_message_is_readable() {
        let e = AppointmentStatus::parse("done").unwrap_err();
        assert_eq!(
            e.to_string(),
            "status: 'done' is not a valid appointment status; expected one of: pending, confirmed, \
             reminded, checked_in, in_progress, completed, no_show, cancelled, rescheduled"
        );
    }

    /// The front desk's next steps, spelled out: the first of each list is the primary step.
    #[test]
    fn appointment_next_steps_follow_the_transition_table() {
        use AppointmentAction as A;
        use AppointmentStatus::*;
        let expected: &[(AppointmentStatus, &[AppointmentAction])] = &[
            (
                Pending,
                &[
                    A::Confirm,
                    A::CheckIn,
                    A::Remind,
                    A::NoShow,
                    A::Move,
                    A::Cancel,
                ],
            ),
            (
                Confirmed,
                &[A::CheckIn, A::Remind, A::NoShow, A::Move, A::Cancel],
            ),
            (Reminded, &[A::CheckIn, A::NoShow, A::Move, A::Cancel]),
            (CheckedIn, &[A::Start, A::Cancel]),
            (InProgress, &[A::Complete]),
            (Completed, &[A::CheckOut]),
            (NoShow, &[]),
            (Cancelled, &[]),
            (Rescheduled, &[]),
        ];
        assert_eq!(expected.len(), AppointmentStatus::ALL.len());
        for &(status, actions) in expected {
            assert_eq!(
                AppointmentAction::next_steps(status, false),
                actions,
                "{status}"
            );
            // Checked out: a completed visit has nothing left; the flag changes nothing else.
            let out: Vec<_> = actions
                .iter()
                .copied()
                .filter(|a| *a != A::CheckOut)
                .collect();
            assert_eq!(
                AppointmentAction::next_steps(status, true),
                out,
                "{status}, checked out"
            );
        }
        // Every status-changing step is exactly a transition of the table.
        for &a in AppointmentAction::ALL {
            for &from in AppointmentStatus::ALL {
                if let Some(to) = a.target() {
                    assert_eq!(
                        a.allowed(from, false),
                        from.can_transition_to(to),
                        "{a} from {from}"
                    );
                }
            }
        }
        let table = appointment_next_steps();
        assert_eq!(table.len(), 2 * AppointmentStatus::ALL.len());
        assert!(table
            .iter()
            .all(|r| r.actions == AppointmentAction::next_steps(r.status, r.checked_out)));
        assert_eq!(
            serde_json::to_value(&table[0]).unwrap(),
            serde_json::json!({"status": "pending", "checked_out": false,
                "actions": ["confirm", "check_in", "remind", "no_show", "move", "cancel"]})
        );
    }
}
