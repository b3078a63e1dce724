//! Sign-in, lock-out, and their audit entries.

mod common;

use clinicdesk_api::{ApiError, Fields, MAX_FAILED_LOGINS};
use clinicdesk_domain::Role;
use common::*;

#[test]
fn wrong_passwords_lock_the_account_and_are_audited() {
    let w = world();
    w.user_with("desk", Role::FrontDesk, w.clinic_a);
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        assert!(matches!(
            w.app.login("desk", "wrong password!"),
            Err(ApiError::BadCredentials)
        ));
    }
    assert!(matches!(
        w.app.login("desk", "wrong password!"),
        Err(ApiError::Locked(_))
    ));
    // Locked: even the right password is refused until an admin unlocks (or time passes).
    let e = w.app.login("desk", PW).unwrap_err();
    assert!(matches!(e, ApiError::Locked(_)), "{e:?}");
    assert_eq!(e.code(), "account_locked");
    let id = w.user_id_unchecked("desk");
    w.app
        .update_user(&w.admin, id, &Fields::new().with("unlock", "yes"))
        .unwrap();
    assert!(w.app.login("desk", PW).is_ok());
    let actions = w.audit_actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "login_failed").count() as i64,
        MAX_FAILED_LOGINS + 1
    );
    assert!(w.app.store().verify_audit().unwrap().ok);
}

#[test]
fn unknown_user_and_inactive_user_cannot_sign_in() {
    let w = world();
    assert!(matches!(
        w.app.login("nobody", PW),
        Err(ApiError::BadCredentials)
    ));
    w.user_with("temp", Role::Viewer, w.clinic_a);
    let id = w.user_id_unchecked("temp");
    w.app
        .update_user(&w.admin, id, &Fields::new().with("is_active", "no"))
        .unwrap();
    assert!(matches!(
        w.app.login("temp", PW),
        Err(ApiError::BadCredentials)
    ));
    assert!(
        w.audit_actions()
            .iter()
            .filter(|a| *a == "login_failed")
            .count()
            >= 2
    );
}

#[test]
fn passwords_are_argon2id_and_never_in_the_audit_log() {
    let w = world();
    let hash: String = w
        .app
        .store()
        .read(|c| -> clinicdesk_store::Result<String> {
            Ok(c.query_row(
                "SELECT password_hash FROM users WHERE username='root'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    let leaked: i64 = w
        .app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> {
            Ok(c.query_row("SELECT count(*) FROM audit_log WHERE instr(coalesce(new_values,'') || coalesce(old_values,''), '$argon2id$') > 0", [], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(leaked, 0);
    // Usernames are unique; a short password is refused before anything is written.
    let before = w.fingerprint();
    assert!(matches!(
        w.app
            .create_user(&w.admin, &Fields::new().with("username", "ROOT"), PW),
        Err(ApiError::Conflict(_))
    ));
    assert!(matches!(
        w.app
            .create_user(&w.admin, &Fields::new().with("username", "newbie"), "short"),
        Err(ApiError::Invalid(_))
    ));
    assert_eq!(before, w.fingerprint());
}

impl World {
    fn user_id_unchecked(&self, name: &str) -> clinicdesk_domain::UserId {
        self.app
            .list_users(
                &self.admin,
                &clinicdesk_api::ListQuery {
                    q: Some(name.into()),
                    ..Default::default()
                },
            )
            .unwrap()
            .into_iter()
            .find(|u| u.username == name)
            .unwrap()
            .id
    }
}

/// A sign-in is one audit event and nothing else: `users.last_login_at` is local (this PC's
/// last sign-in), so signing in — which every CLI command does — neither audits nor captures
/// an update of the user row (it used to add an audited, replicated update each time).
#[test]
fn a_sign_in_is_one_audit_event_and_no_replicated_change() {
    let w = world();
    w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let counts = || {
        w.app
            .store()
            .read(|c| -> clinicdesk_store::Result<(i64, i64)> {
                Ok((
                    c.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM change_log", [], |r| r.get(0))?,
                ))
            })
            .unwrap()
    };
    let (audit0, changes0) = counts();
    for _ in 0..3 {
        w.app.login("desk", PW).unwrap();
    }
    let (audit1, changes1) = counts();
    assert_eq!(audit1 - audit0, 3, "one audit entry per sign-in");
    assert_eq!(changes1, changes0, "a sign-in replicates nothing");
    let last = w.audit_actions();
    assert_eq!(&last[last.len() - 3..], ["login", "login", "login"]);
    // The time is still kept, on this PC.
    let id = w.user_id_unchecked("desk");
    let user = w
        .app
        .list_users(&w.admin, &clinicdesk_api::ListQuery::default())
        .unwrap()
        .into_iter()
        .find(|u| u.id == id)
        .unwrap();
    assert!(user.last_login_at.is_some());
    // A failed sign-in still counts towards the lock-out, audited and captured as before.
    let _ = w.app.login("desk", "wrong password!");
    let (audit2, changes2) = counts();
    assert_eq!(
        audit2 - audit1,
        2,
        "the failed-count update and the login_failed event"
    );
    assert_eq!(changes2 - changes1, 1);
}

/// Wrong passwords typed at the same time (two windows, a script) each count: the failure
/// count is read and written inside the sign-in's write transaction, so none is lost.
#[test]
fn parallel_wrong_passwords_each_count_towards_the_lock_out() {
    let w = world();
    w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let tries = (MAX_FAILED_LOGINS - 1) as usize;
    let barrier = std::sync::Barrier::new(tries);
    std::thread::scope(|scope| {
        for _ in 0..tries {
            scope.spawn(|| {
                barrier.wait();
                assert!(matches!(
                    w.app.login("desk", "wrong password!"),
                    Err(ApiError::BadCredentials)
                ));
            });
        }
    });
    let count: i64 = w
        .app
        .store()
        .read(|c| {
            c.query_row(
                "SELECT failed_login_count FROM users WHERE username = 'desk'",
                [],
                |r| r.get(0),
            )
            .map_err(clinicdesk_store::StoreError::from)
        })
        .unwrap();
    assert_eq!(count, tries as i64);
    // One more locks the account.
    assert!(matches!(
        w.app.login("desk", "wrong password!"),
        Err(ApiError::Locked(_))
    ));
}

/// One's own password needs the current one (a wrong one counts towards the lock-out); a user
/// manager resets others' without it.
#[test]
fn changing_ones_own_password_needs_the_current_one() {
    let w = world();
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let before = w.fingerprint();
    let e = w
        .app
        .set_password(&desk, desk.user_id, "taken over 123")
        .unwrap_err();
    assert!(e.to_string().contains("current password"), "{e}");
    // A new password that breaks the rules is refused before the current one is even tried.
    assert!(matches!(
        w.app.change_own_password(&desk, PW, "short"),
        Err(ApiError::Invalid(_))
    ));
    assert_eq!(before, w.fingerprint(), "nothing changed");
    let failed_before = w
        .audit_actions()
        .iter()
        .filter(|a| *a == "login_failed")
        .count();
    let e = w
        .app
        .change_own_password(&desk, "not my password", "taken over 123")
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("current_password"), "{e}");
    assert_eq!(
        w.audit_actions()
            .iter()
            .filter(|a| *a == "login_failed")
            .count(),
        failed_before + 1,
        "a wrong current password is audited as a failed sign-in"
    );
    assert!(w.app.login("desk", PW).is_ok());
    // Wrong current passwords lock the account like wrong sign-ins do.
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        let _ = w
            .app
            .change_own_password(&desk, "not my password", "taken over 123");
    }
    assert!(matches!(
        w.app
            .change_own_password(&desk, "not my password", "taken over 123"),
        Err(ApiError::Locked(_))
    ));
    w.app
        .update_user(&w.admin, desk.user_id, &Fields::new().with("unlock", "yes"))
        .unwrap();
    w.app
        .change_own_password(&desk, PW, "a better password 7")
        .unwrap();
    assert!(matches!(
        w.app.login("desk", PW),
        Err(ApiError::BadCredentials)
    ));
    assert!(w.app.login("desk", "a better password 7").is_ok());
    // The admin resets another user's password without knowing it.
    w.app
        .set_password(&w.admin, desk.user_id, "reset by admin 9")
        .unwrap();
    assert!(w.app.login("desk", "reset by admin 9").is_ok());
    assert!(w.app.store().verify_audit().unwrap().ok);
}

/// Hashes use today's Argon2id parameters (64 MiB, 3 passes); a hash made with older, weaker
/// ones (OWASP's minimum, the argon2 crate's default) is replaced at the next sign-in.
#[test]
fn weak_password_hashes_are_rehashed_at_sign_in() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let w = world();
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    let hash_of = |w: &World| -> String {
        w.app
            .store()
            .read(|c| -> clinicdesk_store::Result<String> {
                Ok(c.query_row(
                    "SELECT password_hash FROM users WHERE username = 'desk'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
    };
    let strong = hash_of(&w);
    assert!(
        strong.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"),
        "{strong}"
    );
    assert!(!clinicdesk_api::needs_rehash(&strong));
    let weak = argon2::Argon2::default()
        .hash_password(PW.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    assert!(weak.contains("m=19456,t=2,p=1"), "{weak}");
    assert!(clinicdesk_api::needs_rehash(&weak));
    w.app
        .store()
        .write(
            Some(&desk.user_id.to_string()),
            |tx| -> clinicdesk_store::Result<()> {
                tx.execute(
                    "UPDATE users SET password_hash = ?1 WHERE username = 'desk'",
                    [&weak],
                )?;
                Ok(())
            },
        )
        .unwrap();
    // A wrong password changes nothing; the right one signs in and upgrades the hash.
    assert!(w.app.login("desk", "wrong password!").is_err());
    assert_eq!(hash_of(&w), weak);
    w.app.login("desk", PW).unwrap();
    let upgraded = hash_of(&w);
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"),
        "{upgraded}"
    );
    w.app.login("desk", PW).unwrap();
    assert_eq!(hash_of(&w), upgraded, "an up-to-date hash is left alone");
}
