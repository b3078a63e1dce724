//! Forward-secure sealing of the audit chain (as journald's sealing): the database holds only
//! the current sealing key K_i (`local_meta` 'audit_seal_key'). Sealing appends to
//! `audit_seals` (V8) the row (epoch i, first seq, last seq, hash of the last entry,
//! HMAC-SHA256 under K_i of those four), then replaces K_i by K_{i+1} = H(K_i) and erases it.
//! Whoever holds the database key today holds K_n and can seal from now on, but cannot compute
//! an earlier key (H is one-way), so cannot re-seal entries sealed before. The administrator
//! keeps K_0, the verification key, shown once when it is created: `verify` with it recomputes
//! every epoch's key and checks every seal, and that the stored key is H^n(K_0) for the n
//! seals found (so seals removed with the entries they cover are detected too).
//!
//! Not guaranteed: entries after the last seal can be rewritten or cut off by a key holder
//! (only an anchor of the chain head off this PC detects that — the sync issue's); old keys
//! are overwritten in the database (secure_delete, then a WAL checkpoint), but a copy made
//! before (a backup, a file copy, a filesystem snapshot, blocks an SSD remapped) keeps the key
//! of its time; with it, entries sealed after that copy can be re-sealed.

use std::fmt;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// `local_meta` key of the current sealing key.
pub(crate) const SEAL_KEY_META: &str = "audit_seal_key";

/// A sealing key: K_0 (the verification key the administrator keeps) or a later epoch's key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl SealKey {
    pub(crate) fn generate() -> SealKey {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SealKey(k)
    }

    /// Parse a verification key (64 hexadecimal digits; spaces and dashes are ignored, so a
    /// key copied in groups works).
    pub fn from_hex(s: &str) -> Result<SealKey> {
        let clean: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let bytes = hex::decode(&clean)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        bytes.map(SealKey).ok_or_else(|| {
            StoreError::MalformedKey(
                "the audit verification key must be 64 hexadecimal digits".into(),
            )
        })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// K_{i+1} = sha256("clinicdesk-audit-seal-evolve" || K_i).
    pub(crate) fn next(&self) -> SealKey {
        let mut d = Sha256::new();
        d.update(b"clinicdesk-audit-seal-evolve");
        d.update(self.0);
        SealKey(d.finalize().into())
    }

    /// The seal of epoch `epoch` over entries `from..=to` whose last entry's hash is `head`.
    pub(crate) fn mac(&self, epoch: i64, from: i64, to: i64, head: &str) -> String {
        let msg = format!("clinicdesk-audit-seal;{epoch};{from};{to};{head}");
        hex::encode(hmac_sha256(&self.0, msg.as_bytes()))
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// HMAC-SHA256 (RFC 2104) for a key of at most one block.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn stored_key(conn: &Connection) -> Result<Option<SealKey>> {
    let hex: Option<String> = conn
        .query_row(
            "SELECT value FROM local_meta WHERE key = ?1",
            [SEAL_KEY_META],
            |r| r.get(0),
        )
        .optional()?;
    hex.map(|h| {
        SealKey::from_hex(&h)
            .map_err(|_| StoreError::Data("the stored audit sealing key is malformed".into()))
    })
    .transpose()
}

/// Give a database without a sealing key its K_0 (at creation, or the first open of a database
/// created before sealing existed); returns it so the front door can show it once.
pub(crate) fn init_key(conn: &Connection) -> Result<Option<SealKey>> {
    if stored_key(conn)?.is_some() {
        return Ok(None);
    }
    let k0 = SealKey::generate();
    conn.execute(
        "INSERT INTO local_meta (key, value) VALUES (?1, ?2)",
        params![SEAL_KEY_META, k0.to_hex()],
    )?;
    Ok(Some(k0))
}

/// One seal appended by [`seal`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct Seal {
    pub epoch: i64,
    pub from_seq: i64,
    pub to_seq: i64,
}

/// Seal the entries after the last seal (none when there are none) and evolve the key. Call
/// inside a write transaction.
pub(crate) fn seal(conn: &Connection, now_ms: i64) -> Result<Option<Seal>> {
    let key =
        match stored_key(conn)? {
            Some(k) => k,
            None => return Err(StoreError::Data(
                "this database has no audit sealing key (removed?): run `clinicdesk audit verify`"
                    .into(),
            )),
        };
    let last: Option<(i64, i64)> = conn
        .query_row(
            "SELECT epoch, to_seq FROM audit_seals ORDER BY epoch DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (epoch, from) = last.map_or((0, 1), |(e, to)| (e + 1, to + 1));
    let Some((to, head)) = head.filter(|(to, _)| *to >= from) else {
        return Ok(None);
    };
    conn.execute(
        "INSERT INTO audit_seals (epoch, from_seq, to_seq, head_hash, mac, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![epoch, from, to, head, key.mac(epoch, from, to, &head), now_ms],
    )?;
    conn.execute(
        "UPDATE local_meta SET value = ?2 WHERE key = ?1",
        params![SEAL_KEY_META, key.next().to_hex()],
    )?;
    Ok(Some(Seal {
        epoch,
        from_seq: from,
        to_seq: to,
    }))
}

/// What [`check`] found.
pub(crate) struct SealCheck {
    pub seals: u64,
    pub checked: bool,
    pub sealed_through: Option<i64>,
    /// The first problem: (the audit entry it concerns, what).
    pub problem: Option<(Option<i64>, String)>,
}

/// Check the seals against the audit log: each covers the entries after the one before, its
/// last entry exists with the hash it sealed; with the verification key `k0`, each seal's MAC
/// and the stored key (H^n(K_0) after n seals).
pub(crate) fn check(conn: &Connection, k0: Option<&SealKey>) -> Result<SealCheck> {
    let mut stmt = conn.prepare(
        "SELECT s.epoch, s.from_seq, s.to_seq, s.head_hash, s.mac, a.hash
         FROM audit_seals s LEFT JOIN audit_log a ON a.seq = s.to_seq ORDER BY s.epoch",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = SealCheck {
        seals: 0,
        checked: k0.is_some(),
        sealed_through: None,
        problem: None,
    };
    let mut key = k0.cloned();
    let mut expected_from = 1;
    while let Some(r) = rows.next()? {
        let (epoch, from, to): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (head, mac, entry_hash): (String, String, Option<String>) =
            (r.get(3)?, r.get(4)?, r.get(5)?);
        let problem = if epoch != out.seals as i64 || from != expected_from {
            Some((
                Some(expected_from),
                format!("seal {epoch} does not follow the seal before it (a seal was removed)"),
            ))
        } else if entry_hash.is_none() {
            Some((
                Some(to),
                format!("entries up to {to} were sealed but entry {to} is missing (the log was cut off)"),
            ))
        } else if entry_hash.as_deref() != Some(head.as_str()) {
            Some((
                Some(to),
                format!("entry {to} no longer matches seal {epoch} (history was rewritten)"),
            ))
        } else if key
            .as_ref()
            .is_some_and(|k| k.mac(epoch, from, to, &head) != mac)
        {
            Some((
                Some(from),
                format!("seal {epoch} (entries {from}-{to}) does not verify with the verification key: the key is not this database's, or the seal was forged (history rewritten)"),
            ))
        } else {
            None
        };
        if problem.is_some() {
            out.problem = problem;
            return Ok(out);
        }
        out.seals += 1;
        out.sealed_through = Some(to);
        expected_from = to + 1;
        key = key.map(|k| k.next());
    }
    if let Some(expected) = key {
        match stored_key(conn)? {
            None => {
                out.problem = Some((None, "the audit sealing key was removed".into()));
            }
            Some(k) if k != expected => {
                out.problem = Some((
                    out.sealed_through.map(|s| s + 1),
                    format!(
                        "the sealing key does not follow from the verification key after {} seals: later seals were removed (the log was cut off), or the key is not this database's",
                        out.seals
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 has a short key; case with a 32-byte key: computed against the
    /// definition (key padded with zeros to the block).
    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: key "Jefe" (zero-padded to 32 bytes gives the same HMAC: the key is
        // zero-padded to the block size anyway).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac_sha256(&key, b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keys_evolve_one_way_and_parse() {
        let k0 = SealKey::generate();
        let k1 = k0.next();
        assert_ne!(k0, k1);
        assert_eq!(k1, k0.next());
        assert_ne!(k0.mac(0, 1, 2, "h"), k1.mac(0, 1, 2, "h"));
        assert_ne!(k0.mac(0, 1, 2, "h"), k0.mac(0, 1, 3, "h"));
        let hex = k0.to_hex();
        let grouped = format!("{}-{} {}", &hex[..16], &hex[16..32], &hex[32..]);
        assert_eq!(SealKey::from_hex(&grouped).unwrap(), k0);
        assert!(SealKey::from_hex("abc").is_err());
        assert!(SealKey::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(format!("{k0:?}"), "SealKey(<redacted>)");
    }
}
