//! Appointments, appointment types, availability, reminders and recurring series.

use anyhow::Result;
use clinicdesk_api::domain::*;
use clinicdesk_api::AppointmentQuery;

use super::{fields, flag_id, need, opt_flag_id, until_ms};
use crate::cli::{AppointmentCmd, AppointmentTypeCmd, AvailabilityCmd, ReminderCmd, SeriesCmd};
use crate::ctx::Ctx;
use crate::output;

/// Appointments: book, move, status, today, the day and week views, free slots.
pub fn appointment(ctx: &Ctx, c: &AppointmentCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        AppointmentCmd::Book(a) => out.row(&app.book_appointment(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        AppointmentCmd::Get { id } => out.row(&app.get_appointment(s, AppointmentId::parse(id)?)?),
        AppointmentCmd::Move(a) => out.row(&app.reschedule_appointment(
            s,
            AppointmentId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        AppointmentCmd::Status { id, action, reason } => out.row(&app.set_appointment_status(
            s,
            AppointmentId::parse(id)?,
            action,
            reason.as_deref(),
        )?),
        AppointmentCmd::Today { clinic, provider } => {
            let t = app.todays_appointments(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                opt_flag_id::<StaffId>("--provider", provider.as_deref())?,
            )?;
            if !out.json {
                for e in &t.entries {
                    let waiting = e
                        .waiting_minutes
                        .map(|m| format!("  waiting {m} min"))
                        .unwrap_or_default();
                    output::line(&format!(
                        "{}  {}  {}  {}  {}{waiting}",
                        e.local_time,
                        e.entry.appointment.status,
                        e.entry.provider_name,
                        e.entry.patient_name,
                        e.entry.appointment.id,
                    ));
                }
            }
            let c = &t.counts;
            out.value(
                &t,
                &format!(
                    "{}: {} booked, {} checked in, {} in progress, {} completed, {} no-show",
                    t.date, c.booked, c.checked_in, c.in_progress, c.completed, c.no_show
                ),
            )
        }
        AppointmentCmd::Day {
            clinic,
            date,
            provider,
        } => {
            let day = app.day_schedule(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                date,
                opt_flag_id::<StaffId>("--provider", provider.as_deref())?,
            )?;
            if out.json {
                out.value(&day, "")
            } else {
                let dir = app.clinic_directory(s, day.clinic_id)?;
                let provider = |id: StaffId| {
                    dir.providers
                        .iter()
                        .find(|p| p.id == id)
                        .map_or_else(|| id.to_string(), |p| p.name.clone())
                };
                let room = |id: Option<RoomId>| {
                    id.and_then(|id| dir.rooms.iter().find(|r| r.id == id))
                        .map_or("-", |r| r.name.as_str())
                };
                for e in &day.entries {
                    output::line(&format!(
                        "{}  {}  {}  {}  {}",
                        e.id,
                        e.status,
                        provider(e.provider_id),
                        e.patient_name,
                        room(e.room_id)
                    ));
                }
                out.ok(&format!(
                    "{} appointments on {} ({} hours)",
                    day.entries.len(),
                    day.date,
                    day.hours
                ))
            }
        }
        AppointmentCmd::Week {
            clinic,
            start,
            provider,
        } => {
            let days = app.week_schedule(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                start,
                opt_flag_id::<StaffId>("--provider", provider.as_deref())?,
            )?;
            let text = days
                .iter()
                .map(|d| format!("{}  {} appointments", d.date, d.entries.len()))
                .collect::<Vec<_>>()
                .join("\n");
            out.value(&days, &text)
        }
        AppointmentCmd::List {
            clinic,
            provider,
            patient,
            from,
            to,
            status,
            limit,
        } => {
            let q = AppointmentQuery {
                provider_id: opt_flag_id("--provider", provider.as_deref())?,
                patient_id: opt_flag_id("--patient", patient.as_deref())?,
                from: from.clone(),
                to: to.clone(),
                statuses: status.clone(),
                limit: *limit,
            };
            let l = app.list_appointments(s, flag_id("--clinic", clinic)?, &q)?;
            if !out.json {
                for e in &l {
                    output::line(&format!(
                        "{}  {}  {}  {}  {}",
                        e.local_start,
                        e.appointment.status,
                        e.provider_name,
                        e.patient_name.as_deref().unwrap_or("-"),
                        e.appointment.id
                    ));
                }
            }
            out.value(&l, &format!("{} appointments", l.len()))
        }
        AppointmentCmd::Slots {
            clinic,
            provider,
            duration,
            from,
            to,
        } => {
            let slots = app.available_slots(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                opt_flag_id::<StaffId>("--provider", provider.as_deref())?,
                *duration,
                from,
                to,
            )?;
            if !out.json {
                for sl in &slots {
                    output::line(&format!("{}  {}", sl.local_start, sl.provider_id));
                }
            }
            out.value(&slots, &format!("{} free slots", slots.len()))
        }
    }
}

/// Appointment types.
pub fn appointment_type(ctx: &Ctx, c: &AppointmentTypeCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        AppointmentTypeCmd::Create(a) => out.row(&app.create_appointment_type(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        AppointmentTypeCmd::List { clinic } => {
            out.rows(&app.list_appointment_types(s, flag_id::<ClinicId>("--clinic", clinic)?)?)
        }
    }
}

/// What the closure generator did: the appointments on closed days, then the counts.
pub fn closures_done(out: &crate::output::Out, r: &clinicdesk_api::ClosureResult) -> Result<()> {
    if !out.json {
        for a in &r.affected {
            output::line(&format!(
                "needs moving: appointment {} at {}",
                a.id,
                chrono::DateTime::from_timestamp_millis(a.start_at)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ));
        }
    }
    out.value(
        r,
        &format!(
            "{} days closed, {} already closed, {} appointments need moving",
            r.created.len(),
            r.already_closed.len(),
            r.affected.len()
        ),
    )
}

/// Availability blocks and the closure generator.
pub fn availability(ctx: &Ctx, c: &AvailabilityCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        AvailabilityCmd::Create(a) => out.row(&app.create_availability_block(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        AvailabilityCmd::Delete { id } => out.done(
            app.delete_availability_block(s, AvailabilityBlockId::parse(id)?)?,
            "block removed",
        ),
        AvailabilityCmd::Closures(a) => closures_done(
            out,
            &app.generate_closures(
                s,
                flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
                &fields(&a.set, &a.data)?,
            )?,
        ),
        AvailabilityCmd::ImportIcal { file, clinic } => {
            super::interop::import_ical(ctx, file, clinic)
        }
    }
}

/// The reminder queue.
pub fn reminder(ctx: &Ctx, c: &ReminderCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        ReminderCmd::Queue { clinic, until } => {
            let until = until_ms(until)?;
            let q = app.pending_reminders(s, flag_id::<ClinicId>("--clinic", clinic)?, until)?;
            if !out.json {
                for r in &q {
                    output::line(&format!(
                        "{}  {}  {}  {}",
                        r.reminder.id,
                        r.reminder.channel,
                        r.patient_name,
                        r.phone.as_deref().or(r.email.as_deref()).unwrap_or("-")
                    ));
                }
            }
            out.value(&q, &format!("{} reminders due", q.len()))
        }
        ReminderCmd::Export {
            clinic,
            until,
            output: file,
        } => {
            let until = until_ms(until)?;
            let destination = match file {
                Some(path) => {
                    ctx.check_destination(path)?;
                    path.display().to_string()
                }
                None => "standard output".to_string(),
            };
            let csv = app.export_pending_reminders_csv(
                s,
                flag_id::<ClinicId>("--clinic", clinic)?,
                until,
                &destination,
            )?;
            let rows = csv.lines().count().saturating_sub(1);
            match file {
                Some(path) => {
                    ctx.write_export(path, csv.as_bytes())?;
                    out.ok(&format!("{rows} reminders written to {}", path.display()))
                }
                None => {
                    print!("{csv}");
                    Ok(())
                }
            }
        }
        ReminderCmd::Mark {
            id,
            outcome,
            reason,
        } => out.row(&app.mark_reminder(s, ReminderId::parse(id)?, outcome, reason.as_deref())?),
    }
}

/// Recurring series.
pub fn series(ctx: &Ctx, c: &SeriesCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        SeriesCmd::Preview(a) => {
            let checks = app.preview_series(
                s,
                flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
                &fields(&a.set, &a.data)?,
            )?;
            if !out.json {
                for o in &checks {
                    output::line(&format!(
                        "{}  {}",
                        o.local_start,
                        o.problem.as_deref().unwrap_or("free")
                    ));
                }
            }
            let conflicts = checks.iter().filter(|o| o.problem.is_some()).count();
            out.value(
                &checks,
                &format!("{} occurrences, {conflicts} with conflicts", checks.len()),
            )
        }
        SeriesCmd::Book(a) => {
            let r = app.book_series(
                s,
                flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
                &fields(&a.set, &a.data)?,
            )?;
            out.value(
                &r,
                &format!(
                    "series {}: {} booked, {} skipped",
                    r.series_id,
                    r.booked.len(),
                    r.skipped.len()
                ),
            )
        }
        SeriesCmd::Edit { write, scope } => {
            let r = app.edit_series(
                s,
                AppointmentId::parse(need(&write.id, "APPOINTMENT_ID")?)?,
                scope,
                &fields(&write.set, &write.data)?,
            )?;
            out.value(
                &r,
                &format!(
                    "series {}: {} occurrences moved",
                    r.series_id,
                    r.booked.len()
                ),
            )
        }
        SeriesCmd::Cancel {
            appointment,
            scope,
            reason,
        } => {
            let r = app.cancel_series(s, AppointmentId::parse(appointment)?, scope, reason)?;
            out.value(&r, &format!("{} appointments cancelled", r.len()))
        }
    }
}
