use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// ClinicDesk administration and scripting. Passwords come from CLINICDESK_PASSWORD or the
/// first line of standard input, never from arguments.
#[derive(Debug, Parser)]
#[command(name = "clinicdesk", version, about)]
pub struct Cli {
    /// The database file.
    #[arg(long, global = true, env = "CLINICDESK_DB")]
    pub db: Option<PathBuf>,
    /// Keep the database key in this file (64 hex digits, mode 0600) instead of the OS keyring.
    /// CLINICDESK_DB_KEY may hold the key itself for automation.
    #[arg(long, global = true, env = "CLINICDESK_DB_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Sign in as this user.
    #[arg(long, global = true, env = "CLINICDESK_USER")]
    pub user: Option<String>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new database with its first clinic and admin.
    Init(InitArgs),
    /// Fill a new database with realistic demo data (users admin, manager, frontdesk, clinician,
    /// viewer, all with the given password).
    Demo {
        #[arg(long, default_value = "small")]
        size: String,
    },
    /// Online backup to a new file (encrypted with the same key; its header holds that key
    /// wrapped under the recovery key, so it restores on a new PC with `restore-new`).
    Backup { file: PathBuf },
    /// Replace the database with a backup of it.
    Restore { file: PathBuf },
    /// On a new PC: restore a backup into a new database at --db, with the recovery key
    /// (CLINICDESK_RECOVERY_KEY, else the first line of standard input; never an argument).
    RestoreNew { file: PathBuf },
    /// Write a new recovery kit (a NEW recovery key: the previous one stops opening backups
    /// made from now on) to a new file, readable by its owner only. Print it, keep it safe.
    RecoveryKit {
        #[arg(long)]
        out: PathBuf,
    },
    /// The database file itself.
    #[command(subcommand)]
    Db(DbCmd),
    /// Audit log operations.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// This PC's idle lock of the desktop app, in minutes; with a value, set it (admins; audited).
    IdleTimeout { minutes: Option<i64> },
    /// The system's periodic job, once (lapsed waitlist offers pass to the next entry); for
    /// cron when the desktop app is not running.
    Housekeeping,
    /// Benchmarks on a (demo) database; prints p50/p99 and writes a report file.
    Bench(BenchArgs),
    /// The sync server, as its owner: the owner's password comes from
    /// CLINICDESK_SERVER_PASSWORD or a line of standard input, is used once and never stored.
    #[command(subcommand)]
    Server(ServerCmd),
    /// This PC and the sync server.
    #[command(subcommand)]
    Sync(SyncCmd),
    #[command(subcommand)]
    Clinic(Crud),
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Role(RoleCmd),
    #[command(subcommand)]
    Staff(Crud),
    #[command(subcommand)]
    CredentialType(Crud),
    /// Credentials: create/get/update/delete/list, verifications, adverse actions, renewals,
    /// the evaluator, expiry alerts and the manager's view (expiring, at-risk, dashboard).
    #[command(subcommand)]
    Credential(CredentialCmd),
    #[command(subcommand)]
    Patient(PatientCmd),
    #[command(subcommand)]
    Insurance(InsuranceCmd),
    #[command(subcommand)]
    Employer(Crud),
    #[command(subcommand)]
    Payer(Crud),
    #[command(subcommand)]
    Room(Crud),
    #[command(subcommand)]
    ShiftTemplate(Crud),
    /// Appointments: book, move, status changes, the day view and free slots.
    #[command(subcommand)]
    Appointment(AppointmentCmd),
    #[command(subcommand)]
    AppointmentType(AppointmentTypeCmd),
    /// Availability blocks (holidays, closures, extra hours).
    #[command(subcommand)]
    Availability(AvailabilityCmd),
    /// The reminder queue (no sending gateway yet: a script sends and marks them).
    #[command(subcommand)]
    Reminder(ReminderCmd),
    /// Recurring series: preview (conflict list), book, cancel one/following/all.
    #[command(subcommand)]
    Series(SeriesCmd),
    /// The waitlist and its offers.
    #[command(subcommand)]
    Waitlist(WaitlistCmd),
    /// Shift assignments: assign (one or in bulk), on duty / ended / absent / cancelled, the roster.
    #[command(subcommand)]
    Roster(RosterCmd),
    /// Shift swaps: request, then a manager approves or rejects.
    #[command(subcommand)]
    Swap(SwapCmd),
    /// Time off: request, then a manager approves or rejects; or cancel.
    #[command(subcommand)]
    TimeOff(TimeOffCmd),
    /// Coverage needs: open shifts to fill (time off, credential lapse, demand).
    #[command(subcommand)]
    Coverage(CoverageCmd),
    /// Cases (episodes of care): CODE-YY-NNNN numbers, status, priority, linked appointments.
    #[command(subcommand)]
    Case(CaseCmd),
    /// KPIs: aggregates per day/week/month; events staff report by hand.
    #[command(subcommand)]
    Kpi(KpiCmd),
    /// Goals on KPIs (system and the clinic's own) and their progress.
    #[command(subcommand)]
    Goal(GoalCmd),
    /// Capacity snapshots: staff, rooms, slots and patients at one instant.
    #[command(subcommand)]
    Capacity(CapacityCmd),
    /// Exports in the interop standards: FHIR R4 (bulk NDJSON, one patient's Bundle) and
    /// iCalendar. Every export is audited.
    #[command(subcommand)]
    Export(ExportCmd),
    /// Imports in the interop standards.
    #[command(subcommand)]
    Import(ImportCmd),
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Patients, practitioners and appointments from FHIR R4 files (NDJSON or a Bundle; a
    /// folder: its Patient, Practitioner and Appointment .ndjson files) into a clinic. All or
    /// nothing; a re-import skips what is there; appointments through the booking rules.
    Fhir {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// FHIR R4 bulk export of the clinics you may read into a folder: one NDJSON file per
    /// resource type (Organization, Location, Practitioner, PractitionerRole, Patient,
    /// Schedule, Slot, Appointment, EpisodeOfCare) and manifest.json. Free slots (Slot) only
    /// with --from (and --to, default 13 days later; at most 92 days).
    Fhir {
        #[arg(long)]
        out: PathBuf,
        /// First day of free slots (clinic date, YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Last day of free slots.
        #[arg(long)]
        to: Option<String>,
        /// Length of a free slot in minutes.
        #[arg(long, default_value_t = 30)]
        slot_minutes: i64,
        /// Qualifications are the credentials valid on this date (default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// One patient as a FHIR R4 Bundle (type collection) with their appointments and cases,
    /// to --out FILE or standard output.
    PatientBundle {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A provider's appointments (--provider) or a staff member's shifts (--staff) from
    /// --from to --to (dates, at most 366 days) as an iCalendar file with the clinic's
    /// VTIMEZONE, to --out FILE or standard output. --private leaves patient names out.
    Ical {
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        staff: Option<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        private: bool,
    },
}

// `init`: the first clinic and its admin.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long)]
    pub clinic_name: String,
    #[arg(long)]
    pub clinic_code: String,
    #[arg(long)]
    pub timezone: String,
    #[arg(long)]
    pub admin: String,
}

// `bench`: iterations, the report file and whether PostgreSQL is compared.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1000)]
    pub iterations: usize,
    #[arg(long, default_value = "bench-report.json")]
    pub report: PathBuf,
    /// Skip the comparison with a throwaway PostgreSQL server on 127.0.0.1.
    #[arg(long)]
    pub no_postgres: bool,
}

#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// --clinic … --set patient_id=… --set case_type=physio [--set priority=high]
    /// [--set authorization_expiry=2027-06-30] …
    Create(WriteArgs),
    Get {
        id: String,
    },
    List {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        status: Option<String>,
    },
    /// CASE_ID --set field=value …
    Update(WriteArgs),
    /// new, active, on_hold, pending_approval, completed, cancelled, archived
    Status {
        id: String,
        status: String,
    },
    /// low, medium, high, urgent, critical
    Priority {
        id: String,
        priority: String,
    },
    /// Link an appointment to a case (or --unlink).
    Link {
        appointment: String,
        #[arg(long)]
        case: Option<String>,
        #[arg(long)]
        unlink: bool,
    },
    /// Open cases whose authorization has expired or expires within --days (default 14).
    Warnings {
        #[arg(long)]
        clinic: String,
        #[arg(long, default_value_t = 14)]
        days: i64,
    },
    /// The numbering authority grants a device a block of case numbers (admin).
    GrantNumbers {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        device: String,
        #[arg(long, default_value_t = 50)]
        size: i64,
    },
    /// local (this database numbers its cases) or server (blocks come from the server).
    Numbering {
        mode: String,
    },
    /// Give this device's provisional case numbers final ones from its blocks.
    FinalizeNumbers,
}

#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// --clinic … --set staff_id=… --set shift_id=… --set date=2027-03-01 [--set override_reason=…]
    Assign(WriteArgs),
    /// --clinic … --set staff_id=… --set shift_id=… --set from=… --set to=… [--set weekdays=mon,wed]
    /// [--set skip_conflicts=yes] [--set override_reason=…]
    Bulk(WriteArgs),
    /// start, end, absent or cancel
    Status { id: String, action: String },
    List {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        staff: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SwapCmd {
    /// --set requester_schedule_id=… --set target_staff_id=… [--set target_schedule_id=…] [--set reason=…]
    Request(WriteArgs),
    /// The clinic's swap requests (managers).
    List {
        #[arg(long)]
        clinic: String,
        /// requested (default), approved, rejected, cancelled or all
        #[arg(long)]
        status: Option<String>,
    },
    Approve {
        id: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        override_reason: Option<String>,
    },
    Reject {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Your own swaps (asked for, or asked to take), newest first; needs a staff profile
    /// linked to your user.
    Mine {
        /// One clinic (default: every clinic you may read)
        #[arg(long)]
        clinic: Option<String>,
        /// requested, approved, rejected, cancelled or all (default)
        #[arg(long)]
        status: Option<String>,
    },
    /// Withdraw a swap while it is requested (the staff member who asked, or a manager).
    Withdraw { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TimeOffCmd {
    /// --clinic … --set staff_id=… --set start_date=… --set end_date=… [--set kind=sick] [--set reason=…]
    Request(WriteArgs),
    /// The clinic's time-off requests (managers).
    List {
        #[arg(long)]
        clinic: String,
        /// requested (default), approved, rejected, cancelled or all
        #[arg(long)]
        status: Option<String>,
    },
    Approve {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    Reject {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Withdraw: your own while requested; a manager any, also approved.
    Cancel { id: String },
    /// Your own time-off requests, latest start first; needs a staff profile linked to your user.
    Mine {
        /// One clinic (default: every clinic you may read)
        #[arg(long)]
        clinic: Option<String>,
        /// requested, approved, rejected, cancelled or all (default)
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CoverageCmd {
    List {
        #[arg(long)]
        clinic: String,
        /// open (default), filled, cancelled or all
        #[arg(long)]
        status: Option<String>,
    },
    /// Extra demand: --clinic … --set shift_id=… --set date=… [--set notes=…]
    Create(WriteArgs),
    Fill {
        id: String,
        #[arg(long)]
        staff: String,
        #[arg(long)]
        override_reason: Option<String>,
    },
    Cancel {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeriesCmd {
    /// --set patient_id=… --set provider_id=… --set start="2027-03-02 09:00" --set duration_minutes=30
    /// --set weekdays=tue,thu --set count=12   (or --set rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270630")
    Preview(WriteArgs),
    Book(WriteArgs),
    /// Move occurrences: APPOINTMENT_ID --scope one|following|all --set time=10:00
    /// [--set shift_days=1] [--set duration_minutes=45] [--set provider_id=…] [--set room_id=…]
    Edit {
        #[command(flatten)]
        write: WriteArgs,
        /// one, following or all
        #[arg(long)]
        scope: String,
    },
    Cancel {
        /// Any appointment of the series.
        appointment: String,
        /// one, following or all
        #[arg(long)]
        scope: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WaitlistCmd {
    /// --set patient_id=… --set earliest_date=… --set latest_date=… --set duration_minutes=30
    /// [--set provider_ids=…] [--set preferred_days=mon,wed] [--set preferred_time_start=08:00] [--set priority=1]
    Add(WriteArgs),
    List {
        #[arg(long)]
        clinic: String,
    },
    Remove {
        id: String,
    },
    Accept {
        offer: String,
    },
    Decline {
        offer: String,
    },
    /// Close lapsed offers and pass their slots on.
    Expire {
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReminderCmd {
    /// Reminders due now (or by --until, an RFC 3339 instant).
    Queue {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        until: Option<String>,
    },
    /// The due queue as CSV (to stdout, or --output FILE) for a sending gateway or mail merge.
    Export {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Record the outcome: sent, failed (with --reason) or retry.
    Mark {
        id: String,
        outcome: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppointmentCmd {
    /// Book: --set patient_id=… --set provider_id=… --set start="2026-03-09 09:00" --set duration_minutes=30
    Book(WriteArgs),
    Get {
        id: String,
    },
    /// Move to a new time (and optionally provider/room): --set start=…
    Move(WriteArgs),
    /// confirm, remind, check_in, start, complete, check_out, cancel (needs --reason), no_show
    Status {
        id: String,
        action: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// One clinic's day in its time zone.
    Day {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Seven days from --start, as `day` gives each.
    Week {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Today's appointments at the clinic (its local date), who is waiting and the counts.
    Today {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// A clinic's appointments in start order, by provider, patient, the clinic's local dates
    /// (--from/--to, YYYY-MM-DD, both included) and status (--status booked... comma-separated).
    List {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        patient: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// pending, confirmed, reminded, checked_in, in_progress, completed, no_show, cancelled,
        /// rescheduled (any of them, comma-separated)
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
        /// At most this many (1–1000, default 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Free slots from shifts and availability minus appointments and blocks.
    Slots {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long, default_value_t = 30)]
        duration: i64,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppointmentTypeCmd {
    Create(WriteArgs),
    List {
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AvailabilityCmd {
    /// --set start=… --set end=… [--set provider_id=…] [--set is_available=yes] [--set reason=Holiday]
    Create(WriteArgs),
    Delete {
        id: String,
    },
    /// Close weekends and holidays: --set from=2027-01-01 --set to=2027-12-31
    /// [--set holidays="2027-12-25=Christmas Day,2027-12-26"] [--set weekends=no]
    /// [--set weekend_days=sat,sun] [--set provider_id=…]
    Closures(WriteArgs),
    /// Close the days of a holiday calendar (.ics): every all-day event becomes a closed day
    /// of the clinic; importing it again changes nothing.
    ImportIcal {
        file: PathBuf,
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the audit log: the hash chain, the triggers (a dropped or changed one), every
    /// audited row against its latest audited values, and the seals; reports every problem.
    Verify {
        /// The audit verification key shown when the database was created (64 hex digits, or
        /// @FILE holding them): also checks every seal's MAC (history rewritten and re-hashed,
        /// sealed entries cut off). Without it the seals' MACs are not checked.
        #[arg(long)]
        verification_key: Option<String>,
    },
    /// Seal the entries written since the last seal and evolve the sealing key (the desktop
    /// app does this every minute; run it from cron when only the CLI is used).
    Seal,
    /// Re-create the triggers that differ from this version's (a dropped or changed audit
    /// trigger, reported by `audit verify`) and record the repair in the audit log.
    RepairTriggers,
    /// Audit entries, newest first (at most --limit, default 200).
    List {
        /// A table (appointments, patients, …) or an event area (users, permission, database, settings).
        #[arg(long)]
        table: Option<String>,
        #[arg(long)]
        row: Option<String>,
        /// insert, update, soft_delete, restore, denied, login, login_failed, event
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
}

/// Field values: `--set name=value` (repeatable; an empty value clears an optional field) and/or
/// `--data '{...}'` (or `--data @file`, `--data -` for stdin).
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The record's id (update).
    pub id: Option<String>,
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Fields as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
    #[arg(long)]
    pub clinic: Option<String>,
    #[arg(long)]
    pub staff: Option<String>,
    #[arg(long)]
    pub patient: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub clinic: Option<String>,
    #[arg(long)]
    pub staff: Option<String>,
    /// Case-insensitive text filter.
    #[arg(long)]
    pub q: Option<String>,
    #[arg(long)]
    pub include_deleted: bool,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub offset: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Crud {
    Create(WriteArgs),
    Get { id: String },
    Update(WriteArgs),
    Delete { id: String },
    List(ListArgs),
}

#[derive(Debug, Subcommand)]
pub enum CredentialCmd {
    #[command(flatten)]
    Crud(Crud),
    /// Record a check with the issuer: ID --set method=primary_source --set result=verified
    /// [--set reference=…] [--set notes=…]   (methods: primary_source, online_lookup, document,
    /// phone, other; results: verified, failed, pending)
    Verify(WriteArgs),
    /// Record an adverse action: ID --set action_type=suspension --set reason=… --set
    /// start_date=2027-03-01 [--set end_date=2027-03-31] [--set authority=…]   (suspension,
    /// revocation — final, no end date —, probation, restriction)
    AdverseAction(WriteArgs),
    /// Renew: ID --set expiry_date=2028-06-30 [--set issue_date=…] [--set credential_number=…]
    Renew(WriteArgs),
    /// A credential's verifications, adverse actions and alerts.
    History { id: String },
    /// Re-evaluate every credential now: expiries, suspension periods, alerts, coverage needs
    /// (the app does this at start-up and every minute).
    Evaluate,
    /// Open expiry alerts (--all: acknowledged ones and those of earlier expiry dates too).
    Alerts {
        #[command(flatten)]
        filter: CredentialFilterArgs,
        #[arg(long)]
        all: bool,
    },
    /// Acknowledge an expiry alert.
    Ack { id: String },
    /// Expired credentials and those expiring within --within days (7, 30, 60, 90; default 90).
    Expiring(CredentialFilterArgs),
    /// Staff whose shifts or appointments fall after the expiry (or in a suspension) of a
    /// credential their discipline requires.
    AtRisk(CredentialFilterArgs),
    /// Expired, expiring and at-risk in one view across every clinic you manage.
    Dashboard(CredentialFilterArgs),
}

/// Filters of the credential views.
#[derive(Debug, Args)]
pub struct CredentialFilterArgs {
    #[arg(long)]
    pub clinic: Option<String>,
    #[arg(long)]
    pub staff: Option<String>,
    /// A credential type's id.
    #[arg(long = "type")]
    pub credential_type: Option<String>,
    /// Expiring within this many days (default 90).
    #[arg(long)]
    pub within: Option<i64>,
    /// At-risk work up to this many days ahead (default 90).
    #[arg(long)]
    pub horizon: Option<i64>,
    /// Shifts and appointments listed per at-risk staff member (default 10).
    #[arg(long)]
    pub limit: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; the password comes from CLINICDESK_NEW_PASSWORD.
    Create(WriteArgs),
    Get {
        id: String,
    },
    Update(WriteArgs),
    Delete {
        id: String,
    },
    List(ListArgs),
    /// Reset another user's password (from CLINICDESK_NEW_PASSWORD).
    SetPassword {
        id: String,
    },
    /// Change your own password to CLINICDESK_NEW_PASSWORD (the password you sign in with is
    /// checked again as the current one).
    ChangePassword,
}

#[derive(Debug, Subcommand)]
pub enum RoleCmd {
    Grant {
        /// The user's id (see `user list`).
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        role: String,
    },
    Revoke {
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        role: String,
    },
    List {
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatientCmd {
    Create(WriteArgs),
    Get {
        id: String,
    },
    Update(WriteArgs),
    Delete {
        id: String,
    },
    /// A clinic's patients (not deleted) by last and first name, a page at a time.
    List {
        #[arg(long)]
        clinic: String,
        /// At most this many (1–1000, default 100).
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        offset: Option<u32>,
    },
    /// Search by name, MRN, phone or date of birth.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Import patients from a CSV file whose first line names the columns: legacy_id,
    /// first_name, last_name (required), mrn, middle_name, preferred_name, date_of_birth, sex,
    /// email, phone, address_line1, city, state, postal_code, preferred_contact_method,
    /// consent_sms, consent_email, notes. All rows or none; rows whose legacy_id is already
    /// imported are skipped. Admins and managers.
    Import {
        file: PathBuf,
        #[arg(long)]
        clinic: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InsuranceCmd {
    Add(WriteArgs),
    Update(WriteArgs),
    Delete {
        id: String,
    },
    List {
        #[arg(long)]
        patient: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KpiCmd {
    /// No-show, cancellation, utilization, waitlist fill and credential compliance per period:
    /// --clinic … --period week --from 2027-03-01 --to 2027-03-31
    Report {
        #[arg(long)]
        clinic: String,
        /// day, week (Monday first) or month
        #[arg(long, default_value = "week")]
        period: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Record an event staff report: --clinic … --set event_type=safety_alert
    /// [--set severity=high] [--set notes=…]; equipment_used and supply_depleted need
    /// --set item=…; custom needs --set event_name=…
    Record(WriteArgs),
}

#[derive(Debug, Subcommand)]
pub enum GoalCmd {
    /// The system's goals and the clinic's own.
    List {
        #[arg(long)]
        clinic: String,
    },
    /// --clinic … --set name=… --set metric_key=no_show_rate --set comparator=lt
    /// --set target_value=5% [--set period=month] [--set description=…]
    Create(WriteArgs),
    /// Each goal's value in its period holding --date (default: the clinic's today).
    Progress {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CapacityCmd {
    /// Take the clinic's snapshot now.
    Snapshot {
        #[arg(long)]
        clinic: String,
    },
    /// Snapshots, newest first.
    List {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// SQLite's integrity check, SQLCipher's page check and the audit chain (admins); exit code 1
    /// when any fails.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum ServerCmd {
    /// Prepare a new server: apply the server migrations (schemas, tables, the device group
    /// role). Running it again changes nothing.
    Init(ServerUrlArg),
    /// Apply the server migrations of this version (an upgrade).
    Migrate(ServerUrlArg),
    /// Stop a device at once: it reads nothing from its next statement, cannot sign in again,
    /// and its open sessions are terminated.
    RevokeDevice {
        #[command(flatten)]
        server: ServerUrlArg,
        /// The device id (`clinicdesk sync enrol` prints it).
        #[arg(long)]
        device: String,
    },
}

#[derive(Debug, Args)]
pub struct ServerUrlArg {
    /// postgres://OWNER@HOST:PORT/DATABASE (no password in it). A host other than this
    /// computer is reached over TLS with a verified certificate: sslmode=verify-full (the
    /// default) or verify-ca, plus sslrootcert=/path/to/ca.pem for a CA that is not public.
    #[arg(long, env = "CLINICDESK_SERVER_URL")]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Make this PC a sync device (the organisation's owner, signed in): its own server role
    /// with a random password, kept in the OS keyring (or a file beside the key file). The
    /// server owner's password (CLINICDESK_SERVER_PASSWORD or the next line of standard
    /// input) is used once and never stored.
    Enrol {
        #[command(flatten)]
        server: ServerUrlArg,
        /// Keep the device's sync password in this new file (mode 0600) instead of the OS
        /// keyring; by default `<key file>.sync` when the database key is in a key file.
        #[arg(long, env = "CLINICDESK_SYNC_KEY_FILE")]
        sync_key_file: Option<PathBuf>,
        /// The first PC only: copy every row of this database to the (empty) server, in the
        /// enrolment's transaction. The other PCs join with an empty database.
        #[arg(long, conflicts_with = "join")]
        seed: bool,
        /// A new PC: create the database given by --db (it must not exist) from the server's
        /// data (initial sync), as a new device. No sign-in is needed: the server owner's
        /// password authorises it.
        #[arg(long)]
        join: bool,
        /// With --join: the id of a clinic this PC syncs (repeat for several); all the
        /// server's clinics when not given.
        #[arg(long = "clinic", requires = "join")]
        clinics: Vec<String>,
    },
    /// Push this PC's pending changes and pull the server's, once.
    Now,
    /// What sync knows: enrolled or not, pending changes, last success, last error.
    Status,
    /// The server's verdicts on this PC's clinics (bookings cancelled because another PC took
    /// the slot first): patient, provider, slot, who kept it and the patient's phone. Open
    /// ones; all with --all.
    Conflicts {
        /// Resolved ones too.
        #[arg(long)]
        all: bool,
    },
    /// Resolve a conflict: --dismiss, --waitlisted or --rebooked <appointment id>, with a note.
    Resolve {
        /// The conflict's id (from `sync conflicts`).
        id: String,
        /// Nothing more to do (the patient was told, or does not want another time).
        #[arg(long, conflicts_with_all = ["rebooked", "waitlisted"], required_unless_present_any = ["rebooked", "waitlisted"])]
        dismiss: bool,
        /// The patient was put on the waitlist.
        #[arg(long, conflicts_with = "rebooked")]
        waitlisted: bool,
        /// The patient was rebooked: the new appointment's id.
        #[arg(long, value_name = "APPOINTMENT_ID")]
        rebooked: Option<String>,
        /// What was done or agreed.
        #[arg(long)]
        note: Option<String>,
    },
}
