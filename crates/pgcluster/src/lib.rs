//! A throwaway PostgreSQL cluster for benchmarks and tests.
//!
//! [`PgCluster::start`] runs `initdb` in a new temporary directory, starts the server on a free
//! loopback port (TCP `127.0.0.1`, plus a Unix socket in the same directory) with `fsync=off`,
//! and hands out clients. Dropping the cluster (or [`PgCluster::stop`]) stops it with
//! `pg_ctl stop -m immediate` and removes the directory, also when the caller bails out early.
//!
//! The server binaries come from `pg_config --bindir` (Debian package `postgresql`).
//! PostgreSQL refuses to run as root: when this process is root, `initdb` and `pg_ctl` run as
//! the `postgres` system user through `runuser`, and the directory is handed to that user.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use postgres;

/// The superuser of the throwaway cluster (trust authentication).
pub const SUPERUSER: &str = "postgres";
/// The address the server listens on.
pub const HOST: &str = "127.0.0.1";
/// Unix socket paths are limited to 107 bytes; the socket is `<dir>/.s.PGSQL.<port>`.
const MAX_SOCKET_DIR: usize = 80;
/// Attempts with a new port when the chosen one was taken in the meantime.
const START_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server binaries are not there (`pg_config` missing or pointing nowhere).
    #[error("PostgreSQL is not installed ({0}); install the Debian package `postgresql`")]
    NotInstalled(String),
    /// A PostgreSQL tool failed; `detail` holds its output or the server log.
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("PostgreSQL client: {0}")]
    Client(#[from] postgres::Error),
}

pub type Result<T> = std::result::Result<T, PgError>;

/// Extra server settings (`name = value` lines appended to `postgresql.conf`) and files put in
/// the data directory before the server starts (a TLS certificate and its key, say).
#[derive(Debug, Clone, Default)]
pub struct PgOptions {
    settings: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

impl PgOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// One server setting, e.g. `.set("shared_buffers", "256MB")`; the value is quoted.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// A file `name` (a plain file name, no directory) in the data directory, mode 0600 and
    /// owned by the server's user (PostgreSQL refuses a TLS key anyone else can read). Server
    /// settings name it relative to the data directory, e.g.
    /// `.file("server.key", key).set("ssl_key_file", "server.key")`.
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.to_string(), contents.into()));
        self
    }
}

/// A running throwaway cluster; stopped and deleted on drop.
pub struct PgCluster {
    bindir: PathBuf,
    data: PathBuf,
    port: u16,
    /// `Some("postgres")` when this process is root.
    run_as: Option<String>,
    running: bool,
    /// Removed (with the data directory) after the server is stopped.
    dir: tempfile::TempDir,
}

/// The directory of the server binaries, from `pg_config --bindir`.
pub fn bindir() -> Result<PathBuf> {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .map_err(|e| PgError::NotInstalled(format!("cannot run pg_config: {e}")))?;
    if !out.status.success() {
        return Err(PgError::NotInstalled(format!(
            "pg_config --bindir failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    for tool in ["initdb", "pg_ctl", "postgres"] {
        if !dir.join(tool).exists() {
            return Err(PgError::NotInstalled(format!(
                "{} not found (pg_config --bindir says {})",
                tool,
                dir.display()
            )));
        }
    }
    Ok(dir)
}

impl PgCluster {
    /// Start a cluster with the default settings (plus `fsync=off`).
    pub fn start() -> Result<Self> {
        Self::start_with(&PgOptions::default())
    }

    /// Start a cluster with extra settings.
    pub fn start_with(options: &PgOptions) -> Result<Self> {
        let bindir = bindir()?;
        let mut dir = tempfile::Builder::new().prefix("pgc").tempdir()?;
        if dir.path().as_os_str().len() > MAX_SOCKET_DIR {
            dir = tempfile::Builder::new().prefix("pgc").tempdir_in("/tmp")?;
        }
        let run_as = if std::fs::metadata(dir.path())?.uid() == 0 {
            let (uid, gid) = (id_of(SUPERUSER, "-u")?, id_of(SUPERUSER, "-g")?);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
            Some(SUPERUSER.to_string())
        } else {
            None
        };
        let data = dir.path().join("data");
        let mut cluster = PgCluster {
            bindir,
            data,
            port: 0,
            run_as,
            running: false,
            dir,
        };
        let data = cluster.data.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )?;
        let mut conf = format!(
            "\n# clinicdesk-pgcluster\nlisten_addresses = '{HOST}'\nunix_socket_directories = '{}'\nfsync = off\n",
            cluster.dir.path().display()
        );
        for (name, value) in &options.settings {
            conf.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
        }
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.data.join("postgresql.conf"))?
            .write_all(conf.as_bytes())?;
        for (name, contents) in &options.files {
            cluster.put_file(name, contents)?;
        }

        let log = cluster.dir.path().join("server.log").display().to_string();
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let started = cluster.run(
                "pg_ctl start",
                &[
                    "-D",
                    &data,
                    "-l",
                    &log,
                    "-o",
                    &format!("-p {port}"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            );
            match started {
                Ok(()) => {
                    cluster.port = port;
                    cluster.running = true;
                    return Ok(cluster);
                }
                Err(e) => {
                    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                    let tail: Vec<&str> = log_text.lines().rev().take(8).collect();
                    let detail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
                    // Make sure nothing half-started stays behind before retrying.
                    cluster.kill_postmaster();
                    if !log_text.contains("could not bind") && !log_text.contains("in use") {
                        return Err(PgError::Command {
                            what: "pg_ctl start".into(),
                            detail: format!("{e}; server log: {detail}"),
                        });
                    }
                    last = Some(detail);
                }
            }
        }
        Err(PgError::Command {
            what: "pg_ctl start".into(),
            detail: format!(
                "no free port after {START_ATTEMPTS} attempts: {}",
                last.unwrap_or_default()
            ),
        })
    }

    /// The TCP port on [`HOST`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The directory holding the Unix socket (and the server log, `server.log`).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bindir
    }

    /// Client settings for `dbname` over TCP on the loopback address, as the superuser.
    pub fn config(&self, dbname: &str) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.host(HOST)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(dbname)
            .application_name("clinicdesk-pgcluster");
        c
    }

    /// A client connected over TCP to the `postgres` database.
    pub fn connect(&self) -> Result<postgres::Client> {
        Ok(self.config("postgres").connect(postgres::NoTls)?)
    }

    /// Crash and restart the server on the same port and data (`pg_ctl restart -m
    /// immediate`): every open session is cut, transactions in flight are lost, committed
    /// ones survive (crash recovery) — the "server restart" fault of the sync tests.
    pub fn restart_immediate(&mut self) -> Result<()> {
        let data = self.data.display().to_string();
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl restart",
            &[
                "-D",
                &data,
                "-l",
                &log,
                "-m",
                "immediate",
                "-o",
                &format!("-p {}", self.port),
                "-w",
                "-t",
                "60",
                "restart",
            ],
        )
    }

    /// Stop the server (`pg_ctl stop -m immediate`) and remove its directory.
    pub fn stop(mut self) -> Result<()> {
        self.stop_server()
    }

    fn stop_server(&mut self) -> Result<()> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let data = self.data.display().to_string();
        let stopped = self.run(
            "pg_ctl stop",
            &["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"],
        );
        if stopped.is_err() {
            self.kill_postmaster();
        }
        stopped
    }

    /// Write `name` into the data directory: 0600, owned by the user the server runs as.
    fn put_file(&self, name: &str, contents: &[u8]) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(PgError::Command {
                what: "PgOptions::file".into(),
                detail: format!("{name:?} is not a plain file name"),
            });
        }
        let path = self.data.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?
            .write_all(contents)?;
        if self.run_as.is_some() {
            let owner = std::fs::metadata(&self.data)?;
            std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid()))?;
        }
        Ok(())
    }

    /// Last resort: SIGKILL the postmaster this cluster started (its pid file).
    fn kill_postmaster(&self) {
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        if let Some(pid) = pid {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .output();
        }
    }

    /// Run a server tool from the bindir, as the postgres user when we are root.
    fn run(&self, what: &str, args: &[&str]) -> Result<()> {
        let tool = what.split_whitespace().next().unwrap_or(what);
        let exe = self.bindir.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        // A working directory the postgres user can enter.
        cmd.args(args).current_dir(self.dir.path());
        let out = cmd.output().map_err(|e| PgError::Command {
            what: what.to_string(),
            detail: format!("cannot run {}: {e}", exe.display()),
        })?;
        check(what, out)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop_server();
        // `dir` is removed after this, with everything in it.
    }
}

fn check(what: &str, out: Output) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{} {}",
        String::from_utf8_lossy(&out.stderr).trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    Err(PgError::Command {
        what: what.to_string(),
        detail: format!("{} ({})", text.trim(), out.status),
    })
}

/// `id -u NAME` / `id -g NAME`.
fn id_of(user: &str, flag: &str) -> Result<u32> {
    let out = Command::new("id")
        .args([flag, user])
        .output()
        .map_err(|e| PgError::NotInstalled(format!("cannot run id: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            PgError::NotInstalled(format!(
                "running as root, but there is no '{user}' system user to run PostgreSQL as"
            ))
        })
}

/// A port that was free a moment ago.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind((HOST, 0))?;
    Ok(l.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_cleans_up() {
        let cluster = match PgCluster::start() {
            Err(PgError::NotInstalled(why)) => {
                eprintln!("SKIPPED: PostgreSQL is not installed here ({why}); scripts/setup.sh installs it");
                return;
            }
            other => other.unwrap(),
        };
        let dir = cluster.socket_dir().to_path_buf();
        assert!(cluster.data_dir().join("postmaster.pid").exists());
        let mut client = cluster.connect().unwrap();
        let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
        let addr: Option<String> = client
            .query_one("SELECT host(inet_server_addr())", &[])
            .unwrap()
            .get(0);
        assert_eq!(addr.as_deref(), Some(HOST), "connected over TCP loopback");
        drop(client);
        cluster.stop().unwrap();
        assert!(!dir.exists(), "the cluster directory is removed");
    }

    #[test]
    fn drop_stops_the_server() {
        let cluster = match PgCluster::start_with(&PgOptions::new().set("jit", "off")) {
            Err(PgError::NotInstalled(why)) => {
                eprintln!("SKIPPED: PostgreSQL is not installed here ({why}); scripts/setup.sh installs it");
                return;
            }
            other => other.unwrap(),
        };
        let config = cluster.config("postgres");
        let dir = cluster.socket_dir().to_path_buf();
        let jit: String = cluster
            .connect()
            .unwrap()
            .query_one("SHOW jit", &[])
            .unwrap()
            .get(0);
        assert_eq!(jit, "off");
        drop(cluster);
        assert!(!dir.exists());
        assert!(config.connect(postgres::NoTls).is_err(), "server is gone");
    }

    #[test]
    fn files_land_in_the_data_directory_and_bad_names_are_refused() {
        let options = PgOptions::new().file("extra.conf", "work_mem = '7MB'\n");
        let cluster = match PgCluster::start_with(&options.set("include", "extra.conf")) {
            Err(PgError::NotInstalled(why)) => {
                eprintln!("SKIPPED: PostgreSQL is not installed here ({why}); scripts/setup.sh installs it");
                return;
            }
            other => other.unwrap(),
        };
        let path = cluster.data_dir().join("extra.conf");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(
            meta.uid(),
            std::fs::metadata(cluster.data_dir()).unwrap().uid(),
            "owned by the server's user"
        );
        let work_mem: String = cluster
            .connect()
            .unwrap()
            .query_one("SHOW work_mem", &[])
            .unwrap()
            .get(0);
        assert_eq!(work_mem, "7MB", "the server read the file");
        drop(cluster);

        for name in ["", "../x", "a/b", ".."] {
            match PgCluster::start_with(&PgOptions::new().file(name, "x")) {
                Err(PgError::Command { what, detail }) => {
                    assert_eq!(what, "PgOptions::file");
                    assert!(detail.contains("not a plain file name"), "{detail}");
                }
                Err(e) => panic!("{name:?}: {e}"),
                Ok(_) => panic!("{name:?} was accepted"),
            }
        }
    }
}
