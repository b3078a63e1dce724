//! Local accounts: Argon2id password hashes, sign-in, lock-out after repeated failures.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use clinicdesk_domain::{validate_password, Username};
use clinicdesk_store::tables::{user_clinic_roles, users};
use clinicdesk_store::{now_ms, table};

use crate::error::{ApiError, ApiResult};
use crate::{App, ClinicRole, Session};

pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;

/// Argon2id memory cost (KiB): 64 MiB, RFC 9106's second recommended option (t=3, 64 MiB)
/// for a desktop that signs in a few times a day — OWASP's minimum (19 MiB, t=2) is meant for
/// servers that hash for many users at once. About 0.2 s per sign-in on the CI machine.
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_ITERATIONS: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new password's hash, after the password rules.
pub fn hash_password(password: &str) -> ApiResult<String> {
    validate_password(password)?;
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Conflict(format!("could not hash the password: {e}")))
}

/// Whether `password` matches the stored hash (whatever parameters it was made with).
fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Whether a stored hash was made with weaker or other parameters than today's: it is
/// replaced at the next successful sign-in.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return true;
    };
    let want = argon2();
    let p = want.params();
    h.algorithm != Algorithm::Argon2id.ident()
        || h.version != Some(Version::V0x13.into())
        || Params::try_from(&h).map_or(true, |got| {
            got.m_cost() != p.m_cost() || got.t_cost() != p.t_cost() || got.p_cost() != p.p_cost()
        })
}

/// A hash to verify against when the username is unknown, so timing does not tell whether an
/// account exists.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

enum Outcome {
    Ok(Session),
    Bad,
    Locked(i64),
}

impl App {
    /// Sign in. Five wrong passwords in a row lock the account for 15 minutes; failed sign-ins
    /// and lock-outs are audited.
    pub fn login(&self, username: &str, password: &str) -> ApiResult<Session> {
        let uname = Username::parse(username)
            .map(|u| u.as_str().to_string())
            .unwrap_or_else(|_| username.trim().to_lowercase());
        let user = self.store.read(|c| users::by_username(c, &uname))?;
        let now = now_ms();
        let Some(user) = user.filter(|u| u.deleted_at.is_none() && u.is_active) else {
            let _ = verify_password(password, dummy_hash());
            let details =
                serde_json::json!({ "username": uname, "reason": "unknown or inactive user" });
            self.store.write(None, |tx| {
                tx.audit_event("users", None, "login_failed", &details)
            })?;
            return Err(ApiError::BadCredentials);
        };
        if let Some(until) = user.locked_until.filter(|u| *u > now) {
            let details = serde_json::json!({ "username": uname, "reason": "locked" });
            self.store.write(None, |tx| {
                tx.audit_event(
                    "users",
                    Some(&user.id.to_string()),
                    "login_failed",
                    &details,
                )
            })?;
            return Err(ApiError::Locked(fmt_time(until)));
        }
        let ok = verify_password(password, &user.password_hash);
        let id = user.id;
        let outcome = self.store.write(Some(&id.to_string()), |tx| -> ApiResult<Outcome> {
            // Counted on the row as it is inside this write: sign-ins racing each other (two
            // windows, a script) each add their failure instead of overwriting one another's.
            let mut user = table::get_live::<users::User>(tx, &id)?;
            if let Some(until) = user.locked_until.filter(|u| *u > tx.ctx.now_ms) {
                let details = serde_json::json!({ "username": uname, "reason": "locked" });
                tx.audit_event("users", Some(&id.to_string()), "login_failed", &details)?;
                return Ok(Outcome::Locked(until));
            }
            if ok {
                // `updated_at` moves only with a replicated value: the sign-in time itself
                // (`last_login_at`) is this PC's own, and a captured-nowhere `updated_at`
                // would make PCs differ for ever.
                let before = (user.password_hash.clone(), user.failed_login_count, user.locked_until);
                if needs_rehash(&user.password_hash) {
                    user.password_hash = hash_unchecked(password)?;
                }
                user.failed_login_count = 0;
                user.locked_until = None;
                user.last_login_at = Some(tx.ctx.now_ms);
                if before != (user.password_hash.clone(), user.failed_login_count, user.locked_until) {
                    user.updated_at = tx.ctx.now_ms;
                }
                table::update(tx, &user)?;
                tx.audit_event("users", Some(&user.id.to_string()), "login", &serde_json::json!({ "username": uname }))?;
                let roles = user_clinic_roles::active_for_user(tx, &user.id)?
                    .into_iter()
                    .map(|r| ClinicRole { clinic_id: r.clinic_id, role: r.role })
                    .collect();
                Ok(Outcome::Ok(Session {
                    user_id: user.id,
                    username: user.username.clone(),
                    display_name: user.display_name.clone(),
                    roles,
                }))
            } else {
                user.updated_at = tx.ctx.now_ms;
                user.failed_login_count += 1;
                let locked = user.failed_login_count >= MAX_FAILED_LOGINS;
                if locked {
                    user.locked_until = Some(tx.ctx.now_ms + LOCKOUT_MINUTES * 60_000);
                    user.failed_login_count = 0;
                }
                table::update(tx, &user)?;
                let details = serde_json::json!({ "username": uname, "reason": if locked { "wrong password; account locked" } else { "wrong password" } });
                tx.audit_event("users", Some(&user.id.to_string()), "login_failed", &details)?;
                Ok(if locked { Outcome::Locked(user.locked_until.unwrap_or_default()) } else { Outcome::Bad })
            }
        })?;
        match outcome {
            Outcome::Ok(s) => Ok(s),
            Outcome::Bad => Err(ApiError::BadCredentials),
            Outcome::Locked(until) => Err(ApiError::Locked(fmt_time(until))),
        }
    }
}

fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
