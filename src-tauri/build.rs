fn main() {
    // `tauri::generate_context!` embeds ui/dist; keep plain `cargo build` working on a fresh
    // clone by writing a placeholder page when the UI has not been built (npm run build).
    let dist = std::path::Path::new("ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("create ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>ClinicDesk</title></head>\
             <body><main><h1>ClinicDesk</h1><p>The user interface has not been built. Run <code>npm run build</code>.</p></main></body></html>",
        )
        .expect("write placeholder ui/dist/index.html");
    }
    println!("cargo:rerun-if-changed=ui/dist");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed={CAPABILITY}");
    // This build script runs from the repository root (the root Cargo.toml is the app's
    // package), where tauri-build would look for ./capabilities and silently find none — the
    // app then refuses every plugin call and event listener. Name the folder, and declare the
    // app's own commands from the capability file itself: each `allow-<command>` listed there
    // is a command of this app, and a command the file does not list is refused at run time
    // (tests/desktop.rs checks the file lists exactly the commands of `ipc()`).
    let commands: &'static [&'static str] = Box::leak(app_commands().into_boxed_slice());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri-build");
}

const CAPABILITY: &str = "src-tauri/capabilities/default.json";

/// The app's own commands: the `allow-<name>` permissions (no plugin prefix) of the capability.
fn app_commands() -> Vec<&'static str> {
    let text = std::fs::read_to_string(CAPABILITY).expect("read the capability file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the capability is JSON");
    json["permissions"]
        .as_array()
        .expect("the capability lists permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|c| &*Box::leak(c.replace('-', "_").into_boxed_str()))
        .collect()
}
