// Teaching: the person's own examples.
//
// Pressing a digit in "Correct this digit" teaches the selected digit of the reading on show that label:
// the worker keeps that digit's embedding with the label (pyapp.personal) and gives back the whole set as
// JSON, which is kept here in localStorage (this browser only, also offline), and the pad is read again at
// once, so the reading changes in front of the person. At start the stored set goes to the worker before
// the first read. Export downloads the JSON (a blob: URL: no inline script, allowed by the CSP); Import
// sends a file's text to the worker, which takes it whole or refuses it with a reason, nothing changed.
// The keys are in the panel's part for the selected digit, which show.js shows while a reading has one;
// Forget, Export and Import are in the "Your taught examples" disclosure at the panel's foot, out of the way.
//
// Writes: the ten keys of #correct (disabled), #taught-note, #paired-note, #examples-count (the count in the disclosure's
// summary), #examples-status, #forget, #export-examples, #import-examples (emptied after each pick) and the
// download's own <a>, added to the body for its click.
// What went wrong goes to #alert through show.js.

import { read, send } from "./reader.js";
import { showAlert } from "./show.js";
import { isReady } from "./startup.js";

const EXAMPLES_KEY = "digit-reader:examples";
const EXAMPLES_FILE = "digit-reader-examples.json";
const MAX_EXAMPLES_FILE_BYTES = 4_000_000; // pyapp.personal.MAX_FILE_BYTES: larger is refused before reading

const keys = [...document.querySelectorAll("#correct button[data-label]")];
const status = document.getElementById("examples-status");
const summaryCount = document.getElementById("examples-count");
const forgetButton = document.getElementById("forget");
const exportButton = document.getElementById("export-examples");
const importInput = document.getElementById("import-examples");
const note = document.getElementById("taught-note");
const pairedNote = document.getElementById("paired-note");
const requests = new Map(); // id -> what was asked: {kind: "start" | "import" | "teach" | "forget", ...}
let json = ""; // the set as the worker last gave it ("" when none)
let count = 0;
let selection = {}; // the digit on show that a key corrects: {reading (its id), index, digit}

function stored() {
  try {
    return localStorage.getItem(EXAMPLES_KEY) || "";
  } catch {
    return ""; // storage blocked (a privacy setting): teaching lasts as long as the page
  }
}

function keep(text) {
  json = text;
  try {
    if (text) localStorage.setItem(EXAMPLES_KEY, text);
    else localStorage.removeItem(EXAMPLES_KEY);
  } catch {
    showAlert("This browser would not store your examples: they last until you close the page. Export them to keep them.");
  }
}

function ask(type, request, fields) {
  requests.set(send(type, fields), request);
}

function showCount(message) {
  forgetButton.hidden = exportButton.hidden = count === 0;
  forgetButton.textContent = `Forget what I taught (${count})`;
  summaryCount.textContent = count ? ` (${count})` : "";
  status.textContent = message ?? (count ? `You taught ${count} example${count === 1 ? "" : "s"}.` : "Nothing taught yet.");
}

function showKeys() {
  // Half of a pair: its embedding is the whole mark's, so a key teaches the mark as that one digit (the note says so).
  const paired = Boolean(selection.digit?.paired);
  const teachable = isReady() && Boolean(selection.digit) && !requests.size;
  for (const key of keys) key.disabled = !teachable;
  note.hidden = !selection.digit?.taught;
  pairedNote.hidden = !paired;
}

// The worker is ready: the stored set goes first, so the first read uses it.
export function sendStoredExamples() {
  const text = stored();
  if (text) ask("examples", { kind: "start", text }, { json: text });
}

// show.js shows a reading, or another of its digits: the keys correct that one.
export function followDigit(reading, index, digit) {
  selection = { reading, index, digit };
  showKeys();
}

// The worker's "taught" message: the set as it is now, after the request with this id.
export function taught({ id, count: total, json: text }) {
  const request = requests.get(id);
  requests.delete(id);
  count = total;
  if (request?.kind === "start") json = request.text;
  else if (request?.kind === "import") keep(request.text);
  else keep(text);
  if (request?.kind === "import") showAlert("");
  const said = {
    teach: `Taught: ${request?.label}. You taught ${count} example${count === 1 ? "" : "s"}.`,
    import: `Imported ${count} example${count === 1 ? "" : "s"} from “${request?.name}”.`,
    forget: "Forgotten: the model reads alone again.",
  }[request?.kind];
  showCount(said);
  // The Forget button hides itself: keyboard focus goes to what it did, not to the page's start.
  if (request?.kind === "forget" && [forgetButton, document.body].includes(document.activeElement)) status.focus();
  showKeys();
  if (request?.kind !== "start") read(); // the reading changes in front of the person
}

// The worker's "not-taught" message: the request with this id changed nothing, for this reason.
export function notTaught({ id, reason }) {
  const request = requests.get(id);
  requests.delete(id);
  showKeys();
  if (request?.kind === "import") {
    showAlert(`Could not import “${request.name}”: ${reason} Your taught examples are unchanged.`);
  } else if (request?.kind === "start") {
    keep(""); // never usable again (another model's, or damaged): said once, then set aside
    showAlert(`Your taught examples could not be used: ${reason} The model reads alone.`);
  } else {
    showAlert(reason);
  }
}

function download() {
  if (!json) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([json], { type: "application/json" }));
  link.download = EXAMPLES_FILE;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000); // once the download has started
}

async function importFile() {
  const file = importInput.files[0];
  importInput.value = ""; // the same file can be chosen again
  if (!file) return;
  showAlert("");
  if (!isReady()) {
    showAlert("Still loading: import the file again in a moment.");
  } else if (file.size > MAX_EXAMPLES_FILE_BYTES) {
    showAlert(`Could not import “${file.name}”: it is too large to be a set of taught examples. Your taught examples are unchanged.`);
  } else {
    const text = await file.text();
    ask("examples", { kind: "import", name: file.name, text }, { json: text });
  }
}

export function startTeaching() {
  document.getElementById("correct").addEventListener("click", (event) => {
    const label = event.target.closest?.("button[data-label]")?.dataset.label;
    if (label === undefined || event.target.disabled || !selection.digit) return;
    const { reading, index } = selection;
    ask("teach", { kind: "teach", label }, { reading, digit: index, label: Number(label) });
    showKeys(); // the keys wait for the answer: one correction at a time
  });
  forgetButton.addEventListener("click", () => ask("forget", { kind: "forget" }));
  exportButton.addEventListener("click", download);
  importInput.addEventListener("change", importFile);
  showCount();
}
