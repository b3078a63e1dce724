// Where things are. Every path can be overridden from the environment (scripts/e2e.sh sets none
// of them; they are for running the suite against another build).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// scripts/e2e.sh builds the app (with the custom protocol, so it loads ui/dist) and the CLI in
// one cargo run and copies both here: target/debug/ is shared with every other build of the
// checkout (a plain `cargo build` relinks the app without the custom protocol, and the CLI may
// come from newer code than the app), so the tests use a pair that was built together.
export const BIN_DIR = path.join(ROOT, "target/e2e");

/** The desktop app. */
export const APP_BIN = process.env.E2E_APP ?? path.join(BIN_DIR, "clinicdesk-app");

/** The `clinicdesk` CLI, used to prepare databases before the app starts. */
export const CLI_BIN = process.env.E2E_CLI ?? path.join(BIN_DIR, "clinicdesk");

/** Screenshots and logs, one of each per test. */
export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? path.join(ROOT, "artifacts/e2e");

/** tauri-driver: $TAURI_DRIVER, else on PATH, else cargo's bin folder (where setup.sh installs it). */
export function tauriDriverBin() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, "tauri-driver");
    if (dir && existsSync(p)) return p;
  }
  const cargoBin = path.join(process.env.CARGO_HOME ?? path.join(homedir(), ".cargo"), "bin/tauri-driver");
  if (existsSync(cargoBin)) return cargoBin;
  throw new Error("tauri-driver not found: run scripts/setup.sh (cargo install tauri-driver --locked)");
}
