//! The sync benchmark (issue 12; SYNC.md §9): a report, never a timed test.
//!
//! `cargo build --release -p clinicdesk-cli && cargo run --release -p clinicdesk-cli --example sync_bench -- --size large`
//! (`--profile`: also where the server's push time goes, per plpgsql function)
//!
//! On one machine, against a throwaway PostgreSQL on loopback (crates/pgcluster):
//! 1. PC A: the demo, `server init`, `sync enrol --seed` (timed).
//! 2. PC B: `sync enrol --join` through a byte-counting proxy: initial sync rows/s end to end
//!    (process start to the database in place) and bytes per row sent by the server.
//! 3. Push: 10 local transactions of 1,000 appointment edits on A, pushed batch by batch:
//!    changes/s on the server side and p50/p99 per 1,000-change `sync.push` call.
//! 4. Catch-up: 40,000 more edits on A pushed while B is "offline", then B's pull (≈50,000
//!    changes; rows = distinct rows changed).
//! 5. Propagation: both PCs running the desktop's loop (`Runner`); a commit on A until B's
//!    database shows it, 100 times: p50/p99.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clinicdesk_api::keys::{KeySource, SecretPlace};
use clinicdesk_api::{Store, StoreError};
use clinicdesk_sync::{pull, push, Runner, Settings};

const PW: &str = "correct horse battery";

struct Pc {
    db: PathBuf,
    key: PathBuf,
}

fn clinicdesk_bin() -> PathBuf {
    if let Some(p) = std::env::args().skip_while(|a| a != "--clinicdesk").nth(1) {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/clinicdesk")
}

fn run(bin: &Path, pc: &Pc, args: &[&str]) -> Result<serde_json::Value> {
    let o = Command::new(bin)
        .arg("--db")
        .arg(&pc.db)
        .arg("--key-file")
        .arg(&pc.key)
        .arg("--json")
        .args(args)
        .env("CLINICDESK_PASSWORD", PW)
        .env("CLINICDESK_SERVER_PASSWORD", "unused with trust")
        .env_remove("CLINICDESK_SYNC_KEY_FILE")
        .output()?;
    if !o.status.success() {
        bail!("{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    Ok(serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null))
}

/// A loopback proxy counting the bytes the server sends.
fn counting_proxy(upstream: u16, down: Arc<AtomicU64>) -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let port = l.local_addr()?.port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let Ok(s) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            // As the client and server do: no Nagle delay (else each query waits ~40 ms for
            // a delayed ACK, and the proxy, not sync, is what gets measured).
            let _ = c.set_nodelay(true);
            let _ = s.set_nodelay(true);
            let (mut c1, mut s1) = (c.try_clone().unwrap(), s.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut s1);
                let _ = s1.shutdown(std::net::Shutdown::Both);
            });
            let (mut s2, mut c2) = (s, c);
            let down = down.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = s2.read(&mut buf) {
                    if n == 0 || c2.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    down.fetch_add(n as u64, Ordering::Relaxed);
                }
                // Either side closing closes the other (the client sees a server's hang-up).
                let _ = c2.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    Ok(port)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn open(pc: &Pc) -> Result<Arc<Store>> {
    Ok(Arc::new(Store::open(
        &pc.db,
        &KeySource::File(pc.key.clone()),
    )?))
}

fn settings(store: &Store, pc: &Pc) -> Result<Settings> {
    let place = SecretPlace::sync(&KeySource::File(pc.key.clone()), &store.db_id()?, None);
    Ok(Settings::of(store, &place)?)
}

/// `n` local transactions, each editing `per` appointments (`offset` onwards), as the app
/// writes: captured, one `sync_txn` each.
fn edit_appointments(store: &Store, n: usize, per: usize, offset: usize, tag: &str) -> Result<()> {
    for k in 0..n {
        store.write(None, |tx| -> Result<(), StoreError> {
            tx.execute(
                "UPDATE appointments SET notes = ?1 || id WHERE id IN
                 (SELECT id FROM appointments ORDER BY id LIMIT ?2 OFFSET ?3)",
                rusqlite::params![tag, per as i64, (offset + k * per) as i64],
            )?;
            Ok(())
        })?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let size = std::env::args()
        .skip_while(|a| a != "--size")
        .nth(1)
        .unwrap_or_else(|| "small".into());
    let bin = clinicdesk_bin();
    if !bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p clinicdesk-cli",
            bin.display()
        );
    }
    // --profile: the server counts time per function (track_functions), and the report says
    // where a push's time goes (the timing itself costs a little: compare figures without it).
    let profile = std::env::args().any(|a| a == "--profile");
    let dir = tempfile::tempdir()?;
    let cluster = if profile {
        clinicdesk_pgcluster::PgCluster::start_with(
            &clinicdesk_pgcluster::PgOptions::new().set("track_functions", "all"),
        )?
    } else {
        clinicdesk_pgcluster::PgCluster::start()?
    };
    cluster
        .connect()?
        .batch_execute("CREATE DATABASE clinicdesk")?;
    let url = |port: u16| format!("postgres://postgres@127.0.0.1:{port}/clinicdesk");
    let a = Pc {
        db: dir.path().join("a.db"),
        key: dir.path().join("a.key"),
    };
    let b = Pc {
        db: dir.path().join("b.db"),
        key: dir.path().join("b.key"),
    };
    let mut report = vec![format!(
        "# Sync benchmark ({size} demo, loopback PostgreSQL)\n"
    )];
    let mut line = |s: String| {
        println!("{s}");
        report.push(s);
    };

    let t = Instant::now();
    let demo = run(&bin, &a, &["demo", "--size", &size])?;
    line(format!(
        "- demo generated: {} rows in {:.1} s",
        demo["rows_total"],
        t.elapsed().as_secs_f64()
    ));
    run(&bin, &a, &["server", "init", "--url", &url(cluster.port())])?;
    let t = Instant::now();
    let seeded = run(
        &bin,
        &a,
        &[
            "--user",
            "admin",
            "sync",
            "enrol",
            "--url",
            &url(cluster.port()),
            "--seed",
        ],
    )?;
    let secs = t.elapsed().as_secs_f64();
    let rows = seeded["seeded_rows"].as_f64().unwrap_or(0.0);
    line(format!(
        "- seed (first PC, binary COPY via a temporary table): {rows} rows in {secs:.1} s = {:.0} rows/s",
        rows / secs
    ));

    let down = Arc::new(AtomicU64::new(0));
    let proxy = counting_proxy(cluster.port(), down.clone())?;
    let t = Instant::now();
    let joined = run(&bin, &b, &["sync", "enrol", "--url", &url(proxy), "--join"])?;
    let secs = t.elapsed().as_secs_f64();
    let rows = joined["rows"].as_f64().unwrap_or(0.0);
    let bytes = down.load(Ordering::Relaxed) as f64;
    line(format!(
        "- initial sync (join, end to end into a fresh encrypted file): {rows} rows in {secs:.1} s = **{:.0} rows/s**; {:.0} bytes/row from the server ({:.1} MB)",
        rows / secs,
        bytes / rows.max(1.0),
        bytes / 1e6
    ));
    let phase = |k: &str| joined["phases"][k].as_f64().unwrap_or(0.0) / 1000.0;
    line(format!(
        "  - where the PC's writer spent it: waiting for the server's rows {:.1} s, inserting {:.1} s, indexes {:.1} s, search index {:.1} s, commit {:.1} s, checks {:.1} s",
        phase("wait_ms"),
        phase("insert_ms"),
        phase("index_ms"),
        phase("search_ms"),
        phase("commit_ms"),
        phase("check_ms")
    ));

    // Push.
    let sa = open(&a)?;
    let appointments: i64 = sa.read(|c| {
        c.query_row("SELECT count(*) FROM appointments", [], |r| r.get(0))
            .map_err(StoreError::from)
    })?;
    let per = 1000usize;
    let txns = (10usize).min(appointments as usize / per).max(1);
    edit_appointments(&sa, txns, per, 0, "push ")?;
    let mut pg = settings(&sa, &a)?.connect()?;
    let inc = push::incarnation(&sa)?;
    let mut times = Vec::new();
    let mut changes = 0usize;
    let t = Instant::now();
    while let Some(batch) = sa.read(push::next_batch)? {
        let t1 = Instant::now();
        let ack = push::send(&mut pg, &inc, &batch)?;
        times.push(t1.elapsed().as_secs_f64() * 1000.0);
        push::record_ack(&sa, ack.last)?;
        changes += batch.changes;
    }
    let total = t.elapsed().as_secs_f64();
    let server: f64 = times.iter().sum::<f64>() / 1000.0;
    line(format!(
        "- push: {changes} changes in {} calls; server side {:.0} changes/s (end to end {:.0}/s); per call p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        changes as f64 / server,
        changes as f64 / total,
        pct(&mut times.clone(), 0.5),
        pct(&mut times, 0.99)
    ));

    if profile {
        // A session's statistics reach the shared view when it ends (or idle 10 s later). The
        // seed's and the join's calls are in the counts too (patient visibility, is_date).
        drop(pg);
        pg = settings(&sa, &a)?.connect()?;
        std::thread::sleep(Duration::from_millis(500));
        // The statistics of the server's database (the view shows the current database's).
        let mut su = cluster
            .config("clinicdesk")
            .connect(clinicdesk_pgcluster::postgres::NoTls)?;
        let top = su.query(
            "SELECT funcname, calls, round(total_time::numeric, 1)::text, round(self_time::numeric, 1)::text
               FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 12",
            &[],
        )?;
        line("- push profile (server functions by self time, ms):".into());
        for r in top {
            line(format!(
                "  - {}: {} calls, total {}, self {}",
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3)
            ));
        }
    }

    // Catch-up: B was away while A made ~50,000 changes.
    let more = (40_000usize).min((appointments as usize).saturating_sub(txns * per)) / per;
    edit_appointments(&sa, more, per, txns * per, "week ")?;
    while let Some(batch) = sa.read(push::next_batch)? {
        let ack = push::send(&mut pg, &inc, &batch)?;
        push::record_ack(&sa, ack.last)?;
    }
    let sb = open(&b)?;
    let mut pgb = settings(&sb, &b)?.connect()?;
    let t = Instant::now();
    let (_, applied) = pull::pull(&sb, &mut pgb)?;
    line(format!(
        "- catch-up after {} changes made elsewhere: {} rows pulled and applied in {:.2} s",
        (txns + more) * per,
        applied.rows,
        t.elapsed().as_secs_f64()
    ));
    // Where one change's time goes (no loops): A's commit, its push, B's fetch, B's apply;
    // then the slowest of B's per-table fetch queries with its plan.
    let mut parts: [Vec<f64>; 4] = Default::default();
    let one: String = sa.read(|c| {
        c.query_row("SELECT id FROM appointments ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .map_err(StoreError::from)
    })?;
    for i in 0..20 {
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        sa.write(None, |tx| -> Result<(), StoreError> {
            tx.execute(
                "UPDATE appointments SET notes = ?1 WHERE id = ?2",
                [&format!("breakdown {i}"), &one],
            )?;
            Ok(())
        })?;
        parts[0].push(ms(t));
        let t = Instant::now();
        while let Some(batch) = sa.read(push::next_batch)? {
            let ack = push::send(&mut pg, &inc, &batch)?;
            push::record_ack(&sa, ack.last)?;
        }
        parts[1].push(ms(t));
        let cursor = sb.read(|c| {
            clinicdesk_store::sync_meta::get_i64(c, clinicdesk_store::sync_meta::PULL_CURSOR, 0)
        })?;
        let t = Instant::now();
        let cp = pull::fetch(&mut pgb, cursor)?;
        parts[2].push(ms(t));
        let t = Instant::now();
        pull::apply(&sb, &cp)?;
        parts[3].push(ms(t));
    }
    line(format!(
        "- one change, by part (p50 of 20): commit on A {:.1} ms, push {:.1} ms, fetch on B {:.1} ms, apply on B {:.1} ms",
        pct(&mut parts[0], 0.5),
        pct(&mut parts[1], 0.5),
        pct(&mut parts[2], 0.5),
        pct(&mut parts[3], 0.5)
    ));
    let cursor = sb.read(|c| {
        clinicdesk_store::sync_meta::get_i64(c, clinicdesk_store::sync_meta::PULL_CURSOR, 0)
    })?;
    let mut slow: Vec<(f64, String)> = Vec::new();
    for t in clinicdesk_sync::tables::tables()? {
        let sql = format!(
            "SELECT * FROM cd.\"{}\" WHERE _seq > {cursor} - 1 AND _seq <= {cursor} ORDER BY _seq",
            t.name
        );
        let start = Instant::now();
        pgb.query(&sql, &[])?;
        slow.push((start.elapsed().as_secs_f64() * 1000.0, sql));
    }
    slow.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for (ms, sql) in slow.iter().take(3) {
        let plan: Vec<String> = pgb
            .query(&format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}"), &[])?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        println!("fetch query {ms:.1} ms: {sql}\n  {}", plan.join("\n  "));
    }
    drop((pg, pgb));

    // Propagation with both desktop loops running.
    let ra = Runner::start(sa.clone(), settings(&sa, &a)?, |_| {});
    let rb = Runner::start(sb.clone(), settings(&sb, &b)?, |_| {});
    std::thread::sleep(Duration::from_secs(2));
    let id = one;
    let mut lat = Vec::new();
    for i in 0..100 {
        let value = format!("propagation {i}");
        let t = Instant::now();
        sa.write(None, |tx| -> Result<(), StoreError> {
            tx.execute(
                "UPDATE appointments SET notes = ?1 WHERE id = ?2",
                [&value, &id],
            )?;
            Ok(())
        })?;
        let deadline = t + Duration::from_secs(10);
        loop {
            let seen: Option<String> = sb.read(|c| {
                c.query_row("SELECT notes FROM appointments WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)
            })?;
            if seen.as_deref() == Some(value.as_str()) {
                break;
            }
            if Instant::now() > deadline {
                bail!("propagation {i} took over 10 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    line(format!(
        "- propagation, commit on A to visible on B (both online, desktop loop): p50 {:.0} ms, p99 {:.0} ms (100 commits)",
        pct(&mut lat.clone(), 0.5),
        pct(&mut lat, 0.99)
    ));
    ra.stop();
    rb.stop();
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("sync-bench-{size}.md")));
    std::fs::write(&out, report.join("\n") + "\n").context("writing the report")?;
    println!("report: {}", out.display());
    Ok(())
}
