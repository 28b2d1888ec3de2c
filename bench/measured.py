"""Run a command in this process, then write its peak RSS (KiB) and in-process seconds to the
file named by BENCH_OUT. Used as `python -m bench.measured MODULE ARGS...` so that every figure
is one whole process."""
from __future__ import annotations

import json
import os
import resource
import runpy
import sys
import time


def main() -> None:
    module, args = sys.argv[1], sys.argv[2:]
    sys.argv = [module, *args]
    started = time.perf_counter()
    code = 0
    try:
        runpy.run_module(module, run_name="__main__")
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    elapsed = time.perf_counter() - started
    with open(os.environ["BENCH_OUT"], "w", encoding="utf-8") as stream:
        json.dump({"maxrss_kib": peak_kib(), "inner_seconds": elapsed, "exit": code}, stream)


def peak_kib() -> int:
    """This process's peak RSS: VmHWM, the high-water mark of its own memory map. Not getrusage's
    ru_maxrss: Linux carries that across exec from the process that forked it, so a command
    started by a bench that has grown (the access matrix's 800 MiB) would report the bench's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
