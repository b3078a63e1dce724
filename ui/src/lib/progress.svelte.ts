// Long tasks (backup, restore, audit verification, demo data) report `progress` events
// `{task, done, total}` from Rust; the progress bar shows the latest per task and can ask the
// Rust side to stop one (`cancel_task`).

import type { UnlistenFn } from "@tauri-apps/api/event";
import { events } from "../bindings";
import { attempt } from "./api";
import { api } from "./commands";
import type { Progress } from "./types";

export const tasks = $state<Record<string, Progress>>({});

let unlisten: UnlistenFn | null = null;

export function applyProgress(p: Progress): void {
  if (p.total > 0 && p.done >= p.total) delete tasks[p.task];
  else tasks[p.task] = p;
}

export async function listenProgress(): Promise<void> {
  if (unlisten) return;
  try {
    unlisten = await events.progress.listen((e) => applyProgress(e.payload));
  } catch {
    // Outside Tauri (a plain browser): no events.
  }
}

export function stopListening(): void {
  unlisten?.();
  unlisten = null;
}

export async function cancelTask(task: string) {
  return attempt(api.cancelTask(task));
}

export function percent(p: Progress): number {
  return p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0;
}
