import { defineConfig } from "vite";

// The UI is served from ui/ and built into ui/dist (tauri.conf.json frontendDist).
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "safari15" },
});
