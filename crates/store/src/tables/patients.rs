use chrono::NaiveDate;
use clinicdesk_domain::{ClinicId, ContactMethod, PatientId, Sex};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::table::{bool_int, select, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Patient {
    pub id: PatientId,
    pub clinic_id: ClinicId,
    pub mrn: String,
    pub first_name: String,
    pub last_name: String,
    pub middle_name: Option<String>,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: Sex,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub preferred_contact_method: ContactMethod,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub consent_sms: bool,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub consent_email: bool,
    pub legacy_id: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Patient {
    const NAME: &'static str = "patients";
    type Id = PatientId;
    fn id(&self) -> PatientId {
        self.id
    }
}

/// The upper bound of a case-insensitive prefix range: "smi" -> "smj".
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn fts_phrase(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// Patient search by name, MRN, phone or date of birth: last-name prefix matches first (in name
/// order, from the name index), then substring matches from the trigram FTS5 index. Phone
/// punctuation is ignored. Tokens shorter than 3 characters only match name prefixes.
pub fn search(conn: &Connection, query: &str, limit: usize) -> Result<Vec<Patient>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let tokens: Vec<String> = q
        .split_whitespace()
        .map(|t| {
            let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
            // "(403) 555-0101" style tokens: keep the digits only, as indexed.
            let phone_like =
                !digits.is_empty() && t.chars().all(|c| c.is_ascii_digit() || "()-.+".contains(c));
            if phone_like && !looks_like_date(t) {
                digits
            } else {
                t.to_string()
            }
        })
        .filter(|t| !t.is_empty())
        .collect();
    let mut out: Vec<Patient> = Vec::new();
    let first = &tokens[0];
    if first
        .chars()
        .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
    {
        if let Some(end) = prefix_end(first) {
            let mut rows: Vec<Patient> = select(
                conn,
                "WHERE last_name COLLATE NOCASE >= ?1 AND last_name COLLATE NOCASE < ?2 AND deleted_at IS NULL
                 ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE LIMIT ?3",
                rusqlite::params![first, end, (limit * 4) as i64],
            )?;
            if tokens.len() > 1 {
                let rest: Vec<&String> = tokens[1..].iter().collect();
                rows.retain(|p| {
                    let hay = format!(
                        "{} {} {}",
                        p.first_name,
                        p.preferred_name.as_deref().unwrap_or(""),
                        p.middle_name.as_deref().unwrap_or("")
                    )
                    .to_lowercase();
                    rest.iter().all(|t| hay.contains(t.as_str()))
                });
            }
            rows.truncate(limit);
            out = rows;
        }
    }
    let long: Vec<&String> = tokens.iter().filter(|t| t.chars().count() >= 3).collect();
    if out.len() < limit && !long.is_empty() && long.len() == tokens.len() {
        let expr = long
            .iter()
            .map(|t| fts_phrase(t))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut stmt = conn.prepare_cached(
            "SELECT p.* FROM patients_fts f JOIN patients p ON p.rowid = f.rowid
             WHERE patients_fts MATCH ?1 AND p.deleted_at IS NULL LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            rusqlite::params![expr, (limit + out.len()) as i64],
            crate::table::map_row::<Patient>,
        )?;
        let mut more = Vec::new();
        for r in rows {
            let p = r?;
            if !out.iter().any(|o| o.id == p.id) {
                more.push(p);
            }
        }
        more.sort_by(|a, b| {
            (a.last_name.to_lowercase(), a.first_name.to_lowercase())
                .cmp(&(b.last_name.to_lowercase(), b.first_name.to_lowercase()))
        });
        out.extend(more.into_iter().take(limit - out.len()));
    }
    Ok(out)
}

fn looks_like_date(t: &str) -> bool {
    t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-'
}

pub fn by_mrn(conn: &Connection, mrn: &str) -> Result<Option<Patient>> {
    Ok(select::<Patient, _>(conn, "WHERE mrn = ?1", [mrn])?
        .into_iter()
        .next())
}
