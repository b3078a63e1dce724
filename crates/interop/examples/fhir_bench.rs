//! The FHIR bulk export's and import's speed: a new demo database (`small` or `large`, the
//! first argument) exported as its admin (resources per second, and the process's peak
//! memory), then its patients, practitioners, rooms and appointments imported into an empty
//! database — every booking rule checked, every row audited and captured — at most one
//! import's worth (`MAX_FHIR_BYTES`): the small demo whole; of the large one, the first
//! clinic's patients in id order with their appointments until the file limit. The demo is
//! generated first (not timed), and so is the import's empty database. Run in release:
//! `cargo run --release -p clinicdesk-interop --example fhir_bench -- large`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clinicdesk_api::{App, Fields};
use clinicdesk_demo::{generate_demo, DemoSize};
use clinicdesk_interop::fhir::{export_fhir, import_fhir, ExportOptions, MAX_FHIR_BYTES};
use clinicdesk_store::{KeySource, Store};
use serde_json::Value;

const PASSWORD: &str = "bench-password-1";

/// The process's peak resident memory so far (MiB), from /proc.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn lines(dir: &Path, t: &str) -> Result<Vec<String>> {
    Ok(std::fs::read_to_string(dir.join(format!("{t}.ndjson")))?
        .lines()
        .map(str::to_string)
        .collect())
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// The import's files: everything of one clinic's that fits in one import.
fn import_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let locations = lines(dir, "Location")?;
    let clinic = locations
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("partOf").is_none())
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .context("no clinic Location")?;
    let mine = |v: &Value| {
        field(v, &["managingOrganization", "reference"]) == Some(&format!("Organization/{clinic}"))
    };
    let rooms: Vec<String> = locations
        .into_iter()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| mine(&v)))
        .collect();
    let room_ids: HashSet<String> = rooms
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect();
    let practitioners = lines(dir, "Practitioner")?;
    let mut used = rooms
        .iter()
        .chain(&practitioners)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let budget = MAX_FHIR_BYTES - 1024 * 1024;
    // Appointments by patient (the export is in id order, not by patient).
    let mut by_patient: std::collections::HashMap<String, Vec<String>> = Default::default();
    for l in lines(dir, "Appointment")? {
        let v: Value = serde_json::from_str(&l)?;
        let patient = v["participant"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| field(p, &["actor", "reference"]))
            .find_map(|r| r.strip_prefix("Patient/"))
            .map(str::to_string);
        // Only appointments in this clinic's rooms (or none).
        let here = v["participant"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| field(p, &["actor", "reference"]))
            .filter_map(|r| r.strip_prefix("Location/"))
            .all(|room| room_ids.contains(room));
        if let (Some(p), true) = (patient, here) {
            by_patient.entry(p).or_default().push(l);
        }
    }
    let (mut patients, mut appointments) = (Vec::new(), Vec::new());
    for l in lines(dir, "Patient")? {
        let v: Value = serde_json::from_str(&l)?;
        if !mine(&v) {
            continue;
        }
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let theirs = by_patient.remove(&id).unwrap_or_default();
        let size = l.len() + 1 + theirs.iter().map(|a| a.len() + 1).sum::<usize>();
        if used + size > budget {
            break;
        }
        used += size;
        patients.push(l);
        appointments.extend(theirs);
    }
    let join = |ls: Vec<String>| ls.join("\n") + "\n";
    Ok(vec![
        ("Patient.ndjson".into(), join(patients)),
        ("Practitioner.ndjson".into(), join(practitioners)),
        ("Location.ndjson".into(), join(rooms)),
        ("Appointment.ndjson".into(), join(appointments)),
    ])
}

fn main() -> Result<()> {
    let size = DemoSize::parse(&std::env::args().nth(1).unwrap_or_else(|| "small".into()))?;
    let dir = tempfile::tempdir()?;
    let store = Store::create(
        &dir.path().join("bench.db"),
        &KeySource::File(dir.path().join("k")),
    )?;
    let t = Instant::now();
    generate_demo(&store, size, PASSWORD, &mut |_, _, _| true)?;
    eprintln!(
        "demo {} generated in {:.1} s",
        size.as_str(),
        t.elapsed().as_secs_f64()
    );
    let app = App::new(Arc::new(store));
    let admin = app.login("admin", PASSWORD)?;
    let today = chrono::Utc::now().date_naive();
    let opts = ExportOptions {
        now_ms: chrono::Utc::now().timestamp_millis(),
        as_of: today,
        slots: None,
        slot_minutes: 30,
    };
    let before = peak_mib();
    let t = Instant::now();
    let mut last = Instant::now();
    let fhir = dir.path().join("fhir");
    let r = export_fhir(&app, &admin, &fhir, &opts, &mut |stage, done, _| {
        if last.elapsed().as_secs() >= 2 {
            eprintln!("  {stage}: {done} resources");
            last = Instant::now();
        }
        true
    })?;
    let secs = t.elapsed().as_secs_f64();
    for (ty, _, n) in &r.files {
        println!("{ty:<17} {n:>9}");
    }
    println!(
        "exported {} resources in {:.2} s: {:.0} resources/s (peak memory of the process {:.0} MiB; {:.0} MiB before the export)",
        r.total,
        secs,
        r.total as f64 / secs,
        peak_mib().unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN),
    );

    // The import, into an empty database with one clinic in the demo's time zone.
    let tz: String = app.store().read(|c| {
        c.query_row("SELECT timezone FROM clinics LIMIT 1", [], |r| r.get(0))
            .map_err(clinicdesk_store::StoreError::from)
    })?;
    let files = import_files(&fhir)?;
    let target = Store::create(
        &dir.path().join("target.db"),
        &KeySource::File(dir.path().join("target.key")),
    )?;
    let target = App::new(Arc::new(target));
    let init = target.initialise(
        &Fields::new()
            .with("name", "Target")
            .with("code", "TGT")
            .with("timezone", &tz),
        "root",
        PASSWORD,
    )?;
    let root = target.login("root", PASSWORD)?;
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let t = Instant::now();
    let imported = import_fhir(&target, &root, init.clinic.id, &files, &mut |_, _, _| true)?;
    let secs = t.elapsed().as_secs_f64();
    let m = &imported.result;
    anyhow::ensure!(m.invalid == 0, "the import failed: {:?}", m.errors);
    let n = m.patients + m.staff + m.rooms + m.appointments;
    println!(
        "imported {n} resources ({} patients, {} practitioners, {} rooms, {} appointments; {:.1} MiB) in {:.2} s: {:.0} resources/s",
        m.patients,
        m.staff,
        m.rooms,
        m.appointments,
        bytes as f64 / (1024.0 * 1024.0),
        secs,
        n as f64 / secs
    );
    Ok(())
}
