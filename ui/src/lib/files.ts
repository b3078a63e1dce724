// Native file pickers (tauri-plugin-dialog; capabilities dialog:allow-save / dialog:allow-open).
// The path fields stay editable: a picker only fills them in, and a cancelled picker changes
// nothing.
import { open, save } from "@tauri-apps/plugin-dialog";

export type FileKind = { name: string; extensions: string[] };

export const CSV: FileKind = { name: "CSV", extensions: ["csv"] };
export const BACKUP: FileKind = { name: "ClinicDesk backup", extensions: ["db", "clinicdesk"] };

/** Where to write a new file, or null when the user cancelled. */
export async function chooseSavePath(title: string, suggested: string, kind: FileKind): Promise<string | null> {
  const p = await save({ title, defaultPath: suggested, filters: [kind] });
  return typeof p === "string" && p.length > 0 ? p : null;
}

/** An existing file to read, or null when the user cancelled. */
export async function chooseOpenPath(title: string, kind: FileKind): Promise<string | null> {
  const p = await open({ title, multiple: false, directory: false, filters: [kind] });
  return typeof p === "string" && p.length > 0 ? p : null;
}

/**
 * The text of a file picked in an `<input type="file">`, read in the page (no file-system
 * permission or plugin needed). FileReader rather than `Blob.text()`, which jsdom lacks.
 */
export function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(typeof r.result === "string" ? r.result : "");
    r.onerror = () => reject(r.error ?? new Error("the file cannot be read"));
    r.readAsText(file);
  });
}
