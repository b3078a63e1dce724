//! One captured change: the columns one transaction changed in one row, as the change-capture
//! triggers record them in `change_log` and as a PC pushes them. Columns carry their new
//! values only; the HLC orders changes to the same column across devices (last writer wins).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{DeviceId, Hlc, WireError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Insert,
    Update,
}

impl ChangeOp {
    pub fn parse(s: &str) -> Result<Self, WireError> {
        match s {
            "insert" => Ok(ChangeOp::Insert),
            "update" => Ok(ChangeOp::Update),
            other => Err(WireError::invalid(
                "change op",
                format!(
                    "'{other}' is not insert or update (rows are never deleted, only soft-deleted)"
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Insert => "insert",
            ChangeOp::Update => "update",
        }
    }
}

/// A change as it crosses the network. `seq` is the device's own capture sequence (its local
/// `change_log.seq`): strictly increasing per device, so (device, seq) identifies a change and
/// makes a retried push idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub seq: i64,
    pub table: String,
    pub row_id: Uuid,
    pub op: ChangeOp,
    /// Column name → new value (JSON as SQLite's `json_object` writes it).
    pub columns: Map<String, Value>,
    pub hlc: Hlc,
    pub device: DeviceId,
    /// When it was made on the device (ms since the epoch, the device's wall clock).
    pub at_ms: i64,
}

impl ChangeRecord {
    /// Parse the text columns of one `change_log` row; anything malformed is an error.
    #[allow(clippy::too_many_arguments)]
    pub fn from_row(
        seq: i64,
        table: &str,
        row_id: &str,
        op: &str,
        columns: &str,
        hlc: &str,
        device: &str,
        at_ms: i64,
    ) -> Result<Self, WireError> {
        if seq <= 0 {
            return Err(WireError::invalid(
                "change seq",
                format!("{seq} is not positive"),
            ));
        }
        if table.is_empty() || !table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(WireError::invalid(
                "change table",
                format!("'{table}' is not a table name"),
            ));
        }
        let row_id = Uuid::parse_str(row_id).map_err(|_| {
            WireError::invalid("change row id", format!("'{row_id}' is not a valid id"))
        })?;
        let columns = match serde_json::from_str::<Value>(columns) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(WireError::invalid(
                    "change columns",
                    "not a JSON object of column → value",
                ))
            }
        };
        if let Some(bad) = columns.keys().find(|k| {
            k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }) {
            return Err(WireError::invalid(
                "change columns",
                format!("'{bad}' is not a column name"),
            ));
        }
        let hlc = Hlc::decode(hlc).ok_or_else(|| {
            WireError::invalid("change hlc", format!("'{hlc}' is not an HLC timestamp"))
        })?;
        Ok(ChangeRecord {
            seq,
            table: table.to_string(),
            row_id,
            op: ChangeOp::parse(op)?,
            columns,
            hlc,
            device: DeviceId::parse(device)?,
            at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(columns: &str, hlc: &str) -> Result<ChangeRecord, WireError> {
        ChangeRecord::from_row(
            3,
            "patients",
            "0190a0b0-0000-7000-8000-000000000001",
            "update",
            columns,
            hlc,
            "0190a0b0-0000-7000-8000-0000000000ff",
            1_700_000_000_000,
        )
    }

    #[test]
    fn parses_a_change_log_row_and_round_trips_as_json() {
        let h = Hlc {
            millis: 1_700_000_000_000,
            counter: 2,
        }
        .encode();
        let c = row(r#"{"first_name":"Ann","phone":null}"#, &h).unwrap();
        assert_eq!(c.op, ChangeOp::Update);
        assert_eq!(c.columns["first_name"], "Ann");
        assert_eq!(c.hlc.counter, 2);
        let back: ChangeRecord = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn refuses_malformed_rows() {
        let h = Hlc::default().tick(5).encode();
        assert!(row("[1,2]", &h).is_err());
        assert!(row("{\"Bad Column\":1}", &h).is_err());
        assert!(row("{}", "yesterday").is_err());
        assert!(
            ChangeRecord::from_row(1, "patients; drop", "x", "update", "{}", &h, "d", 0).is_err()
        );
        assert!(ChangeRecord::from_row(
            1,
            "patients",
            "0190a0b0-0000-7000-8000-000000000001",
            "delete",
            "{}",
            &h,
            "0190a0b0-0000-7000-8000-0000000000ff",
            0
        )
        .is_err());
    }
}
