// The shortcuts in force: the shell's own plus those the current screen registers.

import type { Shortcut } from "./shortcuts";

export const keys = $state({ screen: [] as Shortcut[], helpOpen: false });

/** A screen's shortcuts, while it is shown (call from $effect; returns the cleanup). */
export function registerShortcuts(list: Shortcut[]): () => void {
  keys.screen = list;
  return () => {
    if (keys.screen === list) keys.screen = [];
  };
}
