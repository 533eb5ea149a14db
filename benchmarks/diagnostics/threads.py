"""Fit and scoring time of ALAD and EGBAD with one torch thread and with all cores.

The ``n_jobs`` parameter's default (one thread) rests on this comparison. Each
configuration runs ``--rounds`` times, interleaved, and the best time counts.

    python benchmarks/threads.py          # writes results/threads.{json,md}
"""

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

import skgan_ad

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--score-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=str(RESULTS / "threads"))
    args = parser.parse_args(argv)
    rng = np.random.RandomState(0)
    train = rng.normal(size=(args.train_rows, 121)).astype(np.float32)
    test = rng.normal(size=(args.score_rows, 121)).astype(np.float32)
    settings = {"1 thread (n_jobs=None)": None, f"{os.cpu_count()} threads (n_jobs=-1)": -1}
    best = {}
    for _ in range(args.rounds):
        for name in ("EGBAD", "ALAD"):
            for label, n_jobs in settings.items():
                detector = getattr(skgan_ad, name)(epochs=1, min_steps=0, random_state=0,
                                                   device="cpu", n_jobs=n_jobs)
                start = time.perf_counter()
                detector.fit(train)
                fit = time.perf_counter() - start
                start = time.perf_counter()
                detector.score_samples(test)
                score = time.perf_counter() - start
                key = (name, label)
                best[key] = (min(fit, best.get(key, (np.inf,))[0]),
                             min(score, best.get(key, (0, np.inf))[1]))
    lines = [f"# Torch CPU threads: fit and scoring ({date.today()})", "",
             f"Command: `python benchmarks/threads.py {' '.join(sys.argv[1:])}`".rstrip(), "",
             (f"One epoch on {args.train_rows:,} rows (batch 50) and scoring {args.score_rows:,}"
             f" rows, 121 features; best of {args.rounds} interleaved rounds; "
             f"{os.cpu_count()} cores."), "",
             "| detector | threads | fit rows/s | score rows/s |", "|---|---|---|---|"]
    records = []
    for (name, label), (fit, score) in best.items():
        records.append({"detector": name, "threads": label,
                        "fit_rows_per_second": args.train_rows / fit,
                        "score_rows_per_second": args.score_rows / score})
        lines.append(f"| {name} | {label} | {args.train_rows / fit:,.0f} | "
                     f"{args.score_rows / score:,.0f} |")
    output = Path(args.output)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "argv": sys.argv[1:], "runs": records}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
