//! The table registry: the one place that says what the code knows about each table of the
//! local database — its name, what a user calls one row, whether it replicates, whether it is
//! immutable, which columns the audit log redacts and which are local (derived on each device:
//! neither audited nor replicated).
//!
//! Everything else reads it: the row layer (`Table::ENTITY` comes from here), the trigger
//! generator ([`audit_triggers`], [`generated_migration`]; run it with
//! `cargo run -p clinicdesk-store --example gen_triggers`), the demo and bench (their table
//! lists and [`audit_trigger_names`]) and the future PostgreSQL schema ([`replicated`]).
//!
//! `tests/generated.rs` keeps it honest: every table of the migrated database has an entry here
//! and every entry is a table (only [`INTERNAL_TABLES`] are neither); the committed generated
//! migrations are byte for byte what the generator produces; after all migrations each
//! replicated table's audit and capture triggers are exactly the generator's for its current
//! columns minus its local ones; immutable tables refuse UPDATE and DELETE.

mod fingerprint;
mod triggers;

pub use fingerprint::{
    drift_between, expected_triggers, fingerprint_of, trigger_drift, triggers_of, TriggerDrift,
    TRIGGER_FINGERPRINT,
};
pub use triggers::{
    audit_triggers, generated_migration, immutable_triggers, schema_columns, trigger_columns,
    triggers_sql, Trigger, GROUPED_CAPTURE_SINCE, HEADER, LEGACY_HEADER,
};

/// What the sync does when two PCs, each offline, create rows with the same value of a UNIQUE
/// index (SYNC.md §5 item 2). Every UNIQUE index of a replicated table declares one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniquePolicy {
    /// Derived rows: the id is a UUIDv5 of the natural key, so both PCs create the same row
    /// and the merge joins them.
    DeterministicId,
    /// The same fact recorded twice: the server soft-deletes the later row.
    Dedupe,
    /// A typed identifier: the server renames the later row's value (`name~2`) within the
    /// column's CHECK limits and adds a `sync_conflicts` inbox row.
    RenameAndInbox,
    /// Created online only (the server refuses a duplicate): no room to rename.
    OnlineOnly,
    /// Two PCs cannot produce the same key (numbers from server-granted blocks); the index
    /// is still enforced.
    ImpossibleByConstruction,
}

/// What the code knows about one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// SQL table name.
    pub name: &'static str,
    /// What a user calls one row ("patient", "credential type"); errors name it.
    pub entity: &'static str,
    /// Carries the generated audit and change-capture triggers and replicates through
    /// `change_log`. Tables that are not replicated are local to the device (settings, the
    /// audit and change logs themselves, the search index).
    pub replicated: bool,
    /// Rows are written once: the generated triggers audit and capture inserts only, and
    /// separate triggers ([`immutable_triggers`]) refuse UPDATE and DELETE.
    pub immutable: bool,
    /// Columns whose value the audit log never shows: a fingerprint is logged instead, so a
    /// change is still visible. They still replicate.
    pub redacted: &'static [&'static str],
    /// Derived columns each device computes for itself (e.g. a denormalised name kept by
    /// triggers): left out of the audit and change-capture triggers, hence neither audited
    /// nor replicated. Regenerating a table's triggers never picks them up.
    pub local: &'static [&'static str],
    /// Groups of columns that win or lose together when the sync merges concurrent changes
    /// to one row (SYNC.md §3.2; the model is `clinicdesk_wire::merge`): every column a
    /// multi-column CHECK names is in one group, such as a start and an end. A column in no
    /// group is a group of its own. `tests/merge_groups.rs` fails when a CHECK spans groups.
    pub merge_groups: &'static [&'static [&'static str]],
    /// The declared policy of each UNIQUE index of the table (index name, policy): what the
    /// sync does when two PCs create rows with the same key (SYNC.md §5 item 2).
    /// `tests/merge_groups.rs` fails when a UNIQUE index has none or a policy names no index.
    pub unique: &'static [(&'static str, UniquePolicy)],
    /// Columns that were audited and replicated at first and became local in a later
    /// migration: (column, the migration version from which it is local). Migrations are
    /// append-only, so the generator must still reproduce the earlier migrations with the
    /// column (see [`TableSpec::as_of`]).
    pub local_since: &'static [(&'static str, i32)],
    /// The migration version the spec is read at (`None`: now, with every later change).
    pub as_of: Option<i32>,
}

impl TableSpec {
    /// A replicated, mutable table with nothing redacted or local.
    const fn replicated(name: &'static str, entity: &'static str) -> TableSpec {
        TableSpec {
            name,
            entity,
            replicated: true,
            immutable: false,
            redacted: &[],
            local: &[],
            merge_groups: &[],
            unique: &[],
            local_since: &[],
            as_of: None,
        }
    }

    /// A table that lives on this device only.
    const fn device_only(name: &'static str, entity: &'static str) -> TableSpec {
        TableSpec {
            replicated: false,
            ..TableSpec::replicated(name, entity)
        }
    }

    const fn immutable(self) -> TableSpec {
        TableSpec {
            immutable: true,
            ..self
        }
    }

    const fn redacted(self, redacted: &'static [&'static str]) -> TableSpec {
        TableSpec { redacted, ..self }
    }

    const fn local(self, local: &'static [&'static str]) -> TableSpec {
        TableSpec { local, ..self }
    }

    const fn merge_groups(self, merge_groups: &'static [&'static [&'static str]]) -> TableSpec {
        TableSpec {
            merge_groups,
            ..self
        }
    }

    const fn unique(self, unique: &'static [(&'static str, UniquePolicy)]) -> TableSpec {
        TableSpec { unique, ..self }
    }

    /// Columns made local by a later migration (`version`): see [`TableSpec::local_since`].
    const fn local_since(self, local_since: &'static [(&'static str, i32)]) -> TableSpec {
        TableSpec {
            local_since,
            ..self
        }
    }

    /// This spec as it was when migration `version` was written: a column made local by a
    /// later migration is still audited and replicated there. For reproducing landed
    /// generated migrations.
    pub fn as_of(&self, version: i32) -> TableSpec {
        TableSpec {
            as_of: Some(version),
            ..*self
        }
    }

    /// Whether the audit log shows a fingerprint of `column` instead of its value.
    pub fn is_redacted(&self, column: &str) -> bool {
        self.redacted.contains(&column)
    }

    /// Whether `column` is derived on each device (not audited, not replicated).
    pub fn is_local(&self, column: &str) -> bool {
        self.local.contains(&column)
            || self
                .local_since
                .iter()
                .any(|(c, v)| *c == column && self.as_of.is_none_or(|at| *v <= at))
    }

    /// The generated audit/change-capture triggers of this table, by name: `<table>_ai`
    /// (AFTER INSERT) and, unless the table is immutable, `<table>_au` (AFTER UPDATE) and
    /// `<table>_bd` (BEFORE DELETE, refuses deletes). Empty for a table that is not
    /// replicated. A bulk loader may drop and recreate them by these names.
    pub fn audit_trigger_names(&self) -> Vec<String> {
        if !self.replicated {
            return Vec::new();
        }
        let suffixes: &[&str] = if self.immutable {
            &["ai"]
        } else {
            &["ai", "au", "bd"]
        };
        suffixes
            .iter()
            .map(|s| format!("{}_{s}", self.name))
            .collect()
    }

    /// The AFTER INSERT audit/change-capture trigger's name, for a replicated table.
    pub fn insert_trigger_name(&self) -> Option<String> {
        self.replicated.then(|| format!("{}_ai", self.name))
    }
}

/// Every table the migrations create (sorted by name), except [`INTERNAL_TABLES`].
pub const TABLES: &[TableSpec] = &[
    TableSpec::replicated("appointment_reminders", "reminder"),
    TableSpec::replicated("appointment_series", "appointment series"),
    TableSpec::replicated("appointment_status_history", "status change").immutable(),
    TableSpec::replicated("appointment_types", "appointment type")
        .unique(&[("ux_appointment_types_code", UniquePolicy::RenameAndInbox)]),
    // patient_name: the patient's display name, kept by V5's triggers for the schedule grid.
    TableSpec::replicated("appointments", "appointment")
        .local(&["patient_name"])
        .merge_groups(&[
            &["provider_id", "room_id", "start_at", "end_at"],
            &[
                "status",
                "cancel_reason",
                "cancelled_at",
                "checked_in_at",
                "started_at",
                "completed_at",
                "checked_out_at",
            ],
        ]),
    TableSpec::device_only("audit_log", "audit entry"),
    // The forward-secure seals of the audit chain (V8, `audit::seal`).
    TableSpec::device_only("audit_seals", "audit seal"),
    TableSpec::replicated("availability_blocks", "availability block")
        .merge_groups(&[&["start_at", "end_at"], &["is_available", "block_reason"]]),
    TableSpec::replicated("case_number_blocks", "case number block")
        .merge_groups(&[&["first_number", "last_number"]])
        .unique(&[(
            "ux_case_blocks_first",
            UniquePolicy::ImpossibleByConstruction,
        )]),
    TableSpec::device_only("change_log", "change log entry"),
    TableSpec::replicated("clinics", "clinic")
        .unique(&[("ux_clinics_code", UniquePolicy::OnlineOnly)]),
    TableSpec::replicated("employer_accounts", "employer")
        .merge_groups(&[&["contract_start_date", "contract_end_date"]]),
    TableSpec::replicated("goal_templates", "goal"),
    TableSpec::replicated("insurance_payers", "payer")
        .unique(&[("ux_payers_code", UniquePolicy::RenameAndInbox)]),
    TableSpec::device_only("local_meta", "device setting"),
    TableSpec::replicated("metric_aggregations", "metric aggregation")
        .unique(&[("ux_metric_aggregations", UniquePolicy::DeterministicId)]),
    TableSpec::replicated("ops_adverse_actions", "adverse action")
        .merge_groups(&[&["start_date", "end_date"]]),
    TableSpec::replicated("ops_capacity_snapshots", "capacity snapshot").immutable(),
    TableSpec::replicated("ops_cases", "case")
        .unique(&[("ux_cases_number", UniquePolicy::ImpossibleByConstruction)]),
    TableSpec::replicated("ops_credential_alerts", "credential alert")
        .unique(&[("ux_credential_alerts", UniquePolicy::DeterministicId)]),
    TableSpec::replicated("ops_credential_types", "credential type")
        .unique(&[("ux_credential_types_code", UniquePolicy::RenameAndInbox)]),
    TableSpec::replicated("ops_credential_verifications", "credential verification"),
    TableSpec::replicated("ops_credentials", "credential")
        .merge_groups(&[&["issue_date", "expiry_date"]]),
    TableSpec::replicated("ops_kpi_events", "KPI event").immutable(),
    TableSpec::replicated("ops_shift_coverage_needs", "coverage need")
        .merge_groups(&[&["start_at", "end_at"], &["status", "filled_by_staff_id"]])
        .unique(&[("ux_coverage_open_schedule", UniquePolicy::DeterministicId)]),
    TableSpec::replicated("ops_shift_swaps", "shift swap")
        .merge_groups(&[&["requester_staff_id", "target_staff_id"]]),
    TableSpec::replicated("ops_shifts", "shift template")
        .merge_groups(&[&["start_time", "end_time"]])
        .unique(&[("ux_shifts_name", UniquePolicy::RenameAndInbox)]),
    TableSpec::replicated("ops_staff_schedules", "shift assignment")
        .merge_groups(&[&["start_at", "end_at"]]),
    TableSpec::replicated("ops_time_off_requests", "time off request")
        .merge_groups(&[&["start_date", "end_date"]]),
    TableSpec::replicated("ops_treatment_rooms", "room")
        .unique(&[("ux_rooms_name", UniquePolicy::RenameAndInbox)]),
    TableSpec::replicated("patient_insurance", "insurance policy")
        .merge_groups(&[&["effective_date", "termination_date"]]),
    TableSpec::replicated("patients", "patient").unique(&[
        ("ux_patients_mrn", UniquePolicy::RenameAndInbox),
        ("ux_patients_legacy", UniquePolicy::RenameAndInbox),
    ]),
    // The FTS5 trigram index of patient search, kept by V1's triggers from `patients`.
    TableSpec::device_only("patients_fts", "patient search entry"),
    TableSpec::replicated("staff_profiles", "staff member")
        .merge_groups(&[&["hire_date", "termination_date"]])
        .unique(&[("ux_staff_employee_id", UniquePolicy::RenameAndInbox)]),
    // A server verdict (V13, SYNC.md §5): what the server decided and how the front desk
    // resolved it. The resolution is one decision: its columns win or lose together.
    TableSpec::replicated("sync_conflicts", "sync conflict").merge_groups(&[&[
        "resolved_at",
        "resolved_by",
        "resolution",
        "rebooked_id",
        "note",
    ]]),
    // The boundaries of local transactions in change_log (V10): the push sends whole ones.
    TableSpec::device_only("sync_txn", "sync transaction"),
    TableSpec::replicated("user_clinic_roles", "role assignment")
        .unique(&[("ux_user_clinic_roles", UniquePolicy::Dedupe)]),
    // password_hash replicates (a user signs in on every PC) but is never shown in the audit.
    TableSpec::replicated("users", "user")
        .redacted(&["password_hash"])
        // This PC's last sign-in: a sign-in is audited as its own event (V7).
        .local_since(&[("last_login_at", 7)])
        .unique(&[("ux_users_username", UniquePolicy::RenameAndInbox)]),
    TableSpec::replicated("waitlist", "waitlist entry")
        .merge_groups(&[&["earliest_date", "latest_date"]]),
    // outcome, decided_at and appointment_id: one decision, merged by the outcome lattice
    // (`clinicdesk_wire::merge::WAITLIST_OFFER_OUTCOME`).
    TableSpec::replicated("waitlist_offers", "waitlist offer")
        .merge_groups(&[
            &["start_at", "end_at"],
            &["outcome", "decided_at", "appointment_id"],
        ])
        .unique(&[("ux_waitlist_offers_slot", UniquePolicy::DeterministicId)]),
];

/// Tables in the database that are nobody's records: refinery's migration history and the
/// shadow tables SQLite's FTS5 keeps for `patients_fts`. Named exactly so that any other new
/// table must be registered (`tests/generated.rs`).
pub const INTERNAL_TABLES: &[&str] = &[
    "refinery_schema_history",
    "patients_fts_config",
    "patients_fts_content",
    "patients_fts_data",
    "patients_fts_docsize",
    "patients_fts_idx",
];

/// The registry entry of `name`.
pub fn spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// The replicated tables (those with generated triggers), sorted by name.
pub fn replicated() -> impl Iterator<Item = &'static TableSpec> {
    TABLES.iter().filter(|t| t.replicated)
}

/// The immutable tables.
pub fn immutable() -> impl Iterator<Item = &'static TableSpec> {
    TABLES.iter().filter(|t| t.immutable)
}

/// Whether `name` is one of [`INTERNAL_TABLES`].
pub fn is_internal(name: &str) -> bool {
    INTERNAL_TABLES.contains(&name)
}

/// The names of `table`'s generated audit/change-capture triggers (see
/// [`TableSpec::audit_trigger_names`]); None for a table that is not in the registry.
pub fn audit_trigger_names(table: &str) -> Option<Vec<String>> {
    spec(table).map(TableSpec::audit_trigger_names)
}

/// `entity` of the table called `name`, at compile time (`Table::ENTITY`).
pub const fn entity_of(name: &str) -> &'static str {
    spec_of(name).entity
}

/// The registry entry of `name`, at compile time (`Table::SPEC`); a name that is not
/// registered fails the build where it is evaluated.
pub const fn spec_of(name: &str) -> &'static TableSpec {
    let mut i = 0;
    while i < TABLES.len() {
        if str_eq(TABLES[i].name, name) {
            return &TABLES[i];
        }
        i += 1;
    }
    panic!("a Table's NAME is not in registry::TABLES")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_unique() {
        for pair in TABLES.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} / {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(spec("patients").map(|s| s.entity), Some("patient"));
        assert_eq!(spec("nope"), None);
        assert_eq!(entity_of("ops_credential_types"), "credential type");
        assert!(spec("appointments").unwrap().is_local("patient_name"));
        assert!(!spec("appointments").unwrap().is_local("patient_id"));
        assert!(spec("users").unwrap().is_redacted("password_hash"));
        // Local from V7 on; V2's triggers (written before) still list it.
        assert!(spec("users").unwrap().is_local("last_login_at"));
        assert!(!spec("users").unwrap().as_of(2).is_local("last_login_at"));
        assert!(spec("users").unwrap().as_of(7).is_local("last_login_at"));
        assert!(!spec("users").unwrap().is_redacted("username"));
        assert!(replicated().all(|t| t.replicated));
        assert!(!replicated().any(|t| t.name == "audit_log" || t.name == "patients_fts"));
        let immutable: Vec<_> = immutable().map(|t| t.name).collect();
        assert_eq!(
            immutable,
            [
                "appointment_status_history",
                "ops_capacity_snapshots",
                "ops_kpi_events"
            ]
        );
        assert!(is_internal("patients_fts_data") && !is_internal("patients_fts"));
        // Merge groups and UNIQUE policies (checked against the schema in tests/merge_groups.rs).
        let appointments = spec("appointments").unwrap();
        assert!(appointments.merge_groups[0].contains(&"start_at"));
        assert!(spec("patients")
            .unwrap()
            .unique
            .contains(&("ux_patients_mrn", UniquePolicy::RenameAndInbox)));
    }

    #[test]
    fn audit_trigger_names_follow_the_generator() {
        assert_eq!(
            audit_trigger_names("patients").unwrap(),
            ["patients_ai", "patients_au", "patients_bd"]
        );
        assert_eq!(
            audit_trigger_names("ops_kpi_events").unwrap(),
            ["ops_kpi_events_ai"]
        );
        assert_eq!(
            audit_trigger_names("local_meta").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(audit_trigger_names("no_such_table"), None);
        assert_eq!(
            spec("waitlist").unwrap().insert_trigger_name().as_deref(),
            Some("waitlist_ai")
        );
        assert_eq!(spec("change_log").unwrap().insert_trigger_name(), None);
        // The names are those of the triggers the generator writes.
        let spec = spec("appointments").unwrap();
        let generated: Vec<String> = audit_triggers(spec, &["id", "deleted_at", "updated_at"])
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(generated, spec.audit_trigger_names());
    }
}
