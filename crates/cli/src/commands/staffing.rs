//! The roster, shift swaps, time off and coverage needs.

use anyhow::Result;
use clinicdesk_api::domain::*;

use super::{fields, flag_id, need, opt_flag_id};
use crate::cli::{CoverageCmd, RosterCmd, SwapCmd, TimeOffCmd};
use crate::ctx::Ctx;
use crate::output;

/// Shift assignments and the roster.
pub fn roster(ctx: &Ctx, c: &RosterCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        RosterCmd::Assign(a) => out.row(&app.assign_shift(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        RosterCmd::Bulk(a) => {
            let r = app.assign_shifts_bulk(
                s,
                flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
                &fields(&a.set, &a.data)?,
            )?;
            out.value(
                &r,
                &format!("{} assigned, {} skipped", r.assigned.len(), r.skipped.len()),
            )
        }
        RosterCmd::Status { id, action } => {
            out.row(&app.set_shift_status(s, StaffScheduleId::parse(id)?, action)?)
        }
        RosterCmd::List {
            clinic,
            from,
            to,
            staff,
        } => {
            let l = app.list_roster(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                from,
                to,
                opt_flag_id::<StaffId>("--staff", staff.as_deref())?,
            )?;
            if !out.json {
                for e in &l {
                    output::line(&format!(
                        "{}  {}  {}  {}  {}",
                        e.schedule.schedule_date,
                        e.shift_name,
                        e.staff_name,
                        e.schedule.status,
                        e.schedule.id
                    ));
                }
            }
            out.value(&l, &format!("{} assignments", l.len()))
        }
    }
}

/// Shift swaps.
pub fn swap(ctx: &Ctx, c: &SwapCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        SwapCmd::Request(a) => out.row(&app.request_swap(s, &fields(&a.set, &a.data)?)?),
        SwapCmd::List { clinic, status } => out.rows(&app.list_swaps(
            s,
            flag_id::<ClinicId>("--clinic", clinic)?,
            status.as_deref(),
        )?),
        SwapCmd::Approve {
            id,
            note,
            override_reason,
        } => out.row(&app.decide_swap(
            s,
            ShiftSwapId::parse(id)?,
            true,
            note.as_deref(),
            override_reason.as_deref(),
        )?),
        SwapCmd::Reject { id, note } => {
            out.row(&app.decide_swap(s, ShiftSwapId::parse(id)?, false, note.as_deref(), None)?)
        }
        SwapCmd::Mine { clinic, status } => {
            let clinic = opt_flag_id::<ClinicId>("--clinic", clinic.as_deref())?;
            let mine = app.my_swaps(s, clinic, status.as_deref())?;
            let text = mine
                .iter()
                .map(|m| {
                    let e = &m.handed_over;
                    format!(
                        "{}  {} {}  {} → {}  status={}{}",
                        m.swap.id,
                        e.schedule.schedule_date,
                        e.shift_name,
                        m.requester_name,
                        m.target_name,
                        m.swap.status,
                        if m.is_requester {
                            ""
                        } else {
                            "  (asked of you)"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.value(
                &mine,
                if mine.is_empty() {
                    "no swap requests"
                } else {
                    &text
                },
            )
        }
        SwapCmd::Withdraw { id } => out.row(&app.cancel_swap(s, ShiftSwapId::parse(id)?)?),
    }
}

/// Time off.
pub fn time_off(ctx: &Ctx, c: &TimeOffCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        TimeOffCmd::Request(a) => out.row(&app.request_time_off(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        TimeOffCmd::List { clinic, status } => out.rows(&app.list_time_off(
            s,
            flag_id::<ClinicId>("--clinic", clinic)?,
            status.as_deref(),
        )?),
        TimeOffCmd::Approve { id, note } => {
            let d = app.decide_time_off(s, TimeOffRequestId::parse(id)?, true, note.as_deref())?;
            out.value(
                &d,
                &format!(
                    "approved: {} shifts released into coverage needs, {} appointments to move",
                    d.coverage_needs.len(),
                    d.affected_appointments.len()
                ),
            )
        }
        TimeOffCmd::Reject { id, note } => {
            let d = app.decide_time_off(s, TimeOffRequestId::parse(id)?, false, note.as_deref())?;
            out.row(&d.request)
        }
        TimeOffCmd::Cancel { id } => {
            out.row(&app.cancel_time_off(s, TimeOffRequestId::parse(id)?)?)
        }
        TimeOffCmd::Mine { clinic, status } => {
            let clinic = opt_flag_id::<ClinicId>("--clinic", clinic.as_deref())?;
            out.rows(&app.my_time_off(s, clinic, status.as_deref())?)
        }
    }
}

/// Coverage needs.
pub fn coverage(ctx: &Ctx, c: &CoverageCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        CoverageCmd::List { clinic, status } => {
            let l = app.list_coverage_needs(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                status.as_deref(),
            )?;
            if !out.json {
                for n in &l {
                    output::line(&format!(
                        "{}  {}  {}  {}",
                        n.need_date, n.reason, n.status, n.id
                    ));
                }
            }
            out.value(&l, &format!("{} coverage needs", l.len()))
        }
        CoverageCmd::Create(a) => out.row(&app.create_coverage_need(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        CoverageCmd::Fill {
            id,
            staff,
            override_reason,
        } => {
            let (n, row) = app.fill_coverage_need(
                s,
                CoverageNeedId::parse(id)?,
                flag_id::<StaffId>("--staff", staff)?,
                override_reason.as_deref(),
            )?;
            out.value(
                &serde_json::json!({ "need": n, "assignment": row }),
                &format!("filled: assignment {}", row.id),
            )
        }
        CoverageCmd::Cancel { id, reason } => {
            out.row(&app.cancel_coverage_need(s, CoverageNeedId::parse(id)?, reason)?)
        }
    }
}
