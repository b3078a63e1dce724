// The app's session state: which screen the shell shows (setup, sign-in, lock, the app), who is
// signed in, the clinic being worked on, and the idle timer. The session itself lives in Rust
// (src-tauri/session.rs): the UI only mirrors its status. Every command goes through api.ts,
// whose `locked` / `not_signed_in` answers land here.

import type { AppInfo, DisplayPreferences, Session } from "../bindings";
import { attempt, onSessionLoss, type Outcome } from "./api";
import { api, listQuery } from "./commands";
import { IdleTimer } from "./idle";
import { sessionClinics } from "./access";
import { resolveFormat, type DisplayFormat } from "./format";
import type { Clinic, SessionStatus } from "./types";

export type Phase = "loading" | "fatal" | "missing" | "setup" | "signin" | "locked" | "app";

export const DEFAULT_IDLE_MINUTES = 15;

export const app = $state({
  phase: "loading" as Phase,
  info: null as AppInfo | null,
  fatal: "",
  /** Why the database is missing (phase "missing"). */
  missing: "",
  /** The recovery key to show once (after first-run setup), over whatever screen is up. */
  recoveryKey: null as string | null,
  /** The audit log's verification key, shown once with the recovery key after setup. */
  auditKey: null as string | null,
  session: null as Session | null,
  /** Why the lock screen is up. */
  lockReason: "",
  idleMinutes: DEFAULT_IDLE_MINUTES,
  clinicId: null as string | null,
  clinics: [] as Clinic[],
  /** The signed-in user's own display locale and hour cycle (None: the clinic's). */
  prefs: null as DisplayPreferences | null,
});

let timer: IdleTimer | null = null;

/** Start the UI's idle clock from what Rust says is left (`seconds_until_lock`). */
function startIdle(secondsLeft: number): void {
  timer?.stop();
  timer = new IdleTimer({
    timeoutMs: app.idleMinutes * 60_000,
    onIdle: () => void lockNow("idle"),
    onPing: () => void attempt(api.activity()),
  });
  timer.start(secondsLeft * 1000);
}

/** Called by the shell on every key press, click, pointer move and wheel. */
export function noteActivity(): void {
  timer?.activity();
}

/** Whether the UI's idle timer runs (for tests and the lock screen). */
export function idleTimerRunning(): boolean {
  return timer?.isRunning ?? false;
}

onSessionLoss((code, body) => {
  if (code === "locked") {
    timer?.stop();
    if (app.phase === "app") {
      app.lockReason = body.message;
      app.phase = "locked";
    }
  } else if (app.phase !== "setup") {
    timer?.stop();
    app.session = null;
    app.phase = "signin";
  }
});

export async function boot(): Promise<void> {
  const info = await attempt(api.appInfo());
  if (!info.ok && info.error.code === "database_missing") {
    app.missing = info.error.message;
    app.phase = "missing";
    return;
  }
  if (!info.ok) {
    app.fatal = `The clinic database could not be opened: ${info.error.message}`;
    app.phase = "fatal";
    return;
  }
  app.info = info.data;
  if (!info.data.initialised) {
    app.phase = "setup";
    return;
  }
  const st = await attempt(api.sessionStatus());
  if (st.ok && st.data.signed_in && st.data.user) {
    await apply(st.data);
    return;
  }
  app.phase = "signin";
}

/** Take the Rust side's session status as the truth. */
async function apply(st: SessionStatus): Promise<void> {
  if (!st.signed_in || !st.user) {
    timer?.stop();
    app.session = null;
    app.phase = "signin";
    return;
  }
  const newUser = app.session?.user_id !== st.user.user_id;
  app.session = st.user;
  if (st.idle_timeout_minutes > 0) app.idleMinutes = st.idle_timeout_minutes;
  const clinics = sessionClinics(st.user);
  if (!app.clinicId || !clinics.includes(app.clinicId)) app.clinicId = clinics[0] ?? null;
  if (newUser || app.clinics.length === 0) await loadClinics();
  if (newUser || !app.prefs) await loadPreferences();
  if (st.locked) {
    timer?.stop();
    app.phase = "locked";
    return;
  }
  app.lockReason = "";
  app.phase = "app";
  startIdle(st.seconds_until_lock);
}

export async function loadClinics(): Promise<void> {
  const r = await attempt(api.listClinics(listQuery(null)));
  if (r.ok) app.clinics = r.data;
}

export async function loadPreferences(): Promise<void> {
  const r = await attempt(api.displayPreferences());
  app.prefs = r.ok ? r.data : null;
}

/** How dates and times read for the signed-in user at the current clinic. */
export function displayFormat(): DisplayFormat {
  return resolveFormat(app.prefs, currentClinic());
}

export function currentClinic(): Clinic | null {
  return app.clinics.find((c) => c.id === app.clinicId) ?? null;
}

/** The clinic's IANA zone; the PC's own until the clinic list has loaded. */
export function clinicZone(): string {
  return currentClinic()?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export async function signIn(username: string, password: string): Promise<Outcome<SessionStatus>> {
  const r = await attempt(api.login(username, password));
  if (r.ok) await apply(r.data);
  return r;
}

export async function lockNow(reason: "idle" | "manual"): Promise<void> {
  timer?.stop();
  app.lockReason = reason === "idle" ? `Locked after ${app.idleMinutes} minutes without activity.` : "";
  app.phase = "locked";
  await attempt(api.lock());
}

export async function unlock(password: string): Promise<Outcome<SessionStatus>> {
  const r = await attempt(api.unlock(password));
  if (r.ok) await apply(r.data);
  return r;
}

/** Sign in as someone else from the lock screen (the locked session ends). */
export async function switchUser(): Promise<void> {
  timer?.stop();
  await attempt(api.logout());
  app.session = null;
  app.phase = "signin";
}

export async function signOut(): Promise<void> {
  await switchUser();
}

export async function setIdleMinutes(minutes: number): Promise<Outcome<SessionStatus>> {
  const r = await attempt(api.setIdleTimeout(minutes));
  if (r.ok) {
    app.idleMinutes = minutes;
    timer?.setTimeoutMs(minutes * 60_000);
  }
  return r;
}

export type SetupInput = {
  clinic_name: string;
  clinic_code: string;
  timezone: string;
  admin_username: string;
  admin_display_name: string;
  admin_password: string;
};

export async function setup(input: SetupInput): Promise<Outcome<SessionStatus>> {
  const clinic = { name: input.clinic_name, code: input.clinic_code, timezone: input.timezone };
  const r = await attempt(api.firstRunSetup(clinic, input.admin_username, input.admin_password));
  if (!r.ok) return r;
  if (app.info) app.info.initialised = true;
  const key = await attempt(api.takeRecoveryKey());
  if (key.ok && key.data) {
    app.recoveryKey = key.data.recovery_key;
    app.auditKey = key.data.audit_verification_key;
  }
  // first_run_setup names the admin "Administrator"; the name typed here replaces it.
  const user = r.data.user;
  if (user && input.admin_display_name.trim() && input.admin_display_name.trim() !== user.display_name) {
    const u = await attempt(api.updateUser(user.user_id, { display_name: input.admin_display_name.trim() }));
    if (u.ok) user.display_name = input.admin_display_name.trim();
  }
  await apply(r.data);
  return r;
}

/** The new database now holds demo data: sign in as one of its users. */
export function demoWritten(): void {
  if (app.info) app.info.initialised = true;
  app.phase = "signin";
}

/** The missing database was restored from a backup: sign in. */
export function databaseRestored(info: AppInfo): void {
  app.info = info;
  app.missing = "";
  app.phase = info.initialised ? "signin" : "setup";
}

/** A new, empty database replaces the missing one: first-run setup. */
export function newDatabaseStarted(info: AppInfo): void {
  app.info = info;
  app.missing = "";
  app.phase = "setup";
}

/** For tests: forget everything. */
export function resetSession(): void {
  timer?.stop();
  timer = null;
  Object.assign(app, { phase: "loading", info: null, fatal: "", missing: "", recoveryKey: null, auditKey: null, session: null, lockReason: "", idleMinutes: DEFAULT_IDLE_MINUTES, clinicId: null, clinics: [] });
}
