//! The boundary parser for create/update inputs: a flat map of field name → text (what a form
//! or `--set name=value` gives), parsed into typed values with field-named errors. Unknown
//! fields are refused, so a typo never silently does nothing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use clinicdesk_domain::{parse_date, DomainError, Email, Name, Phone};
use serde::{Deserialize, Serialize};

/// The most characters any field's value may have (free text such as notes, and lists).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The most characters of a one-line text field (an address line, a code, an id, …); names
/// are [`Name`]s, at most [`Name::MAX_CHARS`].
pub const MAX_LINE_CHARS: usize = 1_000;
/// Free-text fields: several lines (line breaks and tabs allowed), up to [`MAX_TEXT_CHARS`].
pub const MULTI_LINE_FIELDS: &[&str] = &[
    "notes",
    "description",
    "reason",
    "override_reason",
    "chief_complaint",
    "diagnosis_description",
    "treatment_plan",
    "clinical_notes",
];
/// Comma-separated lists: one line of up to [`MAX_TEXT_CHARS`].
pub const LIST_FIELDS: &[&str] = &[
    "holidays",
    "provider_ids",
    "required_credential_type_ids",
    "tags",
    "weekdays",
    "weekend_days",
    "preferred_days",
    "reminder_offsets_minutes",
    "required_for_disciplines",
    "alert_thresholds_days",
];

/// Refuses `v` as the value of `k` when it is longer than `max` characters or holds a control
/// character (line breaks and tabs are allowed when `multi_line`).
fn check_text(k: &'static str, v: &str, max: usize, multi_line: bool) -> Result<(), DomainError> {
    // A character is at most 4 bytes: a long value is refused without counting it (it has at
    // least len/4 characters, rounded up: more than `max`).
    let chars = if v.len() > 4 * max {
        v.len().div_ceil(4)
    } else {
        v.chars().count()
    };
    if chars > max {
        return Err(DomainError::invalid(
            k,
            format!("must be at most {max} characters"),
        ));
    }
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if v.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(DomainError::invalid(
            k,
            if multi_line {
                "must not contain control characters (line breaks and tabs are fine)"
            } else {
                "must be one line, without tabs or other control characters"
            },
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Fields {
    map: BTreeMap<String, String>,
    #[serde(skip)]
    used: RefCell<BTreeSet<String>>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, k: &str, v: impl Into<String>) -> Self {
        self.map.insert(k.to_string(), v.into());
        self
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) {
        self.map.insert(k.to_string(), v.into());
    }

    /// Parse `name=value` pairs (CLI `--set`).
    pub fn from_pairs<I: IntoIterator<Item = S>, S: AsRef<str>>(
        pairs: I,
    ) -> Result<Self, DomainError> {
        let mut f = Fields::new();
        for p in pairs {
            let p = p.as_ref();
            let (k, v) = p.split_once('=').ok_or_else(|| {
                DomainError::invalid("field", format!("'{p}' should look like name=value"))
            })?;
            f.set(k.trim(), v);
        }
        Ok(f)
    }

    /// From a JSON object whose values are strings, numbers, booleans or null (null = clear).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, DomainError> {
        let obj = v
            .as_object()
            .ok_or_else(|| DomainError::invalid("input", "expected a JSON object of fields"))?;
        let mut f = Fields::new();
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => v.to_string(),
            };
            f.set(k, s);
        }
        Ok(f)
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.map
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value of `k` as given, marked as used. Every value is at most [`MAX_TEXT_CHARS`]
    /// characters and holds no control characters but line breaks and tabs, whatever the field.
    fn raw(&self, k: &'static str) -> Result<Option<&str>, DomainError> {
        let Some(v) = self.map.get(k) else {
            return Ok(None);
        };
        self.used.borrow_mut().insert(k.to_string());
        check_text(k, v, MAX_TEXT_CHARS, true)?;
        Ok(Some(v.as_str()))
    }

    /// Optional text: None = not given; Some(None) = given empty (clears); Some(Some) trimmed.
    /// Free text ([`MULTI_LINE_FIELDS`]) may have line breaks and tabs and up to
    /// [`MAX_TEXT_CHARS`] characters, a list ([`LIST_FIELDS`]) up to [`MAX_TEXT_CHARS`] on one
    /// line, any other field one line of at most [`MAX_LINE_CHARS`].
    pub fn text(&self, k: &'static str) -> Result<Option<Option<String>>, DomainError> {
        let Some(v) = self.raw(k)? else {
            return Ok(None);
        };
        let t = v.trim();
        if MULTI_LINE_FIELDS.contains(&k) {
            // Checked by `raw`.
        } else if LIST_FIELDS.contains(&k) {
            check_text(k, t, MAX_TEXT_CHARS, false)?;
        } else {
            check_text(k, t, MAX_LINE_CHARS, false)?;
        }
        Ok(Some((!t.is_empty()).then(|| t.to_string())))
    }

    /// A name-like required value when given (cannot be cleared).
    pub fn name(&self, k: &'static str) -> Result<Option<String>, DomainError> {
        self.raw(k)?
            .map(|v| Name::parse(k, v).map(|n| n.as_str().to_string()))
            .transpose()
    }

    pub fn required_name(
        &self,
        k: &'static str,
        creating: bool,
        current: &str,
    ) -> Result<String, DomainError> {
        match self.name(k)? {
            Some(v) => Ok(v),
            None if creating => Err(DomainError::invalid(k, "is required")),
            None => Ok(current.to_string()),
        }
    }

    pub fn date(&self, k: &'static str) -> Result<Option<Option<NaiveDate>>, DomainError> {
        match self.raw(k)?.map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(v) => Ok(Some(Some(parse_date(k, v)?))),
        }
    }

    pub fn bool(&self, k: &'static str) -> Result<Option<bool>, DomainError> {
        match self.raw(k)?.map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "true" | "yes" | "1" | "y" => Ok(Some(true)),
                "false" | "no" | "0" | "n" => Ok(Some(false)),
                _ => Err(DomainError::invalid(k, format!("'{v}' is not yes/no"))),
            },
        }
    }

    pub fn int(
        &self,
        k: &'static str,
        min: i64,
        max: i64,
    ) -> Result<Option<Option<i64>>, DomainError> {
        match self.raw(k)?.map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(v) => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| DomainError::invalid(k, format!("'{v}' is not a whole number")))?;
                if n < min || n > max {
                    return Err(DomainError::invalid(
                        k,
                        format!("must be between {min} and {max}"),
                    ));
                }
                Ok(Some(Some(n)))
            }
        }
    }

    pub fn email(&self, k: &'static str) -> Result<Option<Option<String>>, DomainError> {
        match self.text(k)? {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(v)) => Ok(Some(Some(
                Email::parse(&v)
                    .map_err(|e| rename(e, k))?
                    .as_str()
                    .to_string(),
            ))),
        }
    }

    pub fn phone(&self, k: &'static str) -> Result<Option<Option<String>>, DomainError> {
        match self.text(k)? {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(v)) => Ok(Some(Some(
                Phone::parse(&v)
                    .map_err(|e| rename(e, k))?
                    .as_str()
                    .to_string(),
            ))),
        }
    }

    /// A value parsed by `parse` (enums, ids) when given.
    pub fn parsed<T>(
        &self,
        k: &'static str,
        parse: impl Fn(&str) -> Result<T, DomainError>,
    ) -> Result<Option<T>, DomainError> {
        self.raw(k)?
            .map(|v| parse(v.trim()).map_err(|e| rename(e, k)))
            .transpose()
    }

    /// Refuse fields that no step consumed.
    pub fn finish(&self) -> Result<(), DomainError> {
        let used = self.used.borrow();
        let unknown: Vec<&String> = self.map.keys().filter(|k| !used.contains(*k)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "field",
                format!(
                    "unknown field{} {}",
                    if unknown.len() > 1 { "s" } else { "" },
                    unknown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// Re-label a validation error with the field the user typed.
fn rename(e: DomainError, field: &'static str) -> DomainError {
    match e {
        DomainError::Invalid { message, .. } => DomainError::Invalid { field, message },
        other => other,
    }
}

/// Assign `Some(v)` updates; leave untouched when the field was not given.
pub fn put<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}
