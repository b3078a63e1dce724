// What the front desk may do next with an appointment. The table of legal next steps is the
// domain's (`AppointmentAction::next_steps` in crates/domain/src/status.rs), exported through the
// generated bindings as APPOINTMENT_NEXT_STEPS: the UI adds only how each step looks (its button
// and its key). The first step of a status is its primary one, the prominent button. Rust still
// decides: rules beyond the status (a no-show only after the start, a move's booking rules) are
// refused by the API and shown in its words.

import { APPOINTMENT_NEXT_STEPS } from "../bindings";
import type { AppointmentAction, AppointmentStatus } from "./types";

export type ActionLook = {
  /** The button's text (the e2e tests find the buttons by it). */
  label: string;
  /** The schedule's shortcut with the appointment selected. */
  key: string;
  /** For the "?" help. */
  description: string;
  /** A destructive step is red; the others are plain or, when primary, filled. */
  danger?: boolean;
};

/** How each step looks: every action of the domain, no other (the typecheck and
 *  actions.test.ts both fail when they differ). */
export const ACTIONS: Record<AppointmentAction, ActionLook> = {
  confirm: { label: "Confirm", key: "f", description: "Confirm" },
  check_in: { label: "Check in", key: "i", description: "Check in" },
  start: { label: "Start", key: "s", description: "Start" },
  complete: { label: "Complete", key: "c", description: "Complete" },
  check_out: { label: "Check out", key: "o", description: "Check out" },
  remind: { label: "Mark reminded", key: "e", description: "Mark as reminded" },
  no_show: { label: "No-show", key: "n", description: "No-show" },
  move: { label: "Move", key: "m", description: "Move" },
  cancel: { label: "Cancel appointment", key: "x", description: "Cancel (asks for a reason)", danger: true },
};

/** Every action, in the domain's order (the order of its next-steps lists). */
export const ALL_ACTIONS = Object.keys(ACTIONS) as AppointmentAction[];

/** The legal next steps of an appointment, the primary one first. */
export function nextSteps(status: AppointmentStatus, checkedOut: boolean): readonly AppointmentAction[] {
  return APPOINTMENT_NEXT_STEPS.find((r) => r.status === status && r.checked_out === checkedOut)?.actions ?? [];
}

/** The next steps of an appointment as the API returns it. */
export function stepsOf(a: { status: AppointmentStatus; checked_out_at: number | null }): readonly AppointmentAction[] {
  return nextSteps(a.status, a.checked_out_at !== null);
}
