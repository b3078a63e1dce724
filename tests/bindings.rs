//! The committed TypeScript bindings (ui/src/bindings.ts) must match the Rust commands.
//! `UPDATE_BINDINGS=1 cargo test --test bindings` rewrites them.

#[test]
fn typescript_bindings_are_up_to_date() {
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    clinicdesk_app_lib::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &fresh).unwrap();
        return;
    }
    let old = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        old == fresh,
        "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test --test bindings` and commit it"
    );
}
