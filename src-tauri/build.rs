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
    tauri_build::build()
}
