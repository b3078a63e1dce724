//! The FHIR bulk export's speed: a new demo database (`small` or `large`, the first argument)
//! exported as its admin; prints resources per second. The demo is generated first (not
//! timed). Run in release: `cargo run --release -p clinicdesk-interop --example fhir_bench -- large`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use clinicdesk_api::App;
use clinicdesk_demo::{generate_demo, DemoSize};
use clinicdesk_interop::fhir::{export_fhir, ExportOptions};
use clinicdesk_store::{KeySource, Store};

fn main() -> Result<()> {
    let size = DemoSize::parse(&std::env::args().nth(1).unwrap_or_else(|| "small".into()))?;
    let dir = tempfile::tempdir()?;
    let store = Store::create(
        &dir.path().join("bench.db"),
        &KeySource::File(dir.path().join("k")),
    )?;
    let t = Instant::now();
    generate_demo(&store, size, "bench-password-1", &mut |_, _, _| true)?;
    eprintln!(
        "demo {} generated in {:.1} s",
        size.as_str(),
        t.elapsed().as_secs_f64()
    );
    let app = App::new(Arc::new(store));
    let admin = app.login("admin", "bench-password-1")?;
    let today = chrono::Utc::now().date_naive();
    let opts = ExportOptions {
        now_ms: chrono::Utc::now().timestamp_millis(),
        as_of: today,
        slots: None,
        slot_minutes: 30,
    };
    let t = Instant::now();
    let mut last = Instant::now();
    let r = export_fhir(
        &app,
        &admin,
        &dir.path().join("fhir"),
        &opts,
        &mut |stage, done, _| {
            if last.elapsed().as_secs() >= 2 {
                eprintln!("  {stage}: {done} resources");
                last = Instant::now();
            }
            true
        },
    )?;
    let secs = t.elapsed().as_secs_f64();
    for (ty, _, n) in &r.files {
        println!("{ty:<17} {n:>9}");
    }
    println!(
        "exported {} resources in {:.2} s: {:.0} resources/s",
        r.total,
        secs,
        r.total as f64 / secs
    );
    Ok(())
}
