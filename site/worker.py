# The worker's one Python entry (PyScript runs it in a web worker: see index.html). It loads numpy, then
# pyapp, and hands the page's messages to pyapp/web.py. A failure here (a wheel that did not load, a
# damaged module) goes to the page with its traceback, which names the file; site/startup.js says it in words.
import traceback

import js
import pyodide_js
from polyscript import xworker  # a global: PyScript delivers the page's messages to xworker.onmessage

try:
    js.digitWorker.progress("numpy", 60)
    # numpy is loaded here rather than through the config's `packages`, which would first install
    # micropip and packaging: two more downloads that a page reading digits never uses.
    await pyodide_js.loadPackage("numpy")  # noqa: F704 - PyScript runs this file with top-level await
    from pyapp import web
except BaseException:
    js.digitWorker.pythonFailed(traceback.format_exc())
else:
    xworker.onmessage = web.on_message
    await web.start()  # noqa: F704
