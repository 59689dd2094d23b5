"""What a photo costs to decode and clean (images.decode_image), in CPython and in Pyodide (under Node).

    python bench/photos.py [--runs 5] [--pyodide DIR]

Photos come from tests/photos.py (seeded): a squared-paper photo and a sheet on a table, each at 1600x1200
(a typical phone photo sent on) and 4000x3000 (a 12-megapixel phone camera's own file). For each: the
median time of decode_image over --runs runs, the part of it spent in Pillow (open, JPEG draft decode,
EXIF, shrink to images.MAX_SIDE), and the peak memory of one decode (tracemalloc: numpy's and Python's
allocations; Pillow's own buffers are not traced). With --pyodide DIR (a folder holding pyodide.mjs,
pyodide-lock.json and the numpy and Pillow wheels, such as vendor/pyodide in a site built with
`python serve.py --build-only SITE`), the same runs in Pyodide under Node, plus how much the wasm heap grew.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CASES = (("squared", (1600, 1200)), ("table", (1600, 1200)), ("squared", (4000, 3000)), ("table", (4000, 3000)))

# Runs in CPython and in Pyodide alike: times decode_image on the photos in a folder, prints JSON lines.
MEASURE = r"""
import json, statistics, sys, time, tracemalloc
from pathlib import Path
from pyapp import images

def measure(folder, runs):
    for path in sorted(Path(folder).glob("*.jpg")):
        data = path.read_bytes()
        images.decode_image(data)  # warm: imports, first allocations
        total, pillow = [], []
        for _ in range(runs):
            start = time.perf_counter()
            grey = images._grey_on_white(images._open(data, images.MAX_SIDE), images.MAX_SIDE)
            pillow.append(time.perf_counter() - start)
            start = time.perf_counter()
            images.decode_image(data)
            total.append(time.perf_counter() - start)
        tracemalloc.start()
        images.decode_image(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"photo": path.stem, "bytes": len(data), "ms": 1000 * statistics.median(total),
                          "best_ms": 1000 * min(total), "pillow_ms": 1000 * statistics.median(pillow),
                          "peak_mb": peak / 2**20, "out": list(grey.shape)}), flush=True)
"""

NODE = r"""
import { loadPyodide } from "PYODIDE_MJS";
import fs from "node:fs";
import path from "node:path";
const [root, folder, runs, measure] = process.argv.slice(2);
const pyodide = await loadPyodide({ indexURL: path.dirname(new URL("PYODIDE_MJS").pathname) + "/" });
await pyodide.loadPackage(["numpy", "pillow"], { messageCallback: () => {} });
pyodide.FS.mkdirTree("/bench/pyapp");
pyodide.FS.mkdirTree("/bench/photos");
for (const name of fs.readdirSync(path.join(root, "pyapp")).filter((n) => n.endsWith(".py"))) {
  pyodide.FS.writeFile("/bench/pyapp/" + name, fs.readFileSync(path.join(root, "pyapp", name)));
}
for (const name of fs.readdirSync(folder)) {
  pyodide.FS.writeFile("/bench/photos/" + name, fs.readFileSync(path.join(folder, name)));
}
pyodide.setStdout({ batched: (line) => console.log(line) });
pyodide.runPython("import sys; sys.path.insert(0, '/bench')");
const heap = () => pyodide._module.HEAP8.length;
const before = heap();
pyodide.runPython(fs.readFileSync(measure, "utf8") + `\nmeasure("/bench/photos", ${Number(runs)})`);
console.log(JSON.stringify({ heap_before_mb: before / 2 ** 20, heap_after_mb: heap() / 2 ** 20 }));
"""


def write_photos(folder: Path) -> None:
    import numpy as np
    from helpers import mnist_test
    from photos import KINDS, SEED, make_photo

    mnist = mnist_test()
    for kind, size in CASES:
        photo = make_photo(kind, np.random.default_rng([SEED, KINDS.index(kind), 99]), mnist, size)
        (folder / f"{kind}-{size[0]}x{size[1]}.jpg").write_bytes(photo.data)


def run_cpython(folder: Path, runs: int) -> list[dict]:
    script = MEASURE + f"\nmeasure({str(folder)!r}, {runs})\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run_pyodide(folder: Path, runs: int, pyodide: Path) -> list[dict]:
    if not (pyodide / "pyodide.mjs").exists():
        raise SystemExit(f"no pyodide.mjs in {pyodide}")
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    with tempfile.TemporaryDirectory() as scratch:
        runner = Path(scratch) / "run.mjs"
        runner.write_text(NODE.replace("PYODIDE_MJS", (pyodide / "pyodide.mjs").resolve().as_uri()))
        measure = Path(scratch) / "measure.py"
        measure.write_text(MEASURE)
        command = [node, str(runner), str(ROOT), str(folder), str(runs), str(measure)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(f"node failed:\n{done.stderr[:3000]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def table(title: str, rows: list[dict]) -> str:
    lines = [f"{title}\n", "| photo | file | decode + clean: median (best) | of which Pillow | peak memory (traced) |",
             "|---|---|---|---|---|"]
    for row in rows:
        if "photo" in row:
            lines.append(
                f"| {row['photo']} | {row['bytes'] / 1024:.0f} KB | {row['ms']:.0f} ms ({row['best_ms']:.0f} ms) "
                f"| {row['pillow_ms']:.0f} ms "
                f"| {row['peak_mb']:.0f} MB |"
            )
        else:
            lines.append(f"\nwasm heap: {row['heap_before_mb']:.0f} MB before, {row['heap_after_mb']:.0f} MB after")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pyodide", type=Path, help="folder with pyodide.mjs and the numpy/Pillow wheels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_photos(folder)
        print(table("CPython " + sys.version.split()[0], run_cpython(folder, args.runs)), flush=True)
        if args.pyodide:
            print()
            print(table("Pyodide (Node " + subprocess.run(["node", "--version"], capture_output=True,
                                                          text=True).stdout.strip() + ")",
                        run_pyodide(folder, args.runs, args.pyodide)))


if __name__ == "__main__":
    main()
