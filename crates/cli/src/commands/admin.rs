//! Backup, restore, the audit log, the idle lock, housekeeping and the benchmarks.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use clinicdesk_api::AuditQuery;
use clinicdesk_bench as bench;

use crate::cli::{AuditCmd, BenchArgs, DbCmd};
use crate::ctx::Ctx;

pub fn backup(ctx: &Ctx, file: &Path) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    app.backup(s, file, |_, _| true)?;
    ctx.out.ok(&format!("backup written to {}", file.display()))
}

pub fn restore(ctx: &Ctx, file: &Path) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    app.restore(s, file, |_, _| true)?;
    ctx.out.ok(&format!("restored from {}", file.display()))
}

/// A new database at --db from a backup and its recovery key (a new PC).
pub fn restore_new(ctx: &Ctx, file: &Path) -> Result<()> {
    let path = ctx.db_path()?;
    let rk = match std::env::var("CLINICDESK_RECOVERY_KEY") {
        Ok(k) => k,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the recovery key from standard input")?;
            line
        }
    };
    if rk.trim().is_empty() {
        bail!("no recovery key given: set CLINICDESK_RECOVERY_KEY or pass it on standard input");
    }
    clinicdesk_api::restore_with_recovery_key(file, &rk, &path, &ctx.key_source()?)?;
    ctx.out.ok(&format!(
        "restored {} into the new database {}",
        file.display(),
        path.display()
    ))
}

/// A new recovery kit in a new file (mode 0600). The file is created before the key is
/// replaced, so a path that cannot be written changes nothing.
pub fn recovery_kit(ctx: &Ctx, out: &Path) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    let kit = match app.recovery_kit(s) {
        Ok(k) => k,
        Err(e) => {
            drop(f);
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
    };
    let written = f
        .write_all(kit.text().as_bytes())
        .and_then(|()| f.sync_all());
    if let Err(e) = written {
        // The old recovery key no longer opens new backups: the new one must not be lost.
        bail!(
            "cannot write {} ({e}); the new recovery key is {}: write it down now",
            out.display(),
            kit.recovery_key
        );
    }
    ctx.out.ok(&format!(
        "recovery kit written to {}: print it and keep it away from this PC; the previous recovery key no longer opens new backups",
        out.display()
    ))
}

pub fn housekeeping(ctx: &Ctx) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let r = app.run_housekeeping_as(s)?;
    let c = &r.credentials;
    ctx.out.value(
        &r,
        &format!(
            "{} clinics: {} lapsed offers passed on; credentials: {} expired, {} alerts, {} coverage needs raised; {} capacity snapshots",
            r.clinics, r.offers_expired, c.expired, c.alerts_raised, c.coverage_needs_raised, r.capacity_snapshots
        ),
    )
}

pub fn audit(ctx: &Ctx, c: &AuditCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        AuditCmd::Verify { verification_key } => {
            let key = verification_key
                .as_deref()
                .map(read_verification_key)
                .transpose()?;
            let r = app.verify_audit_with(s, key.as_ref())?;
            let seals = match (r.seals_checked, r.sealed_through) {
                (true, Some(t)) => format!("{} seals verified through entry {t}", r.seals),
                (true, None) => "no seals yet".to_string(),
                (false, _) => format!("{} seals NOT checked (pass --verification-key)", r.seals),
            };
            let mut summary = format!(
                "{} entries, {} rows checked; {seals}; {} entries not yet sealed",
                r.entries, r.rows_checked, r.unsealed_entries
            );
            // Anchored off this PC (an enrolled PC reports its head after each sync round).
            let anchor = clinicdesk_sync::anchor::status(app.store())?;
            let changed = clinicdesk_sync::anchor::anchored_entry_changed(app.store(), &anchor)?;
            if let Some(a) = &anchor.last {
                summary.push_str(&format!(
                    "; anchored on the sync server through entry {} ({})",
                    a.seq,
                    crate::output::when(a.at)
                ));
            }
            let mut json = serde_json::to_value(&r)?;
            json["anchor"] = serde_json::to_value(&anchor)?;
            json["anchored_entry_changed"] = changed.into();
            let mut problems: Vec<String> = r.problems.clone();
            if let Some(f) = &anchor.flag {
                problems.push(format!(
                    "the sync server flagged this PC's audit history on {}: {} (it no longer leads to the entry it reported before)",
                    crate::output::when(f.at),
                    f.verdict.replace('_', " ")
                ));
            }
            if changed {
                problems.push(
                    "the entry last anchored on the sync server is no longer what was reported"
                        .to_string(),
                );
            }
            if !problems.is_empty() {
                json["ok"] = false.into();
                let mut text = format!("{summary}\nproblems:");
                for p in &problems {
                    text.push_str(&format!("\n  {p}"));
                }
                out.value(&json, &text)?;
                let reason = r.reason.clone().unwrap_or_else(|| problems[0].clone());
                match r.first_broken_seq {
                    Some(seq) => bail!("the audit chain is broken at entry {seq}: {reason}"),
                    None => bail!("the audit log failed verification: {reason}"),
                }
            }
            out.value(&json, &format!("audit log intact: {summary}"))
        }
        AuditCmd::Seal => match app.seal_audit(s)? {
            Some(seal) => out.value(
                &seal,
                &format!(
                    "sealed entries {}-{} (seal {})",
                    seal.from_seq, seal.to_seq, seal.epoch
                ),
            ),
            None => out.ok("nothing to seal: no entries since the last seal"),
        },
        AuditCmd::RepairTriggers => {
            let repaired = app.repair_audit_triggers(s)?;
            if repaired.is_empty() {
                out.ok("the triggers are those of this version: nothing to repair")
            } else {
                out.value(
                    &repaired,
                    &format!("re-created from this version: {}", repaired.join("; ")),
                )
            }
        }
        AuditCmd::List {
            table,
            row,
            action,
            limit,
        } => {
            let q = AuditQuery {
                table_name: table.clone(),
                row_id: row.clone(),
                action: action.clone(),
                limit: *limit,
                ..Default::default()
            };
            out.rows(&app.list_audit(s, &q)?)
        }
    }
}

/// Read the idle lock (no sign-in), or set it (admins).
pub fn idle_timeout(ctx: &Ctx, minutes: Option<i64>) -> Result<()> {
    let m = match minutes {
        Some(m) => {
            let (app, s) = ctx.signed_in()?;
            app.set_idle_timeout(s, m)?
        }
        None => ctx.app()?.get_idle_timeout()?,
    };
    ctx.out.value(
        &serde_json::json!({ "idle_timeout_minutes": m }),
        &format!("idle lock after {m} minutes"),
    )
}

pub fn bench(ctx: &Ctx, a: &BenchArgs) -> Result<()> {
    let path = ctx.db_path()?;
    let options = bench::BenchOptions {
        iterations: a.iterations,
        postgres: !a.no_postgres,
    };
    let r = bench::run_bench_with(&path, &ctx.key_source()?, &options)?;
    let text = r.render();
    std::fs::write(&a.report, serde_json::to_string_pretty(&r)?)
        .with_context(|| format!("cannot write {}", a.report.display()))?;
    ctx.out.value(
        &r,
        &format!("{text}\nreport written to {}", a.report.display()),
    )
}

/// `db check`: each check's result; exit code 1 when any fails.
pub fn db(ctx: &Ctx, c: &DbCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    match c {
        DbCmd::Check => {
            let r = app.check_database(s)?;
            let mut failed = Vec::new();
            for (name, check) in [
                ("integrity_check", &r.integrity),
                ("cipher_integrity_check", &r.cipher_integrity),
                ("audit verify", &r.audit),
            ] {
                // SQLite may report a line per damaged page: the first few say enough.
                let mut what = check.messages.iter().take(3).cloned().collect::<Vec<_>>();
                if check.messages.len() > 3 {
                    what.push(format!("and {} more", check.messages.len() - 3));
                }
                let what = if what.is_empty() {
                    "ok".to_string()
                } else {
                    what.join("; ").replace('\n', " ")
                };
                if !ctx.out.json {
                    crate::output::line(&format!(
                        "{name}: {}{}",
                        if check.ok { "passed" } else { "FAILED" },
                        if check.ok && what == "ok" {
                            String::new()
                        } else {
                            format!(" ({what})")
                        }
                    ));
                }
                if !check.ok {
                    failed.push(name);
                }
            }
            if !failed.is_empty() {
                if ctx.out.json {
                    ctx.out.value(&r, "")?;
                }
                bail!("the database check failed: {}", failed.join(", "));
            }
            ctx.out.value(&r, "database check passed")
        }
    }
}

/// A verification key given as 64 hex digits, or @FILE holding them (kept out of the shell's
/// history and the process list).
fn read_verification_key(arg: &str) -> Result<clinicdesk_api::SealKey> {
    let text = match arg.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the verification key from {file}"))?,
        None => arg.to_string(),
    };
    Ok(clinicdesk_api::SealKey::from_hex(&text)?)
}
