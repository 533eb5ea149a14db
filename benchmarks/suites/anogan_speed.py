"""AnoGAN scoring speed: the batched latent search, the same search row by row, PyOD.

On the KDD99 paper split (seed 42, features standardised with the training rows'
statistics), in one run and one torch thread:

1. ``decision_function`` on the same ``--rows`` test rows (2,000 by default) by our
   AnoGAN as shipped (500 Adam steps per row, all rows of a batch searched together),
   by the same search run one row at a time (a loop of 1-row calls, as the published
   TensorFlow code of LeeDoYup/AnoGAN-tf does; timed on the first ``--loop-rows`` of
   them, whose scores are compared with the batched ones), by the cheaper options
   (fewer steps, per-row early stop), and by PyOD's ``AnoGAN``, which runs no latent
   search when scoring new data. Rows per second and AUROC of each.
2. Steps per second of our search against the raw throughput of the same networks:
   one forward pass of G and D's feature layers plus the backward pass to z, with no
   optimiser, at the scoring batch size and for a single row.
3. Peak extra resident memory while scoring ``--memory-rows`` rows x 121 features
   (1,000,000 by default), by ours and by PyOD's. A batch holds the same state
   whatever the number of steps, so ours runs ``--memory-steps`` (5) steps to finish
   in minutes.

Our AnoGAN is fitted with its defaults on the whole training half (the fit ends with
the latent search over ``offset_samples``, 10,000, of its rows for ``offset_``), or
loaded with ``--model`` from the file ``python -m benchmarks kdd99 --save-models``
wrote for the same seed (the same model: fits are deterministic on CPU); PyOD's on a
random 2,000 of those rows (``--pyod-train-rows``), as in the KDD99 suite, because its
fit runs a Python loop of latent queries over every training row.

    python -m benchmarks anogan_speed            # writes results/anogan_speed.{json,md}
    python -m benchmarks anogan_speed --model models/AnoGAN_seed42.safetensors
"""

import copy
import json
import multiprocessing
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import skgan_ad
from skgan_ad import AnoGAN
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.methods._losses import frozen

from .._runner import command_line
from ..common import (
    KDD99_FILE,
    TRAIN_ROWS,
    default_output,
    script_parser,
    timed,
    with_extra_peak,
)


def with_params(detector, **params):
    """A copy of a fitted detector with other scoring parameters (no refit)."""
    return copy.deepcopy(detector).set_params(**params)


def raw_passes_per_second(detector, rows, seconds=5.0):
    """The search loss's forward and backward pass to z, without the optimiser."""
    net = detector.net_
    net._set_training(False)
    G, D = net.scoring_module("generator"), net.scoring_module("discriminator")
    x = torch.as_tensor(rows, dtype=torch.float32)
    with torch.no_grad():
        features_x = D.body(x)
    z = torch.randn(len(x), detector.latent_dim)
    passes, start = 0, time.perf_counter()
    with frozen(G, D):
        while time.perf_counter() - start < seconds:
            z_var = z.detach().requires_grad_(True)
            loss = detector._search_loss(G, D, x, features_x, z_var)
            torch.autograd.grad(loss.sum(), z_var)
            passes += 1
    return passes / (time.perf_counter() - start)


def search_throughput(detector, X):
    """Steps/s of 100-step searches against bare passes/s, on the same rows.

    For a batch of ``score_batch_size`` rows and for one row; the two are alternated
    and the best of three kept, since the machine is shared.
    """
    batch = detector._score_batch_rows()
    short_search = with_params(detector, search_steps=100)
    result = {"score_batch_size": batch}
    for label, sample in (("batch", X[:batch]), ("one_row", X[:1])):
        search, raw = [], []
        for _ in range(3):
            raw.append(raw_passes_per_second(detector, sample))
            search.append(100 / timed(short_search.score_samples, sample)[1])
        result[f"search_steps_per_second_{label}"] = max(search)
        result[f"raw_passes_per_second_{label}"] = max(raw)
    return result


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data", default=str(KDD99_FILE))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--loop-rows", type=int, default=200)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-steps", type=int, default=5)
    parser.add_argument("--model", default=None,
                        help="score this saved AnoGAN (kdd99 --save-models) instead "
                             "of fitting one")
    parser.add_argument("--train-rows", type=int, default=None,
                        help="fit ours on this many training rows (quick checks only)")
    parser.add_argument("--pyod-train-rows", type=int, default=TRAIN_ROWS["PyOD AnoGAN"],
                        help="fit PyOD's AnoGAN on this many random training rows")
    parser.add_argument("--output", default=default_output("anogan_speed"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    data = load_kdd99(args.data)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target,
                                                random_state=args.seed)
    preprocessor = make_kdd99_preprocessor("standard").fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)
    if args.train_rows is not None:
        X_train = X_train[:args.train_rows]
    rows = np.random.RandomState(0).permutation(len(X_test))[:args.rows]
    X, y = X_test[rows], y_test[rows]
    record = {"date": str(date.today()), "command": command_line(), "rows": args.rows,
              "anomalies": int(y.sum()), "machine": f"{platform.machine()}, "
              f"{multiprocessing.cpu_count()} cores, 1 torch thread"}

    if args.model:
        ours = skgan_ad.load(args.model, device="cpu")
        record["fit_seconds"], record["model"] = {}, args.model
        record["train_rows"] = {}
    else:
        ours, fit_seconds = timed(AnoGAN(random_state=args.seed, device="cpu").fit,
                                  X_train)
        record["fit_seconds"] = {"AnoGAN": fit_seconds}
        record["train_rows"] = {"AnoGAN": len(X_train)}
        print(f"AnoGAN fit on {len(X_train):,} rows: {fit_seconds:.0f} s", flush=True)

    runs = {}

    def score(name, detector, X_rows, y_rows=None, sign=-1, steps=None):
        scores, seconds = timed(detector.decision_function, X_rows)
        runs[name] = {"rows": len(X_rows), "seconds": seconds,
                      "rows_per_second": len(X_rows) / seconds,
                      "auroc": (roc_auc_score(y_rows, sign * scores)
                                if y_rows is not None else None),
                      "search_steps": steps}
        print(f"{name}: {runs[name]['rows_per_second']:,.1f} rows/s"
              + (f", AUROC {runs[name]['auroc']:.4f}" if y_rows is not None else ""),
              flush=True)
        return scores

    batched = score("ours, batched (500 steps)", ours, X, y, steps=ours.search_steps)
    start = time.perf_counter()
    looped = np.array([ours.decision_function(X[i:i + 1])[0]
                       for i in range(args.loop_rows)])
    seconds = time.perf_counter() - start
    runs["ours, row at a time (500 steps)"] = {
        "rows": args.loop_rows, "seconds": seconds,
        "rows_per_second": args.loop_rows / seconds, "search_steps": ours.search_steps,
        # The loop's scores equal the batched ones (below), so its AUROC is theirs.
        "auroc": runs["ours, batched (500 steps)"]["auroc"],
        "max_abs_difference_to_batched": float(np.abs(looped - batched[:args.loop_rows]).max()),
        "max_relative_difference_to_batched": float(
            np.abs(looped - batched[:args.loop_rows]).max() / np.abs(batched).max()),
    }
    print(f"row at a time: {args.loop_rows / seconds:.2f} rows/s; max |diff| "
          f"{runs['ours, row at a time (500 steps)']['max_abs_difference_to_batched']:.2e}",
          flush=True)
    for label, params in [("ours, batched, 100 steps", {"search_steps": 100}),
                          ("ours, batched, early stop (tol 1e-3, 20 steps)",
                           {"search_tol": 1e-3, "search_n_iter_no_change": 20}),
                          ("ours, batched, early stop (tol 1e-2, 10 steps)",
                           {"search_tol": 1e-2, "search_n_iter_no_change": 10})]:
        variant = with_params(ours, **params)
        score(label, variant, X, y, steps=variant.search_steps)

    from pyod.models.anogan import AnoGAN as PyODAnoGAN

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    train_rows = np.random.RandomState(args.seed).choice(len(X_train), args.pyod_train_rows,
                                                         replace=False)
    pyod, fit_seconds = timed(PyODAnoGAN(device="cpu").fit, X_train[train_rows])
    record["fit_seconds"]["PyOD AnoGAN"] = fit_seconds
    record["train_rows"]["PyOD AnoGAN"] = args.pyod_train_rows
    score("PyOD AnoGAN (no search at scoring)", pyod, X, y, sign=1)
    record["runs"] = runs

    record["throughput"] = search_throughput(ours, X)
    print(json.dumps(record["throughput"], indent=1), flush=True)

    # Memory: peak resident memory while scoring a large array, above the level before.
    X_big = np.resize(X_test, (args.memory_rows, X_test.shape[1]))
    light = with_params(ours, search_steps=args.memory_steps)

    _, seconds, extra_mb = with_extra_peak(light.decision_function, X_big)
    _, pyod_seconds, pyod_extra_mb = with_extra_peak(pyod.decision_function, X_big)
    record["memory"] = {
        "rows": args.memory_rows, "input_mb": X_big.nbytes / 2**20,
        "search_steps": args.memory_steps, "score_batch_size": light._score_batch_rows(),
        "extra_peak_mb": extra_mb, "pyod_extra_peak_mb": pyod_extra_mb,
        "returned_scores_mb": args.memory_rows * 8 / 2**20, "seconds": seconds,
        "pyod_seconds": pyod_seconds,
    }
    print(json.dumps(record["memory"], indent=1), flush=True)

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(record, indent=2))
    output.with_suffix(".md").write_text(report(record))
    print(report(record))
    return 0


def report(record):
    runs, throughput, memory = record["runs"], record["throughput"], record["memory"]
    batched = runs["ours, batched (500 steps)"]
    loop = runs["ours, row at a time (500 steps)"]
    fits = [f"{name} {seconds:,.0f} s on {record['train_rows'][name]:,} rows"
            for name, seconds in record["fit_seconds"].items()]
    if "model" in record:
        fits.insert(0, f"AnoGAN loaded from {record['model']}")
    search_share = (throughput["search_steps_per_second_batch"]
                    / throughput["raw_passes_per_second_batch"])
    loop_share = (throughput["search_steps_per_second_one_row"]
                  / throughput["raw_passes_per_second_one_row"])
    lines = [
        f"# AnoGAN scoring speed on KDD99 ({record['date']})",
        "",
        f"Command: `{record['command']}`",
        "",
        (f"{record['rows']:,} test rows of the paper split, seed 42 "
         f"({record['anomalies']} anomalies); {record['machine']}. Fit: {', '.join(fits)}."),
        "",
        "| scorer | search steps | rows timed | rows/s | AUROC |",
        "|---|---|---|---|---|",
        *(f"| {name} | {run['search_steps'] or '–'} | {run['rows']:,} | "
          f"{run['rows_per_second']:,.1f} | {run['auroc']:.4f} |"
          for name, run in runs.items()),
        "",
        (f"Batched over row at a time: "
         f"{batched['rows_per_second'] / loop['rows_per_second']:.0f}x the rows/s; "
         f"largest score difference on the {loop['rows']} rows scored both ways: "
         f"{loop['max_abs_difference_to_batched']:.2e} absolute, "
         f"{loop['max_relative_difference_to_batched']:.2e} relative to the largest "
         "score."),
        "",
        ("Throughput, 100-step searches against bare passes (one forward pass of G and "
         "of D's feature layers and the backward pass to z, no optimiser) on the same "
         "rows, best of three:"),
        "",
        (f"- a batch of {throughput['score_batch_size']} rows: search "
         f"{throughput['search_steps_per_second_batch']:,.1f} steps/s, raw "
         f"{throughput['raw_passes_per_second_batch']:,.1f} passes/s "
         f"({search_share:.0%} of raw; "
         f"{throughput['search_steps_per_second_batch'] * throughput['score_batch_size']:,.0f}"
         " row-steps/s)."),
        (f"- one row: search {throughput['search_steps_per_second_one_row']:,.0f} steps/s, "
         f"raw {throughput['raw_passes_per_second_one_row']:,.0f} passes/s "
         f"({loop_share:.0%} of raw)."),
        "",
        (f"Memory: scoring {memory['rows']:,} x 121 float32 rows "
         f"({memory['input_mb']:,.0f} MB) with score_batch_size "
         f"{memory['score_batch_size']} and {memory['search_steps']} search steps raised "
         f"resident memory by at most {memory['extra_peak_mb']:.1f} MB (of which "
         f"{memory['returned_scores_mb']:.1f} MB are the returned float64 scores); "
         f"{memory['seconds']:.0f} s. PyOD's AnoGAN, scoring the same rows in one pass "
         f"without a search: {memory['pyod_extra_peak_mb']:.1f} MB, "
         f"{memory['pyod_seconds']:.0f} s."),
    ]
    return "\n".join(lines) + "\n"
