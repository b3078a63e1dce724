//! Administration of the server as its owner (SYNC.md §3.1, §4.3): the server URL and how the
//! connection to it is secured ([`ServerUrl`], [`Security`]: off this computer, TLS with a
//! verified certificate, through `tls.rs`), applying the migrations (`clinicdesk server init`
//! / `migrate`), enrolling a PC as a device (its own LOGIN role, member of
//! `clinicdesk_device`, with a random password), listing the devices and revoking one.
//!
//! The owner's password is typed by an administrator for one command and never stored. A
//! device's password is generated here, set on the server as a SCRAM verifier (computed on
//! this side, so the password itself never reaches the server, its logs or `pg_authid`) and
//! handed to the caller once, to keep in the OS keyring or a key file.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clinicdesk_store::DeviceId;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use postgres::config::{Host, SslMode};
pub use postgres::Client;
use postgres::{Config, NoTls};
use rand::RngCore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

pub use crate::seed::{Seed, Seeded};
pub use clinicdesk_store::DeviceId as Device;

/// The group role every device role is a member of (created by the first migration).
pub const DEVICE_GROUP: &str = "clinicdesk_device";
/// Per device role: at most this many sessions at once.
pub const DEVICE_CONNECTION_LIMIT: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the server URL is not valid: {0}")]
    BadUrl(String),
    #[error("cannot connect to the server as {user}: {reason}")]
    Connect { user: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("the server refused: {0}")]
    Server(String),
    #[error(transparent)]
    Migration(#[from] crate::ServerError),
}

pub type AdminResult<T> = std::result::Result<T, AdminError>;

impl From<postgres::Error> for AdminError {
    fn from(e: postgres::Error) -> Self {
        AdminError::Server(match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })
    }
}

/// How the connection to the server is secured, decided by [`ServerUrl::parse`] from the host
/// and `sslmode`. Patient data leaves this computer only over TLS with a verified certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS: a server on this computer (loopback) with no `sslmode`, `disable` or `prefer`
    /// (which, with no certificate to check, is taken as `disable`).
    Plain,
    /// `require` on loopback: encrypted, the certificate not verified.
    Unverified,
    /// `verify-ca`: the certificate's chain is verified, not the host name it names.
    VerifyCa,
    /// `verify-full`: chain and host name verified; the default for any host but loopback.
    VerifyFull,
}

/// A server URL `postgres://user@host:port/db[?sslmode=…][&sslrootcert=/path/ca.pem]`, checked:
/// one TCP host, a user and a database, no password (passwords never go in URLs, which end up
/// in shell histories), and a [`Security`] that fits the host:
///
/// - a host other than this computer needs TLS with verification: `verify-full` (the
///   default when no `sslmode` is given) or `verify-ca`; `require` (encrypted, unverified),
///   `disable` and `prefer` are refused;
/// - on loopback, no `sslmode` (or `disable`, `prefer`) is a plain connection, `require` TLS
///   without verification, `verify-ca`/`verify-full` as for any host;
/// - `sslrootcert` names a PEM file of CA certificates trusted besides the Mozilla roots and
///   the platform's (a self-hosted server's CA, the AWS RDS bundle, Supabase's pooler CA). It
///   is read here (a missing or empty file is refused now, not at the first sync) and kept as
///   an absolute path. With `sslrootcert` and no `sslmode`, the mode is `verify-full`.
#[derive(Clone)]
pub struct ServerUrl {
    config: Config,
    host: String,
    port: u16,
    /// As given, for a plain connection (`disable`, `prefer`, or none); see [`Self::with_user`].
    sslmode: Option<String>,
    security: Security,
    sslrootcert: Option<PathBuf>,
    /// The certificates of `sslrootcert`.
    ca: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_user(self.user()))
    }
}

/// What `with_user` percent-encodes in the `sslrootcert` path.
const PATH_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl ServerUrl {
    pub fn parse(url: &str) -> AdminResult<Self> {
        let bad = |m: &str| AdminError::BadUrl(m.to_string());
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("expected postgres://USER@HOST:PORT/DATABASE"));
        }
        // sslmode and sslrootcert are ours (tokio-postgres knows neither verify-ca/verify-full
        // nor sslrootcert); the other parameters go to tokio-postgres as they are.
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut rest = Vec::new();
        let mut sslmode: Option<String> = None;
        let mut sslrootcert: Option<String> = None;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (slot, value) = match kv.split_once('=') {
                Some(("sslmode", v)) => (&mut sslmode, v),
                Some(("sslrootcert", v)) => (&mut sslrootcert, v),
                _ => {
                    rest.push(kv);
                    continue;
                }
            };
            let name = kv.split('=').next().unwrap_or_default();
            let value = percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| bad(&format!("{name} is not UTF-8 text")))?;
            if slot.replace(value.into_owned()).is_some() {
                return Err(bad(&format!("{name} is given twice")));
            }
        }
        if let Some(m) = &sslmode {
            if !matches!(
                m.as_str(),
                "disable" | "prefer" | "require" | "verify-ca" | "verify-full"
            ) {
                return Err(bad(&format!(
                    "unknown sslmode {m:?} (expected verify-full, verify-ca, require, prefer or disable)"
                )));
            }
        }
        let plain_url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let config = Config::from_str(&plain_url).map_err(|e| bad(&e.to_string()))?;
        if config.get_password().is_some() {
            return Err(bad(
                "it holds a password: give the password on standard input or in the environment instead",
            ));
        }
        let user = config.get_user().unwrap_or_default();
        if user.is_empty() {
            return Err(bad("no user (postgres://USER@HOST:PORT/DATABASE)"));
        }
        if config.get_dbname().unwrap_or_default().is_empty() {
            return Err(bad("no database (postgres://USER@HOST:PORT/DATABASE)"));
        }
        let host = match config.get_hosts() {
            [Host::Tcp(h)] => h.clone(),
            [] => return Err(bad("no host")),
            [_] => return Err(bad("a Unix socket is not supported: give a TCP host")),
            _ => return Err(bad("give one host")),
        };
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let security = match (sslmode.as_deref(), loopback) {
            (None, true) if sslrootcert.is_none() => Security::Plain,
            (None, _) | (Some("verify-full"), _) => Security::VerifyFull,
            (Some("verify-ca"), _) => Security::VerifyCa,
            (Some("disable" | "prefer"), true) => Security::Plain,
            (Some("require"), true) => Security::Unverified,
            (Some("require"), false) => {
                return Err(bad(&format!(
                    "sslmode=require encrypts the connection to {host} but does not verify the server's certificate, which is not acceptable for patient data: use sslmode=verify-full (the default), with sslrootcert=/path/to/ca.pem when the server's CA is not a public one"
                )))
            }
            (Some(m), _) => {
                return Err(bad(&format!(
                    "sslmode={m} is only for a server on this computer: {host} needs TLS with a verified certificate (sslmode=verify-full, the default, or verify-ca)"
                )))
            }
        };
        let (sslrootcert, ca) = match sslrootcert {
            None => (None, Vec::new()),
            Some(_) if matches!(security, Security::Plain | Security::Unverified) => {
                return Err(bad(
                    "sslrootcert needs a verified connection: sslmode=verify-full or verify-ca",
                ))
            }
            Some(path) => {
                let (path, ca) = read_ca(Path::new(&path)).map_err(|m| bad(&m))?;
                (Some(path), ca)
            }
        };
        let port = match config.get_ports() {
            [] => 5432,
            [p] => *p,
            _ => return Err(bad("give one port")),
        };
        let mut config = config;
        config.ssl_mode(match security {
            Security::Plain => SslMode::Disable,
            _ => SslMode::Require,
        });
        Ok(ServerUrl {
            config,
            host,
            port,
            sslmode: sslmode.filter(|_| security == Security::Plain),
            security,
            sslrootcert,
            ca,
        })
    }

    /// The role the URL names (the owner's, for the admin commands).
    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or_default()
    }

    /// How the connection is secured.
    pub fn security(&self) -> Security {
        self.security
    }

    /// The same server and database as `user`, without a password: what an enrolled PC keeps.
    /// It parses back to the same [`Security`] and CA file (the mode is spelled out whenever
    /// TLS is used, so the default cannot change under an enrolled PC).
    pub fn with_user(&self, user: &str) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut url = format!(
            "postgres://{user}@{host}:{}/{}",
            self.port,
            self.config.get_dbname().unwrap_or_default()
        );
        let sslmode = match self.security {
            Security::Plain => self.sslmode.as_deref(),
            Security::Unverified => Some("require"),
            Security::VerifyCa => Some("verify-ca"),
            Security::VerifyFull => Some("verify-full"),
        };
        if let Some(m) = sslmode {
            url.push_str(&format!("?sslmode={m}"));
        }
        if let Some(path) = &self.sslrootcert {
            let path = path.to_string_lossy();
            url.push_str(&format!(
                "&sslrootcert={}",
                utf8_percent_encode(&path, PATH_ESCAPES)
            ));
        }
        url
    }

    /// Connect as `user` (the URL's own when `None`) with `password`, over TLS unless the
    /// connection is [`Security::Plain`].
    pub fn connect(&self, user: Option<&str>, password: &str) -> AdminResult<Client> {
        let mut config = self.config.clone();
        let user = user.unwrap_or(self.user()).to_string();
        config
            .user(&user)
            .password(password)
            .application_name("clinicdesk")
            .connect_timeout(std::time::Duration::from_secs(15));
        let connected = match self.security {
            Security::Plain => config.connect(NoTls),
            security => {
                let tls = crate::tls::connector(security, &self.ca).map_err(|reason| {
                    AdminError::Connect {
                        user: user.clone(),
                        reason,
                    }
                })?;
                config.connect(tls)
            }
        };
        connected.map_err(|e| AdminError::Connect {
            reason: match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => self.explain(&with_causes(&e)),
            },
            user,
        })
    }

    /// A connection error's text, with what to do about the certificate errors rustls names.
    fn explain(&self, reason: &str) -> String {
        let hint = if reason.contains("UnknownIssuer") {
            Some("the server's certificate is not signed by a CA this computer trusts: give the server's CA with sslrootcert=/path/to/ca.pem".to_string())
        } else if reason.contains("NotValidForName") || reason.contains("not valid for name") {
            Some(format!(
                "the server's certificate does not name {}: use the host name it was issued for",
                self.host
            ))
        } else if reason.contains("does not support TLS") {
            Some("TLS is switched on in the server's postgresql.conf: ssl = on, ssl_cert_file, ssl_key_file".to_string())
        } else {
            None
        };
        match hint {
            Some(h) => format!("{reason} ({h})"),
            None => reason.to_string(),
        }
    }
}

/// `e` and its causes, `: `-separated (a TLS error's own text is only "error performing TLS
/// handshake"; what failed is in its cause).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// The CA certificates of `path` (PEM), and the path made absolute (an enrolled PC keeps it).
fn read_ca(path: &Path) -> Result<(PathBuf, Vec<CertificateDer<'static>>), String> {
    let shown = path.display();
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    let certs = CertificateDer::pem_file_iter(&absolute)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("sslrootcert {shown} is not a PEM file of certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "sslrootcert {shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
        ));
    }
    crate::tls::roots(&certs).map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    Ok((absolute, certs))
}

/// The login role of a device: `cd_dev_` and its id's 32 hex digits. (Not the first 8 only:
/// device ids are UUIDv7, whose first 8 digits are a timestamp shared by PCs set up in the
/// same minute.)
pub fn device_role(device: &DeviceId) -> String {
    format!("cd_dev_{}", device.to_string().replace('-', ""))
}

/// A device's credentials, returned once by [`enrol_device`].
pub struct DeviceCredentials {
    pub role: String,
    pub password: String,
}

impl fmt::Debug for DeviceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceCredentials({}, <redacted>)", self.role)
    }
}

/// An enrolment made on the server and not committed yet: the caller keeps the password and
/// records the connection on its side first, then [`Enrolment::commit`]s; dropping it (a local
/// step failed) rolls the server back.
pub struct Enrolment<'a> {
    tx: postgres::Transaction<'a>,
    pub credentials: DeviceCredentials,
    /// What `--seed` copied.
    pub seeded: Option<Seeded>,
}

impl Enrolment<'_> {
    pub fn commit(self) -> AdminResult<()> {
        Ok(self.tx.commit()?)
    }
}

/// Enrol `device` for `clinics`, as the owner, in one transaction: its LOGIN role (random
/// 32-byte password, SCRAM; member of `clinicdesk_device`; connection limit and timeouts),
/// its `sync.devices` row and, with `seed`, every local row ([`crate::seed`]). Refused,
/// changing nothing, when the device or its role exists (or, seeding, the server holds rows).
pub fn enrol_device<'a>(
    owner: &'a mut Client,
    device: &DeviceId,
    clinics: &[String],
    seed: Option<&Seed<'_>>,
) -> AdminResult<Enrolment<'a>> {
    let role = device_role(device);
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let password = hex::encode(bytes);
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let mut tx = owner.transaction()?;
    let known: i64 = tx
        .query_one(
            "SELECT count(*) FROM sync.devices WHERE device_id = $1::text::uuid OR role_name = $2::text::name",
            &[&device.to_string(), &role],
        )?
        .get(0);
    let role_exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1::text::name)",
            &[&role],
        )?
        .get(0);
    if known > 0 || role_exists {
        return Err(AdminError::Refused(format!(
            "device {device} is already enrolled on this server (role {role}); nothing was changed"
        )));
    }
    // Identifiers and the verifier are ours (hex digits, base64): quoting them is enough.
    tx.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{verifier}' IN ROLE {DEVICE_GROUP} CONNECTION LIMIT {DEVICE_CONNECTION_LIMIT};
         ALTER ROLE {role} SET statement_timeout = '60s';
         ALTER ROLE {role} SET idle_in_transaction_session_timeout = '30s';"
    ))?;
    tx.execute(
        "INSERT INTO sync.devices (device_id, role_name, clinics, enrolled_at)
         VALUES ($1::text::uuid, $2::text::name, $3::text[]::uuid[], now())",
        &[&device.to_string(), &role, &clinics],
    )?;
    let seeded = match seed {
        Some(from) => Some(crate::seed::seed(&mut tx, from, device)?),
        None => None,
    };
    Ok(Enrolment {
        tx,
        credentials: DeviceCredentials { role, password },
        seeded,
    })
}

/// A device as the server knows it ([`list_devices`]); times in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: String,
    pub role: String,
    pub clinics: Vec<String>,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Every device of `sync.devices`, oldest enrolment first, as the owner.
pub fn list_devices(owner: &mut Client) -> AdminResult<Vec<DeviceInfo>> {
    let ms = |col: &str| format!("(extract(epoch FROM {col}) * 1000)::bigint");
    let rows = owner.query(
        &format!(
            "SELECT device_id::text, role_name::text, clinics::text[], {}, {}, {}
               FROM sync.devices ORDER BY enrolled_at, device_id",
            ms("enrolled_at"),
            ms("last_seen_at"),
            ms("revoked_at")
        ),
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| DeviceInfo {
            device_id: r.get(0),
            role: r.get(1),
            clinics: r.get(2),
            enrolled_at: r.get(3),
            last_seen_at: r.get(4),
            revoked_at: r.get(5),
        })
        .collect())
}

/// What [`revoke_device`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub role: String,
    /// The device's sessions that were open and are now terminated.
    pub terminated: i64,
}

/// Revoke `device` at once, as the owner: `revoked_at` (its policies give it nothing from its
/// next statement on), `NOLOGIN` (no new session), then its open sessions are terminated
/// (the owner needs `pg_signal_backend`). An unknown device is refused, changing nothing.
pub fn revoke_device(owner: &mut Client, device: &DeviceId) -> AdminResult<Revoked> {
    let mut tx = owner.transaction()?;
    let role: String = match tx.query_opt(
        "UPDATE sync.devices SET revoked_at = coalesce(revoked_at, now())
          WHERE device_id = $1::text::uuid RETURNING role_name::text",
        &[&device.to_string()],
    )? {
        Some(r) => r.get(0),
        None => {
            return Err(AdminError::Refused(format!(
                "device {device} is not enrolled on this server; nothing was changed"
            )))
        }
    };
    if role
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(AdminError::Refused(format!(
            "the device's role name {role:?} is not one enrolment makes; nothing was changed"
        )));
    }
    tx.batch_execute(&format!("ALTER ROLE {role} NOLOGIN"))?;
    tx.commit()?;
    let terminated: i64 = owner
        .query_one(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE usename = $1::text::name AND pid <> pg_backend_pid()",
            &[&role],
        )
        .map_err(|e| {
            AdminError::Refused(format!(
                "device {device} is revoked (it reads nothing from now on and cannot sign in), but its open sessions could not be terminated: {} (grant pg_signal_backend to the owner)",
                AdminError::from(e)
            ))
        })?
        .get(0);
    Ok(Revoked { role, terminated })
}
