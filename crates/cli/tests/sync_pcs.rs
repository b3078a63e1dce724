//! Several PCs syncing through one real PostgreSQL (SYNC.md §8): each PC is its own encrypted
//! database driven by separate `clinicdesk` processes; the server is a throwaway cluster with
//! password authentication, an owner role as on a hosted server, and the real migrations.
//! Replicas are compared by canonical dumps of every replicated table (PC files and server).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use clinicdesk_pgcluster::postgres::{self, NoTls};
use clinicdesk_pgcluster::PgCluster;

const PW: &str = "correct horse battery";
const OWNER: &str = "cd_owner";
const OWNER_PW: &str = "owner's secret";
const SERVER_DB: &str = "clinicdesk";

/// A cluster with SCRAM passwords (the superuser keeps trust for the test's own checks), the
/// owner role and its empty database.
fn server() -> PgCluster {
    let cluster = PgCluster::start().unwrap();
    let mut su = cluster.connect().unwrap();
    su.batch_execute(&format!(
        "CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD '{}'; GRANT pg_signal_backend TO {OWNER};",
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

/// One PC: its database and key file in the test's folder.
struct Pc {
    dir: PathBuf,
    name: &'static str,
    url: String,
}

impl Pc {
    fn new(dir: &std::path::Path, name: &'static str, cluster: &PgCluster) -> Pc {
        Pc {
            dir: dir.to_path_buf(),
            name,
            url: format!(
                "postgres://{OWNER}@127.0.0.1:{}/{SERVER_DB}",
                cluster.port()
            ),
        }
    }
    fn db(&self) -> PathBuf {
        self.dir.join(format!("{}.db", self.name))
    }
    fn key(&self) -> PathBuf {
        self.dir.join(format!("{}.key", self.name))
    }
    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clinicdesk"));
        c.arg("--db")
            .arg(self.db())
            .arg("--key-file")
            .arg(self.key())
            .arg("--json")
            .args(args);
        for v in [
            "CLINICDESK_PASSWORD",
            "CLINICDESK_DB_KEY",
            "CLINICDESK_USER",
            "CLINICDESK_SERVER_PASSWORD",
            "CLINICDESK_SERVER_URL",
            "CLINICDESK_SYNC_KEY_FILE",
            "CD_FAILPOINT",
        ] {
            c.env_remove(v);
        }
        c.env("CLINICDESK_PASSWORD", PW)
            .env("CLINICDESK_SERVER_PASSWORD", OWNER_PW);
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).output().unwrap()
    }
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        let o = self.cmd(args, &[]);
        assert!(
            o.status.success(),
            "{} {args:?} failed: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&o.stdout)
            )
        })
    }
    fn admin(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--user", "admin"];
        full.extend_from_slice(args);
        self.ok(&full)
    }
    fn sync(&self) -> serde_json::Value {
        self.ok(&["sync", "now"])
    }
    fn raw(&self) -> rusqlite::Connection {
        let key = std::fs::read_to_string(self.key()).unwrap();
        clinicdesk_store::open_raw(
            &self.db(),
            &clinicdesk_store::DbKey::from_hex(&key).unwrap(),
        )
        .unwrap()
    }
    fn one(&self, sql: &str) -> String {
        self.raw()
            .query_row(sql, [], |r| r.get::<_, String>(0))
            .unwrap()
    }
}

type Dump = BTreeMap<String, Vec<Vec<String>>>;

fn mirrors() -> Vec<clinicdesk_server::schema::Mirror> {
    clinicdesk_server::schema::mirrors(Some(clinicdesk_server::schema::SQLITE_VERSION)).unwrap()
}

/// Every replicated table of a PC, rows by id, values as canonical text.
fn dump_pc(pc: &Pc) -> Dump {
    let c = pc.raw();
    let mut out = Dump::new();
    for m in mirrors() {
        let cols: Vec<String> = m
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let mut stmt = c
            .prepare(&format!(
                "SELECT {} FROM \"{}\" ORDER BY id",
                cols.join(", "),
                m.name
            ))
            .unwrap();
        let n = cols.len();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => "∅".to_string(),
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Real(v) => format!("{v:?}"),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Blob(_) => "blob".into(),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        out.insert(m.name.clone(), rows);
    }
    out
}

/// The same dump of the server's mirror tables (as the superuser: every row).
fn dump_server(su: &mut postgres::Client) -> Dump {
    let mut out = Dump::new();
    for m in mirrors() {
        let cols: Vec<String> = m
            .columns
            .iter()
            .map(|c| format!("\"{}\"::text", c.name))
            .collect();
        let rows = su
            .query(
                &format!(
                    "SELECT {} FROM cd.\"{}\" ORDER BY id::text",
                    cols.join(", "),
                    m.name
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| {
                m.columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match r.get::<_, Option<String>>(i) {
                        None => "∅".to_string(),
                        Some(v) if c.pg_type == "double precision" => {
                            format!("{:?}", v.parse::<f64>().unwrap())
                        }
                        Some(v) => v,
                    })
                    .collect()
            })
            .collect();
        out.insert(m.name.clone(), rows);
    }
    out
}

fn assert_same(what: &str, a: &Dump, b: &Dump) {
    for (t, rows) in a {
        let other = &b[t];
        assert_eq!(
            rows.len(),
            other.len(),
            "{what}: {t} has {} rows vs {}",
            rows.len(),
            other.len()
        );
        for (x, y) in rows.iter().zip(other) {
            assert_eq!(x, y, "{what}: {t} differs");
        }
    }
}

fn pending(pc: &Pc) -> i64 {
    pc.ok(&["sync", "status"])["pending_changes"]
        .as_i64()
        .unwrap()
}

/// The first PC seeds the server, a second joins empty (initial sync), edits on both while
/// "offline" (no sync between them) merge per column on both, a delete and an edit of the
/// same patient both survive, and in the end both replicas equal the server's and their
/// queues are empty.
#[test]
fn two_pcs_seed_join_edit_offline_and_converge() {
    let cluster = server();
    let mut su = cluster.config(SERVER_DB).connect(NoTls).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = Pc::new(dir.path(), "a", &cluster);
    let b = Pc::new(dir.path(), "b", &cluster);

    a.ok(&["demo", "--size", "small"]);
    a.ok(&["server", "init", "--url", &a.url]);
    let seeded = a.admin(&["sync", "enrol", "--url", &a.url, "--seed"]);
    assert!(seeded["seeded_rows"].as_u64().unwrap() > 5000, "{seeded}");
    // Not enrolled: a clear error, no database created.
    let o = b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success());
    assert!(!b.db().exists());

    let joined = b.ok(&["sync", "enrol", "--url", &b.url, "--join"]);
    assert_eq!(joined["rows"], seeded["seeded_rows"], "{joined}");
    assert!(b.db().exists() && !dir.path().join("b.db.joining").exists());
    assert_same("after the join, b vs a", &dump_pc(&b), &dump_pc(&a));
    assert_same(
        "after the join, server vs a",
        &dump_server(&mut su),
        &dump_pc(&a),
    );
    // Joining again over an existing database is refused and changes nothing.
    let before = dump_pc(&b);
    let o = b.cmd(&["sync", "enrol", "--url", &b.url, "--join"], &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_same("a refused second join", &dump_pc(&b), &before);
    // Nothing to do on either PC: the seed's own rows are not downloaded again.
    let r = a.sync();
    assert_eq!(
        (r["pushed_changes"].as_i64(), r["pulled_rows"].as_i64()),
        (Some(0), Some(0)),
        "{r}"
    );
    let r = b.sync();
    assert_eq!(
        (r["pushed_changes"].as_i64(), r["pulled_rows"].as_i64()),
        (Some(0), Some(0)),
        "{r}"
    );

    // Offline edits of one patient on both PCs: a's phone, b's email and b's later first name
    // over a's; a deletes another patient that b edits.
    let p = a.one("SELECT id FROM patients WHERE deleted_at IS NULL ORDER BY id LIMIT 1");
    let q = a.one("SELECT id FROM patients WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET 1");
    a.admin(&[
        "patient",
        "update",
        &p,
        "--set",
        "phone=+1 403 555 0101",
        "--set",
        "first_name=Ada",
    ]);
    b.admin(&[
        "patient",
        "update",
        &p,
        "--set",
        "email=ada@example.com",
        "--set",
        "first_name=Adele",
    ]);
    a.admin(&["patient", "delete", &q]);
    b.admin(&["patient", "update", &q, "--set", "notes=called back"]);
    let created = b.admin(&[
        "patient",
        "create",
        "--set",
        "first_name=Nora",
        "--set",
        "last_name=New",
        "--clinic",
        &a.one("SELECT clinic_id FROM patients ORDER BY id LIMIT 1"),
    ]);
    let nora = created["id"].as_str().unwrap().to_string();
    assert!(pending(&a) > 0 && pending(&b) > 0);

    for pc in [&a, &b, &a] {
        pc.sync();
    }
    for pc in [&a, &b] {
        let c = pc.raw();
        let (phone, email, first): (String, String, String) = c
            .query_row(
                "SELECT phone, email, first_name FROM patients WHERE id = ?1",
                [&p],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (phone.as_str(), email.as_str(), first.as_str()),
            ("+1 403 555 0101", "ada@example.com", "Adele"),
            "{}: per-column merge, the later first name wins",
            pc.name
        );
        let (deleted, notes): (Option<i64>, Option<String>) = c
            .query_row(
                "SELECT deleted_at, notes FROM patients WHERE id = ?1",
                [&q],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(deleted.is_some(), "{}: the delete stands", pc.name);
        assert_eq!(
            notes.as_deref(),
            Some("called back"),
            "{}: the edit too",
            pc.name
        );
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM patients WHERE id = ?1",
                [&nora],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{}: the new patient", pc.name);
        assert_eq!(pending(pc), 0, "{}: queue empty", pc.name);
    }
    // b applied a's rows audited under Remote, not captured again: nothing to push back.
    let r = b.sync();
    assert_eq!(r["pushed_changes"].as_i64(), Some(0), "{r}");
    let (da, db) = (dump_pc(&a), dump_pc(&b));
    assert_same("converged, b vs a", &db, &da);
    assert_same("converged, server vs a", &dump_server(&mut su), &da);
}
