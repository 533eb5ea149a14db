"""Device check: training and scoring throughput of a tabular and an image detector.

Runs ALAD on KDD99-sized rows (121 features) and GANomaly on 28x28 images, on the GPU
when there is one and on the CPU, in float32 and in mixed precision (the detectors'
``precision``: bfloat16, and float16 on the GPU), each eager and compiled (``compile``;
``--no-compile`` skips it). Two epochs are trained: the table gives training rows/s of
the second and the first epoch's extra seconds (compilation, warm-up), and scoring
rows/s after a warm-up call. Data are random (throughput does not depend on the
values), so the script needs no data files and runs as one short job on a device
machine.

    python -m benchmarks gpu_check                 # writes results/gpu_check.{json,md}
    python -m benchmarks gpu_check --cpu-only --train-rows 2000   # a quick local run
"""

import platform
import time
from datetime import date

import numpy as np
import torch

import skgan_ad

from .._runner import command_line
from ..common import default_output, script_parser, write_results


def throughput(cls, X_train, X_score, device, **params):
    detector = cls(epochs=2, min_steps=0, random_state=0, device=device, **params)
    start = time.perf_counter()
    detector.fit(X_train)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    first_epoch_seconds, train_seconds = detector.history_[:, "dur"]
    fit_seconds = time.perf_counter() - start
    detector.score_samples(X_score[:1000])  # warm-up
    start = time.perf_counter()
    scores = detector.score_samples(X_score)
    score_seconds = time.perf_counter() - start
    assert np.isfinite(scores).all()
    return {"detector": cls.__name__, "device": device, "precision": detector.precision,
            "compile": detector.compile,
            "train_rows_per_second": len(X_train) / train_seconds,
            "first_epoch_extra_seconds": first_epoch_seconds - train_seconds,
            "fit_seconds": fit_seconds,
            "score_rows_per_second": len(X_score) / score_seconds,
            "batch_size": detector.batch_size, "score_batch_size": detector._score_batch_rows()}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--score-rows", type=int, default=200_000)
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--no-compile", action="store_true",
                        help="measure eager networks only")
    parser.add_argument("--precisions", nargs="+",
                        choices=["float32", "bfloat16", "float16"],
                        help="the precisions to measure (default: float32 and "
                             "bfloat16, and float16 on the GPU)")
    parser.add_argument("--output", default=default_output("gpu_check"))
    args = parser.parse_args(argv)
    devices = ["cpu"] + ([] if args.cpu_only or not torch.cuda.is_available() else ["cuda"])
    rng = np.random.RandomState(0)
    tables = rng.normal(size=(args.train_rows + args.score_rows, 121)).astype(np.float32)
    images = rng.rand(args.train_rows // 4 + args.score_rows // 10, 1, 28, 28)
    images = images.astype(np.float32)
    cases = [
        (skgan_ad.ALAD, tables[:args.train_rows], tables[args.train_rows:], {}),
        (skgan_ad.GANomaly, images[:args.train_rows // 4], images[args.train_rows // 4:], {}),
    ]
    records = []
    for device in devices:
        # float16 autocast needs a GPU to pay off; bfloat16 is tried on both.
        precisions = args.precisions or (
            ["float32", "bfloat16"] + (["float16"] if device == "cuda" else []))
        for cls, X_train, X_score, params in cases:
            for precision in precisions:
                for compiled in [False] + ([] if args.no_compile else [True]):
                    record = throughput(cls, X_train, X_score, device,
                                        precision=precision, compile=compiled, **params)
                    records.append(record)
                    print(f"{record['detector']:<9} {device:<5} {precision:<9} "
                          f"{'compiled' if compiled else 'eager':<8} train "
                          f"{record['train_rows_per_second']:>10,.0f} rows/s  score "
                          f"{record['score_rows_per_second']:>11,.0f} rows/s", flush=True)
    gpu = torch.cuda.get_device_name(0) if "cuda" in devices else "none"
    lines = [f"# Device check ({date.today()})", "",
             f"Command: `{command_line()}`", "",
             (f"GPU: {gpu}; CPU: {platform.machine()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} torch threads by default (our detectors use "
             "n_jobs=None: one). Two epochs of training at each detector's default batch "
             "size; train rows/s: the second epoch; first epoch extra: its seconds "
             "beyond the second's (compilation, warm-up); score rows/s after a warm-up "
             "call. Random data (ALAD: 121 features; GANomaly: 28x28 images)."), "",
             ("| detector | device | precision | compiled | train rows/s | "
              "first epoch extra s | score rows/s | batch | score batch |"),
             "|---|---|---|---|---|---|---|---|---|",
             *(f"| {r['detector']} | {r['device']} | {r['precision']} | "
               f"{'yes' if r['compile'] else 'no'} | {r['train_rows_per_second']:,.0f} | "
               f"{r['first_epoch_extra_seconds']:.1f} | "
               f"{r['score_rows_per_second']:,.0f} | {r['batch_size']} | "
               f"{r['score_batch_size']} |" for r in records)]
    write_results(args.output, lines, gpu=gpu, runs=records)
    return 0
