// Sync as the window sees it: the status (`sync_status`, read every few seconds while signed
// in) and the `sync_changed` event Rust raises when pulled rows changed tables, which screens
// watch to reload what they show (`changedSince`).

import type { UnlistenFn } from "@tauri-apps/api/event";
import { events } from "../bindings";
import { attempt } from "./api";
import { api } from "./commands";
import type { SyncStatusView } from "./types";

export const sync = $state<{ status: SyncStatusView | null; version: number; tables: string[] }>({
  status: null,
  version: 0,
  tables: [],
});

let unlisten: UnlistenFn | null = null;

/** Record a `sync_changed` event: the tables pulled rows changed. */
export function applySyncChanged(tables: string[]): void {
  sync.tables = tables;
  sync.version += 1;
}

/** Whether the latest change (version `v`) touched any of `tables`. */
export function touches(tables: readonly string[]): boolean {
  return sync.tables.some((t) => tables.includes(t));
}

export async function listenSync(): Promise<void> {
  if (unlisten) return;
  try {
    unlisten = await events.syncChanged.listen((e) => applySyncChanged(e.payload.tables));
  } catch (e) {
    console.error("sync events are not available:", e);
  }
}

/** Read the status once (errors leave the last one shown). */
export async function refreshSyncStatus(): Promise<void> {
  const r = await attempt(api.syncStatus());
  if (r.ok) sync.status = r.data;
}

/** What the header says: nothing for a PC that does not sync. */
export function syncLabel(s: SyncStatusView | null): { text: string; tone: "ok" | "warn" | "error" } | null {
  if (!s || !s.enrolled) return null;
  const waiting = s.pending_changes > 0 ? ` · ${s.pending_changes} waiting` : "";
  if (s.last_error && s.last_error.code !== "sync_offline") {
    return { text: `Sync stopped: ${s.last_error.message}`, tone: "error" };
  }
  if (!s.online) return { text: `Offline${waiting}`, tone: "warn" };
  return { text: `Synced${waiting}`, tone: "ok" };
}

/** The clock warning an administrator sees past 2 minutes of skew (Rust words it); nothing for
 *  other users, for a PC that does not sync, or within 2 minutes. Sync goes on regardless. */
export function clockWarning(s: SyncStatusView | null, admin: boolean): string | null {
  if (!admin || !s || !s.enrolled) return null;
  return s.clock_warning ?? null;
}
