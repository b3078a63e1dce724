//! README's "Opening a database by hand (support)" gives a SQLCipher 4 shell the settings of
//! our file format. This runs exactly those lines (between the `support-pragmas` markers) on a
//! plain SQLCipher connection — none of the app's code — against a database the store made,
//! and shows that leaving out a setting is refused, so the documented recipe cannot drift from
//! the format.

use clinicdesk_store::{DbKey, KeySource, Store};
use rusqlite::Connection;

fn documented_block() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- support-pragmas")
        .expect("README has the support-pragmas block");
    let end = readme[start..]
        .find("<!-- /support-pragmas -->")
        .expect("the block ends")
        + start;
    readme[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("PRAGMA") || l.starts_with("SELECT"))
        .map(str::to_string)
        .collect()
}

fn run(path: &std::path::Path, lines: &[String]) -> rusqlite::Result<i64> {
    let conn = Connection::open(path)?;
    let mut count = -1;
    for l in lines {
        if l.starts_with("SELECT") {
            count = conn.query_row(l, [], |r| r.get(0))?;
        } else {
            conn.execute_batch(l)?;
        }
    }
    Ok(count)
}

#[test]
fn the_documented_settings_open_the_file_and_nothing_less_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let key = DbKey::generate();
    let store = Store::create(&path, &KeySource::Literal(key.clone())).unwrap();
    drop(store);

    let block = documented_block();
    assert_eq!(block.len(), 4, "{block:?}");
    let with_key: Vec<String> = block
        .iter()
        .map(|l| l.replace("<the 64 hex digits of the key>", &key.to_hex()))
        .collect();
    assert!(with_key[0].contains(&key.to_hex()), "{with_key:?}");
    let tables = run(&path, &with_key).expect("the documented settings open the database");
    assert!(tables > 20, "{tables} schema entries");

    // Each cipher setting is needed: without it the file reads as "not a database".
    for skip in 1..3 {
        let mut partial = with_key.clone();
        partial.remove(skip);
        let e = run(&path, &partial).expect_err("a missing setting must not open the file");
        assert!(e.to_string().contains("not a database"), "{e}");
    }
    // A wrong key neither.
    let mut wrong = with_key.clone();
    wrong[0] = block[0].replace(
        "<the 64 hex digits of the key>",
        &DbKey::generate().to_hex(),
    );
    assert!(run(&path, &wrong).is_err());
}
