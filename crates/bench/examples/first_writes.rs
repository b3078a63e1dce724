//! Diagnostic: time each of the first audited writes on a database, with the time inside the
//! UPDATE (triggers included) apart from the commit, and the WAL's size after each.
//! `cargo run --release -p clinicdesk-bench --example first_writes -- DB KEYFILE [N]`

use std::path::PathBuf;
use std::time::Instant;

use clinicdesk_store::{KeySource, Store};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = PathBuf::from(args.next().expect("db"));
    let key = PathBuf::from(args.next().expect("key file"));
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let t = Instant::now();
    let store = Store::open(&db, &KeySource::File(key))?;
    println!("open {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let ids: Vec<String> = store.read(|c| {
        let mut s = c.prepare("SELECT id FROM patients LIMIT 5 OFFSET 1000")?;
        let v = s
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok::<_, clinicdesk_store::StoreError>(v)
    })?;
    let wal = db.with_extension("db-wal");
    for i in 0..n {
        let id = &ids[i % ids.len()];
        let t = Instant::now();
        let mut inner = 0.0;
        store.write(None, |tx| -> Result<(), clinicdesk_store::StoreError> {
            let u = Instant::now();
            tx.execute(
                "UPDATE patients SET phone = ?1, updated_at = updated_at + 1 WHERE id = ?2",
                rusqlite::params![format!("(403) 555-{:04}", i % 10_000), id],
            )?;
            inner = u.elapsed().as_secs_f64() * 1e3;
            Ok(())
        })?;
        let total = t.elapsed().as_secs_f64() * 1e3;
        let wal_kb = std::fs::metadata(&wal).map(|m| m.len() / 1024).unwrap_or(0);
        if total > 20.0 || i < 3 {
            println!("write {i}: total {total:.1} ms, update {inner:.1} ms, wal {wal_kb} KiB");
        }
    }
    Ok(())
}
