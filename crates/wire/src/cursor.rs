//! Where a PC is in the server's stream of changes: the server's commit sequence of the last
//! change the PC has applied. Opaque to the PC, which stores it with the rows it applied (in
//! the same local transaction) and sends it back to continue.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::WireError;

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Cursor(i64);

impl Cursor {
    /// Before the first change: a new PC starts here.
    pub const START: Cursor = Cursor(0);

    pub fn new(seq: i64) -> Result<Self, WireError> {
        if seq < 0 {
            return Err(WireError::invalid(
                "cursor",
                format!("{seq} is negative; a cursor counts committed changes from 0"),
            ));
        }
        Ok(Cursor(seq))
    }

    pub fn seq(self) -> i64 {
        self.0
    }

    /// The cursor after applying a change at server sequence `seq`; never moves back.
    pub fn advance(self, seq: i64) -> Cursor {
        Cursor(self.0.max(seq))
    }
}

impl TryFrom<i64> for Cursor {
    type Error = WireError;
    fn try_from(v: i64) -> Result<Self, WireError> {
        Cursor::new(v)
    }
}

impl From<Cursor> for i64 {
    fn from(c: Cursor) -> i64 {
        c.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_moves_back_and_refuses_negative() {
        let c = Cursor::START.advance(10).advance(4);
        assert_eq!(c.seq(), 10);
        assert!(Cursor::new(-1).is_err());
        assert!(serde_json::from_str::<Cursor>("-5").is_err());
        assert_eq!(
            serde_json::from_str::<Cursor>("7").unwrap(),
            Cursor::new(7).unwrap()
        );
    }
}
