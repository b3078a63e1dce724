//! Credential types, employers, payers, rooms and shift templates.

use anyhow::Result;
use clinicdesk_api::domain::*;

use super::{fields, flag_id, list_query, need};
use crate::cli::Crud;
use crate::ctx::Ctx;

/// Credential types.
pub fn credential_type(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_credential_type(s, &fields(&a.set, &a.data)?)?),
        Crud::Get { id } => out.row(&app.get_credential_type(s, CredentialTypeId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_credential_type(
            s,
            CredentialTypeId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_credential_type(s, CredentialTypeId::parse(id)?)?,
            "credential type deleted",
        ),
        Crud::List(l) => out.rows(&app.list_credential_types(s, &list_query(l)?)?),
    }
}

/// Employers.
pub fn employer(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_employer(s, &fields(&a.set, &a.data)?)?),
        Crud::Get { id } => out.row(&app.get_employer(s, EmployerId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_employer(
            s,
            EmployerId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_employer(s, EmployerId::parse(id)?)?,
            "employer deleted",
        ),
        Crud::List(l) => out.rows(&app.list_employers(s, &list_query(l)?)?),
    }
}

/// Payers.
pub fn payer(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_payer(s, &fields(&a.set, &a.data)?)?),
        Crud::Get { id } => out.row(&app.get_payer(s, PayerId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_payer(
            s,
            PayerId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(app.delete_payer(s, PayerId::parse(id)?)?, "payer deleted"),
        Crud::List(l) => out.rows(&app.list_payers(s, &list_query(l)?)?),
    }
}

/// Rooms.
pub fn room(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_room(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Get { id } => out.row(&app.get_room(s, RoomId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_room(
            s,
            RoomId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(app.delete_room(s, RoomId::parse(id)?)?, "room deleted"),
        Crud::List(l) => out.rows(&app.list_rooms(s, &list_query(l)?)?),
    }
}

/// Shift templates.
pub fn shift_template(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_shift_template(
            s,
            flag_id::<ClinicId>("--clinic", need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Get { id } => out.row(&app.get_shift_template(s, ShiftId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_shift_template(
            s,
            ShiftId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_shift_template(s, ShiftId::parse(id)?)?,
            "shift template deleted",
        ),
        Crud::List(l) => out.rows(&app.list_shift_templates(s, &list_query(l)?)?),
    }
}
