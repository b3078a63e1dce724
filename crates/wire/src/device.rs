//! The id of one device (one PC's database): a UUIDv7 chosen when the database is created and
//! kept in its `local_meta`. Every change record names the device that made it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::WireError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(Uuid);

impl DeviceId {
    /// A fresh, time-ordered device id.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        DeviceId(Uuid::now_v7())
    }

    pub fn parse(s: &str) -> Result<Self, WireError> {
        Uuid::parse_str(s.trim()).map(DeviceId).map_err(|_| {
            WireError::invalid("device id", format!("'{}' is not a valid id", s.trim()))
        })
    }

    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for DeviceId {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self, WireError> {
        DeviceId::parse(s)
    }
}

impl TryFrom<String> for DeviceId {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self, WireError> {
        DeviceId::parse(&s)
    }
}

impl From<DeviceId> for String {
    fn from(d: DeviceId) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_own_text_and_refuses_garbage() {
        let d = DeviceId::new();
        assert_eq!(DeviceId::parse(&d.to_string()).unwrap(), d);
        assert_eq!(
            serde_json::from_str::<DeviceId>(&serde_json::to_string(&d).unwrap()).unwrap(),
            d
        );
        assert!(DeviceId::parse("not-a-device").is_err());
        assert!(serde_json::from_str::<DeviceId>("\"\"").is_err());
    }
}
