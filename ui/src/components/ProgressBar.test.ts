import { describe, expect, it, beforeEach } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import { flushSync } from "svelte";
import ProgressBar from "./ProgressBar.svelte";
import { applyProgress, percent, tasks } from "../lib/progress.svelte";
import { fakeBackend, shimMissingCommands } from "../test/ipc";

describe("progress", () => {
  beforeEach(() => {
    for (const k of Object.keys(tasks)) delete tasks[k];
    shimMissingCommands();
    const c = (globalThis as unknown as { __cancelShim?: boolean });
    void c;
  });

  it("keeps the latest report per task and drops finished ones", () => {
    applyProgress({ task: "backup", stage: "backup", done: 1, total: 10 });
    applyProgress({ task: "backup", stage: "backup", done: 4, total: 10 });
    expect(tasks.backup).toEqual({ task: "backup", stage: "backup", done: 4, total: 10 });
    expect(percent(tasks.backup!)).toBe(40);
    applyProgress({ task: "backup", stage: "backup", done: 10, total: 10 });
    expect(tasks.backup).toBeUndefined();
  });

  it("shows a progress bar with a cancel button that asks Rust to stop", async () => {
    const calls = fakeBackend({ cancel_task: () => true });
    render(ProgressBar);
    applyProgress({ task: "restore-1", stage: "restore", done: 3, total: 12 });
    flushSync();
    const bar = screen.getByRole("progressbar", { name: "restore: 3 of 12" });
    expect(bar).toHaveAttribute("value", "3");
    await fireEvent.click(screen.getByRole("button", { name: "Cancel restore" }));
    await waitFor(() => expect(calls).toEqual([{ cmd: "cancel_task", args: { taskId: "restore-1" } }]));
  });
});
