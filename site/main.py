# The page's one Python entry point (several top-level-await scripts would interleave).
from pyapp import web

await web.start()  # noqa: F704, PLE1142 - PyScript runs this file with top-level await
