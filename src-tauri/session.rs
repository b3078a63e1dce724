//! The desktop session: who is signed in on this PC, and the idle lock. Held in Rust so the UI
//! never holds (or could forge) a session; every command but the session ones goes through
//! [`SessionGuard::enter`]. Time is passed in ([`Tick`]), so the rules are tested without
//! waiting.
//!
//! States: signed out → (login) → active ⇄ locked (idle longer than the timeout, the machine
//! slept, or `lock`; `unlock` by the same user's password) → (logout) signed out. A login by
//! anyone replaces the session, locked or not.

use std::ops::Add;
use std::time::Duration;

use clinicdesk_api::{ErrorBody, Session};
use serde::Serialize;

/// The error code of a command called while nobody is signed in.
pub const NOT_SIGNED_IN: &str = "not_signed_in";
/// The error code of a command called while the session is locked.
pub const LOCKED: &str = "locked";

/// What the UI may know about the session (never the session itself as a credential).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SessionStatus {
    pub signed_in: bool,
    pub locked: bool,
    /// The signed-in user with their roles per clinic (for navigation; every command re-checks
    /// the roles in the database). Present while locked, so the lock screen can name them.
    pub user: Option<Session>,
    pub idle_timeout_minutes: u32,
    /// Seconds of inactivity left before the session locks (0 when locked or signed out).
    pub seconds_until_lock: u32,
}

/// A reading of the machine's clocks. Idle time is measured on `since_boot`, which keeps
/// counting while the machine is suspended or hibernating (Rust's `Tick` does not on Linux
/// and macOS: close the lid for eight hours and no time has passed for it); the difference
/// from `awake` (which stops during sleep) tells that the machine slept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    since_boot: Duration,
    awake: Duration,
}

/// A sleep (suspend, hibernation) at least this long since the last activity locks the
/// session at resume: the PC was left, whatever the idle timeout says.
pub const SLEEP_LOCKS_AFTER: Duration = Duration::from_secs(5);

impl Tick {
    /// The clocks now: CLOCK_BOOTTIME and CLOCK_MONOTONIC on Linux; on macOS CLOCK_MONOTONIC
    /// (which counts sleep there) and CLOCK_UPTIME_RAW (which does not). Elsewhere (Windows'
    /// performance counter keeps counting in sleep) both are the monotonic clock, so only the
    /// timeout locks there.
    pub fn now() -> Tick {
        #[cfg(target_os = "linux")]
        return Tick {
            since_boot: clock(libc::CLOCK_BOOTTIME),
            awake: clock(libc::CLOCK_MONOTONIC),
        };
        #[cfg(target_os = "macos")]
        return Tick {
            since_boot: clock(libc::CLOCK_MONOTONIC),
            awake: clock(libc::CLOCK_UPTIME_RAW),
        };
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            static START: std::sync::OnceLock<std::time::Tick> = std::sync::OnceLock::new();
            let t = START.get_or_init(std::time::Tick::now).elapsed();
            Tick {
                since_boot: t,
                awake: t,
            }
        }
    }

    /// A reading given outright (tests).
    pub fn at(since_boot: Duration, awake: Duration) -> Tick {
        Tick { since_boot, awake }
    }

    /// The same moment after the machine slept for `d` (tests).
    pub fn after_sleep(self, d: Duration) -> Tick {
        Tick {
            since_boot: self.since_boot + d,
            awake: self.awake,
        }
    }

    fn since(self, earlier: Tick) -> Duration {
        self.since_boot.saturating_sub(earlier.since_boot)
    }

    /// How long the machine slept between `earlier` and now.
    fn slept_since(self, earlier: Tick) -> Duration {
        self.since(earlier)
            .saturating_sub(self.awake.saturating_sub(earlier.awake))
    }
}

/// Time passing while the machine is awake.
impl Add<Duration> for Tick {
    type Output = Tick;
    fn add(self, d: Duration) -> Tick {
        Tick {
            since_boot: self.since_boot + d,
            awake: self.awake + d,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes to it. These
    // clocks exist on every supported kernel, so it does not fail; if it did, `ts` stays 0.
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// The session and the idle clock.
#[derive(Debug)]
pub struct SessionGuard {
    session: Option<Session>,
    locked: bool,
    last_activity: Tick,
    idle_timeout: Duration,
}

fn refusal(code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        code: code.to_string(),
        message: message.to_string(),
    }
}

impl SessionGuard {
    pub fn new(idle_timeout_minutes: u32, now: Tick) -> Self {
        SessionGuard {
            session: None,
            locked: false,
            last_activity: now,
            idle_timeout: minutes(idle_timeout_minutes),
        }
    }

    /// Start (or replace) the session after a successful sign-in.
    pub fn sign_in(&mut self, session: Session, now: Tick) {
        self.session = Some(session);
        self.locked = false;
        self.last_activity = now;
    }

    pub fn sign_out(&mut self) {
        self.session = None;
        self.locked = false;
    }

    /// Lock now (the user stepped away). Refused when nobody is signed in.
    pub fn lock(&mut self) -> Result<(), ErrorBody> {
        if self.session.is_none() {
            return Err(not_signed_in());
        }
        self.locked = true;
        Ok(())
    }

    /// The user whose password unlocks the session: the locked session's username.
    pub fn locked_username(&self) -> Result<String, ErrorBody> {
        match &self.session {
            None => Err(not_signed_in()),
            Some(s) => Ok(s.username.clone()),
        }
    }

    /// Unlock with the session `fresh` that the same user's password just produced (roles
    /// re-read). Another user is refused: they must sign in, which replaces the session.
    pub fn unlock(&mut self, fresh: Session, now: Tick) -> Result<(), ErrorBody> {
        let Some(current) = &self.session else {
            return Err(not_signed_in());
        };
        if current.user_id != fresh.user_id {
            return Err(refusal(
                "permission_denied",
                "only the signed-in user can unlock; anyone else must sign in",
            ));
        }
        self.sign_in(fresh, now);
        Ok(())
    }

    /// The gate of every command: the session when signed in and not idle for longer than the
    /// timeout (which locks it), counting the call as activity.
    pub fn enter(&mut self, now: Tick) -> Result<Session, ErrorBody> {
        self.expire(now);
        let Some(s) = &self.session else {
            return Err(not_signed_in());
        };
        if self.locked {
            return Err(refusal(
                LOCKED,
                "the session is locked after inactivity: enter your password to unlock",
            ));
        }
        self.last_activity = now;
        Ok(s.clone())
    }

    /// Where things stand; applies the idle lock but is not itself activity (the UI polls it).
    pub fn status(&mut self, now: Tick) -> SessionStatus {
        self.expire(now);
        let left = if self.session.is_some() && !self.locked {
            self.idle_timeout
                .saturating_sub(now.since(self.last_activity))
                .as_secs()
        } else {
            0
        };
        SessionStatus {
            signed_in: self.session.is_some(),
            locked: self.locked,
            user: self.session.clone(),
            idle_timeout_minutes: self.idle_timeout_minutes(),
            seconds_until_lock: u32::try_from(left).unwrap_or(u32::MAX),
        }
    }

    pub fn idle_timeout_minutes(&self) -> u32 {
        u32::try_from(self.idle_timeout.as_secs() / 60).unwrap_or(u32::MAX)
    }

    /// A new timeout applies from the last activity (a shorter one may lock at once).
    pub fn set_idle_timeout(&mut self, minutes_: u32) {
        self.idle_timeout = minutes(minutes_);
    }

    fn expire(&mut self, now: Tick) {
        if self.session.is_some()
            && !self.locked
            && (now.since(self.last_activity) >= self.idle_timeout
                || now.slept_since(self.last_activity) >= SLEEP_LOCKS_AFTER)
        {
            self.locked = true;
        }
    }
}

fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m.max(1)) * 60)
}

fn not_signed_in() -> ErrorBody {
    refusal(NOT_SIGNED_IN, "nobody is signed in: sign in first")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clinicdesk_api::domain::{ClinicId, Role, UserId};
    use clinicdesk_api::ClinicRole;

    fn session(name: &str) -> Session {
        Session {
            user_id: UserId::new(),
            username: name.into(),
            display_name: name.into(),
            roles: vec![ClinicRole {
                clinic_id: ClinicId::new(),
                role: Role::FrontDesk,
            }],
        }
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn nothing_runs_before_sign_in() {
        let t0 = Tick::now();
        let mut g = SessionGuard::new(15, t0);
        assert_eq!(g.enter(t0).unwrap_err().code, NOT_SIGNED_IN);
        assert_eq!(g.lock().unwrap_err().code, NOT_SIGNED_IN);
        assert_eq!(g.locked_username().unwrap_err().code, NOT_SIGNED_IN);
        assert_eq!(g.unlock(session("a"), t0).unwrap_err().code, NOT_SIGNED_IN);
        let st = g.status(t0);
        assert!(!st.signed_in && !st.locked && st.user.is_none());
        assert_eq!(st.seconds_until_lock, 0);
        assert_eq!(st.idle_timeout_minutes, 15);
    }

    #[test]
    fn idle_longer_than_the_timeout_locks_and_activity_postpones_it() {
        let t0 = Tick::now();
        let mut g = SessionGuard::new(15, t0);
        let s = session("desk");
        g.sign_in(s.clone(), t0);
        assert_eq!(g.status(t0).seconds_until_lock, 15 * 60);
        // Activity at 14 minutes restarts the clock.
        assert_eq!(g.enter(t0 + 14 * MIN).unwrap().user_id, s.user_id);
        assert_eq!(g.status(t0 + 20 * MIN).seconds_until_lock, 9 * 60);
        // status() is not activity: 15 minutes after the last command it locks.
        assert!(g.status(t0 + 29 * MIN).signed_in);
        let e = g.enter(t0 + 29 * MIN + MIN).unwrap_err();
        assert_eq!(e.code, LOCKED);
        assert!(e.message.contains("locked"), "{}", e.message);
        let st = g.status(t0 + 30 * MIN);
        assert!(st.locked && st.signed_in);
        assert_eq!(st.user.as_ref().unwrap().username, "desk");
        assert_eq!(st.seconds_until_lock, 0);
        // Locked stays locked, however soon the next call comes.
        assert_eq!(g.enter(t0 + 30 * MIN).unwrap_err().code, LOCKED);
    }

    #[test]
    fn exactly_the_timeout_locks() {
        let t0 = Tick::now();
        let mut g = SessionGuard::new(1, t0);
        g.sign_in(session("a"), t0);
        assert!(g.enter(t0 + Duration::from_secs(59)).is_ok());
        assert_eq!(
            g.enter(t0 + Duration::from_secs(59 + 60)).unwrap_err().code,
            LOCKED
        );
    }

    #[test]
    fn only_the_same_user_unlocks_and_another_user_signs_in_instead() {
        let t0 = Tick::now();
        let mut g = SessionGuard::new(15, t0);
        let desk = session("desk");
        g.sign_in(desk.clone(), t0);
        g.lock().unwrap();
        assert_eq!(g.enter(t0).unwrap_err().code, LOCKED);
        assert_eq!(g.locked_username().unwrap(), "desk");

        let other = session("boss");
        let e = g.unlock(other.clone(), t0 + MIN).unwrap_err();
        assert_eq!(e.code, "permission_denied");
        assert_eq!(g.enter(t0 + MIN).unwrap_err().code, LOCKED);

        // The same user (a fresh session: roles re-read) unlocks; the clock restarts.
        let mut again = desk.clone();
        again.roles.clear();
        g.unlock(again, t0 + 2 * MIN).unwrap();
        let s = g.enter(t0 + 16 * MIN).unwrap();
        assert_eq!(s.user_id, desk.user_id);
        assert!(s.roles.is_empty());

        // Another user signing in replaces the (locked) session.
        g.lock().unwrap();
        g.sign_in(other.clone(), t0 + 17 * MIN);
        assert_eq!(g.enter(t0 + 17 * MIN).unwrap().user_id, other.user_id);

        g.sign_out();
        assert_eq!(g.enter(t0 + 17 * MIN).unwrap_err().code, NOT_SIGNED_IN);
        assert!(!g.status(t0 + 17 * MIN).signed_in);
    }

    #[test]
    fn a_shorter_timeout_applies_from_the_last_activity() {
        let t0 = Tick::now();
        let mut g = SessionGuard::new(15, t0);
        g.sign_in(session("a"), t0);
        g.set_idle_timeout(5);
        assert_eq!(g.idle_timeout_minutes(), 5);
        assert_eq!(g.status(t0 + 4 * MIN).seconds_until_lock, 60);
        assert_eq!(g.enter(t0 + 6 * MIN).unwrap_err().code, LOCKED);
        // Zero is treated as one minute (the API refuses it anyway).
        g.set_idle_timeout(0);
        assert_eq!(g.idle_timeout_minutes(), 1);
    }

    #[test]
    fn a_sleeping_machine_locks_however_short_the_sleep_and_sleep_counts_as_idle_time() {
        let t0 = Tick::at(Duration::from_secs(1000), Duration::from_secs(1000));
        let mut g = SessionGuard::new(15, t0);
        g.sign_in(session("desk"), t0);
        // A lid closed for eight hours: `Instant` saw no time pass; the session locks.
        let resumed = (t0 + MIN).after_sleep(Duration::from_secs(8 * 3600));
        assert_eq!(g.status(resumed).seconds_until_lock, 0);
        assert_eq!(g.enter(resumed).unwrap_err().code, LOCKED);

        // A short suspend (a minute) with a long timeout also locks: the PC was left.
        let mut g = SessionGuard::new(480, t0);
        g.sign_in(session("desk"), t0);
        let back = (t0 + MIN).after_sleep(MIN);
        assert_eq!(g.enter(back).unwrap_err().code, LOCKED);

        // A blip below the threshold (clock granularity) does not.
        let mut g = SessionGuard::new(15, t0);
        g.sign_in(session("desk"), t0);
        assert!(g
            .enter((t0 + MIN).after_sleep(Duration::from_secs(1)))
            .is_ok());
    }

    #[test]
    fn the_real_clocks_move_forward_together_while_awake() {
        let a = Tick::now();
        std::thread::sleep(Duration::from_millis(20));
        let b = Tick::now();
        assert!(b.since(a) >= Duration::from_millis(20), "{a:?} {b:?}");
        assert!(b.slept_since(a) < SLEEP_LOCKS_AFTER, "{a:?} {b:?}");
    }
}
