//! The hosted PostgreSQL side of sync (SYNC.md §3): the server schema, generated from the
//! store's table registry and the SQLite schema ([`schema::generate`], checked in as
//! `migrations/postgres/V1__server.sql`), and the refinery runner that applies it.
//!
//! [`push::generate`] writes `migrations/postgres/V2__merge_and_push.sql`: the merge functions
//! (the model of `clinicdesk_wire::merge`, in SQL) and `sync.push`.
//!
//! [`admin`] is the owner's side of enrolment and revocation (used by the CLI's `server` and
//! `sync enrol` commands), with the first PC's seed (`seed.rs`); its `ServerUrl::connect`
//! goes over TLS (`tls.rs`: rustls, verify-full by default for any host but loopback).
//!
//! This crate holds a PostgreSQL client; `tests/layout.rs` keeps it out of the desktop binary
//! and the api. The pull and the sync client come in later steps.

pub mod admin;
pub mod evolve;
pub mod push;
pub mod push_v2;
pub mod schema;
mod seed;
mod tls;

mod embedded {
    refinery::embed_migrations!("../../migrations/postgres");
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The SQLite schema has a construct the generator cannot mirror (a CHECK it cannot
    /// translate, a foreign key to a table that does not replicate, …).
    #[error("server schema: {0}")]
    Schema(String),
    #[error("the local schema: {0}")]
    Store(#[from] clinicdesk_store::StoreError),
    #[error("reading the local schema: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("server migration failed: {0}")]
    Migration(String),
}

pub type Result<T> = std::result::Result<T, ServerError>;

/// Apply the embedded server migrations (`migrations/postgres`) to the database `client` is
/// connected to, as its owner. Returns the versions applied now.
pub fn migrate(client: &mut postgres::Client) -> Result<Vec<i64>> {
    migrate_to(client, None)
}

/// [`migrate`] up to server migration `target` (all when None): a test builds a server as an
/// earlier release left it, then upgrades it.
pub fn migrate_to(client: &mut postgres::Client, target: Option<i32>) -> Result<Vec<i64>> {
    let mut runner = embedded::migrations::runner();
    if let Some(v) = target {
        runner = runner.set_target(refinery::Target::Version(v));
    }
    let report = runner.run(client).map_err(|e| {
        // refinery's message is "error applying update"; the database's reason is below it.
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        ServerError::Migration(msg)
    })?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .collect())
}
