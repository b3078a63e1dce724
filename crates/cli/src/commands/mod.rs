//! The commands, one file per area; each command is one API call through the `Ctx`.

pub mod admin;
pub mod cases;
pub mod catalog;
pub mod credentials;
pub mod interop;
pub mod kpis;
pub mod org;
pub mod people;
pub mod scheduling;
pub mod setup;
pub mod staffing;
pub mod sync;
pub mod waitlist;

use std::str::FromStr;

use anyhow::{anyhow, Context, Result};
use clinicdesk_api::domain::ClinicId;
use clinicdesk_api::{Fields, ListQuery};

use crate::cli::ListArgs;

/// The fields of a create/update: `--set name=value` pairs, then `--data` JSON (inline, `@file`
/// or `-` for standard input) on top.
pub fn fields(set: &[String], json: &Option<String>) -> Result<Fields> {
    let mut f = Fields::from_pairs(set)?;
    if let Some(j) = json {
        let text = if j == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        } else if let Some(path) = j.strip_prefix('@') {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
        } else {
            j.clone()
        };
        let v: serde_json::Value =
            serde_json::from_str(&text).context("--data is not valid JSON")?;
        for (k, val) in Fields::from_json(&v)?.into_map() {
            f.set(&k, val);
        }
    }
    Ok(f)
}

pub fn list_query(l: &ListArgs) -> Result<ListQuery> {
    Ok(ListQuery {
        clinic_id: opt_flag_id::<ClinicId>("--clinic", l.clinic.as_deref())?,
        q: l.q.clone(),
        include_deleted: l.include_deleted,
        limit: l.limit,
        offset: l.offset,
    })
}

pub fn need<'a>(v: &'a Option<String>, flag: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| anyhow!("{flag} is required for this command"))
}

/// The id given with `flag`; a malformed one is refused naming the flag.
pub fn flag_id<T: FromStr>(flag: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| anyhow!("{flag}: '{}' is not a valid id", v.trim()))
}

/// An optional id flag, as `flag_id`.
pub fn opt_flag_id<T: FromStr>(flag: &str, v: Option<&str>) -> Result<Option<T>> {
    v.map(|v| flag_id(flag, v)).transpose()
}

/// `--until`: an instant with its UTC offset (RFC 3339), in milliseconds.
pub fn until_ms(v: &Option<String>) -> Result<Option<i64>> {
    v.as_deref()
        .map(|u| {
            chrono::DateTime::parse_from_rfc3339(u.trim())
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    anyhow!(
                        "--until: '{}' is not a valid date and time (use a form like 2027-03-01T09:00:00-07:00)",
                        u.trim()
                    )
                })
        })
        .transpose()
}
