import { invoke } from "@tauri-apps/api/core";

// Minimal shell for the foundation issue: shows the database status and signs in. The desktop
// app issue replaces this with the front-desk and manager screens.

interface AppInfo {
  version: string;
  database: string;
  initialised: boolean;
  device_id: string;
}

interface ErrorBody {
  code: string;
  message: string;
}

interface Session {
  user_id: string;
  username: string;
  display_name: string;
  roles: { clinic_id: string; role: string }[];
}

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function errorText(e: unknown): string {
  const b = e as Partial<ErrorBody>;
  return typeof b?.message === "string" ? b.message : String(e);
}

async function start(): Promise<void> {
  const status = el<HTMLParagraphElement>("status");
  try {
    const info = await invoke<AppInfo>("app_info");
    status.textContent = info.initialised
      ? `ClinicDesk ${info.version} — database ${info.database}`
      : `ClinicDesk ${info.version} — new database; set it up with: clinicdesk init`;
    el<HTMLFormElement>("signin").hidden = !info.initialised;
  } catch (e) {
    status.textContent = `The clinic database could not be opened: ${errorText(e)}`;
  }
  el<HTMLFormElement>("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target as HTMLFormElement);
    const err = el<HTMLParagraphElement>("signin-error");
    err.textContent = "";
    try {
      const s = await invoke<Session>("login", {
        username: String(form.get("username") ?? ""),
        password: String(form.get("password") ?? ""),
      });
      status.textContent = `Signed in as ${s.display_name} (${s.roles.map((r) => r.role).join(", ")})`;
      el<HTMLFormElement>("signin").hidden = true;
    } catch (e) {
      err.textContent = errorText(e);
    }
  });
}

void start();
