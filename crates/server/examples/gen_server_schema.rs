//! Writes the server schema migration to stdout:
//!
//! ```text
//! cargo run -p clinicdesk-server --example gen_server_schema > migrations/postgres/V1__server.sql
//! ```
//!
//! `tests/generated.rs` fails while the checked-in file differs.

fn main() -> anyhow::Result<()> {
    print!("{}", clinicdesk_server::schema::generate()?);
    Ok(())
}
