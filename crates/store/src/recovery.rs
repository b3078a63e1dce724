//! The recovery key: 32 random bytes shown to the clinic once (at first run, and on each
//! recovery-kit export, which replaces it), never stored on the PC. The database key is kept
//! *wrapped* under it — inside the database (`local_meta.recovery_wrap`, so every backup
//! carries it) and in the plain header of every backup file — so a backup restores on a new PC
//! with the recovery key alone.
//!
//! Written as 14 groups of 4 Crockford base32 characters: 52 for the 256 bits, then 4 check
//! characters (the first 20 bits of SHA-256 of the key), so a typo is caught as a typo.
//!
//! Wrapping (encrypt-then-MAC with HKDF-SHA256 / HMAC-SHA256, all from the RustCrypto crates
//! already in the lock file): a fresh 16-byte salt per wrap; `prk = HKDF-Extract(salt,
//! recovery key)`; `wrapped = db key XOR HKDF-Expand(prk, "clinicdesk wrap v1 key", 32)`;
//! `tag = HMAC(HKDF-Expand(prk, "clinicdesk wrap v1 mac", 32), "clinicdesk wrap v1" ‖ db id ‖
//! salt ‖ wrapped)`. The recovery key is uniformly random (no password stretching needed);
//! the tag binds the wrap to its database id and is checked before anything is unwrapped.

use std::fmt;

use hmac::{KeyInit, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2_11::Sha256;

use crate::error::{Result, StoreError};
use crate::key::{DbId, DbKey};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA_CHARS: usize = 52;
const CHECK_CHARS: usize = 4;

/// A recovery key. Its `Display` is the form the clinic writes down.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey([u8; 32]);

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(<redacted>)")
    }
}

fn to_base32(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let (mut acc, mut bits) = (0u64, 0u32);
    let mut it = bytes.iter();
    while out.len() < chars {
        if bits < 5 {
            acc = (acc << 8) | u64::from(*it.next().unwrap_or(&0));
            bits += 8;
        }
        bits -= 5;
        out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
    }
    out
}

fn check_of(key: &[u8; 32]) -> String {
    use sha2_11::Digest;
    to_base32(&Sha256::digest(key), CHECK_CHARS)
}

impl RecoveryKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        RecoveryKey(k)
    }

    /// Parse the written form: case, spaces and dashes do not matter, and O/I/L read as
    /// 0/1/1 (Crockford). A wrong length, a letter outside the alphabet or a failed check
    /// group is refused with a message saying which.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |m: String| StoreError::Recovery(format!("the recovery key is not valid: {m}"));
        let mut digits = Vec::with_capacity(DATA_CHARS + CHECK_CHARS);
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            match ALPHABET.iter().position(|&a| a as char == c) {
                Some(v) => digits.push(v as u64),
                None => return Err(bad(format!("{c:?} is not one of its letters or digits"))),
            }
        }
        if digits.len() != DATA_CHARS + CHECK_CHARS {
            return Err(bad(format!(
                "it has {} letters and digits, expected {} (14 groups of 4)",
                digits.len(),
                DATA_CHARS + CHECK_CHARS
            )));
        }
        let mut key = [0u8; 32];
        let (mut acc, mut bits, mut n) = (0u64, 0u32, 0usize);
        for d in &digits[..DATA_CHARS] {
            acc = (acc << 5) | d;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                if n < 32 {
                    key[n] = (acc >> bits) as u8;
                }
                n += 1;
            }
        }
        let typed: String = digits[DATA_CHARS..]
            .iter()
            .map(|&d| ALPHABET[d as usize] as char)
            .collect();
        if acc & ((1 << bits) - 1) != 0 || typed != check_of(&key) {
            return Err(bad(
                "it has a typo (its last group does not match the rest): check every group".into(),
            ));
        }
        Ok(RecoveryKey(key))
    }
}

impl fmt::Display for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = to_base32(&self.0, DATA_CHARS) + &check_of(&self.0);
        let groups: Vec<&str> = (0..all.len()).step_by(4).map(|i| &all[i..i + 4]).collect();
        f.write_str(&groups.join("-"))
    }
}

/// The database key wrapped under a recovery key, bound to the database id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub version: u32,
    pub db_id: String,
    /// hex of 16 bytes
    pub salt: String,
    /// hex of 32 bytes
    pub wrapped: String,
    /// hex of 32 bytes
    pub tag: String,
}

struct Derived {
    pad: [u8; 32],
    mac: hmac::Hmac<Sha256>,
}

fn derive(rk: &RecoveryKey, salt: &[u8]) -> Derived {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), &rk.0);
    let (mut pad, mut mac_key) = ([0u8; 32], [0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail.
    let _ = hk.expand(b"clinicdesk wrap v1 key", &mut pad);
    let _ = hk.expand(b"clinicdesk wrap v1 mac", &mut mac_key);
    let mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key)
        .expect("HMAC takes a key of any length");
    Derived { pad, mac }
}

fn tagged(
    mut mac: hmac::Hmac<Sha256>,
    db_id: &str,
    salt: &[u8],
    wrapped: &[u8],
) -> hmac::Hmac<Sha256> {
    mac.update(b"clinicdesk wrap v1");
    mac.update(&(db_id.len() as u64).to_be_bytes());
    mac.update(db_id.as_bytes());
    mac.update(salt);
    mac.update(wrapped);
    mac
}

impl WrappedKey {
    pub fn wrap(key: &DbKey, rk: &RecoveryKey, db_id: &DbId) -> WrappedKey {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let d = derive(rk, &salt);
        let mut wrapped = key.bytes();
        for (w, p) in wrapped.iter_mut().zip(d.pad) {
            *w ^= p;
        }
        let tag = tagged(d.mac, db_id.as_str(), &salt, &wrapped)
            .finalize()
            .into_bytes();
        WrappedKey {
            version: 1,
            db_id: db_id.to_string(),
            salt: hex::encode(salt),
            wrapped: hex::encode(wrapped),
            tag: hex::encode(tag),
        }
    }

    /// The database key, if `rk` is the recovery key this was wrapped under (checked by the
    /// tag before anything is unwrapped).
    pub fn unwrap_with(&self, rk: &RecoveryKey) -> Result<DbKey> {
        let damaged = || StoreError::Recovery("the backup's key header is damaged".into());
        if self.version != 1 {
            return Err(StoreError::Recovery(format!(
                "the backup's key header has version {}, which this version of ClinicDesk does not know",
                self.version
            )));
        }
        let salt = hex::decode(&self.salt).map_err(|_| damaged())?;
        let wrapped = hex::decode(&self.wrapped).map_err(|_| damaged())?;
        let tag = hex::decode(&self.tag).map_err(|_| damaged())?;
        if wrapped.len() != 32 {
            return Err(damaged());
        }
        let d = derive(rk, &salt);
        tagged(d.mac, &self.db_id, &salt, &wrapped)
            .verify_slice(&tag)
            .map_err(|_| {
                StoreError::Recovery(
                    "this recovery key does not open this backup (it belongs to another database, or a newer recovery kit replaced it)".into(),
                )
            })?;
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            *k = wrapped[i] ^ d.pad[i];
        }
        Ok(DbKey::from_bytes(key))
    }
}
