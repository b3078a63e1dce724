//! Crash test: a child process writes (audited, change-captured) in a loop and is killed with
//! SIGKILL at random moments, 200 times. Afterwards the database passes integrity_check and
//! cipher_integrity_check, every write the child reported as committed is present, and the
//! audit chain verifies.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clinicdesk_domain::{ClinicId, ContactMethod, PatientId, Sex};
use clinicdesk_store::tables::{clinics::Clinic, patients::Patient};
use clinicdesk_store::{now_ms, table, KeySource, Store};

const KILLS: usize = 200;

fn keys(dir: &std::path::Path) -> KeySource {
    KeySource::File(dir.join("crash.key"))
}

/// The child: opens the database and inserts patients one transaction at a time, printing each
/// id after its commit returned. Run only by `writes_survive_sigkill`.
#[test]
#[ignore = "child process of writes_survive_sigkill"]
fn crash_child() {
    let Ok(dir) = std::env::var("CRASH_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let store = Store::open(&dir.join("crash.db"), &keys(&dir)).unwrap();
    let clinic: String = store
        .read(|c| -> clinicdesk_store::Result<String> {
            Ok(c.query_row("SELECT id FROM clinics LIMIT 1", [], |r| r.get(0))?)
        })
        .unwrap();
    let clinic = ClinicId::parse(&clinic).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    loop {
        let id = PatientId::new();
        let now = now_ms();
        let p = Patient {
            id,
            clinic_id: clinic,
            mrn: id.as_uuid().simple().to_string(),
            first_name: "Crash".into(),
            last_name: "Test".into(),
            middle_name: None,
            preferred_name: None,
            date_of_birth: None,
            sex: Sex::Unknown,
            email: None,
            phone: None,
            address_line1: None,
            city: None,
            state: None,
            postal_code: None,
            preferred_contact_method: ContactMethod::None,
            consent_sms: false,
            consent_email: false,
            legacy_id: None,
            notes: Some("x".repeat(200)),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        store
            .write(Some("crash-child"), |tx| table::insert(tx, &p))
            .unwrap();
        writeln!(out, "committed {id}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    {
        let store = Store::create(&path, &keys(dir.path())).unwrap();
        let now = now_ms();
        let c = Clinic {
            id: ClinicId::new(),
            name: "Crash Clinic".into(),
            code: "CRS".into(),
            timezone: "UTC".into(),
            address_line1: None,
            city: None,
            state: None,
            postal_code: None,
            country: None,
            phone: None,
            email: None,
            reminder_offsets_minutes: vec![],
            idle_lock_minutes: 15,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            display_locale: None,
            hour_cycle: None,
        };
        store.write(None, |tx| table::insert(tx, &c)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut committed: Vec<String> = Vec::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CRASH_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("child.err")).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read lines on a thread so the kill can land at any moment.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut ids = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print "test crash_child ... " on the same line before it.
                if line.ends_with("ready") {
                    let _ = ready_tx.send(());
                } else if let Some(id) = line.strip_prefix("committed ") {
                    ids.push(id.to_string());
                }
            }
            ids
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Kill at a random moment while the child is writing (0–40 ms after it is ready).
        let _ = ready_rx.recv_timeout(Duration::from_secs(30));
        let delay = Duration::from_micros(seed % 40_000);
        let start = Instant::now();
        while start.elapsed() < delay {
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        committed.extend(reader.join().unwrap());
    }
    assert!(
        committed.len() > KILLS,
        "the child should have committed writes ({} seen); its stderr: {}",
        committed.len(),
        std::fs::read_to_string(dir.path().join("child.err")).unwrap_or_default()
    );

    let store = Store::open(&path, &keys(dir.path())).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    let present: std::collections::HashSet<String> = store
        .read(|c| -> clinicdesk_store::Result<_> {
            let mut s = c.prepare("SELECT id FROM patients")?;
            let ids = s
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .unwrap();
    let missing: Vec<&String> = committed
        .iter()
        .filter(|id| !present.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{report:?}");
    // Every patient row has its audit entry and its change-log entry.
    let (audited, captured): (i64, i64) = store
        .read(|c| -> clinicdesk_store::Result<_> {
            Ok((
                c.query_row(
                    "SELECT count(*) FROM audit_log WHERE table_name='patients'",
                    [],
                    |r| r.get(0),
                )?,
                c.query_row(
                    "SELECT count(*) FROM change_log WHERE table_name='patients'",
                    [],
                    |r| r.get(0),
                )?,
            ))
        })
        .unwrap();
    assert_eq!(audited as usize, present.len());
    assert_eq!(captured as usize, present.len());
    eprintln!(
        "{KILLS} kills, {} acknowledged writes, all present",
        committed.len()
    );
}
