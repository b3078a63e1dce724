// WebKitGTK reports the POSIX locale as the language when the session has none (LANG=C):
// `navigator.language === "C"`, which is not a BCP 47 tag, and libraries that hand it to Intl
// (uPlot does at load time) throw. Replace an invalid tag with the default before anything
// else runs. Imported first by main.ts.

export function validTag(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    return Intl.getCanonicalLocales(tag).length > 0;
  } catch {
    return false;
  }
}

export function sanitizeNavigatorLanguage(nav: Navigator = navigator): boolean {
  if (validTag(nav.language)) return false;
  const fallback = new Intl.DateTimeFormat().resolvedOptions().locale || "en-US";
  const tag = validTag(fallback) ? fallback : "en-US";
  try {
    Object.defineProperty(nav, "language", { value: tag, configurable: true });
    Object.defineProperty(nav, "languages", { value: [tag], configurable: true });
  } catch {
    return false;
  }
  return true;
}

sanitizeNavigatorLanguage();
