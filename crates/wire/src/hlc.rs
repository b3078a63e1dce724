//! Hybrid logical clock: (wall-clock milliseconds, counter), monotonic on this device even when
//! the wall clock steps backwards. Encoded as fixed-width text so that text order = clock order.

/// How far ahead of the wall clock a remote timestamp may move this device's clock (1 h).
pub const OBSERVE_MAX_AHEAD_MS: i64 = 60 * 60 * 1000;
/// The largest millisecond value of the fixed-width form (15 digits).
pub const MAX_MILLIS: i64 = 999_999_999_999_999;
/// The largest counter of the fixed-width form (8 digits).
pub const MAX_COUNTER: u32 = 99_999_999;

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

    /// `observe`, bounded against a far-future clock (SYNC.md §6): a remote timestamp ahead of
    /// `now_ms` by more than [`OBSERVE_MAX_AHEAD_MS`] counts as `now_ms + OBSERVE_MAX_AHEAD_MS`,
    /// so a corrupt version or a PC with a wrong BIOS clock cannot drag this clock arbitrarily
    /// far (the data itself is still applied).
    pub fn observe_bounded(self, remote: Hlc, now_ms: i64) -> Hlc {
        self.observe(
            remote.at_most(now_ms.saturating_add(OBSERVE_MAX_AHEAD_MS)),
            now_ms,
        )
    }

    /// This timestamp, or `(limit_ms, 0)` when it is later: `min(self, (limit_ms, 0))`. Order
    /// preserving (a ≤ b ⇒ a.at_most(l) ≤ b.at_most(l)); the server clamps a pushed version
    /// with it ([`crate::merge::Version::stamp`]).
    pub fn at_most(self, limit_ms: i64) -> Hlc {
        self.min(Hlc {
            millis: limit_ms,
            counter: 0,
        })
    }

    /// Whether [`Hlc::encode`] gives the fixed-width form (so that text order is clock
    /// order): millis in 0..=10^15-1, counter below 10^8.
    pub fn is_fixed_width(&self) -> bool {
        (0..=MAX_MILLIS).contains(&self.millis) && self.counter <= MAX_COUNTER
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
    fn observe_is_bounded_against_a_far_future_remote() {
        let local = Hlc {
            millis: 1_000,
            counter: 0,
        };
        let far = Hlc {
            millis: 1_000 + 10 * OBSERVE_MAX_AHEAD_MS,
            counter: 3,
        };
        let next = local.observe_bounded(far, 1_000);
        assert_eq!(next.millis, 1_000 + OBSERVE_MAX_AHEAD_MS);
        assert!(next > local);
        // A remote within the bound is observed as is.
        let near = Hlc {
            millis: 5_000,
            counter: 7,
        };
        assert_eq!(
            local.observe_bounded(near, 1_000),
            local.observe(near, 1_000)
        );
    }

    #[test]
    fn at_most_clamps_and_fixed_width_is_checked() {
        let h = Hlc {
            millis: 500,
            counter: 9,
        };
        assert_eq!(h.at_most(1_000), h);
        assert_eq!(
            h.at_most(500),
            Hlc {
                millis: 500,
                counter: 0
            }
        );
        assert!(h.is_fixed_width());
        assert!(!Hlc {
            millis: -1,
            counter: 0
        }
        .is_fixed_width());
        assert!(!Hlc {
            millis: 0,
            counter: MAX_COUNTER + 1
        }
        .is_fixed_width());
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
