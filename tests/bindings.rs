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

/// The capability file names exactly the app's commands (`allow-<command>`): the build script
/// declares the app's commands from it, so a command missing there is refused at run time and
/// one left over names nothing. It grants no plugin permission but Tauri's core (events: the
/// progress bars) — file dialogs are opened by Rust, logging is Rust's.
#[test]
fn the_capability_file_lists_every_command_and_nothing_else() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    clinicdesk_app_lib::export_bindings(&fresh).unwrap();
    let ts = std::fs::read_to_string(&fresh).unwrap();
    let mut commands: Vec<String> = ts
        .split("__TAURI_INVOKE")
        .skip(1)
        .filter_map(|rest| rest.split_once("(\"")?.1.split('"').next())
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    commands.sort();
    commands.dedup();
    assert!(commands.len() > 100, "{} commands", commands.len());
    let cap: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("src-tauri/capabilities/default.json")).unwrap(),
    )
    .unwrap();
    let perms: Vec<&str> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    let plugins: Vec<&&str> = perms.iter().filter(|p| p.contains(':')).collect();
    assert_eq!(plugins, [&"core:default"], "only Tauri's core is granted");
    let mut listed: Vec<String> = perms
        .iter()
        .filter(|p| !p.contains(':'))
        .map(|p| p.to_string())
        .collect();
    listed.sort();
    let missing: Vec<_> = commands.iter().filter(|c| !listed.contains(c)).collect();
    let extra: Vec<_> = listed.iter().filter(|c| !commands.contains(c)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "src-tauri/capabilities/default.json: missing {missing:?}, not commands {extra:?}"
    );
}
