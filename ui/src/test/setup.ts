import "@testing-library/jest-dom/vitest";
import { afterEach, beforeEach, vi } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { TEST_NOW } from "./clock";
import { afterNextFrame } from "../lib/painted";

// jsdom lacks what uPlot and the calendar use: matchMedia, ResizeObserver and
// IntersectionObserver (the calendar's now line). jsdom does no layout, so the observers never
// report anything: no size, no intersection (the calendar then leaves the now line as drawn).
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false, media: query, onchange: null,
      addListener: () => {}, removeListener: () => {}, addEventListener: () => {}, removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}
if (!("ResizeObserver" in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
if (!("IntersectionObserver" in window)) {
  class NoLayoutIntersectionObserver implements IntersectionObserver {
    readonly root: Element | Document | null;
    readonly rootMargin: string;
    readonly thresholds: ReadonlyArray<number>;
    constructor(callback: IntersectionObserverCallback, options: IntersectionObserverInit = {}) {
      if (typeof callback !== "function") throw new TypeError("IntersectionObserver: the callback is not a function");
      this.root = options.root ?? null;
      this.rootMargin = options.rootMargin ?? "0px 0px 0px 0px";
      const t = options.threshold ?? 0;
      this.thresholds = Array.isArray(t) ? [...t] : [t];
    }
    observe(_target: Element): void {}
    unobserve(_target: Element): void {}
    disconnect(): void {}
    takeRecords(): IntersectionObserverEntry[] {
      return [];
    }
  }
  (window as unknown as { IntersectionObserver: unknown }).IntersectionObserver = NoLayoutIntersectionObserver;
}

// No test reads the machine's clock: every test starts at TEST_NOW (see ./clock.ts), also while
// the test file is imported. A test's own vi.useRealTimers (after its fake timers) ends it, hence
// before each test again.
vi.setSystemTime(TEST_NOW);
beforeEach(() => {
  vi.setSystemTime(TEST_NOW);
});

afterEach(async () => {
  cleanup();
  // What the test's screens left for after the next frame (lib/painted.ts: the benchmark's
  // "painted" events, the schedule's read-ahead) runs now, against this test's fake backend and
  // while jsdom's window exists: not in the next test, nor after the test file's environment is
  // gone ("window is not defined"). Under fake timers it would never run: nothing to wait for.
  if (!vi.isFakeTimers()) await new Promise<void>((done) => afterNextFrame(done));
  clearMocks();
  vi.useRealTimers();
});
