"""Peak extra memory of scoring a large array: bounded by the batch, not by the data.

Fits each detector briefly on KDD-sized random data (5,000 x 121; ours for one epoch,
which also gives its training rows/s), then scores a 2,000,000 x 121 array (as
float32, float64 and CSR) while a thread samples the process's resident memory every
millisecond. "Extra" is the peak during scoring minus the resident memory just before
it; the float64 scores returned (16 MB for 2,000,000 rows) are part of it and
unavoidable. PyOD's ALAD (``--detectors "PyOD ALAD"``, its default 200 steps) scores
dense arrays only and in one pass.

    python benchmarks/memory.py                  # writes results/memory.{json,md}
    python benchmarks/memory.py --rows 200000    # quicker
"""

import argparse
import ctypes
import json
import os
import sys
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

if __package__:
    from .kdd99 import make_detector
    from .runner import command_line
else:  # run as a script: python benchmarks/memory.py
    from kdd99 import make_detector
    from runner import command_line

RESULTS = Path(__file__).resolve().parent / "results"
PAGE = os.sysconf("SC_PAGE_SIZE")
LIBC = ctypes.CDLL("libc.so.6")


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakSampler(threading.Thread):
    """Samples resident memory until stopped; ``peak`` is the highest sample."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self._done = resident_bytes(), threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.001)

    def stop(self):
        self._done.set()
        self.join()
        return self.peak


def measure(detector, X):
    # Return the heap's freed pages to the system, so "before" holds no reusable slack.
    LIBC.malloc_trim(0)
    before = resident_bytes()
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    # PyOD's detectors have no score_samples; ours return it without the offset.
    score = getattr(detector, "score_samples", detector.decision_function)
    scores = score(X)
    seconds = time.perf_counter() - start
    peak = sampler.stop()
    assert np.isfinite(scores).all()
    return {"extra_mb": (peak - before) / 2**20, "rows_per_second": X.shape[0] / seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--detectors", nargs="+", default=["EGBAD", "ALAD"],
                        help="ours, or PyOD ALAD")
    parser.add_argument("--output", default=str(RESULTS / "memory"))
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
        batch_size = detector.score_batch_size if ours else args.rows
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


if __name__ == "__main__":
    sys.exit(main())
