// Start-up: the page's state (<html data-state>: loading, then ready or error), the progress shown while
// Python and the model load, and start-up failures: an error state with a way out, never an endless spinner.
//
// Writes: <html data-state>, #status-text, #progress and #retry. A failure's words go to #alert through
// show.js. offline.js and the tests watch data-state; the other modules ask isLoading() / isReady().
//
// One mechanism: every sign that the start failed goes to fail(problem, file), which names the part that
// failed in words, with its file and what went wrong, and offers Retry. The signs, as each layer gives them:
// - one of the app's files answered with an HTTP error (Resource Timing's responseStatus), on this page or
//   in the worker (site/worker.mjs watches there and sends "failed"). Seen even where the loader says
//   nothing: PyScript writes a 404 page into pyapp/*.py;
// - a <script> or <link> that did not load, a module that did not parse (error events, here or there);
// - a WebAssembly file that did not compile (worker.mjs watches the compiles: Pyodide 0.27 catches that
//   itself, logs a warning and then waits forever);
// - the model session failed (worker.mjs says which of onnxruntime-web's files it was);
// - a promise nobody handled was rejected: PyScript's and Pyodide's loaders (a bad python_stdlib.zip ends so);
// - worker.py failed before it was ready (a Python error: a missing numpy, a damaged pyapp module).
// Past STARTUP_TIMEOUT_MS with none of these, the timeout says so.

import { showAlert } from "./show.js";

const STARTUP_TIMEOUT_MS = 90_000; // past this, loading has failed even if nothing said so
// Unhandled rejections while loading come from PyScript's loader on this page, which also passes on the
// worker's failures in its own words ("Ar is not a function"): the worker's report, which names the file,
// is given GENERIC_FAILURE_DELAY_MS to arrive first.
const GENERIC_FAILURE_DELAY_MS = 1000;

// The worker's steps (its progress messages), in words.
const STEPS = {
  python: "Loading Python…",
  booted: "Starting Python…",
  numpy: "Loading numpy…",
  model: "Loading the model…",
};

// What to call each of the app's files, in words (first match wins). Paths are relative to the site.
const PARTS = [
  [/^model\//, "the model"],
  [/^vendor\/ort\//, "the model runtime"],
  [/python_stdlib\.zip$/, "Python's standard library"],
  [/^vendor\/pyodide\/numpy\b/, "numpy"],
  [/^vendor\/pyodide\/pillow\b/, "Pillow"],
  [/^vendor\/pyodide\//, "the Python runtime"],
  [/^vendor\/pyscript\//, "PyScript"],
  [/^worker\.mjs$/, "the app's worker"],
  [/^(pyapp\/|worker\.py$)/, "the app's Python code"],
];
// The app's files as they appear in URLs, error messages and Python tracebacks (/home/pyodide/pyapp/web.py).
const APP_FILE = /(?:model|vendor\/(?:ort|pyodide|pyscript)|pyapp)\/[\w.-]+|\bworker\.(?:py|mjs)\b/g;
// Errors that mean the bytes arrived but are not what was built: cut short or changed on the way.
const DAMAGED = /^(CompileError|SyntaxError|IndentationError|TabError)$/;
const SITE = new URL("./", location.href).href;

const root = document.documentElement;
const statusText = document.getElementById("status-text");
const progress = document.getElementById("progress");

export function isLoading() {
  return root.dataset.state === "loading";
}

export function isReady() {
  return root.dataset.state === "ready";
}

// The worker's progress message: shown while loading (a failure already shown stays).
export function showProgress(step, percent) {
  if (isLoading()) showStatus(STEPS[step], percent);
}

// The worker is ready: the page is, unless its start already failed. Returns whether it became ready.
export function becameReady() {
  if (!isLoading()) return false;
  showStatus("Ready.", null);
  root.dataset.state = "ready";
  return true;
}

function showStatus(text, percent) {
  statusText.textContent = text;
  progress.hidden = percent === null;
  if (percent !== null) progress.value = percent;
}

function messageOf(problem) {
  return String(problem?.message ?? problem ?? "");
}

function appFile(text, which = "first") {
  const found = String(text ?? "").match(APP_FILE) || [];
  return which === "last" ? found.at(-1) : found[0];
}

function sitePath(url) {
  return url?.startsWith(SITE) ? url.slice(SITE.length) : undefined;
}

function isFile(path) {
  return /\.[^/]+$/.test(path ?? ""); // not a folder ("vendor/pyodide/") or a package ("vendor/pyodide/numpy")
}

function partOf(file) {
  return PARTS.find(([pattern]) => pattern.test(file))?.[1];
}

function failedRequest(file) {
  const ours = (entry) => entry.name.startsWith(location.origin) && entry.name.includes(file);
  return performance.getEntriesByType("resource").find((entry) => ours(entry) && entry.responseStatus >= 400);
}

function detailOf(problem, file) {
  const failed = file && failedRequest(file);
  if (failed) return `HTTP ${failed.responseStatus}`;
  if (DAMAGED.test(problem?.name)) return `${isFile(file) ? "the" : "a"} file is damaged or incomplete`;
  const line = messageOf(problem).trim().split("\n")[0].replace(/\.$/, "");
  return line.length > 160 ? `${line.slice(0, 159)}…` : line || "it did not load";
}

// file: the app's file (or folder) to blame; found in the problem's message when not given.
function fail(problem, file = appFile(messageOf(problem))) {
  if (!isLoading()) return; // later errors are the reader's to report, next to what failed
  root.dataset.state = "error";
  const part = (file && partOf(file)) || "the app";
  const named = isFile(file) ? `${part} (${file})` : part;
  statusText.textContent = "Could not start.";
  progress.hidden = true;
  showAlert(`Could not load ${named}: ${detailOf(problem, file)}. Check your connection and retry.`);
  const retry = document.getElementById("retry");
  retry.hidden = false;
  retry.onclick = () => window.location.reload();
}

// The worker's "failed" message: what failed there, and where.
export function workerFailed({ name, message, url }) {
  if (name === "PythonError") return pythonFailed(message);
  const file = appFile(message) ?? appFile(url) ?? sitePath(url) ?? "vendor/pyodide/";
  fail({ name, message }, file);
}

function pythonFailed(traceback) {
  // worker.py stopped before the reader was ready; its traceback names the file.
  const missing = traceback.match(/No module named '(\w+)'/)?.[1]; // a package (numpy) loadPackage could not load
  if (missing && missing !== "pyapp") {
    fail("its download failed or did not match the build", `vendor/pyodide/${missing.toLowerCase()}`);
    return;
  }
  const [, name, message] = [...traceback.matchAll(/^(\w+(?:Error|Exception)): ?(.*)$/gm)].at(-1) ?? [];
  const problem = name ? { name, message: `${name}: ${message}` } : traceback;
  fail(problem, appFile(traceback, "last") ?? "worker.py");
}

// Watch this page's side of the start: its requests, scripts, rejected promises, PyScript's error boxes, and
// the clock.
export function watchStartup() {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const file = entry.name.startsWith(location.origin) && appFile(entry.name);
      if (file && entry.responseStatus >= 400) fail(`HTTP ${entry.responseStatus}`, file);
    }
  }).observe({ type: "resource", buffered: true });

  window.addEventListener(
    "error",
    (event) => {
      const url = event.target?.src || event.target?.href || event.filename;
      const file = url && appFile(url);
      if (file) fail(event.error ?? "it did not load", file);
    },
    true,
  );

  window.addEventListener("unhandledrejection", (event) => {
    const file = appFile(messageOf(event.reason));
    if (file) fail(event.reason, file);
    else setTimeout(fail, GENERIC_FAILURE_DELAY_MS, event.reason, "vendor/pyscript/");
  });

  // PyScript shows Python errors as a .py-error box at the end of the body. Until the page is ready each is
  // a failed start, taken off the page (the alert says it for people; the console keeps the traceback).
  new MutationObserver((changes) => {
    if (isReady()) return;
    for (const node of changes.flatMap((change) => [...change.addedNodes])) {
      if (node.classList?.contains("py-error")) {
        node.remove();
        pythonFailed(node.textContent);
      }
    }
  }).observe(document.body, { childList: true });

  setTimeout(() => fail("loading took too long"), STARTUP_TIMEOUT_MS);
}
