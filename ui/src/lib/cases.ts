// The case workflow's values as the API names them (CaseStatus, CasePriority of the bindings),
// for the screens' selects. Which moves are allowed is the Rust side's call.

import type { CasePriority, CaseStatus } from "../bindings";

export const CASE_STATUSES: CaseStatus[] = ["new", "active", "on_hold", "pending_approval", "completed", "cancelled", "archived"];

/** Lowest to highest. */
export const CASE_PRIORITIES: CasePriority[] = ["low", "medium", "high", "urgent", "critical"];
