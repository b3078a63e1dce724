use std::io::Write;

use anyhow::Result;
use serde::Serialize;

pub struct Out {
    pub json: bool,
}

/// A short human label for a record: its id and its most name-like fields.
fn label(v: &serde_json::Value) -> String {
    let keys = [
        "code",
        "name",
        "username",
        "display_name",
        "first_name",
        "last_name",
        "mrn",
        "employer_name",
        "payer_name",
        "role",
        "clinic_id",
        "user_id",
        "status",
        "expiry_date",
        "start_date",
        "end_date",
        "policy_number",
        "start_time",
        "end_time",
    ];
    let mut parts = vec![v
        .get("id")
        .and_then(|x| x.as_str())
        .unwrap_or("")
        .to_string()];
    for k in keys {
        if let Some(s) = v.get(k).and_then(|x| x.as_str()) {
            parts.push(format!("{k}={s}"));
        }
    }
    parts.join("  ")
}

/// Print a line; a closed pipe (`clinicdesk … | head`) ends output quietly.
/// An instant (ms since the epoch) as UTC text for a terminal: `2026-12-08 02:40 UTC`.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn line(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{s}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

impl Out {
    pub fn row<T: Serialize>(&self, v: &T) -> Result<()> {
        let j = serde_json::to_value(v)?;
        if self.json {
            line(&serde_json::to_string_pretty(&j)?);
        } else {
            line(&label(&j));
        }
        Ok(())
    }

    pub fn rows<T: Serialize>(&self, v: &[T]) -> Result<()> {
        let j = serde_json::to_value(v)?;
        if self.json {
            line(&serde_json::to_string_pretty(&j)?);
        } else {
            for r in j.as_array().into_iter().flatten() {
                line(&label(r));
            }
            eprintln!("{} record(s)", v.len());
        }
        Ok(())
    }

    pub fn value<T: Serialize>(&self, v: &T, text: &str) -> Result<()> {
        if self.json {
            line(&serde_json::to_string_pretty(v)?);
        } else {
            line(text);
        }
        Ok(())
    }

    pub fn ok(&self, text: &str) -> Result<()> {
        self.value(&serde_json::json!({ "ok": true, "message": text }), text)
    }

    pub fn done(&self, _: (), text: &str) -> Result<()> {
        self.ok(text)
    }
}
