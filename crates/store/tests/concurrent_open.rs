//! Several threads opening their first encrypted database at the same moment (the app's writer
//! and reader pool, parallel tests) must all succeed. SQLite marks itself initialised before it
//! runs SQLCipher's initialisation, so an opener racing the first one used to get
//! "An error occurred with PRAGMA key or rekey". The race exists only in a fresh process, so
//! each round runs in a child process of this test binary.

use std::process::Command;
use std::sync::{Arc, Barrier};

use clinicdesk_store::{KeySource, Store};

const THREADS: usize = 8;
const ROUNDS: usize = 30;

/// The child: THREADS threads released together, each creating and reopening its own store.
#[test]
#[ignore = "child process of first_opens_race_in_fresh_processes"]
fn open_race_child() {
    let Ok(dir) = std::env::var("OPEN_RACE_DIR") else {
        return;
    };
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let base = std::path::PathBuf::from(&dir);
            let barrier = barrier.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let path = base.join(format!("t{t}.db"));
                let keys = KeySource::File(base.join(format!("t{t}.key")));
                barrier.wait();
                let store = Store::create(&path, &keys).map_err(|e| format!("create: {e}"))?;
                drop(store);
                Store::open(&path, &keys).map_err(|e| format!("open: {e}"))?;
                Ok(())
            })
        })
        .collect();
    let errors: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().expect("thread panicked").err())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn first_opens_race_in_fresh_processes() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir()?;
        let out = Command::new(&exe)
            .args(["open_race_child", "--exact", "--ignored", "--nocapture"])
            .env("OPEN_RACE_DIR", dir.path())
            .output()?;
        assert!(
            out.status.success(),
            "round {round}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the child did not run"
        );
    }
    Ok(())
}
