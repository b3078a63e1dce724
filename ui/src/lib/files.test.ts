import { describe, expect, it } from "vitest";
import { readText } from "./files";

describe("reading a picked file", () => {
  it("returns its text (UTF-8)", async () => {
    const f = new File(["legacy_id,first_name,last_name\nL-1,Zoë,Lee\n"], "patients.csv", { type: "text/csv" });
    await expect(readText(f)).resolves.toBe("legacy_id,first_name,last_name\nL-1,Zoë,Lee\n");
  });
});
