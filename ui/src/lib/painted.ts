// Benchmark instrumentation (bench/ui.mjs, scripts/bench-ui.sh): tell whoever listens that
// what a screen just received is on screen. Nothing in the app listens; the benchmark does, from
// inside the page.
//
// "Painted" = Svelte has applied the pending state to the DOM (`tick`), then the next animation
// frame has begun (`requestAnimationFrame`), then a task after that frame's callbacks (so the
// frame's style, layout and paint, which follow its rAF callbacks, have run). The event's
// `detail.at` is `performance.now()` at that moment; `domAt` and `frameAt` are the moments the
// DOM was updated and the frame began (where the time went). Cost in normal use: one rAF and
// one timer per call, and no listener.

import { tick } from "svelte";

const raf: (f: () => void) => void =
  typeof requestAnimationFrame === "function" ? (f) => requestAnimationFrame(() => f()) : (f) => setTimeout(f, 16);

/** Run `f` in a task after the next frame (its style, layout and paint done): work that must
 *  not delay what is about to be painted. */
export function afterNextFrame(f: () => void): void {
  raf(() => setTimeout(f, 0));
}

/**
 * Dispatch `name` on `window` (a CustomEvent with `detail` plus `at`) once the current state is
 * painted. With `mark`, also leave a `performance.mark(name)` (for moments a listener cannot
 * wait for, such as the first screen after the page loads).
 */
export async function announcePainted(name: string, detail: Record<string, unknown> = {}, { mark = false } = {}): Promise<void> {
  await tick();
  const domAt = performance.now();
  raf(() => {
    const frameAt = performance.now();
    setTimeout(() => {
      const at = performance.now();
      if (mark) performance.mark(name);
      window.dispatchEvent(new CustomEvent(name, { detail: { ...detail, domAt, frameAt, at } }));
    }, 0);
  });
}
