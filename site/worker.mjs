// The worker's first JavaScript. index.html's worker config names this module as the interpreter, so
// PyScript imports it in the worker before Pyodide loads, and it does three things there that nothing else
// can do as early:
// 1. starts the onnxruntime-web session at once, so its 14 MB wasm compiles while Pyodide boots;
// 2. watches the start for failures (HTTP errors, damaged wasm, loaders that reject) and tells the page,
//    which cannot see the worker's requests;
// 3. hands PyScript Pyodide's loadPyodide, pointed at the vendored Pyodide folder.
// It carries every message to the page: `send` holds them until the page says hello, so nothing said early
// is lost. The page cannot listen before PyScript has made the worker, and a hello that arrives before this
// module listens goes to PyScript instead: so this module says "hi" once it listens, the page answers
// every hi with a hello, and says hello too as soon as it listens itself.
import * as pyodide from "./vendor/pyodide/pyodide.mjs";

const PYODIDE_FOLDER = new URL("./vendor/pyodide/", import.meta.url).href;
const ORT_FOLDER = new URL("./vendor/ort/", import.meta.url).href;
const MODEL_URL = new URL("./model/digits.onnx", import.meta.url).href;
// How pyapp.personal compares embeddings (pyapp/config.py's SPACE_FILE): fetched now, beside the model.
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
  const failed = url && performance.getEntriesByType("resource").find((e) => e.name === url && e.responseStatus >= 400);
  const message = failed ? `HTTP ${failed.responseStatus}` : String(problem?.message ?? problem ?? "");
  send({ type: "failed", name: failed ? "" : (problem?.name ?? ""), message, url });
}

function progress(step, percent) {
  send({ type: "progress", step, percent, at: performance.timeOrigin + performance.now() });
}

addEventListener("message", (event) => {
  if (event.data?.type !== "hello") return; // everything else is Python's (pyapp/web.py)
  pageListening = true;
  for (const [message, transfer] of waiting.splice(0)) postMessage(message, transfer);
});

// ---- watching the start ----

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.responseStatus >= 400) report(`HTTP ${entry.responseStatus}`, entry.name);
  }
}).observe({ type: "resource", buffered: true });

// Pyodide and onnxruntime-web fetch their files with fetch(): an HTTP error is known here first, whatever
// the loader then makes of the page it got. (Resource Timing, above, also sees module imports.)
const fetchFile = globalThis.fetch;
globalThis.fetch = async function (...args) {
  const response = await fetchFile.apply(this, args);
  if (!response.ok) report(`HTTP ${response.status}`, response.url);
  return response;
};

addEventListener("error", (event) => startFailed(event.error ?? event.message, event.filename));
addEventListener("unhandledrejection", (event) => {
  // Pyodide exits (ExitStatus) when Python cannot start, e.g. with a damaged python_stdlib.zip.
  const reason = event.reason?.name === "ExitStatus" ? "Python stopped as it started" : event.reason;
  startFailed(reason, /python_stdlib/.test(String(event.reason?.message)) ? "python_stdlib.zip" : "");
});

// Pyodide 0.27 catches a failed compile of pyodide.asm.wasm, logs "wasm instantiation failed!" and never
// settles loadPyodide(): watch every streaming compile. A CompileError means the bytes are wrong.
for (const name of ["instantiateStreaming", "compileStreaming"]) {
  const original = WebAssembly[name];
  WebAssembly[name] = function (source, ...rest) {
    const compiling = original.call(this, source, ...rest);
    compiling.catch((error) =>
      Promise.resolve(source)
        .then((response) => {
          if (!response.ok) startFailed(`HTTP ${response.status}`, response.url);
          else if (error instanceof WebAssembly.CompileError) startFailed(error, response.url);
        })
        .catch(() => {}), // the request itself failed: the resource observer or its loader reports that
    );
    return compiling;
  };
}

// ---- the model session, started before Python ----

const model = import("./vendor/ort/ort.wasm.min.mjs")
  .catch((error) => {
    throw Object.assign(error, { url: `${ORT_FOLDER}ort.wasm.min.mjs` });
  })
  .then(async (ort) => {
    ort.env.wasm.wasmPaths = ORT_FOLDER;
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which GitHub Pages cannot give
    const session = await ort.InferenceSession.create(MODEL_URL, { executionProviders: ["wasm"] });
    return { ort, session };
  });
model.catch(modelFailed);

function modelFailed(error) {
  // The session fails in onnxruntime-web's words; say which of its files it was.
  const message = String(error?.message ?? error);
  if (error.url) startFailed(error, error.url); // the one module imported here did not load or parse
  else if (!/no available backend/.test(message)) {
    // "Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."
    startFailed(message.replace(/^.*ERROR_MESSAGE: /s, ""), MODEL_URL);
  } else if (/SyntaxError/.test(message)) {
    startFailed({ name: "SyntaxError", message }, `${ORT_FOLDER}ort-wasm-simd-threaded.mjs`);
  } else startFailed(error, ORT_FOLDER); // its wasm backend did not start; the observer names a failed file
}

// The embedding space's bytes (35 KB), for Python's personal.Space.load. An HTTP error is reported by the
// fetch watch above; a failed request here.
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
  // data: Float32Array; shape: [N, 28, 28, 1]. Resolves to the named outputs' data.
  async run(data, shape, inputName, outputNames) {
    const { ort, session } = await model;
    const tensor = new ort.Tensor("float32", data, Array.from(shape));
    const outputs = await session.run({ [inputName]: tensor });
    tensor.dispose?.();
    return Array.from(outputNames, (name) => outputs[name].data);
  },
  model,
  space,
};

postMessage({ type: "hi" });
progress("python", 15);

export const version = pyodide.version;
export function loadPyodide(options) {
  const loading = pyodide.loadPyodide({ ...options, indexURL: PYODIDE_FOLDER });
  // PyScript catches this itself and tells the page only in its own words ("Ar is not a function").
  loading.catch((error) => startFailed(error, PYODIDE_FOLDER));
  return loading;
}
