"""Training time per step of every detector, for this checkout and, beside it, another.

A change to the shared engine touches every method's training step. This diagnostic
times one epoch of each detector's training on the KDD99 sample bundled with the
package (standardised features, the detector's defaults, ``min_steps=0``, one torch
thread) and divides it by the epoch's batches. With ``--against PATH`` the same
measurement runs, in alternation, on the package of another checkout (e.g. a
``git worktree`` of an earlier commit), so both are timed side by side on the same
machine at the same time; each repeat runs in a fresh process per checkout, and the
table gives the median over repeats.

    git worktree add /tmp/before <commit>
    python -m benchmarks step_time --against /tmp/before --repeats 5

Results: ``benchmarks/results/step_time.md`` and ``step_time.json``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path



def _measure():
    """Seconds per training step of each detector of the importable skgan_ad."""
    import numpy as np
    import torch

    import skgan_ad
    from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

    torch.set_num_threads(1)
    data = load_kdd99(sample=True)
    X_train, _, _ = kdd99_paper_split(data.data, data.target, 42)
    X = make_kdd99_preprocessor("standard").fit_transform(X_train).astype(np.float32)
    seconds = {}
    for name, cls in skgan_ad.all_detectors():
        params = {"epochs": 1, "min_steps": 0, "random_state": 0}
        defaults = cls().get_params()
        if "encoder_epochs" in defaults:
            params["encoder_epochs"] = 1
        if "offset_samples" in defaults:  # AnoGAN: its latent search is not training
            params["offset_samples"] = 64
        history = cls(**params).fit(X).history_
        steps = sum(len(epoch["batches"]) for epoch in history)
        seconds[name] = sum(history[:, "dur"]) / steps
    return seconds


def _run_worker(checkout):
    """One measurement in a fresh process that imports the package of ``checkout``."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    output = subprocess.run([sys.executable, __file__, "--worker"], cwd=checkout,
                            env=environment, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks step_time",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_measure()))
        return 0
    # Imported here: the worker runs as a plain script, outside the package.
    from ..common import REPOSITORY, RESULTS

    checkouts = {"this": REPOSITORY}
    if args.against:
        checkouts["against"] = args.against.resolve()
    runs = {label: [] for label in checkouts}
    for repeat in range(args.repeats):
        for label, checkout in checkouts.items():
            start = time.perf_counter()
            runs[label].append(_run_worker(checkout))
            print(f"repeat {repeat + 1}/{args.repeats}, {label}: "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
    import numpy as np

    medians = {label: {name: float(np.median([run[name] for run in measured]))
                       for name in measured[0]} for label, measured in runs.items()}
    revisions = {label: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path,
                                       capture_output=True, text=True).stdout.strip()
                 for label, path in checkouts.items()}
    command = "python -m benchmarks step_time" + (
        f" --against {args.against} --repeats {args.repeats}" if args.against
        else f" --repeats {args.repeats}")
    lines = [f"# Training time per step ({date.today()})", "",
             f"Command: `{command}`", "",
             "One epoch of each detector's training on the bundled KDD99 sample (8,015 "
             "rows, standardised), defaults with `min_steps=0`, one torch thread, "
             f"{platform.machine()}, {os.cpu_count()} cores; median of {args.repeats} "
             "repeats, each checkout in a fresh process, in alternation.", ""]
    header = " | ".join(f"{label} ({revisions[label]}) ms/step" for label in checkouts)
    lines += [f"| detector | {header} |" + (" ratio |" if args.against else ""),
              "|---|" + "---|" * (len(checkouts) + bool(args.against))]
    for name in medians["this"]:
        cells = " | ".join(f"{1000 * medians[label][name]:.2f}" for label in checkouts)
        ratio = (f" {medians['this'][name] / medians['against'][name]:.2f} |"
                 if args.against else "")
        lines.append(f"| {name} | {cells} |{ratio}")
    (RESULTS / "step_time.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "step_time.json").write_text(json.dumps(
        {"command": command, "revisions": revisions, "runs": runs, "median": medians},
        indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
