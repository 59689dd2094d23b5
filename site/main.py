# The page's one Python entry point (several top-level-await scripts would interleave).
# numpy is loaded here rather than through pyscript.toml's `packages`, which would first install
# micropip and packaging: two more downloads that a page reading digits never uses.
import pyodide_js

await pyodide_js.loadPackage("numpy")  # noqa: F704 - PyScript runs this file with top-level await

from pyapp import web  # noqa: E402 - needs numpy, loaded just above

await web.start()  # noqa: F704
