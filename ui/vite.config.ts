import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The UI is served from ui/ and built into ui/dist (tauri.conf.json frontendDist).
// Svelte compiles components to plain JS + one CSS file: no inline <script>, so the strict CSP
// of tauri.conf.json (script-src 'self') holds.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "safari15" },
});
