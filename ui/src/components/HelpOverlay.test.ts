import { describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, within } from "@testing-library/svelte";
import HelpOverlay from "./HelpOverlay.svelte";

describe("HelpOverlay", () => {
  it("lists the shortcuts in a named dialog and closes on Escape", async () => {
    const onclose = vi.fn();
    render(HelpOverlay, {
      onclose,
      shortcuts: [
        { key: "?", group: "Everywhere", description: "Show this help", run: () => {} },
        { key: "i", group: "Selected appointment", description: "Check in", run: () => {} },
        { key: "ArrowLeft", group: "Schedule", description: "Previous day", run: () => {} },
      ],
    });
    const dlg = screen.getByRole("dialog", { name: "Keyboard shortcuts" });
    const table = within(dlg).getByRole("table", { name: "Selected appointment shortcuts" });
    expect(table).toHaveTextContent("i");
    expect(table).toHaveTextContent("Check in");
    expect(within(dlg).getByRole("table", { name: "Schedule shortcuts" })).toHaveTextContent("←");
    await fireEvent.keyDown(dlg, { key: "Escape" });
    expect(onclose).toHaveBeenCalledTimes(1);
  });
});
