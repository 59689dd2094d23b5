// Why this digit: on "Why?", the worker hides each small patch of the selected digit's 28x28 image in turn
// (pyapp/why.py: one batched model call of its own, apart from the reads) and answers with a heat map of the
// parts that made the model read it as its top digit rather than the runner-up. The map is drawn in orange
// (alpha by heat, as pyapp.why.picture and `python -m pyapp --why`) over the 28x28 view, and faintly on the
// digit's box on the pad (through show.js, which owns the pad's overlay); its sentence goes to an
// aria-live element, so a screen reader says it.
//
// A map is of one digit of one reading: a new reading, another digit chosen, or the pad painted afresh
// (Clear, Undo, an image) takes it away, and an answer that comes back when its digit is no longer the one
// shown is dropped. Stale maps never show.
//
// Writes: #why (disabled), #why-sentence (its text; data-heat: the 784 numbers, row by row, 4 decimals,
// comma-separated; data-top, data-runner-up, data-ms: the worker's time for the map, data-model-ms: the model
// call's part of it), canvas#why-heat (its pixels, hidden). What went wrong goes to #alert through show.js.

import { why } from "./reader.js";
import { showAlert, showHeatOnBox } from "./show.js";

const ORANGE = [255, 136, 0]; // pyapp.why.ORANGE
const SIDE = 28; // pyapp.config.MODEL_SIDE

const button = document.getElementById("why");
const sentence = document.getElementById("why-sentence");
const heatCanvas = document.getElementById("why-heat");

let selection = {}; // the digit on show: {reading (its id), index, digit}
let asked = null; // {reading, index} of the request that is out, if any
let mapped = null; // {reading, index} of the map on show, if any

const isSelected = (which) => which?.reading === selection.reading && which?.index === selection.index;

// show.js shows a reading, or another of its digits: a map of any other digit goes.
export function followDigitForWhy(reading, index, digit) {
  selection = digit ? { reading, index, digit } : {};
  if (!isSelected(mapped)) forget();
  button.disabled = !digit || Boolean(digit.paired); // a pair's half has no image of its own to explain
}

// The pad was painted afresh (Clear, Undo, an image, a resize): what is shown is about to be read again,
// so there is nothing to explain until that reading comes.
export function forgetWhy() {
  selection = {};
  forget();
  button.disabled = true;
}

function forget() {
  showHeatOnBox(null);
  mapped = null;
  heatCanvas.hidden = true;
  sentence.textContent = "";
  for (const name of ["heat", "top", "runnerUp", "ms", "modelMs"]) delete sentence.dataset[name];
}

// The heat as an image: orange, each pixel as opaque as its heat.
function heatPicture(heat) {
  const picture = new ImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    picture.data.set(ORANGE, 4 * i);
    picture.data[4 * i + 3] = Math.round(Math.min(Math.max(heat[i], 0), 1) * 255);
  }
  return picture;
}

function showMap(answer) {
  const picture = heatPicture(answer.heat);
  heatCanvas.getContext("2d").putImageData(picture, 0, 0);
  heatCanvas.hidden = false;
  sentence.dataset.heat = Array.from(answer.heat, (value) => value.toFixed(4)).join(",");
  sentence.dataset.top = String(answer.top);
  sentence.dataset.runnerUp = String(answer.runnerUp);
  sentence.dataset.ms = answer.ms.toFixed(2);
  sentence.dataset.modelMs = answer.modelMs.toFixed(2);
  sentence.textContent = answer.sentence;
  mapped = { reading: selection.reading, index: selection.index };
  showHeatOnBox({ ...mapped, picture });
}

async function explain() {
  if (!selection.digit || isSelected(asked) || isSelected(mapped)) return; // asked, or shown, already
  const request = { reading: selection.reading, index: selection.index };
  asked = request;
  try {
    const answer = await why(request.reading, request.index);
    if (isSelected(request)) showMap(answer);
  } catch (error) {
    if (isSelected(request)) showAlert(`Could not show why: ${error.message}`);
  } finally {
    if (asked === request) asked = null;
  }
}

export function startWhy() {
  button.addEventListener("click", explain);
}
