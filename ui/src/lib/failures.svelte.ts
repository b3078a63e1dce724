// The safety net for failures no screen caught: a call that threw (`call` throws an ApiError;
// the IPC layer can reject) with nobody to show it. The shell shows the latest one in an alert
// at the top of the window, so a failed call is never silent. Screens still show their own
// failures beside the form or list that made the call; this is for what slipped through.

import { SESSION_CODES, toErrorBody } from "./api";
import type { ErrorBody } from "../bindings";

export const failures: { last: ErrorBody | null } = $state({ last: null });

/** Note a failure nobody handled. Session codes are not failures: the lock or sign-in screen
 *  answers them. */
export function reportFailure(e: unknown): void {
  const body = toErrorBody(e);
  if ((SESSION_CODES as readonly string[]).includes(body.code)) return;
  failures.last = body;
}

export function dismissFailure(): void {
  failures.last = null;
}

/** Listen for unhandled rejections and errors on the window. Returns the unsubscribe. */
export function listenFailures(): () => void {
  const rejected = (ev: Event) => reportFailure((ev as PromiseRejectionEvent).reason);
  const errored = (ev: Event) => reportFailure((ev as ErrorEvent).error ?? (ev as ErrorEvent).message);
  window.addEventListener("unhandledrejection", rejected);
  window.addEventListener("error", errored);
  return () => {
    window.removeEventListener("unhandledrejection", rejected);
    window.removeEventListener("error", errored);
  };
}
