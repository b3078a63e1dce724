//! Patients imported from another system's CSV export (`import_patients`).
//!
//! The rules: a header row names the columns (`IMPORT_COLUMNS`; legacy_id, first_name and
//! last_name required, any order, unknown columns refused). Every row is validated first, with
//! the same domain validation as a single new patient (`people::new_patient`); a row whose
//! legacy_id is already in the database is skipped (a re-import is idempotent) and counted; a
//! legacy_id or MRN twice in the file, an MRN another patient has, or a legacy_id of a patient
//! of another clinic is an error. If any row is invalid nothing is imported and every bad row
//! comes back with its line and reason (the first `MAX_IMPORT_ERRORS`). Otherwise all rows are
//! written in one transaction — every patient audited and captured like one created by hand,
//! plus one audit event for the import — so a cancel (or any failure) leaves nothing behind.

use std::collections::HashMap;
use std::io::Read;

use clinicdesk_domain::{Capability, ClinicId, DomainError};
use clinicdesk_store::table;
use clinicdesk_store::tables::patients::Patient;
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::people::new_patient;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// The columns an import may have: the patient's create fields.
pub const IMPORT_COLUMNS: &[&str] = &[
    "legacy_id",
    "mrn",
    "first_name",
    "last_name",
    "middle_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "preferred_contact_method",
    "consent_sms",
    "consent_email",
    "notes",
];
const REQUIRED_COLUMNS: &[&str] = &["legacy_id", "first_name", "last_name"];
/// Row errors returned at most (the count of bad rows is always whole).
pub const MAX_IMPORT_ERRORS: usize = 100;
/// Rows one import may hold: it is one transaction, during which other writes wait.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// The largest file one import may read, in bytes (64 MiB: 100,000 rows of about 670 bytes).
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;
/// Progress is reported every this many rows.
const REPORT_EVERY: u64 = 250;

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PatientImport {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Patients created (0 whenever `invalid` is not 0).
    pub imported: u64,
    /// Rows whose legacy_id is already in the database, left as they are.
    pub skipped: u64,
    /// Rows with an error; when not 0, nothing was imported.
    pub invalid: u64,
    /// The errors of the first `MAX_IMPORT_ERRORS` bad rows, by line.
    pub errors: Vec<ImportRowError>,
}

/// A row that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ImportRowError {
    /// The line of the CSV text where the row starts (the header is line 1).
    pub line: u64,
    pub message: String,
}

/// A row that passed the domain validation, waiting for the database checks.
struct Row {
    line: u64,
    legacy_id: String,
    /// The MRN was in the file (a generated one cannot collide).
    mrn_given: bool,
    patient: Patient,
}

/// Progress and cancellation: `progress(stage, done, total)` as the demo generator's; false
/// cancels.
struct Ticker<'a> {
    progress: &'a mut dyn FnMut(&str, u64, u64) -> bool,
    total: u64,
}

impl Ticker<'_> {
    fn tick(&mut self, stage: &str, done: u64) -> ApiResult<()> {
        if (done.is_multiple_of(REPORT_EVERY) || done == self.total)
            && !(self.progress)(stage, done, self.total)
        {
            return Err(ApiError::Conflict(
                "the patient import was cancelled; nothing was imported".into(),
            ));
        }
        Ok(())
    }
}

/// A reader that fails once more than [`MAX_IMPORT_BYTES`] have been read from it.
struct Capped<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Capped<R> {
    fn over(&self) -> bool {
        self.read > MAX_IMPORT_BYTES
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.over() {
            return Err(std::io::Error::other("the file is too large"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn too_large() -> ApiError {
    invalid(format!(
        "the file is larger than {} MiB; split it",
        MAX_IMPORT_BYTES / (1024 * 1024)
    ))
}

/// A refusal for a read that failed (the size cap or the reader itself).
fn read_error<R: Read>(reader: &csv::Reader<Capped<R>>, e: &csv::Error) -> ApiError {
    if reader.get_ref().over() {
        too_large()
    } else {
        invalid(format!("the file cannot be read: {e}"))
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    DomainError::invalid("csv", message).into()
}

/// The header's columns, checked: known, not repeated, the required ones present.
fn columns(header: &csv::StringRecord) -> ApiResult<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in header.iter() {
        let name = name.trim().to_ascii_lowercase();
        let Some(col) = IMPORT_COLUMNS.iter().find(|c| **c == name) else {
            return Err(invalid(format!(
                "unknown column '{name}' (the columns are {})",
                IMPORT_COLUMNS.join(", ")
            )));
        };
        if out.contains(col) {
            return Err(invalid(format!("the column {col} appears twice")));
        }
        out.push(col);
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !out.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "the first line must name the columns; missing: {}",
            missing.join(", ")
        )));
    }
    Ok(out)
}

/// One CSV record as the create fields (empty cells are not given: defaults apply).
fn row_fields(cols: &[&'static str], rec: &csv::StringRecord) -> Fields {
    let mut f = Fields::new();
    for (col, value) in cols.iter().zip(rec.iter()) {
        if !value.trim().is_empty() {
            f.set(col, value);
        }
    }
    f
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields, the header has {expected_len}"),
        _ => e.to_string(),
    }
}

impl App {
    /// Import the patients of `clinic` from CSV text (see the module docs for the rules).
    /// Admins and managers (`import_patients`). `progress(stage, done, total)` is called as
    /// rows are validated (`validating`), checked against the database (`checking`) and
    /// written (`importing`); returning false cancels, and nothing is kept. Invalid rows are not an `Err`: the result lists them and says nothing
    /// was imported; an unreadable file (no header, unknown or missing columns, too many rows)
    /// is.
    pub fn import_patients(
        &self,
        s: &Session,
        clinic: ClinicId,
        csv_text: &str,
        progress: &mut dyn FnMut(&str, u64, u64) -> bool,
    ) -> ApiResult<PatientImport> {
        let size = csv_text.len() as u64;
        self.import_from(s, clinic, csv_text.as_bytes(), Some(size), progress)
    }

    /// [`App::import_patients`] reading the CSV from `input` as it goes: a file over
    /// [`MAX_IMPORT_BYTES`] or [`MAX_IMPORT_ROWS`] is refused as soon as the cap is passed,
    /// without reading the rest.
    pub fn import_patients_from(
        &self,
        s: &Session,
        clinic: ClinicId,
        input: impl Read,
        progress: &mut dyn FnMut(&str, u64, u64) -> bool,
    ) -> ApiResult<PatientImport> {
        self.import_from(s, clinic, input, None, progress)
    }

    /// The import; a known `size` over the cap is refused before anything is read.
    fn import_from(
        &self,
        s: &Session,
        clinic: ClinicId,
        input: impl Read,
        size: Option<u64>,
        progress: &mut dyn FnMut(&str, u64, u64) -> bool,
    ) -> ApiResult<PatientImport> {
        self.require(
            s,
            Capability::ImportPatients,
            Scope::Clinic(clinic),
            "import patients",
        )?;
        let code: String = self.store.read(|c| {
            c.query_row(
                "SELECT code FROM clinics WHERE id = ?1 AND deleted_at IS NULL",
                [clinic.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| ApiError::NotFound(format!("clinic {clinic} not found")))
        })?;
        if size.is_some_and(|n| n > MAX_IMPORT_BYTES) {
            return Err(too_large());
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(Capped {
                inner: input,
                read: 0,
            });
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) if e.is_io_error() => return Err(read_error(&reader, &e)),
            Err(e) => {
                return Err(invalid(format!(
                    "the header cannot be read: {}",
                    csv_error(&e)
                )))
            }
        };
        if header.iter().all(|h| h.trim().is_empty()) {
            return Err(invalid(
                "the file is empty; its first line must name the columns",
            ));
        }
        let cols = columns(&header)?;
        // Streamed: the file is refused as soon as it passes a cap, the rest unread.
        let mut records: Vec<Result<csv::StringRecord, csv::Error>> = Vec::new();
        loop {
            let mut rec = csv::StringRecord::new();
            match reader.read_record(&mut rec) {
                Ok(true) => records.push(Ok(rec)),
                Ok(false) => break,
                Err(e) if e.is_io_error() => return Err(read_error(&reader, &e)),
                Err(e) => records.push(Err(e)),
            }
            if records.len() > MAX_IMPORT_ROWS {
                return Err(invalid(format!(
                    "more than {MAX_IMPORT_ROWS} rows: at most {MAX_IMPORT_ROWS} can be imported \
                     at a time; split the file"
                )));
            }
        }
        let mut out = PatientImport {
            rows: records.len() as u64,
            imported: 0,
            skipped: 0,
            invalid: 0,
            errors: Vec::new(),
        };
        let fail = |out: &mut PatientImport, line: u64, message: String| {
            out.invalid += 1;
            out.errors.push(ImportRowError { line, message });
        };
        let mut ticker = Ticker {
            progress,
            total: out.rows,
        };
        // 1. Every row through the domain validation, and against the other rows.
        let mut rows: Vec<Row> = Vec::with_capacity(records.len());
        let mut legacy_lines: HashMap<String, u64> = HashMap::new();
        let mut mrn_lines: HashMap<String, u64> = HashMap::new();
        for (i, rec) in records.iter().enumerate() {
            ticker.tick("validating", i as u64 + 1)?;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    fail(&mut out, line, csv_error(e));
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| p.line());
            let f = row_fields(&cols, rec);
            let legacy_id = match f.text("legacy_id") {
                Ok(Some(Some(id))) => id,
                Ok(_) => {
                    fail(
                        &mut out,
                        line,
                        "legacy_id: is required (a re-import skips the rows it has seen by it)"
                            .into(),
                    );
                    continue;
                }
                Err(e) => {
                    fail(&mut out, line, e.to_string());
                    continue;
                }
            };
            let patient = match new_patient(&f, clinic, &code, 0) {
                Ok(p) => p,
                Err(e) => {
                    fail(&mut out, line, e.to_string());
                    continue;
                }
            };
            if let Some(first) = legacy_lines.insert(legacy_id.clone(), line) {
                fail(
                    &mut out,
                    line,
                    format!("legacy_id {legacy_id} is also on line {first}"),
                );
                continue;
            }
            let mrn_given = f.text("mrn")?.flatten().is_some();
            if mrn_given {
                if let Some(first) = mrn_lines.insert(patient.mrn.clone(), line) {
                    fail(
                        &mut out,
                        line,
                        format!("MRN {} is also on line {first}", patient.mrn),
                    );
                    continue;
                }
            }
            rows.push(Row {
                line,
                legacy_id,
                mrn_given,
                patient,
            });
        }
        // 2. Against the database and 3. the writes, in one transaction.
        self.tx(s, |tx| {
            let mut fresh: Vec<&Row> = Vec::with_capacity(rows.len());
            // Prepared once: up to MAX_IMPORT_ROWS lookups each.
            let mut holder_of =
                tx.prepare_cached("SELECT clinic_id FROM patients WHERE legacy_id = ?1")?;
            let mut mrn_taken = tx.prepare_cached("SELECT 1 FROM patients WHERE mrn = ?1")?;
            for (i, row) in rows.iter().enumerate() {
                ticker.tick("checking", i as u64 + 1)?;
                let known: Option<String> = holder_of
                    .query_row([&row.legacy_id], |r| r.get(0))
                    .optional()?;
                match known {
                    Some(c) if c == clinic.to_string() => out.skipped += 1,
                    Some(_) => fail(
                        &mut out,
                        row.line,
                        format!(
                            "legacy_id {} belongs to a patient of another clinic",
                            row.legacy_id
                        ),
                    ),
                    None if row.mrn_given && mrn_taken.exists([&row.patient.mrn])? => {
                        fail(
                            &mut out,
                            row.line,
                            format!("another patient already has MRN {}", row.patient.mrn),
                        )
                    }
                    None => fresh.push(row),
                }
            }
            if out.invalid > 0 {
                out.errors.sort_by_key(|e| e.line);
                out.errors.truncate(MAX_IMPORT_ERRORS);
                return Ok(());
            }
            ticker.total = fresh.len() as u64;
            let now = tx.ctx.now_ms;
            for (i, row) in fresh.iter().enumerate() {
                let mut p = row.patient.clone();
                p.created_at = now;
                p.updated_at = now;
                table::insert(tx, &p)?;
                ticker.tick("importing", i as u64 + 1)?;
            }
            out.imported = fresh.len() as u64;
            tx.audit_event(
                "patients",
                None,
                "event",
                &serde_json::json!({ "import": {
                    "clinic_id": clinic, "rows": out.rows, "imported": out.imported, "skipped": out.skipped,
                } }),
            )?;
            Ok(())
        })?;
        if out.imported >= SETTLE_AFTER_IMPORTED {
            // The import's search-index segment is as big as a load's: merged now, as part of
            // the import, not by the next receptionist's write (Store::settle_search_index).
            self.store.settle_search_index()?;
        }
        Ok(out)
    }
}

/// Imports of at least this many patients settle the search index before they return.
const SETTLE_AFTER_IMPORTED: u64 = 1000;
