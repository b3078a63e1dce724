// Long tasks (backup, restore, audit verification, demo data) report `progress` events
// `{task, done, total}` from Rust; the progress bar shows the latest per task and can ask the
// Rust side to stop one (`cancel_task`).

import type { UnlistenFn } from "@tauri-apps/api/event";
import { events } from "../bindings";
import { attempt } from "./api";
import { api } from "./commands";
import type { Progress } from "./types";

export const tasks = $state<Record<string, Progress>>({});
/** The last report of each finished task (the most recent few), for what a form says after. */
const finished = new Map<string, Progress>();
const FINISHED_KEPT = 20;

let unlisten: UnlistenFn | null = null;

export function applyProgress(p: Progress): void {
  if (p.total > 0 && p.done >= p.total) {
    delete tasks[p.task];
    finished.set(p.task, p);
    while (finished.size > FINISHED_KEPT) finished.delete(finished.keys().next().value as string);
  } else tasks[p.task] = p;
}

/**
 * The final report of task `id` once it arrives (events and a command's reply travel apart, so
 * it may come just after the reply), waiting at most `ms`; null when none came.
 */
export async function finalProgress(id: string, ms = 1000): Promise<Progress | null> {
  for (let waited = 0; ; waited += 50) {
    const p = finished.get(id);
    if (p || waited >= ms) return p ?? null;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function listenProgress(): Promise<void> {
  if (unlisten) return;
  try {
    unlisten = await events.progress.listen((e) => applyProgress(e.payload));
  } catch (e) {
    // Outside Tauri (a plain browser) there are no events; inside, a refusal means the
    // capability file was not loaded — say so where the logs will show it.
    console.error("progress events are not available:", e);
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
