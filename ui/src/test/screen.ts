// Helpers the screen tests share: signed in with one role at the test clinic, and what each
// call of one command sent.
import { fireEvent, screen } from "@testing-library/svelte";
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

/** Fill the first-run setup form (clinic Calgary North, CGY, admin "admin") and submit it. */
export async function submitSetup(displayName: string): Promise<void> {
  const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });
  await type("Clinic name", "Calgary North");
  await type("Clinic code", "cgy");
  await type("Time zone", "America/Edmonton");
  await type("Admin username", "admin");
  await type("Admin display name", displayName);
  await type("Admin password", "correct horse battery");
  await fireEvent.click(screen.getByRole("button", { name: "Create clinic" }));
}
