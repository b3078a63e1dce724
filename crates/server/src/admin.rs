//! Administration of the server as its owner (SYNC.md §3.1, §4.3): the server URL, applying
//! the migrations (`clinicdesk server init` / `migrate`), enrolling a PC as a device (its own
//! LOGIN role, member of `clinicdesk_device`, with a random password) and revoking one.
//!
//! The owner's password is typed by an administrator for one command and never stored. A
//! device's password is generated here, set on the server as a SCRAM verifier (computed on
//! this side, so the password itself never reaches the server, its logs or `pg_authid`) and
//! handed to the caller once, to keep in the OS keyring or a key file.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use clinicdesk_store::DeviceId;
use postgres::config::{Host, SslMode};
pub use postgres::Client;
use postgres::{Config, NoTls};
use rand::RngCore;

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

/// A server URL `postgres://user@host:port/db[?sslmode=…]`, checked: one TCP host, a user and
/// a database, no password (passwords never go in URLs, which end up in shell histories).
#[derive(Clone)]
pub struct ServerUrl {
    config: Config,
    host: String,
    port: u16,
    sslmode: Option<String>,
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_user(self.user()))
    }
}

impl ServerUrl {
    pub fn parse(url: &str) -> AdminResult<Self> {
        let bad = |m: &str| AdminError::BadUrl(m.to_string());
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("expected postgres://USER@HOST:PORT/DATABASE"));
        }
        // TODO(sync TLS): tokio-postgres-rustls is not in Cargo.lock yet; until it is, only
        // plain connections on this computer (loopback) are made, and every sslmode that asks
        // for TLS (require, verify-ca, verify-full — the one a hosted server needs) is refused.
        let sslmode = url
            .split_once('?')
            .into_iter()
            .flat_map(|(_, q)| q.split('&'))
            .find_map(|kv| kv.strip_prefix("sslmode="))
            .map(str::to_string);
        if let Some(m) = &sslmode {
            match m.as_str() {
                "disable" | "prefer" => {}
                "require" | "verify-ca" | "verify-full" => {
                    return Err(bad(&format!(
                        "sslmode={m}: TLS is not available in this build yet; only a server on this computer (sslmode=disable) can be used"
                    )))
                }
                _ => return Err(bad(&format!("unknown sslmode {m:?}"))),
            }
        }
        let config = Config::from_str(url).map_err(|e| bad(&e.to_string()))?;
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
        if !loopback {
            return Err(bad(&format!(
                "{host} is not this computer: TLS is not available in this build yet, so only a server on loopback can be used"
            )));
        }
        let port = match config.get_ports() {
            [] => 5432,
            [p] => *p,
            _ => return Err(bad("give one port")),
        };
        let mut config = config;
        if sslmode.is_none() {
            config.ssl_mode(SslMode::Disable);
        }
        Ok(ServerUrl {
            config,
            host,
            port,
            sslmode,
        })
    }

    /// The role the URL names (the owner's, for the admin commands).
    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or_default()
    }

    /// The same server and database as `user`, without a password: what an enrolled PC keeps.
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
        if let Some(m) = &self.sslmode {
            url.push_str(&format!("?sslmode={m}"));
        }
        url
    }

    /// Connect as `user` (the URL's own when `None`) with `password`.
    pub fn connect(&self, user: Option<&str>, password: &str) -> AdminResult<Client> {
        let mut config = self.config.clone();
        let user = user.unwrap_or(self.user()).to_string();
        config
            .user(&user)
            .password(password)
            .application_name("clinicdesk")
            .connect_timeout(std::time::Duration::from_secs(15));
        config.connect(NoTls).map_err(|e| AdminError::Connect {
            user,
            reason: match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            },
        })
    }
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
