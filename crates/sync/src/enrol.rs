//! Enrolment of an existing database as a device (SYNC.md §4.3; `clinicdesk sync enrol`
//! without `--join`, and the desktop's Admin → Sync) and what the server's owner does about
//! devices from a PC: test the connection, list the devices, revoke one. The owner's password
//! is given for one call, used for one connection and never stored; the device's password goes
//! to its [`SecretPlace`] (the OS keyring or a key file) only.

use clinicdesk_server::admin::{self, AdminError, Client};
pub use clinicdesk_server::admin::{DeviceInfo, ServerUrl};
pub use clinicdesk_store::DeviceId;
use clinicdesk_store::{SecretPlace, Store};
use serde::Serialize;

use crate::{engine, pull, Result, SyncError};

/// Connect to the server as the URL's user (its owner) with `password`; a refused password is
/// [`SyncError::OwnerPassword`].
pub fn connect_owner(url: &ServerUrl, password: &str) -> Result<Client> {
    url.connect(None, password).map_err(|e| match e {
        AdminError::Connect { user, reason } if crate::is_auth_failure(&reason) => {
            SyncError::OwnerPassword(format!("{user}: {reason}"))
        }
        e => e.into(),
    })
}

/// What a connection test found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's identity (`sync.clock.server_id`).
    pub server_id: String,
    /// The last server migration applied.
    pub schema_version: i64,
    /// PostgreSQL's `server_version`.
    pub postgres_version: String,
    /// The server's clock minus this PC's (ms).
    pub clock_skew_ms: i64,
    /// The devices enrolled (revoked ones included).
    pub devices: i64,
}

/// Connect as the owner and read who the server is; nothing is written anywhere.
pub fn test_connection(url: &ServerUrl, owner_password: &str) -> Result<ServerInfo> {
    let mut pg = connect_owner(url, owner_password)?;
    let initialised: bool = pg
        .query_one("SELECT to_regclass('sync.clock') IS NOT NULL", &[])
        .map_err(AdminError::from)?
        .get(0);
    if !initialised {
        return Err(SyncError::Protocol(
            "the server's database holds no ClinicDesk schema: run `clinicdesk server init` first"
                .into(),
        ));
    }
    let (_, server_id) = pull::clock(&mut pg)?;
    let row = pg
        .query_one(
            "SELECT current_setting('server_version'),
                    (SELECT coalesce(max(version), 0)::bigint FROM refinery_schema_history),
                    (SELECT count(*) FROM sync.devices)",
            &[],
        )
        .map_err(AdminError::from)?;
    Ok(ServerInfo {
        server_id,
        postgres_version: row.get(0),
        schema_version: row.get(1),
        devices: row.get(2),
        clock_skew_ms: engine::measure_skew(&mut pg)?,
    })
}

/// Every device the server knows, oldest first.
pub fn list_devices(url: &ServerUrl, owner_password: &str) -> Result<Vec<DeviceInfo>> {
    let mut pg = connect_owner(url, owner_password)?;
    Ok(admin::list_devices(&mut pg)?)
}

/// Revoke `device` at once (see [`admin::revoke_device`]).
pub fn revoke_device(
    url: &ServerUrl,
    owner_password: &str,
    device: &DeviceId,
) -> Result<admin::Revoked> {
    let mut pg = connect_owner(url, owner_password)?;
    Ok(admin::revoke_device(&mut pg, device)?)
}

/// What enrolling an existing database needs; the caller checked the local side first (the
/// owner of every clinic, not enrolled yet) and gives this PC's device id and clinics.
pub struct EnrolRequest<'a> {
    pub store: &'a Store,
    /// The server as its owner (`postgres://owner@host:port/db`).
    pub url: &'a ServerUrl,
    pub owner_password: &'a str,
    /// Where the device's password is to be kept.
    pub place: &'a SecretPlace,
    pub device: &'a DeviceId,
    pub clinics: &'a [String],
    /// Copy every local row to the (empty) server: the first PC only.
    pub seed: bool,
}

/// What the caller records locally, in the database, before the server commits.
pub struct LocalSide<'a> {
    /// The server as this device's role (no password).
    pub url: &'a str,
    pub role: &'a str,
    /// After a seed: the last local change the server holds, and the server's clock.
    pub seeded: Option<(i64, i64)>,
}

/// What [`enrol`] did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Enrolled {
    pub device_id: String,
    pub role: String,
    /// The server as this device's role (no password).
    pub url: String,
    pub clinics: Vec<String>,
    pub seeded_rows: Option<u64>,
    /// Where the device's password is kept (words, no secret).
    pub password_place: String,
}

/// Enrol this PC: refused, changing nothing, when `place` already holds a password; then the
/// device's role and row on the server in one transaction (with `seed`, every local row from
/// one SQLite snapshot), then its password (`place`) and `record` (this PC's database) while
/// the server's transaction is still open, then the server commits. A local step that fails
/// rolls the server back (and removes the password kept).
pub fn enrol(
    req: &EnrolRequest<'_>,
    record: impl FnOnce(&LocalSide<'_>) -> std::result::Result<(), String>,
) -> Result<Enrolled> {
    let place = req.place;
    if place.get()?.is_some() {
        return Err(SyncError::Enrol(format!(
            "{} already holds a sync password; it was not overwritten (nothing was changed)",
            place.describe()
        )));
    }
    let mut owner = connect_owner(req.url, req.owner_password)?;
    let enrolment = if req.seed {
        // One SQLite snapshot for the rows and the push watermark.
        req.store.read(|c| -> Result<_> {
            let snapshot = c
                .unchecked_transaction()
                .map_err(clinicdesk_store::StoreError::from)?;
            let from = admin::Seed {
                local: &snapshot,
                // At least the wall clock: a database filled in bulk has captured nothing.
                hlc: req.store.hlc().tick(wall_ms()),
            };
            Ok(admin::enrol_device(
                &mut owner,
                req.device,
                req.clinics,
                Some(&from),
            )?)
        })?
    } else {
        admin::enrol_device(&mut owner, req.device, req.clinics, None)?
    };
    let creds = &enrolment.credentials;
    let seeded = enrolment.seeded.clone();
    let url = req.url.with_user(&creds.role);
    let role = creds.role.clone();
    // This PC's side first, while the server's transaction is open: a failure here drops the
    // enrolment, which rolls the server back.
    place
        .put_new(&creds.password)
        .map_err(|e| SyncError::Enrol(format!("enrolment rolled back on the server: {e}")))?;
    if let Err(e) = record(&LocalSide {
        url: &url,
        role: &role,
        seeded: seeded.as_ref().map(|x| (x.push_acked_seq, x.server_seq)),
    }) {
        let mut msg = format!("enrolment rolled back on the server: {e}");
        if let Err(u) = place.remove() {
            msg.push_str(&format!("; and removing {} failed ({u})", place.describe()));
        }
        return Err(SyncError::Enrol(msg));
    }
    enrolment.commit().map_err(|e| {
        SyncError::Enrol(format!(
            "the server did not commit the enrolment ({e}), but this PC recorded it ({url} and {}): run `clinicdesk server revoke-device --device {}` and restore this database from a backup before enrolling again",
            place.describe(),
            req.device
        ))
    })?;
    Ok(Enrolled {
        device_id: req.device.to_string(),
        role,
        url,
        clinics: req.clinics.to_vec(),
        seeded_rows: seeded.map(|x| x.rows),
        password_place: place.describe(),
    })
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
