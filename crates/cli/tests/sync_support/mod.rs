//! What the sync tests share: a throwaway server with password authentication and an owner
//! role as on a hosted PostgreSQL; PCs, each its own encrypted database driven by separate
//! `clinicdesk` processes; canonical dumps of every replicated table (PC files and server);
//! and a loopback TCP proxy that injects network faults between a PC and the server.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use clinicdesk_pgcluster::postgres::{self, NoTls};
use clinicdesk_pgcluster::PgCluster;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const PW: &str = "correct horse battery";
pub const OWNER: &str = "cd_owner";
pub const OWNER_PW: &str = "owner's secret";
pub const SERVER_DB: &str = "clinicdesk";

/// A cluster with SCRAM passwords (the superuser keeps trust for the test's own checks), the
/// owner role and its empty database.
pub fn server() -> PgCluster {
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
pub struct Pc {
    pub dir: PathBuf,
    pub name: &'static str,
    pub url: String,
}

impl Pc {
    pub fn new(dir: &std::path::Path, name: &'static str, cluster: &PgCluster) -> Pc {
        Pc::at_port(dir, name, cluster.port())
    }
    /// A PC that reaches the server at `port` (a [`Proxy`]'s, to inject faults).
    pub fn at_port(dir: &std::path::Path, name: &'static str, port: u16) -> Pc {
        Pc {
            dir: dir.to_path_buf(),
            name,
            url: format!("postgres://{OWNER}@127.0.0.1:{port}/{SERVER_DB}"),
        }
    }
    pub fn db(&self) -> PathBuf {
        self.dir.join(format!("{}.db", self.name))
    }
    pub fn key(&self) -> PathBuf {
        self.dir.join(format!("{}.key", self.name))
    }
    pub fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
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
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
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
    pub fn admin(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--user", "admin"];
        full.extend_from_slice(args);
        self.ok(&full)
    }
    pub fn sync(&self) -> serde_json::Value {
        self.ok(&["sync", "now"])
    }
    pub fn raw(&self) -> rusqlite::Connection {
        let key = std::fs::read_to_string(self.key()).unwrap();
        clinicdesk_store::open_raw(
            &self.db(),
            &clinicdesk_store::DbKey::from_hex(&key).unwrap(),
        )
        .unwrap()
    }
    pub fn one(&self, sql: &str) -> String {
        self.raw()
            .query_row(sql, [], |r| r.get::<_, String>(0))
            .unwrap()
    }
}

pub type Dump = BTreeMap<String, Vec<Vec<String>>>;

pub fn mirrors() -> Vec<clinicdesk_server::schema::Mirror> {
    clinicdesk_server::schema::mirrors(Some(clinicdesk_server::evolve::MIRRORED_VERSION)).unwrap()
}

/// Every replicated table of a PC, rows by id, values as canonical text.
pub fn dump_pc(pc: &Pc) -> Dump {
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
pub fn dump_server(su: &mut postgres::Client) -> Dump {
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

pub fn assert_same(what: &str, a: &Dump, b: &Dump) {
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

/// The local queue of `pc` (`sync status`).
pub fn pending(pc: &Pc) -> i64 {
    pc.ok(&["sync", "status"])["pending_changes"]
        .as_i64()
        .unwrap()
}

/// The server's clock (`sync.clock.seq`).
pub fn server_seq(su: &mut postgres::Client) -> i64 {
    su.query_one("SELECT seq FROM sync.clock", &[])
        .unwrap()
        .get(0)
}

/// The server's acknowledged batches.
pub fn batches(su: &mut postgres::Client) -> i64 {
    su.query_one("SELECT count(*) FROM sync.batches", &[])
        .unwrap()
        .get(0)
}

/// A server, PC `a` seeded from a small demo, PC `b` joined; `b_port` routes `b` (e.g.
/// through a proxy), else it talks to the server directly.
pub struct Scene {
    pub cluster: PgCluster,
    pub su: postgres::Client,
    pub dir: tempfile::TempDir,
    pub a: Pc,
    pub b: Pc,
}

impl Scene {
    pub fn new(b_via: Option<&Proxy>) -> Scene {
        let cluster = server();
        let su = cluster.config(SERVER_DB).connect(NoTls).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let a = Pc::new(dir.path(), "a", &cluster);
        let b = match b_via {
            Some(p) => {
                p.forward_to(cluster.port());
                Pc::at_port(dir.path(), "b", p.port)
            }
            None => Pc::new(dir.path(), "b", &cluster),
        };
        a.ok(&["demo", "--size", "small"]);
        a.ok(&["server", "init", "--url", &a.url]);
        a.admin(&["sync", "enrol", "--url", &a.url, "--seed"]);
        b.ok(&["sync", "enrol", "--url", &b.url, "--join"]);
        Scene {
            cluster,
            su,
            dir,
            a,
            b,
        }
    }

    /// Heal: sync every PC until none pushes or pulls anything; then every replica equals the
    /// server and every queue is empty.
    pub fn heal_and_check(&mut self) {
        for round in 0..5 {
            let mut quiet = true;
            for pc in [&self.a, &self.b] {
                let r = pc.sync();
                quiet &= r["pushed_changes"] == 0 && r["pulled_rows"] == 0;
            }
            if quiet {
                break;
            }
            assert!(round < 4, "sync did not quiesce");
        }
        let server = dump_server(&mut self.su);
        for pc in [&self.a, &self.b] {
            assert_eq!(pending(pc), 0, "{}: queue empty", pc.name);
            assert_same(&format!("{} vs the server", pc.name), &dump_pc(pc), &server);
        }
    }

    /// A patient id of the demo (the n-th by id).
    pub fn patient(&self, n: usize) -> String {
        self.a.one(&format!(
            "SELECT id FROM patients WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET {n}"
        ))
    }
}

/// A fault the proxy injects once, on the next push it sees (a client message carrying a
/// batch of changes), then it passes traffic again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Forward half of the batch's message, then cut both directions: the server never
    /// receives the whole call and commits nothing.
    CutMidBatch,
    /// Forward the batch; cut both directions when the server's answer arrives, without
    /// forwarding it: the server committed, the acknowledgement is lost.
    CutBeforeAck,
}

/// A loopback TCP proxy in front of the server (SYNC.md §8).
pub struct Proxy {
    pub port: u16,
    fault: Arc<Mutex<Fault>>,
    cuts: Arc<AtomicUsize>,
    upstream: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = Proxy {
            port,
            fault: Arc::new(Mutex::new(Fault::None)),
            cuts: Arc::new(AtomicUsize::new(0)),
            upstream: Arc::new(AtomicUsize::new(0)),
        };
        let (fault, cuts, upstream) = (p.fault.clone(), p.cuts.clone(), p.upstream.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let to = upstream.load(Ordering::Acquire) as u16;
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                    continue;
                };
                relay(client, server, fault.clone(), cuts.clone());
            }
        });
        p
    }

    /// Where the proxy forwards to (set before the first connection).
    pub fn forward_to(&self, port: u16) {
        self.upstream.store(port as usize, Ordering::Release);
    }

    pub fn arm(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }

    /// Faults injected so far.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::Acquire)
    }
}

fn is_batch(chunk: &[u8]) -> bool {
    chunk.windows(8).any(|w| w == b"\"row_id\"")
}

fn relay(client: TcpStream, server: TcpStream, fault: Arc<Mutex<Fault>>, cuts: Arc<AtomicUsize>) {
    let armed = Arc::new(AtomicBool::new(false));
    let cut: Arc<dyn Fn() + Send + Sync> = {
        let (c, s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        Arc::new(move || {
            let _ = c.shutdown(Shutdown::Both);
            let _ = s.shutdown(Shutdown::Both);
        })
    };
    {
        let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (fault, cuts, armed, cut) = (fault.clone(), cuts.clone(), armed.clone(), cut.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                let f = *fault.lock().unwrap();
                if f != Fault::None && is_batch(chunk) {
                    *fault.lock().unwrap() = Fault::None;
                    if f == Fault::CutMidBatch {
                        let _ = to.write_all(&chunk[..n / 2]);
                        cuts.fetch_add(1, Ordering::AcqRel);
                        cut();
                        break;
                    }
                    armed.store(true, Ordering::Release);
                }
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
            cut();
        });
    }
    let (mut from, mut to) = (server, client);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if armed.swap(false, Ordering::AcqRel) {
                cuts.fetch_add(1, Ordering::AcqRel);
                break;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        cut();
    });
}
