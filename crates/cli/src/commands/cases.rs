//! Cases, their links to appointments and case numbers.

use anyhow::{bail, Result};
use clinicdesk_api::domain::*;

use super::{fields, flag_id, need};
use crate::cli::CaseCmd;
use crate::ctx::Ctx;
use crate::output;

/// Cases and case numbers.
pub fn case(ctx: &Ctx, c: &CaseCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        CaseCmd::Create(a) => out.row(&app.create_case(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        CaseCmd::Get { id } => out.row(&app.get_case(s, CaseId::parse(id)?)?),
        CaseCmd::List { clinic, status } => {
            let l = app.list_cases(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                status.as_deref(),
            )?;
            if !out.json {
                for c in &l {
                    output::line(&format!(
                        "{}  {}  {}  {}",
                        c.case_number, c.status, c.priority, c.id
                    ));
                }
            }
            out.value(&l, &format!("{} cases", l.len()))
        }
        CaseCmd::Update(a) => out.row(&app.update_case(
            s,
            CaseId::parse(need(&a.id, "CASE_ID")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        CaseCmd::Status { id, status } => {
            out.row(&app.set_case_status(s, CaseId::parse(id)?, status)?)
        }
        CaseCmd::Priority { id, priority } => {
            out.row(&app.set_case_priority(s, CaseId::parse(id)?, priority)?)
        }
        CaseCmd::Link {
            appointment,
            case,
            unlink,
        } => {
            let case = match (case, unlink) {
                (Some(c), false) => Some(flag_id::<CaseId>("--case", c)?),
                (None, true) => None,
                _ => bail!("give --case CASE_ID or --unlink"),
            };
            out.row(&app.link_appointment_to_case(s, AppointmentId::parse(appointment)?, case)?)
        }
        CaseCmd::Warnings { clinic, days } => {
            let l = app.case_warnings(s, flag_id::<ClinicId>("--clinic", clinic)?, *days)?;
            if !out.json {
                for w in &l {
                    output::line(&w.message);
                }
            }
            out.value(&l, &format!("{} cases need attention", l.len()))
        }
        CaseCmd::GrantNumbers {
            clinic,
            year,
            device,
            size,
        } => out.row(&app.grant_case_numbers(
            s,
            flag_id::<ClinicId>("--clinic", clinic)?,
            *year,
            device,
            *size,
        )?),
        CaseCmd::Numbering { mode } => out.done(
            app.set_case_numbering(s, mode)?,
            &format!("case numbering: {mode}"),
        ),
        CaseCmd::FinalizeNumbers => {
            let l = app.finalize_case_numbers()?;
            out.value(
                &l,
                &format!("{} provisional case numbers made final", l.len()),
            )
        }
    }
}
