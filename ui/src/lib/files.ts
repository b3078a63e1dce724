// Files in the page. Saving and opening files (backup, restore, exports) is the app's: its
// Rust side opens the native dialog and owns the path, so the page never names one and needs
// no file-system or dialog permission.

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
