//! Credentials: records, the lifecycle, the evaluator, alerts and the manager's view.

use anyhow::Result;
use clinicdesk_api::domain::*;

use super::{fields, flag_id, list_query, need, opt_flag_id};
use crate::cli::{CredentialCmd, CredentialFilterArgs, Crud, WriteArgs};
use crate::ctx::Ctx;
use crate::output;

fn credential_filter(f: &CredentialFilterArgs) -> Result<clinicdesk_api::CredentialFilter> {
    Ok(clinicdesk_api::CredentialFilter {
        clinic_id: opt_flag_id::<ClinicId>("--clinic", f.clinic.as_deref())?,
        staff_id: opt_flag_id::<StaffId>("--staff", f.staff.as_deref())?,
        credential_type_id: opt_flag_id::<CredentialTypeId>(
            "--type",
            f.credential_type.as_deref(),
        )?,
        within_days: f.within,
        horizon_days: f.horizon,
        limit: f.limit,
    })
}

/// The credential lifecycle, the evaluator, alerts and the manager's view.
pub fn credential(ctx: &Ctx, c: &CredentialCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    let id = |a: &WriteArgs| -> Result<CredentialId> {
        Ok(CredentialId::parse(need(&a.id, "the credential id")?)?)
    };
    let print_expiry = |e: &clinicdesk_api::CredentialExpiry| {
        output::line(&format!(
            "{}  {}  {}  {}  {} days  {}",
            e.expiry_date, e.staff_name, e.credential_type, e.status, e.days_left, e.credential_id
        ))
    };
    let print_at_risk = |r: &clinicdesk_api::AtRiskStaff| {
        let why: Vec<&str> = r.lapses.iter().map(|l| l.reason.as_str()).collect();
        output::line(&format!(
            "{}  {}: {} shifts{}, {} appointments{}",
            r.staff_name,
            why.join("; "),
            r.shifts.len(),
            if r.more_shifts { "+" } else { "" },
            r.appointments.len(),
            if r.more_appointments { "+" } else { "" },
        ))
    };
    match c {
        CredentialCmd::Crud(c) => credential_crud(ctx, c),
        CredentialCmd::Verify(a) => {
            let r = app.record_credential_verification(s, id(a)?, &fields(&a.set, &a.data)?)?;
            out.value(
                &r,
                &format!(
                    "credential {} checked ({}): {}",
                    r.credential.id, r.verification.method, r.credential.verification_status
                ),
            )
        }
        CredentialCmd::AdverseAction(a) => {
            let r = app.record_adverse_action(s, id(a)?, &fields(&a.set, &a.data)?)?;
            out.value(
                &r,
                &format!(
                    "{} recorded from {}; the credential is {}",
                    r.action.action_type, r.action.start_date, r.credential.status
                ),
            )
        }
        CredentialCmd::Renew(a) => {
            out.row(&app.renew_credential(s, id(a)?, &fields(&a.set, &a.data)?)?)
        }
        CredentialCmd::History { id } => {
            let h = app.credential_history(s, CredentialId::parse(id)?)?;
            out.value(
                &h,
                &format!(
                    "{} verifications, {} adverse actions, {} alerts",
                    h.verifications.len(),
                    h.adverse_actions.len(),
                    h.alerts.len()
                ),
            )
        }
        CredentialCmd::Evaluate => {
            let r = app.evaluate_credentials()?;
            out.value(
                &r,
                &format!(
                    "{} credentials checked: {} expired, {} suspended, {} reinstated, {} revoked; {} alerts raised; {} shifts at risk, {} coverage needs raised, {} cancelled",
                    r.credentials_checked,
                    r.expired,
                    r.suspended,
                    r.reinstated,
                    r.revoked,
                    r.alerts_raised,
                    r.shifts_at_risk,
                    r.coverage_needs_raised,
                    r.coverage_needs_cancelled
                ),
            )
        }
        CredentialCmd::Alerts { filter, all } => {
            let l = app.list_credential_alerts(s, &credential_filter(filter)?, *all)?;
            if !out.json {
                for a in &l {
                    output::line(&format!("{}  {}", a.alert.id, a.alert.message));
                }
            }
            out.value(&l, &format!("{} alerts", l.len()))
        }
        CredentialCmd::Ack { id } => {
            out.row(&app.acknowledge_credential_alert(s, CredentialAlertId::parse(id)?)?)
        }
        CredentialCmd::Expiring(f) => {
            let r = app.credential_expiries(s, &credential_filter(f)?)?;
            if !out.json {
                r.expired.iter().for_each(print_expiry);
                r.expiring.iter().for_each(print_expiry);
            }
            out.value(
                &r,
                &format!(
                    "{} expired, {} expiring within {} days",
                    r.expired.len(),
                    r.expiring.len(),
                    r.within_days
                ),
            )
        }
        CredentialCmd::AtRisk(f) => {
            let r = app.credentials_at_risk(s, &credential_filter(f)?)?;
            if !out.json {
                r.iter().for_each(print_at_risk);
            }
            out.value(&r, &format!("{} staff at risk", r.len()))
        }
        CredentialCmd::Dashboard(f) => {
            let d = app.credential_dashboard(s, &credential_filter(f)?)?;
            if !out.json {
                d.expiries.expired.iter().for_each(print_expiry);
                d.expiries.expiring.iter().for_each(print_expiry);
                d.at_risk.iter().for_each(print_at_risk);
            }
            let n = &d.expiries.counts;
            out.value(
                &d,
                &format!(
                    "{} expired; expiring within 7/30/60/90 days: {}/{}/{}/{}; {} staff at risk",
                    n.expired,
                    n.within_7,
                    n.within_30,
                    n.within_60,
                    n.within_90,
                    d.at_risk.len()
                ),
            )
        }
    }
}

/// Credentials: create/get/update/delete/list.
fn credential_crud(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_credential(
            s,
            flag_id::<StaffId>("--staff", need(&a.staff, "--staff")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Get { id } => out.row(&app.get_credential(s, CredentialId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_credential(
            s,
            CredentialId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_credential(s, CredentialId::parse(id)?)?,
            "credential removed",
        ),
        Crud::List(l) => out.rows(&app.list_credentials(
            s,
            opt_flag_id::<StaffId>("--staff", l.staff.as_deref())?,
            &list_query(l)?,
        )?),
    }
}
