// Test helpers: a fake Rust side behind mockIPC, and shims for commands the generated bindings
// do not have yet (each shim is what tauri-specta generates: invoke with the named arguments,
// errors wrapped as {status: "error"}). A shim is only added when the binding is missing.

import { mockIPC } from "@tauri-apps/api/mocks";
import { invoke } from "@tauri-apps/api/core";
import { commands } from "../bindings";

type Handler = (args: Record<string, unknown>) => unknown;

/** A refusal from the fake Rust side. */
export class Refusal {
  constructor(
    public code: string,
    public message: string,
  ) {}
}

export const refuse = (code: string, message: string) => new Refusal(code, message);

/**
 * Install a fake backend: command name (snake_case) → handler; returns the call log. With
 * `events`, `listen`/`emit` of @tauri-apps/api/event work in the test (and are not logged).
 */
export function fakeBackend(handlers: Record<string, Handler>, opts: { events?: boolean } = {}) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const h = handlers[cmd];
    if (!h) throw { code: "not_found", message: `no fake for ${cmd}` };
    const out = h(args);
    if (out instanceof Refusal) throw { code: out.code, message: out.message };
    return out;
  }, { shouldMockEvents: opts.events ?? false });
  return calls;
}

async function wrapped(p: Promise<unknown>) {
  try {
    return { status: "ok", data: await p };
  } catch (e) {
    if (e instanceof Error) throw e;
    return { status: "error", error: e };
  }
}

/** camelName → [snake_name, ...argument names], as the Rust commands declare them. */
const SIGNATURES: Record<string, string[]> = {
  firstRunSetup: ["clinic", "username", "password"],
  sessionStatus: [],
  logout: [],
  lock: [],
  unlock: ["password"],
  activity: [],
  getIdleTimeout: [],
  setIdleTimeout: ["minutes"],
  listClinics: ["query"],
  listStaff: ["query"],
  listRooms: ["query"],
  searchPatients: ["query", "limit"],
  createPatient: ["clinicId", "fields"],
  daySchedule: ["clinicId", "date", "providerId"],
  weekSchedule: ["clinicId", "start", "providerId"],
  listRoster: ["clinicId", "from", "to", "staffId"],
  listAvailabilityBlocks: ["clinicId", "from", "to", "providerId"],
  availableSlots: ["clinicId", "providerId", "durationMinutes", "from", "to"],
  bookAppointment: ["clinicId", "fields"],
  rescheduleAppointment: ["appointmentId", "fields"],
  setAppointmentStatus: ["appointmentId", "action", "reason"],
  previewSeries: ["clinicId", "fields"],
  bookSeries: ["clinicId", "fields"],
  todaysAppointments: ["clinicId", "providerId"],
  listWaitlist: ["clinicId"],
  acceptOffer: ["offerId"],
  declineOffer: ["offerId"],
  updateUser: ["userId", "fields"],
  cancelTask: ["taskId"],
  backup: ["taskId", "path"],
  restore: ["taskId", "path"],
  createUser: ["fields", "password"],
  grantRole: ["userId", "clinicId", "role"],
  revokeRole: ["userId", "clinicId", "role"],
  createClinic: ["fields"],
  updateClinic: ["clinicId", "fields"],
  createRoom: ["clinicId", "fields"],
  listCredentialTypes: ["query"],
  createCredentialType: ["fields"],
  createShiftTemplate: ["clinicId", "fields"],
  listAppointmentTypes: ["clinicId"],
  addToWaitlist: ["clinicId", "fields"],
  removeFromWaitlist: ["entryId"],
  pendingReminders: ["clinicId", "untilMs"],
  exportPendingRemindersCsv: ["clinicId", "untilMs", "path"],
  markReminder: ["reminderId", "outcome", "failureReason"],
  credentialDashboard: ["filter"],
  listCredentialAlerts: ["filter", "includeAcknowledged"],
  acknowledgeCredentialAlert: ["alertId"],
  renewCredential: ["credentialId", "fields"],
  recordCredentialVerification: ["credentialId", "fields"],
  listShiftTemplates: ["query"],
  assignShift: ["clinicId", "fields"],
  listSwaps: ["clinicId"],
  decideSwap: ["swapId", "approve", "note", "overrideReason"],
  listTimeOff: ["clinicId"],
  decideTimeOff: ["requestId", "approve", "note"],
  listCoverageNeeds: ["clinicId", "status"],
  fillCoverageNeed: ["needId", "staffId", "overrideReason"],
  listCases: ["clinicId", "status"],
  getCaseDetail: ["caseId"],
  setCaseStatus: ["caseId", "status"],
  kpiReport: ["clinicId", "period", "from", "to"],
  listGoals: ["clinicId"],
  listCapacitySnapshots: ["clinicId", "from", "to", "limit"],
  takeCapacitySnapshot: ["clinicId"],
  verifyAudit: [],
  auditAnchor: [],
  listAudit: ["filter"],
  listUsers: ["query"],
  listRoles: ["clinicId"],
};

const snake = (n: string) => n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Add the shims for every command in SIGNATURES that the bindings lack. */
export function shimMissingCommands(): void {
  const c = commands as unknown as Record<string, unknown>;
  for (const [name, params] of Object.entries(SIGNATURES)) {
    if (typeof c[name] === "function") continue;
    c[name] = (...a: unknown[]) => wrapped(invoke(snake(name), Object.fromEntries(params.map((p, i) => [p, a[i]]))));
  }
}
