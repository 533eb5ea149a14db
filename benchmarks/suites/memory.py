"""Peak extra memory of scoring a large array: bounded by the batch, not by the data.

Fits each detector briefly on KDD-sized random data (5,000 x 121; ours for one epoch,
which also gives its training rows/s), then scores a 2,000,000 x 121 array (as
float32, float64 and CSR) while a thread samples the process's resident memory every
millisecond. "Extra" is the peak during scoring minus the resident memory just before
it; the float64 scores returned (16 MB for 2,000,000 rows) are part of it and
unavoidable. Detectors (``--detectors``): by default ours but AnoGAN
(``common.OURS_WITHOUT_SEARCH``; ``anogan_speed.py`` measures its scoring memory with
a short latent search, which here would take hours), and PyOD's ALAD (its default
200 steps), which scores dense arrays only and in one pass.

    python -m benchmarks memory                  # writes results/memory.{json,md}
    python -m benchmarks memory --rows 200000    # quicker
"""

import ctypes
import json
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from .._runner import command_line
from ..common import (
    OURS,
    OURS_WITHOUT_SEARCH,
    default_output,
    make_detector,
    script_parser,
    with_extra_peak,
)

LIBC = ctypes.CDLL("libc.so.6")


def measure(detector, X):
    # Return the heap's freed pages to the system, so "before" holds no reusable slack.
    LIBC.malloc_trim(0)
    # PyOD's detectors have no score_samples; ours return it without the offset.
    score = getattr(detector, "score_samples", detector.decision_function)
    scores, seconds, extra_mb = with_extra_peak(score, X)
    assert np.isfinite(scores).all()
    return {"extra_mb": extra_mb, "rows_per_second": X.shape[0] / seconds}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--detectors", nargs="+",
                        default=[*OURS_WITHOUT_SEARCH, "PyOD ALAD"],
                        choices=[*OURS, "PyOD ALAD"])
    parser.add_argument("--output", default=default_output("memory"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    train = rng.normal(size=(5000, 121)).astype(np.float32)
    X32 = rng.normal(size=(args.rows, 121)).astype(np.float32)
    inputs = {"float32": X32}
    records = []
    for name in args.detectors:
        detector, convention = make_detector(name, 0, train.shape[1], epochs=1,
                                             min_steps=0)
        detector.fit(train)
        ours = convention == "sklearn"
        train_rows_per_second = (len(train) / float(np.sum(detector.history_[:, "dur"]))
                                 if ours else None)
        # PyOD scores in one pass, without batches, and dense input only.
        batch_size = detector._score_batch_rows() if ours else args.rows
        for kind in ("float32", "float64", "CSR") if ours else ("float32", "float64"):
            if kind not in inputs:
                inputs[kind] = X32.astype(np.float64) if kind == "float64" else \
                    sp.csr_matrix(np.where(X32 > 1.5, X32, 0))
            record = {"detector": name, "input": kind, "rows": args.rows,
                      "input_mb": (inputs[kind].data.nbytes if sp.issparse(inputs[kind])
                                   else inputs[kind].nbytes) / 2**20,
                      "score_batch_size": batch_size,
                      "batch_input_mb": batch_size * 121 * 4 / 2**20,
                      "train_rows_per_second": train_rows_per_second,
                      **measure(detector, inputs[kind])}
            records.append(record)
            print(f"{name:<6} {kind:<8} input {record['input_mb']:7.0f} MB  extra peak "
                  f"{record['extra_mb']:6.1f} MB  {record['rows_per_second']:,.0f} rows/s",
                  flush=True)
    lines = [
        f"# Peak extra memory of scoring ({date.today()})", "",
        f"Command: `{command_line()}`", "",
        (f"{args.rows:,} rows x 121 features; one torch thread; extra = peak resident "
         "memory while scoring minus resident memory before (includes the returned "
         f"float64 scores, {args.rows * 8 / 2**20:.0f} MB). Train rows/s: the one-epoch "
         "fit on 5,000 rows (ours only)."), "",
        ("| detector | input | input MB | score batch | extra peak MB | rows/s | "
         "train rows/s |"),
        "|---|---|---|---|---|---|---|",
        *(f"| {r['detector']} | {r['input']} | {r['input_mb']:,.0f} | "
          f"{r['score_batch_size']:,} | {r['extra_mb']:.1f} | {r['rows_per_second']:,.0f} | "
          + (f"{r['train_rows_per_second']:,.0f} |" if r["train_rows_per_second"] else "– |")
          for r in records),
    ]
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "runs": records}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0
