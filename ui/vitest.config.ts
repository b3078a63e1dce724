import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Component and logic tests (npm run test:ui): jsdom, Svelte's browser build (the "browser"
// condition, so components mount), and the Tauri IPC replaced by mockIPC in each test.
export default defineConfig({
  plugins: [svelte()],
  cacheDir: "../node_modules/.vite-ui",
  resolve: { conditions: ["browser"] },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
