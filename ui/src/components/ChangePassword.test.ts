// Changing one's own password: the current one goes to the app with the new one; a mismatch
// is caught before anything is sent; the app's refusal is shown in its words.
import { describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import ChangePassword from "./ChangePassword.svelte";
import { fakeBackend, refuse } from "../test/ipc";

const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

describe("Change my password", () => {
  it("sends the current and the new password and says it is done", async () => {
    const calls = fakeBackend({ change_own_password: () => null });
    render(ChangePassword, { onclose: () => {} });
    await type("Current password", "old password 1");
    await type("New password", "new password 22");
    await type("New password again", "new password 22");
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Your password was changed.");
    expect(calls.find((c) => c.cmd === "change_own_password")?.args).toEqual({
      currentPassword: "old password 1",
      newPassword: "new password 22",
    });
  });

  it("catches a mistyped repetition before sending and shows the app's refusal", async () => {
    const calls = fakeBackend({
      change_own_password: () => refuse("invalid_input", "current_password: is not your current password"),
    });
    render(ChangePassword, { onclose: () => {} });
    await type("Current password", "old password 1");
    await type("New password", "new password 22");
    await type("New password again", "new password 23");
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("differ");
    expect(calls.some((c) => c.cmd === "change_own_password")).toBe(false);
    await type("New password again", "new password 22");
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("is not your current password"));
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });
});
