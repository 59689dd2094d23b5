// The page's entry: it wires the page's modules, one job each, and writes no element itself.
//
//   pad.js      drawing: pointer events, eraser, Undo, Clear, shortcuts   -> canvas#pad, #eraser
//   files.js    images in: Open image…, paste, drop                       -> #drop-hint, #file
//   reader.js   the protocol with the reader's worker                     -> no element
//   show.js     a reading on the page, and the alert line                 -> #result, #hint, #alert, ...
//   teach.js    the person's corrections and taught examples              -> #correct keys, #examples, ...
//   startup.js  the page's state, loading progress, start-up failures     -> html[data-state], #status
//   why.js      why the selected digit read as it did: the map, its sentence -> #why, #why-sentence, ...
//
// Data flows one way: the pad's pixels -> the worker -> a reading -> the page. Python and the model run in a
// web worker, so nothing here ever waits for them: the pad draws from the first paint, while Python loads and
// while it reads. docs/ARCHITECTURE.md lists who writes what.

import { imageDecoded, imageRefused, startFiles } from "./files.js";
import { padPixels, startPad } from "./pad.js";
import { connectReader, read } from "./reader.js";
import { clearBoxes, showAlert, showHint, showReading, startShow } from "./show.js";
import { becameReady, isLoading, showProgress, watchStartup, workerFailed } from "./startup.js";
import { followDigit, notTaught, sendStoredExamples, startTeaching, taught } from "./teach.js";
import { followDigitForWhy, forgetWhy, startWhy } from "./why.js";

watchStartup();

startPad({
  changed: read,
  repainted(width, height) {
    clearBoxes(width, height);
    forgetWhy();
  },
  predict() {
    if (isLoading()) showHint("Still loading: your drawing is read as soon as Python is ready.");
    else read();
  },
});
startFiles();
startShow((...selected) => {
  followDigit(...selected);
  followDigitForWhy(...selected);
});
startTeaching();
startWhy();

connectReader(padPixels, {
  progress: showProgress,
  ready() {
    if (!becameReady()) return; // the start had already failed
    sendStoredExamples(); // the stored examples go first, so the first read uses them
    read(); // whatever was drawn while Python loaded
  },
  failed: workerFailed,
  reading: showReading,
  error: () => showAlert("Something went wrong while reading. Your drawing is kept; try again."),
  decoded: imageDecoded,
  refused: imageRefused,
  taught,
  "not-taught": notTaught,
});
