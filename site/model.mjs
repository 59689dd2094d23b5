// The model's own worker, started by site/worker.mjs: onnxruntime-web downloads, compiles its 14 MB wasm
// and creates its session here, on a core of its own, while Pyodide boots in the reader's worker. (In the
// reader's worker itself, the wasm's download waited for Pyodide's boot to free the thread: the model came
// last, about 1 s after numpy, on every visit; bench/page.py's waterfall, docs/benchmarks.md.)
//
// Messages from worker.mjs: run {id, data: Float32Array (transferred), shape, inputName, outputNames}
//   -> {id, outputs: [Float32Array...]} or {id, error}. To it: ready, or http/problem while starting.
// Runs share this one thread in turns of a few rows (below), so a read waits for one turn of another run at most.
import { watchStart } from "./watch.mjs";

const ORT_FOLDER = new URL("./vendor/ort/", import.meta.url).href;
const MODEL_URL = new URL("./model/digits.onnx", import.meta.url).href;

let started = false;
const message = (error) => String(error?.message ?? error ?? "");
const http = (status, url) => started || postMessage({ type: "http", status, url });
const problem = (error, url) =>
  started || postMessage({ type: "problem", name: error?.name ?? "", message: message(error), url });
watchStart(http, problem);

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

model.then(
  () => {
    started = true;
    postMessage({ type: "ready" });
  },
  (error) => {
    // The session fails in onnxruntime-web's words; say which of its files it was.
    const text = message(error);
    if (error.url) problem(error, error.url); // the one module imported here did not load or parse
    else if (!/no available backend/.test(text)) {
      // "Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."
      problem(text.replace(/^.*ERROR_MESSAGE: /s, ""), MODEL_URL);
    } else if (/SyntaxError/.test(text)) {
      problem({ name: "SyntaxError", message: text }, `${ORT_FOLDER}ort-wasm-simd-threaded.mjs`);
    } else problem(error, ORT_FOLDER); // its wasm backend did not start; the watch names a failed file
  },
);

// Runs take turns, CHUNK_ROWS rows at a time: a read that comes while another run is computed waits for one
// chunk, not the whole run (one thread computes both). A why-map is at most 40 rows (pyapp.why.SCALES), three
// chunks; with 16-row maps, a Predict pressed with a map out came 29 ms later than alone (65 against 37 ms, medians), and 8-row
// turns did not shorten that (68 against 33 ms) nor the map (27 against 26 ms; bench/why.py, the same run,
// docs/benchmarks.md, "Why this digit"). Each row is computed alone (the model has no batch statistics), so
// chunks give the rows the same numbers as one call.
const CHUNK_ROWS = 16;
const queue = []; // runs not finished, in turn: {id, data, shape, inputName, outputNames, done, outputs}
let working = false;

// A task boundary: a run's promise resolves in microtasks, so without it a message that came meanwhile would
// wait for every chunk. (A MessageChannel, not setTimeout: nested timeouts are clamped to 4 ms.)
const turn = new MessageChannel();
const nextTask = () =>
  new Promise((resolve) => {
    turn.port1.onmessage = resolve;
    turn.port2.postMessage(null);
  });

async function runChunk({ data, shape, inputName, outputNames, done, outputs }, ort, session) {
  const rows = shape[0];
  const size = data.length / Math.max(rows, 1); // numbers per row
  const count = Math.min(CHUNK_ROWS, rows - done);
  const tensor = new ort.Tensor("float32", data.subarray(done * size, (done + count) * size), [count, ...shape.slice(1)]);
  const results = await session.run({ [inputName]: tensor });
  tensor.dispose?.();
  outputNames.forEach((name, k) => {
    const part = results[name].data;
    if (count === rows) outputs[k] = part; // the whole run in one chunk: no copy
    else {
      outputs[k] ??= new Float32Array((part.length / count) * rows);
      outputs[k].set(part, (part.length / count) * done);
    }
  });
  return count;
}

async function work() {
  working = true;
  while (queue.length) {
    const run = queue.shift();
    try {
      const { ort, session } = await model;
      run.done += await runChunk(run, ort, session);
      if (run.done === run.shape[0]) {
        postMessage({ id: run.id, outputs: run.outputs }, run.outputs.map((output) => output.buffer));
      }
    } catch (error) {
      run.done = run.shape[0];
      postMessage({ id: run.id, error: message(error) });
    }
    await nextTask(); // a run sent meanwhile joins the queue now, before this one's next chunk
    if (run.done < run.shape[0]) queue.push(run);
  }
  working = false;
}

addEventListener("message", ({ data: { id, data, shape, inputName, outputNames } }) => {
  queue.push({ id, data, shape, inputName, outputNames, done: 0, outputs: [] });
  if (!working) work();
});
