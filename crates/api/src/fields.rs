//! The boundary parser for create/update inputs: a flat map of field name → text (what a form
//! or `--set name=value` gives), parsed into typed values with field-named errors. Unknown
//! fields are refused, so a typo never silently does nothing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use clinicdesk_domain::{parse_date, DomainError, Email, Name, Phone};
use serde::{Deserialize, Serialize};

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

    fn raw(&self, k: &'static str) -> Option<&str> {
        let v = self.map.get(k)?;
        self.used.borrow_mut().insert(k.to_string());
        Some(v.as_str())
    }

    /// Optional text: None = not given; Some(None) = given empty (clears); Some(Some) trimmed.
    pub fn text(&self, k: &'static str) -> Option<Option<String>> {
        self.raw(k).map(|v| {
            let t = v.trim();
            (!t.is_empty()).then(|| t.to_string())
        })
    }

    /// A name-like required value when given (cannot be cleared).
    pub fn name(&self, k: &'static str) -> Result<Option<String>, DomainError> {
        self.raw(k)
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
        match self.raw(k).map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(v) => Ok(Some(Some(parse_date(k, v)?))),
        }
    }

    pub fn bool(&self, k: &'static str) -> Result<Option<bool>, DomainError> {
        match self.raw(k).map(|v| v.trim().to_ascii_lowercase()) {
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
        match self.raw(k).map(str::trim) {
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
        match self.text(k) {
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
        match self.text(k) {
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
        self.raw(k)
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
