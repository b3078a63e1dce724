//! The sync server's admin commands (`server init|migrate|revoke-device`) and the enrolment of
//! this PC (`sync enrol`). The server owner's password is read once (CLINICDESK_SERVER_PASSWORD
//! or a line of standard input), used for one connection and never stored or printed.

use std::io::BufRead;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use clinicdesk_api::keys::{DbId, SecretPlace};
use clinicdesk_api::{ConflictResolution, SeededAt, SyncConnection};
use clinicdesk_server::admin::{self, Client, Device, ServerUrl};
use clinicdesk_sync::{engine, Settings};

use crate::cli::{ServerCmd, ServerUrlArg, SyncCmd};
use crate::ctx::Ctx;

/// The environment variable holding the server owner's password (automation).
const SERVER_PASSWORD_ENV: &str = "CLINICDESK_SERVER_PASSWORD";
/// Where the sync password is kept instead of the keyring (as `--sync-key-file` at enrolment).
const SYNC_KEY_FILE_ENV: &str = "CLINICDESK_SYNC_KEY_FILE";

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
            join: true,
            clinics,
            ..
        } => join(ctx, server, sync_key_file.clone(), clinics),
        SyncCmd::Enrol {
            server,
            sync_key_file,
            seed,
            ..
        } => enrol(ctx, server, sync_key_file.as_deref(), *seed),
        SyncCmd::Now => now(ctx),
        SyncCmd::Status => status(ctx),
        SyncCmd::Conflicts { all } => conflicts(ctx, *all),
        SyncCmd::Resolve {
            id,
            dismiss: _,
            waitlisted,
            rebooked,
            note,
        } => {
            let how = match (rebooked, waitlisted) {
                (Some(a), _) => ConflictResolution::Rebooked(a.clone()),
                (None, true) => ConflictResolution::Waitlisted,
                (None, false) => ConflictResolution::Dismissed,
            };
            let (app, s) = ctx.signed_in()?;
            let v = app.resolve_sync_conflict(s, id, &how, note.as_deref())?;
            let text = format!("conflict {} resolved: {}", v.id, v.message);
            let mut j = serde_json::to_value(&v)?;
            j["ok"] = true.into();
            ctx.out.value(&j, &text)
        }
    }
}

/// `sync conflicts [--all]`: the verdicts in front-desk words.
fn conflicts(ctx: &Ctx, all: bool) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let list = app.list_sync_conflicts(s, all)?;
    if ctx.out.json {
        return ctx.out.value(&list, "");
    }
    if list.is_empty() {
        crate::output::line(if all {
            "no sync conflicts"
        } else {
            "no open sync conflicts"
        });
        return Ok(());
    }
    for c in &list {
        crate::output::line(&format!("{}  {}", c.id, c.message));
    }
    eprintln!("{} conflict(s)", list.len());
    Ok(())
}

/// The sync settings of this (enrolled) database: its URL and the password kept for it.
fn settings(ctx: &Ctx) -> Result<Settings> {
    let app = ctx.app()?;
    let id = app.store().db_id()?;
    let file = std::env::var_os(SYNC_KEY_FILE_ENV).map(Into::into);
    let place = SecretPlace::sync(&ctx.key_source()?, &id, file);
    Ok(Settings::of(app.store(), &place)?)
}

/// `sync now`: push every pending change, then pull.
fn now(ctx: &Ctx) -> Result<()> {
    let settings = settings(ctx)?;
    let store = ctx.app()?.store();
    let mut pg = match settings.connect() {
        Ok(pg) => pg,
        Err(e) => {
            let _ = engine::record_outcome(store, Some(&e));
            return Err(e.into());
        }
    };
    let r = engine::sync_now(store, &mut pg)?;
    let text = format!(
        "pushed {} change(s) in {} batch(es); pulled {} row(s){}; server at {}",
        r.pushed_changes,
        r.pushed_batches,
        r.pulled_rows,
        if r.changed_tables.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.changed_tables.join(", "))
        },
        r.server_seq
    );
    let mut v = serde_json::to_value(&r)?;
    v["ok"] = true.into();
    v["message"] = text.clone().into();
    ctx.out.value(&v, &text)
}

/// `sync status`.
fn status(ctx: &Ctx) -> Result<()> {
    let s = engine::status(ctx.app()?.store())?;
    let text = if !s.enrolled {
        "this PC is not enrolled for sync".to_string()
    } else {
        format!(
            "server {}; {} pending change(s); last success {}{}",
            s.url.as_deref().unwrap_or_default(),
            s.pending_changes,
            s.last_ok_at
                .map_or("never".to_string(), |t| format!("at {t} ms")),
            s.last_error.as_ref().map_or(String::new(), |e| format!(
                "; last error ({}): {}",
                e.code, e.message
            ))
        ) + &s.clock_skew_ms.map_or(String::new(), |k| {
            format!("; server clock minus this PC's: {k} ms")
        }) + &engine::clock_warning(s.clock_skew_ms)
            .map_or(String::new(), |w| format!("\nWARNING: {w}"))
    };
    let mut v = serde_json::to_value(&s)?;
    v["message"] = text.clone().into();
    v["clock_warning"] = engine::clock_warning(s.clock_skew_ms).into();
    ctx.out.value(&v, &text)
}

/// `sync enrol --join`: a new database from the server's data, as a new device.
fn join(
    ctx: &Ctx,
    server: &ServerUrlArg,
    sync_key_file: Option<std::path::PathBuf>,
    clinics: &[String],
) -> Result<()> {
    let url = ServerUrl::parse(&server.url)?;
    let dest = ctx.db_path()?;
    let password = read_server_password()?;
    let keys = ctx.key_source()?;
    let j = clinicdesk_sync::join::join(&clinicdesk_sync::join::JoinRequest {
        dest: &dest,
        keys: &keys,
        sync_key_file,
        url: &url,
        owner_password: &password,
        clinics: (!clinics.is_empty()).then(|| clinics.to_vec()),
    })?;
    let text = format!(
        "joined: {} is a copy of the server's data ({} rows, server at {}) for {} clinic(s), as device {} (role {}); its sync password is kept in {}\n\n\
         RECOVERY KEY (shown this once; write it down or print it, keep it away from this PC):\n  {}",
        dest.display(),
        j.rows,
        j.server_seq,
        j.clinics.len(),
        j.device_id,
        j.role,
        j.password_place,
        j.recovery_key
    );
    ctx.out.value(
        &serde_json::json!({ "ok": true, "device_id": j.device_id, "database_id": j.database_id,
            "role": j.role, "url": j.url, "clinics": j.clinics, "rows": j.rows,
            "server_seq": j.server_seq, "phases": j.phases, "recovery_key": j.recovery_key.to_string(), "message": text }),
        &text,
    )
}

/// Enrol this PC (`clinicdesk_sync::enrol::enrol`): checked locally first (the owner of every
/// clinic, not enrolled yet), then the server and this PC's side (password, connection) with
/// the server's transaction committed last.
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
    let password = read_server_password()?;
    let done = clinicdesk_sync::enrol::enrol(
        &clinicdesk_sync::enrol::EnrolRequest {
            store: app.store(),
            url: &url,
            owner_password: &password,
            place: &place,
            device: &device,
            clinics: &clinics,
            seed,
        },
        |local| {
            let conn = SyncConnection {
                url: local.url.to_string(),
                role: local.role.to_string(),
            };
            let seeded = local.seeded.map(|(push_acked_seq, server_seq)| SeededAt {
                push_acked_seq,
                server_seq,
            });
            app.record_sync_connection(s, &conn, seeded)
                .map_err(|e| e.to_string())
        },
    )?;
    let text = format!(
        "this PC is enrolled as device {device} (role {}, {} clinic(s){}); its sync password is kept in {}",
        done.role,
        clinics.len(),
        done.seeded_rows.map_or(String::new(), |n| format!("; {n} rows seeded")),
        done.password_place
    );
    ctx.out.value(
        &serde_json::json!({ "ok": true, "device_id": device.to_string(), "role": done.role,
            "url": done.url, "clinics": clinics, "seeded_rows": done.seeded_rows, "message": text }),
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
