// The model's own worker, started by site/worker.mjs: onnxruntime-web downloads, compiles its 14 MB wasm
// and creates its session here, on a core of its own, while Pyodide boots in the reader's worker. (In the
// reader's worker itself, the wasm's download waited for Pyodide's boot to free the thread: the model came
// last, about 1 s after numpy, on every visit; bench/page.py's waterfall, docs/benchmarks.md.)
//
// Messages from worker.mjs: run {id, data: Float32Array (transferred), shape, inputName, outputNames}
//   -> {id, outputs: [Float32Array...]} or {id, error}. To it: ready, or http/problem while starting.
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

addEventListener("message", async ({ data: { id, data, shape, inputName, outputNames } }) => {
  try {
    const { ort, session } = await model;
    const tensor = new ort.Tensor("float32", data, shape);
    const results = await session.run({ [inputName]: tensor });
    tensor.dispose?.();
    const outputs = outputNames.map((name) => results[name].data);
    postMessage({ id, outputs }, outputs.map((output) => output.buffer));
  } catch (error) {
    postMessage({ id, error: message(error) });
  }
});
