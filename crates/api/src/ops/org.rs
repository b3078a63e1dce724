//! Clinics, users and their roles per clinic; first-run initialisation.

use clinicdesk_domain::{
    Capability, ClinicCode, ClinicId, DisplayFormat, DisplayLocale, DomainError, HourCycle, Role,
    TimeZoneName, UserClinicRoleId, UserId, Username,
};
use clinicdesk_store::tables::{
    clinics::Clinic, user_clinic_roles, user_clinic_roles::UserClinicRole, users, users::User,
};
use clinicdesk_store::{table, WriteTx};
use serde::{Deserialize, Serialize};

use super::{clinic_list, ListQuery};
use crate::access::{clinics_with, user_clinics, Scope};
use crate::auth::hash_password;
use crate::error::{ApiError, ApiResult};
use crate::fields::{put, Fields};
use crate::{App, Session};

/// A user as front doors see it (no password hash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, specta::Type)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub is_active: bool,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// The user's own display locale (None: the clinic's).
    pub display_locale: Option<DisplayLocale>,
    /// The user's own hour cycle (None: the clinic's, else the locale's).
    pub hour_cycle: Option<HourCycle>,
}

/// A user's own choice of how dates and times read (each None: the clinic's).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, specta::Type)]
pub struct DisplayPreferences {
    pub display_locale: Option<DisplayLocale>,
    pub hour_cycle: Option<HourCycle>,
}

/// A field's update: None = not given, Some(None) = cleared (an empty value), Some(Some) = set.
type Update<T> = Option<Option<T>>;

/// The display settings (`display_locale`, `hour_cycle`) in `f`.
fn display_fields(f: &Fields) -> ApiResult<(Update<DisplayLocale>, Update<HourCycle>)> {
    let locale = f
        .text("display_locale")?
        .map(|v| v.map(|v| DisplayLocale::parse(&v)).transpose())
        .transpose()?;
    let cycle = f
        .text("hour_cycle")?
        .map(|v| v.map(|v| HourCycle::parse(&v)).transpose())
        .transpose()?;
    Ok((locale, cycle))
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            is_active: u.is_active,
            locked_until: u.locked_until,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            deleted_at: u.deleted_at,
            display_locale: u.display_locale,
            hour_cycle: u.hour_cycle,
        }
    }
}

fn apply_clinic(f: &Fields, c: &mut Clinic, creating: bool) -> ApiResult<()> {
    c.name = f.required_name("name", creating, &c.name)?;
    match f.parsed("code", ClinicCode::parse)? {
        Some(code) => c.code = code.as_str().to_string(),
        None if creating => return Err(DomainError::invalid("code", "is required").into()),
        None => {}
    }
    match f.parsed("timezone", TimeZoneName::parse)? {
        Some(tz) => c.timezone = tz.as_str().to_string(),
        None if creating => return Err(DomainError::invalid("timezone", "is required").into()),
        None => {}
    }
    put(&mut c.address_line1, f.text("address_line1")?);
    put(&mut c.city, f.text("city")?);
    put(&mut c.state, f.text("state")?);
    put(&mut c.postal_code, f.text("postal_code")?);
    put(&mut c.country, f.text("country")?);
    put(&mut c.phone, f.phone("phone")?);
    put(&mut c.email, f.email("email")?);
    let (locale, cycle) = display_fields(f)?;
    put(&mut c.display_locale, locale);
    put(&mut c.hour_cycle, cycle);
    if let Some(v) = f.int("idle_lock_minutes", 1, 480)? {
        c.idle_lock_minutes =
            v.ok_or_else(|| DomainError::invalid("idle_lock_minutes", "is required"))?;
    }
    if let Some(v) = f.text("reminder_offsets_minutes")? {
        let v = v.unwrap_or_default();
        let offsets: Result<Vec<i64>, _> = v
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|x| x.trim().parse::<i64>())
            .collect();
        match offsets {
            Ok(o) if o.iter().all(|m| (0..=60 * 24 * 30).contains(m)) => {
                c.reminder_offsets_minutes = o
            }
            _ => {
                return Err(DomainError::invalid(
                    "reminder_offsets_minutes",
                    "expected minutes before the appointment, e.g. 2880,120",
                )
                .into())
            }
        }
    }
    f.finish()?;
    Ok(())
}

fn new_clinic(f: &Fields, now: i64) -> ApiResult<Clinic> {
    let mut c = Clinic {
        id: ClinicId::new(),
        name: String::new(),
        code: String::new(),
        timezone: String::new(),
        address_line1: None,
        city: None,
        state: None,
        postal_code: None,
        country: None,
        phone: None,
        email: None,
        reminder_offsets_minutes: vec![48 * 60, 120],
        idle_lock_minutes: 15,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        display_locale: None,
        hour_cycle: None,
    };
    apply_clinic(f, &mut c, true)?;
    Ok(c)
}

fn insert_user(
    tx: &WriteTx<'_>,
    username: &str,
    display_name: &str,
    email: Option<String>,
    password: &str,
) -> ApiResult<User> {
    let username = Username::parse(username)?;
    let hash = hash_password(password)?;
    let now = tx.ctx.now_ms;
    let u = User {
        id: UserId::new(),
        username: username.as_str().to_string(),
        display_name: clinicdesk_domain::Name::parse("display_name", display_name)?
            .as_str()
            .to_string(),
        email,
        password_hash: hash,
        is_active: true,
        failed_login_count: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        display_locale: None,
        hour_cycle: None,
    };
    if users::by_username(tx, &u.username)?.is_some() {
        return Err(ApiError::Conflict(format!(
            "the username '{}' is taken",
            u.username
        )));
    }
    table::insert(tx, &u)?;
    Ok(u)
}

fn insert_role(
    tx: &WriteTx<'_>,
    user: UserId,
    clinic: ClinicId,
    role: Role,
) -> ApiResult<UserClinicRole> {
    let now = tx.ctx.now_ms;
    let r = UserClinicRole {
        id: UserClinicRoleId::new(),
        user_id: user,
        clinic_id: clinic,
        role,
        is_active: true,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    table::insert(tx, &r).map_err(|e| match ApiError::from(e) {
        ApiError::Conflict(_) => ApiError::Conflict(format!(
            "the user already has the {role} role at this clinic"
        )),
        other => other,
    })?;
    Ok(r)
}

/// First run: creates the first clinic and its admin. Refused once any user exists.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct InitResult {
    pub clinic: Clinic,
    pub admin: UserView,
    /// The recovery key, shown this once (see `App::recovery_kit`): with it a backup restores
    /// on a new PC. It is stored nowhere.
    pub recovery_key: String,
}

impl App {
    pub fn is_initialised(&self) -> ApiResult<bool> {
        let n = self.store.read(|c| -> ApiResult<i64> {
            Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
        })?;
        Ok(n > 0)
    }

    pub fn initialise(
        &self,
        clinic: &Fields,
        admin_username: &str,
        admin_password: &str,
    ) -> ApiResult<InitResult> {
        let (clinic, admin) = self.store.write(None, |tx| -> ApiResult<_> {
            let n: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            if n > 0 {
                return Err(ApiError::Conflict("this database is already set up".into()));
            }
            let c = new_clinic(clinic, tx.ctx.now_ms)?;
            table::insert(tx, &c)?;
            let u = insert_user(tx, admin_username, "Administrator", None, admin_password)?;
            insert_role(tx, u.id, c.id, Role::Admin)?;
            Ok((c, UserView::from(u)))
        })?;
        let recovery_key = self
            .store
            .new_recovery_key(Some(&admin.id.to_string()))?
            .to_string();
        Ok(InitResult {
            clinic,
            admin,
            recovery_key,
        })
    }

    // Clinics ------------------------------------------------------------------------------

    /// A new clinic; the creator becomes its admin.
    pub fn create_clinic(&self, s: &Session, f: &Fields) -> ApiResult<Clinic> {
        self.require(
            s,
            Capability::ManageClinics,
            Scope::AnyClinic,
            "create clinics",
        )?;
        self.tx(s, |tx| {
            let c = new_clinic(f, tx.ctx.now_ms)?;
            table::insert(tx, &c)?;
            insert_role(tx, s.user_id, c.id, Role::Admin)?;
            Ok(c)
        })
    }

    fn clinic_must_exist(&self, id: ClinicId) -> ApiResult<()> {
        self.store
            .read(|c| table::get_live::<Clinic>(c, &id))
            .map(drop)
            .map_err(Into::into)
    }

    pub fn get_clinic(&self, s: &Session, id: ClinicId) -> ApiResult<Clinic> {
        self.clinic_must_exist(id)?;
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(id),
            "see this clinic",
        )?;
        Ok(self.store.read(|c| table::get_live::<Clinic>(c, &id))?)
    }

    pub fn update_clinic(&self, s: &Session, id: ClinicId, f: &Fields) -> ApiResult<Clinic> {
        self.clinic_must_exist(id)?;
        self.require(
            s,
            Capability::ManageClinics,
            Scope::Clinic(id),
            "change clinic settings",
        )?;
        self.tx(s, |tx| {
            let mut c = table::get_live::<Clinic>(tx, &id)?;
            apply_clinic(f, &mut c, false)?;
            c.updated_at = tx.ctx.now_ms;
            table::update(tx, &c)?;
            Ok(c)
        })
    }

    pub fn delete_clinic(&self, s: &Session, id: ClinicId) -> ApiResult<()> {
        self.clinic_must_exist(id)?;
        self.require(
            s,
            Capability::ManageClinics,
            Scope::Clinic(id),
            "delete clinics",
        )?;
        self.remove::<Clinic>(s, &id)
    }

    /// Clinics where the caller holds any role.
    pub fn list_clinics(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<Clinic>> {
        let roles = self.roles(s)?;
        let ids = clinics_with(&roles, Capability::ReadClinicData);
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND deleted_at IS NULL"
        };
        Ok(self.store.read(|c| {
            table::select::<Clinic, _>(
                c,
                &format!("WHERE id IN ({}) {deleted} AND (name LIKE ?1 ESCAPE '\\' OR code LIKE ?1 ESCAPE '\\') ORDER BY name LIMIT ?2 OFFSET ?3", clinic_list(&ids)),
                rusqlite::params![q.like(), q.limit(), q.offset()],
            )
        })?)
    }

    // Users ---------------------------------------------------------------------------------

    pub fn create_user(&self, s: &Session, f: &Fields, password: &str) -> ApiResult<UserView> {
        self.require(s, Capability::ManageUsers, Scope::AnyClinic, "create users")?;
        let username = f
            .text("username")?
            .flatten()
            .ok_or_else(|| DomainError::invalid("username", "is required"))?;
        let display = f
            .text("display_name")?
            .flatten()
            .unwrap_or_else(|| username.clone());
        let email = f.email("email")?.flatten();
        f.finish()?;
        self.tx(s, |tx| {
            Ok(insert_user(tx, &username, &display, email, password)?.into())
        })
    }

    pub fn get_user(&self, s: &Session, id: UserId) -> ApiResult<UserView> {
        if id != s.user_id {
            let roles = self.require_roles(
                s,
                Capability::ManageUsers,
                Scope::AnyClinic,
                "see other users",
            )?;
            let mine = clinics_with(&roles, Capability::ManageUsers);
            let theirs = self.store.read(|c| user_clinics(c, id))?;
            if !theirs.is_empty() && !theirs.iter().any(|c| mine.contains(c)) {
                return Err(self.deny(
                    s,
                    Capability::ManageUsers,
                    None,
                    "see other users",
                    "you are not allowed to see this user: they work only at clinics you do not administer",
                )?);
            }
        }
        Ok(self.store.read(|c| table::get_live::<User>(c, &id))?.into())
    }

    /// Change display name, email, active flag, or unlock (`unlock=yes`).
    pub fn update_user(&self, s: &Session, id: UserId, f: &Fields) -> ApiResult<UserView> {
        self.require_manager_of_user(s, id, "change users")?;
        self.tx(s, |tx| {
            let mut u = table::get_live::<User>(tx, &id)?;
            u.display_name = f.required_name("display_name", false, &u.display_name)?;
            put(&mut u.email, f.email("email")?);
            put(&mut u.is_active, f.bool("is_active")?);
            if f.bool("unlock")? == Some(true) {
                u.locked_until = None;
                u.failed_login_count = 0;
            }
            f.finish()?;
            if u.id == s.user_id && !u.is_active {
                return Err(DomainError::invalid(
                    "is_active",
                    "you cannot deactivate your own account",
                )
                .into());
            }
            u.updated_at = tx.ctx.now_ms;
            table::update(tx, &u)?;
            Ok(u.into())
        })
    }

    /// Set another user's password (a user manager resetting it). One's own password is
    /// changed with [`App::change_own_password`], which asks for the current one.
    pub fn set_password(&self, s: &Session, id: UserId, password: &str) -> ApiResult<()> {
        if id == s.user_id {
            return Err(DomainError::invalid(
                "password",
                "to change your own password, give your current password (change_own_password)",
            )
            .into());
        }
        self.require_manager_of_user(s, id, "change other users' passwords")?;
        self.store_password(s, id, password)
    }

    /// Change one's own password: the current password is checked as a sign-in is (a wrong
    /// one counts towards the lock-out and is audited), so an unlocked, unattended session
    /// cannot be used to take the account over.
    pub fn change_own_password(&self, s: &Session, current: &str, new: &str) -> ApiResult<()> {
        clinicdesk_domain::validate_password(new)?;
        match self.login(&s.username, current) {
            Ok(_) => {}
            Err(ApiError::BadCredentials) => {
                return Err(DomainError::invalid(
                    "current_password",
                    "is not your current password",
                )
                .into())
            }
            Err(e) => return Err(e),
        }
        self.store_password(s, s.user_id, new)
    }

    /// The signed-in user's own display preferences.
    pub fn display_preferences(&self, s: &Session) -> ApiResult<DisplayPreferences> {
        let u = self
            .store
            .read(|c| table::get_live::<User>(c, &s.user_id))?;
        Ok(DisplayPreferences {
            display_locale: u.display_locale,
            hour_cycle: u.hour_cycle,
        })
    }

    /// Set or clear (an empty value) the signed-in user's own `display_locale` and
    /// `hour_cycle`. Every user may; the change is audited and replicates with the user.
    pub fn set_display_preferences(
        &self,
        s: &Session,
        f: &Fields,
    ) -> ApiResult<DisplayPreferences> {
        let (locale, cycle) = display_fields(f)?;
        f.finish()?;
        self.tx(s, |tx| {
            let mut u = table::get_live::<User>(tx, &s.user_id)?;
            let before = (u.display_locale, u.hour_cycle);
            put(&mut u.display_locale, locale);
            put(&mut u.hour_cycle, cycle);
            if (u.display_locale, u.hour_cycle) != before {
                u.updated_at = tx.ctx.now_ms;
                table::update(tx, &u)?;
            }
            Ok(DisplayPreferences {
                display_locale: u.display_locale,
                hour_cycle: u.hour_cycle,
            })
        })
    }

    /// How dates and times read for the signed-in user at `clinic` (see
    /// [`DisplayFormat::resolve`]); exports format with it.
    pub fn display_format(&self, s: &Session, clinic: ClinicId) -> ApiResult<DisplayFormat> {
        self.store.read(|c| {
            let u = table::get_live::<User>(c, &s.user_id)?;
            let k = table::get_live::<Clinic>(c, &clinic)?;
            Ok::<_, ApiError>(DisplayFormat::resolve(
                (u.display_locale, u.hour_cycle),
                (k.display_locale, k.hour_cycle),
                k.country.as_deref(),
            ))
        })
    }

    fn store_password(&self, s: &Session, id: UserId, password: &str) -> ApiResult<()> {
        let hash = hash_password(password)?;
        self.tx(s, |tx| {
            let mut u = table::get_live::<User>(tx, &id)?;
            u.password_hash = hash;
            u.updated_at = tx.ctx.now_ms;
            table::update(tx, &u)?;
            Ok(())
        })
    }

    pub fn delete_user(&self, s: &Session, id: UserId) -> ApiResult<()> {
        self.require_manager_of_user(s, id, "delete users")?;
        if id == s.user_id {
            return Err(DomainError::invalid("user", "you cannot delete your own account").into());
        }
        self.remove::<User>(s, &id)
    }

    pub fn list_users(&self, s: &Session, q: &ListQuery) -> ApiResult<Vec<UserView>> {
        let roles =
            self.require_roles(s, Capability::ManageUsers, Scope::AnyClinic, "list users")?;
        let mine = clinics_with(&roles, Capability::ManageUsers);
        let deleted = if q.include_deleted {
            ""
        } else {
            "AND deleted_at IS NULL"
        };
        // Users with a role at a clinic the caller administers, and users with no role yet.
        let rows = self.store.read(|c| {
            table::select::<User, _>(
                c,
                &format!("WHERE (username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\') {deleted}
                   AND (id IN (SELECT user_id FROM user_clinic_roles WHERE deleted_at IS NULL AND clinic_id IN ({mine}))
                        OR id NOT IN (SELECT user_id FROM user_clinic_roles WHERE deleted_at IS NULL))
                   ORDER BY username LIMIT ?2 OFFSET ?3", mine = clinic_list(&mine)),
                rusqlite::params![q.like(), q.limit(), q.offset()],
            )
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    // Roles ---------------------------------------------------------------------------------

    pub fn grant_role(
        &self,
        s: &Session,
        user: UserId,
        clinic: ClinicId,
        role: Role,
    ) -> ApiResult<UserClinicRole> {
        self.require(
            s,
            Capability::ManageRoles,
            Scope::Clinic(clinic),
            "assign roles",
        )?;
        self.tx(s, |tx| {
            table::get_live::<User>(tx, &user)?;
            table::get_live::<Clinic>(tx, &clinic)?;
            insert_role(tx, user, clinic, role)
        })
    }

    pub fn revoke_role(
        &self,
        s: &Session,
        user: UserId,
        clinic: ClinicId,
        role: Role,
    ) -> ApiResult<()> {
        self.require(
            s,
            Capability::ManageRoles,
            Scope::Clinic(clinic),
            "remove roles",
        )?;
        self.tx(s, |tx| {
            let rows = table::select::<UserClinicRole, _>(
                tx,
                "WHERE user_id = ?1 AND clinic_id = ?2 AND role = ?3 AND deleted_at IS NULL",
                rusqlite::params![user.to_string(), clinic.to_string(), role.as_str()],
            )?;
            let r = rows.into_iter().next().ok_or_else(|| ApiError::NotFound(format!("the user has no {role} role at this clinic")))?;
            if user == s.user_id && role == Role::Admin {
                let admins: i64 = tx.query_row(
                    "SELECT count(*) FROM user_clinic_roles WHERE clinic_id = ?1 AND role = 'admin' AND is_active = 1 AND deleted_at IS NULL",
                    [clinic.to_string()],
                    |r| r.get(0),
                )?;
                if admins <= 1 {
                    return Err(DomainError::invalid("role", "a clinic must keep at least one admin").into());
                }
            }
            table::soft_delete::<UserClinicRole>(tx, &r.id, tx.ctx.now_ms)?;
            Ok(())
        })
    }

    pub fn list_roles(&self, s: &Session, clinic: ClinicId) -> ApiResult<Vec<UserClinicRole>> {
        self.require(
            s,
            Capability::ManageRoles,
            Scope::Clinic(clinic),
            "see role assignments",
        )?;
        Ok(self
            .store
            .read(|c| user_clinic_roles::for_clinic(c, &clinic))?)
    }
}
