//! The `clinicdesk` binary end to end on real encrypted databases: every command, JSON output,
//! and bad input for every command (clear one-line error, non-zero exit, nothing changed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PW: &str = "correct horse battery";

/// `init` of the clinic every test starts from.
const INIT: [&str; 9] = [
    "init",
    "--clinic-name",
    "Calgary Downtown",
    "--clinic-code",
    "cgy",
    "--timezone",
    "America/Edmonton",
    "--admin",
    "admin",
];

struct Env {
    dir: tempfile::TempDir,
    /// CLINICDESK_SERVER_PASSWORD of the next commands (the sync server's owner).
    server_password: std::cell::RefCell<Option<String>>,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
            server_password: Default::default(),
        }
    }
    fn set_server_password(&self, p: &str) {
        *self.server_password.borrow_mut() = Some(p.to_string());
    }
    fn db(&self) -> PathBuf {
        self.dir.path().join("c.db")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("c.key")
    }
    fn cmd(&self, args: &[&str], password: Option<&str>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clinicdesk"));
        c.arg("--db")
            .arg(self.db())
            .arg("--key-file")
            .arg(self.key())
            .args(args);
        c.env_remove("CLINICDESK_PASSWORD")
            .env_remove("CLINICDESK_DB_KEY")
            .env_remove("CLINICDESK_USER")
            .env_remove("CLINICDESK_SERVER_PASSWORD")
            .env_remove("CLINICDESK_SERVER_URL")
            .env_remove("CLINICDESK_SYNC_KEY_FILE");
        if let Some(p) = &*self.server_password.borrow() {
            c.env("CLINICDESK_SERVER_PASSWORD", p);
        }
        if let Some(p) = password {
            c.env("CLINICDESK_PASSWORD", p);
        }
        c.env("CLINICDESK_NEW_PASSWORD", "another good password");
        c.stdin(Stdio::null()).output().unwrap()
    }
    /// As the admin, JSON output; must succeed.
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        self.ok_as("admin", PW, args)
    }
    /// As `user` with `password`, JSON output; must succeed.
    fn ok_as(&self, user: &str, password: &str, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--user", user, "--json"];
        full.extend_from_slice(args);
        let o = self.cmd(&full, Some(password));
        assert!(
            o.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&o.stdout)
            )
        })
    }
    /// Must fail with one `error:` line mentioning `needle`, and change nothing.
    fn bad(&self, args: &[&str], password: Option<&str>, needle: &str) {
        let before = fingerprint(&self.db(), &self.key());
        let o = self.cmd(args, password);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} should fail");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{args:?}: expected one line on stderr, got {err:?}"
        );
        assert!(
            lines[0].starts_with("error: ") || lines[0].starts_with("error:"),
            "{args:?}: {err}"
        );
        assert!(
            err.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: expected '{needle}' in {err:?}"
        );
        // The message says each thing once ("x: x" is a cause printed twice).
        let m = lines[0].trim_start_matches("error:").trim();
        for (i, _) in m.match_indices(": ") {
            assert_ne!(&m[..i], &m[i + 2..], "{args:?}: repeated message {err:?}");
        }
        assert_eq!(
            before,
            fingerprint(&self.db(), &self.key()),
            "{args:?} changed data"
        );
    }
    /// A non-clinical staff member "FIRST Nurse" at `clinic`; its id.
    fn nurse(&self, clinic: &str, first: &str) -> String {
        self.ok(&[
            "staff",
            "create",
            "--clinic",
            clinic,
            "--set",
            &format!("first_name={first}"),
            "--set",
            "last_name=Nurse",
            "--set",
            "is_clinical=no",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    /// A "Day" shift template (08:00–16:00) at `clinic`; its id.
    fn day_shift(&self, clinic: &str) -> String {
        self.ok(&[
            "shift-template",
            "create",
            "--clinic",
            clinic,
            "--set",
            "name=Day",
            "--set",
            "start_time=08:00",
            "--set",
            "end_time=16:00",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    /// The first clinic's id (the one `init` made).
    fn clinic_id(&self) -> String {
        self.ok(&["clinic", "list"])[0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn init(&self) {
        self.init_with(&[]);
    }
    /// `init` after the global options `global` (e.g. `--json`); must succeed.
    fn init_with(&self, global: &[&str]) -> Output {
        let args = [global, &INIT[..]].concat();
        let o = self.cmd(&args, Some(PW));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    }
}

/// Content hash of every table except the audit log (sign-ins and refusals append to it).
fn fingerprint(db: &Path, key: &Path) -> Option<Vec<(String, u64)>> {
    if !db.exists() {
        return None;
    }
    let k = std::fs::read_to_string(key).ok()?;
    let c =
        clinicdesk_store::open_raw(db, &clinicdesk_store::DbKey::from_hex(&k).unwrap()).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('audit_log','users') AND name NOT LIKE '%fts%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for n in names {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // Sign-ins update the users row (failed-attempt counter), which change capture records.
        // ... and the push queue records that change as one transaction.
        let filter = match n.as_str() {
            "change_log" => "WHERE table_name <> 'users'",
            "sync_txn" => {
                "WHERE EXISTS (SELECT 1 FROM change_log l WHERE l.seq BETWEEN sync_txn.first_seq \
                 AND sync_txn.last_seq AND l.table_name <> 'users')"
            }
            _ => "",
        };
        let mut s = c
            .prepare(&format!("SELECT * FROM {n} {filter} ORDER BY rowid"))
            .unwrap();
        let cols = s.column_count();
        let mut rows = s.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..cols {
                format!("{:?}", r.get_ref(i).unwrap()).hash(&mut h);
            }
        }
        out.push((n, h.finish()));
    }
    Some(out)
}

#[test]
fn init_then_every_entity_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinics = e.ok(&["clinic", "list"]);
    let clinic = clinics[0]["id"].as_str().unwrap().to_string();
    assert_eq!(clinics[0]["code"], "CGY");

    let staff = e.ok(&[
        "staff",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Maya",
        "--set",
        "last_name=Singh",
        "--set",
        "discipline=Physiotherapy",
    ]);
    let staff_id = staff["id"].as_str().unwrap();
    assert_eq!(staff["discipline"], "physiotherapy");
    let ct = e.ok(&["credential-type", "create", "--data", r#"{"name":"Physiotherapy licence","code":"pt","required_for_disciplines":"physiotherapy","is_required_for_clinical":true}"#]);
    assert_eq!(
        ct["alert_thresholds_days"],
        serde_json::json!([90, 60, 30, 7, 0])
    );
    let cred = e.ok(&[
        "credential",
        "create",
        "--staff",
        staff_id,
        "--set",
        &format!("credential_type_id={}", ct["id"].as_str().unwrap()),
        "--set",
        "expiry_date=2027-03-31",
    ]);
    assert_eq!(cred["status"], "active");
    let upd = e.ok(&[
        "credential",
        "update",
        cred["id"].as_str().unwrap(),
        "--set",
        "status=suspended",
    ]);
    assert_eq!(upd["status"], "suspended");

    let p = e.ok(&[
        "patient",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Zoë",
        "--set",
        "last_name=Okafor",
        "--set",
        "phone=(403) 555-0142",
        "--set",
        "date_of_birth=1988-02-29",
        "--set",
        "consent_sms=yes",
        "--set",
        "preferred_contact_method=sms",
    ]);
    let pid = p["id"].as_str().unwrap();
    assert!(p["mrn"].as_str().unwrap().starts_with("CGY-"));
    for q in [
        "oka",
        "kaf",
        "4035550142",
        "1988-02-29",
        p["mrn"].as_str().unwrap(),
    ] {
        let found = e.ok(&["patient", "search", q]);
        assert_eq!(found.as_array().unwrap().len(), 1, "search {q}");
    }
    let payer = e.ok(&[
        "payer",
        "create",
        "--set",
        "payer_name=Alberta Blue Cross",
        "--set",
        "payer_type=commercial",
        "--set",
        "payer_code=abc",
    ]);
    let ins = e.ok(&[
        "insurance",
        "add",
        "--patient",
        pid,
        "--set",
        &format!("payer_id={}", payer["id"].as_str().unwrap()),
        "--set",
        "policy_number=POL-77",
    ]);
    assert_eq!(
        e.ok(&["insurance", "list", "--patient", pid])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    e.ok(&["insurance", "delete", ins["id"].as_str().unwrap()]);
    assert_eq!(
        e.ok(&["insurance", "list", "--patient", pid])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let emp = e.ok(&[
        "employer",
        "create",
        "--set",
        "employer_name=Suncor",
        "--set",
        "employee_count=1200",
    ]);
    assert_eq!(emp["employee_count"], 1200);
    let room = e.ok(&[
        "room",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "name=Treatment 1",
    ]);
    e.ok(&[
        "room",
        "update",
        room["id"].as_str().unwrap(),
        "--set",
        "status=maintenance",
    ]);
    let shift = e.ok(&[
        "shift-template",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "name=Night",
        "--set",
        "shift_type=night",
        "--set",
        "start_time=22:00",
        "--set",
        "end_time=06:00",
    ]);
    assert_eq!(shift["end_time"], "06:00");

    let u = e.ok(&[
        "user",
        "create",
        "--set",
        "username=desk1",
        "--set",
        "display_name=Front Desk One",
    ]);
    e.ok(&[
        "role",
        "grant",
        "--user-id",
        u["id"].as_str().unwrap(),
        "--clinic",
        &clinic,
        "--role",
        "front_desk",
    ]);
    assert_eq!(
        e.ok(&["role", "list", "--clinic", &clinic])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The front desk may register patients but not add staff.
    let o = e.cmd(
        &[
            "--user",
            "desk1",
            "staff",
            "create",
            "--clinic",
            &clinic,
            "--set",
            "first_name=X",
            "--set",
            "last_name=Y",
        ],
        Some("another good password"),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not allowed"));

    e.ok(&["patient", "delete", pid]);
    assert_eq!(
        e.ok(&["patient", "search", "okafor"])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let v = e.ok(&["audit", "verify"]);
    assert_eq!(v["ok"], true);
    assert!(v["entries"].as_u64().unwrap() > 10);

    let backup = e.dir.path().join("b.cdbk");
    e.ok(&["backup", backup.to_str().unwrap()]);
    e.ok(&["clinic", "update", &clinic, "--set", "name=Renamed"]);
    e.ok(&["restore", backup.to_str().unwrap()]);
    assert_eq!(
        e.ok(&["clinic", "get", &clinic])["name"],
        "Calgary Downtown"
    );
}

#[test]
fn bad_input_for_every_command() {
    let e = Env::new();
    // init
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "1",
            "--timezone",
            "UTC",
            "--admin",
            "admin",
        ],
        Some(PW),
        "code",
    );
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "ABC",
            "--timezone",
            "Mars/Base",
            "--admin",
            "admin",
        ],
        Some(PW),
        "IANA",
    );
    e.bad(
        &[
            "init",
            "--clinic-name",
            " ",
            "--clinic-code",
            "ABC",
            "--timezone",
            "UTC",
            "--admin",
            "admin",
        ],
        Some(PW),
        "name",
    );
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "ABC",
            "--timezone",
            "UTC",
            "--admin",
            "a",
        ],
        Some(PW),
        "username",
    );
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "ABC",
            "--timezone",
            "UTC",
            "--admin",
            "admin",
        ],
        None,
        "password",
    );
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "ABC",
            "--timezone",
            "UTC",
            "--admin",
            "admin",
        ],
        Some("short"),
        "password",
    );
    assert!(
        !e.db().exists(),
        "a refused init must not leave a database behind"
    );
    e.init();
    e.bad(
        &[
            "init",
            "--clinic-name",
            "X",
            "--clinic-code",
            "ABC",
            "--timezone",
            "UTC",
            "--admin",
            "admin",
        ],
        Some(PW),
        "already exists",
    );
    // demo
    e.bad(&["demo", "--size", "huge"], Some(PW), "size");
    e.bad(&["demo", "--size", "small"], Some(PW), "empty database");
    // sign-in and keys
    e.bad(&["clinic", "list"], Some(PW), "--user");
    e.bad(
        &["--user", "admin", "clinic", "list"],
        Some("wrong password!"),
        "wrong username or password",
    );
    e.bad(
        &["--user", "nobody", "clinic", "list"],
        Some(PW),
        "wrong username or password",
    );
    let wrong_key = e.dir.path().join("wrong.key");
    std::fs::write(&wrong_key, "00".repeat(32)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
        .args([
            "--db",
            e.db().to_str().unwrap(),
            "--key-file",
            wrong_key.to_str().unwrap(),
            "--user",
            "admin",
            "clinic",
            "list",
        ])
        .env("CLINICDESK_PASSWORD", PW)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("key is wrong"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
        .args([
            "--db",
            "/nonexistent/x.db",
            "--key-file",
            e.key().to_str().unwrap(),
            "--user",
            "admin",
            "clinic",
            "list",
        ])
        .env("CLINICDESK_PASSWORD", PW)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));

    let admin = |args: &[&str]| -> Vec<String> {
        let mut v = vec!["--user".to_string(), "admin".to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let clinic = e.clinic_id();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            admin(&[
                "clinic",
                "create",
                "--set",
                "name=X",
                "--set",
                "code=CGY",
                "--set",
                "timezone=UTC",
            ]),
            "already exists",
        ),
        (admin(&["clinic", "get", "not-an-id"]), "not a valid id"),
        (
            admin(&["clinic", "update", &clinic, "--set", "timezone=Nowhere"]),
            "IANA",
        ),
        (
            admin(&["clinic", "update", &clinic, "--set", "idle_lock_minutes=0"]),
            "idle_lock_minutes",
        ),
        (
            admin(&["clinic", "delete", "0190ffff-0000-7000-8000-000000000000"]),
            "not found",
        ),
        (
            admin(&["user", "create", "--set", "username=x"]),
            "username",
        ),
        (
            admin(&[
                "user",
                "update",
                "0190ffff-0000-7000-8000-000000000000",
                "--set",
                "display_name=Y",
            ]),
            "not found",
        ),
        (
            admin(&[
                "role",
                "grant",
                "--user-id",
                "0190ffff-0000-7000-8000-000000000000",
                "--clinic",
                &clinic,
                "--role",
                "king",
            ]),
            "role",
        ),
        (
            admin(&[
                "staff",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "first_name=A",
            ]),
            "last_name",
        ),
        (
            admin(&[
                "staff",
                "create",
                "--set",
                "first_name=A",
                "--set",
                "last_name=B",
            ]),
            "--clinic",
        ),
        (
            admin(&[
                "staff",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "first_name=A",
                "--set",
                "last_name=B",
                "--set",
                "hire_date=yesterday",
            ]),
            "hire_date",
        ),
        (
            admin(&["credential-type", "create", "--set", "name=X"]),
            "code",
        ),
        (
            admin(&[
                "credential",
                "create",
                "--staff",
                "0190ffff-0000-7000-8000-000000000000",
                "--set",
                "x=y",
            ]),
            "not found",
        ),
        (
            admin(&[
                "patient",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "first_name=A",
                "--set",
                "last_name=B",
                "--set",
                "sex=banana",
            ]),
            "sex",
        ),
        (
            admin(&[
                "patient",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "first_name=A",
                "--set",
                "last_name=B",
                "--set",
                "shoe_size=9",
            ]),
            "unknown field",
        ),
        (
            admin(&[
                "patient",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "first_nameA",
            ]),
            "name=value",
        ),
        (
            admin(&[
                "patient",
                "create",
                "--clinic",
                &clinic,
                "--data",
                "{not json",
            ]),
            "not valid JSON",
        ),
        (
            admin(&["patient", "get", "0190ffff-0000-7000-8000-000000000000"]),
            "not found",
        ),
        (
            admin(&[
                "insurance",
                "add",
                "--patient",
                "0190ffff-0000-7000-8000-000000000000",
                "--set",
                "policy_number=1",
            ]),
            "not found",
        ),
        (
            admin(&[
                "employer",
                "create",
                "--set",
                "employer_name=E",
                "--set",
                "employee_count=-5",
            ]),
            "employee_count",
        ),
        (
            admin(&[
                "payer",
                "create",
                "--set",
                "payer_name=P",
                "--set",
                "email=nope",
            ]),
            "email",
        ),
        (
            admin(&[
                "room",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "name=R",
                "--set",
                "capacity=0",
            ]),
            "capacity",
        ),
        (
            admin(&[
                "shift-template",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "name=S",
                "--set",
                "start_time=9am",
                "--set",
                "end_time=17:00",
            ]),
            "start_time",
        ),
        (admin(&["backup", "/nonexistent-dir/b.db"]), "backup"),
        (
            admin(&["restore", e.key().to_str().unwrap()]),
            "not a backup of this database",
        ),
        (admin(&["restore", "/nonexistent.cdbk"]), "does not exist"),
        (
            admin(&["staff", "list", "--clinic", "nope"]),
            "not a valid id",
        ),
        (admin(&["room", "list", "--limit", "ten"]), "invalid value"),
        (
            admin(&[
                "insurance",
                "list",
                "--patient",
                "0190ffff-0000-7000-8000-000000000000",
            ]),
            "not found",
        ),
        (
            admin(&[
                "role",
                "revoke",
                "--user-id",
                "0190ffff-0000-7000-8000-000000000000",
                "--clinic",
                &clinic,
                "--role",
                "viewer",
            ]),
            "no viewer role",
        ),
        (
            admin(&[
                "user",
                "set-password",
                "0190ffff-0000-7000-8000-000000000000",
            ]),
            "not found",
        ),
        (
            admin(&[
                "credential",
                "update",
                "0190ffff-0000-7000-8000-000000000000",
                "--set",
                "status=active",
            ]),
            "not found",
        ),
        (admin(&["audit", "bogus"]), "unrecognized subcommand"),
        (admin(&["bench", "--iterations", "x"]), "invalid value"),
        (
            vec![
                "--user".into(),
                "viewer1".into(),
                "audit".into(),
                "verify".into(),
            ],
            "wrong username or password",
        ),
    ];
    for (args, needle) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
    let backup = e.dir.path().join("b.cdbk");
    e.ok(&["backup", backup.to_str().unwrap()]);
    e.bad(
        &["--user", "admin", "backup", backup.to_str().unwrap()],
        Some(PW),
        "already exists",
    );
}

#[test]
fn audit_verify_reports_tampering_with_nonzero_exit() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    for i in 0..3 {
        e.ok(&[
            "room",
            "create",
            "--clinic",
            &clinic,
            "--set",
            &format!("name=Room {i}"),
        ]);
    }
    let k = std::fs::read_to_string(e.key()).unwrap();
    let c = clinicdesk_store::open_raw(&e.db(), &clinicdesk_store::DbKey::from_hex(&k).unwrap())
        .unwrap();
    c.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET user_id = 'someone-else' WHERE seq = 4;").unwrap();
    drop(c);
    let o = e.cmd(&["--user", "admin", "audit", "verify"], Some(PW));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken at entry 4"), "{err}");
}

#[test]
fn a_front_desk_day_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let staff = e.ok(&[
        "staff",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Maya",
        "--set",
        "last_name=Singh",
        "--set",
        "is_clinical=no",
    ]);
    let sid = staff["id"].as_str().unwrap();
    let p = e.ok(&[
        "patient",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Ann",
        "--set",
        "last_name=Lee",
    ]);
    let pid = p["id"].as_str().unwrap();
    e.ok(&[
        "availability",
        "create",
        "--clinic",
        &clinic,
        "--set",
        &format!("provider_id={sid}"),
        "--set",
        "start=2027-03-01 08:00",
        "--set",
        "end=2027-03-01 12:00",
        "--set",
        "is_available=yes",
    ]);
    let t = e.ok(&[
        "appointment-type",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "name=Treatment",
        "--set",
        "code=tx",
        "--set",
        "duration_minutes=30",
    ]);
    let slots = e.ok(&[
        "appointment",
        "slots",
        "--clinic",
        &clinic,
        "--provider",
        sid,
        "--duration",
        "30",
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-01",
    ]);
    assert_eq!(slots.as_array().unwrap().len(), 15);
    let a = e.ok(&[
        "appointment",
        "book",
        "--clinic",
        &clinic,
        "--set",
        &format!("patient_id={pid}"),
        "--set",
        &format!("provider_id={sid}"),
        "--set",
        "start=2027-03-01 09:00",
        "--set",
        &format!("appointment_type_id={}", t["id"].as_str().unwrap()),
    ]);
    let aid = a["id"].as_str().unwrap();
    assert_eq!(a["status"], "pending");
    for action in ["confirm", "check_in", "start", "complete", "check_out"] {
        e.ok(&["appointment", "status", aid, action]);
    }
    let day = e.ok(&[
        "appointment",
        "day",
        "--clinic",
        &clinic,
        "--date",
        "2027-03-01",
    ]);
    assert_eq!(day["entries"][0]["status"], "completed");
    assert_eq!(day["entries"][0]["id"], aid);
    assert_eq!(day["hours"], 24);
    // Bad input: refused with one line, nothing changed.
    let admin = |args: &[&str]| -> Vec<String> {
        ["--user", "admin"]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (args, needle) in [
        (
            admin(&[
                "appointment",
                "book",
                "--clinic",
                &clinic,
                "--set",
                &format!("patient_id={pid}"),
                "--set",
                &format!("provider_id={sid}"),
                "--set",
                "start=2027-03-01 09:15",
                "--set",
                "duration_minutes=30",
            ]),
            "already has an appointment",
        ),
        (
            admin(&[
                "appointment",
                "book",
                "--clinic",
                &clinic,
                "--set",
                &format!("patient_id={pid}"),
                "--set",
                &format!("provider_id={sid}"),
                "--set",
                "start=2026-03-08 02:30",
                "--set",
                "duration_minutes=30",
            ]),
            "does not exist",
        ),
        (
            admin(&[
                "appointment",
                "book",
                "--clinic",
                &clinic,
                "--set",
                &format!("patient_id={pid}"),
                "--set",
                &format!("provider_id={sid}"),
                "--set",
                "start=tomorrow",
            ]),
            "start",
        ),
        (
            admin(&["appointment", "status", aid, "cancel"]),
            "cannot change appointment",
        ),
        (
            admin(&["appointment", "status", aid, "fly"]),
            "not an action",
        ),
        (
            admin(&[
                "appointment",
                "move",
                aid,
                "--set",
                "start=2027-03-01 10:00",
            ]),
            "cannot change appointment",
        ),
        (
            admin(&[
                "appointment",
                "day",
                "--clinic",
                &clinic,
                "--date",
                "2027-02-30",
            ]),
            "date",
        ),
        (
            admin(&[
                "appointment",
                "slots",
                "--clinic",
                &clinic,
                "--duration",
                "1",
                "--from",
                "2027-03-01",
                "--to",
                "2027-03-01",
            ]),
            "duration_minutes",
        ),
        (
            admin(&[
                "appointment-type",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "name=X",
                "--set",
                "code=X",
                "--set",
                "duration_minutes=0",
            ]),
            "duration_minutes",
        ),
        (
            admin(&[
                "availability",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "start=2027-03-01 08:00",
                "--set",
                "end=2027-03-01 07:00",
                "--set",
                "reason=x",
            ]),
            "end must be after",
        ),
        (
            admin(&[
                "availability",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "start=2027-03-01 08:00",
                "--set",
                "end=2027-03-01 09:00",
            ]),
            "reason",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }

    // A weekly series (the admin overrides working hours), then its second half moved to 10:00.
    let series = e.ok(&[
        "series",
        "book",
        "--clinic",
        &clinic,
        "--set",
        &format!("patient_id={pid}"),
        "--set",
        &format!("provider_id={sid}"),
        "--set",
        "start=2027-04-05 09:00",
        "--set",
        "duration_minutes=30",
        "--set",
        "weekdays=mon",
        "--set",
        "count=4",
        "--set",
        "override_reason=standing slot",
    ]);
    let occ: Vec<String> = series["booked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(occ.len(), 4);
    let moved = e.ok(&[
        "series",
        "edit",
        &occ[2],
        "--scope",
        "following",
        "--set",
        "time=10:00",
        "--set",
        "override_reason=new hours",
    ]);
    assert_eq!(moved["booked"].as_array().unwrap().len(), 2);
    assert_ne!(moved["series_id"], series["series_id"]);
    // Weekends and a holiday closed; the holiday's occurrence is listed for moving.
    let closed = e.ok(&[
        "availability",
        "closures",
        "--clinic",
        &clinic,
        "--set",
        "from=2027-04-10",
        "--set",
        "to=2027-04-12",
        "--set",
        "holidays=2027-04-12=Spring Day",
    ]);
    assert_eq!(closed["created"].as_array().unwrap().len(), 3);
    assert_eq!(closed["affected"][0]["id"].as_str(), Some(occ[1].as_str()));
    let today = e.ok(&["appointment", "today", "--clinic", &clinic]);
    assert!(today["entries"].as_array().unwrap().is_empty());
    assert!(today["date"].as_str().unwrap().len() == 10);
    let hk = e.ok(&["housekeeping"]);
    assert_eq!(hk["clinics"], 1);
    // The reminder export writes CSV (Ann Lee gave no consent: header only).
    let csv_path = e.dir.path().join("reminders.csv");
    e.ok(&[
        "reminder",
        "export",
        "--clinic",
        &clinic,
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&csv_path)
        .unwrap()
        .starts_with("reminder_id,channel,due_local,"));
    for (args, needle) in [
        (
            admin(&["series", "edit", &occ[0], "--scope", "all"]),
            "nothing to change",
        ),
        (
            admin(&[
                "series",
                "edit",
                &occ[0],
                "--scope",
                "most",
                "--set",
                "time=10:00",
            ]),
            "not one, following or all",
        ),
        (
            admin(&[
                "series", "edit", &occ[0], "--scope", "one", "--set", "time=9",
            ]),
            "not a time",
        ),
        (
            admin(&[
                "series",
                "edit",
                aid,
                "--scope",
                "one",
                "--set",
                "time=10:00",
            ]),
            "not part of a series",
        ),
        (
            admin(&[
                "availability",
                "closures",
                "--clinic",
                &clinic,
                "--set",
                "from=2027-04-10",
            ]),
            "error: to: is required\n",
        ),
        (
            admin(&[
                "availability",
                "closures",
                "--clinic",
                &clinic,
                "--set",
                "from=2027-04-10",
                "--set",
                "to=2027-04-12",
                "--set",
                "weekend_days=caturday",
            ]),
            "not a weekday",
        ),
        (
            admin(&["appointment", "today", "--clinic", "not-a-clinic"]),
            "clinic",
        ),
        (
            admin(&["reminder", "export", "--clinic", &clinic, "--until", "soon"]),
            "until",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
}

#[test]
fn staffing_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let (ana, ben) = (e.nurse(&clinic, "Ana"), e.nurse(&clinic, "Ben"));
    let day = e.day_shift(&clinic);
    let bulk = e.ok(&[
        "roster",
        "bulk",
        "--clinic",
        &clinic,
        "--set",
        &format!("staff_id={ana}"),
        "--set",
        &format!("shift_id={day}"),
        "--set",
        "from=2027-03-01",
        "--set",
        "to=2027-03-07",
        "--set",
        "weekdays=mon,tue,wed",
    ]);
    assert_eq!(bulk["assigned"].as_array().unwrap().len(), 3);
    let first = bulk["assigned"][0]["id"].as_str().unwrap().to_string();
    let list = e.ok(&[
        "roster",
        "list",
        "--clinic",
        &clinic,
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-07",
    ]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let swap = e.ok(&[
        "swap",
        "request",
        "--set",
        &format!("requester_schedule_id={first}"),
        "--set",
        &format!("target_staff_id={ben}"),
    ]);
    let pending = e.ok(&["swap", "list", "--clinic", &clinic]);
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], swap["id"]);
    let approved = e.ok(&["swap", "approve", swap["id"].as_str().unwrap()]);
    assert_eq!(approved["status"], "approved");
    // Listed by status: no longer requested, now approved.
    assert_eq!(
        e.ok(&["swap", "list", "--clinic", &clinic]),
        serde_json::json!([])
    );
    let done = e.ok(&["swap", "list", "--clinic", &clinic, "--status", "approved"]);
    assert_eq!(done[0]["id"], swap["id"]);
    let off = e.ok(&[
        "time-off",
        "request",
        "--clinic",
        &clinic,
        "--set",
        &format!("staff_id={ana}"),
        "--set",
        "start_date=2027-03-02",
        "--set",
        "end_date=2027-03-03",
    ]);
    let asked = e.ok(&["time-off", "list", "--clinic", &clinic]);
    assert_eq!(asked[0]["id"], off["id"]);
    assert_eq!(asked.as_array().unwrap().len(), 1);
    let decided = e.ok(&["time-off", "approve", off["id"].as_str().unwrap()]);
    assert_eq!(decided["coverage_needs"].as_array().unwrap().len(), 2);
    let needs = e.ok(&["coverage", "list", "--clinic", &clinic]);
    let need = needs[0]["id"].as_str().unwrap().to_string();
    let filled = e.ok(&["coverage", "fill", &need, "--staff", &ben]);
    assert_eq!(filled["need"]["status"], "filled");
    let second = needs[1]["id"].as_str().unwrap().to_string();
    e.ok(&["coverage", "cancel", &second, "--reason", "quiet day"]);
    let admin = |args: &[&str]| -> Vec<String> {
        ["--user", "admin"]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (args, needle) in [
        (
            admin(&[
                "roster",
                "assign",
                "--clinic",
                &clinic,
                "--set",
                &format!("staff_id={ana}"),
                "--set",
                &format!("shift_id={day}"),
                "--set",
                "date=2027-03-02",
            ]),
            "approved time off",
        ),
        (
            admin(&[
                "roster",
                "assign",
                "--clinic",
                &clinic,
                "--set",
                &format!("staff_id={ben}"),
                "--set",
                &format!("shift_id={day}"),
                "--set",
                "date=2027-03-01",
            ]),
            "already on the Day shift",
        ),
        (admin(&["roster", "status", &first, "nap"]), "not an action"),
        (
            admin(&[
                "roster",
                "list",
                "--clinic",
                &clinic,
                "--from",
                "2027-03-07",
                "--to",
                "2027-03-01",
            ]),
            "must not be before",
        ),
        (
            admin(&["swap", "approve", swap["id"].as_str().unwrap()]),
            "cannot change shift swap",
        ),
        (
            admin(&[
                "time-off",
                "request",
                "--clinic",
                &clinic,
                "--set",
                &format!("staff_id={ana}"),
                "--set",
                "start_date=2027-03-09",
                "--set",
                "end_date=2027-03-08",
            ]),
            "must not be before",
        ),
        (
            admin(&["coverage", "fill", &need, "--staff", &ben]),
            "cannot change coverage need",
        ),
        (
            admin(&["coverage", "cancel", &need, "--reason", " "]),
            "say why",
        ),
        (
            admin(&["coverage", "list", "--clinic", &clinic, "--status", "late"]),
            "status",
        ),
        (
            admin(&["swap", "list", "--clinic", &clinic, "--status", "late"]),
            "status",
        ),
        (
            admin(&["time-off", "list", "--clinic", "not-an-id"]),
            "not a valid id",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
}

/// A staff member's own requests: `swap mine`, `time-off mine`, `swap withdraw` and
/// `time-off cancel` as the staff member, signed in as themselves.
#[test]
fn own_requests_through_the_cli() {
    const STAFF_PW: &str = "another good password";
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let (ana, ben) = (e.nurse(&clinic, "Ana"), e.nurse(&clinic, "Ben"));
    // Ana signs in as herself (a clinician linked to her staff profile); Cyd has no profile.
    for (user, staff) in [("ana", Some(&ana)), ("cyd", None)] {
        let u = e.ok(&["user", "create", "--set", &format!("username={user}")]);
        let uid = u["id"].as_str().unwrap();
        e.ok(&[
            "role",
            "grant",
            "--user-id",
            uid,
            "--clinic",
            &clinic,
            "--role",
            "clinician",
        ]);
        if let Some(staff) = staff {
            e.ok(&["staff", "update", staff, "--set", &format!("user_id={uid}")]);
        }
    }
    let as_user = |user: &str, args: &[&str]| e.ok_as(user, STAFF_PW, args);
    let day = e.day_shift(&clinic);
    let shift = e.ok(&[
        "roster",
        "assign",
        "--clinic",
        &clinic,
        "--set",
        &format!("staff_id={ana}"),
        "--set",
        &format!("shift_id={day}"),
        "--set",
        "date=2027-03-01",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let swap = as_user(
        "ana",
        &[
            "swap",
            "request",
            "--set",
            &format!("requester_schedule_id={shift}"),
            "--set",
            &format!("target_staff_id={ben}"),
        ],
    );
    let off = as_user(
        "ana",
        &[
            "time-off",
            "request",
            "--clinic",
            &clinic,
            "--set",
            &format!("staff_id={ana}"),
            "--set",
            "start_date=2027-04-01",
            "--set",
            "end_date=2027-04-02",
        ],
    );
    // Someone else's request, made by the admin for Ben.
    let bens = e.ok(&[
        "time-off",
        "request",
        "--clinic",
        &clinic,
        "--set",
        &format!("staff_id={ben}"),
        "--set",
        "start_date=2027-04-01",
        "--set",
        "end_date=2027-04-01",
    ]);
    let mine = as_user("ana", &["swap", "mine"]);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["swap"]["id"], swap["id"]);
    assert_eq!(mine[0]["is_requester"], true);
    assert_eq!(mine[0]["target_name"], "Ben Nurse");
    assert_eq!(mine[0]["handed_over"]["shift_name"], "Day");
    let offs = as_user("ana", &["time-off", "mine", "--clinic", &clinic]);
    assert_eq!(offs.as_array().unwrap().len(), 1);
    assert_eq!(offs[0]["id"], off["id"]);
    // The human output names the shift and the people.
    let o = e.cmd(&["--user", "ana", "swap", "mine"], Some(STAFF_PW));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("2027-03-01 Day  Ana Nurse → Ben Nurse  status=requested"),
        "{text}"
    );

    // Refused or bad: one clear line, nothing changed.
    let swap_id = swap["id"].as_str().unwrap();
    let staff_user = |user: &str, args: &[&str]| -> Vec<String> {
        ["--user", user]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (args, needle) in [
        (
            staff_user("cyd", &["swap", "mine"]),
            "not linked to a staff profile",
        ),
        (
            staff_user("cyd", &["time-off", "mine"]),
            "not linked to a staff profile",
        ),
        (
            staff_user("ana", &["time-off", "cancel", bens["id"].as_str().unwrap()]),
            "not allowed",
        ),
        (
            staff_user("cyd", &["swap", "withdraw", swap_id]),
            "not allowed",
        ),
        (
            staff_user(
                "ana",
                &["swap", "withdraw", "0190a000-0000-7000-8000-00000000dead"],
            ),
            "not found",
        ),
        (
            staff_user("ana", &["time-off", "mine", "--status", "later"]),
            "status",
        ),
        (
            staff_user("ana", &["swap", "mine", "--clinic", "not-an-id"]),
            "not a valid id",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(STAFF_PW), needle);
    }

    // Ana withdraws both while they wait.
    let w = as_user("ana", &["swap", "withdraw", swap_id]);
    assert_eq!(w["status"], "cancelled");
    let c = as_user("ana", &["time-off", "cancel", off["id"].as_str().unwrap()]);
    assert_eq!(c["status"], "cancelled");
    assert_eq!(
        as_user("ana", &["time-off", "mine", "--status", "requested"]),
        serde_json::json!([])
    );
}

#[test]
fn patient_import_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let file = |name: &str, text: &str| {
        let p = e.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let good = file(
        "good.csv",
        "legacy_id,mrn,first_name,last_name,date_of_birth,sex,phone,email\n\
         OLD-1,CGY-9001,Ann,Lee,1980-02-03,female,403 555 0101,ann@example.com\n\
         OLD-2,,Ray,Hill,,,,\n",
    );
    let r = e.ok(&["patient", "import", &good, "--clinic", &clinic]);
    assert_eq!(
        (r["imported"].as_u64(), r["skipped"].as_u64()),
        (Some(2), Some(0))
    );
    let found = e.ok(&["patient", "search", "Lee"]);
    assert_eq!(found[0]["mrn"], "CGY-9001");
    assert_eq!(found[0]["legacy_id"], "OLD-1");
    // Again: nothing new, both skipped; the human output says so.
    let o = e.cmd(
        &[
            "--user", "admin", "patient", "import", &good, "--clinic", &clinic,
        ],
        Some(PW),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "imported 0 patients; 2 skipped (legacy_id imported before)"
    );

    // Bad input: one line naming the bad rows, nothing imported (the good row neither).
    let bad = file(
        "bad.csv",
        "legacy_id,first_name,last_name,date_of_birth\n\
         NEW-1,Kim,Wu,1990-01-01\n\
         NEW-2,Bob,Bell,1990-02-30\n\
         NEW-3,Cy,,\n",
    );
    let clash = file(
        "clash.csv",
        "legacy_id,mrn,first_name,last_name\nNEW-4,CGY-9001,Dee,Dunn\n",
    );
    let columns = file("columns.csv", "first_name,last_name\nAnn,Lee\n");
    let missing = e.dir.path().join("missing.csv");
    let admin = |args: &[&str]| -> Vec<String> {
        ["--user", "admin", "patient", "import"]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (args, needle) in [
        (
            admin(&[&bad, "--clinic", &clinic]),
            "2 of 3 rows are invalid, nothing was imported — line 3: date_of_birth",
        ),
        (
            admin(&[&bad, "--clinic", &clinic]),
            "line 4: last_name: is required",
        ),
        (
            admin(&[&clash, "--clinic", &clinic]),
            "line 2: another patient already has MRN CGY-9001",
        ),
        (
            admin(&[&columns, "--clinic", &clinic]),
            "missing: legacy_id",
        ),
        (
            admin(&[missing.to_str().unwrap(), "--clinic", &clinic]),
            "cannot read",
        ),
        (admin(&[&good, "--clinic", "not-an-id"]), "not a valid id"),
        (admin(&[&good]), "--clinic"),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
    assert_eq!(e.ok(&["patient", "search", "Wu"]), serde_json::json!([]));
}

#[test]
fn cases_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let p = e.ok(&[
        "patient",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Ann",
        "--set",
        "last_name=Lee",
    ]);
    let pid = p["id"].as_str().unwrap();
    let case = e.ok(&[
        "case",
        "create",
        "--clinic",
        &clinic,
        "--set",
        &format!("patient_id={pid}"),
        "--set",
        "case_type=workers_comp",
        "--set",
        "authorization_expiry=2026-01-31",
    ]);
    let cid = case["id"].as_str().unwrap().to_string();
    assert!(case["case_number"].as_str().unwrap().ends_with("-0001"));
    assert_eq!(
        e.ok(&["case", "status", &cid, "active"])["status"],
        "active"
    );
    assert_eq!(
        e.ok(&["case", "priority", &cid, "high"])["priority"],
        "high"
    );
    let warnings = e.ok(&["case", "warnings", "--clinic", &clinic]);
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("expired on 2026-01-31"));
    assert_eq!(
        e.ok(&["case", "list", "--clinic", &clinic, "--status", "active"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let admin = |args: &[&str]| -> Vec<String> {
        ["--user", "admin"]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (args, needle) in [
        (
            admin(&[
                "case",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "case_type=x",
            ]),
            "patient_id",
        ),
        (
            admin(&["case", "status", &cid, "archived"]),
            "cannot change case",
        ),
        (admin(&["case", "priority", &cid, "asap"]), "priority"),
        (
            admin(&["case", "warnings", "--clinic", &clinic, "--days", "999"]),
            "0 to 365",
        ),
        (
            admin(&["case", "update", &cid, "--set", "readmission_risk_score=7"]),
            "between 0 and 1",
        ),
        (
            admin(&["case", "numbering", "sometimes"]),
            "not local or server",
        ),
        (
            admin(&[
                "case",
                "grant-numbers",
                "--clinic",
                &clinic,
                "--year",
                "2026",
                "--device",
                "pc-2",
                "--size",
                "0",
            ]),
            "1 to 1000",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
}

#[test]
fn kpis_goals_and_capacity_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let report = e.ok(&[
        "kpi",
        "report",
        "--clinic",
        &clinic,
        "--period",
        "week",
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-31",
    ]);
    let rows = report["rows"].as_array().unwrap();
    // Weeks start on Monday: 2027-03-01 is one; the last week holds the 31st.
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["period_start"], "2027-03-01");
    assert_eq!(rows[4]["period_end"], "2027-04-04");
    assert_eq!(rows[0]["no_show_rate"]["value"], serde_json::Value::Null);
    assert_eq!(rows[0]["no_show_rate"]["denominator"], 0.0);
    let ev = e.ok(&[
        "kpi",
        "record",
        "--clinic",
        &clinic,
        "--set",
        "event_type=safety_alert",
        "--set",
        "severity=high",
        "--set",
        "notes=wet floor",
    ]);
    assert_eq!(ev["event_type"], "safety_alert");
    assert_eq!(ev["dimensions"]["severity"], "high");
    assert_eq!(
        e.ok(&["goal", "list", "--clinic", &clinic])
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let goal = e.ok(&[
        "goal",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "name=No-shows under 8%",
        "--set",
        "metric_key=no_show_rate",
        "--set",
        "comparator=lt",
        "--set",
        "target_value=8%",
    ]);
    assert_eq!(goal["target_value"], 0.08);
    assert_eq!(goal["period"], "month");
    let progress = e.ok(&[
        "goal",
        "progress",
        "--clinic",
        &clinic,
        "--date",
        "2027-03-10",
    ]);
    let progress = progress.as_array().unwrap();
    assert_eq!(progress.len(), 7);
    assert_eq!(progress[6]["goal"]["name"], "No-shows under 8%");
    assert_eq!(progress[6]["period_start"], "2027-03-01");
    assert_eq!(progress[6]["met"], false);
    let snap = e.ok(&["capacity", "snapshot", "--clinic", &clinic]);
    assert_eq!(snap["capacity_status"], "normal");
    assert_eq!(snap["total_rooms"], 0);
    let list = e.ok(&["capacity", "list", "--clinic", &clinic]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], snap["id"]);
    let admin = |args: &[&str]| -> Vec<String> {
        ["--user", "admin"]
            .iter()
            .chain(args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let elsewhere = "0190aaaa-0000-7000-8000-000000000000";
    for (args, needle) in [
        (
            admin(&[
                "kpi",
                "report",
                "--clinic",
                &clinic,
                "--period",
                "year",
                "--from",
                "2027-03-01",
                "--to",
                "2027-03-31",
            ]),
            "'year' is not a period",
        ),
        (
            admin(&[
                "kpi",
                "report",
                "--clinic",
                &clinic,
                "--from",
                "2027-03-31",
                "--to",
                "2027-03-01",
            ]),
            "must not be before from",
        ),
        (
            admin(&["kpi", "report", "--clinic", &clinic, "--from", "2027-03-01"]),
            "--to",
        ),
        (
            admin(&[
                "kpi",
                "report",
                "--clinic",
                elsewhere,
                "--from",
                "2027-03-01",
                "--to",
                "2027-03-02",
            ]),
            "not allowed",
        ),
        (
            admin(&[
                "kpi",
                "record",
                "--clinic",
                &clinic,
                "--set",
                "event_type=appointment_completed",
            ]),
            "recorded by the app itself",
        ),
        (
            admin(&[
                "kpi",
                "record",
                "--clinic",
                &clinic,
                "--set",
                "event_type=equipment_used",
            ]),
            "say which equipment",
        ),
        (
            admin(&["kpi", "record", "--set", "event_type=custom"]),
            "--clinic is required",
        ),
        (
            admin(&[
                "goal",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "name=Revenue",
                "--set",
                "metric_key=revenue",
                "--set",
                "comparator=gt",
                "--set",
                "target_value=1",
            ]),
            "'revenue' is not a metric",
        ),
        (
            admin(&[
                "goal",
                "create",
                "--clinic",
                &clinic,
                "--set",
                "name=Too much",
                "--set",
                "metric_key=no_show_rate",
                "--set",
                "comparator=lt",
                "--set",
                "target_value=150%",
            ]),
            "a rate between 0 and 1",
        ),
        (
            admin(&[
                "goal",
                "progress",
                "--clinic",
                &clinic,
                "--date",
                "10/03/2027",
            ]),
            "not a valid date",
        ),
        (
            admin(&["goal", "list", "--clinic", "cgy"]),
            "'cgy' is not a valid id",
        ),
        (
            admin(&["capacity", "list", "--clinic", &clinic, "--limit", "0"]),
            "limit",
        ),
        (
            admin(&[
                "capacity",
                "list",
                "--clinic",
                &clinic,
                "--from",
                "2027-03-02",
                "--to",
                "2027-03-01",
            ]),
            "must not be before from",
        ),
        (
            admin(&["capacity", "snapshot", "--clinic", elsewhere]),
            "not allowed",
        ),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&refs, Some(PW), needle);
    }
}

#[test]
fn credential_lifecycle_alerts_and_the_managers_view_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    // Dates relative to today; the clinic's (Edmonton) date is UTC's or the day before, so
    // every offset below holds on either.
    let day = |n: i64| (chrono::Utc::now().date_naive() + chrono::Duration::days(n)).to_string();
    let staff = e.ok(&[
        "staff",
        "create",
        "--clinic",
        &clinic,
        "--set",
        "first_name=Maya",
        "--set",
        "last_name=Singh",
        "--set",
        "discipline=physiotherapy",
    ]);
    let sid = staff["id"].as_str().unwrap().to_string();
    let ct = e.ok(&[
        "credential-type",
        "create",
        "--set",
        "name=PT licence",
        "--set",
        "code=PT",
        "--set",
        "required_for_disciplines=physiotherapy",
        "--set",
        "alert_thresholds_days=7,90,30,0,30",
    ]);
    assert_eq!(
        ct["alert_thresholds_days"],
        serde_json::json!([90, 30, 7, 0])
    );
    let cred = e.ok(&[
        "credential",
        "create",
        "--staff",
        &sid,
        "--set",
        &format!("credential_type_id={}", ct["id"].as_str().unwrap()),
        "--set",
        &format!("expiry_date={}", day(10)),
    ]);
    let cid = cred["id"].as_str().unwrap().to_string();

    let v = e.ok(&[
        "credential",
        "verify",
        &cid,
        "--set",
        "method=primary_source",
        "--set",
        "result=verified",
        "--set",
        "reference=register 4411",
    ]);
    assert_eq!(v["credential"]["verification_status"], "verified");

    // The evaluator: one alert at the 30-day threshold; a second run changes nothing.
    let r = e.ok(&["credential", "evaluate"]);
    assert_eq!(r["alerts_raised"], 1);
    let r = e.ok(&["credential", "evaluate"]);
    assert_eq!(r["alerts_raised"], 0);
    let hk = e.ok(&["housekeeping"]);
    assert_eq!(hk["credentials"]["alerts_raised"], 0);
    let alerts = e.ok(&["credential", "alerts"]);
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(alerts[0]["threshold_days"], 30);
    let aid = alerts[0]["id"].as_str().unwrap().to_string();
    let acked = e.ok(&["credential", "ack", &aid]);
    assert!(acked["acknowledged_at"].is_i64());
    assert!(e
        .ok(&["credential", "alerts"])
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        e.ok(&["credential", "alerts", "--all"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The manager's view.
    let x = e.ok(&["credential", "expiring", "--within", "30"]);
    assert_eq!(x["expiring"].as_array().unwrap().len(), 1);
    assert_eq!(x["expiring"][0]["window_days"], 30);
    assert!(
        e.ok(&["credential", "expiring", "--within", "7"])["expiring"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let d = e.ok(&["credential", "dashboard", "--clinic", &clinic]);
    assert_eq!(d["counts"]["within_30"], 1);
    assert!(
        d["at_risk"].as_array().unwrap().is_empty(),
        "no work booked"
    );
    assert!(e
        .ok(&["credential", "at-risk", "--staff", &sid])
        .as_array()
        .unwrap()
        .is_empty());

    // A suspension in force suspends at once; a renewal keeps it suspended while it lasts.
    let a = e.ok(&[
        "credential",
        "adverse-action",
        &cid,
        "--set",
        "action_type=suspension",
        "--set",
        "reason=complaint under investigation",
        "--set",
        &format!("start_date={}", day(-1)),
        "--set",
        &format!("end_date={}", day(2)),
    ]);
    assert_eq!(a["credential"]["status"], "suspended");
    let renewed = e.ok(&[
        "credential",
        "renew",
        &cid,
        "--set",
        &format!("expiry_date={}", day(400)),
        "--set",
        "credential_number=PT-2",
    ]);
    assert_eq!(renewed["status"], "suspended");
    assert_eq!(renewed["credential_number"], "PT-2");
    let h = e.ok(&["credential", "history", &cid]);
    assert_eq!(h["verifications"].as_array().unwrap().len(), 1);
    assert_eq!(h["adverse_actions"].as_array().unwrap().len(), 1);
    assert_eq!(h["alerts"].as_array().unwrap().len(), 1);

    // Bad input: one clear line, nothing changed.
    let admin = |args: &[&str]| {
        let mut v = vec!["--user", "admin"];
        v.extend_from_slice(args);
        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let missing = "01900000-0000-7000-8000-000000000000";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            admin(&[
                "credential",
                "verify",
                &cid,
                "--set",
                "method=fax",
                "--set",
                "result=verified",
            ]),
            "'fax' is not a valid verification method",
        ),
        (
            admin(&[
                "credential",
                "verify",
                "--set",
                "method=phone",
                "--set",
                "result=verified",
            ]),
            "the credential id is required",
        ),
        (
            admin(&["credential", "verify", &cid, "--set", "method=phone"]),
            "result: is required",
        ),
        (
            admin(&[
                "credential",
                "adverse-action",
                &cid,
                "--set",
                "action_type=suspension",
                "--set",
                "reason=x",
                "--set",
                "start_date=2027-03-01",
                "--set",
                "end_date=2027-02-01",
            ]),
            "end_date: must not be before the start date",
        ),
        (
            admin(&[
                "credential",
                "adverse-action",
                &cid,
                "--set",
                "action_type=warning",
                "--set",
                "reason=x",
                "--set",
                "start_date=2027-03-01",
            ]),
            "'warning' is not a valid adverse action type",
        ),
        (
            admin(&[
                "credential",
                "renew",
                &cid,
                "--set",
                "expiry_date=2020-01-01",
            ]),
            "must be after the current expiry date",
        ),
        (
            admin(&["credential", "renew", &cid, "--set", "expires=2030-01-01"]),
            "expiry_date: is required",
        ),
        (
            admin(&[
                "credential",
                "renew",
                "nope",
                "--set",
                "expiry_date=2030-01-01",
            ]),
            "'nope' is not a valid id",
        ),
        (admin(&["credential", "ack", missing]), "not found"),
        (admin(&["credential", "ack", &aid]), "already acknowledged"),
        (admin(&["credential", "history", missing]), "not found"),
        (
            admin(&["credential", "alerts", "--within=500"]),
            "within_days: 500 is out of range",
        ),
        (
            admin(&["credential", "dashboard", "--limit", "0"]),
            "limit: 0 is out of range",
        ),
        (
            admin(&["credential", "at-risk", "--horizon", "400"]),
            "horizon_days",
        ),
        (
            admin(&["credential", "at-risk", "--type", "nonsense"]),
            "'nonsense' is not a valid id",
        ),
        (
            admin(&["credential", "expiring", "--clinic", missing]),
            "not found",
        ),
        (
            admin(&["credential", "expiring", "--within", "soon"]),
            "invalid value 'soon'",
        ),
        (
            vec!["credential".into(), "evaluate".into()],
            "this command needs a user",
        ),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        e.bad(&args, Some(PW), needle);
    }

    // Only managers and admins: a front-desk user is refused (and the refusal changes nothing).
    let u = e.ok(&["user", "create", "--set", "username=desk1"]);
    e.ok(&[
        "role",
        "grant",
        "--user-id",
        u["id"].as_str().unwrap(),
        "--clinic",
        &clinic,
        "--role",
        "front_desk",
    ]);
    for args in [
        &["--user", "desk1", "credential", "dashboard"][..],
        &["--user", "desk1", "credential", "alerts"][..],
        &["--user", "desk1", "credential", "history", &cid][..],
        &[
            "--user",
            "desk1",
            "credential",
            "renew",
            &cid,
            "--set",
            "expiry_date=2099-01-01",
        ][..],
    ] {
        e.bad(args, Some("another good password"), "not allowed");
    }
}

#[test]
fn audit_list_idle_timeout_and_week_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    // The idle lock: 15 minutes by default; an admin sets it, and the change is audited.
    assert_eq!(e.ok(&["idle-timeout"])["idle_timeout_minutes"], 15);
    assert_eq!(e.ok(&["idle-timeout", "30"])["idle_timeout_minutes"], 30);
    assert_eq!(e.ok(&["idle-timeout"])["idle_timeout_minutes"], 30);
    let settings = e.ok(&["audit", "list", "--table", "settings"]);
    assert!(
        settings
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.to_string().contains("30")),
        "the change is in the audit log: {settings}"
    );
    let two = e.ok(&["audit", "list", "--limit", "2"]);
    assert_eq!(two.as_array().unwrap().len(), 2);
    assert!(
        two[0]["seq"].as_i64() > two[1]["seq"].as_i64(),
        "newest first: {two}"
    );
    // A week is seven days from the start.
    let week = e.ok(&[
        "appointment",
        "week",
        "--clinic",
        &clinic,
        "--start",
        "2027-03-01",
    ]);
    let dates: Vec<&str> = week
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2027-03-01",
            "2027-03-02",
            "2027-03-03",
            "2027-03-04",
            "2027-03-05",
            "2027-03-06",
            "2027-03-07"
        ]
    );
    for (args, needle) in [
        (vec!["--user", "admin", "idle-timeout", "0"], "minutes"),
        (vec!["--user", "admin", "idle-timeout", "481"], "minutes"),
        (
            vec!["--user", "admin", "audit", "list", "--limit", "0"],
            "limit",
        ),
        (
            vec![
                "--user",
                "admin",
                "appointment",
                "week",
                "--clinic",
                &clinic,
                "--start",
                "2027-02-30",
            ],
            "date",
        ),
    ] {
        e.bad(&args, Some(PW), needle);
    }
}

/// `clinicdesk` without --key-file, with `envs` set on top of a clean key environment.
fn without_key_file(db: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clinicdesk"));
    c.arg("--db").arg(db).args(args);
    for v in [
        "CLINICDESK_DB_KEY",
        "CLINICDESK_DB_KEY_FILE",
        "CLINICDESK_USER",
        "CLINICDESK_PASSWORD",
    ] {
        c.env_remove(v);
    }
    c.env("CLINICDESK_PASSWORD", PW).envs(envs.iter().copied());
    c.stdin(Stdio::null()).output().unwrap()
}

/// A malformed CLINICDESK_DB_KEY is refused (the desktop gives the same message, see
/// tests/desktop.rs), never passed over for the keyring; without a keyring service the message
/// says what to do first. Nothing is created or changed.
#[test]
fn key_settings_through_the_cli() {
    let e = Env::new();
    e.init();
    let before = fingerprint(&e.db(), &e.key());
    let fresh = e.dir.path().join("fresh.db");
    let init = INIT;
    for bad in ["xyz", "", &"ab".repeat(31)] {
        for (db, args) in [
            (e.db(), &["--user", "admin", "clinic", "list"][..]),
            (fresh.clone(), &init[..]),
        ] {
            let o = without_key_file(&db, args, &[("CLINICDESK_DB_KEY", bad)]);
            assert_eq!(o.status.code(), Some(1));
            assert_eq!(
                String::from_utf8_lossy(&o.stderr),
                "error: CLINICDESK_DB_KEY is malformed: expected 64 hex digits\n"
            );
        }
    }
    // The key itself, well-formed, opens the database.
    let key = std::fs::read_to_string(e.key()).unwrap();
    let o = without_key_file(
        &e.db(),
        &["--user", "admin", "--json", "clinic", "list"],
        &[("CLINICDESK_DB_KEY", key.trim())],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    #[cfg(target_os = "linux")]
    {
        // No Secret Service to reach: what to do first, the D-Bus text after it.
        let o = without_key_file(
            &fresh,
            &init,
            &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with(
                "error: the OS keyring is not available: pass --key-file PATH or set CLINICDESK_DB_KEY_FILE"
            ),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!fresh.exists(), "no database may be created");
    assert_eq!(before, fingerprint(&e.db(), &e.key()));
}

/// `appointment list` (filters, patient names only for those who may read patients),
/// `patient list` (pages, live patients only), bad input for both changing nothing.
#[test]
fn appointment_and_patient_lists_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let sid = e.nurse(&clinic, "Maya");
    let mut patients = Vec::new();
    for (first, last) in [("Ann", "Lee"), ("Bo", "Adams"), ("Cy", "Zhu")] {
        let p = e.ok(&[
            "patient",
            "create",
            "--clinic",
            &clinic,
            "--set",
            &format!("first_name={first}"),
            "--set",
            &format!("last_name={last}"),
        ]);
        patients.push(p["id"].as_str().unwrap().to_string());
    }
    e.ok(&["patient", "delete", &patients[2]]);
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["last_name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = e.ok(&["patient", "list", "--clinic", &clinic]);
    assert_eq!(names(&all), ["Adams", "Lee"]);
    let page = e.ok(&[
        "patient", "list", "--clinic", &clinic, "--limit", "1", "--offset", "1",
    ]);
    assert_eq!(names(&page), ["Lee"]);
    e.ok(&[
        "availability",
        "create",
        "--clinic",
        &clinic,
        "--set",
        &format!("provider_id={sid}"),
        "--set",
        "start=2027-03-01 08:00",
        "--set",
        "end=2027-03-02 12:00",
        "--set",
        "is_available=yes",
    ]);
    let book = |pid: &str, start: &str| {
        e.ok(&[
            "appointment",
            "book",
            "--clinic",
            &clinic,
            "--set",
            &format!("patient_id={pid}"),
            "--set",
            &format!("provider_id={sid}"),
            "--set",
            &format!("start={start}"),
            "--set",
            "duration_minutes=30",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let a1 = book(&patients[0], "2027-03-01 09:00");
    let a2 = book(&patients[1], "2027-03-01 10:00");
    // 23:30 in Edmonton is the next day in UTC: still 1 March, the clinic's date.
    let a3 = book(&patients[0], "2027-03-01 11:00");
    e.ok(&["appointment", "status", &a2, "confirm"]);
    let list = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["appointment", "list", "--clinic", clinic.as_str()];
        args.extend_from_slice(extra);
        e.ok(&args)
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["appointment"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(list(&[]), [a1.clone(), a2.clone(), a3.clone()]);
    assert_eq!(list(&["--patient", &patients[0]]), [a1.clone(), a3.clone()]);
    assert_eq!(list(&["--status", "confirmed"]), [a2.as_str()]);
    assert_eq!(
        list(&["--status", "pending,confirmed", "--limit", "2"]),
        [a1.clone(), a2.clone()]
    );
    assert_eq!(
        list(&[
            "--provider",
            &sid,
            "--from",
            "2027-03-01",
            "--to",
            "2027-03-01"
        ])
        .len(),
        3
    );
    assert!(list(&["--from", "2027-03-02"]).is_empty());
    assert!(list(&["--to", "2027-02-28"]).is_empty());
    let first = &e.ok(&["appointment", "list", "--clinic", &clinic])[0];
    assert_eq!(first["local_start"], "2027-03-01 09:00");
    assert_eq!(first["patient_name"], "Ann Lee");
    assert_eq!(first["provider_name"], "Maya Nurse");
    let text = e.cmd(
        &[
            "--user",
            "admin",
            "appointment",
            "list",
            "--clinic",
            &clinic,
        ],
        Some(PW),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("2027-03-01 09:00  pending  Maya Nurse  Ann Lee"),
        "{text}"
    );
    // A viewer sees the schedule, not who the patients are; and may not list patients.
    let u = e.ok(&[
        "user",
        "create",
        "--set",
        "username=viewer1",
        "--set",
        "display_name=V",
    ]);
    let uid = u["id"].as_str().unwrap();
    e.ok(&[
        "role",
        "grant",
        "--user-id",
        uid,
        "--clinic",
        &clinic,
        "--role",
        "viewer",
    ]);
    let seen = e.ok_as(
        "viewer1",
        "another good password",
        &["appointment", "list", "--clinic", &clinic],
    );
    assert_eq!(seen.as_array().unwrap().len(), 3);
    assert!(seen[0]["patient_name"].is_null());
    fn admin<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["--user", "admin"];
        v.extend_from_slice(args);
        v
    }
    let c = clinic.as_str();
    for (args, needle) in [
        (
            admin(&["appointment", "list", "--clinic", "abc"]),
            "--clinic: 'abc' is not a valid id",
        ),
        (
            admin(&["appointment", "list", "--clinic", c, "--provider", "x"]),
            "--provider: 'x' is not a valid id",
        ),
        (
            admin(&["appointment", "list", "--clinic", c, "--patient", "x"]),
            "--patient: 'x' is not a valid id",
        ),
        (
            admin(&["appointment", "list", "--clinic", c, "--from", "1.3.2027"]),
            "from: '1.3.2027' is not a valid date (use YYYY-MM-DD",
        ),
        (
            admin(&[
                "appointment",
                "list",
                "--clinic",
                c,
                "--from",
                "2027-03-02",
                "--to",
                "2027-03-01",
            ]),
            "to: 2027-03-01 is before from 2027-03-02",
        ),
        (
            admin(&[
                "appointment",
                "list",
                "--clinic",
                c,
                "--status",
                "pending,late",
            ]),
            "'late' is not a valid appointment status",
        ),
        (
            admin(&["appointment", "list", "--clinic", c, "--limit", "0"]),
            "limit: 0 is not between 1 and 1000",
        ),
        (admin(&["appointment", "list"]), "--clinic"),
        (
            admin(&["patient", "list", "--clinic", "abc"]),
            "--clinic: 'abc' is not a valid id",
        ),
        (
            admin(&["patient", "list", "--clinic", c, "--limit", "5000"]),
            "limit: 5000 is not between 1 and 1000",
        ),
        (
            admin(&[
                "patient",
                "list",
                "--clinic",
                "0190ffff-0000-7000-8000-000000000000",
            ]),
            "not allowed",
        ),
        (
            vec!["--user", "viewer1", "patient", "list", "--clinic", c],
            "not allowed to list patients",
        ),
        // Every id flag names itself, and date-times say the form the README teaches.
        (
            admin(&["role", "list", "--clinic", "nope"]),
            "--clinic: 'nope' is not a valid id",
        ),
        (
            admin(&[
                "appointment",
                "day",
                "--clinic",
                c,
                "--date",
                "2027-03-01",
                "--provider",
                "p",
            ]),
            "--provider: 'p' is not a valid id",
        ),
        (
            admin(&["insurance", "list", "--patient", "q"]),
            "--patient: 'q' is not a valid id",
        ),
        (
            admin(&[
                "roster",
                "list",
                "--clinic",
                c,
                "--from",
                "2027-03-01",
                "--to",
                "2027-03-02",
                "--staff",
                "s",
            ]),
            "--staff: 's' is not a valid id",
        ),
        (
            admin(&[
                "role",
                "grant",
                "--user-id",
                "u",
                "--clinic",
                c,
                "--role",
                "viewer",
            ]),
            "--user-id: 'u' is not a valid id",
        ),
        (
            admin(&["credential", "expiring", "--type", "t"]),
            "--type: 't' is not a valid id",
        ),
        (
            admin(&[
                "appointment",
                "book",
                "--clinic",
                c,
                "--set",
                &format!("patient_id={}", patients[0]),
                "--set",
                &format!("provider_id={sid}"),
                "--set",
                "start=March 1st",
            ]),
            "'March 1st' is not a valid date and time (use a form like 2027-03-01 09:00",
        ),
        (
            admin(&["reminder", "queue", "--clinic", c, "--until", "tomorrow"]),
            "--until: 'tomorrow' is not a valid date and time",
        ),
    ] {
        let pw = if args[1] == "viewer1" {
            "another good password"
        } else {
            PW
        };
        e.bad(&args, Some(pw), needle);
    }
}

/// `db check` passes on a healthy database and reports a damaged file (exit code 1, no panic).
#[test]
fn db_check_through_the_cli() {
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    for i in 0..40 {
        e.ok(&[
            "patient",
            "create",
            "--clinic",
            &clinic,
            "--set",
            &format!("first_name=P{i}"),
            "--set",
            "last_name=Checked",
        ]);
    }
    let r = e.ok(&["db", "check"]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["integrity"]["messages"][0], "ok");
    assert_eq!(r["cipher_integrity"]["ok"], true);
    assert_eq!(r["audit"]["ok"], true);
    let o = e.cmd(&["--user", "admin", "db", "check"], Some(PW));
    assert!(o.status.success());
    // (Each sign-in adds an audit entry: the count is the one of this run.)
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[..2],
        ["integrity_check: passed", "cipher_integrity_check: passed"]
    );
    assert!(lines[2].starts_with("audit verify: passed ("), "{text}");
    assert!(lines[2].ends_with(" entries verified)"), "{text}");
    assert_eq!(lines[3], "database check passed");
    // Only admins.
    let u = e.ok(&[
        "user",
        "create",
        "--set",
        "username=mgr",
        "--set",
        "display_name=M",
    ]);
    let uid = u["id"].as_str().unwrap();
    e.ok(&[
        "role",
        "grant",
        "--user-id",
        uid,
        "--clinic",
        &clinic,
        "--role",
        "manager",
    ]);
    e.bad(
        &["--user", "mgr", "db", "check"],
        Some("another good password"),
        "not allowed to check the database",
    );
    // Checkpoint the WAL into the file, then damage pages in its middle.
    let key = std::fs::read_to_string(e.key()).unwrap();
    let c = clinicdesk_store::open_raw(&e.db(), &clinicdesk_store::DbKey::from_hex(&key).unwrap())
        .unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
    let mut bytes = std::fs::read(e.db()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 256].fill(0xa5);
    std::fs::write(e.db(), &bytes).unwrap();
    let o = e.cmd(&["--user", "admin", "db", "check"], Some(PW));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("cipher_integrity_check: FAILED"), "{out}");
    assert!(
        err.starts_with("error: the database check failed: "),
        "{err}"
    );
    assert!(err.contains("cipher_integrity_check"), "{err}");
}

/// Every command needs its role: `housekeeping` is an admin's job (a front desk user is
/// refused, and nothing runs); `bench` writes to what it measures, so it refuses a database
/// without demo data and changes nothing.
#[test]
fn housekeeping_needs_an_admin_and_bench_needs_demo_data() {
    const STAFF_PW: &str = "another good password";
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    let u = e.ok(&["user", "create", "--set", "username=desk"]);
    e.ok(&[
        "role",
        "grant",
        "--user-id",
        u["id"].as_str().unwrap(),
        "--clinic",
        &clinic,
        "--role",
        "front_desk",
    ]);
    e.bad(
        &["--user", "desk", "housekeeping"],
        Some(STAFF_PW),
        "run housekeeping",
    );
    let hk = e.ok(&["housekeeping"]);
    assert_eq!(hk["clinics"], 1);
    e.bad(
        &["bench", "--iterations", "3", "--no-postgres"],
        None,
        "runs only on demo data",
    );
}

/// One's own password changes with the current one (the one signed in with); an export never
/// lands on the database's or the key's file, is 0600, and is audited.
#[test]
fn change_password_and_exports_through_the_cli() {
    use std::os::unix::fs::PermissionsExt;
    let e = Env::new();
    e.init();
    let clinic = e.clinic_id();
    e.bad(
        &["--user", "admin", "user", "change-password"],
        Some("not the password"),
        "wrong username or password",
    );
    let me = e.ok(&["user", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    e.bad(
        &["--user", "admin", "user", "set-password", &me],
        Some(PW),
        "give your current password",
    );
    e.ok(&["user", "change-password"]);
    e.bad(
        &["--user", "admin", "clinic", "list"],
        Some(PW),
        "wrong username or password",
    );
    const NEW_PW: &str = "another good password";
    e.ok_as("admin", NEW_PW, &["clinic", "list"]);

    let db = e.db().display().to_string();
    let key = e.key().display().to_string();
    let wal = format!("{db}-wal");
    for target in [&db, &key, &wal] {
        e.bad(
            &[
                "--user", "admin", "reminder", "export", "--clinic", &clinic, "--output", target,
            ],
            Some(NEW_PW),
            "choose another file name",
        );
    }
    let out = e.dir.path().join("reminders.csv");
    e.ok_as(
        "admin",
        NEW_PW,
        &[
            "reminder",
            "export",
            "--clinic",
            &clinic,
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let audit = e.ok_as("admin", NEW_PW, &["audit", "list", "--table", "exports"]);
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(
        entries[0]["new_values"]
            .as_str()
            .unwrap()
            .contains("reminders.csv"),
        "{audit}"
    );
}

/// Issue 11 point 1 at the command line: `init` prints the recovery key once; `recovery-kit`
/// replaces it (the old one no longer opens new backups); a missing database is refused, never
/// recreated; `restore-new` brings a backup back on a new PC (a new folder, no key) with the
/// recovery key, and refuses a wrong one without writing anything.
#[test]
fn recovery_key_kit_missing_database_and_restore_on_a_new_pc() {
    let e = Env::new();
    let o = e.cmd(&[&["--json"][..], &INIT].concat(), Some(PW));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first_key = v["recovery_key"].as_str().unwrap().to_string();
    assert_eq!(first_key.split('-').count(), 14, "{first_key}");

    let kit = e.dir.path().join("kit.txt");
    e.ok(&["recovery-kit", "--out", kit.to_str().unwrap()]);
    let text = std::fs::read_to_string(&kit).unwrap();
    let kit_key = text
        .lines()
        .find_map(|l| l.strip_prefix("Recovery key: "))
        .unwrap()
        .to_string();
    assert_ne!(kit_key, first_key);
    assert!(text.contains("Calgary Downtown"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kit).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // An existing kit file is never overwritten (and the key is not replaced).
    e.bad(
        &[
            "--user",
            "admin",
            "recovery-kit",
            "--out",
            kit.to_str().unwrap(),
        ],
        Some(PW),
        "cannot create",
    );
    let backup = e.dir.path().join("b.cdbk");
    e.ok(&["backup", backup.to_str().unwrap()]);

    // The database moved aside: every command refuses; nothing is created in its place.
    std::fs::rename(e.db(), e.dir.path().join("aside.db")).unwrap();
    e.bad(
        &["--user", "admin", "clinic", "list"],
        Some(PW),
        "is missing",
    );
    let o = e.cmd(
        &[
            "init",
            "--clinic-name",
            "New Clinic",
            "--clinic-code",
            "new",
            "--timezone",
            "America/Edmonton",
            "--admin",
            "admin",
        ],
        Some(PW),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is missing"), "{err}");
    assert!(!e.db().exists());

    // A new PC: a new folder, no key file. Wrong keys write nothing.
    let pc2 = Env::new();
    let restore_new = |rk: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clinicdesk"));
        c.arg("--db")
            .arg(pc2.db())
            .arg("--key-file")
            .arg(pc2.key())
            .args(["restore-new", backup.to_str().unwrap()])
            .env_remove("CLINICDESK_DB_KEY")
            .env("CLINICDESK_RECOVERY_KEY", rk)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let mut typo = kit_key.clone().into_bytes();
    typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
    for (rk, needle) in [
        (first_key.as_str(), "does not open this backup"),
        (std::str::from_utf8(&typo).unwrap(), "typo"),
        ("1234", "expected 56"),
    ] {
        let o = restore_new(rk);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.contains(needle), "{rk}: {err}");
        assert_eq!(
            std::fs::read_dir(pc2.dir.path()).unwrap().count(),
            0,
            "{rk}: {err}"
        );
    }
    let o = restore_new(&kit_key.to_lowercase());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(pc2.ok(&["clinic", "list"])[0]["name"], "Calgary Downtown");
    assert_eq!(pc2.ok(&["audit", "verify"])["ok"], true);
}

/// Issue 11, point 11: `init` shows the audit verification key once; `audit seal` seals;
/// `audit verify --verification-key` checks the seals (a wrong key fails); a dropped trigger
/// and the edit it let through are reported, and `audit repair-triggers` re-creates it.
#[test]
fn audit_seals_verify_with_the_init_key_and_triggers_are_repaired() {
    let e = Env::new();
    let o = e.init_with(&["--json"]);
    let init: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let k0 = init["audit_verification_key"].as_str().unwrap().to_string();
    assert_eq!(k0.len(), 64);
    let seal = e.ok(&["audit", "seal"]);
    assert_eq!(
        (seal["epoch"].as_i64(), seal["from_seq"].as_i64()),
        (Some(0), Some(1))
    );
    let key_file = e.dir.path().join("verification.key");
    std::fs::write(&key_file, &k0).unwrap();
    for key in [k0.clone(), format!("@{}", key_file.display())] {
        let r = e.ok(&["audit", "verify", "--verification-key", &key]);
        assert_eq!(
            (r["ok"].as_bool(), r["seals_checked"].as_bool()),
            (Some(true), Some(true)),
            "{r}"
        );
    }
    let r = e.ok(&["audit", "verify"]);
    assert_eq!(
        (r["ok"].as_bool(), r["seals_checked"].as_bool()),
        (Some(true), Some(false))
    );
    let o = e.cmd(&["--user", "admin", "audit", "verify"], Some(PW));
    assert!(String::from_utf8_lossy(&o.stdout).contains("seals NOT checked"));
    let wrong = "ab".repeat(32);
    let o = e.cmd(
        &[
            "--user",
            "admin",
            "audit",
            "verify",
            "--verification-key",
            &wrong,
        ],
        Some(PW),
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not verify with the verification key")
    );
    let o = e.cmd(
        &[
            "--user",
            "admin",
            "audit",
            "verify",
            "--verification-key",
            "xyz",
        ],
        Some(PW),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("64 hexadecimal digits"));
    // Auditing switched off for the clinics' updates, and an edit made meanwhile.
    let k = std::fs::read_to_string(e.key()).unwrap();
    let c = clinicdesk_store::open_raw(&e.db(), &clinicdesk_store::DbKey::from_hex(&k).unwrap())
        .unwrap();
    c.execute_batch("DROP TRIGGER clinics_au; UPDATE clinics SET name = 'Quietly renamed';")
        .unwrap();
    drop(c);
    let o = e.cmd(&["--user", "admin", "audit", "verify"], Some(PW));
    assert!(!o.status.success());
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(err.contains("the audit log failed verification"), "{err}");
    assert!(
        out.contains("missing: clinics_au") && out.contains("name differ"),
        "{out}"
    );
    let repaired = e.ok(&["audit", "repair-triggers"]);
    assert_eq!(repaired, serde_json::json!(["missing: clinics_au"]));
    let r = e.cmd(&["--user", "admin", "--json", "audit", "verify"], Some(PW));
    let r: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(r["trigger_drift"], serde_json::json!([]));
    assert_eq!(r["row_problems"], 1);
}

// The sync server: `server init|migrate|revoke-device` and `sync enrol` on a real PostgreSQL ----

const OWNER: &str = "cd_owner";
const OWNER_PW: &str = "owner's secret";
const SERVER_DB: &str = "clinicdesk";

/// A cluster where passwords are checked (SCRAM; the superuser keeps trust for the test's own
/// checks), an owner role as on a hosted PostgreSQL (CREATEROLE, pg_signal_backend, owner of
/// the database, no superuser) and its empty database.
fn password_server() -> clinicdesk_pgcluster::PgCluster {
    let cluster = clinicdesk_pgcluster::PgCluster::start().unwrap();
    let mut su = cluster.connect().unwrap();
    su.batch_execute(&format!(
        "CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD '{}';
         GRANT pg_signal_backend TO {OWNER};",
        OWNER_PW.replace('\'', "''")
    ))
    .unwrap();
    su.batch_execute(&format!("CREATE DATABASE {SERVER_DB} OWNER {OWNER}"))
        .unwrap();
    std::fs::write(
        cluster.data_dir().join("pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    su.batch_execute("SELECT pg_reload_conf()").unwrap();
    cluster
}

fn pg_as(
    cluster: &clinicdesk_pgcluster::PgCluster,
    role: &str,
    password: &str,
) -> Result<clinicdesk_pgcluster::postgres::Client, clinicdesk_pgcluster::postgres::Error> {
    cluster
        .config(SERVER_DB)
        .user(role)
        .password(password)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
}

/// The server's devices and device roles (what a refused command must leave alone).
fn server_state(su: &mut clinicdesk_pgcluster::postgres::Client) -> (i64, Vec<(String, bool)>) {
    let devices: i64 = su
        .query_one("SELECT count(*) FROM sync.devices", &[])
        .unwrap()
        .get(0);
    let roles = su
        .query(
            "SELECT rolname::text, rolcanlogin FROM pg_roles WHERE rolname LIKE 'cd\\_dev\\_%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    (devices, roles)
}

#[test]
fn sync_server_init_enrol_and_revoke_through_the_cli() {
    use clinicdesk_pgcluster::postgres::error::SqlState;
    let cluster = password_server();
    let mut su = cluster
        .config(SERVER_DB)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    let url = format!(
        "postgres://{OWNER}@127.0.0.1:{}/{SERVER_DB}",
        cluster.port()
    );
    let env = Env::new();
    env.init();
    env.set_server_password(OWNER_PW);

    // init applies every server migration once; again (and migrate) changes nothing.
    assert_eq!(
        env.ok(&["server", "init", "--url", &url])["applied"],
        serde_json::json!([1, 2, 3, 4, 5, 6, 7, 8])
    );
    assert_eq!(
        env.ok(&["server", "init", "--url", &url])["applied"],
        serde_json::json!([])
    );
    assert_eq!(
        env.ok(&["server", "migrate", "--url", &url])["applied"],
        serde_json::json!([])
    );

    // Bad input: one clear line, nothing changed here or on the server.
    let before = server_state(&mut su);
    for (bad_url, needle) in [
        ("mysql://x@127.0.0.1/db", "server URL is not valid"),
        ("postgres://127.0.0.1:1/db", "no user"),
        (
            &format!(
                "postgres://{OWNER}:pw@127.0.0.1:{}/{SERVER_DB}",
                cluster.port()
            ),
            "holds a password",
        ),
        // Off this computer only a verified certificate will do; refused before connecting.
        (
            "postgres://cd_owner@db.example.com:5432/clinicdesk?sslmode=require",
            "not acceptable for patient data",
        ),
        (
            "postgres://cd_owner@db.example.com:5432/clinicdesk?sslmode=disable",
            "only for a server on this computer",
        ),
        (&format!("{url}?sslmode=verify_full"), "unknown sslmode"),
        // TLS asked of a server that has none: refused when connecting, nothing changed.
        (
            &format!("{url}?sslmode=verify-full"),
            "server does not support TLS",
        ),
    ] {
        env.bad(&["server", "init", "--url", bad_url], Some(PW), needle);
        env.bad(
            &["--user", "admin", "sync", "enrol", "--url", bad_url],
            Some(PW),
            needle,
        );
    }
    env.set_server_password("not the owner's password");
    env.bad(
        &["server", "migrate", "--url", &url],
        None,
        "password authentication failed",
    );
    env.bad(
        &["--user", "admin", "sync", "enrol", "--url", &url],
        Some(PW),
        "password authentication failed",
    );
    env.set_server_password(OWNER_PW);
    env.bad(
        &["server", "revoke-device", "--url", &url, "--device", "nope"],
        None,
        "not a device id",
    );
    env.bad(
        &[
            "server",
            "revoke-device",
            "--url",
            &url,
            "--device",
            "0190a000-0000-7000-8000-0000000000aa",
        ],
        None,
        "not enrolled",
    );
    assert_eq!(server_state(&mut su), before);
    assert!(!Path::new(&format!("{}.sync", env.key().display())).exists());

    // Rows of the local clinic and of another, written by the owner (as a push would).
    let clinic = env.clinic_id();
    let other = "0190a000-0000-7000-8000-00000000000b";
    let mut owner = pg_as(&cluster, OWNER, OWNER_PW).unwrap();
    let v = "'0|1|1|dev', 0";
    owner
        .batch_execute(&format!(
            "BEGIN;
             INSERT INTO cd.clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at, _v0, _seq) VALUES
               ('{clinic}', 'A', 'AAA', 'UTC', '[]', 15, 0, 0, {v}), ('{other}', 'B', 'BBB', 'UTC', '[]', 15, 0, 0, {v});
             INSERT INTO cd.patients (id, clinic_id, mrn, first_name, last_name, sex, preferred_contact_method, consent_sms, consent_email, created_at, updated_at, _v0, _seq) VALUES
               ('0190a000-0000-7000-8000-0000000000a1', '{clinic}', 'A1', 'Ann', 'A', 'female', 'phone', 0, 0, 0, 0, {v}),
               ('0190a000-0000-7000-8000-0000000000b1', '{other}', 'B1', 'Bob', 'B', 'male', 'phone', 0, 0, 0, 0, {v});
             COMMIT;"
        ))
        .unwrap();

    // Enrol: the device's role, its password in `<key file>.sync` (0600), its connection in
    // the database; the password is printed nowhere and kept on the server as a verifier only.
    let o = env.cmd(
        &["--user", "admin", "--json", "sync", "enrol", "--url", &url],
        Some(PW),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let role = j["role"].as_str().unwrap().to_string();
    let device = j["device_id"].as_str().unwrap().to_string();
    assert_eq!(role, format!("cd_dev_{}", device.replace('-', "")));
    assert_eq!(j["clinics"], serde_json::json!([clinic]));
    let secret_file = PathBuf::from(format!("{}.sync", env.key().display()));
    let password = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(password.len(), 64, "32 random bytes, hex");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for out in [&o.stdout, &o.stderr] {
        assert!(!String::from_utf8_lossy(out).contains(&password));
        assert!(!String::from_utf8_lossy(out).contains(OWNER_PW));
    }
    let raw = clinicdesk_store::open_raw(
        &env.db(),
        &clinicdesk_store::DbKey::from_hex(&std::fs::read_to_string(env.key()).unwrap()).unwrap(),
    )
    .unwrap();
    let meta = |k: &str| -> String {
        raw.query_row("SELECT value FROM local_meta WHERE key = ?1", [k], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(meta("sync.role"), role);
    assert_eq!(
        meta("sync.url"),
        format!("postgres://{role}@127.0.0.1:{}/{SERVER_DB}", cluster.port())
    );
    let dump: i64 = raw
        .query_row(
            "SELECT count(*) FROM local_meta WHERE instr(value, ?1) > 0",
            [&password],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dump, 0, "the sync password is not in the database");
    let r = su
        .query_one(
            "SELECT a.rolpassword, a.rolconnlimit, r.rolconfig::text[] FROM pg_authid a JOIN pg_roles r ON r.oid = a.oid WHERE a.rolname = $1::text::name",
            &[&role],
        )
        .unwrap();
    let verifier: String = r.get(0);
    assert!(
        verifier.starts_with("SCRAM-SHA-256$") && !verifier.contains(&password),
        "{verifier}"
    );
    assert_eq!(r.get::<_, i32>(1), 2);
    let config: Vec<String> = r.get(2);
    assert!(
        config.contains(&"statement_timeout=60s".to_string()),
        "{config:?}"
    );
    assert!(
        config.contains(&"idle_in_transaction_session_timeout=30s".to_string()),
        "{config:?}"
    );

    // The device signs in with the kept password, reads its clinic's rows only, writes nothing.
    assert!(pg_as(&cluster, &role, "a guess").is_err());
    let mut dev = pg_as(&cluster, &role, &password).unwrap();
    let mrns: Vec<String> = dev
        .query("SELECT mrn FROM cd.patients ORDER BY mrn", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(mrns, ["A1"]);
    let e = dev
        .batch_execute("UPDATE cd.patients SET first_name = 'X'")
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    let e = dev.batch_execute("DELETE FROM sync.devices").unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");

    // Enrolling again is refused, whatever the password place; nothing changes anywhere.
    let enrolled = server_state(&mut su);
    env.bad(
        &["--user", "admin", "sync", "enrol", "--url", &url],
        Some(PW),
        "already enrolled",
    );
    let elsewhere = env.dir.path().join("other.sync");
    env.bad(
        &[
            "--user",
            "admin",
            "sync",
            "enrol",
            "--url",
            &url,
            "--sync-key-file",
            elsewhere.to_str().unwrap(),
        ],
        Some(PW),
        "already enrolled",
    );
    assert!(!elsewhere.exists());
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), password);
    // A second PC whose password place is taken is refused before the server is touched.
    let pc2 = Env::new();
    pc2.init();
    pc2.set_server_password(OWNER_PW);
    let taken = PathBuf::from(format!("{}.sync", pc2.key().display()));
    std::fs::write(&taken, "kept").unwrap();
    pc2.bad(
        &["--user", "admin", "sync", "enrol", "--url", &url],
        Some(PW),
        "already holds a sync password",
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "kept");
    // Only the organisation's owner enrols a PC.
    let vera = pc2.ok(&["user", "create", "--set", "username=vera"]);
    let clinic2 = pc2.clinic_id();
    pc2.ok(&[
        "role",
        "grant",
        "--user-id",
        vera["id"].as_str().unwrap(),
        "--clinic",
        &clinic2,
        "--role",
        "manager",
    ]);
    std::fs::remove_file(&taken).unwrap();
    pc2.bad(
        &["--user", "vera", "sync", "enrol", "--url", &url],
        Some("another good password"),
        "not allowed",
    );
    assert!(!taken.exists());
    // Seeding needs an empty server: this one holds rows.
    pc2.bad(
        &["--user", "admin", "sync", "enrol", "--seed", "--url", &url],
        Some(PW),
        "already holds data",
    );
    assert!(!taken.exists());
    // The password cannot be kept: the server's enrolment is rolled back, nothing is left anywhere.
    pc2.bad(
        &[
            "--user",
            "admin",
            "sync",
            "enrol",
            "--url",
            &url,
            "--sync-key-file",
            "/nonexistent/dir/pc2.sync",
        ],
        Some(PW),
        "enrolment rolled back on the server",
    );
    assert_eq!(server_state(&mut su), enrolled);

    // Revoke: the open session is terminated, the next sign-in refused, at once.
    let j = env.ok(&[
        "server",
        "revoke-device",
        "--url",
        &url,
        "--device",
        &device,
    ]);
    assert_eq!(j["terminated"], serde_json::json!(1));
    assert!(
        dev.batch_execute("SELECT 1").is_err(),
        "the open session survived"
    );
    let e = pg_as(&cluster, &role, &password)
        .err()
        .expect("a revoked device signed in");
    let msg = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(msg.contains("not permitted to log in"), "{e:?}");
    let revoked: bool = su
        .query_one(
            "SELECT revoked_at IS NOT NULL FROM sync.devices WHERE role_name = $1::text::name",
            &[&role],
        )
        .unwrap()
        .get(0);
    assert!(revoked);

    // The first PC seeds an empty server: every local row, tombstones included, in the
    // enrolment's transaction, versioned by its HLC, stamped one by one; its watermark kept.
    su.batch_execute(&format!("CREATE DATABASE seeded OWNER {OWNER}"))
        .unwrap();
    let url2 = format!("postgres://{OWNER}@127.0.0.1:{}/seeded", cluster.port());
    pc2.ok(&["server", "init", "--url", &url2]);
    let patient = pc2.ok(&[
        "patient",
        "create",
        "--clinic",
        &clinic2,
        "--set",
        "first_name=Zoë",
        "--set",
        "last_name=Okafor",
    ]);
    pc2.ok(&[
        "patient",
        "create",
        "--clinic",
        &clinic2,
        "--set",
        "first_name=Gone",
        "--set",
        "last_name=Soon",
    ]);
    let gone = pc2.ok(&["patient", "search", "Soon"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    pc2.ok(&["patient", "delete", &gone]);
    let j = pc2.ok(&["sync", "enrol", "--seed", "--url", &url2]);
    let seeded_role = j["role"].as_str().unwrap().to_string();
    let seeded_device = j["device_id"].as_str().unwrap().to_string();
    let mut owner2 = cluster
        .config("seeded")
        .user(OWNER)
        .password(OWNER_PW)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    let raw2 = clinicdesk_store::open_raw(
        &pc2.db(),
        &clinicdesk_store::DbKey::from_hex(&std::fs::read_to_string(pc2.key()).unwrap()).unwrap(),
    )
    .unwrap();
    let mut total = 0i64;
    for t in ["clinics", "users", "user_clinic_roles", "patients"] {
        let local: i64 = raw2
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        let server: i64 = owner2
            .query_one(&format!("SELECT count(*) FROM cd.{t}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(server, local, "cd.{t}");
        total += local;
    }
    assert!(j["seeded_rows"].as_i64().unwrap() >= total, "{j}");
    let r = owner2
        .query_one(
            "SELECT count(DISTINCT _seq), count(*), max(_seq), min(_v0), max(_v0), count(*) FILTER (WHERE deleted_at IS NOT NULL), min(_dev::text)
               FROM cd.patients",
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 2, "one stamp per row");
    assert_eq!(r.get::<_, i64>(5), 1, "the tombstone is seeded");
    let clock: i64 = owner2
        .query_one("SELECT seq FROM sync.clock", &[])
        .unwrap()
        .get(0);
    assert!(r.get::<_, i64>(2) <= clock);
    let v0: String = r.get(3);
    assert_eq!(v0, r.get::<_, String>(4), "one version for the whole seed");
    assert!(
        v0.starts_with("0|") && v0.ends_with(&format!("|{seeded_device}")),
        "{v0}"
    );
    assert_eq!(r.get::<_, String>(6), seeded_device);
    let acked: String = raw2
        .query_row(
            "SELECT value FROM local_meta WHERE key = 'sync.push_acked_seq'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let max_seq: i64 = raw2
        .query_row("SELECT max(seq) FROM change_log", [], |r| r.get(0))
        .unwrap();
    assert!(acked.parse::<i64>().unwrap() > 0 && acked.parse::<i64>().unwrap() <= max_seq);
    // The seeding device reads its rows with its kept password.
    let pw2 = std::fs::read_to_string(format!("{}.sync", pc2.key().display())).unwrap();
    let mut dev2 = cluster
        .config("seeded")
        .user(&seeded_role)
        .password(&pw2)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    let ids: Vec<String> = dev2
        .query(
            "SELECT id::text FROM cd.patients WHERE deleted_at IS NULL",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [patient["id"].as_str().unwrap()]);
}
