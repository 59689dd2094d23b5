// The worker's first JavaScript. index.html's worker config names this module as the interpreter, so
// PyScript imports it in the worker before Pyodide loads, and it does three things there that nothing else
// can do as early:
// 1. starts the model's own worker (site/model.mjs) at once, so onnxruntime-web loads while Pyodide boots;
// 2. watches the start for failures, here and in the model's worker (site/watch.mjs), and tells the page,
//    which cannot see a worker's requests;
// 3. hands PyScript Pyodide's loadPyodide, pointed at the vendored Pyodide folder.
// It carries every message to the page: `send` holds them until the page says hello, so nothing said early
// is lost. The page cannot listen before PyScript has made the worker, and a hello that arrives before this
// module listens goes to PyScript instead: so this module says "hi" once it listens, the page answers
// every hi with a hello, and says hello too as soon as it listens itself.
import * as pyodide from "./vendor/pyodide/pyodide.mjs";
import { watchStart } from "./watch.mjs";

const PYODIDE_FOLDER = new URL("./vendor/pyodide/", import.meta.url).href;
// How pyapp.personal compares embeddings (pyapp/config.py's SPACE_FILE): fetched at once, as the model loads.
const SPACE_URL = new URL("./model/digits.space.npz", import.meta.url).href;

let pageListening = false;
let started = false; // once Python says ready, failures are the reading's to report, not the start's
const waiting = [];

function send(message, transfer = []) {
  if (pageListening) postMessage(message, transfer);
  else waiting.push([message, transfer]);
}

// A loader's own words can come before the report of the HTTP error behind them, which says more ("HTTP
// 404" rather than "failed to load external data"): so a loader's failure is reported after
// REPORT_DELAY_MS, unless an HTTP error is reported first.
const REPORT_DELAY_MS = 150;
let reported = false;

function startFailed(problem, url = "") {
  if (!started && !reported) setTimeout(report, REPORT_DELAY_MS, problem, url);
}

function report(problem, url) {
  if (started || reported) return;
  reported = true;
  send({ type: "failed", name: problem?.name ?? "", message: String(problem?.message ?? problem ?? ""), url });
}

const httpFailed = (status, url) => report(`HTTP ${status}`, url);

function progress(step, percent) {
  send({ type: "progress", step, percent, at: performance.timeOrigin + performance.now() });
}

addEventListener("message", (event) => {
  if (event.data?.type !== "hello") return; // everything else is Python's (pyapp/web.py)
  pageListening = true;
  for (const [message, transfer] of waiting.splice(0)) postMessage(message, transfer);
});

// ---- watching the start ----

watchStart(httpFailed, (problem, url) => {
  // A damaged python_stdlib.zip ends in an unhandled rejection that names no file.
  const stdlib = /python_stdlib/.test(String(problem?.message)) ? `${PYODIDE_FOLDER}python_stdlib.zip` : "";
  startFailed(problem, url || stdlib);
});

// ---- the model, in its own worker (site/model.mjs) ----

const modelWorker = new Worker(new URL("./model.mjs", import.meta.url), { type: "module" });
const runs = new Map(); // id -> the run's {resolve, reject}
let lastRun = 0;
const model = new Promise((resolve, reject) => {
  modelWorker.addEventListener("message", ({ data }) => {
    if (data.type === "ready") resolve(true);
    else if (data.type === "http") httpFailed(data.status, data.url);
    else if (data.type === "problem") {
      startFailed({ name: data.name, message: data.message }, data.url);
      reject(new Error(data.message));
    } else {
      const run = runs.get(data.id);
      runs.delete(data.id);
      if (data.error === undefined) run.resolve(data.outputs);
      else run.reject(new Error(data.error));
    }
  });
  modelWorker.addEventListener("error", (event) => {
    startFailed(event.message || "the model's worker did not start", new URL("./model.mjs", import.meta.url).href);
    reject(new Error(event.message));
  });
});
model.catch(() => {}); // reported above; web.start() awaits it too

// The embedding space's bytes (35 KB), for Python's personal.Space.load, fetched beside the model. An HTTP
// error is reported by the fetch watch above, any other failure here.
const space = fetch(SPACE_URL).then(async (response) => {
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
});
space.catch((error) => startFailed(error, SPACE_URL));

// What Python (pyapp/web.py) uses, as js.digitWorker.
globalThis.digitWorker = {
  send,
  progress,
  pythonFailed: (traceback) => startFailed({ name: "PythonError", message: traceback }),
  spaceFailed: (message) => startFailed({ name: "Error", message }, SPACE_URL),
  ready() {
    started = true;
    send({ type: "ready", at: performance.timeOrigin + performance.now() });
  },
  // data: Float32Array (handed over to the model's worker); shape: [N, 28, 28, 1]. Resolves to the named
  // outputs' data.
  run(data, shape, inputName, outputNames) {
    return new Promise((resolve, reject) => {
      runs.set(++lastRun, { resolve, reject });
      const message = { id: lastRun, data, shape: Array.from(shape), inputName, outputNames: Array.from(outputNames) };
      modelWorker.postMessage(message, [data.buffer]);
    });
  },
  model,
  space,
};

postMessage({ type: "hi" });
progress("python", 15);

export const version = pyodide.version;
// numpy, on the way to Python: its wheel is downloaded at once (Pyodide's loadPackage then finds it in the
// HTTP cache: vendor files are cacheable), and loaded as soon as the interpreter exists, while PyScript
// sets itself up and fetches the app's modules; worker.py's own loadPackage("numpy") then waits for it.
// Failures are left to that loadPackage and the fetch watch above, which name numpy.
const lockFile = fetch(`${PYODIDE_FOLDER}pyodide-lock.json`).then((response) => response.json());
lockFile
  .then(({ packages }) => fetch(`${PYODIDE_FOLDER}${packages.numpy.file_name}`))
  .then((response) => response.arrayBuffer())
  .catch(() => {});

export function loadPyodide(options) {
  const loading = pyodide.loadPyodide({ ...options, indexURL: PYODIDE_FOLDER });
  // PyScript catches this itself and tells the page only in its own words ("Ar is not a function").
  loading.catch((error) => startFailed(error, PYODIDE_FOLDER));
  loading.then((python) => {
    progress("booted", 40); // PyScript now sets itself up in Python, then runs worker.py
    return python.loadPackage("numpy", { errorCallback: () => {} });
  }).catch(() => {});
  return loading;
}
