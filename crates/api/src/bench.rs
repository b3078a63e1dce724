//! The benchmark behind `clinicdesk bench`: on an existing database (normally the large demo),
//! how long it takes to open the database, to search patients, and to make one audited,
//! change-captured write, against the performance targets.

use std::path::Path;
use std::time::Instant;

use clinicdesk_store::tables::patients::{self, Patient};
use clinicdesk_store::tables::users;
use clinicdesk_store::{table, KeySource, Store, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::error::ApiError;

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
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub db_path: String,
    pub patients: u64,
    pub appointments: u64,
    pub rows: Vec<BenchRow>,
    /// Filled by the CLI when it generated the demo database itself.
    pub demo_rows_per_second: Option<f64>,
    /// Every row met its target.
    pub pass: bool,
}

/// Targets, in ms.
const OPEN_P99_MS: f64 = 50.0;
const SEARCH_P50_MS: f64 = 2.0;
const SEARCH_P99_MS: f64 = 10.0;
const WRITE_P99_MS: f64 = 5.0;
const OPEN_RUNS: usize = 20;
const SEARCH_LIMIT: usize = 20;
const WARM_UP: usize = 5;

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
    }
}

/// Run the benchmark on the database at `db_path`. `iterations` is the number of timed runs of
/// each search kind and of the write (opening is timed 20 times). The writes are real: they
/// change a few patients' phone numbers, audited as the "admin" user (or the first user).
pub fn run_bench(
    db_path: &Path,
    keys: &KeySource,
    iterations: usize,
) -> Result<BenchReport, ApiError> {
    let iterations = iterations.max(1);
    let mut rng = StdRng::seed_from_u64(7);

    // (a) Opening: key, schema check, migrations check, writer connection.
    let mut open = Vec::with_capacity(OPEN_RUNS);
    for _ in 0..OPEN_RUNS {
        let t = Instant::now();
        let store = Store::open(db_path, keys)?;
        open.push(ms(t));
        drop(store);
    }
    let store = Store::open(db_path, keys)?;

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
    let ids: Vec<String> = store.read(|c| {
        let n = patients_n.max(1) as i64;
        let mut out = Vec::new();
        for k in 0..5i64 {
            let id: String = c.query_row(
                "SELECT id FROM patients WHERE deleted_at IS NULL LIMIT 1 OFFSET ?1",
                [(k * 7919) % n],
                |r| r.get(0),
            )?;
            out.push(id);
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

    let rows = vec![
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
    let pass = rows.iter().all(|r| r.pass);
    Ok(BenchReport {
        db_path: db_path.display().to_string(),
        patients: patients_n,
        appointments: appointments_n,
        rows,
        demo_rows_per_second: None,
        pass,
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
        out.push_str(if self.pass {
            "all targets met\n"
        } else {
            "some targets missed\n"
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), 50.0);
        assert_eq!(percentile(&s, 0.99), 99.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn bench_runs_on_the_small_demo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let keys = KeySource::File(dir.path().join("k"));
        let store = Store::create(&path, &keys).unwrap();
        crate::demo::generate_demo(
            &store,
            crate::demo::DemoSize::Small,
            "demo-password-1",
            &mut |_, _, _| true,
        )
        .unwrap();
        drop(store);
        let report = run_bench(&path, &keys, 20).unwrap();
        assert_eq!(report.rows.len(), 5);
        assert!(report.rows.iter().all(|r| r.n >= 20));
        assert_eq!(report.patients, 500);
        let text = report.render();
        assert!(text.contains("search: inner substring"), "{text}");
        println!("{text}");
        // The writes were audited and captured.
        let store = Store::open(&path, &keys).unwrap();
        assert!(store.verify_audit().unwrap().ok);
        let captured: i64 = store
            .read(|c| {
                c.query_row(
                    "SELECT count(*) FROM change_log WHERE table_name = 'patients'",
                    [],
                    |r| r.get(0),
                )
                .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(captured, 25);
    }
}
