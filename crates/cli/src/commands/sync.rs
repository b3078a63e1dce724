//! The sync server's admin commands (`server init|migrate|revoke-device`) and the enrolment of
//! this PC (`sync enrol`). The server owner's password is read once (CLINICDESK_SERVER_PASSWORD
//! or a line of standard input), used for one connection and never stored or printed.

use std::io::BufRead;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use clinicdesk_api::keys::{DbId, SecretPlace};
use clinicdesk_api::SyncConnection;
use clinicdesk_server::admin::{self, Client, Device, ServerUrl};

use crate::cli::{ServerCmd, ServerUrlArg, SyncCmd};
use crate::ctx::Ctx;

/// The environment variable holding the server owner's password (automation).
const SERVER_PASSWORD_ENV: &str = "CLINICDESK_SERVER_PASSWORD";

pub fn server(ctx: &Ctx, cmd: &ServerCmd) -> Result<()> {
    match cmd {
        ServerCmd::Init(a) | ServerCmd::Migrate(a) => {
            let url = ServerUrl::parse(&a.url)?;
            let mut owner = connect_owner(&url)?;
            let applied = clinicdesk_server::migrate(&mut owner)?;
            let text = if applied.is_empty() {
                "the server schema is up to date; nothing to apply".to_string()
            } else {
                format!("applied server migrations {applied:?}")
            };
            ctx.out.value(
                &serde_json::json!({ "ok": true, "applied": applied, "message": text }),
                &text,
            )
        }
        ServerCmd::RevokeDevice { server, device } => {
            let device: Device = device
                .parse()
                .map_err(|_| anyhow!("{device:?} is not a device id"))?;
            let mut owner = connect_owner(&ServerUrl::parse(&server.url)?)?;
            let r = admin::revoke_device(&mut owner, &device)?;
            let text = format!(
                "device {device} is revoked (role {}; {} open session(s) terminated)",
                r.role, r.terminated
            );
            ctx.out.value(
                &serde_json::json!({ "ok": true, "device_id": device.to_string(), "role": r.role,
                    "terminated": r.terminated, "message": text }),
                &text,
            )
        }
    }
}

pub fn sync(ctx: &Ctx, cmd: &SyncCmd) -> Result<()> {
    match cmd {
        SyncCmd::Enrol {
            server,
            sync_key_file,
            seed,
        } => enrol(ctx, server, sync_key_file.as_deref(), *seed),
    }
}

/// Enrol this PC: checked locally first (the owner of every clinic, not enrolled yet, no sync
/// password kept yet), then the device's role and row on the server in one transaction, then
/// its password (keyring or file) and its connection (the database) while the server's
/// transaction is still open, then the server commits; a local step that fails rolls it back.
fn enrol(ctx: &Ctx, server: &ServerUrlArg, sync_key_file: Option<&Path>, seed: bool) -> Result<()> {
    let url = ServerUrl::parse(&server.url)?;
    let (app, s) = ctx.signed_in()?;
    let e = app.sync_enrolment(s)?;
    let place = SecretPlace::sync(
        &ctx.key_source()?,
        &DbId::parse(&e.database_id)?,
        sync_key_file.map(Path::to_path_buf),
    );
    if place.get()?.is_some() {
        bail!(
            "{} already holds a sync password; it was not overwritten (nothing was changed)",
            place.describe()
        );
    }
    let device: Device = e.device_id.parse().map_err(|e| anyhow!("{e}"))?;
    let clinics: Vec<String> = e.clinics.iter().map(ToString::to_string).collect();
    let mut owner = connect_owner(&url)?;
    let enrolment = if seed {
        // One SQLite snapshot for the rows and the push watermark.
        app.store().read(|c| -> Result<_> {
            let snapshot = c.unchecked_transaction()?;
            let from = admin::Seed {
                local: &snapshot,
                hlc: app.store().hlc(),
            };
            Ok(admin::enrol_device(
                &mut owner,
                &device,
                &clinics,
                Some(&from),
            )?)
        })?
    } else {
        admin::enrol_device(&mut owner, &device, &clinics, None)?
    };
    let creds = &enrolment.credentials;
    let seeded = enrolment.seeded.clone();
    let conn = SyncConnection {
        url: url.with_user(&creds.role),
        role: creds.role.clone(),
    };
    // This PC's side first, while the server's transaction is open: a failure here drops the
    // enrolment, which rolls the server back.
    place
        .put_new(&creds.password)
        .context("enrolment rolled back on the server")?;
    if let Err(e) = app.record_sync_connection(s, &conn, seeded.as_ref().map(|x| x.push_acked_seq))
    {
        let undo = place.remove();
        let err = anyhow::Error::from(e).context("enrolment rolled back on the server");
        return Err(match undo {
            Ok(()) => err,
            Err(u) => err.context(format!("and removing {} failed ({u})", place.describe())),
        });
    }
    let role = creds.role.clone();
    enrolment.commit().with_context(|| {
        format!(
            "the server did not commit the enrolment, but this PC recorded it ({} and {}): run `clinicdesk server revoke-device --device {device}` and restore this database from a backup before enrolling again",
            conn.url,
            place.describe()
        )
    })?;
    let seeded_rows = seeded.as_ref().map(|x| x.rows);
    let text = format!(
        "this PC is enrolled as device {device} (role {}, {} clinic(s){}); its sync password is kept in {}",
        role,
        clinics.len(),
        seeded_rows.map_or(String::new(), |n| format!("; {n} rows seeded")),
        place.describe()
    );
    ctx.out.value(
        &serde_json::json!({ "ok": true, "device_id": device.to_string(), "role": role,
            "url": conn.url, "clinics": clinics, "seeded_rows": seeded_rows, "message": text }),
        &text,
    )
}

/// Connect as the URL's owner with the password typed once.
fn connect_owner(url: &ServerUrl) -> Result<Client> {
    let password = read_server_password()?;
    Ok(url.connect(None, &password)?)
}

/// CLINICDESK_SERVER_PASSWORD, else the next line of standard input. Never an argument.
fn read_server_password() -> Result<String> {
    if let Ok(p) = std::env::var(SERVER_PASSWORD_ENV) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the server owner's password from standard input")?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("no server owner password given: set {SERVER_PASSWORD_ENV} or pass it on standard input");
    }
    Ok(p)
}
