//! `export …`, `import fhir`, `availability import-ical`: the interop crate's operations.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;
use clinicdesk_api::domain::{ClinicId, PatientId, StaffId};
use clinicdesk_interop::fhir::{
    export_fhir, import_fhir, patient_bundle, ExportOptions, RESOURCE_TYPES,
};
use clinicdesk_interop::ical::{export_ics, import_holidays, CalendarOf, IcsOptions};

use super::flag_id;
use crate::cli::{ExportCmd, ImportCmd};
use crate::ctx::Ctx;
use crate::output;

/// A date flag (YYYY-MM-DD), refused naming the flag.
pub fn date_flag(flag: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("{flag}: '{}' is not a date (use YYYY-MM-DD)", v.trim()))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn export(ctx: &Ctx, c: &ExportCmd) -> Result<()> {
    match c {
        ExportCmd::Fhir {
            out,
            from,
            to,
            slot_minutes,
            as_of,
        } => {
            let slots = match (from, to) {
                (Some(f), to) => {
                    let f = date_flag("--from", f)?;
                    let t = match to {
                        Some(t) => date_flag("--to", t)?,
                        None => f + chrono::Duration::days(13),
                    };
                    Some((f, t))
                }
                (None, Some(_)) => return Err(anyhow!("--to needs --from")),
                (None, None) => None,
            };
            let as_of = match as_of {
                Some(d) => date_flag("--as-of", d)?,
                None => chrono::Utc::now().date_naive(),
            };
            let opts = ExportOptions {
                now_ms: now_ms(),
                as_of,
                slots,
                slot_minutes: *slot_minutes,
            };
            let (app, s) = ctx.signed_in()?;
            // Every file it would write (the key file too, which the API does not know).
            for t in RESOURCE_TYPES {
                ctx.check_destination(&out.join(format!("{t}.ndjson")))?;
            }
            ctx.check_destination(&out.join("manifest.json"))?;
            let json = ctx.out.json;
            let mut last = std::time::Instant::now();
            let r = export_fhir(app, s, out, &opts, &mut |stage, done, _| {
                if !json && last.elapsed().as_millis() > 1000 {
                    eprintln!("  {stage}: {done} resources");
                    last = std::time::Instant::now();
                }
                true
            })?;
            if !json {
                for (t, name, n) in &r.files {
                    output::line(&format!("{t:<17} {n:>9}  {}", out.join(name).display()));
                }
            }
            ctx.out.value(
                &r,
                &format!("{} resources exported to {}", r.total, out.display()),
            )
        }
        ExportCmd::PatientBundle { patient, out } => {
            let id = flag_id::<PatientId>("--patient", patient)?;
            let (app, s) = ctx.signed_in()?;
            let destination = destination(ctx, out)?;
            let bundle = patient_bundle(app, s, id, now_ms(), &destination)?;
            let text = serde_json::to_string_pretty(&bundle)?;
            match out {
                Some(p) => {
                    ctx.write_export(p, text.as_bytes())?;
                    let n = bundle["entry"].as_array().map_or(0, Vec::len);
                    ctx.out
                        .ok(&format!("{n} resources written to {}", p.display()))
                }
                None => {
                    output::line(&text);
                    Ok(())
                }
            }
        }
        ExportCmd::Ical {
            provider,
            staff,
            from,
            to,
            out,
            private,
        } => {
            let of = match (provider, staff) {
                (Some(p), None) => CalendarOf::Appointments(flag_id::<StaffId>("--provider", p)?),
                (None, Some(st)) => CalendarOf::Shifts(flag_id::<StaffId>("--staff", st)?),
                _ => {
                    return Err(anyhow!(
                        "give either --provider (appointments) or --staff (shifts)"
                    ))
                }
            };
            let opts = IcsOptions {
                from: date_flag("--from", from)?,
                to: date_flag("--to", to)?,
                private: *private,
                now_ms: now_ms(),
            };
            let (app, s) = ctx.signed_in()?;
            let destination = destination(ctx, out)?;
            let ics = export_ics(app, s, of, &opts, &destination)?;
            match out {
                Some(p) => {
                    ctx.write_export(p, ics.text.as_bytes())?;
                    ctx.out.value(
                        &serde_json::json!({ "events": ics.events, "file": p }),
                        &format!("{} events written to {}", ics.events, p.display()),
                    )
                }
                None => {
                    print!("{}", ics.text);
                    Ok(())
                }
            }
        }
    }
}

/// Where an export goes, for its audit entry (a file is checked first: never the database).
fn destination(ctx: &Ctx, out: &Option<PathBuf>) -> Result<String> {
    Ok(match out {
        Some(p) => {
            ctx.check_destination(p)?;
            p.display().to_string()
        }
        None => "standard output".to_string(),
    })
}

/// `availability import-ical FILE --clinic ID`.
pub fn import_ical(ctx: &Ctx, file: &Path, clinic: &str) -> Result<()> {
    let clinic = flag_id::<ClinicId>("--clinic", clinic)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (app, s) = ctx.signed_in()?;
    let r = import_holidays(app, s, clinic, &text)?;
    if r.ignored > 0 && !ctx.out.json {
        eprintln!(
            "{} timed events are not closures and were left out",
            r.ignored
        );
    }
    super::scheduling::closures_done(&ctx.out, &r.closures)
}

/// `import fhir FILE… --clinic ID`.
pub fn import(ctx: &Ctx, c: &ImportCmd) -> Result<()> {
    let ImportCmd::Fhir { files, clinic } = c;
    let clinic = flag_id::<ClinicId>("--clinic", clinic)?;
    let mut paths = Vec::new();
    for f in files {
        if f.is_dir() {
            for t in ["Patient", "Practitioner", "Location", "Appointment"] {
                let p = f.join(format!("{t}.ndjson"));
                if p.exists() {
                    paths.push(p);
                }
            }
        } else {
            paths.push(f.clone());
        }
    }
    if paths.is_empty() {
        return Err(anyhow!(
            "no Patient, Practitioner, Location or Appointment file in {}",
            files[0].display()
        ));
    }
    let mut sources = Vec::new();
    for p in &paths {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        sources.push((p.display().to_string(), text));
    }
    let (app, s) = ctx.signed_in()?;
    let json = ctx.out.json;
    let mut last = std::time::Instant::now();
    let r = import_fhir(app, s, clinic, &sources, &mut |stage, done, total| {
        if !json && last.elapsed().as_millis() > 1000 {
            eprintln!("  {stage}: {done}/{total}");
            last = std::time::Instant::now();
        }
        true
    })?;
    let m = &r.result;
    if m.invalid > 0 {
        if json {
            ctx.out.value(&r, "")?;
        }
        return Err(anyhow!(
            "{} of {} resources are invalid, nothing was imported:\n{}",
            m.invalid,
            m.records,
            error_lines(&m.errors, m.invalid)
        ));
    }
    ctx.out.value(
        &r,
        &format!(
            "imported {} patients, {} practitioners, {} rooms, {} appointments; {} already there, {} context resources ignored",
            m.patients, m.staff, m.rooms, m.appointments, m.skipped, r.ignored
        ),
    )
}

/// The errors shown in a terminal: one a line, the first `SHOWN_ERRORS`, then how many more.
fn error_lines(errors: &[clinicdesk_api::MigrationError], invalid: u64) -> String {
    const SHOWN_ERRORS: usize = 20;
    let mut out: Vec<String> = errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(|e| format!("  line {} {}: {}", e.line, e.path, e.message))
        .collect();
    let more = invalid.saturating_sub(out.len() as u64);
    if more > 0 {
        out.push(format!(
            "  … and {more} more (--json lists the first {})",
            errors.len()
        ));
    }
    out.join("\n")
}
