"""Run many `invoke` command lines, each in its own process, forked from one interpreter that imported once.

    python warm_cli.py REQUESTS.json RESULTS.json

Each request is {"args": [...], "env": {...}, "prelude": "python statements"}; each result is {"returncode",
"stdout", "stderr", "seconds"}. A child runs invoke's real Program (the `invoke` command's entry point) with the
request's arguments and environment, exactly as a fresh `invoke` process would, but without paying two seconds
of imports (pandas, scikit-learn, boto3, moto) again for each of dozens of bad-input cases on two cores.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What the tasks under test import; the children inherit them loaded.
# (tasks.py itself is left to invoke's loader, as in a fresh process.)
PRELOAD = ("vgsales.pipeline.data", "vgsales.infra.stack", "vgsales.settings", "invoke.main")
PARALLEL = 2


def _child(request: dict, out_path: Path, err_path: Path) -> None:
    """In the forked process: redirect output, set the environment, run invoke, never return."""
    code = 1
    try:
        for fd, path in ((1, out_path), (2, err_path)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(handle, fd)
            os.close(handle)
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("prelude"):
            exec(request["prelude"], {})
        from invoke.main import program

        try:
            program.run(["invoke", *request["args"]])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # what the interpreter would print for an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(request_file: str, result_file: str) -> None:
    requests = json.loads(Path(request_file).read_text())
    folder = Path(result_file).parent
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    for name in PRELOAD:
        importlib.import_module(name)
    results: list[dict | None] = [None] * len(requests)
    running: dict[int, tuple[int, float]] = {}

    def reap() -> None:
        pid, status = os.wait()
        index, started = running.pop(pid)
        out, err = folder / f"{index}.out", folder / f"{index}.err"
        results[index] = {
            "returncode": os.waitstatus_to_exitcode(status),
            "stdout": out.read_text(errors="replace"),
            "stderr": err.read_text(errors="replace"),
            "seconds": round(time.monotonic() - started, 2),
        }

    for index, request in enumerate(requests):
        while len(running) >= PARALLEL:
            reap()
        sys.stdout.flush()
        sys.stderr.flush()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(request, folder / f"{index}.out", folder / f"{index}.err")
        running[pid] = (index, started)
    while running:
        reap()
    Path(result_file).write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
