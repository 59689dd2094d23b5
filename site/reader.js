// The reader's protocol: the page's side of the messages with its web worker (the <script type="py" worker>
// in index.html: site/worker.mjs, site/worker.py, pyapp/web.py; docs/ARCHITECTURE.md draws the exchange).
// To the worker: hello, read {pixels}, decode {bytes}, why {reading, digit}, and for the person's examples
// examples {json}, teach {reading, digit, label}, forget; from it: hi, progress, ready, failed, reading,
// error, decoded, refused, why, taught, not-taught (pyapp/web.py describes each). Each answer goes to the
// handler app.js gave for it, except a why-map's, which settles the promise why() returned.
//
// One read at a time goes to the worker, and the newest drawing wins: a change while a read is out only
// marks the pad as changed, and the pad's pixels are taken when that read comes back. Stale drawings are
// never queued. Pixels and image bytes are transferred to the worker, not copied.
//
// A why-map is asked apart from the reads: it neither waits for a read nor holds one up here (the worker
// runs its one model call beside them), and its answer, or its error, settles only its own promise.
//
// Writes: no element. It puts the worker's moments on the performance timeline (worker:python, ...).

import { isReady } from "./startup.js";

const script = document.querySelector('script[type="py"][worker]');
let worker = null;
let busy = false; // a read is with the worker
let again = false; // the pad changed while it was
let lastId = 0;
let sentAt = 0;
let padPixels; // () -> ImageData: the pad as it is when a read is sent
let handlers; // message type -> what to do with it
const whys = new Map(); // id of a why request that is out -> its promise's {resolve, reject}

function mark(step, at) {
  // The worker's moments on the page's timeline, for bench/page.py's waterfall.
  performance.mark(`worker:${step}`, { startTime: at - performance.timeOrigin });
}

function readDone() {
  busy = false;
  if (again) read();
}

// pixels: () -> the pad's ImageData. answers: message type -> handler, for progress(step, percent), ready(),
// failed, reading(reading, roundTripMs), error(), decoded, refused, taught and not-taught (each with the
// worker's message). The reader keeps its own bookkeeping around them: marks, one read at a time.
export function connectReader(pixels, answers) {
  padPixels = pixels;
  handlers = {
    ...answers,
    hi: () => worker.postMessage({ type: "hello" }), // worker.mjs listens now (see there)
    progress({ step, percent, at }) {
      mark(step, at);
      answers.progress(step, percent);
    },
    ready({ at }) {
      mark("ready", at);
      answers.ready();
    },
    reading(reading) {
      answers.reading(reading, performance.now() - sentAt);
      readDone();
    },
    why(answer) {
      whys.get(answer.id)?.resolve(answer);
      whys.delete(answer.id);
    },
    error({ id, message }) {
      if (whys.has(id)) {
        // A why-map's failure (the worker has said it in the console); the reads go on as they were.
        whys.get(id).reject(new Error(message));
        whys.delete(id);
        return;
      }
      console.error(`reading failed: ${message}`);
      answers.error();
      readDone();
    },
  };
  connect();
}

function connect() {
  worker = script?.xworker;
  if (!worker) return setTimeout(connect, 10); // PyScript makes the worker once core.js has loaded
  worker.addEventListener("message", (event) => handlers[event.data?.type]?.(event.data));
  worker.postMessage({ type: "hello" }); // the worker holds what it has to say until now
}

// Read the pad, now or as soon as the read that is out comes back.
export function read() {
  if (!isReady()) return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  again = false;
  const { data, width, height } = padPixels();
  sentAt = performance.now();
  send("read", { width, height, pixels: data }, [data.buffer]);
}

// An image file's bytes, to be decoded in the worker; returns the id its answer (decoded or refused) carries.
export function decode(bytes) {
  return send("decode", { bytes }, [bytes.buffer]);
}

// Why the `digit`-th digit of reading `readingId` (a reading's id, as shown) read as it did. Resolves to the
// worker's why message {reading, digit, heat: Float32Array(784), top, runnerUp, sentence, ms, modelMs}; rejects with
// its error. It may come after newer readings: whoever asked checks that it still fits what is shown.
export function why(readingId, digit) {
  return new Promise((resolve, reject) => {
    whys.set(send("why", { reading: readingId, digit }), { resolve, reject });
  });
}

// One message to the worker, with a new id (returned) that its reply carries; `transfer`: buffers handed over.
export function send(type, fields = {}, transfer = []) {
  worker.postMessage({ type, id: ++lastId, ...fields }, transfer);
  return lastId;
}
