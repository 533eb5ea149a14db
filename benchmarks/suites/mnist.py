"""One-class MNIST: every detector on images, in the papers' two protocols.

* ``anomalous`` (the official code of: EGBAD, Fence GAN, GANomaly): one digit is the
  anomaly and the other nine are normal.
* ``normal`` (one-vs-rest; the official code of: ALAD): one digit is normal, the other
  nine are anomalies.

80% of the normal images train (``one_class_split``, seeded by the run's seed); the
other normal images and every anomalous one are scored (at most ``--max-test`` of
them, drawn at random). AUROC and AUPRC (average precision) with the anomaly as the
positive class, per digit, and their means over digits and seeds. The data are the
10,000 images of the MNIST test set in ``../shared/data/mnist`` (the only MNIST file
there), pixels scaled to [-1, 1] as the papers scale them; the papers use all 70,000,
so training sets here are about 7 times smaller. Beside ours: PyOD's IForest and
AutoEncoder on the pixels.

``--cpu`` sizes the run for a 2-core machine: each of our detectors trains about
``--train-steps`` optimiser steps (epochs = steps / batches per epoch, at least one;
f-AnoGAN half for its GAN and half for its encoder; Fence GAN's first 15% of epochs
train D alone, as its MNIST command's 15 of 100), two runs at a time with one torch
thread each (``python -m benchmarks image_speed``: two threads train one run only 1.6
to 1.9 times as fast), AnoGAN's latent search shortened to 30 steps, and the moving
average of the weights (ALAD, EGBAD, AnoGAN, the simultaneous-encoder GAN) with its warm-up
(``ema_warmup=True``): without it, 200 steps would leave the averaged weights 82% to
98% initial. A budget hundreds of times smaller than the papers' (GANomaly: 15 epochs
over about 50,000 images): a check that the image networks learn the task, not the
published accuracy. Each run is a fresh process (``_runner.py``);
finished runs are journaled, so ``--resume`` continues a stopped suite.

    python -m benchmarks mnist --quick                   # digit 0, 1 epoch
    python -m benchmarks mnist --cpu --resume            # results/mnist_cpu.*
    python -m benchmarks mnist --protocol anomalous --epochs 15
    python -m benchmarks mnist --jobs 8 --device cuda    # eight runs share one GPU
"""

import json
import os
from datetime import date
from pathlib import Path

import numpy as np

from skgan_ad import all_detectors

from .. import _plots
from .._runner import (
    add_report_only_argument,
    add_resume_argument,
    command_line,
    finished_runs,
    run_tasks,
)
from ..common import (
    MNIST_DIR,
    OURS,
    add_quick_and_output_arguments,
    default_output,
    ema_of,
    journal_path,
    make_detector,
    min_steps_of,
    script_parser,
    timed,
)


def mnist_split(digit, protocol, seed, args):
    """``X_train, X_test, y_test`` of one run: pixels in [-1, 1], at most
    ``args.max_train`` training and ``args.max_test`` scored images (drawn by ``seed``)."""
    from skgan_ad.datasets import load_mnist, one_class_split

    images, digits = load_mnist(args.data, return_X_y=True)
    images = 2 * images - 1
    X_train, X_test, y_test = one_class_split(images, digits, digit, protocol=protocol,
                                              random_state=seed)
    rng = np.random.RandomState(seed)
    if args.max_train and len(X_train) > args.max_train:
        X_train = X_train[np.sort(rng.choice(len(X_train), args.max_train, replace=False))]
    if args.max_test and len(X_test) > args.max_test:
        keep = np.sort(rng.choice(len(X_test), args.max_test, replace=False))
        X_test, y_test = X_test[keep], y_test[keep]
    return X_train, X_test, y_test


def run_one(task):
    """Fit one detector for one digit, protocol and seed; runs in its own process."""
    method, protocol, digit, seed, args = task
    import torch

    torch.set_num_threads(args.threads)
    from sklearn.metrics import average_precision_score, roc_auc_score

    X_train, X_test, y_test = mnist_split(digit, protocol, seed, args)
    if method in OURS:
        params = {"random_state": seed, "device": args.device,
                  **detector_budget(method, len(X_train), args)}
        detector = dict(all_detectors())[method](**params)
        _, fit_seconds = timed(detector.fit, X_train)
        anomaly_scores = -detector.score_samples(X_test)
        trained = {"epochs": int(len(detector.history_)),
                   "train_seconds": float(sum(detector.history_[:, "dur"]))}
    else:
        torch.manual_seed(seed)
        detector, _ = make_detector(method, seed, X_train.shape[1])
        flat = X_train.reshape(len(X_train), -1)
        _, fit_seconds = timed(detector.fit, flat)
        anomaly_scores = detector.decision_function(X_test.reshape(len(X_test), -1))
        trained = {}
    record = {"train_images": len(X_train), "test_images": len(X_test),
              "auroc": roc_auc_score(y_test, anomaly_scores),
              "auprc": average_precision_score(y_test, anomaly_scores),
              "fit_seconds": fit_seconds, **trained}
    print(f"  {method:<23} {protocol:<9} digit {digit} seed {seed}: "
          f"AUROC {record['auroc']:.3f} AUPRC {record['auprc']:.3f} "
          f"fit {fit_seconds:.0f}s", flush=True)
    return record


#: Share of Fence GAN's epochs that train D alone in its MNIST command (15 of 100).
FENCEGAN_PRETRAIN_SHARE = 0.15


def detector_budget(method, n_train, args):
    """The training-length parameters of one of ours under the suite's options."""
    params = {} if args.min_steps is None else {"min_steps": args.min_steps}
    if args.score_batch_size:
        params["score_batch_size"] = args.score_batch_size
    if method == "AnoGAN" and args.search_steps:
        # The offset comes from a latent search per training row: as many as are scored.
        params.update(search_steps=args.search_steps, offset_samples=args.max_test)
    if args.train_steps:
        batches = max(1, n_train // dict(all_detectors())[method]().batch_size)
        if method == "FAnoGAN":
            half = max(1, round(args.train_steps / 2 / batches))
            return {**params, "epochs": half, "encoder_epochs": half, "min_steps": 0}
        epochs = max(1, round(args.train_steps / batches))
        params.update(epochs=epochs, min_steps=0)
        if ema_of(method):
            # The official average keeps ema_decay ** steps of the initial weights:
            # after 200 steps, 82% (ALAD's 0.999) to 98% (0.9999). The warm-up
            # forgets them within the budget.
            params["ema_warmup"] = True
        if method == "FenceGAN":
            params["pretrain_epochs"] = round(FENCEGAN_PRETRAIN_SHARE * epochs)
    elif args.epochs is not None:
        params["epochs"] = args.epochs
    return params


#: Baselines on the pixels (``common.make_detector``).
BASELINES = ("PyOD IForest", "PyOD AutoEncoder")
#: The settings of ``--cpu``.
CPU_BUDGET = {"train_steps": 200, "max_test": 1500,
              "search_steps": 30, "jobs": 2, "threads": 1, "seeds": [0, 1]}


def summarise(records, args):
    lines = [f"# One-class MNIST ({date.today()})", "", f"Command: `{command_line()}`", ""]
    if args.quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    budget = (f"about {args.train_steps} training steps per fit (epochs in the JSON)"
              if args.train_steps else f"epochs: {args.epochs or 'estimator default'}")
    lines += [(f"MNIST test set (10,000 images, pixels in [-1, 1]); 80% of the normal "
               f"images train (at most {args.max_train or 'all'}); scored: at most "
               f"{args.max_test or 'all'} test images; {budget}; AnoGAN's latent search: "
               f"{args.search_steps or 'default'} steps; seeds {args.seeds}; device "
               f"{args.device}; {args.threads} torch thread(s) per run, {args.jobs} "
               "run(s) at a time. Runs: finished / asked. AUROC with the anomaly "
               "positive: mean over the finished runs, ± the standard deviation over "
               "seeds of the mean over digits (seeds with every digit; nan with fewer "
               "than two); worst: the lowest digit (mean over seeds); digit cells: "
               "mean over seeds (nan: not run yet). The papers' MNIST figures are bar charts not "
               "retrieved for this project, so no paper column."), ""]
    for protocol in args.protocols:
        lines += [f"## Protocol: one digit {protocol}", "",
                  "| method | runs | mean AUROC | mean AUPRC | worst digit | fit s (mean) | "
                  + " | ".join(f"{d}" for d in args.digits) + " |",
                  "|---|---|---|---|---|---|" + "---|" * len(args.digits)]
        for method in args.methods:
            runs = [r for r in records if r["method"] == method
                    and r["protocol"] == protocol]
            summary = summarise_runs(runs, args.digits)
            if summary is None:
                lines.append(f"| {method} | 0/{len(runs)} |  |  |  |  |"
                             + " |" * len(args.digits))
                continue
            lines.append(
                f"| {method} | {summary['runs']} | "
                f"{summary['auroc']:.3f} ± {summary['seed_std']:.3f} | "
                f"{summary['auprc']:.3f} | {summary['worst']:.3f} | "
                f"{summary['fit_seconds']:.0f} | "
                + " | ".join(f"{v:.2f}" for v in summary["per_digit"]) + " |")
        lines.append("")
    failures = [f"- {r['method']}, {r['protocol']}, digit {r['digit']}, seed "
                f"{r['seed']}: {r['error']}" for r in records if r["status"] == "failed"]
    if failures:
        lines += ["Failed:", "", *failures]
    return "\n".join(lines) + "\n"


def summarise_runs(runs, digits):
    """Means over the finished runs of one method and protocol (``None`` if none).

    ``seed_std``: the spread over seeds of the mean over digits, from the seeds whose
    every digit finished (NaN with fewer than two); ``runs``: finished / asked.
    """
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return None
    by_digit = {d: [r["auroc"] for r in ok if r["digit"] == d] for d in digits}
    complete_seeds = [seed for seed in sorted({r["seed"] for r in ok})
                      if len([r for r in ok if r["seed"] == seed]) == len(digits)]
    seed_means = [np.mean([r["auroc"] for r in ok if r["seed"] == seed])
                  for seed in complete_seeds]
    return {"auroc": float(np.mean([r["auroc"] for r in ok])),
            "seed_std": float(np.std(seed_means)) if len(seed_means) > 1 else float("nan"),
            "auprc": float(np.mean([r["auprc"] for r in ok])),
            "worst": float(min(np.mean(v) for v in by_digit.values() if v)),
            "per_digit": [float(np.mean(v)) if v else float("nan")
                          for v in by_digit.values()],
            "fit_seconds": float(np.mean([r["fit_seconds"] for r in ok])),
            "runs": f"{len(ok)}/{len(runs)}"}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data", default=str(MNIST_DIR))
    parser.add_argument("--methods", nargs="+", default=[*OURS, *BASELINES],
                        choices=[*OURS, *BASELINES])
    parser.add_argument("--protocol", choices=["anomalous", "normal", "both"],
                        default="both")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of our detectors (default: their own)")
    parser.add_argument("--train-steps", type=int, default=None,
                        help="train each of ours for about this many steps instead")
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of the detectors (default: the estimators' own)")
    parser.add_argument("--max-train", type=int, default=None,
                        help="train on at most this many images (drawn at random)")
    parser.add_argument("--max-test", type=int, default=None,
                        help="score at most this many images (drawn at random)")
    parser.add_argument("--score-batch-size", type=int, default=None,
                        help="score_batch_size of ours (default: their own)")
    parser.add_argument("--search-steps", type=int, default=None,
                        help="AnoGAN's latent search steps (default: its own)")
    parser.add_argument("--cpu", action="store_true",
                        help="sized for a 2-core CPU: " + ", ".join(
                            f"--{key.replace('_', '-')} {value}"
                            for key, value in CPU_BUDGET.items())
                        + "; output results/mnist_cpu")
    add_quick_and_output_arguments(
        parser, "mnist", writes="OUTPUT.json, OUTPUT.md and OUTPUT_auroc.png",
        quick="digit 0, 1 epoch (min_steps 0), 100 training and 200 test images (the "
              "cost of AnoGAN's latent search grows with the images)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: the cores over --jobs)")
    parser.add_argument("--device", default="auto",
                        help="the detectors' device: 'auto' (CUDA when there is one), "
                             "'cpu', 'cuda'...; runs share it")
    add_resume_argument(parser)
    add_report_only_argument(parser)
    args = parser.parse_args(argv)
    if args.cpu:
        for key, value in CPU_BUDGET.items():
            setattr(args, key, value)
        args.device = "cpu"
        args.output = args.output or default_output("mnist_cpu")
    if args.quick:
        args.digits, args.epochs, args.max_train, args.max_test = [0], 1, 100, 200
        args.min_steps = 0
    args.threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    args.output = args.output or default_output("mnist", args.quick)
    args.protocols = ["anomalous", "normal"] if args.protocol == "both" else [args.protocol]
    if not Path(args.data).exists():
        parser.error(f"MNIST folder not found: {args.data}")
    # Seed by seed, so that a stopped suite has whole seeds of every method.
    tasks = [(method, protocol, digit, seed, args) for seed in args.seeds
             for protocol in args.protocols for digit in args.digits
             for method in args.methods]
    def identify(task):
        return {"method": task[0], "protocol": task[1], "digit": task[2],
                "seed": task[3], "epochs_option": args.epochs,
                "train_steps": args.train_steps,
                "min_steps": min_steps_of(task[0], args.min_steps),
                "ema": ("warm-up" if args.train_steps and ema_of(task[0])
                        else ema_of(task[0])),
                "max_train": args.max_train, "max_test": args.max_test,
                "search_steps": args.search_steps}

    if args.report_only:
        records = finished_runs(journal_path(args.output), identify, tasks)
    else:
        print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
        records = run_tasks(run_one, tasks, jobs=args.jobs, identify=identify,
                            description="MNIST", journal=journal_path(args.output),
                            resume=args.resume)
    table = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    summaries = {protocol: {method: summarise_runs(
        [r for r in records if r["method"] == method and r["protocol"] == protocol],
        args.digits) for method in args.methods} for protocol in args.protocols}
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "quick": args.quick,
         "summaries": summaries, "runs": records}, indent=2))
    output.with_suffix(".md").write_text(table)
    if any(summary for values in summaries.values() for summary in values.values()):
        _plots.plot_grouped_bars(
            {f"one digit {protocol}": {method: summary["auroc"]
                                       for method, summary in values.items() if summary}
             for protocol, values in summaries.items()},
            f"One-class MNIST: mean AUROC of the finished runs ({len(args.digits)} "
            f"digit(s), {len(args.seeds)} seed(s)); line: chance",
            "AUROC", output.with_name(output.name + "_auroc.png"), reference=0.5)
    print("\n" + table)
    return 0
