//! Staff, patients and their insurance.

use anyhow::{bail, Context, Result};
use clinicdesk_api::domain::*;

use super::{fields, flag_id, list_query, need};
use crate::cli::{Crud, InsuranceCmd, PatientCmd};
use crate::ctx::Ctx;

/// Staff profiles.
pub fn staff(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_staff(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Get { id } => out.row(&app.get_staff(s, StaffId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_staff(
            s,
            StaffId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_staff(s, StaffId::parse(id)?)?,
            "staff member removed",
        ),
        Crud::List(l) => out.rows(&app.list_staff(s, &list_query(l)?)?),
    }
}

/// Patients, their search and the CSV import.
pub fn patient(ctx: &Ctx, c: &PatientCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        PatientCmd::Create(a) => out.row(&app.create_patient(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        PatientCmd::Get { id } => out.row(&app.get_patient(s, PatientId::parse(id)?)?),
        PatientCmd::Update(a) => out.row(&app.update_patient(
            s,
            PatientId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        PatientCmd::Delete { id } => out.done(
            app.delete_patient(s, PatientId::parse(id)?)?,
            "patient record deleted",
        ),
        PatientCmd::List {
            clinic,
            limit,
            offset,
        } => out.rows(&app.list_patients(s, flag_id("--clinic", clinic)?, *limit, *offset)?),
        PatientCmd::Search { query, limit } => out.rows(&app.search_patients(s, query, *limit)?),
        PatientCmd::Import { file, clinic } => {
            let clinic = flag_id::<ClinicId>("--clinic", clinic)?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut last = std::time::Instant::now();
            let r = app.import_patients(s, clinic, &text, &mut |stage, done, total| {
                if !out.json && last.elapsed().as_millis() > 1000 {
                    eprintln!("  {stage}: {done}/{total}");
                    last = std::time::Instant::now();
                }
                true
            })?;
            if r.invalid > 0 {
                let listed: Vec<String> = r
                    .errors
                    .iter()
                    .map(|e| format!("line {}: {}", e.line, e.message))
                    .collect();
                let unlisted = r.invalid - r.errors.len() as u64;
                bail!(
                    "{} of {} rows are invalid, nothing was imported — {}{}",
                    r.invalid,
                    r.rows,
                    listed.join("; "),
                    if unlisted > 0 {
                        format!("; and {unlisted} more")
                    } else {
                        String::new()
                    }
                );
            }
            out.value(
                &r,
                &format!(
                    "imported {} patients; {} skipped (legacy_id imported before)",
                    r.imported, r.skipped
                ),
            )
        }
    }
}

/// A patient's insurance policies.
pub fn insurance(ctx: &Ctx, c: &InsuranceCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        InsuranceCmd::Add(a) => out.row(&app.add_patient_insurance(
            s,
            flag_id::<PatientId>("--patient", need(&a.patient, "--patient")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        InsuranceCmd::Update(a) => out.row(&app.update_patient_insurance(
            s,
            PatientInsuranceId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        InsuranceCmd::Delete { id } => out.done(
            app.delete_patient_insurance(s, PatientInsuranceId::parse(id)?)?,
            "policy removed",
        ),
        InsuranceCmd::List { patient } => {
            out.rows(&app.list_patient_insurance(s, flag_id::<PatientId>("--patient", patient)?)?)
        }
    }
}
