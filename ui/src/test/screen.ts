// Helpers the screen tests share: signed in with one role at the test clinic, and what each
// call of one command sent.
import { app, resetSession } from "../lib/session.svelte";
import type { Role } from "../bindings";
import { clinic, CLINIC_ID, sessionFor } from "./fixtures";

export function signedInAs(role: Role): void {
  resetSession();
  app.session = { ...sessionFor(), roles: [{ clinic_id: CLINIC_ID, role }] };
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
}

/** The arguments of every call of `cmd` in a fake backend's call log, in order. */
export function argsOf(calls: { cmd: string; args: Record<string, unknown> }[], cmd: string): Record<string, unknown>[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}
