//! Where an enrolled PC keeps its sync password (`SecretPlace`): the OS keyring entry
//! `ClinicDesk / sync:<database id>` (keyring-core's mock store here), or a file beside the
//! database key file; never overwritten.

use clinicdesk_store::{DbId, KeySource, SecretPlace, StoreError};

#[test]
fn the_sync_password_goes_beside_the_db_key_and_is_never_overwritten() {
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let id = DbId::generate();

    let place = SecretPlace::sync(&KeySource::Keyring, &id, None);
    assert_eq!(
        place,
        SecretPlace::Keyring {
            account: format!("sync:{id}")
        }
    );
    assert_eq!(place.get().unwrap(), None);
    place.put_new("first").unwrap();
    assert_eq!(place.get().unwrap().as_deref(), Some("first"));
    let err = place.put_new("second").unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("not overwritten"), "{err}");
    assert_eq!(place.get().unwrap().as_deref(), Some("first"));
    // An enrolment that did not complete removes what it kept (twice is harmless).
    place.remove().unwrap();
    place.remove().unwrap();
    assert_eq!(place.get().unwrap(), None);
    place.put_new("first").unwrap();
    // Another database has its own entry.
    assert_eq!(
        SecretPlace::sync(&KeySource::Keyring, &DbId::generate(), None)
            .get()
            .unwrap(),
        None
    );

    // A key file: `<key file>.sync` beside it (mode 0600), unless a file is named.
    let dir = tempfile::tempdir().unwrap();
    let key = KeySource::File(dir.path().join("c.key"));
    let place = SecretPlace::sync(&key, &id, None);
    assert_eq!(place, SecretPlace::File(dir.path().join("c.key.sync")));
    place.put_new("in a file").unwrap();
    assert_eq!(place.get().unwrap().as_deref(), Some("in a file"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("c.key.sync"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(place.put_new("again").is_err());
    assert_eq!(place.get().unwrap().as_deref(), Some("in a file"));
    place.remove().unwrap();
    assert!(!dir.path().join("c.key.sync").exists());
    let named = dir.path().join("named.sync");
    assert_eq!(
        SecretPlace::sync(&key, &id, Some(named.clone())),
        SecretPlace::File(named)
    );
}
