//! KPI reports and events, goals and capacity snapshots.

use anyhow::Result;
use clinicdesk_api::domain::*;

use super::{fields, flag_id, need};
use crate::cli::{CapacityCmd, GoalCmd, KpiCmd};
use crate::ctx::Ctx;
use crate::output;

pub fn kpi(ctx: &Ctx, c: &KpiCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        KpiCmd::Report {
            clinic,
            period,
            from,
            to,
        } => {
            let r = app.kpi_report(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                period,
                from,
                to,
            )?;
            if !out.json {
                let pct = |m: &clinicdesk_api::Metric| {
                    m.value
                        .map(|v| format!("{:.1}%", v * 100.0))
                        .unwrap_or_else(|| "–".into())
                };
                for row in &r.rows {
                    output::line(&format!(
                        "{}  no-show {}  cancelled {}  utilization {}  fill {}  fill time {}  compliance {}",
                        row.period_start,
                        pct(&row.no_show_rate),
                        pct(&row.cancellation_rate),
                        pct(&row.provider_utilization),
                        pct(&row.waitlist_fill_rate),
                        row.waitlist_time_to_fill_hours
                            .value
                            .map(|h| format!("{h:.1} h"))
                            .unwrap_or_else(|| "–".into()),
                        pct(&row.credential_compliance),
                    ));
                }
            }
            out.value(
                &r,
                &format!(
                    "{} {}s from {} to {}",
                    r.rows.len(),
                    r.period.as_str(),
                    r.from,
                    r.to
                ),
            )
        }
        KpiCmd::Record(a) => out.row(&app.record_kpi_event(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
    }
}

pub fn goal(ctx: &Ctx, c: &GoalCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        GoalCmd::List { clinic } => {
            out.rows(&app.list_goals(s, flag_id::<ClinicId>("--clinic", clinic)?)?)
        }
        GoalCmd::Create(a) => out.row(&app.create_goal(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        GoalCmd::Progress { clinic, date } => {
            let p =
                app.goal_progress(s, flag_id::<ClinicId>("--clinic", clinic)?, date.as_deref())?;
            if !out.json {
                for g in &p {
                    output::line(&format!(
                        "{}  {} {} → {}  {}",
                        g.goal.name,
                        g.period_start,
                        g.period_end,
                        g.value
                            .map(|v| format!("{v:.3}"))
                            .unwrap_or_else(|| "no data".into()),
                        if g.met { "met" } else { "not met" }
                    ));
                }
            }
            let met = p.iter().filter(|g| g.met).count();
            out.value(&p, &format!("{met} of {} goals met", p.len()))
        }
    }
}

pub fn capacity(ctx: &Ctx, c: &CapacityCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        CapacityCmd::Snapshot { clinic } => {
            let snap = app.take_capacity_snapshot(s, flag_id::<ClinicId>("--clinic", clinic)?)?;
            out.value(
                &snap,
                &format!(
                    "{}: {} staff on duty, {}/{} rooms in use, {} waiting, {}/{} slots booked",
                    snap.capacity_status,
                    snap.total_staff_on_duty,
                    snap.rooms_in_use,
                    snap.total_rooms,
                    snap.waiting_patients,
                    snap.slots_booked,
                    snap.total_appointment_slots
                ),
            )
        }
        CapacityCmd::List {
            clinic,
            from,
            to,
            limit,
        } => out.rows(&app.list_capacity_snapshots(
            s,
            flag_id::<ClinicId>("--clinic", clinic)?,
            from.as_deref(),
            to.as_deref(),
            *limit,
        )?),
    }
}
