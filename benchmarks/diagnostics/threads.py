"""Fit and scoring time of our detectors with one torch thread and with all cores.

The ``n_jobs`` parameter's default (one thread) rests on this comparison. Each
configuration runs ``--rounds`` times, interleaved, and the best time counts.
Detectors (``--detectors``): by default ours but AnoGAN
(``common.OURS_WITHOUT_SEARCH``), whose latent search would take hours on the scored
rows.

    python -m benchmarks threads          # writes results/threads.{json,md}
    python -m benchmarks threads --detectors ALAD EGBAD
"""

import os
from datetime import date

import numpy as np

from skgan_ad import all_detectors

from .._runner import command_line
from ..common import (
    OURS,
    OURS_WITHOUT_SEARCH,
    default_output,
    script_parser,
    timed,
    write_results,
)


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--detectors", nargs="+", default=list(OURS_WITHOUT_SEARCH),
                        choices=OURS)
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--score-rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=default_output("threads"))
    args = parser.parse_args(argv)
    rng = np.random.RandomState(0)
    train = rng.normal(size=(args.train_rows, 121)).astype(np.float32)
    test = rng.normal(size=(args.score_rows, 121)).astype(np.float32)
    settings = {"1 thread (n_jobs=None)": None, f"{os.cpu_count()} threads (n_jobs=-1)": -1}
    best = {}
    for _ in range(args.rounds):
        for name in args.detectors:
            for label, n_jobs in settings.items():
                detector = dict(all_detectors())[name](epochs=1, min_steps=0,
                                                       random_state=0, device="cpu",
                                                       n_jobs=n_jobs)
                _, fit = timed(detector.fit, train)
                _, score = timed(detector.score_samples, test)
                key = (name, label)
                best[key] = (min(fit, best.get(key, (np.inf,))[0]),
                             min(score, best.get(key, (0, np.inf))[1]))
    lines = [f"# Torch CPU threads: fit and scoring ({date.today()})", "",
             f"Command: `{command_line()}`", "",
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
    write_results(args.output, lines, runs=records)
    return 0
