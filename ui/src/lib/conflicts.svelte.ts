// The sync conflicts inbox's count in the navigation (issue 13): the open conflicts the user
// should act on — on the front desk, those this PC's bookings lost; for managers and admins,
// every open one of their clinics. Read when the app opens and every 30 s.

import type { Session } from "../bindings";
import type { SyncConflictView } from "./types";
import { api } from "./commands";
import { attempt } from "./api";
import { can } from "./access";

export const conflicts = $state({ open: [] as SyncConflictView[] });

/** The user manages (manager or admin) the clinic: sees every conflict there, not only this PC's. */
export function managesClinic(session: Session | null, clinicId: string): boolean {
  return (session?.roles ?? []).some((r) => r.clinic_id === clinicId && (r.role === "manager" || r.role === "admin"));
}

/** The conflicts the badge counts. */
export function badgeCount(session: Session | null, open: readonly SyncConflictView[]): number {
  return open.filter((c) => c.resolved_at === null && (c.this_pc || managesClinic(session, c.clinic_id))).length;
}

/** Whether the navigation offers the inbox: to whoever may manage the schedule; on the front
 *  desk only while there is something to do. */
export function conflictsNavShown(session: Session | null, count: number): boolean {
  if (!can(session, null, "manage_schedule")) return false;
  const manager = (session?.roles ?? []).some((r) => r.role === "manager" || r.role === "admin");
  return manager || count > 0;
}

/** Re-read the open conflicts (nothing for a user who may not manage the schedule; a refusal
 *  keeps the last count: the screen itself shows errors). */
export async function refreshConflicts(session: Session | null): Promise<void> {
  if (!can(session, null, "manage_schedule")) {
    conflicts.open = [];
    return;
  }
  const r = await attempt(api.listSyncConflicts(false));
  if (r.ok) conflicts.open = r.data;
}
