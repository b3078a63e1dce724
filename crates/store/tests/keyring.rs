//! The default key source: the OS keyring (here keyring-core's mock store, which stands in for
//! Secret Service / Credential Manager / keychain in tests).

use clinicdesk_store::{KeySource, Store, StoreError};

#[test]
fn key_lives_in_the_keyring_and_a_missing_entry_is_a_clear_error() {
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    drop(Store::create(&path, &KeySource::Keyring).unwrap());
    // No key file anywhere: the key is only in the keyring.
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "key"))
            .count(),
        0
    );
    let store = Store::open(&path, &KeySource::Keyring).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    drop(store);

    // Another database path has no entry: refused with a message saying why.
    let other = dir.path().join("other.db");
    std::fs::copy(&path, &other).unwrap();
    let err = Store::open(&other, &KeySource::Keyring).err().unwrap();
    assert!(matches!(err, StoreError::MissingKey { .. }), "{err}");
    assert!(err.to_string().contains("keyring has no key"), "{err}");
}
