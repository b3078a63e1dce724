// A tiny hash router: "#/schedule", "#/admin/users". The first segment is the screen.

import type { Screen } from "./access";

export const route = $state({ screen: "schedule" as Screen, rest: [] as string[] });

const SCREENS: Screen[] = ["schedule", "today", "waitlist", "conflicts", "reminders", "credentials", "roster", "cases", "kpis", "capacity", "admin"];

export function parseHash(hash: string): { screen: Screen; rest: string[] } {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const s = parts[0] as Screen | undefined;
  return s && SCREENS.includes(s) ? { screen: s, rest: parts.slice(1) } : { screen: "schedule", rest: [] };
}

function sync(): void {
  const r = parseHash(window.location.hash);
  route.screen = r.screen;
  route.rest = r.rest;
}

export function startRouter(): () => void {
  sync();
  window.addEventListener("hashchange", sync);
  return () => window.removeEventListener("hashchange", sync);
}

export function href(screen: Screen, ...rest: string[]): string {
  return `#/${[screen, ...rest].join("/")}`;
}

export function go(screen: Screen, ...rest: string[]): void {
  window.location.hash = href(screen, ...rest);
}
