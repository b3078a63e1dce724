//! Plain enumerations stored as snake_case strings (no workflow).

string_enum! {
    /// A user's role at one clinic.
    pub enum Role("role", "role") {
        Admin => "admin",
        Manager => "manager",
        FrontDesk => "front_desk",
        Clinician => "clinician",
        Viewer => "viewer",
    }
}

string_enum! {
    /// How a staff member is employed.
    pub enum EmploymentType("employment_type", "employment type") {
        FullTime => "full_time",
        PartTime => "part_time",
        Contractor => "contractor",
        PerDiem => "per_diem",
    }
}

string_enum! {
    /// The kind of a shift template.
    pub enum ShiftType("shift_type", "shift type") {
        Morning => "morning",
        Afternoon => "afternoon",
        Evening => "evening",
        Night => "night",
        FullDay => "full_day",
        OnCall => "on_call",
    }
}

string_enum! {
    /// Where an appointment booking came from.
    pub enum AppointmentSource("source", "appointment source") {
        FrontDesk => "front_desk",
        Phone => "phone",
        Waitlist => "waitlist",
        Online => "online",
    }
}

string_enum! {
    /// A patient's preferred contact method.
    pub enum ContactMethod("preferred_contact_method", "contact method") {
        Sms => "sms",
        Email => "email",
        Phone => "phone",
        None => "none",
    }
}

string_enum! {
    /// A patient's recorded sex.
    pub enum Sex("sex", "sex") {
        Female => "female",
        Male => "male",
        Other => "other",
        Unknown => "unknown",
    }
}

string_enum! {
    /// How a reminder is delivered.
    pub enum ReminderChannel("channel", "reminder channel") {
        Sms => "sms",
        Email => "email",
        Phone => "phone",
    }
}

string_enum! {
    /// An adverse action against a staff member's credential.
    pub enum AdverseActionType("action_type", "adverse action type") {
        Suspension => "suspension",
        Revocation => "revocation",
        Probation => "probation",
        Restriction => "restriction",
    }
}

string_enum! {
    /// How a credential was checked with its issuer.
    pub enum VerificationMethod("method", "verification method") {
        PrimarySource => "primary_source",
        OnlineLookup => "online_lookup",
        Document => "document",
        Phone => "phone",
        Other => "other",
    }
}

string_enum! {
    /// Why a shift needs coverage.
    pub enum CoverageReason("reason", "coverage reason") {
        TimeOff => "time_off",
        CredentialLapse => "credential_lapse",
        Demand => "demand",
    }
}

string_enum! {
    /// Capacity level in a snapshot.
    pub enum CapacityStatus("capacity_status", "capacity status") {
        Normal => "normal",
        High => "high",
        Critical => "critical",
    }
}

string_enum! {
    /// The 20 KPI event types.
    pub enum KpiEventType("event_type", "KPI event type") {
        AppointmentScheduled => "appointment_scheduled",
        AppointmentCompleted => "appointment_completed",
        AppointmentCancelled => "appointment_cancelled",
        AppointmentNoShow => "appointment_no_show",
        PatientCheckedIn => "patient_checked_in",
        PatientCheckedOut => "patient_checked_out",
        TreatmentStarted => "treatment_started",
        TreatmentCompleted => "treatment_completed",
        CredentialExpired => "credential_expired",
        CredentialRenewed => "credential_renewed",
        StaffShiftStarted => "staff_shift_started",
        StaffShiftEnded => "staff_shift_ended",
        CapacityThresholdReached => "capacity_threshold_reached",
        RoomOccupied => "room_occupied",
        RoomReleased => "room_released",
        EquipmentUsed => "equipment_used",
        SupplyDepleted => "supply_depleted",
        QualityIncident => "quality_incident",
        SafetyAlert => "safety_alert",
        Custom => "custom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DomainError;

    macro_rules! check_kind {
        ($ty:ident, $field:literal, [$($v:ident => $s:literal),+ $(,)?]) => {{
            let expected: &[($ty, &str)] = &[$(($ty::$v, $s)),+];
            assert_eq!($ty::ALL.len(), expected.len(), "variant count of {}", stringify!($ty));
            for (i, &(v, s)) in expected.iter().enumerate() {
                assert_eq!($ty::ALL[i], v);
                assert_eq!(v.as_str(), s);
                assert_eq!(v.to_string(), s);
                assert_eq!($ty::parse(s).unwrap(), v);
                assert_eq!(s.parse::<$ty>().unwrap(), v);
                assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{s}\""));
                assert_eq!(serde_json::from_str::<$ty>(&format!("\"{s}\"")).unwrap(), v);
            }
            match $ty::parse("nonsense") {
                Err(DomainError::Invalid { field, message }) => {
                    assert_eq!(field, $field);
                    assert!(message.contains("'nonsense' is not a valid"), "{message}");
                    for &(_, s) in expected {
                        assert!(message.contains(s));
                    }
                }
                other => panic!("expected Invalid, got {other:?}"),
            }
            assert!($ty::parse("").is_err());
        }};
    }

    #[test]
    fn role_round_trip() {
        check_kind!(Role, "role", [Admin => "admin", Manager => "manager", FrontDesk => "front_desk",
            Clinician => "clinician", Viewer => "viewer"]);
    }

    #[test]
    fn employment_type_round_trip() {
        check_kind!(EmploymentType, "employment_type", [FullTime => "full_time", PartTime => "part_time",
            Contractor => "contractor", PerDiem => "per_diem"]);
    }

    #[test]
    fn shift_type_round_trip() {
        check_kind!(ShiftType, "shift_type", [Morning => "morning", Afternoon => "afternoon",
            Evening => "evening", Night => "night", FullDay => "full_day", OnCall => "on_call"]);
    }

    #[test]
    fn appointment_source_round_trip() {
        check_kind!(AppointmentSource, "source", [FrontDesk => "front_desk", Phone => "phone",
            Waitlist => "waitlist", Online => "online"]);
    }

    #[test]
    fn contact_method_round_trip() {
        check_kind!(ContactMethod, "preferred_contact_method", [Sms => "sms", Email => "email",
            Phone => "phone", None => "none"]);
    }

    #[test]
    fn sex_round_trip() {
        check_kind!(Sex, "sex", [Female => "female", Male => "male", Other => "other",
            Unknown => "unknown"]);
    }

    #[test]
    fn reminder_channel_round_trip() {
        check_kind!(ReminderChannel, "channel", [Sms => "sms", Email => "email", Phone => "phone"]);
    }

    #[test]
    fn adverse_action_type_round_trip() {
        check_kind!(AdverseActionType, "action_type", [Suspension => "suspension",
            Revocation => "revocation", Probation => "probation", Restriction => "restriction"]);
    }

    #[test]
    fn verification_method_round_trip() {
        check_kind!(VerificationMethod, "method", [PrimarySource => "primary_source",
            OnlineLookup => "online_lookup", Document => "document", Phone => "phone",
            Other => "other"]);
    }

    #[test]
    fn coverage_reason_round_trip() {
        check_kind!(CoverageReason, "reason", [TimeOff => "time_off",
            CredentialLapse => "credential_lapse", Demand => "demand"]);
    }

    #[test]
    fn capacity_status_round_trip() {
        check_kind!(CapacityStatus, "capacity_status", [Normal => "normal", High => "high",
            Critical => "critical"]);
    }

    #[test]
    fn kpi_event_type_round_trip() {
        check_kind!(KpiEventType, "event_type", [
            AppointmentScheduled => "appointment_scheduled",
            AppointmentCompleted => "appointment_completed",
            AppointmentCancelled => "appointment_cancelled",
            AppointmentNoShow => "appointment_no_show",
            PatientCheckedIn => "patient_checked_in",
            PatientCheckedOut => "patient_checked_out",
            TreatmentStarted => "treatment_started",
            TreatmentCompleted => "treatment_completed",
            CredentialExpired => "credential_expired",
            CredentialRenewed => "credential_renewed",
            StaffShiftStarted => "staff_shift_started",
            StaffShiftEnded => "staff_shift_ended",
            CapacityThresholdReached => "capacity_threshold_reached",
            RoomOccupied => "room_occupied",
            RoomReleased => "room_released",
            EquipmentUsed => "equipment_used",
            SupplyDepleted => "supply_depleted",
            QualityIncident => "quality_incident",
            SafetyAlert => "safety_alert",
            Custom => "custom",
        ]);
        assert_eq!(KpiEventType::ALL.len(), 20);
    }
}
