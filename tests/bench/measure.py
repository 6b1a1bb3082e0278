"""python measure.py COMMAND...: run COMMAND and print one JSON line with its wall time, exit
code, CPU time and peak memory.

This runs as a fresh process for each measurement, so its RUSAGE_CHILDREN covers only COMMAND and
the processes it started: ``max_rss_kib`` is the peak resident set of the largest single process
of that tree (for ansible-playbook: the controller, its forked worker or the module's Python),
and ``cpu_seconds`` the user and system CPU time of the whole tree.
The command's output goes to COMMAND's stdout/stderr file given in MEASURE_LOG, if set.
"""

import json
import os
import resource
import subprocess
import sys
import time


def main(command):
    log_path = os.environ.get("MEASURE_LOG")
    # pylint: disable-next=consider-using-with
    log = open(log_path, "w", encoding="utf-8") if log_path else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        seconds = time.perf_counter() - start
    finally:
        if log_path:
            log.close()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "returncode": code, "max_rss_kib": usage.ru_maxrss,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime}))


if __name__ == "__main__":
    main(sys.argv[1:])
