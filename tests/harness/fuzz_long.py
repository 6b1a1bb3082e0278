"""A long fuzz campaign over the properties of tests/reliability/test_fuzz.py.

    fuzz_long.py MINUTES [--seed N] [--only NAME ...]

Runs every property in turn, in batches of random examples (hypothesis, no example database),
until MINUTES have passed; each property gets an equal share of the time. Prints the examples
tried per property and the total; exits 1 on the first failure, after printing the failing input.
"""

import argparse
import inspect
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "reliability"))

# pylint: disable=wrong-import-position
import collection_path  # noqa: E402

collection_path.add_to_sys_path()

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

import test_fuzz  # noqa: E402

BATCH = 500


def named(prop, strategies):
    """The strategies by parameter name."""
    return dict(zip(inspect.signature(prop).parameters, strategies))


def counted(prop, counter):
    """``prop`` with the same signature (hypothesis needs named parameters), counting calls."""
    def run(**kwargs):
        counter[0] += 1
        return prop(**kwargs)
    return run


def campaign(minutes, first_seed, only):
    chosen = [p for p in test_fuzz.PROPERTIES if not only or p[0] in only]
    share = minutes * 60.0 / len(chosen)
    rng = random.Random(first_seed)
    total, began = 0, time.monotonic()
    for name, prop, strategies in chosen:
        counter, batches, start = [0], 0, time.monotonic()
        while time.monotonic() - start < share:
            batch_seed = rng.getrandbits(64)
            test = settings(max_examples=BATCH, database=None, deadline=None, derandomize=False,
                            suppress_health_check=list(HealthCheck))(given(**named(prop, strategies))(counted(prop, counter)))
            try:
                seed(batch_seed)(test)()
            except Exception:  # pylint: disable=broad-except
                print(f"FAILED {name} (batch seed {batch_seed}) after {counter[0]} examples", flush=True)
                raise
            batches += 1
        total += counter[0]
        print(f"{name:24} {counter[0]:>9} examples  {batches:>4} batches  {time.monotonic() - start:7.1f} s", flush=True)
    print(f"total {total} examples over {len(chosen)} properties in {time.monotonic() - began:.1f} s, no failure",
          flush=True)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2].strip())
    parser.add_argument("minutes", type=float)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args(argv[1:])
    print(f"fuzz campaign: {args.minutes} min, seed {args.seed}", flush=True)
    return campaign(args.minutes, args.seed, set(args.only))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
