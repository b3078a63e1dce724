//! `init` and `demo`: the commands that create a database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clinicdesk_api::domain::*;
use clinicdesk_api::{App, Fields, SealKey, Store};
use clinicdesk_demo as demo;

use crate::cli::InitArgs;
use crate::ctx::{read_password, Ctx};

/// A new database with its first clinic and admin; nothing is left behind when it fails.
pub fn init(ctx: &Ctx, a: &InitArgs) -> Result<()> {
    let out = &ctx.out;
    let path = ctx.db_path()?;
    // Validate everything before creating any file.
    let f = Fields::new()
        .with("name", &a.clinic_name)
        .with("code", &a.clinic_code)
        .with("timezone", &a.timezone);
    ClinicCode::parse(&a.clinic_code)?;
    TimeZoneName::parse(&a.timezone)?;
    Name::parse("clinic name", &a.clinic_name)?;
    Username::parse(&a.admin)?;
    let pw = read_password()?;
    validate_password(&pw)?;
    let store = Store::create(&path, &ctx.key_source()?)?;
    let k0 = store.take_initial_seal_key();
    let app = App::new(Arc::new(store));
    match app.initialise(&f, &a.admin, &pw) {
        Ok(r) => out.value(
            &with_verification_key(&r, k0.as_ref())?,
            &format!(
                "created {} with clinic {} ({}) and admin {}\n\n\
                 RECOVERY KEY (shown this once; write it down or print it, keep it away from \
                 this PC):\n  {}\nWith it, a backup restores on a new PC \
                 (`clinicdesk restore-new`). `clinicdesk recovery-kit` replaces it.{}",
                path.display(),
                r.clinic.name,
                r.clinic.code,
                r.admin.username,
                r.recovery_key,
                verification_key_note(k0.as_ref())
            ),
        ),
        Err(e) => {
            drop(app);
            remove_db(&path);
            Err(e.into())
        }
    }
}

/// Demo data into a new (or existing) database.
pub fn demo(ctx: &Ctx, size: &str) -> Result<()> {
    let out = &ctx.out;
    let size = demo::DemoSize::parse(size)?;
    let path = ctx.db_path()?;
    let pw = read_password()?;
    validate_password(&pw)?;
    let created = !path.exists();
    let store = if created {
        Store::create(&path, &ctx.key_source()?)?
    } else {
        Store::open(&path, &ctx.key_source()?)?
    };
    let k0 = store.take_initial_seal_key();
    let mut last = std::time::Instant::now();
    let r = demo::generate_demo(&store, size, &pw, &mut |stage, done, total| {
        if !out.json && last.elapsed().as_millis() > 1000 {
            eprintln!("  {stage}: {done}/{total}");
            last = std::time::Instant::now();
        }
        true
    });
    // A new demo database gets its recovery key like any new database (on standard error, so
    // the report stays the only thing on standard output).
    let r = r.and_then(|r| {
        if created {
            let rk = store.new_recovery_key(None)?;
            eprintln!(
                "recovery key (shown this once; `clinicdesk recovery-kit` replaces it): {rk}"
            );
        }
        Ok(r)
    });
    match r {
        Ok(r) => out.value(
            &with_verification_key(&r, k0.as_ref())?,
            &format!(
                "generated {} rows in {:.1} s ({:.0} rows/s); sign in as {}{}",
                r.rows_total,
                r.seconds,
                r.rows_per_second,
                r.admin_username,
                verification_key_note(k0.as_ref())
            ),
        ),
        Err(e) => {
            drop(store);
            if created {
                remove_db(&path);
            }
            Err(e.into())
        }
    }
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The audit verification key, shown once where the database was created: it is kept nowhere
/// else (see `clinicdesk audit verify --verification-key`).
fn verification_key_note(k0: Option<&SealKey>) -> String {
    k0.map(|k| {
        format!(
            "\naudit verification key (shown once; keep it off this PC, e.g. printed with the recovery papers): {}",
            k.to_hex()
        )
    })
    .unwrap_or_default()
}

/// `value` as JSON with `audit_verification_key` added when there is one.
fn with_verification_key<T: serde::Serialize>(
    value: &T,
    k0: Option<&SealKey>,
) -> Result<serde_json::Value> {
    let mut j = serde_json::to_value(value)?;
    if let (Some(k), Some(o)) = (k0, j.as_object_mut()) {
        o.insert("audit_verification_key".into(), k.to_hex().into());
    }
    Ok(j)
}
