//! Demo data: a realistic, reproducible clinic network generated straight into a new, empty
//! database, fast.
//!
//! Everything is written in ONE `WriteMode::Bulk` transaction: the triggers skip per-row audit
//! and change capture (demo data must never replicate), one summary audit event is appended at
//! the end, and a cancelled or failed run rolls back and leaves the database as it was.
//!
//! Rows are written with raw prepared statements (not the serde layer) for speed. The random
//! generator is seeded, so two runs produce the same shape of data (ids and "today" differ).
//!
//! Deliberately not generated: `appointment_status_history` (millions of rows for no demo
//! value; the appointment rows carry their timestamps), KPI events, capacity snapshots,
//! waitlist entries, cases and series.

use std::time::Instant;

use chrono::{Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use clinicdesk_domain::{local_to_utc, DomainError};
use clinicdesk_store::{bulk, Store, WriteMode, WriteTx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use clinicdesk_api::ApiError;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// Bookable 30-minute slots between 08:00 and 17:00 local.
const SLOTS: usize = 18;
const SLOT_MS: i64 = 30 * MIN;
/// At most this many appointments per provider per day.
const MAX_PER_DAY: u64 = 16;
/// Progress is reported about this often (rows).
const REPORT_EVERY: u64 = 50_000;

/// How much demo data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DemoSize {
    /// One clinic, 12 staff, 500 patients, 5,000 appointments (a few seconds).
    Small,
    /// Five clinics, 250 staff, 200,000 patients, 2,000,000 appointments over five years.
    Large,
}

impl DemoSize {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small" => Ok(DemoSize::Small),
            "large" => Ok(DemoSize::Large),
            other => Err(DomainError::invalid(
                "size",
                format!("'{other}' is not a demo size (use small or large)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DemoSize::Small => "small",
            DemoSize::Large => "large",
        }
    }

    fn plan(self) -> Plan {
        match self {
            DemoSize::Small => Plan {
                clinics: 1,
                staff_per_clinic: 12,
                clinical_per_clinic: 9,
                patients: 500,
                appointments: 5_000,
                past_days: 150,
                future_days: 30,
                rooms_per_clinic: 6,
            },
            DemoSize::Large => Plan {
                clinics: 5,
                staff_per_clinic: 50,
                clinical_per_clinic: 40,
                patients: 200_000,
                appointments: 2_000_000,
                past_days: 1_643,
                future_days: 183,
                rooms_per_clinic: 10,
            },
        }
    }
}

/// What `generate_demo` wrote.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DemoReport {
    pub size: DemoSize,
    pub rows_total: u64,
    /// (table, rows) in the order the tables were filled.
    pub rows_by_table: Vec<(String, u64)>,
    /// Wall-clock time of the whole run, commit included.
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Sign in as this user (with the password given) to look around.
    pub admin_username: String,
}

/// The demo users; all get the same password.
pub const DEMO_USERS: [&str; 5] = ["admin", "manager", "frontdesk", "clinician", "viewer"];

struct Plan {
    clinics: usize,
    staff_per_clinic: usize,
    clinical_per_clinic: usize,
    patients: usize,
    appointments: u64,
    past_days: i64,
    future_days: i64,
    rooms_per_clinic: usize,
}

/// Knobs measured while tuning the large generation (see the ignored `demo_large` test).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Appointment indexes to drop before the bulk insert and rebuild (from their exact SQL)
    /// after it. Indexes that grow at their end (clinic/provider/room + time) are cheaper to
    /// keep; the patient index is written in random order and is cheaper to rebuild.
    pub drop_indexes: &'static [&'static str],
    /// Patient indexes to drop before the load and rebuild after it (those written in random
    /// order: name and date of birth).
    pub drop_patient_indexes: &'static [&'static str],
    /// In-memory size (MiB) of the patient search index's pending changes during the run
    /// (FTS5 'hashsize'; 0 = leave alone); the previous value is restored.
    pub fts_hash_mib: i64,
    /// Page cache of the writer connection during the run (MiB); restored afterwards.
    pub cache_mib: i64,
    /// Drop the generated audit/change-capture AFTER INSERT triggers of the tables filled
    /// here for the run and recreate them, from their exact SQL, before commit. In Bulk mode
    /// they write nothing anyway, but evaluating them costs more than the insert itself.
    pub suspend_bulk_triggers: bool,
    /// Fill the patient search index after the patients are loaded, with one statement,
    /// instead of through its AFTER INSERT trigger.
    pub fts_after_load: bool,
    /// Helper threads for the sorts of CREATE INDEX during the run (`PRAGMA threads`);
    /// restored afterwards.
    pub sort_threads: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            drop_indexes: &[
                // Rebuilt by one sort after the load: 22 s for the large demo against 23.5 s
                // when the rows update it as they arrive (measured on the same machine).
                "ix_appointments_day",
                "ix_appointments_provider_time",
                "ix_appointments_patient_time",
                "ix_appointments_room_time",
            ],
            drop_patient_indexes: &["ix_patients_name", "ix_patients_dob"],
            fts_hash_mib: 64,
            cache_mib: 1536,
            suspend_bulk_triggers: true,
            fts_after_load: true,
            sort_threads: 0,
        }
    }
}

/// Fill a new, empty database with demo data (see the module docs). `progress(stage, done,
/// total)` is called about every 50,000 rows; returning false cancels, and nothing is kept.
pub fn generate_demo(
    store: &Store,
    size: DemoSize,
    password: &str,
    progress: &mut dyn FnMut(&str, u64, u64) -> bool,
) -> Result<DemoReport, ApiError> {
    generate_with(store, size, password, progress, Tuning::default())
}

fn refuse_if_not_empty(conn: &rusqlite::Connection) -> Result<(), ApiError> {
    let used: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM patients)",
        [],
        |r| r.get(0),
    )?;
    if used {
        return Err(ApiError::Conflict(
            "demo data can only be generated into a new, empty database".into(),
        ));
    }
    Ok(())
}

/// The tables this generator fills (each a replicated table of the store's registry: checked
/// when their triggers are suspended, and by a test).
const TABLES: [&str; 16] = [
    "clinics",
    "users",
    "user_clinic_roles",
    "ops_credential_types",
    "staff_profiles",
    "ops_credentials",
    "ops_adverse_actions",
    "ops_treatment_rooms",
    "ops_shifts",
    "appointment_types",
    "employer_accounts",
    "insurance_payers",
    "patients",
    "patient_insurance",
    "ops_staff_schedules",
    "appointments",
];

pub(crate) fn generate_with(
    store: &Store,
    size: DemoSize,
    password: &str,
    progress: &mut dyn FnMut(&str, u64, u64) -> bool,
    tuning: Tuning,
) -> Result<DemoReport, ApiError> {
    let started = Instant::now();
    store.read(refuse_if_not_empty)?;
    // Hashed once; every demo user shares the PHC string.
    let hash = clinicdesk_api::hash_password(password)?;
    let plan = size.plan();
    let counts = store.write_as(WriteMode::Bulk, None, |tx| {
        refuse_if_not_empty(tx)?;
        // The large cache stays for the baseline and the commit (`write_as` restores it).
        let old_threads: i64 = tx.query_row("PRAGMA threads", [], |r| r.get(0))?;
        tx.execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA threads = {};",
            tuning.cache_mib * 1024,
            tuning.sort_threads
        ))?;
        let result = (|| {
            let triggers = if tuning.suspend_bulk_triggers {
                bulk::suspend_insert_triggers(tx, &TABLES)?
            } else {
                Vec::new()
            };
            let mut g = Gen::new(tx, &plan, progress, tuning);
            g.run(&hash)?;
            bulk::restore(tx, &triggers)?;
            g.report("commit")?;
            Ok::<_, ApiError>(g.counts)
        })();
        tx.execute_batch(&format!("PRAGMA threads = {old_threads};"))?;
        let counts = result?;
        let summary: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(t, n)| (t.to_string(), json!(n)))
            .collect();
        tx.audit_event(
            "database",
            None,
            "event",
            &json!({ "demo": { "size": size.as_str(), "rows": summary } }),
        )?;
        Ok::<_, ApiError>(counts)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let rows_total: u64 = counts.iter().map(|(_, n)| n).sum();
    Ok(DemoReport {
        size,
        rows_total,
        rows_by_table: counts
            .into_iter()
            .map(|(t, n)| (t.to_string(), n))
            .collect(),
        seconds,
        rows_per_second: rows_total as f64 / seconds.max(1e-9),
        admin_username: "admin".into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Fixed reference data
// ---------------------------------------------------------------------------------------------

struct ClinicDef {
    name: &'static str,
    code: &'static str,
    tz: &'static str,
    address: &'static str,
    city: &'static str,
    state: &'static str,
    postal: &'static str,
    country: &'static str,
    /// Area codes for NANP phones; empty for Australia.
    area_codes: &'static [&'static str],
    /// First letter of Canadian postal codes; empty for Australia.
    postal_letter: &'static str,
    email: &'static str,
}

const CLINICS: [ClinicDef; 5] = [
    ClinicDef {
        name: "Summit Rehab Calgary",
        code: "CGY",
        tz: "America/Edmonton",
        address: "1200 8 Ave SW",
        city: "Calgary",
        state: "AB",
        postal: "T2P 1J9",
        country: "CA",
        area_codes: &["403", "587"],
        postal_letter: "T",
        email: "calgary@summit-rehab.example",
    },
    ClinicDef {
        name: "Summit Rehab Edmonton",
        code: "EDM",
        tz: "America/Edmonton",
        address: "10250 Jasper Ave NW",
        city: "Edmonton",
        state: "AB",
        postal: "T5J 1Y8",
        country: "CA",
        area_codes: &["780", "587"],
        postal_letter: "T",
        email: "edmonton@summit-rehab.example",
    },
    ClinicDef {
        name: "Summit Rehab Vancouver",
        code: "VAN",
        tz: "America/Vancouver",
        address: "888 Granville St",
        city: "Vancouver",
        state: "BC",
        postal: "V6Z 1K3",
        country: "CA",
        area_codes: &["604", "778"],
        postal_letter: "V",
        email: "vancouver@summit-rehab.example",
    },
    ClinicDef {
        name: "Summit Rehab Toronto",
        code: "TOR",
        tz: "America/Toronto",
        address: "350 Bay St",
        city: "Toronto",
        state: "ON",
        postal: "M5H 2S6",
        country: "CA",
        area_codes: &["416", "647"],
        postal_letter: "M",
        email: "toronto@summit-rehab.example",
    },
    ClinicDef {
        name: "Summit Rehab Sydney",
        code: "SYD",
        tz: "Australia/Sydney",
        address: "200 George St",
        city: "Sydney",
        state: "NSW",
        postal: "2000",
        country: "AU",
        area_codes: &[],
        postal_letter: "",
        email: "sydney@summit-rehab.example",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discipline {
    Physio,
    Massage,
    Chiro,
    Ot,
    Kin,
}

/// Discipline of the i-th clinical staff member of a clinic: 40% physio, 25% massage,
/// 15% kinesiology, 10% chiropractic, 10% occupational therapy, interleaved.
const DISCIPLINE_PATTERN: [Discipline; 20] = {
    use Discipline::*;
    [
        Physio, Massage, Physio, Chiro, Physio, Kin, Massage, Physio, Ot, Physio, Massage, Kin,
        Physio, Chiro, Massage, Physio, Ot, Kin, Massage, Physio,
    ]
};

// Appointment type indexes (per clinic).
const T_INITIAL: usize = 0;
const T_TREATMENT: usize = 1;
const T_FOLLOW_UP: usize = 2;
const T_MASSAGE: usize = 3;
/// (name, code, minutes, colour).
const APPOINTMENT_TYPES: [(&str, &str, i64, &str); 4] = [
    ("Initial assessment", "IA", 60, "#1f77b4"),
    ("Treatment", "TX", 30, "#2ca02c"),
    ("Follow-up", "FU", 30, "#9467bd"),
    ("Massage therapy", "MT", 60, "#ff7f0e"),
];

impl Discipline {
    fn as_str(self) -> &'static str {
        match self {
            Discipline::Physio => "physiotherapy",
            Discipline::Massage => "massage_therapy",
            Discipline::Chiro => "chiropractic",
            Discipline::Ot => "occupational_therapy",
            Discipline::Kin => "kinesiology",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Discipline::Physio => "Physiotherapist",
            Discipline::Massage => "Registered Massage Therapist",
            Discipline::Chiro => "Chiropractor",
            Discipline::Ot => "Occupational Therapist",
            Discipline::Kin => "Kinesiologist",
        }
    }
    /// Code of the discipline's licence credential type.
    fn licence(self) -> &'static str {
        match self {
            Discipline::Physio => "PT_LIC",
            Discipline::Massage => "RMT_LIC",
            Discipline::Chiro => "DC_LIC",
            Discipline::Ot => "OT_LIC",
            Discipline::Kin => "KIN_REG",
        }
    }
    /// Relative daily load (massage sessions are long and therapists book fewer of them).
    fn load(self) -> f64 {
        match self {
            Discipline::Massage => 0.75,
            _ => 1.0,
        }
    }
    fn pick_type(self, rng: &mut StdRng) -> usize {
        let r: f64 = rng.random();
        match self {
            Discipline::Physio | Discipline::Chiro => {
                if r < 0.12 {
                    T_INITIAL
                } else if r < 0.67 {
                    T_TREATMENT
                } else {
                    T_FOLLOW_UP
                }
            }
            Discipline::Massage => {
                if r < 0.85 {
                    T_MASSAGE
                } else {
                    T_TREATMENT
                }
            }
            Discipline::Ot => {
                if r < 0.25 {
                    T_INITIAL
                } else if r < 0.55 {
                    T_TREATMENT
                } else {
                    T_FOLLOW_UP
                }
            }
            Discipline::Kin => {
                if r < 0.7 {
                    T_TREATMENT
                } else {
                    T_FOLLOW_UP
                }
            }
        }
    }
}

/// (code, name, description, required_for_disciplines, is_required_for_clinical, renewal months).
const CREDENTIAL_TYPES: [(&str, &str, &str, &str, bool, i64); 7] = [
    (
        "PT_LIC",
        "Physiotherapy licence",
        "Provincial/state physiotherapy practice permit",
        r#"["physiotherapy"]"#,
        false,
        12,
    ),
    (
        "RMT_LIC",
        "Massage therapy licence",
        "Registered massage therapist registration",
        r#"["massage_therapy"]"#,
        false,
        12,
    ),
    (
        "DC_LIC",
        "Chiropractic licence",
        "Chiropractic college registration",
        r#"["chiropractic"]"#,
        false,
        12,
    ),
    (
        "OT_LIC",
        "Occupational therapy licence",
        "Occupational therapy college registration",
        r#"["occupational_therapy"]"#,
        false,
        12,
    ),
    (
        "KIN_REG",
        "Kinesiology registration",
        "Kinesiology association membership",
        r#"["kinesiology"]"#,
        false,
        12,
    ),
    (
        "CPR_BLS",
        "CPR / BLS",
        "CPR level C / Basic Life Support for healthcare providers",
        "[]",
        true,
        24,
    ),
    (
        "LIAB_INS",
        "Professional liability insurance",
        "Malpractice / professional liability cover",
        "[]",
        true,
        12,
    ),
];

fn issuing_authority(code: &str, state: &str) -> &'static str {
    match (code, state) {
        ("CPR_BLS", _) => "Heart and Stroke Foundation",
        ("LIAB_INS", _) => "Lloyd's Healthcare Professional Cover",
        ("PT_LIC", "AB") => "Physiotherapy Alberta College + Association",
        ("PT_LIC", "BC") => "College of Health and Care Professionals of BC",
        ("PT_LIC", "ON") => "College of Physiotherapists of Ontario",
        ("RMT_LIC", "ON") => "College of Massage Therapists of Ontario",
        ("RMT_LIC", _) => "Massage Therapy Association",
        ("DC_LIC", "AB") => "Alberta College and Association of Chiropractors",
        ("OT_LIC", "AB") => "Alberta College of Occupational Therapists",
        ("KIN_REG", "ON") => "College of Kinesiologists of Ontario",
        ("KIN_REG", _) => "Kinesiology Association",
        (_, "NSW") => "Australian Health Practitioner Regulation Agency",
        _ => "Provincial regulatory college",
    }
}

/// (name, shift_type, start, end, capacity, colour).
const SHIFTS: [(&str, &str, &str, &str, i64, &str); 5] = [
    ("Morning", "morning", "07:00", "15:00", 3, "#4e79a7"),
    ("Afternoon", "afternoon", "12:00", "20:00", 3, "#f28e2b"),
    ("Full day", "full_day", "08:00", "17:00", 10, "#59a14f"),
    ("Evening", "evening", "16:00", "22:00", 2, "#b07aa1"),
    ("Night", "night", "22:00", "06:00", 1, "#76b7b2"),
];
const SHIFT_MORNING: usize = 0;
const SHIFT_AFTERNOON: usize = 1;
const SHIFT_FULL_DAY: usize = 2;
const SHIFT_EVENING: usize = 3;
const SHIFT_NIGHT: usize = 4;

/// (name, code, type, city, state, region: "CA" | "AB" | "BC" | "ON" | "AU").
const PAYERS: [(&str, &str, &str, &str, &str, &str); 10] = [
    (
        "Alberta Blue Cross",
        "ABC",
        "commercial",
        "Edmonton",
        "AB",
        "AB",
    ),
    (
        "WCB Alberta",
        "WCBAB",
        "workers_comp",
        "Edmonton",
        "AB",
        "AB",
    ),
    (
        "Sun Life Financial",
        "SUNL",
        "commercial",
        "Toronto",
        "ON",
        "CA",
    ),
    ("Manulife", "MANU", "commercial", "Toronto", "ON", "CA"),
    ("Canada Life", "CLIFE", "commercial", "Winnipeg", "MB", "CA"),
    (
        "Pacific Blue Cross",
        "PBC",
        "commercial",
        "Burnaby",
        "BC",
        "BC",
    ),
    ("ICBC", "ICBC", "auto", "North Vancouver", "BC", "BC"),
    (
        "WSIB Ontario",
        "WSIB",
        "workers_comp",
        "Toronto",
        "ON",
        "ON",
    ),
    ("Medibank", "MEDI", "commercial", "Melbourne", "VIC", "AU"),
    (
        "Medicare Australia",
        "MCAU",
        "government",
        "Canberra",
        "ACT",
        "AU",
    ),
];

/// (name, industry, employees, city, state).
const EMPLOYERS: [(&str, &str, i64, &str, &str); 6] = [
    ("Prairie Energy Ltd.", "Oil and gas", 2400, "Calgary", "AB"),
    (
        "Northern Rail Logistics",
        "Transportation",
        5100,
        "Edmonton",
        "AB",
    ),
    (
        "Coastal Construction Group",
        "Construction",
        860,
        "Vancouver",
        "BC",
    ),
    (
        "Lakeshore Manufacturing",
        "Manufacturing",
        1300,
        "Toronto",
        "ON",
    ),
    (
        "City Transit Authority",
        "Public transit",
        7200,
        "Calgary",
        "AB",
    ),
    (
        "Harbour Health Services",
        "Healthcare",
        640,
        "Sydney",
        "NSW",
    ),
];

const ADMIN_TITLES: &[&str] = &[
    "Clinic Manager",
    "Front Desk Coordinator",
    "Patient Care Coordinator",
    "Receptionist",
    "Billing Specialist",
    "Receptionist",
    "Administrative Assistant",
    "Scheduling Coordinator",
    "Receptionist",
    "Office Administrator",
];

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

fn new_id() -> String {
    Uuid::now_v7().hyphenated().to_string()
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn hhmm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap_or(NaiveTime::MIN)
}

/// UTC ms of a local wall-clock time; None inside a DST gap.
fn local_ms(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<i64> {
    local_to_utc(tz, date.and_time(time))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn date_ms(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

fn ymd(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A stable pseudo-random number in [0, 1) from a key (splitmix64), without touching the RNG.
fn unit_hash(key: u64) -> f64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Lower-case ASCII for e-mail addresses ("Côté" -> "cote", "O'Brien" -> "obrien").
fn email_part(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'à' | 'â' | 'ä' | 'á' => 'a',
                'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
                'î' | 'ï' | 'í' => 'i',
                'ô' | 'ö' | 'ó' => 'o',
                'û' | 'ü' | 'ú' => 'u',
                'ç' | 'č' => 'c',
                'ś' => 's',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn phone(rng: &mut StdRng, c: &ClinicDef) -> String {
    if c.area_codes.is_empty() {
        format!("(02) 5550 {:04}", rng.random_range(0..10_000))
    } else {
        format!(
            "({}) 555-{:04}",
            pick(rng, c.area_codes),
            rng.random_range(0..10_000)
        )
    }
}

fn postal_code(rng: &mut StdRng, c: &ClinicDef) -> String {
    if c.postal_letter.is_empty() {
        return format!("{}", rng.random_range(2000..2235));
    }
    const L: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
    let l = |rng: &mut StdRng| L[rng.random_range(0..L.len())] as char;
    format!(
        "{}{}{} {}{}{}",
        c.postal_letter,
        rng.random_range(1..10),
        l(rng),
        rng.random_range(0..10),
        l(rng),
        rng.random_range(0..10)
    )
}

/// When a staff member works: weekday pattern, hire date, holidays and a staggered vacation
/// week in every thirteen (about four weeks a year).
#[derive(Debug, Clone, Copy)]
struct Workdays {
    hire: NaiveDate,
    /// Weekdays worked, bit 0 = Monday.
    days: u8,
    vacation_offset: i32,
}

impl Workdays {
    fn works(&self, date: NaiveDate) -> bool {
        if date < self.hire {
            return false;
        }
        let wd = date.weekday().num_days_from_monday();
        if self.days & (1 << wd) == 0 {
            return false;
        }
        let (m, d) = (date.month(), date.day());
        if (m == 1 && d == 1) || (m == 12 && (d == 25 || d == 26)) {
            return false;
        }
        (date.num_days_from_ce() / 7 + self.vacation_offset) % 13 != 0
    }
}

struct ClinicInfo {
    def: &'static ClinicDef,
    id: String,
    tz: Tz,
    today: NaiveDate,
    rooms: Vec<String>,
    types: Vec<String>,
    shifts: Vec<String>,
    /// Global indexes of this clinic's clinical staff, in order.
    providers: Vec<usize>,
    /// This clinic's patients: `patient_ids[patients.0 .. patients.1]`.
    patients: (usize, usize),
}

struct StaffInfo {
    id: String,
    clinic: usize,
    discipline: Option<Discipline>,
    admin_index: usize,
    work: Workdays,
}
// ---------------------------------------------------------------------------------------------
// Name lists (Canadian / Australian mix)
// ---------------------------------------------------------------------------------------------

const FEMALE_FIRST: &[&str] = &[
    "Olivia",
    "Emma",
    "Charlotte",
    "Amelia",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Evelyn",
    "Harper",
    "Abigail",
    "Emily",
    "Elizabeth",
    "Sofia",
    "Ella",
    "Madison",
    "Scarlett",
    "Victoria",
    "Aria",
    "Grace",
    "Chloe",
    "Camila",
    "Penelope",
    "Riley",
    "Layla",
    "Lillian",
    "Nora",
    "Zoey",
    "Mila",
    "Aubrey",
    "Hannah",
    "Lily",
    "Addison",
    "Eleanor",
    "Natalie",
    "Luna",
    "Savannah",
    "Brooklyn",
    "Leah",
    "Zoe",
    "Stella",
    "Hazel",
    "Ellie",
    "Paisley",
    "Audrey",
    "Skylar",
    "Violet",
    "Claire",
    "Bella",
    "Aurora",
    "Lucy",
    "Anna",
    "Samantha",
    "Caroline",
    "Genesis",
    "Aaliyah",
    "Kennedy",
    "Kinsley",
    "Allison",
    "Maya",
    "Sarah",
    "Madelyn",
    "Adeline",
    "Alexa",
    "Ariana",
    "Elena",
    "Gabriella",
    "Naomi",
    "Alice",
    "Sadie",
    "Hailey",
    "Eva",
    "Emilia",
    "Autumn",
    "Quinn",
    "Nevaeh",
    "Piper",
    "Ruby",
    "Serenity",
    "Willow",
    "Margaret",
    "Patricia",
    "Jennifer",
    "Linda",
    "Barbara",
    "Susan",
    "Jessica",
    "Karen",
    "Nancy",
    "Lisa",
    "Betty",
    "Sandra",
    "Ashley",
    "Donna",
    "Michelle",
    "Carol",
    "Amanda",
    "Melissa",
    "Deborah",
    "Stephanie",
    "Rebecca",
    "Sharon",
    "Laura",
    "Cynthia",
    "Kathleen",
    "Amy",
    "Angela",
    "Shirley",
    "Brenda",
    "Pamela",
    "Priya",
    "Ananya",
    "Mei",
    "Yuki",
    "Fatima",
    "Aisha",
    "Noor",
    "Ximena",
    "Mariana",
    "Ngozi",
    "Siobhan",
    "Aoife",
    "Ingrid",
    "Freya",
    "Chantal",
    "Genevieve",
    "Isabelle",
    "Manon",
    "Mackenzie",
    "Tui",
];

const MALE_FIRST: &[&str] = &[
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Theodore",
    "Jack",
    "Levi",
    "Alexander",
    "Jackson",
    "Mateo",
    "Daniel",
    "Michael",
    "Mason",
    "Sebastian",
    "Ethan",
    "Logan",
    "Owen",
    "Samuel",
    "Jacob",
    "Asher",
    "Aiden",
    "John",
    "Joseph",
    "Wyatt",
    "David",
    "Leo",
    "Luke",
    "Julian",
    "Hudson",
    "Grayson",
    "Matthew",
    "Ezra",
    "Gabriel",
    "Carter",
    "Isaac",
    "Jayden",
    "Luca",
    "Anthony",
    "Dylan",
    "Lincoln",
    "Thomas",
    "Maverick",
    "Elias",
    "Josiah",
    "Charles",
    "Caleb",
    "Christopher",
    "Ezekiel",
    "Miles",
    "Jaxon",
    "Isaiah",
    "Andrew",
    "Joshua",
    "Nathan",
    "Nolan",
    "Adrian",
    "Cameron",
    "Santiago",
    "Eli",
    "Aaron",
    "Ryan",
    "Angel",
    "Cooper",
    "Waylon",
    "Easton",
    "Kai",
    "Christian",
    "Landon",
    "Colton",
    "Roman",
    "Axel",
    "Brooks",
    "Jonathan",
    "Robert",
    "Jameson",
    "Richard",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Timothy",
    "Ronald",
    "Edward",
    "Jason",
    "Jeffrey",
    "Gary",
    "Eric",
    "Stephen",
    "Larry",
    "Justin",
    "Scott",
    "Brandon",
    "Raymond",
    "Gregory",
    "Frank",
    "Patrick",
    "Dennis",
    "Peter",
    "Harold",
    "Douglas",
    "Wayne",
    "Arjun",
    "Rohan",
    "Wei",
    "Hiroshi",
    "Omar",
    "Yusuf",
    "Tariq",
    "Diego",
    "Mateus",
    "Chidi",
    "Cian",
    "Finn",
    "Lars",
    "Bjorn",
    "Étienne",
    "Mathieu",
    "Jean-Luc",
    "Rhys",
    "Hamish",
    "Tane",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Brown",
    "Tremblay",
    "Martin",
    "Roy",
    "Wilson",
    "MacDonald",
    "Gagnon",
    "Johnson",
    "Taylor",
    "Campbell",
    "Anderson",
    "Leblanc",
    "Lee",
    "Jones",
    "White",
    "Williams",
    "Thompson",
    "Moore",
    "Young",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagné",
    "Ouellet",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Leclerc",
    "Girard",
    "Simard",
    "Boucher",
    "Caron",
    "Beaulieu",
    "Cloutier",
    "Dubé",
    "Poirier",
    "Fournier",
    "Lapointe",
    "Leduc",
    "Lefebvre",
    "Mercier",
    "Paquette",
    "Richard",
    "Thibault",
    "Vachon",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Hall",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Flores",
    "Morris",
    "Nguyen",
    "Murphy",
    "Rivera",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Gomez",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Diaz",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "James",
    "Reyes",
    "Cruz",
    "Hughes",
    "Price",
    "Myers",
    "Long",
    "Foster",
    "Sanders",
    "Ross",
    "Morales",
    "Powell",
    "Sullivan",
    "Russell",
    "Ortiz",
    "Jenkins",
    "Gutierrez",
    "Perry",
    "Butler",
    "Barnes",
    "Fisher",
    "Henderson",
    "Coleman",
    "Simmons",
    "Patterson",
    "Jordan",
    "Reynolds",
    "Hamilton",
    "Graham",
    "Kim",
    "Gonzales",
    "Alexander",
    "Ramos",
    "Wallace",
    "Griffin",
    "West",
    "Cole",
    "Hayes",
    "Chavez",
    "Gibson",
    "Bryant",
    "Ellis",
    "Stevens",
    "Murray",
    "Ford",
    "Marshall",
    "Owens",
    "McDonald",
    "Harrison",
    "Ruiz",
    "Kennedy",
    "Wells",
    "Alvarez",
    "Woods",
    "Mendoza",
    "Castillo",
    "Olson",
    "Webb",
    "Washington",
    "Tucker",
    "Freeman",
    "Burns",
    "Henry",
    "Vasquez",
    "Snyder",
    "Simpson",
    "Crawford",
    "Jimenez",
    "Porter",
    "Mason",
    "Shaw",
    "Gordon",
    "Wagner",
    "Hunter",
    "Romero",
    "Hicks",
    "Dixon",
    "Hunt",
    "Palmer",
    "Robertson",
    "Black",
    "Holmes",
    "Stone",
    "Meyer",
    "Boyd",
    "Mills",
    "Warren",
    "Fox",
    "Rose",
    "Rice",
    "Moreno",
    "Schmidt",
    "Patel",
    "Ferguson",
    "Nichols",
    "Herrera",
    "Medina",
    "Ryan",
    "Fernandez",
    "Weaver",
    "Daniels",
    "Stephens",
    "Gardner",
    "Payne",
    "Kelley",
    "Dunn",
    "Pierce",
    "Arnold",
    "Tran",
    "Spencer",
    "Peters",
    "Hawkins",
    "Grant",
    "Hansen",
    "Castro",
    "Hoffman",
    "Hart",
    "Elliott",
    "Cunningham",
    "Knight",
    "Bradley",
    "Carroll",
    "Hudson",
    "Duncan",
    "Armstrong",
    "Berry",
    "Andrews",
    "Johnston",
    "Ray",
    "Lane",
    "Riley",
    "Watkins",
    "Fraser",
    "McKenzie",
    "MacLeod",
    "Sinclair",
    "Sutherland",
    "Cameron",
    "Ferris",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Kovač",
    "Horvat",
    "Novak",
    "Schneider",
    "Fischer",
    "Weber",
    "Becker",
    "Schulz",
    "Wong",
    "Chen",
    "Liu",
    "Wang",
    "Zhang",
    "Li",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Singh",
    "Sharma",
    "Gill",
    "Sidhu",
    "Dhillon",
    "Grewal",
    "Sandhu",
    "Kaur",
    "Gupta",
    "Reddy",
    "Nakamura",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Watanabe",
    "Park",
    "Choi",
    "Jung",
    "Kang",
    "Cho",
    "Pham",
    "Le",
    "Hoang",
    "Vu",
    "Dang",
    "Santos",
    "Dela Cruz",
    "Bautista",
    "Garcia",
    "Mendoza-Reyes",
    "Ahmed",
    "Ali",
    "Hassan",
    "Hussain",
    "Khan",
    "Rahman",
    "Haddad",
    "Khoury",
    "Nasser",
    "Saleh",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Osei",
    "Abara",
    "Eze",
    "Kamau",
    "Mwangi",
    "Otieno",
    "Balogun",
    "O'Brien",
    "O'Connor",
    "O'Neill",
    "McCarthy",
    "Walsh",
    "Byrne",
    "Doyle",
    "Kavanagh",
    "Quinn",
    "Fitzgerald",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Johansson",
    "Andersson",
    "Larsen",
    "Nielsen",
    "Jensen",
    "Eriksen",
    "Lindqvist",
    "Berg",
    "Dahl",
    "Haugen",
    "Papadopoulos",
    "Georgiou",
    "Dimitriou",
    "Ivanov",
    "Petrov",
    "Smirnov",
    "Kuznetsov",
    "Popescu",
    "Horvath",
    "Szabo",
    "Whitehorse",
    "Bear",
    "Cardinal",
    "Crowchild",
    "Manyfingers",
    "Littlechild",
    "Starlight",
    "Eagle Tail",
    "Wolfleg",
    "Runningrabbit",
    "Te Rangi",
    "Walker-Smith",
    "Ngata",
    "Tipene",
    "Hohaia",
    "Nguyen-Tran",
    "Van der Berg",
    "De Vries",
    "Janssen",
    "Bakker",
];

const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Cres",
    "Elm St",
    "Pine Rd",
    "Birch Way",
    "Willow Blvd",
    "Spruce Pl",
    "Aspen Ct",
    "Lakeview Dr",
    "Riverside Rd",
    "Park Ave",
    "Hillcrest Rd",
    "Sunset Blvd",
    "King St",
    "Queen St",
    "Victoria Ave",
    "George St",
    "Church St",
    "Mill Rd",
    "Railway Ave",
    "Centre St",
    "Macleod Trail",
    "Bow Trail",
    "Whyte Ave",
    "Jasper Ave",
    "Granville St",
    "Kingsway",
    "Yonge St",
    "Bloor St",
    "Dundas St",
    "Pitt St",
    "Oxford St",
    "Parramatta Rd",
    "Crown St",
];

const REASONS: &[&str] = &[
    "Low back pain",
    "Neck pain",
    "Post-op knee rehab",
    "Rotator cuff strain",
    "Ankle sprain",
    "Sciatica",
    "Whiplash (MVA)",
    "Plantar fasciitis",
    "Tennis elbow",
    "Tension headaches",
    "Hip osteoarthritis",
    "Workplace injury",
    "Sports injury",
    "Concussion rehab",
    "Return-to-work program",
    "Postural assessment",
    "Shoulder impingement",
    "TMJ dysfunction",
    "Carpal tunnel",
    "Relaxation massage",
    "ACL reconstruction rehab",
    "Frozen shoulder",
    "Hamstring strain",
    "Pelvic floor",
    "Vestibular rehab",
    "Ergonomic assessment",
];

const CANCEL_REASONS: &[&str] = &[
    "Patient unwell",
    "Schedule conflict",
    "Weather",
    "Transportation issue",
    "Feeling better",
    "Provider unavailable",
    "Work commitment",
    "Family emergency",
    "Booked in error",
];

// ---------------------------------------------------------------------------------------------
// Multi-row inserts
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

struct Gen<'a, 't> {
    tx: &'a WriteTx<'t>,
    plan: &'a Plan,
    tuning: Tuning,
    rng: StdRng,
    progress: &'a mut dyn FnMut(&str, u64, u64) -> bool,
    done: u64,
    total: u64,
    next_report: u64,
    counts: Vec<(&'static str, u64)>,
    now: i64,
    clinics: Vec<ClinicInfo>,
    staff: Vec<StaffInfo>,
    users: Vec<String>,
    credential_types: Vec<String>,
    payers: Vec<String>,
    patient_ids: Vec<String>,
    /// Display names ("First Last"), by the same index: appointments carry them (V5).
    patient_names: Vec<String>,
}

impl<'a, 't> Gen<'a, 't> {
    fn new(
        tx: &'a WriteTx<'t>,
        plan: &'a Plan,
        progress: &'a mut dyn FnMut(&str, u64, u64) -> bool,
        tuning: Tuning,
    ) -> Self {
        // Rough number of rows, for the progress bar only.
        let staff = (plan.clinics * plan.staff_per_clinic) as u64;
        let total = plan.appointments
            + plan.patients as u64 * 135 / 100
            + staff * 45
            + (plan.clinics * (plan.rooms_per_clinic + 40)) as u64;
        Gen {
            tx,
            plan,
            tuning,
            rng: StdRng::seed_from_u64(42),
            progress,
            done: 0,
            total,
            next_report: REPORT_EVERY,
            counts: Vec::new(),
            now: Utc::now().timestamp_millis(),
            clinics: Vec::new(),
            staff: Vec::new(),
            users: Vec::new(),
            credential_types: Vec::new(),
            payers: Vec::new(),
            patient_ids: Vec::new(),
            patient_names: Vec::new(),
        }
    }

    fn report(&mut self, stage: &str) -> Result<(), ApiError> {
        self.total = self.total.max(self.done);
        if !(self.progress)(stage, self.done, self.total) {
            return Err(ApiError::Conflict(
                "demo data generation was cancelled; nothing was kept".into(),
            ));
        }
        Ok(())
    }

    /// Count one written row; reports progress every REPORT_EVERY rows.
    #[inline]
    fn row(&mut self, stage: &str) -> Result<(), ApiError> {
        self.done += 1;
        if self.done >= self.next_report {
            self.next_report = self.done + REPORT_EVERY;
            self.report(stage)?;
        }
        Ok(())
    }

    fn finish(&mut self, table: &'static str, n: u64) {
        self.counts.push((table, n));
    }

    fn run(&mut self, hash: &str) -> Result<(), ApiError> {
        self.report("clinics")?;
        self.clinics()?;
        self.users(hash)?;
        self.credential_types()?;
        self.report("staff")?;
        self.staff()?;
        self.credentials()?;
        self.rooms_shifts_types()?;
        self.employers_payers()?;
        self.report("patients")?;
        self.patients()?;
        self.report("schedules")?;
        self.schedules()?;
        self.report("appointments")?;
        self.appointments()?;
        let done = self.done;
        self.total = done;
        self.report("done")?;
        Ok(())
    }

    fn clinics(&mut self) -> Result<(), ApiError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO clinics (id, name, code, timezone, address_line1, city, state, postal_code,
                 country, phone, email, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        )?;
        let created = self.now - (self.plan.past_days + 400) * DAY;
        let now = Utc::now();
        for def in CLINICS.iter().take(self.plan.clinics) {
            let tz: Tz = def
                .tz
                .parse()
                .map_err(|_| ApiError::Conflict(format!("unknown time zone {}", def.tz)))?;
            let id = new_id();
            let main_phone = if def.area_codes.is_empty() {
                "(02) 5550 0100".to_string()
            } else {
                format!("({}) 555-0100", def.area_codes[0])
            };
            stmt.execute(rusqlite::params![
                id,
                def.name,
                def.code,
                def.tz,
                def.address,
                def.city,
                def.state,
                def.postal,
                def.country,
                main_phone,
                def.email,
                created
            ])?;
            self.clinics.push(ClinicInfo {
                def,
                id,
                tz,
                today: now.with_timezone(&tz).date_naive(),
                rooms: Vec::new(),
                types: Vec::new(),
                shifts: Vec::new(),
                providers: Vec::new(),
                patients: (0, 0),
            });
            self.row("clinics")?;
        }
        let n = self.clinics.len() as u64;
        self.finish("clinics", n);
        Ok(())
    }

    fn users(&mut self, hash: &str) -> Result<(), ApiError> {
        let mut user = self.tx.prepare_cached(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?;
        let mut role = self.tx.prepare_cached(
            "INSERT INTO user_clinic_roles (id, user_id, clinic_id, role, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?;
        let names = [
            ("admin", "Demo Administrator", "admin"),
            ("manager", "Demo Manager", "manager"),
            ("frontdesk", "Demo Front Desk", "front_desk"),
            // The clinician's display name is set when the staff profile is linked.
            ("clinician", "Demo Clinician", "clinician"),
            ("viewer", "Demo Viewer", "viewer"),
        ];
        let mut roles = 0u64;
        for (username, display, r) in names {
            let id = new_id();
            let email = format!("{username}@summit-rehab.example");
            user.execute(rusqlite::params![
                id, username, display, email, hash, self.now
            ])?;
            self.row("users")?;
            // The clinician works at the first clinic only; everyone else at every clinic.
            let n = if r == "clinician" {
                1
            } else {
                self.clinics.len()
            };
            for c in &self.clinics[..n] {
                role.execute(rusqlite::params![new_id(), id, c.id, r, self.now])?;
                roles += 1;
            }
            self.users.push(id);
        }
        self.done += roles;
        self.finish("users", self.users.len() as u64);
        self.finish("user_clinic_roles", roles);
        Ok(())
    }

    fn credential_types(&mut self) -> Result<(), ApiError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO ops_credential_types (id, name, code, description, required_for_disciplines,
                 is_required_for_clinical, renewal_period_months, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        let created = self.now - (self.plan.past_days + 300) * DAY;
        for (code, name, desc, disciplines, clinical, months) in CREDENTIAL_TYPES {
            let id = new_id();
            stmt.execute(rusqlite::params![
                id,
                name,
                code,
                desc,
                disciplines,
                clinical,
                months,
                created
            ])?;
            self.credential_types.push(id);
            self.row("credential types")?;
        }
        self.finish("ops_credential_types", CREDENTIAL_TYPES.len() as u64);
        Ok(())
    }

    fn credential_type(&self, code: &str) -> &str {
        let i = CREDENTIAL_TYPES
            .iter()
            .position(|t| t.0 == code)
            .unwrap_or(0);
        &self.credential_types[i]
    }

    fn staff(&mut self) -> Result<(), ApiError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO staff_profiles (id, user_id, employee_id, first_name, last_name, title, discipline,
                 department, email, phone, employment_type, primary_clinic_id, hire_date, is_clinical,
                 emergency_contact_name, emergency_contact_phone, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)",
        )?;
        let mut n = 0u64;
        for ci in 0..self.clinics.len() {
            let def = self.clinics[ci].def;
            let range_start = self.clinics[ci].today - chrono::Duration::days(self.plan.past_days);
            for local in 0..self.plan.staff_per_clinic {
                let rng = &mut self.rng;
                let clinical = local < self.plan.clinical_per_clinic;
                let discipline =
                    clinical.then(|| DISCIPLINE_PATTERN[local % DISCIPLINE_PATTERN.len()]);
                let female = rng.random_bool(0.62);
                let first = pick(rng, if female { FEMALE_FIRST } else { MALE_FIRST });
                let last = pick(rng, LAST_NAMES);
                let admin_index = local.saturating_sub(self.plan.clinical_per_clinic);
                let title = match discipline {
                    Some(d) => d.title(),
                    None => ADMIN_TITLES[admin_index % ADMIN_TITLES.len()],
                };
                let department = if clinical {
                    "Rehabilitation"
                } else {
                    "Administration"
                };
                let r: f64 = rng.random();
                let (employment, days) = if r < 0.6 {
                    ("full_time", 0b0001_1111u8)
                } else if r < 0.85 {
                    // Four days a week; the day off varies.
                    (
                        "part_time",
                        0b0001_1111u8 & !(1u8 << rng.random_range(0..5)),
                    )
                } else if clinical {
                    // Contractors work Tuesday to Saturday.
                    ("contractor", 0b0011_1110u8)
                } else {
                    ("full_time", 0b0001_1111u8)
                };
                // Most were hired before the demo history starts; some joined during it.
                let hire = if rng.random_bool(0.85) {
                    NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or(range_start)
                        + chrono::Duration::days(
                            rng.random_range(
                                0..(range_start
                                    - NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or(range_start))
                                .num_days()
                                .max(1),
                            ),
                        )
                } else {
                    range_start
                        + chrono::Duration::days(
                            rng.random_range(0..(self.plan.past_days - 60).max(1)),
                        )
                };
                let work = Workdays {
                    hire,
                    days,
                    vacation_offset: rng.random_range(0..13),
                };
                let id = new_id();
                let global = self.staff.len();
                let email = format!(
                    "{}.{}{}@summit-rehab.example",
                    email_part(first),
                    email_part(last),
                    global
                );
                let ph = phone(rng, def);
                let ec_name = format!(
                    "{} {}",
                    pick(rng, if female { MALE_FIRST } else { FEMALE_FIRST }),
                    last
                );
                let ec_phone = phone(rng, def);
                // The first clinician of the first clinic is the "clinician" demo user.
                let user_id = (global == 0).then(|| self.users[3].clone());
                stmt.execute(rusqlite::params![
                    id,
                    user_id,
                    format!("E{:05}", global + 1),
                    first,
                    last,
                    title,
                    discipline.map(Discipline::as_str),
                    department,
                    email,
                    ph,
                    employment,
                    self.clinics[ci].id,
                    ymd(hire),
                    clinical,
                    ec_name,
                    ec_phone,
                    date_ms(hire).min(self.now - DAY),
                ])?;
                if global == 0 {
                    self.tx.execute(
                        "UPDATE users SET display_name = ?1 WHERE id = ?2",
                        rusqlite::params![format!("{first} {last}"), self.users[3]],
                    )?;
                }
                if clinical {
                    self.clinics[ci].providers.push(global);
                }
                self.staff.push(StaffInfo {
                    id,
                    clinic: ci,
                    discipline,
                    admin_index,
                    work,
                });
                n += 1;
                self.row("staff")?;
            }
        }
        self.finish("staff_profiles", n);
        Ok(())
    }

    fn credentials(&mut self) -> Result<(), ApiError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO ops_credentials (id, staff_id, credential_type_id, credential_number, issuing_authority,
                 issuing_state, issue_date, expiry_date, status, verification_status, verified_at, verified_by,
                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
        )?;
        let mut action = self.tx.prepare_cached(
            "INSERT INTO ops_adverse_actions (id, credential_id, staff_id, action_type, reason, authority,
                 start_date, end_date, reported_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'suspension', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        let admin = self.users[0].clone();
        let mut n = 0u64;
        let mut actions = 0u64;
        for s in 0..self.staff.len() {
            let Some(d) = self.staff[s].discipline else {
                continue;
            };
            let c = &self.clinics[self.staff[s].clinic];
            let (today, state) = (c.today, c.def.state);
            for code in [d.licence(), "CPR_BLS", "LIAB_INS"] {
                let months = CREDENTIAL_TYPES
                    .iter()
                    .find(|t| t.0 == code)
                    .map_or(12, |t| t.5);
                // A deterministic spread over the credential's position, so that even the
                // small demo has expired and soon-expiring credentials.
                let bucket = (n * 37 + 11) % 100;
                let rng = &mut self.rng;
                let days_left: i64 = match bucket {
                    0..=4 => -rng.random_range(1..=180),
                    5..=7 => rng.random_range(0..=7),
                    8..=13 => rng.random_range(8..=30),
                    14..=19 => rng.random_range(31..=60),
                    20..=25 => rng.random_range(61..=90),
                    _ => rng.random_range(365..=1095),
                };
                let expiry = today + chrono::Duration::days(days_left);
                let issue = expiry - chrono::Duration::days(months * 365 / 12);
                // About 2% are suspended now (an adverse action in force) and 1% were
                // suspended earlier (the suspension has ended).
                let suspension = match bucket {
                    29..=30 => Some((
                        today - chrono::Duration::days(rng.random_range(1..=20)),
                        today + chrono::Duration::days(rng.random_range(5..=60)),
                    )),
                    33 => Some((
                        today - chrono::Duration::days(rng.random_range(60..=200)),
                        today - chrono::Duration::days(rng.random_range(1..=30)),
                    )),
                    _ => None,
                };
                let status = if days_left < 0 {
                    "expired"
                } else if suspension.is_some_and(|(_, end)| end >= today) {
                    "suspended"
                } else if days_left <= 30 && rng.random_bool(0.4) {
                    "pending_renewal"
                } else {
                    "active"
                };
                let r: f64 = rng.random();
                let (verification, verified_at, verified_by) = if r < 0.85 {
                    let at = date_ms(issue) + rng.random_range(1..=20) * DAY;
                    ("verified", Some(at.min(self.now)), Some(admin.as_str()))
                } else if r < 0.9 {
                    ("pending", None, None)
                } else {
                    ("not_verified", None, None)
                };
                let number = format!(
                    "{}-{:06}",
                    code.split('_').next().unwrap_or(code),
                    rng.random_range(0..1_000_000)
                );
                let created = (date_ms(issue) + 2 * DAY).min(self.now);
                let credential_id = new_id();
                stmt.execute(rusqlite::params![
                    credential_id,
                    self.staff[s].id,
                    self.credential_type(code),
                    number,
                    issuing_authority(code, state),
                    state,
                    ymd(issue),
                    ymd(expiry),
                    status,
                    verification,
                    verified_at,
                    verified_by,
                    created,
                ])?;
                n += 1;
                self.row("credentials")?;
                if let Some((start, end)) = suspension {
                    action.execute(rusqlite::params![
                        new_id(),
                        credential_id,
                        self.staff[s].id,
                        "Practice complaint under investigation",
                        issuing_authority(code, state),
                        ymd(start),
                        ymd(end),
                        admin,
                        date_ms(start).min(self.now),
                    ])?;
                    actions += 1;
                    self.row("credentials")?;
                }
            }
        }
        self.finish("ops_credentials", n);
        self.finish("ops_adverse_actions", actions);
        Ok(())
    }

    fn rooms_shifts_types(&mut self) -> Result<(), ApiError> {
        let mut room = self.tx.prepare_cached(
            "INSERT INTO ops_treatment_rooms (id, clinic_id, name, room_type, capacity, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
        )?;
        let mut shift = self.tx.prepare_cached(
            "INSERT INTO ops_shifts (id, clinic_id, name, shift_type, start_time, end_time, default_capacity,
                 color, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        let mut atype = self.tx.prepare_cached(
            "INSERT INTO appointment_types (id, clinic_id, name, code, duration_minutes, color,
                 required_credential_type_ids, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        let created = self.now - (self.plan.past_days + 300) * DAY;
        let cpr = self.credential_type("CPR_BLS").to_string();
        let liab = self.credential_type("LIAB_INS").to_string();
        let rmt = self.credential_type("RMT_LIC").to_string();
        let required = [
            json!([cpr, liab]).to_string(), // initial assessment
            json!([cpr]).to_string(),       // treatment
            json!([]).to_string(),          // follow-up
            json!([rmt, cpr]).to_string(),  // massage
        ];
        let (mut nr, mut ns, mut nt) = (0u64, 0u64, 0u64);
        for ci in 0..self.clinics.len() {
            let cid = self.clinics[ci].id.clone();
            for r in 0..self.plan.rooms_per_clinic {
                let (name, kind) = match r {
                    0 => ("Assessment Room".to_string(), "assessment"),
                    1 => ("Massage Suite A".to_string(), "massage"),
                    2 => ("Massage Suite B".to_string(), "massage"),
                    _ => (format!("Treatment Room {}", r - 2), "treatment"),
                };
                let id = new_id();
                room.execute(rusqlite::params![id, cid, name, kind, created])?;
                self.clinics[ci].rooms.push(id);
                nr += 1;
            }
            for (name, kind, start, end, cap, color) in SHIFTS {
                let id = new_id();
                shift.execute(rusqlite::params![
                    id, cid, name, kind, start, end, cap, color, created
                ])?;
                self.clinics[ci].shifts.push(id);
                ns += 1;
            }
            for (t, (name, code, minutes, color)) in APPOINTMENT_TYPES.iter().enumerate() {
                let id = new_id();
                atype.execute(rusqlite::params![
                    id,
                    cid,
                    name,
                    code,
                    minutes,
                    color,
                    required[t],
                    created
                ])?;
                self.clinics[ci].types.push(id);
                nt += 1;
            }
        }
        self.done += nr + ns + nt;
        self.finish("ops_treatment_rooms", nr);
        self.finish("ops_shifts", ns);
        self.finish("appointment_types", nt);
        Ok(())
    }

    fn employers_payers(&mut self) -> Result<(), ApiError> {
        let mut emp = self.tx.prepare_cached(
            "INSERT INTO employer_accounts (id, employer_name, industry, employee_count, primary_contact_name,
                 primary_contact_email, primary_contact_phone, city, state, contract_start_date, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )?;
        let mut pay = self.tx.prepare_cached(
            "INSERT INTO insurance_payers (id, payer_name, payer_code, payer_type, city, state, phone,
                 website, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        let created = self.now - (self.plan.past_days + 200) * DAY;
        let n_emp = if self.plan.clinics == 1 {
            3
        } else {
            EMPLOYERS.len()
        };
        for (name, industry, employees, city, state) in EMPLOYERS.iter().take(n_emp) {
            let rng = &mut self.rng;
            let contact = format!("{} {}", pick(rng, FEMALE_FIRST), pick(rng, LAST_NAMES));
            let email = format!("benefits@{}.example", email_part(name));
            let start = self.clinics[0].today - chrono::Duration::days(rng.random_range(200..1500));
            emp.execute(rusqlite::params![
                new_id(),
                name,
                industry,
                employees,
                contact,
                email,
                phone(rng, &CLINICS[0]),
                city,
                state,
                ymd(start),
                created
            ])?;
        }
        for (name, code, kind, city, state, _) in PAYERS {
            let id = new_id();
            let ph = format!("(800) 555-{:04}", self.rng.random_range(0..10_000));
            let site = format!("https://www.{}.example", email_part(name));
            pay.execute(rusqlite::params![
                id, name, code, kind, city, state, ph, site, created
            ])?;
            self.payers.push(id);
        }
        self.done += (n_emp + PAYERS.len()) as u64;
        self.finish("employer_accounts", n_emp as u64);
        self.finish("insurance_payers", PAYERS.len() as u64);
        Ok(())
    }

    fn patients(&mut self) -> Result<(), ApiError> {
        // A larger FTS5 pending-changes buffer (far fewer, larger segments to write and merge),
        // and the index filled after the load by one statement (store::bulk).
        let search = bulk::suspend_search_index(
            self.tx,
            self.tuning.fts_hash_mib,
            self.tuning.fts_after_load,
        )?;
        let indexes =
            bulk::drop_indexes(self.tx, "patients", Some(self.tuning.drop_patient_indexes))?;
        self.patient_rows()?;
        bulk::restore(self.tx, indexes.iter().map(|(_, sql)| sql))?;
        self.report("search index")?;
        search.resume(self.tx)?;
        Ok(())
    }

    fn patient_rows(&mut self) -> Result<(), ApiError> {
        let tx = self.tx;
        let n_clinics = self.clinics.len();
        let per_clinic = self.plan.patients / n_clinics;
        self.patient_ids.reserve(self.plan.patients);
        self.patient_names.reserve(self.plan.patients);
        // Each clinic's share of the patients, in order.
        let mut first = 0usize;
        for ci in 0..n_clinics {
            let n = if ci + 1 == n_clinics {
                self.plan.patients - per_clinic * ci
            } else {
                per_clinic
            };
            self.clinics[ci].patients = (first, first + n);
            first += n;
        }
        // As for appointments: a producer thread draws the rows (same RNG sequence as a
        // single-threaded loop) and formats their strings, while this thread binds them
        // straight into multi-row INSERTs.
        let mut rng = std::mem::replace(&mut self.rng, StdRng::seed_from_u64(0));
        let (send, recv) = std::sync::mpsc::sync_channel::<Vec<PatientRow>>(8);
        let plan = PatientPlan {
            clinics: &self.clinics,
            range_start: self.now - self.plan.past_days * DAY,
        };
        let clinics = &self.clinics;
        let payers = &self.payers;
        let patient_ids = &mut self.patient_ids;
        let patient_names = &mut self.patient_names;
        let progress = &mut self.progress;
        let done = &mut self.done;
        let next_report = &mut self.next_report;
        let total = self.total;
        let (written, produced) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                plan.generate(&mut rng, &send);
                rng
            });
            let written = (|| {
                let mut pat_full = tx.prepare(&patient_sql(PATIENT_ROWS))?;
                let mut ins_full = tx.prepare(&insurance_sql(INSURANCE_ROWS))?;
                let mut n_ins = 0u64;
                for chunk in recv {
                    // Insurance rows refer to patients: the chunk's patients are written first.
                    for group in chunk.chunks(PATIENT_ROWS) {
                        if group.len() == PATIENT_ROWS {
                            bind_patients(&mut pat_full, group, clinics)?;
                            pat_full.raw_execute()?;
                        } else {
                            let mut tail = tx.prepare(&patient_sql(group.len()))?;
                            bind_patients(&mut tail, group, clinics)?;
                            tail.raw_execute()?;
                        }
                    }
                    let insured: Vec<&PatientRow> =
                        chunk.iter().filter(|p| p.ins.is_some()).collect();
                    for group in insured.chunks(INSURANCE_ROWS) {
                        if group.len() == INSURANCE_ROWS {
                            bind_insurance(&mut ins_full, group, payers)?;
                            ins_full.raw_execute()?;
                        } else {
                            let mut tail = tx.prepare(&insurance_sql(group.len()))?;
                            bind_insurance(&mut tail, group, payers)?;
                            tail.raw_execute()?;
                        }
                    }
                    let rows = (chunk.len() + insured.len()) as u64;
                    n_ins += insured.len() as u64;
                    drop(insured);
                    patient_names.extend(chunk.iter().map(|p| format!("{} {}", p.first, p.last)));
                    patient_ids.extend(chunk.into_iter().map(|p| p.id));
                    *done += rows;
                    if *done >= *next_report {
                        *next_report = *done + REPORT_EVERY;
                        if !(progress)("patients", *done, total.max(*done)) {
                            return Err(ApiError::Conflict(
                                "demo data generation was cancelled; nothing was kept".into(),
                            ));
                        }
                    }
                }
                Ok::<_, ApiError>(n_ins)
            })();
            // On an error `recv` is gone: the producer's next send fails and it stops.
            (written, producer.join())
        });
        self.rng = produced.map_err(|_| {
            ApiError::Conflict("demo data generation failed (patient generator)".into())
        })?;
        let n_ins = written?;
        if self.patient_ids.len() != self.plan.patients {
            return Err(ApiError::Conflict(format!(
                "demo data generation wrote {} of {} patients",
                self.patient_ids.len(),
                self.plan.patients
            )));
        }
        self.finish("patients", self.patient_ids.len() as u64);
        self.finish("patient_insurance", n_ins);
        Ok(())
    }

    /// Staff schedules for the past and next four weeks: clinicians on the full-day shift on
    /// the days they see patients; front-desk staff on morning, afternoon, evening or (Friday
    /// and Saturday) night shifts.
    fn schedules(&mut self) -> Result<(), ApiError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO ops_staff_schedules (id, clinic_id, staff_id, shift_id, schedule_date, start_at, end_at,
                 status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut n = 0u64;
        for s in 0..self.staff.len() {
            let st = &self.staff[s];
            let c = &self.clinics[st.clinic];
            for off in -28..=28i64 {
                let date = c.today + chrono::Duration::days(off);
                let wd = date.weekday().num_days_from_monday();
                let shift = if st.discipline.is_some() {
                    if !st.work.works(date) {
                        continue;
                    }
                    SHIFT_FULL_DAY
                } else {
                    match st.admin_index % 4 {
                        3 if wd == 4 || wd == 5 => SHIFT_NIGHT,
                        3 => continue,
                        _ if !st.work.works(date) => continue,
                        0 => SHIFT_MORNING,
                        1 => SHIFT_AFTERNOON,
                        _ if wd < 4 => SHIFT_EVENING,
                        _ => continue,
                    }
                };
                let (_, _, start, end, _, _) = SHIFTS[shift];
                let (start, end) = (hhmm(start), hhmm(end));
                let end_date = if end <= start {
                    date + chrono::Duration::days(1)
                } else {
                    date
                };
                let (Some(start_at), Some(end_at)) =
                    (local_ms(c.tz, date, start), local_ms(c.tz, end_date, end))
                else {
                    continue; // a wall-clock time inside a DST gap
                };
                let status = if end_at <= self.now {
                    "completed"
                } else if start_at <= self.now {
                    "on_duty"
                } else {
                    "scheduled"
                };
                let created = (start_at - 21 * DAY).min(self.now - DAY);
                let updated = if status == "scheduled" {
                    created
                } else {
                    start_at.min(self.now)
                };
                stmt.execute(rusqlite::params![
                    new_id(),
                    c.id,
                    st.id,
                    c.shifts[shift],
                    ymd(date),
                    start_at,
                    end_at,
                    status,
                    created,
                    updated
                ])?;
                n += 1;
            }
        }
        self.done += n;
        self.finish("ops_staff_schedules", n);
        Ok(())
    }
}

/// Status and timestamps of one generated appointment.
#[derive(Default)]
struct ApptState {
    status: &'static str,
    cancel_reason: Option<&'static str>,
    checked_in: Option<i64>,
    started: Option<i64>,
    completed: Option<i64>,
    checked_out: Option<i64>,
    cancelled: Option<i64>,
    created: i64,
    updated: i64,
}

/// A plausible workflow state for an appointment at [start, end), seen at `now`.
///
/// Past: completed ≈ 78% (checked out), cancelled ≈ 10%, no-show ≈ 5%, rescheduled ≈ 4%,
/// completed without check-out ≈ 3%. Now: in progress or checked in. Later today: confirmed,
/// reminded or (within 30 minutes) checked in. Future days: pending ≈ 40%, confirmed ≈ 60%
/// (reminded when within two days, about half the time).
fn appt_state(
    rng: &mut StdRng,
    start: i64,
    end: i64,
    now: i64,
    source: &str,
    today: bool,
) -> ApptState {
    let lead = if source == "waitlist" {
        rng.random_range(2..=72) * HOUR
    } else {
        rng.random_range(1..=45) * DAY + rng.random_range(0..480) * MIN
    };
    let created = (start - lead).min(now - rng.random_range(5..=10_080) * MIN);
    let mut s = ApptState {
        created,
        updated: created,
        ..ApptState::default()
    };
    if end <= now {
        let r: f64 = rng.random();
        if r < 0.10 {
            s.status = "cancelled";
            s.cancel_reason = Some(pick(rng, CANCEL_REASONS));
            let at = (start - rng.random_range(30..=4_320) * MIN).max(created + MIN);
            s.cancelled = Some(at);
            s.updated = at;
        } else if r < 0.15 {
            s.status = "no_show";
            s.updated = start + rng.random_range(10..=25) * MIN;
        } else if r < 0.19 {
            s.status = "rescheduled";
            s.updated = (start - rng.random_range(60..=10_080) * MIN).max(created + MIN);
        } else {
            s.status = "completed";
            let checked_in = start - rng.random_range(0..=15) * MIN;
            let started = start + rng.random_range(0..=5) * MIN;
            let completed = (end - rng.random_range(0..=3) * MIN).max(started + MIN);
            s.checked_in = Some(checked_in);
            s.started = Some(started);
            s.completed = Some(completed);
            s.updated = completed;
            if r < 0.97 {
                let out = (completed + rng.random_range(1..=10) * MIN)
                    .min(now)
                    .max(completed);
                s.checked_out = Some(out);
                s.updated = out;
            }
        }
    } else if start <= now {
        let checked_in = start - rng.random_range(0..=12) * MIN;
        s.checked_in = Some(checked_in);
        s.updated = checked_in;
        if rng.random_bool(0.75) {
            let started = (start + rng.random_range(0..=4) * MIN).min(now);
            s.status = "in_progress";
            s.started = Some(started);
            s.updated = started;
        } else {
            s.status = "checked_in";
        }
    } else if today {
        if start - now <= 30 * MIN && rng.random_bool(0.5) {
            let at = now - rng.random_range(0..=10) * MIN;
            s.status = "checked_in";
            s.checked_in = Some(at);
            s.updated = at;
        } else if rng.random_bool(0.6) {
            s.status = "reminded";
            s.updated = (start - 2 * HOUR).clamp(created, now);
        } else {
            s.status = "confirmed";
        }
    } else if rng.random_bool(0.4) {
        s.status = "pending";
    } else if start - now <= 2 * DAY && rng.random_bool(0.5) {
        s.status = "reminded";
        s.updated = (start - 2 * DAY).clamp(created, now);
    } else {
        s.status = "confirmed";
    }
    s
}

/// Patient rows per multi-row INSERT (20 parameters each). Every INSERT statement into a
/// table with triggers opens a statement savepoint (and FTS5 flushes its pending data at each
/// one), so rows are written many per statement; `INSERT OR FAIL` needs no statement journal.
const PATIENT_ROWS: usize = 64;
/// Insurance rows per multi-row INSERT (12 parameters each).
const INSURANCE_ROWS: usize = 64;
/// Patient rows per message from the generator thread.
const PATIENT_CHUNK: usize = 1024;

/// One generated patient (and its insurance, if any); the clinic is an index.
struct PatientRow {
    id: String,
    clinic: u16,
    mrn: String,
    first: &'static str,
    last: &'static str,
    middle: Option<&'static str>,
    preferred: Option<&'static str>,
    dob: String,
    sex: &'static str,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    city: Option<&'static str>,
    state: Option<&'static str>,
    postal: Option<String>,
    contact: &'static str,
    consent_sms: bool,
    consent_email: bool,
    created: i64,
    ins: Option<InsuranceRow>,
}

/// A patient's insurance; the payer is an index into `PAYERS`.
struct InsuranceRow {
    id: String,
    payer: u16,
    policy: String,
    group: Option<String>,
    subscriber: String,
    relationship: &'static str,
    effective: String,
    copay: Option<i64>,
}

/// What the patient generator thread reads.
struct PatientPlan<'a> {
    clinics: &'a [ClinicInfo],
    range_start: i64,
}

fn patient_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; 20].join(","));
    format!(
        "INSERT OR FAIL INTO patients (id, clinic_id, mrn, first_name, last_name, middle_name,
             preferred_name, date_of_birth, sex, email, phone, address_line1, city, state,
             postal_code, preferred_contact_method, consent_sms, consent_email, created_at,
             updated_at)
         VALUES {}",
        vec![row; rows].join(",")
    )
}

fn insurance_sql(rows: usize) -> String {
    let row = format!("({})", ["?"; 12].join(","));
    format!(
        "INSERT OR FAIL INTO patient_insurance (id, patient_id, payer_id, coverage_priority,
             policy_number, group_number, subscriber_name, subscriber_relationship,
             effective_date, copay_cents, created_at, updated_at)
         VALUES {}",
        vec![row; rows].join(",")
    )
}

/// Bind `rows` to a statement from `patient_sql(rows.len())`; every parameter is (re)bound.
fn bind_patients(
    stmt: &mut rusqlite::Statement<'_>,
    rows: &[PatientRow],
    clinics: &[ClinicInfo],
) -> rusqlite::Result<()> {
    for (i, p) in rows.iter().enumerate() {
        let b = i * 20;
        stmt.raw_bind_parameter(b + 1, p.id.as_str())?;
        stmt.raw_bind_parameter(b + 2, clinics[p.clinic as usize].id.as_str())?;
        stmt.raw_bind_parameter(b + 3, p.mrn.as_str())?;
        stmt.raw_bind_parameter(b + 4, p.first)?;
        stmt.raw_bind_parameter(b + 5, p.last)?;
        stmt.raw_bind_parameter(b + 6, p.middle)?;
        stmt.raw_bind_parameter(b + 7, p.preferred)?;
        stmt.raw_bind_parameter(b + 8, p.dob.as_str())?;
        stmt.raw_bind_parameter(b + 9, p.sex)?;
        stmt.raw_bind_parameter(b + 10, p.email.as_deref())?;
        stmt.raw_bind_parameter(b + 11, p.phone.as_deref())?;
        stmt.raw_bind_parameter(b + 12, p.address.as_deref())?;
        stmt.raw_bind_parameter(b + 13, p.city)?;
        stmt.raw_bind_parameter(b + 14, p.state)?;
        stmt.raw_bind_parameter(b + 15, p.postal.as_deref())?;
        stmt.raw_bind_parameter(b + 16, p.contact)?;
        stmt.raw_bind_parameter(b + 17, p.consent_sms)?;
        stmt.raw_bind_parameter(b + 18, p.consent_email)?;
        stmt.raw_bind_parameter(b + 19, p.created)?;
        stmt.raw_bind_parameter(b + 20, p.created)?;
    }
    Ok(())
}

/// Bind the insurance of `rows` (all insured) to a statement from
/// `insurance_sql(rows.len())`; every parameter is (re)bound.
fn bind_insurance(
    stmt: &mut rusqlite::Statement<'_>,
    rows: &[&PatientRow],
    payers: &[String],
) -> rusqlite::Result<()> {
    for (i, p) in rows.iter().enumerate() {
        let Some(ins) = &p.ins else {
            return Err(rusqlite::Error::InvalidParameterCount(i, rows.len()));
        };
        let b = i * 12;
        stmt.raw_bind_parameter(b + 1, ins.id.as_str())?;
        stmt.raw_bind_parameter(b + 2, p.id.as_str())?;
        stmt.raw_bind_parameter(b + 3, payers[ins.payer as usize].as_str())?;
        stmt.raw_bind_parameter(b + 4, 1i64)?;
        stmt.raw_bind_parameter(b + 5, ins.policy.as_str())?;
        stmt.raw_bind_parameter(b + 6, ins.group.as_deref())?;
        stmt.raw_bind_parameter(b + 7, ins.subscriber.as_str())?;
        stmt.raw_bind_parameter(b + 8, ins.relationship)?;
        stmt.raw_bind_parameter(b + 9, ins.effective.as_str())?;
        stmt.raw_bind_parameter(b + 10, ins.copay)?;
        stmt.raw_bind_parameter(b + 11, p.created + HOUR)?;
        stmt.raw_bind_parameter(b + 12, p.created + HOUR)?;
    }
    Ok(())
}

impl PatientPlan<'_> {
    /// Every clinic's patients (and their insurance), in order, sent in chunks; stops early
    /// when the writer hangs up.
    fn generate(&self, rng: &mut StdRng, send: &std::sync::mpsc::SyncSender<Vec<PatientRow>>) {
        let dob_from = NaiveDate::from_ymd_opt(1935, 1, 1).unwrap_or_default();
        let dob_days =
            (NaiveDate::from_ymd_opt(2022, 12, 31).unwrap_or_default() - dob_from).num_days();
        let range_start = self.range_start;
        let mut chunk: Vec<PatientRow> = Vec::with_capacity(PATIENT_CHUNK);
        for (ci, c) in self.clinics.iter().enumerate() {
            let def = c.def;
            let n = c.patients.1 - c.patients.0;
            let region_payers: Vec<usize> = PAYERS
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    if def.country == "AU" {
                        p.5 == "AU"
                    } else {
                        p.5 == "CA" || p.5 == def.state
                    }
                })
                .map(|(i, _)| i)
                .collect();
            for i in 0..n {
                let r: f64 = rng.random();
                let (sex, first) = if r < 0.51 {
                    ("female", pick(rng, FEMALE_FIRST))
                } else if r < 0.985 {
                    ("male", pick(rng, MALE_FIRST))
                } else {
                    let list = if rng.random_bool(0.5) {
                        FEMALE_FIRST
                    } else {
                        MALE_FIRST
                    };
                    (if r < 0.992 { "other" } else { "unknown" }, pick(rng, list))
                };
                let last = pick(rng, LAST_NAMES);
                let middle = rng.random_bool(0.3).then(|| {
                    pick(
                        rng,
                        if sex == "female" {
                            FEMALE_FIRST
                        } else {
                            MALE_FIRST
                        },
                    )
                });
                let preferred = rng.random_bool(0.04).then(|| {
                    pick(
                        rng,
                        if sex == "female" {
                            FEMALE_FIRST
                        } else {
                            MALE_FIRST
                        },
                    )
                });
                let dob = dob_from + chrono::Duration::days(rng.random_range(0..=dob_days));
                let email = rng.random_bool(0.72).then(|| {
                    format!(
                        "{}.{}{}@{}",
                        email_part(first),
                        email_part(last),
                        rng.random_range(1..1000),
                        pick(rng, &["example.com", "example.net", "example.org"])
                    )
                });
                let ph = rng.random_bool(0.92).then(|| phone(rng, def));
                let consent_sms = ph.is_some() && rng.random_bool(0.6);
                let consent_email = email.is_some() && rng.random_bool(0.55);
                let mut options: [&str; 3] = ["none"; 3];
                let mut k = 0;
                if ph.is_some() {
                    options[k] = "phone";
                    k += 1;
                }
                if consent_sms {
                    options[k] = "sms";
                    k += 1;
                }
                if consent_email {
                    options[k] = "email";
                    k += 1;
                }
                let contact = if k == 0 || rng.random_bool(0.03) {
                    "none"
                } else {
                    options[rng.random_range(0..k)]
                };
                let (address, city, state, postal) = if rng.random_bool(0.85) {
                    (
                        Some(format!(
                            "{} {}",
                            rng.random_range(1..9999),
                            pick(rng, STREETS)
                        )),
                        Some(def.city),
                        Some(def.state),
                        Some(postal_code(rng, def)),
                    )
                } else {
                    (None, None, None, None)
                };
                let created =
                    range_start - rng.random_range(60..800) * DAY - rng.random_range(0..DAY);
                let id = new_id();
                let ins = rng.random_bool(0.35).then(|| {
                    let payer = region_payers[rng.random_range(0..region_payers.len())];
                    let relationship = if rng.random_bool(0.8) {
                        "self"
                    } else {
                        pick(rng, &["spouse", "child", "other"])
                    };
                    let subscriber = if relationship == "self" {
                        format!("{first} {last}")
                    } else {
                        format!("{} {last}", pick(rng, FEMALE_FIRST))
                    };
                    let effective = c.today - chrono::Duration::days(rng.random_range(30..2500));
                    InsuranceRow {
                        id: new_id(),
                        payer: payer as u16,
                        policy: format!(
                            "{}{:08}",
                            PAYERS[payer].1,
                            rng.random_range(0..100_000_000)
                        ),
                        group: rng
                            .random_bool(0.6)
                            .then(|| format!("G{:05}", rng.random_range(0..100_000))),
                        subscriber,
                        relationship,
                        effective: ymd(effective),
                        // i32 as before: the draw (and so the RNG sequence) depends on the type.
                        copay: rng
                            .random_bool(0.5)
                            .then(|| i64::from(rng.random_range(0..6i32) * 500)),
                    }
                });
                chunk.push(PatientRow {
                    id,
                    clinic: ci as u16,
                    mrn: format!("{}-{:06}", def.code, i + 1),
                    first,
                    last,
                    middle,
                    preferred,
                    dob: ymd(dob),
                    sex,
                    email,
                    phone: ph,
                    address,
                    city,
                    state,
                    postal,
                    contact,
                    consent_sms,
                    consent_email,
                    created,
                    ins,
                });
                if chunk.len() == PATIENT_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(PATIENT_CHUNK));
                    if send.send(full).is_err() {
                        return;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            let _ = send.send(chunk);
        }
    }
}

impl Gen<'_, '_> {
    /// Appointments for every provider on every working day of the history, on a 30-minute
    /// grid inside 08:00–17:00 local. Never overlapping for the same provider, room or patient:
    /// a provider's day is laid out sequentially; rooms are handed out per clinic-day from an
    /// occupancy bitmap (an appointment gets no room when all are taken); and the patient is a
    /// function of (clinic slot, provider) that differs between a clinic's providers in the
    /// same and in adjacent slots (see `patient_at`).
    fn appointments(&mut self) -> Result<(), ApiError> {
        let tx = self.tx;
        let indexes = bulk::drop_indexes(tx, "appointments", Some(self.tuning.drop_indexes))?;

        let past = self.plan.past_days;
        let future = self.plan.future_days;
        let eight = hhmm("08:00");
        // Pass 1: the weight of every provider-day, so that the total comes out exact.
        let mut total_weight = 0f64;
        let mut provider_days = 0u64;
        for off in -past..=future {
            for c in &self.clinics {
                let date = c.today + chrono::Duration::days(off);
                if local_ms(c.tz, date, eight).is_none() {
                    continue;
                }
                for &p in &c.providers {
                    let st = &self.staff[p];
                    if st.work.works(date) {
                        total_weight += day_weight(st, p, off);
                        provider_days += 1;
                    }
                }
            }
        }
        let target = self.plan.appointments;
        // A producer thread lays out the rows (ids, times, states) while this thread only
        // binds and steps them, APPT_ROWS rows per multi-row INSERT.
        let plan = ApptPlan {
            clinics: &self.clinics,
            staff: &self.staff,
            past,
            future,
            target,
            provider_days,
            total_weight,
            now: self.now,
        };
        let mut rng = std::mem::replace(&mut self.rng, StdRng::seed_from_u64(0));
        let (send, recv) = std::sync::mpsc::sync_channel::<Vec<ApptRow>>(8);
        let clinics = &self.clinics;
        let staff = &self.staff;
        let patient_ids = &self.patient_ids;
        let patient_names = &self.patient_names;
        let progress = &mut self.progress;
        let done = &mut self.done;
        let next_report = &mut self.next_report;
        let total = self.total;
        let (written, produced) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let emitted = plan.generate(&mut rng, &send);
                (rng, emitted)
            });
            let written = (|| {
                let mut full = tx.prepare(&appt_sql(APPT_ROWS))?;
                let mut n = 0u64;
                for chunk in recv {
                    for group in chunk.chunks(APPT_ROWS) {
                        let mut tail;
                        let stmt = if group.len() == APPT_ROWS {
                            &mut full
                        } else {
                            tail = tx.prepare(&appt_sql(group.len()))?;
                            &mut tail
                        };
                        let names = (patient_ids.as_slice(), patient_names.as_slice());
                        bind_appts(stmt, group, clinics, staff, names)?;
                        stmt.raw_execute()?;
                    }
                    n += chunk.len() as u64;
                    *done += chunk.len() as u64;
                    if *done >= *next_report {
                        *next_report = *done + REPORT_EVERY;
                        if !(progress)("appointments", *done, total.max(*done)) {
                            return Err(ApiError::Conflict(
                                "demo data generation was cancelled; nothing was kept".into(),
                            ));
                        }
                    }
                }
                Ok::<_, ApiError>(n)
            })();
            // On an error `recv` is gone: the producer's next send fails and it stops.
            let produced = producer.join();
            (written, produced)
        });
        let (rng, emitted) = produced.map_err(|_| {
            ApiError::Conflict("demo data generation failed (appointment generator)".into())
        })?;
        self.rng = rng;
        let written = written?;
        if written != emitted {
            return Err(ApiError::Conflict(format!(
                "demo data generation wrote {written} of {emitted} appointments"
            )));
        }
        self.finish("appointments", emitted);
        if !indexes.is_empty() {
            self.report("indexes")?;
            for (_, sql) in &indexes {
                tx.execute_batch(sql)?;
            }
        }
        Ok(())
    }
}

/// Parameters per appointment row of `appt_sql`.
const APPT_PARAMS: usize = 20;
/// Appointment rows per multi-row INSERT (`APPT_PARAMS` parameters each). `INSERT OR FAIL`: a
/// constraint violation still fails the statement (and the whole bulk transaction rolls
/// back), but SQLite needs no statement journal to undo the statement's earlier rows.
const APPT_ROWS: usize = 64;
/// Appointment rows per message from the generator thread.
const APPT_CHUNK: usize = 1024;
const NO_ROOM: u16 = u16::MAX;

/// One generated appointment; ids are indexes into the generator's tables.
struct ApptRow {
    id: [u8; 36],
    clinic: u16,
    room: u16,
    atype: u8,
    patient: u32,
    provider: u32,
    start: i64,
    end: i64,
    source: &'static str,
    reason: Option<&'static str>,
    state: ApptState,
}

/// What the appointment generator thread reads.
struct ApptPlan<'a> {
    clinics: &'a [ClinicInfo],
    staff: &'a [StaffInfo],
    past: i64,
    future: i64,
    target: u64,
    provider_days: u64,
    total_weight: f64,
    now: i64,
}

fn appt_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; APPT_PARAMS].join(","));
    format!(
        "INSERT OR FAIL INTO appointments (id, clinic_id, patient_id, provider_id, room_id, appointment_type_id,
             start_at, end_at, status, reason, source, cancel_reason, checked_in_at, started_at,
             completed_at, checked_out_at, cancelled_at, created_at, updated_at, patient_name)
         VALUES {}",
        vec![row; rows].join(",")
    )
}

/// Bind `rows` to a statement from `appt_sql(rows.len())`; every parameter is (re)bound.
fn bind_appts(
    stmt: &mut rusqlite::Statement<'_>,
    rows: &[ApptRow],
    clinics: &[ClinicInfo],
    staff: &[StaffInfo],
    (patient_ids, patient_names): (&[String], &[String]),
) -> rusqlite::Result<()> {
    for (i, a) in rows.iter().enumerate() {
        let b = i * APPT_PARAMS;
        let c = &clinics[a.clinic as usize];
        let id = std::str::from_utf8(&a.id)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let room = (a.room != NO_ROOM).then(|| c.rooms[a.room as usize].as_str());
        stmt.raw_bind_parameter(b + 1, id)?;
        stmt.raw_bind_parameter(b + 2, c.id.as_str())?;
        stmt.raw_bind_parameter(b + 3, patient_ids[a.patient as usize].as_str())?;
        stmt.raw_bind_parameter(b + 4, staff[a.provider as usize].id.as_str())?;
        stmt.raw_bind_parameter(b + 5, room)?;
        stmt.raw_bind_parameter(b + 6, c.types[a.atype as usize].as_str())?;
        stmt.raw_bind_parameter(b + 7, a.start)?;
        stmt.raw_bind_parameter(b + 8, a.end)?;
        stmt.raw_bind_parameter(b + 9, a.state.status)?;
        stmt.raw_bind_parameter(b + 10, a.reason)?;
        stmt.raw_bind_parameter(b + 11, a.source)?;
        stmt.raw_bind_parameter(b + 12, a.state.cancel_reason)?;
        stmt.raw_bind_parameter(b + 13, a.state.checked_in)?;
        stmt.raw_bind_parameter(b + 14, a.state.started)?;
        stmt.raw_bind_parameter(b + 15, a.state.completed)?;
        stmt.raw_bind_parameter(b + 16, a.state.checked_out)?;
        stmt.raw_bind_parameter(b + 17, a.state.cancelled)?;
        stmt.raw_bind_parameter(b + 18, a.state.created)?;
        stmt.raw_bind_parameter(b + 19, a.state.updated)?;
        stmt.raw_bind_parameter(b + 20, patient_names[a.patient as usize].as_str())?;
    }
    Ok(())
}

impl ApptPlan<'_> {
    /// Appointments for every provider on every working day of the history, on a 30-minute
    /// grid inside 08:00–17:00 local, sent in chunks; returns how many were generated (or
    /// stops early when the writer hangs up).
    fn generate(&self, rng: &mut StdRng, send: &std::sync::mpsc::SyncSender<Vec<ApptRow>>) -> u64 {
        let (past, future, target) = (self.past, self.future, self.target);
        let eight = hhmm("08:00");
        let mut ids = FastV7::new(self.now);
        let mut cum = 0f64;
        let mut seen = 0u64;
        let mut emitted = 0u64;
        let mut room_busy: Vec<u32> = Vec::new();
        let mut chunk: Vec<ApptRow> = Vec::with_capacity(APPT_CHUNK);
        for off in -past..=future {
            let day_index = (off + past) as u64;
            for (ci, c) in self.clinics.iter().enumerate() {
                let date = c.today + chrono::Duration::days(off);
                let Some(base) = local_ms(c.tz, date, eight) else {
                    continue;
                };
                let is_today = off == 0;
                room_busy.clear();
                room_busy.resize(c.rooms.len(), 0);
                let n_providers = c.providers.len() as u64;
                let (p_first, p_end) = c.patients;
                let n_patients = (p_end - p_first) as u64;
                for (pi, &p) in c.providers.iter().enumerate() {
                    let st = &self.staff[p];
                    if !st.work.works(date) {
                        continue;
                    }
                    seen += 1;
                    cum += day_weight(st, p, off);
                    let due = if seen == self.provider_days {
                        target
                    } else {
                        (cum * target as f64 / self.total_weight).floor() as u64
                    };
                    let k = due.saturating_sub(emitted).min(MAX_PER_DAY) as usize;
                    emitted += k as u64;
                    if k == 0 {
                        continue;
                    }
                    let discipline = st.discipline.unwrap_or(Discipline::Physio);
                    // Types, shortened to 30 minutes while the day would overflow.
                    let mut types = [T_TREATMENT; MAX_PER_DAY as usize];
                    let mut used = 0usize;
                    for t in types.iter_mut().take(k) {
                        *t = discipline.pick_type(rng);
                        used += slots_of(*t);
                    }
                    for t in types.iter_mut().take(k) {
                        if used <= SLOTS {
                            break;
                        }
                        if slots_of(*t) == 2 {
                            *t = if *t == T_MASSAGE {
                                T_TREATMENT
                            } else {
                                T_FOLLOW_UP
                            };
                            used -= 1;
                        }
                    }
                    // Spread the free slots between the appointments.
                    let mut gaps = [0usize; MAX_PER_DAY as usize + 1];
                    for _ in 0..SLOTS.saturating_sub(used) {
                        gaps[rng.random_range(0..=k)] += 1;
                    }
                    let mut slot = gaps[0];
                    for (j, &t) in types.iter().enumerate().take(k) {
                        let len = slots_of(t);
                        let start = base + slot as i64 * SLOT_MS;
                        let end = start + len as i64 * SLOT_MS;
                        // A free room for the whole appointment, searched from a per-provider
                        // starting point so rooms are shared out evenly.
                        let mask = ((1u32 << len) - 1) << slot;
                        let n_rooms = room_busy.len();
                        let mut room = NO_ROOM;
                        for r in 0..n_rooms {
                            let r = (r + pi) % n_rooms;
                            if room_busy[r] & mask == 0 {
                                room_busy[r] |= mask;
                                room = r as u16;
                                break;
                            }
                        }
                        let patient = p_first
                            + patient_at(
                                pi as u64,
                                day_index * SLOTS as u64 + slot as u64,
                                n_providers,
                                n_patients,
                            ) as usize;
                        let r: f64 = rng.random();
                        let source = if r < 0.45 {
                            "front_desk"
                        } else if r < 0.75 {
                            "phone"
                        } else if r < 0.95 {
                            "online"
                        } else {
                            "waitlist"
                        };
                        let state = appt_state(rng, start, end, self.now, source, is_today);
                        let reason = rng.random_bool(0.7).then(|| pick(rng, REASONS));
                        let mut id = [0u8; 36];
                        ids.next(rng).hyphenated().encode_lower(&mut id);
                        chunk.push(ApptRow {
                            id,
                            clinic: ci as u16,
                            room,
                            atype: t as u8,
                            patient: patient as u32,
                            provider: p as u32,
                            start,
                            end,
                            source,
                            reason,
                            state,
                        });
                        if chunk.len() == APPT_CHUNK {
                            let full =
                                std::mem::replace(&mut chunk, Vec::with_capacity(APPT_CHUNK));
                            if send.send(full).is_err() {
                                return emitted;
                            }
                        }
                        slot += len + gaps[j + 1];
                    }
                }
            }
        }
        if !chunk.is_empty() {
            let _ = send.send(chunk);
        }
        emitted
    }
}

/// Time-ordered UUIDv7s without a system call each: the timestamp starts at `now` and a
/// 10-bit counter in `rand_a` keeps them strictly increasing (the clock part moves ahead by
/// 1 ms every 1,024 ids); `rand_b` is random from the seeded generator.
struct FastV7 {
    ms: u64,
    counter: u16,
}

impl FastV7 {
    fn new(now_ms: i64) -> Self {
        FastV7 {
            ms: now_ms.max(0) as u64,
            counter: 0,
        }
    }

    fn next(&mut self, rng: &mut StdRng) -> Uuid {
        if self.counter == 1024 {
            self.counter = 0;
            self.ms += 1;
        }
        let mut bytes: [u8; 10] = rng.random();
        // rand_a: 12 bits (bytes 0-1, the version nibble replaces the top 4 bits of byte 0).
        bytes[0] = (self.counter >> 8) as u8;
        bytes[1] = self.counter as u8;
        self.counter += 1;
        uuid::Builder::from_unix_timestamp_millis(self.ms, &bytes).into_uuid()
    }
}

fn slots_of(t: usize) -> usize {
    (APPOINTMENT_TYPES[t].2 / 30) as usize
}

/// Relative load of one provider-day (0.6–1.4, stable per provider and day).
fn day_weight(st: &StaffInfo, p: usize, off: i64) -> f64 {
    let key = (p as u64) << 32 ^ (off + 1_000_000) as u64;
    (0.6 + 0.8 * unit_hash(key)) * st.discipline.map_or(1.0, Discipline::load)
}

/// The patient (index within the clinic's patients) seen by the clinic's provider `pi` in clinic
/// slot `s` (days since the history started × 18 + slot of the day).
///
/// `(pi + s·P) mod N` with P providers and N > 2P patients: for the same slot two providers
/// differ in `pi`; for adjacent slots a clash would need `pi_a ≡ pi_b + P (mod N)`, impossible
/// with both below P. A 60-minute appointment spans two slots, so this keeps every patient in
/// one place at a time. Each patient keeps coming back to the same few providers.
fn patient_at(pi: u64, s: u64, providers: u64, patients: u64) -> u64 {
    (pi + (s % patients) * providers) % patients
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use clinicdesk_store::KeySource;

    use super::*;
    use clinicdesk_api::App;

    const PW: &str = "demo-password-1";

    fn count(store: &Store, sql: &str) -> i64 {
        store
            .read(|c| {
                c.query_row(sql, [], |r| r.get::<_, i64>(0))
                    .map_err(clinicdesk_store::StoreError::from)
            })
            .unwrap()
    }

    fn new_store(dir: &Path) -> Store {
        Store::create(&dir.join("demo.db"), &KeySource::File(dir.join("k"))).unwrap()
    }

    #[test]
    fn demo_size_parses() {
        assert_eq!(DemoSize::parse(" Small ").unwrap(), DemoSize::Small);
        assert_eq!(DemoSize::parse("large").unwrap(), DemoSize::Large);
        assert!(DemoSize::parse("huge").is_err());
    }

    #[test]
    fn demo_small_is_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let store = new_store(dir.path());
        let mut calls = 0;
        let report = generate_demo(&store, DemoSize::Small, PW, &mut |_, done, total| {
            calls += 1;
            assert!(done <= total);
            true
        })
        .unwrap();
        assert!(calls >= 2);
        println!(
            "small: {} rows in {:.2} s ({:.0} rows/s)",
            report.rows_total, report.seconds, report.rows_per_second
        );
        let rows = |t: &str| {
            report
                .rows_by_table
                .iter()
                .find(|(n, _)| n == t)
                .map(|(_, n)| *n as i64)
                .unwrap()
        };
        // Counts as planned, and as reported.
        for (table, expected) in [
            ("clinics", 1),
            ("users", 5),
            ("staff_profiles", 12),
            ("patients", 500),
            ("appointments", 5_000),
            ("appointment_types", 4),
            ("ops_shifts", 5),
            ("ops_treatment_rooms", 6),
        ] {
            assert_eq!(
                count(&store, &format!("SELECT count(*) FROM {table}")),
                expected,
                "{table}"
            );
            assert_eq!(rows(table), expected, "{table} reported");
        }
        for (table, n) in &report.rows_by_table {
            assert_eq!(
                count(&store, &format!("SELECT count(*) FROM {table}")),
                *n as i64,
                "{table}"
            );
        }
        assert_eq!(
            report.rows_total,
            report.rows_by_table.iter().map(|(_, n)| n).sum::<u64>()
        );
        assert!(count(&store, "SELECT count(*) FROM ops_staff_schedules") > 100);
        assert!(count(&store, "SELECT count(*) FROM patient_insurance") > 100);
        // Bulk mode: no per-row audit or change capture; one summary event.
        assert_eq!(count(&store, "SELECT count(*) FROM change_log"), 0);
        assert_eq!(
            count(&store, "SELECT count(*) FROM audit_log WHERE action = 'event' AND json_extract(new_values, '$.demo.rows.appointments') = 5000"),
            1
        );
        // Appointment ids are UUIDv7, in insertion order.
        assert_eq!(
            count(&store, "SELECT count(*) FROM appointments WHERE substr(id, 15, 1) <> '7' OR length(id) <> 36"),
            0
        );
        assert_eq!(
            count(&store, "SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY rowid) AS prev FROM appointments) WHERE prev >= id"),
            0
        );
        // The search index is complete, and its settings are back to normal.
        assert_eq!(count(&store, "SELECT count(*) FROM patients_fts"), 500);
        assert_eq!(
            count(&store, "SELECT coalesce((SELECT CAST(v AS INTEGER) FROM patients_fts_config WHERE k = 'hashsize'), 1048576)"),
            1 << 20
        );
        // Unique MRNs in the expected form.
        assert_eq!(count(&store, "SELECT count(*) FROM patients WHERE mrn NOT GLOB 'CGY-[0-9][0-9][0-9][0-9][0-9][0-9]'"), 0);
        // Contact preferences only where possible.
        assert_eq!(count(&store, "SELECT count(*) FROM patients WHERE preferred_contact_method = 'sms' AND (phone IS NULL OR consent_sms = 0)"), 0);
        assert_eq!(count(&store, "SELECT count(*) FROM patients WHERE preferred_contact_method = 'email' AND (email IS NULL OR consent_email = 0)"), 0);
        assert!(
            count(
                &store,
                "SELECT count(DISTINCT preferred_contact_method) FROM patients"
            ) >= 3
        );
        // No overlapping active appointments for a provider, a patient or a room.
        for col in ["provider_id", "patient_id", "room_id"] {
            let sql = format!(
                "SELECT count(*) FROM appointments a JOIN appointments b
                   ON a.{col} = b.{col} AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at
                 WHERE a.status NOT IN ('cancelled', 'rescheduled', 'no_show')
                   AND b.status NOT IN ('cancelled', 'rescheduled', 'no_show')"
            );
            assert_eq!(count(&store, &sql), 0, "overlapping appointments by {col}");
        }
        assert!(
            count(
                &store,
                "SELECT count(*) FROM appointments WHERE room_id IS NOT NULL"
            ) > 2_500
        );
        // A status mix in the past and in the future; timestamps consistent.
        for status in [
            "completed",
            "cancelled",
            "no_show",
            "rescheduled",
            "pending",
            "confirmed",
        ] {
            assert!(
                count(
                    &store,
                    &format!("SELECT count(*) FROM appointments WHERE status = '{status}'")
                ) > 0,
                "{status}"
            );
        }
        let now = clinicdesk_store::now_ms();
        assert_eq!(count(&store, &format!("SELECT count(*) FROM appointments WHERE status IN ('pending','confirmed','reminded') AND end_at <= {now}")), 0);
        assert_eq!(count(&store, &format!("SELECT count(*) FROM appointments WHERE status = 'completed' AND (completed_at IS NULL OR started_at IS NULL OR start_at > {now})")), 0);
        assert_eq!(count(&store, "SELECT count(*) FROM appointments WHERE status = 'cancelled' AND cancelled_at IS NULL"), 0);
        assert_eq!(count(&store, &format!("SELECT count(*) FROM appointments WHERE created_at > {now} OR updated_at < created_at")), 0);
        assert_eq!(count(&store, "SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE p.clinic_id <> a.clinic_id"), 0);
        // Every clinical staff member holds credentials; some have expired.
        assert_eq!(
            count(&store, "SELECT count(*) FROM staff_profiles s WHERE is_clinical = 1 AND NOT EXISTS (SELECT 1 FROM ops_credentials c WHERE c.staff_id = s.id)"),
            0
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM staff_profiles WHERE is_clinical = 1"
            ),
            9
        );
        assert!(
            count(
                &store,
                "SELECT count(*) FROM ops_credentials WHERE status = 'expired'"
            ) > 0
        );
        assert_eq!(count(&store, "SELECT count(*) FROM ops_credentials WHERE status = 'expired' AND expiry_date >= date('now')"), 0);
        // Some are suspended, each by a suspension in force; one suspension has ended.
        assert!(
            count(
                &store,
                "SELECT count(*) FROM ops_credentials WHERE status = 'suspended'"
            ) > 0
        );
        assert_eq!(
            count(&store, "SELECT count(*) FROM ops_credentials c WHERE status = 'suspended' AND NOT EXISTS
                (SELECT 1 FROM ops_adverse_actions a WHERE a.credential_id = c.id AND a.start_date <= date('now') AND a.end_date >= date('now'))"),
            0
        );
        assert!(
            count(
                &store,
                "SELECT count(*) FROM ops_adverse_actions WHERE end_date < date('now')"
            ) > 0
        );
        // The clinician user is linked to a clinical staff profile.
        assert_eq!(
            count(&store, "SELECT count(*) FROM staff_profiles s JOIN users u ON u.id = s.user_id WHERE u.username = 'clinician' AND s.is_clinical = 1"),
            1
        );
        // The audit chain is intact, and every demo user can sign in.
        let audit = store.verify_audit().unwrap();
        assert!(audit.ok, "{audit:?}");
        // Every generated row was checked against the load's baseline (issue 11, point 11).
        assert!(audit.rows_checked >= report.rows_total, "{audit:?}");
        let app = App::new(Arc::new(store));
        for user in DEMO_USERS {
            let s = app.login(user, PW).unwrap();
            assert_eq!(s.username, user);
            assert!(!s.roles.is_empty(), "{user} has roles");
        }
        assert!(app.store().verify_audit().unwrap().ok);
        // A second run is refused and changes nothing.
        let err = generate_demo(app.store(), DemoSize::Small, PW, &mut |_, _, _| true).unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert!(err.to_string().contains("new, empty database"), "{err}");
        assert_eq!(count(app.store(), "SELECT count(*) FROM patients"), 500);
    }

    #[test]
    fn demo_cancel_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = new_store(dir.path());
        // Cancel at the first report after rows were written.
        let err = generate_demo(&store, DemoSize::Small, PW, &mut |stage, _, _| {
            stage == "clinics"
        })
        .unwrap_err();
        assert!(err.to_string().contains("cancelled"), "{err}");
        for table in [
            "users",
            "clinics",
            "staff_profiles",
            "patients",
            "appointments",
            "audit_log",
        ] {
            assert_eq!(
                count(&store, &format!("SELECT count(*) FROM {table}")),
                0,
                "{table}"
            );
        }
        // The appointments' indexes and the audit triggers are intact.
        assert_eq!(
            count(&store, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'appointments' AND sql IS NOT NULL"),
            6
        );
        assert_eq!(count(&store, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('appointments_ai', 'patients_ai')"), 2);
        // The database is still usable for a full run.
        generate_demo(&store, DemoSize::Small, PW, &mut |_, _, _| true).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM users"), 5);
    }

    #[test]
    fn demo_indexes_and_triggers_are_restored() {
        let dir = tempfile::tempdir().unwrap();
        let store = new_store(dir.path());
        let sql = "SELECT group_concat(type || name || sql, ';') FROM
                     (SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name)";
        let read = |store: &Store| -> String {
            store
                .read(|c| {
                    c.query_row(sql, [], |r| r.get(0))
                        .map_err(clinicdesk_store::StoreError::from)
                })
                .unwrap()
        };
        let before = read(&store);
        generate_demo(&store, DemoSize::Small, PW, &mut |_, _, _| true).unwrap();
        assert!(
            before.contains("appointments_ai") && before.contains("ix_appointments_patient_time")
        );
        assert_eq!(read(&store), before);
        assert!(store.integrity_check().unwrap().is_empty());
        // Foreign keys (not enforced row by row during the bulk load) all hold, enforcement is
        // back on, and the database is back in WAL mode.
        assert_eq!(
            count(&store, "SELECT count(*) FROM pragma_foreign_key_check"),
            0
        );
        let pragma = |sql: &str| -> String {
            store
                .write(None, |tx| {
                    tx.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                        .map(|v| format!("{v:?}"))
                        .map_err(clinicdesk_store::StoreError::from)
                })
                .unwrap()
        };
        assert_eq!(pragma("PRAGMA foreign_keys"), "Integer(1)");
        assert_eq!(pragma("PRAGMA journal_mode"), "Text(\"wal\")");
        assert_eq!(pragma("PRAGMA synchronous"), "Integer(2)");
        // Later local writes are audited and captured again.
        store
            .write(None, |tx| {
                tx.execute(
                    "UPDATE patients SET phone = '(403) 555-0199' WHERE mrn = 'CGY-000001'",
                    [],
                )
                .map_err(clinicdesk_store::StoreError::from)
            })
            .unwrap();
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM change_log WHERE table_name = 'patients'"
            ),
            1
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM audit_log WHERE table_name = 'patients'"
            ),
            1
        );
        assert!(store.verify_audit().unwrap().ok);
    }

    /// Issue 11, point 11 on a realistically large database: the large demo's load (with its
    /// baseline), `Store::open` (with the trigger fingerprint) and the full `verify_audit`
    /// (chain, triggers, every row against the audit/baseline), timed:
    /// `cargo test -p clinicdesk-demo -- --ignored audit_verify_large --nocapture`
    #[test]
    #[ignore]
    fn audit_verify_large() {
        let dir = tempfile::tempdir().unwrap();
        let store = new_store(dir.path());
        let t = Instant::now();
        let report = generate_demo(&store, DemoSize::Large, PW, &mut |_, _, _| true).unwrap();
        println!(
            "large demo: {} rows in {:.1} s",
            report.rows_total,
            t.elapsed().as_secs_f64()
        );
        drop(store);
        let keys = KeySource::File(dir.path().join("k"));
        let path = dir.path().join("demo.db");
        let mut opens = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            drop(Store::open(&path, &keys).unwrap());
            opens.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        opens.sort_by(f64::total_cmp);
        println!("open: p50 {:.1} ms, max {:.1} ms", opens[5], opens[9]);
        let store = Store::open(&path, &keys).unwrap();
        let t = Instant::now();
        let r = store.verify_audit().unwrap();
        println!(
            "verify_audit: {:.1} s for {} entries, {} rows",
            t.elapsed().as_secs_f64(),
            r.entries,
            r.rows_checked
        );
        assert!(r.ok, "{r:?}");
    }

    /// The large demo, timed, with and without the index drop (release build; writes to /tmp):
    /// `cargo test --release -p clinicdesk-api -- --ignored demo_large --nocapture`
    #[test]
    #[ignore]
    fn demo_large() {
        let variants: &[(&str, Tuning)] = &[
            ("default", Tuning::default()),
            (
                "keep indexes",
                Tuning {
                    drop_indexes: &[],
                    ..Tuning::default()
                },
            ),
            (
                "drop patient index",
                Tuning {
                    drop_indexes: &["ix_appointments_patient_time"],
                    ..Tuning::default()
                },
            ),
            (
                "keep patient indexes",
                Tuning {
                    drop_patient_indexes: &[],
                    ..Tuning::default()
                },
            ),
            (
                "sort threads",
                Tuning {
                    sort_threads: 1,
                    ..Tuning::default()
                },
            ),
            (
                "keep triggers",
                Tuning {
                    suspend_bulk_triggers: false,
                    ..Tuning::default()
                },
            ),
            (
                "fts default",
                Tuning {
                    fts_hash_mib: 0,
                    ..Tuning::default()
                },
            ),
            (
                "512 MiB cache",
                Tuning {
                    cache_mib: 512,
                    ..Tuning::default()
                },
            ),
            (
                "256 MiB cache",
                Tuning {
                    cache_mib: 256,
                    ..Tuning::default()
                },
            ),
            (
                "fts trigger",
                Tuning {
                    fts_after_load: false,
                    ..Tuning::default()
                },
            ),
            (
                "32 MiB cache",
                Tuning {
                    cache_mib: 32,
                    ..Tuning::default()
                },
            ),
        ];
        let only = std::env::var("DEMO_VARIANT").ok();
        for (name, tuning) in variants {
            if only.as_deref().is_some_and(|o| o != *name) {
                continue;
            }
            let dir = Path::new("/tmp/clinicdesk-demo-large");
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir).unwrap();
            let store = new_store(dir);
            let t = Instant::now();
            let report = generate_with(
                &store,
                DemoSize::Large,
                PW,
                &mut |stage, done, total| {
                    if done % 500_000 < REPORT_EVERY || std::env::var("DEMO_VERBOSE").is_ok() {
                        println!(
                            "  {:>6.1} s  {stage:<14} {done:>9} / {total}",
                            t.elapsed().as_secs_f64()
                        );
                    }
                    true
                },
                *tuning,
            )
            .unwrap();
            println!(
                "large [{name}]: {} rows in {:.1} s = {:.0} rows/s",
                report.rows_total, report.seconds, report.rows_per_second
            );
            println!("{}", serde_json::to_string(&report.rows_by_table).unwrap());
            let size = std::fs::metadata(dir.join("demo.db"))
                .map(|m| m.len())
                .unwrap_or(0);
            println!("database size {:.0} MiB", size as f64 / (1u64 << 20) as f64);
            assert_eq!(
                count(&store, "SELECT count(*) FROM appointments"),
                2_000_000
            );
            assert_eq!(count(&store, "SELECT count(*) FROM patients"), 200_000);
            assert_eq!(count(&store, "SELECT count(*) FROM patients_fts"), 200_000);
            assert!(store.integrity_check().unwrap().is_empty());
            let t = Instant::now();
            assert_eq!(
                count(&store, "SELECT count(*) FROM pragma_foreign_key_check"),
                0
            );
            println!(
                "foreign_key_check (again, untimed): {:.1} s",
                t.elapsed().as_secs_f64()
            );
            // `clinicdesk bench` (crates/bench) measures this database further.
            drop(store);
        }
    }
}
