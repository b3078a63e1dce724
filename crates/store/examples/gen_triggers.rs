//! Writes a generated migration to stdout: the audit and change-capture triggers of the given
//! tables (columns as they are after every migration in `migrations/sqlite`, the registry's
//! local columns left out) and the refusal triggers of immutable tables.
//!
//! ```text
//! cargo run -p clinicdesk-store --example gen_triggers -- --tables t1,t2 [--drop] [--immutable t3]
//! ```
//!
//! When a migration adds columns to a replicated table, write its DDL into the new migration
//! first, then append the table's regenerated triggers (`>>`, so the DDL the build embeds is
//! already there): `--tables t --drop >> migrations/sqlite/V7__….sql`. `tests/generated.rs`
//! fails until the triggers match the table's columns.

use anyhow::{anyhow, bail, Result};
use clinicdesk_store::registry::{self, TableSpec, HEADER};

fn specs(list: &str) -> Result<Vec<&'static TableSpec>> {
    list.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| registry::spec(t).ok_or_else(|| anyhow!("{t} is not in the table registry")))
        .collect()
}

fn main() -> Result<()> {
    let (mut tables, mut immutable, mut drop) = (Vec::new(), Vec::new(), false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tables" => tables = specs(&args.next().unwrap_or_default())?,
            "--immutable" => immutable = specs(&args.next().unwrap_or_default())?,
            "--drop" => drop = true,
            other => {
                bail!("unknown argument {other}; usage: --tables t1,t2 [--drop] [--immutable t3]")
            }
        }
    }
    if tables.is_empty() && immutable.is_empty() {
        bail!("nothing to generate; usage: --tables t1,t2 [--drop] [--immutable t3]");
    }
    if let Some(t) = tables.iter().find(|t| !t.replicated) {
        bail!("{} is not replicated: it has no audit triggers", t.name);
    }
    if let Some(t) = immutable.iter().find(|t| !t.immutable) {
        bail!("{} is not immutable in the registry", t.name);
    }
    let columns = registry::schema_columns(None)?;
    let mut parts = Vec::new();
    for spec in tables {
        let cols = columns
            .get(spec.name)
            .ok_or_else(|| anyhow!("{} does not exist after the migrations", spec.name))?;
        parts.push((spec, cols.as_slice()));
    }
    print!(
        "{}",
        registry::generated_migration(HEADER, &parts, drop, &immutable)
    );
    Ok(())
}
