//! The waitlist and its offers.

use anyhow::Result;
use clinicdesk_api::domain::*;

use super::{fields, flag_id, need};
use crate::cli::WaitlistCmd;
use crate::ctx::Ctx;
use crate::output;

/// The waitlist and its offers.
pub fn waitlist(ctx: &Ctx, c: &WaitlistCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        WaitlistCmd::Add(a) => out.row(&app.add_to_waitlist(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        WaitlistCmd::List { clinic } => {
            let l = app.list_waitlist(s, flag_id::<ClinicId>("--clinic", clinic)?)?;
            if !out.json {
                for v in &l {
                    let offer = v
                        .offer
                        .as_ref()
                        .map(|o| format!("offer {} until {}", o.id, o.expires_at))
                        .unwrap_or_default();
                    output::line(&format!(
                        "{}  p{}  {}  {}  {offer}",
                        v.entry.id, v.entry.priority, v.entry.status, v.patient_name
                    ));
                }
            }
            out.value(&l, &format!("{} on the waitlist", l.len()))
        }
        WaitlistCmd::Remove { id } => {
            out.row(&app.remove_from_waitlist(s, WaitlistEntryId::parse(id)?)?)
        }
        WaitlistCmd::Accept { offer } => out.row(&app.accept_offer(s, offer)?),
        WaitlistCmd::Decline { offer } => {
            let next = app.decline_offer(s, offer)?;
            out.value(
                &next,
                &next
                    .as_ref()
                    .map(|o| format!("declined; offered to entry {}", o.waitlist_id))
                    .unwrap_or_else(|| "declined; no one else fits this slot".into()),
            )
        }
        WaitlistCmd::Expire { clinic } => {
            let n = app.expire_waitlist_offers(s, flag_id::<ClinicId>("--clinic", clinic)?)?;
            out.value(
                &serde_json::json!({ "expired": n }),
                &format!("{n} offers expired"),
            )
        }
    }
}
