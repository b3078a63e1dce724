//! Role-based access: what each role may do. Every command checks this in Rust.

use crate::kinds::Role;

string_enum! {
    /// Something a user may be allowed to do at a clinic.
    pub enum Capability("capability", "capability") {
        ManageClinics => "manage_clinics",
        ManageUsers => "manage_users",
        ManageRoles => "manage_roles",
        ManageRooms => "manage_rooms",
        ManageCredentialTypes => "manage_credential_types",
        ManageShiftTemplates => "manage_shift_templates",
        ManageStaff => "manage_staff",
        ManageCredentials => "manage_credentials",
        ManagePayersAndEmployers => "manage_payers_and_employers",
        RegisterPatients => "register_patients",
        DeletePatients => "delete_patients",
        /// Import patients in bulk from another system's CSV export.
        ImportPatients => "import_patients",
        ReadClinicData => "read_clinic_data",
        ReadPatients => "read_patients",
        ReadAudit => "read_audit",
        BackupRestore => "backup_restore",
        /// Book, move, cancel and check in appointments.
        ManageSchedule => "manage_schedule",
        ManageWaitlist => "manage_waitlist",
        /// Appointment types, availability blocks (holidays, closures).
        ManageScheduleSettings => "manage_schedule_settings",
        /// Book outside shifts/availability or without a required credential, with a reason.
        OverrideBookingRules => "override_booking_rules",
        ApproveStaffing => "approve_staffing",
        ManageCases => "manage_cases",
        UpdateOwnCases => "update_own_cases",
        ReadKpis => "read_kpis",
    }
}

impl Role {
    /// Whether this role grants the capability. This is the whole permission matrix.
    pub fn has(self, c: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Manager => {
                !matches!(c, ManageClinics | ManageUsers | ManageRoles | BackupRestore)
            }
            Role::FrontDesk => matches!(
                c,
                ReadClinicData | ReadPatients | RegisterPatients | ManageSchedule | ManageWaitlist
            ),
            Role::Clinician => matches!(c, ReadClinicData | ReadPatients | UpdateOwnCases),
            // Patient details are PHI: viewers do not get ReadPatients.
            Role::Viewer => matches!(c, ReadClinicData),
        }
    }

    /// Every capability this role grants, in `Capability::ALL` order.
    pub fn capabilities(self) -> Vec<Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(|&c| self.has(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    /// The matrix restated independently: (capability, admin, manager, front_desk, clinician, viewer).
    const MATRIX: &[(Capability, bool, bool, bool, bool, bool)] = &[
        (ManageClinics, true, false, false, false, false),
        (ManageUsers, true, false, false, false, false),
        (ManageRoles, true, false, false, false, false),
        (ManageRooms, true, true, false, false, false),
        (ManageCredentialTypes, true, true, false, false, false),
        (ManageShiftTemplates, true, true, false, false, false),
        (ManageStaff, true, true, false, false, false),
        (ManageCredentials, true, true, false, false, false),
        (ManagePayersAndEmployers, true, true, false, false, false),
        (RegisterPatients, true, true, true, false, false),
        (DeletePatients, true, true, false, false, false),
        (ImportPatients, true, true, false, false, false),
        (ReadClinicData, true, true, true, true, true),
        (ReadPatients, true, true, true, true, false),
        (ReadAudit, true, true, false, false, false),
        (BackupRestore, true, false, false, false, false),
        (ManageSchedule, true, true, true, false, false),
        (ManageWaitlist, true, true, true, false, false),
        (ManageScheduleSettings, true, true, false, false, false),
        (OverrideBookingRules, true, true, false, false, false),
        (ApproveStaffing, true, true, false, false, false),
        (ManageCases, true, true, false, false, false),
        (UpdateOwnCases, true, true, false, true, false),
        (ReadKpis, true, true, false, false, false),
    ];

    #[test]
    fn matrix_matches_for_every_role_and_capability() {
        assert_eq!(MATRIX.len(), Capability::ALL.len());
        for &c in Capability::ALL {
            let row = MATRIX
                .iter()
                .find(|r| r.0 == c)
                .unwrap_or_else(|| panic!("{c} missing from test matrix"));
            let expected = [
                (Role::Admin, row.1),
                (Role::Manager, row.2),
                (Role::FrontDesk, row.3),
                (Role::Clinician, row.4),
                (Role::Viewer, row.5),
            ];
            assert_eq!(expected.len(), Role::ALL.len());
            for (role, allowed) in expected {
                assert_eq!(role.has(c), allowed, "{role} / {c}");
            }
        }
    }

    #[test]
    fn capabilities_lists_match_has() {
        for &role in Role::ALL {
            let caps = role.capabilities();
            for &c in Capability::ALL {
                assert_eq!(caps.contains(&c), role.has(c));
            }
        }
        assert_eq!(Role::Admin.capabilities().len(), Capability::ALL.len());
        assert_eq!(Role::Viewer.capabilities(), vec![ReadClinicData]);
        assert_eq!(
            Role::Clinician.capabilities(),
            vec![ReadClinicData, ReadPatients, UpdateOwnCases]
        );
    }

    #[test]
    fn capability_round_trip() {
        assert_eq!(Capability::ALL.len(), 24);
        for &c in Capability::ALL {
            assert_eq!(Capability::parse(c.as_str()).unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        assert_eq!(
            ManagePayersAndEmployers.as_str(),
            "manage_payers_and_employers"
        );
        assert!(Capability::parse("fly").is_err());
    }
}
