import { commands, type ErrorBody } from "./bindings";

// Minimal shell for the foundation issue: shows the database status and signs in. The desktop
// app issue replaces this with the front-desk and manager screens.

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function errorText(e: ErrorBody): string {
  return e.message;
}

async function start(): Promise<void> {
  const status = el<HTMLParagraphElement>("status");
  const info = await commands.appInfo();
  if (info.status === "error") {
    status.textContent = `The clinic database could not be opened: ${errorText(info.error)}`;
    return;
  }
  status.textContent = info.data.initialised
    ? `ClinicDesk ${info.data.version} — database ${info.data.database}`
    : `ClinicDesk ${info.data.version} — new database; set it up with: clinicdesk init`;
  el<HTMLFormElement>("signin").hidden = !info.data.initialised;
  el<HTMLFormElement>("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target as HTMLFormElement);
    const err = el<HTMLParagraphElement>("signin-error");
    err.textContent = "";
    const r = await commands.login(String(form.get("username") ?? ""), String(form.get("password") ?? ""));
    if (r.status === "error") {
      err.textContent = errorText(r.error);
      return;
    }
    status.textContent = `Signed in as ${r.data.display_name} (${r.data.roles.map((x) => x.role).join(", ")})`;
    el<HTMLFormElement>("signin").hidden = true;
  });
}

void start();
