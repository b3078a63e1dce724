//! Hybrid logical clock: (wall-clock milliseconds, counter), monotonic on this device even when
//! the wall clock steps backwards. Encoded as fixed-width text so that text order = clock order.

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Hlc {
    pub millis: i64,
    pub counter: u32,
}

impl Hlc {
    /// The next timestamp after `self` given the wall clock `now_ms`.
    pub fn tick(self, now_ms: i64) -> Hlc {
        if now_ms > self.millis {
            Hlc {
                millis: now_ms,
                counter: 0,
            }
        } else {
            Hlc {
                millis: self.millis,
                counter: self.counter + 1,
            }
        }
    }

    /// Merge a timestamp received from another device (for the sync issue).
    pub fn observe(self, remote: Hlc, now_ms: i64) -> Hlc {
        let base = self.max(remote);
        if now_ms > base.millis {
            Hlc {
                millis: now_ms,
                counter: 0,
            }
        } else {
            Hlc {
                millis: base.millis,
                counter: base.counter + 1,
            }
        }
    }

    pub fn encode(&self) -> String {
        format!("{:015}-{:08}", self.millis, self.counter)
    }

    /// The fixed-width text form only (15 digits, '-', 8 digits), so that a decoded value
    /// sorts as its text does.
    pub fn decode(s: &str) -> Option<Hlc> {
        let (m, c) = s.split_once('-')?;
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(m, 15) || !digits(c, 8) {
            return None;
        }
        Some(Hlc {
            millis: m.parse().ok()?,
            counter: c.parse().ok()?,
        })
    }
}

impl TryFrom<String> for Hlc {
    type Error = crate::WireError;
    fn try_from(s: String) -> Result<Self, crate::WireError> {
        Hlc::decode(&s).ok_or_else(|| {
            crate::WireError::invalid("hlc", format!("'{s}' is not an HLC timestamp"))
        })
    }
}

impl From<Hlc> for String {
    fn from(h: Hlc) -> String {
        h.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_even_when_clock_goes_back() {
        let a = Hlc::default().tick(1000);
        let b = a.tick(900);
        let c = b.tick(1000);
        let d = c.tick(1001);
        assert!(a < b && b < c && c < d);
        assert!(a.encode() < b.encode() && b.encode() < c.encode() && c.encode() < d.encode());
        assert_eq!(Hlc::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "1-2",
            "-00000000000001-00000000",
            "000000000000001-0000000x",
        ] {
            assert_eq!(Hlc::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn observe_moves_past_remote() {
        let local = Hlc {
            millis: 10,
            counter: 0,
        };
        let remote = Hlc {
            millis: 50,
            counter: 7,
        };
        let next = local.observe(remote, 20);
        assert!(next > remote);
    }
}
