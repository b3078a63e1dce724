//! The desktop's background sync loop (SYNC.md §4.1–4.2): one thread and one connection.
//!
//! - After a local commit (the store's commit counter moved) it pushes within ~25 ms.
//! - It `LISTEN`s on `cd_sync` (each push ends with a NOTIFY) and pulls on a hint, and
//!   every 30 s anyway (a hint is lost while disconnected).
//! - While the server cannot be reached it backs off from 1 s to 60 s with ±20 % jitter; an
//!   error a person must resolve (revoked, refused batch, restored copy) stops retrying fast:
//!   it is shown and tried again every 60 s (pending changes are always kept).
//! - `on_change` is called with the tables that pulled rows changed (the desktop turns it into
//!   an event so screens refresh).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clinicdesk_store::Store;
use rand::Rng;

use crate::engine::{self, Settings, Status};
use crate::SyncError;

/// How often the loop pulls when no hint arrives.
pub const PULL_EVERY: Duration = Duration::from_secs(30);
/// How often the idle loop looks for a local commit or a NOTIFY (a cheap check each time).
const POLL: Duration = Duration::from_millis(25);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// The loop's view of the connection, beside what the database records.
#[derive(Debug, Clone, Default)]
struct Live {
    online: bool,
    running: bool,
}

pub struct Runner {
    stop: Arc<AtomicBool>,
    live: Arc<Mutex<Live>>,
    store: Arc<Store>,
    handle: Option<JoinHandle<()>>,
}

impl Runner {
    /// Start the loop for an enrolled store.
    pub fn start(
        store: Arc<Store>,
        settings: Settings,
        on_change: impl Fn(&[String]) + Send + 'static,
    ) -> Runner {
        let stop = Arc::new(AtomicBool::new(false));
        let live = Arc::new(Mutex::new(Live {
            online: false,
            running: true,
        }));
        let handle = {
            let (stop, live, store) = (stop.clone(), live.clone(), store.clone());
            std::thread::Builder::new()
                .name("clinicdesk-sync".into())
                .spawn(move || run(&store, &settings, &stop, &live, &on_change))
                .ok()
        };
        Runner {
            stop,
            live,
            store,
            handle,
        }
    }

    /// The status: what the database records, with the loop's live online flag.
    pub fn status(&self) -> crate::Result<Status> {
        let mut s = engine::status(&self.store)?;
        let live = self.live.lock().map(|l| l.clone()).unwrap_or_default();
        if live.running {
            s.online = live.online;
        }
        Ok(s)
    }

    /// Stop the loop (waits for the current round).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn jitter(d: Duration) -> Duration {
    let f = rand::rng().random_range(0.8..1.2);
    d.mul_f64(f)
}

fn run(
    store: &Store,
    settings: &Settings,
    stop: &AtomicBool,
    live: &Mutex<Live>,
    on_change: &dyn Fn(&[String]),
) {
    let set_online = |on: bool| {
        if let Ok(mut l) = live.lock() {
            l.online = on;
        }
    };
    let mut backoff = BACKOFF_MIN;
    let mut pg: Option<postgres::Client> = None;
    while !stop.load(Ordering::Acquire) {
        let client = match pg.as_mut() {
            Some(c) => c,
            None => match settings.connect().and_then(|mut c| {
                c.batch_execute("LISTEN cd_sync")
                    .map_err(|e| SyncError::from_pg(e, |_, m| SyncError::Offline(m)))?;
                Ok(c)
            }) {
                Ok(c) => pg.insert(c),
                Err(e) => {
                    set_online(false);
                    let _ = engine::record_outcome(store, Some(&e));
                    let wait = if e.is_transient() {
                        backoff
                    } else {
                        BACKOFF_MAX
                    };
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    sleep_unless(stop, jitter(wait));
                    continue;
                }
            },
        };
        let commits = store.local_commits();
        match engine::sync_now(store, client) {
            Ok(r) => {
                set_online(true);
                backoff = BACKOFF_MIN;
                if !r.changed_tables.is_empty() {
                    on_change(&r.changed_tables);
                }
            }
            Err(e) => {
                let transient = e.is_transient();
                set_online(!transient && !matches!(e, SyncError::Revoked(_)));
                pg = None;
                let wait = if transient { backoff } else { BACKOFF_MAX };
                backoff = (backoff * 2).min(BACKOFF_MAX);
                sleep_unless(stop, jitter(wait));
                continue;
            }
        }
        // Idle: wake on a local commit, a NOTIFY, the pull timer or stop.
        let until = Instant::now() + PULL_EVERY;
        let mut broken = false;
        while !stop.load(Ordering::Acquire) && Instant::now() < until {
            if store.local_commits() != commits {
                break;
            }
            let Some(c) = pg.as_mut() else { break };
            let mut hinted = false;
            let mut n = c.notifications();
            let mut it = n.timeout_iter(POLL);
            loop {
                match postgres::fallible_iterator::FallibleIterator::next(&mut it) {
                    Ok(Some(_)) => hinted = true,
                    Ok(None) => break,
                    Err(_) => {
                        broken = true;
                        break;
                    }
                }
            }
            if hinted || broken {
                break;
            }
        }
        if broken {
            set_online(false);
            pg = None;
        }
    }
    if let Ok(mut l) = live.lock() {
        l.running = false;
        l.online = false;
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Acquire) {
        std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
}
