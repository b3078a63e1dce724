//! Writes a generated server migration to stdout:
//!
//! ```text
//! cargo run -p clinicdesk-server --example gen_server_schema > migrations/postgres/V1__server.sql
//! cargo run -p clinicdesk-server --example gen_server_schema -- v2 > migrations/postgres/V2__merge_and_push.sql
//! cargo run -p clinicdesk-server --example gen_server_schema -- v4 > migrations/postgres/V4__display_locale.sql
//! cargo run -p clinicdesk-server --example gen_server_schema -- v5 > migrations/postgres/V5__push_authors_and_large_transactions.sql
//! cargo run -p clinicdesk-server --example gen_server_schema -- v6 > migrations/postgres/V6__sync_conflicts.sql
//! ```
//!
//! `tests/generated.rs` fails while a checked-in file differs.

fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None | Some("v1") => print!("{}", clinicdesk_server::schema::generate()?),
        Some("v2") => print!("{}", clinicdesk_server::push::generate()?),
        Some("v5") => print!("{}", clinicdesk_server::push_v2::generate()?),
        Some(v) if v.starts_with('v') && v[1..].parse::<i32>().is_ok() => {
            print!("{}", clinicdesk_server::evolve::generate(v[1..].parse()?)?)
        }
        Some(other) => {
            anyhow::bail!("unknown migration {other} (v1, v2, v5 or v<N> of evolve::EVOLUTIONS)")
        }
    }
    Ok(())
}
