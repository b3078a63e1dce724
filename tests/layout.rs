//! The shape of the code, enforced (ARCHITECTURE.md, "Invariants"): the ops modules of the API
//! import each other without a circle, the desktop binary links no PostgreSQL client, the API
//! holds no demo or benchmark code, and the front doors reach the store only through the API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module an ops file belongs to at the top level of `ops/` ("booking/rules.rs" → the
/// submodule "booking::rules": booking's parts are nodes of their own).
fn module_of(ops: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(ops).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "mod")
        .collect();
    parts.join("::")
}

/// Which other ops modules a file names (`super::x`, `crate::ops::x`, `super::booking::rules`).
fn references(src: &str, me: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // `super::` in `booking/rules.rs` is `booking`; at the top of `ops/` it is `ops` itself.
    let parent = me.rsplit_once("::").map(|(p, _)| p.to_string());
    for prefix in ["super::super::", "crate::ops::", "super::"] {
        let base = match (prefix, &parent) {
            ("super::", Some(p)) => format!("{p}::"),
            _ => String::new(),
        };
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            // "super::super::" also contains "super::": skip what a longer prefix matched.
            if prefix == "super::" && rest[..i].ends_with("super::") {
                rest = &rest[i + prefix.len()..];
                continue;
            }
            let tail = &rest[i + prefix.len()..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = format!("{base}{path}");
            let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            // The longest known module the path starts with.
            for n in (1..=segs.len()).rev() {
                let m = segs[..n].join("::");
                if known.contains(&m) && m != me {
                    out.insert(m);
                    break;
                }
            }
            rest = &tail[(path.len() - base.len()).min(tail.len())..];
        }
    }
    out
}

#[test]
fn ops_modules_import_each_other_without_a_circle() {
    let ops = root().join("crates/api/src/ops");
    let mut files = Vec::new();
    rust_files(&ops, &mut files);
    let known: BTreeSet<String> = files.iter().map(|f| module_of(&ops, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let me = module_of(&ops, f);
        if me.is_empty() {
            continue; // ops/mod.rs: declarations and re-exports only
        }
        let src = std::fs::read_to_string(f).unwrap();
        // A submodule's parent (`booking` for `booking::rules`) only declares it.
        let refs: BTreeSet<String> = references(&src, &me, &known)
            .into_iter()
            .filter(|r| !r.is_empty() && !me.starts_with(&format!("{r}::")))
            .collect();
        graph.entry(me).or_default().extend(refs);
    }
    assert!(graph.contains_key("booking::rules"), "{graph:?}");
    // Depth-first search for a back edge; report the circle.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let i = path.iter().position(|p| p == n).unwrap_or(0);
                let mut circle = path[i..].to_vec();
                circle.push(n.to_string());
                return Some(circle);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if let Some(circle) = visit(n, &graph, &mut state, &mut Vec::new()) {
            panic!(
                "an import circle among the ops modules: {}",
                circle.join(" → ")
            );
        }
    }
    // The booking parts point one way: rules ← effects ← flows, and none names an area module.
    let rules = &graph["booking::rules"];
    assert!(
        rules.iter().all(|m| m == "time"),
        "booking::rules imports {rules:?}"
    );
    for part in ["booking::effects", "booking::flows"] {
        for m in &graph[part] {
            assert!(
                m.starts_with("booking::") || m == "time" || m == "kpis",
                "{part} imports the area module {m}"
            );
        }
    }
}

#[test]
fn the_circle_check_sees_a_circle() {
    let known: BTreeSet<String> = ["a", "b", "booking::rules", "booking"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let refs = references(
        "use super::b::x;\nuse crate::ops::booking::rules::Candidate;\n// super::a in a comment\n",
        "a",
        &known,
    );
    assert_eq!(
        refs,
        ["b", "booking::rules"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    // Inside booking/, `super::rules` is booking::rules and `super::super::a` is a.
    let known: BTreeSet<String> = ["a", "booking::rules", "booking::flows"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let refs = references(
        "use super::rules::Candidate;\nuse super::super::a::f;\n",
        "booking::flows",
        &known,
    );
    assert_eq!(
        refs,
        ["a", "booking::rules"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

fn cargo_tree(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["tree", "-e", "normal", "--prefix", "none", "-p", package])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The desktop links PostgreSQL only through the sync client (its background loop), never a
/// test cluster or the benchmarks; the API links none at all.
#[test]
fn the_desktop_binary_links_postgres_only_through_the_sync_client() {
    let tree = cargo_tree("clinicdesk-app");
    assert!(tree.contains("clinicdesk-api "), "{tree}");
    assert!(tree.contains("clinicdesk-sync "), "{tree}");
    for banned in ["clinicdesk-pgcluster ", "clinicdesk-bench "] {
        assert!(
            !tree.lines().any(|l| l.starts_with(banned)),
            "the desktop app depends on {banned}"
        );
    }
    let api = cargo_tree("clinicdesk-api");
    for banned in [
        "postgres ",
        "tokio-postgres ",
        "clinicdesk-sync ",
        "clinicdesk-server ",
    ] {
        assert!(
            !api.lines().any(|l| l.starts_with(banned)),
            "the API depends on {banned}"
        );
    }
}

#[test]
fn the_api_holds_no_demo_or_benchmark_code() {
    let api = root().join("crates/api/src");
    let mut files = Vec::new();
    rust_files(&api, &mut files);
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            name != "demo" && name != "bench",
            "{} belongs in crates/demo or crates/bench",
            f.display()
        );
        let src = std::fs::read_to_string(&f).unwrap();
        assert!(
            !src.contains("pgcluster") && !src.contains("postgres::"),
            "{} talks to PostgreSQL",
            f.display()
        );
    }
}

/// The `clinicdesk-*` crates a manifest's `[dependencies]` names (not its dev-dependencies).
fn our_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        if section == "[dependencies]" && line.starts_with("clinicdesk-") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn the_front_doors_depend_on_the_api_only() {
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    assert_eq!(
        our_dependencies(&root().join("Cargo.toml")),
        // clinicdesk-sync: the background sync loop of an enrolled PC; clinicdesk-interop: FHIR
        // and iCalendar (Admin → Export and import, the schedule's calendar export).
        set(&[
            "clinicdesk-api",
            "clinicdesk-demo",
            "clinicdesk-interop",
            "clinicdesk-sync"
        ]),
        "the desktop shell"
    );
    assert_eq!(
        our_dependencies(&root().join("crates/cli/Cargo.toml")),
        // clinicdesk-server: the sync server's admin commands (`server …`, `sync enrol`);
        // clinicdesk-interop: FHIR and iCalendar (`export …`, `import fhir`).
        set(&[
            "clinicdesk-api",
            "clinicdesk-bench",
            "clinicdesk-demo",
            "clinicdesk-interop",
            "clinicdesk-server",
            "clinicdesk-sync",
        ]),
        "the CLI"
    );
    // The check reads the right section: the workspace's own table lists every crate.
    assert!(our_dependencies(&root().join("crates/bench/Cargo.toml")).contains("clinicdesk-store"));
}
