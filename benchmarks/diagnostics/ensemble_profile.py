"""Diagnostic: where a stacked SeedEnsemble's fit spends its time, against one model.

Profiles (``torch.profiler``, one torch thread) the fit of one detector and of a
``SeedEnsemble`` of ``--members`` stacked copies on a random table, and lists the
operators by their own CPU time for both: whether the members' matrix products cost
as much per member as one model's (compute-bound) or less (per-operation overhead, which
stacking saves), and what the elementwise operations and optimiser steps add.

    python -m benchmarks ensemble_profile --detector FAnoGAN --rows 4000 --epochs 4
"""

from datetime import date

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from skgan_ad import SeedEnsemble, all_detectors

from .._runner import command_line
from ..common import OURS, default_output, script_parser, timed, write_results

#: Operators listed per configuration.
TOP_OPERATORS = 12


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--detector", default="FAnoGAN", choices=OURS)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--features", type=int, default=120,
                        help="default: KDD99's one-hot encoded features")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs of each training phase (min_steps=0)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X = np.random.RandomState(0).randn(args.rows, args.features).astype(np.float32)
    detector = dict(all_detectors())[args.detector]
    epochs = {"epochs": args.epochs, "min_steps": 0}
    if "encoder_epochs" in detector().get_params():
        epochs["encoder_epochs"] = args.epochs
    single = detector(random_state=0, device="cpu", **epochs)
    configurations = {"one model": single,
                      f"SeedEnsemble of {args.members}, stacked": SeedEnsemble(
                          single, n_members=args.members, random_state=0)}
    lines = [f"# Where a stacked ensemble's fit spends its time: {args.detector} "
             f"({date.today()})", "", f"Command: `{command_line()}`", "",
             f"A random {args.rows} x {args.features} table, {args.epochs} epochs per "
             "training phase, one torch thread; operators by their own CPU time "
             "(`torch.profiler`).", ""]
    totals, fit_seconds = {}, {}
    for label, estimator in configurations.items():
        estimator.fit(X)  # warm-up: first calls allocate and choose kernels
        _, fit_seconds[label] = timed(estimator.fit, X)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            estimator.fit(X)
        events = sorted(profiler.key_averages(), key=lambda e: -e.self_cpu_time_total)
        totals[label] = sum(e.self_cpu_time_total for e in events) / 1e6
        lines += [f"## {label}: fit {fit_seconds[label]:.2f} s, "
                  f"{totals[label]:.2f} s of operator time when profiled", "",
                  "| operator | self s | calls | µs a call |", "|---|---|---|---|"]
        lines += [f"| `{e.key}` | {e.self_cpu_time_total / 1e6:.3f} | {e.count} | "
                  f"{e.self_cpu_time_total / max(e.count, 1):.1f} |"
                  for e in events[:TOP_OPERATORS]]
        lines.append("")
    ensemble, one = f"SeedEnsemble of {args.members}, stacked", "one model"
    lines.append(f"Ensemble against one model: {fit_seconds[ensemble] / fit_seconds[one]:.2f} "
                 f"times the fit time, {totals[ensemble] / totals[one]:.2f} times "
                 "the operator time. The profiler adds its own cost to every call: the "
                 "fit times say what the ensemble costs, the operator rows where it goes.")
    write_results(args.output or default_output(f"ensemble_profile_{args.detector.lower()}"),
                  lines, args=vars(args), fit_seconds=fit_seconds, operator_seconds=totals)


if __name__ == "__main__":
    main()
