"""Input scaling on ADBench training parts: the scaler in front, and ``standardize``.

Joins runs of ``defaults/min_steps_validation.py`` at the default ``min_steps``
(validation splits of the training parts of the small ADBench tables; test parts never
read) into one table. The first three ran before the moving average became the official
code's (2026-12-06), so ALAD, EGBAD, AnoGAN and the simultaneous-encoder GAN averaged
with the warm-up there; the last three columns use today's average (the StandardScaler
runs of those four rerun in ``ema_official``):

    python -m benchmarks min_steps_validation --candidates 4000 --scaler standard \\
        --output benchmarks/results/input_scaling_standard
    python -m benchmarks min_steps_validation --candidates 4000 --scaler minmax \\
        --output benchmarks/results/input_scaling_minmax
    python -m benchmarks min_steps_validation --candidates 4000 --scaler minmax \\
        --standardize --output benchmarks/results/input_scaling_minmax_standardize
    python -m benchmarks min_steps_validation --candidates 4000 --detectors ALAD \\
        AnoGAN EGBAD SimultaneousEncoderGAN --set ema_warmup=false \\
        --output benchmarks/results/ema_official
    python -m benchmarks min_steps_validation --candidates 4000 --scaler quantile \\
        --jobs 1 --output benchmarks/results/input_scaling_quantile
    python -m benchmarks min_steps_validation --candidates 4000 --scaler none \\
        --output benchmarks/results/input_scaling_none
    python -m benchmarks input_scaling          # writes results/input_scaling.{json,md}

Per detector and setting: mean validation AUROC over tables, the worst table, and the
tables ranked backwards (validation AUROC below 0.5).
"""

import json
from datetime import date
from pathlib import Path

import numpy as np

from .._runner import command_line
from ..common import RESULTS, default_output, script_parser, write_results

#: Each column: the runs it joins; a later run's (table, detector) replaces an earlier's.
SETTINGS = {"StandardScaler (warm-up)": ["input_scaling_standard"],
            "MinMaxScaler (warm-up)": ["input_scaling_minmax"],
            "MinMaxScaler, standardize=True (warm-up)":
                ["input_scaling_minmax_standardize"],
            "StandardScaler": ["input_scaling_standard", "ema_official"],
            "QuantileTransformer (normal output)": ["input_scaling_quantile"],
            "no scaler (raw features)": ["input_scaling_none"]}


def per_detector(runs):
    """``{detector: [validation AUROC per table]}`` of successful records, a later
    record of a (table, detector) replacing an earlier one."""
    latest = {}
    for run in runs:
        if run["status"] == "ok":
            (candidate,) = run["candidates"].values()
            latest[run["dataset"], run["detector"]] = candidate["auroc"]
    aurocs = {}
    for (_, detector), auroc in latest.items():
        aurocs.setdefault(detector, []).append(auroc)
    return aurocs


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--output", default=default_output("input_scaling"))
    args = parser.parse_args(argv)
    settings = {label: per_detector([run for stem in stems for run in json.loads(
        (Path(args.results) / f"{stem}.json").read_text())["runs"]])
        for label, stems in SETTINGS.items()}
    detectors = sorted(set().union(*settings.values()))
    lines = [f"# Input scaling on ADBench training parts ({date.today()})", "",
             f"Command: `{command_line()}` (joining the runs named in its docstring)", "",
             ("Validation splits of the training parts of the small ADBench tables "
              "(`min_steps_validation`, seed 42, default `min_steps`); the test parts are "
              "never read. Cells: mean validation AUROC over tables / worst table / "
              "tables below 0.5. (warm-up): ALAD, EGBAD, AnoGAN and the "
              "simultaneous-encoder GAN averaged their weights with the warm-up "
              "(`ema_warmup=True`), today's default before 2026-12-06."), "",
             "| detector | " + " | ".join(SETTINGS) + " |",
             "|---|" + "---|" * len(SETTINGS)]
    summary = {}
    for name in [*detectors, "all"]:
        cells = []
        for label, aurocs in settings.items():
            values = np.array(aurocs.get(name, []) if name != "all"
                              else [v for values in aurocs.values() for v in values])
            summary.setdefault(name, {})[label] = {
                "mean": float(values.mean()), "worst": float(values.min()),
                "below_half": int((values < 0.5).sum()), "tables": len(values)}
            cells.append(f"{values.mean():.3f} / {values.min():.3f} / "
                         f"{(values < 0.5).sum()}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    write_results(args.output, lines, summary=summary)
    return 0
