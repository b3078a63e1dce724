// First: a valid navigator.language (see lib/locale.ts) before any library reads it.
import "./lib/locale";
import { mount } from "svelte";
import App from "./App.svelte";
import "@event-calendar/core/index.css";
import "./app.css";

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
export default mount(App, { target });
