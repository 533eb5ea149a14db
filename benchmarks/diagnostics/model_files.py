"""Safe model files of a whole KDD99 Pipeline beside joblib: size, time, memory, scores.

For each detector, a Pipeline of ``make_kdd99_preprocessor("log")`` and the detector
(one pass, ``min_steps=0``) is fitted on the bundled KDD99 sample's training rows, then
written and read back by ``skgan_ad.save`` / ``skgan_ad.load`` and by ``joblib.dump`` /
``joblib.load``. Reported: file size, best of ``--rounds`` save and load times, the extra
peak memory of a load, and whether the loaded Pipeline's scores of the 10,000 raw test
rows equal the fitted one's bit for bit.

    python -m benchmarks model_files      # writes results/model_files.{json,md}
"""

import os
import tempfile
from datetime import date
from pathlib import Path

import joblib
import numpy as np
from sklearn.pipeline import make_pipeline

import skgan_ad
from skgan_ad import all_detectors
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

from .._runner import command_line
from ..common import (
    OURS,
    default_output,
    script_parser,
    timed,
    with_extra_peak,
    write_results,
)

FORMATS = {"skgan_ad.save": (skgan_ad.save, skgan_ad.load),
           "joblib (pickle)": (lambda model, path: joblib.dump(model, path), joblib.load)}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--detectors", nargs="+", default=list(OURS), choices=OURS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default=default_output("model_files"))
    args = parser.parse_args(argv)
    data = load_kdd99(sample=True)
    X_train, X_test, _ = kdd99_paper_split(data.data, data.target)
    records = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.detectors:
            detector = dict(all_detectors())[name](epochs=1, min_steps=0, random_state=0)
            model = make_pipeline(make_kdd99_preprocessor("log"), detector).fit(X_train)
            expected = model.score_samples(X_test)
            for label, (save, load) in FORMATS.items():
                path = Path(folder) / f"{name}.model"
                save_seconds = min(timed(save, model, path)[1] for _ in range(args.rounds))
                load_seconds = min(timed(load, path)[1] for _ in range(args.rounds))
                loaded, _, extra_peak_mb = with_extra_peak(load, path)
                records.append({
                    "detector": name, "format": label, "bytes": os.path.getsize(path),
                    "save_seconds": save_seconds, "load_seconds": load_seconds,
                    "load_extra_peak_mb": extra_peak_mb,
                    "identical_scores": bool(np.array_equal(
                        loaded.score_samples(X_test), expected))})
    lines = [f"# Model files of a KDD99 Pipeline ({date.today()})", "",
             f"Command: `{command_line()}`", "",
             ("Pipeline: `make_kdd99_preprocessor(\"log\")` + the detector (one pass, "
              f"`min_steps=0`), fitted on the bundled sample's {len(X_train):,} training "
              f"rows; scores of its {len(X_test):,} raw test rows compared bit for bit. "
              f"Times: best of {args.rounds}; memory: extra peak RSS of one load."), "",
             "| detector | format | size KB | save ms | load ms | load extra MB | "
             "identical scores |", "|---|---|---|---|---|---|---|"]
    for record in records:
        lines.append(
            f"| {record['detector']} | {record['format']} | {record['bytes'] / 1024:,.0f} | "
            f"{1000 * record['save_seconds']:,.0f} | {1000 * record['load_seconds']:,.0f} | "
            f"{record['load_extra_peak_mb']:.1f} | {record['identical_scores']} |")
    write_results(args.output, lines, runs=records)
    return 0 if all(record["identical_scores"] for record in records) else 1
