//! The benchmark behind `clinicdesk bench`: on an existing database (normally the large demo),
//! how long it takes to open the database, to search patients, to make one audited,
//! change-captured write, to read a clinic's day, to find free slots, to book an appointment
//! with every rule — and how the day view's SQL compares with the same query on a PostgreSQL
//! server on the loopback interface (started by the benchmark, loaded from this database).
//! Every row is checked against its performance target.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate};
use clinicdesk_domain::{AppointmentTypeId, ClinicId, PatientId, StaffId, TimeRange};
use clinicdesk_pgcluster::postgres::binary_copy::BinaryCopyInWriter;
use clinicdesk_pgcluster::postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use clinicdesk_pgcluster::{postgres, PgCluster, PgOptions};
use clinicdesk_store::tables::appointment_types::AppointmentType;
use clinicdesk_store::tables::patients::{self, Patient};
use clinicdesk_store::tables::{user_clinic_roles, users};
use clinicdesk_store::{table, KeySource, Store, StoreError};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::types::ValueRef;
use serde::Serialize;

use clinicdesk_api::{ApiError, App, ClinicRole, Fields, Session};

/// One measured operation.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub name: String,
    /// Number of timed runs.
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The target, in words ("p50 ≤ 2 ms, p99 ≤ 10 ms").
    pub target: String,
    pub pass: bool,
    /// Not measured (e.g. PostgreSQL could not be started); `note` says why. A skipped row
    /// does not fail the report.
    pub skipped: bool,
    /// What was measured (result sizes, ratios) or why the row was skipped or failed.
    pub note: Option<String>,
}

/// How the PostgreSQL side of the comparison was set up.
#[derive(Debug, Clone, Serialize)]
pub struct PgSetup {
    pub server_version: String,
    /// Where the server listened (TCP, loopback).
    pub address: String,
    /// COPY of every table, primary keys and indexes, ANALYZE: wall-clock seconds.
    pub load_seconds: f64,
    pub copy_seconds: f64,
    pub index_seconds: f64,
    pub analyze_seconds: f64,
    /// (table, rows) loaded.
    pub tables: Vec<(String, u64)>,
    /// The SQLite indexes recreated on PostgreSQL, by name.
    pub indexes: Vec<String>,
    /// Indexes PostgreSQL refused (the comparison then fails).
    pub index_errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub db_path: String,
    pub patients: u64,
    pub appointments: u64,
    pub rows: Vec<BenchRow>,
    /// Filled by the CLI when it generated the demo database itself.
    pub demo_rows_per_second: Option<f64>,
    /// The PostgreSQL server of the comparison, when it ran.
    pub postgres: Option<PgSetup>,
    /// Every row that was not skipped met its target.
    pub pass: bool,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Timed runs of each search kind, of the write, of each scheduling operation, of the
    /// bookings and of the SQL comparison (opening is timed 20 times).
    pub iterations: usize,
    /// Start a throwaway PostgreSQL server and compare the day view's SQL with it.
    pub postgres: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            iterations: 1000,
            postgres: true,
        }
    }
}

/// Targets, in ms.
const OPEN_P99_MS: f64 = 50.0;
const SEARCH_P50_MS: f64 = 2.0;
const SEARCH_P99_MS: f64 = 10.0;
const WRITE_P99_MS: f64 = 5.0;
const DAY_P50_MS: f64 = 0.2;
const DAY_P99_MS: f64 = 1.0;
const SLOTS_ONE_P50_MS: f64 = 1.0;
const SLOTS_CLINIC_P50_MS: f64 = 10.0;
const BOOK_P99_MS: f64 = 10.0;
/// The local store must answer the day view's SQL at least this many times faster (p50).
const PG_MIN_RATIO: f64 = 2.0;
const OPEN_RUNS: usize = 20;
const SEARCH_LIMIT: usize = 20;
const WARM_UP: usize = 5;
/// Free-slot searches: a 30-minute visit over 7 days.
const SLOT_MINUTES: i64 = 30;
const WEEK_DAYS: i64 = 7;
/// The tables the day view's SQL reads: loaded into PostgreSQL for the comparison.
const PG_TABLES: [&str; 5] = [
    "appointments",
    "patients",
    "staff_profiles",
    "ops_treatment_rooms",
    "appointment_types",
];

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn row(
    name: &str,
    mut samples: Vec<f64>,
    target: String,
    pass: impl Fn(f64, f64) -> bool,
) -> BenchRow {
    samples.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    BenchRow {
        name: name.to_string(),
        n: samples.len(),
        p50_ms: p50,
        p99_ms: p99,
        max_ms: samples.last().copied().unwrap_or(0.0),
        target,
        pass: !samples.is_empty() && pass(p50, p99),
        skipped: false,
        note: None,
    }
}

/// A row that fails unless `problem` is None; the note says what was measured or wrong.
fn noted(mut r: BenchRow, note: String, problem: Option<String>) -> BenchRow {
    match problem {
        Some(p) => {
            r.pass = false;
            r.note = Some(format!("{note}; {p}"));
        }
        None => r.note = Some(note),
    }
    r
}

fn skipped(name: &str, target: String, why: String) -> BenchRow {
    BenchRow {
        name: name.to_string(),
        n: 0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        max_ms: 0.0,
        target,
        pass: false,
        skipped: true,
        note: Some(format!("not run: {why}")),
    }
}

/// [`run_bench_with`] with `iterations` timed runs and the PostgreSQL comparison.
pub fn run_bench(
    db_path: &Path,
    keys: &KeySource,
    iterations: usize,
) -> Result<BenchReport, ApiError> {
    let options = BenchOptions {
        iterations,
        ..BenchOptions::default()
    };
    run_bench_with(db_path, keys, &options)
}

/// The benchmark writes real rows (patients' phone numbers, bookings, credential alerts): it
/// runs only on a database the demo generator filled — one whose audit log holds the demo's
/// summary event — never on a clinic's data.
pub fn refuse_unless_demo(store: &Store, db_path: &Path) -> Result<(), ApiError> {
    let demo: bool = store.read(|c| {
        c.query_row(
            "SELECT EXISTS (SELECT 1 FROM audit_log WHERE table_name = 'database' AND action = 'event'
                            AND json_extract(new_values, '$.demo') IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::from)
    })?;
    if !demo {
        return Err(ApiError::Denied(format!(
            "the benchmark writes to the database it measures, so it runs only on demo data \
             (clinicdesk demo); {} holds no demo data",
            db_path.display()
        )));
    }
    Ok(())
}

/// Run the benchmark on the database at `db_path`. The writes are real: they change a few
/// patients' phone numbers (audited as the "admin" user, or the first user) and book
/// `iterations` appointments into free slots of the coming weeks (as the "frontdesk" user).
pub fn run_bench_with(
    db_path: &Path,
    keys: &KeySource,
    options: &BenchOptions,
) -> Result<BenchReport, ApiError> {
    let iterations = options.iterations.max(1);
    let mut rng = StdRng::seed_from_u64(7);

    // (a) Opening: key, schema check, migrations check, writer connection.
    let mut open = Vec::with_capacity(OPEN_RUNS);
    for _ in 0..OPEN_RUNS {
        let t = Instant::now();
        let store = Store::open(db_path, keys)?;
        open.push(ms(t));
        drop(store);
    }
    let store = Arc::new(Store::open(db_path, keys)?);
    refuse_unless_demo(&store, db_path)?;

    // Query material from the data itself.
    let (patients_n, appointments_n, last_names, phones) = store.read(|c| {
        let n: i64 = c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?;
        let a: i64 = c.query_row("SELECT count(*) FROM appointments", [], |r| r.get(0))?;
        let mut q = c.prepare(
            "SELECT DISTINCT last_name FROM patients WHERE deleted_at IS NULL AND length(last_name) >= 4 AND last_name NOT LIKE '% %'",
        )?;
        let names = q
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut q = c.prepare(
            "SELECT phone FROM patients WHERE phone IS NOT NULL AND deleted_at IS NULL LIMIT 2000",
        )?;
        let phones = q
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok::<_, StoreError>((n as u64, a as u64, names, phones))
    })?;
    if last_names.is_empty() || phones.is_empty() {
        return Err(ApiError::Conflict(
            "the benchmark needs a database with patients (generate the large demo first)".into(),
        ));
    }

    // (b) Patient search, on a reader connection.
    let pick_name = |rng: &mut StdRng| -> Vec<char> {
        last_names[rng.random_range(0..last_names.len())]
            .to_lowercase()
            .chars()
            .collect()
    };
    let mut prefix_q = Vec::with_capacity(iterations);
    let mut inner_q = Vec::with_capacity(iterations);
    let mut phone_q = Vec::with_capacity(iterations);
    for _ in 0..iterations + WARM_UP {
        let name = pick_name(&mut rng);
        prefix_q.push(name[..3].iter().collect::<String>());
        // A 3–4 letter substring that does not start the name.
        let len = rng.random_range(3..=4).min(name.len() - 1);
        let from = rng.random_range(1..=name.len() - len);
        inner_q.push(name[from..from + len].iter().collect::<String>());
        let digits: Vec<char> = phones[rng.random_range(0..phones.len())]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let len = rng.random_range(4..=6).min(digits.len());
        let from = rng.random_range(0..=digits.len() - len);
        phone_q.push(digits[from..from + len].iter().collect::<String>());
    }
    let time_searches = |queries: &[String]| -> Result<Vec<f64>, ApiError> {
        store.read(|c| {
            let mut samples = Vec::with_capacity(queries.len());
            for (i, q) in queries.iter().enumerate() {
                let t = Instant::now();
                let found = patients::search(c, q, SEARCH_LIMIT)?;
                let took = ms(t);
                std::hint::black_box(found);
                if i >= WARM_UP {
                    samples.push(took);
                }
            }
            Ok::<_, ApiError>(samples)
        })
    };
    let search_target = format!("p50 ≤ {SEARCH_P50_MS} ms, p99 ≤ {SEARCH_P99_MS} ms");
    let search_pass = |p50: f64, p99: f64| p50 <= SEARCH_P50_MS && p99 <= SEARCH_P99_MS;
    let prefix = time_searches(&prefix_q)?;
    let inner = time_searches(&inner_q)?;
    let phone = time_searches(&phone_q)?;

    // (c) One audited, change-captured write (synchronous = FULL) per iteration.
    let user = store.read(|c| {
        let admin = users::by_username(c, "admin")?;
        match admin {
            Some(u) => Ok(Some(u.id.to_string())),
            None => c
                .query_row(
                    "SELECT id FROM users ORDER BY created_at LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(StoreError::from(e)),
                }),
        }
    })?;
    let ids: Vec<PatientId> = store.read(|c| {
        let n = patients_n.max(1) as i64;
        let mut out = Vec::new();
        for k in 0..5i64 {
            let id: String = c.query_row(
                "SELECT id FROM patients WHERE deleted_at IS NULL LIMIT 1 OFFSET ?1",
                [(k * 7919) % n],
                |r| r.get(0),
            )?;
            out.push(PatientId::parse(&id).map_err(|e| StoreError::Data(e.to_string()))?);
        }
        Ok::<_, StoreError>(out)
    })?;
    let mut writes = Vec::with_capacity(iterations);
    for i in 0..iterations + WARM_UP {
        let id = &ids[i % ids.len()];
        let mut p: Patient = store.read(|c| table::get_live::<Patient>(c, id))?;
        p.phone = Some(format!("(403) 555-{:04}", rng.random_range(0..10_000)));
        let t = Instant::now();
        store.write(user.as_deref(), |tx| -> Result<(), ApiError> {
            p.updated_at = tx.ctx.now_ms;
            table::update(tx, &p)?;
            Ok(())
        })?;
        if i >= WARM_UP {
            writes.push(ms(t));
        }
    }

    let mut rows = vec![
        row(
            "open database",
            open,
            format!("p99 ≤ {OPEN_P99_MS} ms"),
            |_, p99| p99 <= OPEN_P99_MS,
        ),
        row(
            "search: last-name prefix",
            prefix,
            search_target.clone(),
            search_pass,
        ),
        row(
            "search: inner substring",
            inner,
            search_target.clone(),
            search_pass,
        ),
        row("search: phone digits", phone, search_target, search_pass),
        row(
            "write: patient phone (audited)",
            writes,
            format!("p99 ≤ {WRITE_P99_MS} ms"),
            |_, p99| p99 <= WRITE_P99_MS,
        ),
    ];

    // (d) Scheduling through the app API, as the front desk.
    let app = App::new(store.clone());
    let session = bench_session(&store)?;
    let days = day_material(&app, &session)?;
    rows.push(bench_day_schedule(
        &app, &session, &days, iterations, &mut rng,
    )?);
    let weeks = week_material(&store)?;
    rows.extend(bench_free_slots(
        &app, &session, &weeks, iterations, &mut rng,
    )?);
    rows.push(bench_booking(&app, &session, &weeks, iterations, &mut rng)?);

    // (e) The day view's SQL: this store against PostgreSQL on the loopback interface.
    // Both sides first run every day once (untimed: steady state, not a cold start), then
    // the same random days; every answer's row count is compared.
    let picks: Vec<&DayPick> = days
        .iter()
        .chain((0..iterations).map(|_| &days[rng.random_range(0..days.len())]))
        .collect();
    let warm = days.len();
    let (sqlite_samples, sqlite_counts) = time_day_sql_sqlite(&store, &picks, warm)?;
    let sqlite_row = noted(
        row(
            "day SQL: SQLite (same query as PG)",
            sqlite_samples,
            "baseline of the row below".into(),
            |_, _| true,
        ),
        format!(
            "{:.0} rows per day on average",
            average(sqlite_counts.iter().map(|&n| n as f64))
        ),
        None,
    );
    let pg_name = "day SQL: PostgreSQL (TCP 127.0.0.1)";
    let pg_target = format!("SQLite p50 ≥ {PG_MIN_RATIO}× faster");
    let (pg_row, pg_setup) = if options.postgres {
        match compare_with_postgres(&store, &picks, warm, &sqlite_counts) {
            Ok(run) => {
                let r = row(pg_name, run.samples, pg_target.clone(), |_, _| true);
                let ratio = if sqlite_row.p50_ms > 0.0 {
                    r.p50_ms / sqlite_row.p50_ms
                } else {
                    0.0
                };
                let note = format!(
                    "PG p50 / SQLite p50 = {ratio:.2}× (PG p50 {:.3}, p99 {:.3} ms; SQLite p50 {:.3}, p99 {:.3} ms)",
                    r.p50_ms, r.p99_ms, sqlite_row.p50_ms, sqlite_row.p99_ms
                );
                let mut problems = Vec::new();
                if ratio < PG_MIN_RATIO {
                    problems.push(format!(
                        "the local store is only {ratio:.2}× faster than PostgreSQL"
                    ));
                }
                if run.mismatches > 0 {
                    problems.push(format!(
                        "PostgreSQL returned a different number of rows for {} days",
                        run.mismatches
                    ));
                }
                if !run.setup.index_errors.is_empty() {
                    problems.push(format!(
                        "indexes not recreated: {}",
                        run.setup.index_errors.join("; ")
                    ));
                }
                let problem = (!problems.is_empty()).then(|| problems.join("; "));
                (noted(r, note, problem), Some(run.setup))
            }
            Err(why) => (skipped(pg_name, pg_target, why), None),
        }
    } else {
        (
            skipped(pg_name, pg_target, "--no-postgres was given".into()),
            None,
        )
    };
    rows.push(sqlite_row);
    rows.push(pg_row);

    // (f) Credentials, as the demo manager: the evaluator over every staff member and the
    // dashboard across every clinic.
    rows.extend(bench_credentials(&app, &store, iterations)?);

    // (g) A month of daily KPI aggregates for one clinic, as the demo manager.
    rows.push(bench_kpis(&app, &store, iterations)?);

    let pass = rows.iter().all(|r| r.pass || r.skipped);
    Ok(BenchReport {
        db_path: db_path.display().to_string(),
        patients: patients_n,
        appointments: appointments_n,
        rows,
        demo_rows_per_second: None,
        postgres: pg_setup,
        pass,
    })
}

/// Credential targets, in ms.
const CRED_DASHBOARD_P50_MS: f64 = 5.0;
const CRED_EVALUATE_P99_MS: f64 = 100.0;
/// Evaluator runs timed (the first one included: on a fresh demo it does the work).
const CRED_EVALUATE_RUNS: usize = 20;

/// The evaluator over every credential (statuses, alerts, coverage needs; timed from its first
/// run on this database, which does the work, then idempotent runs) and the manager's
/// dashboard across every clinic (expired, expiring within 90 days, the at-risk list).
fn bench_credentials(
    app: &App,
    store: &Store,
    iterations: usize,
) -> Result<Vec<BenchRow>, ApiError> {
    let session = store.read(|c| {
        let u = users::by_username(c, "manager")?
            .or(users::by_username(c, "admin")?)
            .filter(|u| u.is_active)
            .ok_or_else(|| {
                ApiError::Conflict(
                    "the credential benchmarks need the demo manager: generate the demo first"
                        .into(),
                )
            })?;
        let roles = user_clinic_roles::active_for_user(c, &u.id)?
            .into_iter()
            .map(|r| ClinicRole {
                clinic_id: r.clinic_id,
                role: r.role,
            })
            .collect();
        Ok::<_, ApiError>(Session {
            user_id: u.id,
            username: u.username,
            display_name: u.display_name,
            roles,
        })
    })?;
    let mut eval = Vec::with_capacity(CRED_EVALUATE_RUNS);
    let mut first = None;
    for _ in 0..CRED_EVALUATE_RUNS {
        let t = Instant::now();
        let r = app.evaluate_credentials()?;
        eval.push(ms(t));
        first.get_or_insert(r);
    }
    let first_ms = eval[0];
    let first = first.unwrap_or_default();
    let eval_row = noted(
        row(
            "credentials: evaluator (all staff)",
            eval,
            format!("p99 ≤ {CRED_EVALUATE_P99_MS} ms (first run included)"),
            |_, p99| p99 <= CRED_EVALUATE_P99_MS,
        ),
        format!(
            "{} credentials; first run {first_ms:.1} ms: {} expired, {} suspended, {} reinstated, {} alerts, {} shifts at risk, {} coverage needs raised",
            first.credentials_checked,
            first.expired,
            first.suspended,
            first.reinstated,
            first.alerts_raised,
            first.shifts_at_risk,
            first.coverage_needs_raised
        ),
        None,
    );
    let filter = clinicdesk_api::CredentialFilter::default();
    let mut samples = Vec::with_capacity(iterations);
    let mut last = None;
    for i in 0..iterations + WARM_UP {
        let t = Instant::now();
        let d = app.credential_dashboard(&session, &filter)?;
        let took = ms(t);
        if i >= WARM_UP {
            samples.push(took);
        }
        last = Some(d);
    }
    let note = last.map(|d| {
        let listed = |f: fn(&clinicdesk_api::AtRiskStaff) -> usize| d.at_risk.iter().map(f).sum::<usize>();
        format!(
            "{} expired, {} expiring within 90 days, {} staff at risk ({} shifts and {} appointments listed: the first 3 of each per staff member)",
            d.expiries.expired.len(),
            d.expiries.expiring.len(),
            d.at_risk.len(),
            listed(|r| r.shifts.len()),
            listed(|r| r.appointments.len()),
        )
    });
    let dash_row = noted(
        row(
            "credentials: dashboard, all clinics",
            samples,
            format!("p50 ≤ {CRED_DASHBOARD_P50_MS} ms"),
            |p50, _| p50 <= CRED_DASHBOARD_P50_MS,
        ),
        note.unwrap_or_default(),
        None,
    );
    Ok(vec![eval_row, dash_row])
}

fn average(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The front-desk demo user (or the admin) as a signed-in session. The benchmark lives in the
/// API and has no password to give; every operation still checks the user's roles as usual.
fn bench_session(store: &Store) -> Result<Session, ApiError> {
    store.read(|c| {
        for name in ["frontdesk", "admin"] {
            let Some(u) = users::by_username(c, name)?.filter(|u| u.is_active) else {
                continue;
            };
            let roles = user_clinic_roles::active_for_user(c, &u.id)?
                .into_iter()
                .map(|r| ClinicRole {
                    clinic_id: r.clinic_id,
                    role: r.role,
                })
                .collect();
            return Ok(Session {
                user_id: u.id,
                username: u.username,
                display_name: u.display_name,
                roles,
            });
        }
        Err(ApiError::Conflict(
            "the scheduling benchmarks need the demo users (frontdesk or admin): generate the demo first"
                .into(),
        ))
    })
}

/// A clinic's day that has shifts and appointments.
struct DayPick {
    clinic: ClinicId,
    date: String,
    day_start: i64,
    day_end: i64,
}

/// Every (clinic, date) with shifts whose day view is not empty (read once, untimed).
fn day_material(app: &App, s: &Session) -> Result<Vec<DayPick>, ApiError> {
    let pairs: Vec<(String, String)> = app.store().read(|c| {
        let mut q = c.prepare(
            "SELECT DISTINCT clinic_id, schedule_date FROM ops_staff_schedules WHERE deleted_at IS NULL ORDER BY 1, 2",
        )?;
        let v = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok::<_, StoreError>(v)
    })?;
    let mut out = Vec::new();
    for (clinic, date) in pairs {
        let clinic = ClinicId::parse(&clinic)?;
        let day = app.day_schedule(s, clinic, &date, None)?;
        if !day.entries.is_empty() {
            out.push(DayPick {
                clinic,
                date,
                day_start: day.day_start,
                day_end: day.day_end,
            });
        }
    }
    if out.is_empty() {
        return Err(ApiError::Conflict(
            "the scheduling benchmarks need days with shifts and appointments (generate the demo first)"
                .into(),
        ));
    }
    Ok(out)
}

/// One clinic's weeks inside its shift schedule, and what booking there needs.
struct ClinicWeeks {
    clinic: ClinicId,
    /// First day of a 7-day week, and the clinical providers with shifts in it.
    weeks: Vec<(NaiveDate, Vec<StaffId>)>,
    /// The shortest active appointment type (booked in the booking benchmark).
    kind: Option<AppointmentType>,
    patients: Vec<String>,
}

fn week_material(store: &Store) -> Result<Vec<ClinicWeeks>, ApiError> {
    // Shift statuses that make working time (as `available_slots` reads them).
    let working =
        clinicdesk_domain::ScheduleStatus::sql_in(clinicdesk_domain::ScheduleStatus::is_assigned);
    store.read(|c| {
        let spans: Vec<(String, String, String)> = c
            .prepare(&format!(
                "SELECT clinic_id, min(schedule_date), max(schedule_date) FROM ops_staff_schedules
                 WHERE deleted_at IS NULL AND status IN {working} GROUP BY clinic_id ORDER BY clinic_id"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut providers_q = c.prepare(&format!(
            "SELECT DISTINCT s.staff_id FROM ops_staff_schedules s JOIN staff_profiles p ON p.id = s.staff_id
             WHERE s.clinic_id = ?1 AND s.schedule_date BETWEEN ?2 AND ?3 AND s.deleted_at IS NULL AND s.status IN {working}
               AND p.primary_clinic_id = ?1 AND p.is_clinical = 1 AND p.is_active = 1 AND p.deleted_at IS NULL
             ORDER BY 1"
        ))?;
        let mut out = Vec::new();
        for (clinic_text, min, max) in spans {
            let clinic = ClinicId::parse(&clinic_text)?;
            let first = clinicdesk_domain::parse_date("schedule_date", &min)?;
            let last = clinicdesk_domain::parse_date("schedule_date", &max)?;
            let last_start = (last - chrono::Duration::days(WEEK_DAYS - 1)).max(first);
            let mut weeks = Vec::new();
            let mut d = first;
            while d <= last_start {
                let to = d + chrono::Duration::days(WEEK_DAYS - 1);
                let providers = providers_q
                    .query_map(
                        rusqlite::params![clinic_text, date_text(d), date_text(to)],
                        |r| r.get::<_, String>(0),
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .iter()
                    .map(|p| StaffId::parse(p))
                    .collect::<Result<Vec<_>, _>>()?;
                if !providers.is_empty() {
                    weeks.push((d, providers));
                }
                d += chrono::Duration::days(1);
            }
            let kind = table::select::<AppointmentType, _>(
                c,
                "WHERE (clinic_id = ?1 OR clinic_id IS NULL) AND is_active = 1 AND deleted_at IS NULL
                 ORDER BY duration_minutes, code LIMIT 1",
                [&clinic_text],
            )?
            .into_iter()
            .next();
            let patients = c
                .prepare("SELECT id FROM patients WHERE clinic_id = ?1 AND deleted_at IS NULL")?
                .query_map([&clinic_text], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if !weeks.is_empty() {
                out.push(ClinicWeeks {
                    clinic,
                    weeks,
                    kind,
                    patients,
                });
            }
        }
        if out.is_empty() {
            return Err(ApiError::Conflict(
                "the scheduling benchmarks need shift schedules (generate the demo first)".into(),
            ));
        }
        Ok(out)
    })
}

fn bench_day_schedule(
    app: &App,
    s: &Session,
    days: &[DayPick],
    iterations: usize,
    rng: &mut StdRng,
) -> Result<BenchRow, ApiError> {
    let mut samples = Vec::with_capacity(iterations);
    let (mut entries, mut empty) = (0usize, 0usize);
    for i in 0..iterations + WARM_UP {
        let d = &days[rng.random_range(0..days.len())];
        let t = Instant::now();
        let day = app.day_schedule(s, d.clinic, &d.date, None)?;
        let took = ms(t);
        if i >= WARM_UP {
            samples.push(took);
            entries += day.entries.len();
            empty += usize::from(day.entries.is_empty());
        }
        std::hint::black_box(day);
    }
    let n = samples.len().max(1) as f64;
    let r = row(
        "day schedule: clinic, all providers",
        samples,
        format!("p50 ≤ {DAY_P50_MS} ms, p99 ≤ {DAY_P99_MS} ms"),
        |p50, p99| p50 <= DAY_P50_MS && p99 <= DAY_P99_MS,
    );
    Ok(noted(
        r,
        format!(
            "{} clinic-days with shifts; {:.0} appointments per day on average",
            days.len(),
            entries as f64 / n
        ),
        (empty > 0).then(|| format!("{empty} empty days")),
    ))
}

/// Free slots for a 30-minute visit over a week of shifts: one provider, then a whole clinic.
/// The searches are drawn from the (provider or clinic, week) pairs that have a free slot at
/// all (found untimed first), so that no timed search is one that finds nothing.
fn bench_free_slots(
    app: &App,
    s: &Session,
    clinics: &[ClinicWeeks],
    iterations: usize,
    rng: &mut StdRng,
) -> Result<Vec<BenchRow>, ApiError> {
    let week = |from: NaiveDate| {
        (
            date_text(from),
            date_text(from + chrono::Duration::days(WEEK_DAYS - 1)),
        )
    };
    let mut rows = Vec::new();
    for one in [true, false] {
        // (clinic, provider or None, first day)
        let mut all = Vec::new();
        for cw in clinics {
            for (from, providers) in &cw.weeks {
                if one {
                    all.extend(providers.iter().map(|p| (cw.clinic, Some(*p), *from)));
                } else {
                    all.push((cw.clinic, None, *from));
                }
            }
        }
        let mut searches = Vec::new();
        for (clinic, provider, from) in &all {
            let (f, t) = week(*from);
            if !app
                .available_slots(s, *clinic, *provider, SLOT_MINUTES, &f, &t)?
                .is_empty()
            {
                searches.push((*clinic, *provider, f, t));
            }
        }
        let mut samples = Vec::with_capacity(iterations);
        let (mut slots, mut empty) = (0usize, 0usize);
        if !searches.is_empty() {
            for i in 0..iterations + WARM_UP {
                let (clinic, provider, from, to) = &searches[rng.random_range(0..searches.len())];
                let t = Instant::now();
                let found = app.available_slots(s, *clinic, *provider, SLOT_MINUTES, from, to)?;
                let took = ms(t);
                if i >= WARM_UP {
                    samples.push(took);
                    slots += found.len();
                    empty += usize::from(found.is_empty());
                }
                std::hint::black_box(found);
            }
        }
        let n = samples.len().max(1) as f64;
        let (r, what) = if one {
            (
                row(
                    "free slots: 1 provider, 7 days",
                    samples,
                    format!("p50 ≤ {SLOTS_ONE_P50_MS} ms"),
                    |p50, _| p50 <= SLOTS_ONE_P50_MS,
                ),
                "provider-weeks",
            )
        } else {
            (
                row(
                    "free slots: clinic, 7 days",
                    samples,
                    format!("p50 ≤ {SLOTS_CLINIC_P50_MS} ms"),
                    |p50, _| p50 <= SLOTS_CLINIC_P50_MS,
                ),
                "clinic-weeks",
            )
        };
        let problem = if searches.is_empty() {
            Some(format!("no {what} with a free slot"))
        } else {
            (empty > 0).then(|| format!("{empty} searches found nothing"))
        };
        rows.push(noted(
            r,
            format!(
                "{SLOT_MINUTES}-minute slots, {:.0} found per search on average; drawn from {} {what} with free time (of {} with shifts)",
                slots as f64 / n,
                searches.len(),
                all.len()
            ),
            problem,
        ));
    }
    Ok(rows)
}

/// A free slot and a patient that can be booked into it without any rule objecting.
struct Booking {
    clinic: ClinicId,
    kind: AppointmentTypeId,
    patient: String,
    provider: StaffId,
    start_at: i64,
}

/// Bookings through `book_appointment` (every rule, status history, KPI event, reminders,
/// audit and change capture; synchronous = FULL) into slots found free beforehand.
fn bench_booking(
    app: &App,
    s: &Session,
    clinics: &[ClinicWeeks],
    iterations: usize,
    rng: &mut StdRng,
) -> Result<BenchRow, ApiError> {
    let need = iterations + WARM_UP;
    // Untimed: free slots from an hour ahead to the end of the shift schedule, no two of a
    // provider's overlapping, each checked against every rule with a patient used once.
    let earliest = clinicdesk_store::now_ms() + 3_600_000;
    let mut candidates = Vec::new();
    for (ci, cw) in clinics.iter().enumerate() {
        let Some(kind) = &cw.kind else { continue };
        let (Some(first), Some(last)) = (cw.weeks.first(), cw.weeks.last()) else {
            continue;
        };
        let to = last.0 + chrono::Duration::days(WEEK_DAYS - 1);
        let slots = app.available_slots(
            s,
            cw.clinic,
            None,
            kind.duration_minutes,
            &date_text(first.0),
            &date_text(to),
        )?;
        let mut taken_until: BTreeMap<StaffId, i64> = BTreeMap::new();
        for slot in slots {
            let until = taken_until.entry(slot.provider_id).or_insert(i64::MIN);
            if slot.start_at >= earliest && slot.start_at >= *until {
                *until = slot.end_at;
                candidates.push((ci, slot));
            }
        }
    }
    candidates.shuffle(rng);
    let mut used = HashSet::new();
    let mut bookings = Vec::with_capacity(need);
    let mut refused_slots = 0usize;
    for (ci, slot) in candidates {
        if bookings.len() == need {
            break;
        }
        let cw = &clinics[ci];
        let (Some(kind), false) = (&cw.kind, cw.patients.is_empty()) else {
            continue;
        };
        let range = TimeRange::new(
            DateTime::from_timestamp_millis(slot.start_at).unwrap_or_default(),
            DateTime::from_timestamp_millis(slot.end_at).unwrap_or_default(),
        )?;
        for _ in 0..3 {
            let patient = &cw.patients[rng.random_range(0..cw.patients.len())];
            if used.contains(patient) {
                continue;
            }
            match app.booking_problems(
                cw.clinic,
                PatientId::parse(patient)?,
                slot.provider_id,
                Some(kind),
                range,
            ) {
                Ok(problems) if problems.is_empty() => {
                    used.insert(patient.clone());
                    bookings.push(Booking {
                        clinic: cw.clinic,
                        kind: kind.id,
                        patient: patient.clone(),
                        provider: slot.provider_id,
                        start_at: slot.start_at,
                    });
                    break;
                }
                // Working time or a credential: the provider, not the patient.
                Ok(_) => {
                    refused_slots += 1;
                    break;
                }
                // An overlap (most likely the patient's): try another patient.
                Err(ApiError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    let mut samples = Vec::with_capacity(iterations);
    let (mut failed, mut first_error) = (0usize, None);
    for (i, b) in bookings.iter().enumerate() {
        let start = DateTime::from_timestamp_millis(b.start_at)
            .unwrap_or_default()
            .to_rfc3339();
        let f = Fields::new()
            .with("patient_id", b.patient.clone())
            .with("provider_id", b.provider.to_string())
            .with("appointment_type_id", b.kind.to_string())
            .with("start", start)
            .with("reason", "benchmark booking");
        let t = Instant::now();
        let booked = app.book_appointment(s, b.clinic, &f);
        let took = ms(t);
        match booked {
            Ok(a) => {
                if i >= WARM_UP {
                    samples.push(took);
                }
                std::hint::black_box(a);
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let r = row(
        "book: appointment (all rules, audited)",
        samples,
        format!("p99 ≤ {BOOK_P99_MS} ms"),
        |_, p99| p99 <= BOOK_P99_MS,
    );
    let mut problems = Vec::new();
    if bookings.len() < need {
        problems.push(format!(
            "only {} bookable slots found ({need} wanted)",
            bookings.len()
        ));
    }
    if failed > 0 {
        problems.push(format!(
            "{failed} bookings refused (first: {})",
            first_error.unwrap_or_default()
        ));
    }
    Ok(noted(
        r,
        format!(
            "as {}, into free slots found beforehand ({refused_slots} slots skipped: working time or credentials)",
            s.username
        ),
        (!problems.is_empty()).then(|| problems.join("; ")),
    ))
}

/// The day view's SQL on a reader connection, prepared once: every column of every row read.
/// Returns the samples (after the first `warm` picks) and the row count of every pick.
fn time_day_sql_sqlite(
    store: &Store,
    picks: &[&DayPick],
    warm: usize,
) -> Result<(Vec<f64>, Vec<usize>), ApiError> {
    store.read(|c| {
        let mut stmt = c.prepare_cached(App::DAY_SCHEDULE_SQL)?;
        let cols = stmt.column_count();
        let mut samples = Vec::with_capacity(picks.len());
        let mut counts = Vec::with_capacity(picks.len());
        for (i, p) in picks.iter().enumerate() {
            let clinic = p.clinic.to_string();
            let t = Instant::now();
            let mut rows = stmt.query(rusqlite::params![
                clinic,
                p.day_start,
                p.day_end,
                None::<String>
            ])?;
            let mut n = 0usize;
            while let Some(r) = rows.next()? {
                for k in 0..cols {
                    std::hint::black_box(r.get_ref(k)?);
                }
                n += 1;
            }
            let took = ms(t);
            counts.push(n);
            if i >= warm {
                samples.push(took);
            }
        }
        Ok((samples, counts))
    })
}

/// The PostgreSQL side of the comparison.
struct PgRun {
    samples: Vec<f64>,
    setup: PgSetup,
    /// Picks where PostgreSQL returned a different number of rows than SQLite.
    mismatches: usize,
}

/// A PostgreSQL error in words (the server's message when there is one).
fn pg_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

fn pg(e: postgres::Error) -> ApiError {
    ApiError::Conflict(format!("PostgreSQL: {}", pg_text(&e)))
}

/// Start a throwaway server, load the day view's tables, time the same SQL on the same picks.
/// `Err` says why the comparison could not run.
fn compare_with_postgres(
    store: &Store,
    picks: &[&DayPick],
    warm: usize,
    sqlite_counts: &[usize],
) -> Result<PgRun, String> {
    // fsync is off (set by the cluster); bulk-load settings that do not change how a read
    // query runs, and no autovacuum in the middle of the timing (ANALYZE runs after the load).
    let options = PgOptions::new()
        .set("shared_buffers", "256MB")
        .set("maintenance_work_mem", "256MB")
        .set("wal_level", "minimal")
        .set("max_wal_senders", "0")
        .set("max_wal_size", "4GB")
        .set("synchronous_commit", "off")
        .set("autovacuum", "off")
        .set("jit", "off");
    let cluster = PgCluster::start_with(&options).map_err(|e| e.to_string())?;
    let mut client = cluster.connect().map_err(|e| e.to_string())?;
    let run = (|| -> Result<PgRun, ApiError> {
        let setup = load_into_postgres(store, &mut client, cluster.port())?;
        // Typed: PostgreSQL cannot infer `$4` from `$4 IS NULL`, which comes first.
        let stmt = client
            .prepare_typed(
                &postgres_placeholders(App::DAY_SCHEDULE_SQL),
                &[Type::TEXT, Type::INT8, Type::INT8, Type::TEXT],
            )
            .map_err(pg)?;
        let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        let mut samples = Vec::with_capacity(picks.len());
        let mut mismatches = 0usize;
        let none: Option<&str> = None;
        for (i, p) in picks.iter().enumerate() {
            let clinic = p.clinic.to_string();
            let t = Instant::now();
            let rows = client
                .query(&stmt, &[&clinic, &p.day_start, &p.day_end, &none])
                .map_err(pg)?;
            for r in &rows {
                for (k, ty) in types.iter().enumerate() {
                    touch(r, k, ty);
                }
            }
            let took = ms(t);
            mismatches += usize::from(rows.len() != sqlite_counts[i]);
            if i >= warm {
                samples.push(took);
            }
        }
        Ok(PgRun {
            samples,
            setup,
            mismatches,
        })
    })()
    .map_err(|e| e.to_string());
    drop(client);
    // Stopped (immediate) and removed also when the closure failed.
    let _ = cluster.stop();
    run
}

/// Read one column of a result row (as the SQLite side does with `get_ref`).
fn touch(r: &postgres::Row, k: usize, ty: &Type) {
    if *ty == Type::INT8 {
        std::hint::black_box(r.try_get::<_, Option<i64>>(k).ok());
    } else if *ty == Type::FLOAT8 {
        std::hint::black_box(r.try_get::<_, Option<f64>>(k).ok());
    } else if *ty == Type::TEXT {
        std::hint::black_box(r.try_get::<_, Option<&str>>(k).ok());
    } else {
        std::hint::black_box(r.try_get::<_, Option<&[u8]>>(k).ok());
    }
}

/// `?1` → `$1`: the same SQL text with PostgreSQL's placeholders.
fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A SQLite index definition for PostgreSQL: `col COLLATE NOCASE` becomes `lower(col)` (the
/// rest of the CREATE INDEX syntax the migration uses is the same).
fn postgres_index(sql: &str) -> String {
    const NOCASE: &str = " COLLATE NOCASE";
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find(NOCASE) {
        let before = &rest[..i];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        out.push_str(&before[..start]);
        out.push_str(&format!("lower({})", &before[start..]));
        rest = &rest[i + NOCASE.len()..];
    }
    out.push_str(rest);
    out
}

/// A SQLite value on its way into a binary COPY.
#[derive(Debug)]
enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Real(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
            Cell::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::FLOAT8, Type::TEXT, Type::BYTEA].contains(ty)
    }

    to_sql_checked!();
}

fn cell<'a>(v: ValueRef<'a>, ty: &Type) -> Result<Cell<'a>, ApiError> {
    Ok(match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) if *ty == Type::INT8 => Cell::Int(i),
        ValueRef::Integer(i) if *ty == Type::FLOAT8 => Cell::Real(i as f64),
        ValueRef::Real(f) if *ty == Type::FLOAT8 => Cell::Real(f),
        ValueRef::Text(b) if *ty == Type::TEXT => Cell::Text(
            std::str::from_utf8(b).map_err(|e| ApiError::Conflict(format!("not UTF-8: {e}")))?,
        ),
        ValueRef::Blob(b) if *ty == Type::BYTEA => Cell::Blob(b),
        other => {
            return Err(ApiError::Conflict(format!(
                "cannot copy a {} value into a {ty} column",
                other.data_type()
            )))
        }
    })
}

/// The column type PostgreSQL gets for a STRICT SQLite column type.
fn postgres_type(decl: &str) -> (&'static str, Type) {
    match decl.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT" => ("BIGINT", Type::INT8),
        "REAL" => ("DOUBLE PRECISION", Type::FLOAT8),
        "BLOB" => ("BYTEA", Type::BYTEA),
        _ => ("TEXT", Type::TEXT),
    }
}

/// Copy the tables of the day view into PostgreSQL with their columns, primary keys and the
/// migration's indexes: one transaction (tables created in it, so with `wal_level = minimal`
/// the load writes no WAL), binary COPY with FREEZE, indexes after the data, then ANALYZE.
fn load_into_postgres(
    store: &Store,
    client: &mut postgres::Client,
    port: u16,
) -> Result<PgSetup, ApiError> {
    let started = Instant::now();
    let server_version: String = client
        .query_one("SHOW server_version", &[])
        .map_err(pg)?
        .get(0);
    let mut tx = client.transaction().map_err(pg)?;
    let mut tables = Vec::new();
    let mut indexes = Vec::new();
    let mut index_errors = Vec::new();
    let mut ddl = Vec::new();
    for t in PG_TABLES {
        // (name, declared type, position in the primary key)
        let cols: Vec<(String, String, i64)> = store.read(|c| {
            let v = c
                .prepare(&format!("PRAGMA table_info({t})"))?
                .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, StoreError>(v)
        })?;
        let types: Vec<Type> = cols.iter().map(|c| postgres_type(&c.1).1).collect();
        let names = cols
            .iter()
            .map(|c| format!("\"{}\"", c.0))
            .collect::<Vec<_>>()
            .join(", ");
        let defs = cols
            .iter()
            .map(|c| format!("\"{}\" {}", c.0, postgres_type(&c.1).0))
            .collect::<Vec<_>>()
            .join(", ");
        tx.batch_execute(&format!("CREATE TABLE {t} ({defs})"))
            .map_err(pg)?;
        let sink = tx
            .copy_in(&format!(
                "COPY {t} ({names}) FROM STDIN (FORMAT binary, FREEZE)"
            ))
            .map_err(pg)?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        let n = store.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {names} FROM {t}"))?;
            let mut rows = stmt.query([])?;
            let mut n = 0u64;
            while let Some(r) = rows.next()? {
                let cells = types
                    .iter()
                    .enumerate()
                    .map(|(k, ty)| cell(r.get_ref(k)?, ty))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
                writer.write(&refs).map_err(pg)?;
                n += 1;
            }
            Ok::<_, ApiError>(n)
        })?;
        writer.finish().map_err(pg)?;
        tables.push((t.to_string(), n));
        let mut pk: Vec<&(String, String, i64)> = cols.iter().filter(|c| c.2 > 0).collect();
        pk.sort_by_key(|c| c.2);
        if !pk.is_empty() {
            let key = pk
                .iter()
                .map(|c| format!("\"{}\"", c.0))
                .collect::<Vec<_>>()
                .join(", ");
            ddl.push((
                format!("{t}_pkey"),
                format!("ALTER TABLE {t} ADD PRIMARY KEY ({key})"),
            ));
        }
        let sqlite_indexes: Vec<(String, String)> = store.read(|c| {
            let v = c
                .prepare(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name",
                )?
                .query_map([t], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, StoreError>(v)
        })?;
        for (name, sql) in sqlite_indexes {
            ddl.push((name, postgres_index(&sql)));
        }
    }
    let copy_seconds = started.elapsed().as_secs_f64();
    let t = Instant::now();
    for (name, sql) in ddl {
        // A savepoint each, so that one refused index does not lose the load.
        let mut sp = tx.transaction().map_err(pg)?;
        match sp.batch_execute(&sql) {
            Ok(()) => {
                sp.commit().map_err(pg)?;
                indexes.push(name);
            }
            Err(e) => index_errors.push(format!("{name}: {}", pg_text(&e))),
        }
    }
    tx.commit().map_err(pg)?;
    let index_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    client
        .batch_execute(&format!("ANALYZE {}", PG_TABLES.join(", ")))
        .map_err(pg)?;
    let analyze_seconds = t.elapsed().as_secs_f64();
    Ok(PgSetup {
        server_version,
        address: format!("{}:{port}", clinicdesk_pgcluster::HOST),
        load_seconds: started.elapsed().as_secs_f64(),
        copy_seconds,
        index_seconds,
        analyze_seconds,
        tables,
        indexes,
        index_errors,
    })
}
impl BenchReport {
    /// A plain-text table of the results.
    pub fn render(&self) -> String {
        let mut out = format!(
            "ClinicDesk benchmark: {} ({} patients, {} appointments)\n",
            self.db_path, self.patients, self.appointments
        );
        if let Some(r) = self.demo_rows_per_second {
            out.push_str(&format!("demo generation: {r:.0} rows/s\n"));
        }
        let width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(9);
        out.push_str(&format!(
            "{:<width$}  {:>5}  {:>9}  {:>9}  {:>9}  {:<4}  target\n",
            "operation", "n", "p50 ms", "p99 ms", "max ms", "ok"
        ));
        for r in &self.rows {
            if r.skipped {
                out.push_str(&format!(
                    "{:<width$}  {:>5}  {:>9}  {:>9}  {:>9}  {:<4}  {}\n",
                    r.name, "-", "-", "-", "-", "SKIP", r.target
                ));
            } else {
                out.push_str(&format!(
                    "{:<width$}  {:>5}  {:>9.3}  {:>9.3}  {:>9.3}  {:<4}  {}\n",
                    r.name,
                    r.n,
                    r.p50_ms,
                    r.p99_ms,
                    r.max_ms,
                    if r.pass { "PASS" } else { "FAIL" },
                    r.target
                ));
            }
            if let Some(note) = &r.note {
                out.push_str(&format!("{:<width$}    ↳ {note}\n", ""));
            }
        }
        if let Some(pg) = &self.postgres {
            let rows: u64 = pg.tables.iter().map(|t| t.1).sum();
            out.push_str(&format!(
                "PostgreSQL {} on {} (throwaway cluster, fsync off): loaded {rows} rows ({}) and {} indexes in {:.1} s (COPY {:.1} s, indexes {:.1} s, ANALYZE {:.1} s)\n",
                pg.server_version,
                pg.address,
                pg.tables
                    .iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                pg.indexes.len(),
                pg.load_seconds,
                pg.copy_seconds,
                pg.index_seconds,
                pg.analyze_seconds
            ));
        }
        let skipped = self.rows.iter().filter(|r| r.skipped).count();
        out.push_str(&match (self.pass, skipped) {
            (true, 0) => "all targets met\n".to_string(),
            (true, n) => format!("all targets met ({n} row(s) not run)\n"),
            (false, _) => "some targets missed\n".to_string(),
        });
        out
    }
}

const KPI_MONTH_P50_MS: f64 = 50.0;
const KPI_RUNS_MAX: usize = 200;

/// `kpi_report` by day over the last 30 days (the demo's shifts cover four weeks either side
/// of today), one clinic per run in turn, as the demo manager (or admin).
fn bench_kpis(app: &App, store: &Store, iterations: usize) -> Result<BenchRow, ApiError> {
    let (session, clinics) = store.read(|c| {
        let u = users::by_username(c, "manager")?
            .or(users::by_username(c, "admin")?)
            .filter(|u| u.is_active)
            .ok_or_else(|| {
                ApiError::Conflict(
                    "the KPI benchmark needs the demo manager: generate the demo first".into(),
                )
            })?;
        let roles: Vec<ClinicRole> = user_clinic_roles::active_for_user(c, &u.id)?
            .into_iter()
            .filter(|r| r.role.has(clinicdesk_domain::Capability::ReadKpis))
            .map(|r| ClinicRole {
                clinic_id: r.clinic_id,
                role: r.role,
            })
            .collect();
        let mut clinics = Vec::new();
        for r in &roles {
            let tz: chrono_tz::Tz = c
                .query_row(
                    "SELECT timezone FROM clinics WHERE id = ?1",
                    [r.clinic_id.to_string()],
                    |x| x.get::<_, String>(0),
                )?
                .parse()
                .map_err(|_| ApiError::Conflict("a demo clinic has a bad time zone".into()))?;
            clinics.push((r.clinic_id, tz));
        }
        Ok::<_, ApiError>((
            Session {
                user_id: u.id,
                username: u.username,
                display_name: u.display_name,
                roles,
            },
            clinics,
        ))
    })?;
    if clinics.is_empty() {
        return Err(ApiError::Conflict(
            "the KPI benchmark needs a user who may read KPIs".into(),
        ));
    }
    let runs = iterations.clamp(1, KPI_RUNS_MAX);
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    let mut booked = 0.0;
    for i in 0..runs + WARM_UP {
        let (clinic, tz) = clinics[i % clinics.len()];
        let to = chrono::Utc::now().with_timezone(&tz).date_naive();
        let from = to - chrono::Duration::days(29);
        let t = Instant::now();
        let r = app.kpi_report(&session, clinic, "day", &date_text(from), &date_text(to))?;
        let took = ms(t);
        if i >= WARM_UP {
            samples.push(took);
        }
        rows = r.rows.len();
        booked = r
            .rows
            .iter()
            .filter_map(|x| x.cancellation_rate.denominator)
            .sum::<f64>();
    }
    Ok(noted(
        row(
            "KPIs: a month of daily aggregates, one clinic",
            samples,
            format!("p50 ≤ {KPI_MONTH_P50_MS} ms"),
            |p50, _| p50 <= KPI_MONTH_P50_MS,
        ),
        format!(
            "{rows} daily rows of 6 metrics; {booked:.0} appointments in the last clinic's month; {} clinics in turn",
            clinics.len()
        ),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database without demo data (a clinic's) is refused before anything is written.
    #[test]
    fn the_bench_refuses_a_database_without_demo_data() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySource::File(dir.path().join("k"));
        let path = dir.path().join("clinic.db");
        drop(Store::create(&path, &keys).unwrap());
        let before = std::fs::read(&path).unwrap();
        let e = run_bench_with(
            &path,
            &keys,
            &BenchOptions {
                iterations: 5,
                postgres: false,
            },
        )
        .expect_err("refused");
        assert_eq!(e.code(), "permission_denied");
        assert!(e.to_string().contains("runs only on demo data"), "{e}");
        let store = Store::open(&path, &keys).unwrap();
        let entries: i64 = store
            .read(|c| {
                c.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(entries, 0, "nothing written");
        drop(store);
        assert!(!before.is_empty());
    }

    /// The tables copied to PostgreSQL are replicated tables of the store's registry (the
    /// future server schema mirrors exactly those).
    #[test]
    fn postgres_tables_are_replicated_tables_of_the_registry() {
        for t in PG_TABLES {
            let spec = clinicdesk_store::registry::spec(t).unwrap_or_else(|| panic!("{t}"));
            assert!(spec.replicated, "{t}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), 50.0);
        assert_eq!(percentile(&s, 0.99), 99.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn sql_is_adapted_for_postgres() {
        assert_eq!(
            postgres_placeholders("a = ?1 AND (?4 IS NULL OR b = ?4) AND c = '?'"),
            "a = $1 AND ($4 IS NULL OR b = $4) AND c = '?'"
        );
        assert_eq!(
            postgres_index(
                "CREATE INDEX ix ON patients(last_name COLLATE NOCASE, first_name COLLATE NOCASE)"
            ),
            "CREATE INDEX ix ON patients(lower(last_name), lower(first_name))"
        );
        let plain =
            "CREATE INDEX ix_r ON appointments(room_id, start_at) WHERE room_id IS NOT NULL";
        assert_eq!(postgres_index(plain), plain);
    }

    #[test]
    fn bench_runs_on_the_small_demo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let keys = KeySource::File(dir.path().join("k"));
        let store = Store::create(&path, &keys).unwrap();
        clinicdesk_demo::generate_demo(
            &store,
            clinicdesk_demo::DemoSize::Small,
            "demo-password-1",
            &mut |_, _, _| true,
        )
        .unwrap();
        drop(store);
        let options = BenchOptions {
            iterations: 20,
            postgres: true,
        };
        let report = run_bench_with(&path, &keys, &options).unwrap();
        let text = report.render();
        println!("{text}");
        let names: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "open database",
                "search: last-name prefix",
                "search: inner substring",
                "search: phone digits",
                "write: patient phone (audited)",
                "day schedule: clinic, all providers",
                "free slots: 1 provider, 7 days",
                "free slots: clinic, 7 days",
                "book: appointment (all rules, audited)",
                "day SQL: SQLite (same query as PG)",
                "day SQL: PostgreSQL (TCP 127.0.0.1)",
                "credentials: evaluator (all staff)",
                "credentials: dashboard, all clinics",
                "KPIs: a month of daily aggregates, one clinic",
            ]
        );
        assert_eq!(report.patients, 500);
        assert!(text.contains("search: inner substring"), "{text}");
        for r in &report.rows {
            if r.skipped {
                // Only the PostgreSQL row may be skipped, and it says why.
                assert!(r.name.contains("PostgreSQL"), "{}", r.name);
                assert!(r.note.as_deref().unwrap_or("").starts_with("not run: "));
                continue;
            }
            assert!(r.n >= 20, "{}: {} runs", r.name, r.n);
        }
        // The scheduling rows measured real work: no empty results, no refused bookings
        // (their notes would name the problem).
        for r in &report.rows[5..9] {
            let note = r.note.as_deref().unwrap_or("");
            assert!(
                !note.contains("empty")
                    && !note.contains("found nothing")
                    && !note.contains("refused")
                    && !note.contains("bookable slots found"),
                "{}: {note}",
                r.name
            );
        }
        assert!(report.rows[6]
            .note
            .as_deref()
            .unwrap()
            .contains("found per search"));
        let pg = &report.rows[10];
        if clinicdesk_pgcluster::bindir().is_ok() {
            assert!(!pg.skipped, "{:?}", pg.note);
            let setup = report.postgres.as_ref().unwrap();
            assert!(setup.index_errors.is_empty(), "{:?}", setup.index_errors);
            assert!(setup.indexes.iter().any(|i| i == "ix_appointments_day"));
            assert!(setup.tables.contains(&("patients".to_string(), 500)));
            assert!(pg.note.as_deref().unwrap().contains("PG p50 / SQLite p50"));
            assert!(!pg
                .note
                .as_deref()
                .unwrap()
                .contains("different number of rows"));
        } else {
            eprintln!("PostgreSQL is not installed: the comparison row was skipped");
        }
        // The writes were audited and captured.
        let store = Store::open(&path, &keys).unwrap();
        assert!(store.verify_audit().unwrap().ok);
        let captured = |table: &str| -> i64 {
            store
                .read(|c| {
                    c.query_row(
                        "SELECT count(*) FROM change_log WHERE table_name = ?1",
                        [table],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::from)
                })
                .unwrap()
        };
        assert_eq!(captured("patients"), 25);
        // Every booking (warm-up included) went through the normal path: captured, with its
        // status history and KPI event.
        assert_eq!(captured("appointments"), 25);
        let (history, kpi): (i64, i64) = store
            .read(|c| {
                c.query_row(
                    "SELECT (SELECT count(*) FROM appointment_status_history h JOIN appointments a ON a.id = h.appointment_id WHERE a.reason = 'benchmark booking'),
                            (SELECT count(*) FROM ops_kpi_events WHERE event_type = 'appointment_scheduled' AND related_entity_id IN (SELECT id FROM appointments WHERE reason = 'benchmark booking'))",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!((history, kpi), (25, 25));
    }
}
