//! Clinics, users and roles.

use anyhow::{anyhow, Result};
use clinicdesk_api::domain::*;

use super::{fields, flag_id, list_query, need};
use crate::cli::{Crud, RoleCmd, UserCmd};
use crate::ctx::Ctx;

/// Clinics.
pub fn clinic(ctx: &Ctx, c: &Crud) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        Crud::Create(a) => out.row(&app.create_clinic(s, &fields(&a.set, &a.data)?)?),
        Crud::Get { id } => out.row(&app.get_clinic(s, ClinicId::parse(id)?)?),
        Crud::Update(a) => out.row(&app.update_clinic(
            s,
            ClinicId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        Crud::Delete { id } => out.done(
            app.delete_clinic(s, ClinicId::parse(id)?)?,
            "clinic deleted",
        ),
        Crud::List(l) => out.rows(&app.list_clinics(s, &list_query(l)?)?),
    }
}

/// Users and their passwords.
pub fn user(ctx: &Ctx, c: &UserCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        UserCmd::Create(a) => {
            let pw = std::env::var("CLINICDESK_NEW_PASSWORD")
                .map_err(|_| anyhow!("set CLINICDESK_NEW_PASSWORD to the new user's password"))?;
            out.row(&app.create_user(s, &fields(&a.set, &a.data)?, &pw)?)
        }
        UserCmd::Get { id } => out.row(&app.get_user(s, UserId::parse(id)?)?),
        UserCmd::Update(a) => out.row(&app.update_user(
            s,
            UserId::parse(need(&a.id, "the id")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        UserCmd::Delete { id } => out.done(app.delete_user(s, UserId::parse(id)?)?, "user deleted"),
        UserCmd::List(l) => out.rows(&app.list_users(s, &list_query(l)?)?),
        UserCmd::ChangePassword => {
            let pw = std::env::var("CLINICDESK_NEW_PASSWORD")
                .map_err(|_| anyhow!("set CLINICDESK_NEW_PASSWORD to the new password"))?;
            out.done(
                app.change_own_password(s, ctx.current_password()?, &pw)?,
                "password changed",
            )
        }
        UserCmd::SetPassword { id } => {
            let pw = std::env::var("CLINICDESK_NEW_PASSWORD")
                .map_err(|_| anyhow!("set CLINICDESK_NEW_PASSWORD to the new password"))?;
            out.done(
                app.set_password(s, UserId::parse(id)?, &pw)?,
                "password changed",
            )
        }
    }
}

/// Roles of users at clinics.
pub fn role(ctx: &Ctx, c: &RoleCmd) -> Result<()> {
    let (app, s) = ctx.signed_in()?;
    let out = &ctx.out;
    match c {
        RoleCmd::Grant {
            user_id: user,
            clinic,
            role,
        } => out.row(&app.grant_role(
            s,
            flag_id::<UserId>("--user-id", user)?,
            flag_id::<ClinicId>("--clinic", clinic)?,
            Role::parse(role)?,
        )?),
        RoleCmd::Revoke {
            user_id: user,
            clinic,
            role,
        } => out.done(
            app.revoke_role(
                s,
                flag_id::<UserId>("--user-id", user)?,
                flag_id::<ClinicId>("--clinic", clinic)?,
                Role::parse(role)?,
            )?,
            "role removed",
        ),
        RoleCmd::List { clinic } => {
            out.rows(&app.list_roles(s, flag_id::<ClinicId>("--clinic", clinic)?)?)
        }
    }
}
