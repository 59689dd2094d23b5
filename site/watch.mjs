// Watching a worker's start for failures, for site/worker.mjs (the reader) and site/model.mjs (the model):
// the page cannot see a worker's requests, so each worker watches its own and says what failed.
//   http(status, url): an HTTP error, known for sure (the best thing to tell a person);
//   problem(error, url): a loader's own words, or an error nobody handled (url when it names a file).

export function watchStart(http, problem) {
  // The loaders fetch their files with fetch(): an HTTP error is known here first, whatever the loader
  // then makes of the page it got.
  const fetchFile = globalThis.fetch;
  globalThis.fetch = async function (...args) {
    const response = await fetchFile.apply(this, args);
    if (!response.ok) http(response.status, response.url);
    return response;
  };
  // Module imports do not go through fetch(); Resource Timing sees them.
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.responseStatus >= 400) http(entry.responseStatus, entry.name);
  }).observe({ type: "resource", buffered: true });

  addEventListener("error", (event) => problem(event.error ?? event.message, event.filename));
  addEventListener("unhandledrejection", (event) => {
    // Pyodide exits (ExitStatus) when Python cannot start, e.g. with a damaged python_stdlib.zip.
    problem(event.reason?.name === "ExitStatus" ? "Python stopped as it started" : event.reason, "");
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
            if (!response.ok) http(response.status, response.url);
            else if (error instanceof WebAssembly.CompileError) problem(error, response.url);
          })
          .catch(() => {}), // the request itself failed: the fetch watch or its loader reports that
      );
      return compiling;
    };
  }
}
