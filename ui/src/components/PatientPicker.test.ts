import { describe, expect, it, beforeEach } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import PatientPicker from "./PatientPicker.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { ann, CLINIC_ID } from "../test/fixtures";

describe("PatientPicker", () => {
  beforeEach(() => shimMissingCommands());

  it("searches patients as the user types and picks one", async () => {
    const calls = fakeBackend({ search_patients: () => [ann] });
    render(PatientPicker, { clinicId: CLINIC_ID });
    const box = screen.getByRole("combobox", { name: "Patient" });
    await fireEvent.input(box, { target: { value: "smi" } });
    const option = await screen.findByRole("option", { name: /Smith, Ann/ });
    expect(calls).toEqual([{ cmd: "search_patients", args: { query: "smi", limit: 20 } }]);
    await fireEvent.mouseDown(option);
    expect(box).toHaveValue("Smith, Ann (1980-02-03) — CGY-0001");
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
  });

  it("registers a new patient inline and selects them", async () => {
    const calls = fakeBackend({
      search_patients: () => [],
      create_patient: (a) => ({ ...ann, id: "p9", first_name: (a.fields as Record<string, string>).first_name, last_name: "Nguyen", mrn: "CGY-0009" }),
    });
    render(PatientPicker, { clinicId: CLINIC_ID });
    const box = screen.getByRole("combobox", { name: "Patient" });
    await fireEvent.input(box, { target: { value: "Bao Nguyen" } });
    expect(await screen.findByText(/No patient matches/)).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Register new patient" }));
    expect(screen.getByLabelText("First name")).toHaveValue("Bao");
    expect(screen.getByLabelText("Last name")).toHaveValue("Nguyen");
    await fireEvent.click(screen.getByRole("button", { name: "Register patient" }));
    await waitFor(() => expect(box).toHaveValue("Nguyen, Bao (1980-02-03) — CGY-0009"));
    expect(calls.at(-1)).toEqual({ cmd: "create_patient", args: { clinicId: CLINIC_ID, fields: { first_name: "Bao", last_name: "Nguyen" } } });
  });

  it("shows a registration refusal and keeps the typed names", async () => {
    fakeBackend({ search_patients: () => [], create_patient: () => refuse("invalid_input", "date_of_birth: not a date") });
    render(PatientPicker, { clinicId: CLINIC_ID });
    await fireEvent.click(screen.getByRole("button", { name: "Register new patient" }));
    await fireEvent.input(screen.getByLabelText("First name"), { target: { value: "Cy" } });
    await fireEvent.input(screen.getByLabelText("Date of birth"), { target: { value: "yesterday" } });
    await fireEvent.click(screen.getByRole("button", { name: "Register patient" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("date_of_birth: not a date");
    expect(screen.getByLabelText("First name")).toHaveValue("Cy");
    expect(screen.getByLabelText("Date of birth")).toHaveValue("yesterday");
  });
});
