"""One-class MNIST: every detector on images, in the papers' two protocols.

* ``anomalous`` (the official code of: EGBAD, Fence GAN, GANomaly): one digit is the
  anomaly and the other nine are normal.
* ``normal`` (one-vs-rest; the official code of: ALAD): one digit is normal, the other
  nine are anomalies.

80% of the normal images train (``one_class_split``, seeded); the other normal images
and every anomalous one are scored. AUROC and AUPRC (average precision) with the
anomaly as the positive class, per digit and their mean. The data are the 10,000
images of the MNIST test set in ``../shared/data/mnist`` (the only MNIST file there),
scaled to [0, 1]; the papers use all 70,000, so training sets here are about 7 times
smaller. The papers publish their MNIST results as bar charts or tables that were
not retrieved for this project (``../shared/methods.md``), so no paper column yet.

Methods: our detectors (``skgan_ad.all_detectors()``). Each (method, protocol, digit)
runs in a fresh process (``_runner.py``); a run that fails is reported as failed.
Writes JSON, a markdown table and a chart of the mean AUROC per method.

    python -m benchmarks mnist --quick                   # digit 0, 1 epoch
    python -m benchmarks mnist --protocol anomalous --epochs 10
    python -m benchmarks mnist --jobs 8 --device cuda    # eight runs share one GPU
"""

import json
from datetime import date
from pathlib import Path

import numpy as np

from skgan_ad import all_detectors

from .. import _plots
from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    MNIST_DIR,
    OURS,
    add_quick_and_output_arguments,
    default_output,
    journal_path,
    min_steps_of,
    script_parser,
    timed,
)


def run_one(task):
    """Fit one detector for one digit and protocol; runs in its own process."""
    method, protocol, digit, args = task
    import torch

    torch.set_num_threads(1)
    from sklearn.metrics import average_precision_score, roc_auc_score

    from skgan_ad.datasets import load_mnist, one_class_split

    images, digits = load_mnist(args.data, return_X_y=True)
    X_train, X_test, y_test = one_class_split(images, digits, digit, protocol=protocol,
                                              random_state=0)
    rng = np.random.RandomState(0)
    if args.max_train and len(X_train) > args.max_train:
        X_train = X_train[np.sort(rng.choice(len(X_train), args.max_train, replace=False))]
    if args.max_test and len(X_test) > args.max_test:
        keep = np.sort(rng.choice(len(X_test), args.max_test, replace=False))
        X_test, y_test = X_test[keep], y_test[keep]
    params = {"random_state": 0, "device": args.device}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.min_steps is not None:
        params["min_steps"] = args.min_steps
    detector = dict(all_detectors())[method](**params)
    _, fit_seconds = timed(detector.fit, X_train)
    anomaly_scores = -detector.score_samples(X_test)
    record = {"method": method, "protocol": protocol, "digit": digit,
              "train_images": len(X_train), "test_images": len(X_test),
              "auroc": roc_auc_score(y_test, anomaly_scores),
              "auprc": average_precision_score(y_test, anomaly_scores),
              "fit_seconds": fit_seconds}
    print(f"  {method:<23} {protocol:<9} digit {digit}: AUROC {record['auroc']:.3f} "
          f"AUPRC {record['auprc']:.3f} fit {fit_seconds:.0f}s", flush=True)
    return record


def summarise(records, args):
    lines = [f"# One-class MNIST ({date.today()})", "", f"Command: `{command_line()}`", ""]
    if args.quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    lines += [(f"MNIST test set (10,000 images, [0, 1]); 80% of the normal images train "
               f"(at most {args.max_train or 'all'}; scored: at most "
               f"{args.max_test or 'all'} test images); epochs: "
               f"{args.epochs or 'estimator default'}; min_steps: "
               f"{'estimator default' if args.min_steps is None else args.min_steps}; "
               f"device: {args.device}; one torch thread per run. "
               "Mean AUROC / AUPRC over the digits run; paper figures not retrieved "
               "yet."), ""]
    for protocol in args.protocols:
        lines += [f"## Protocol: one digit {protocol}", "",
                  "| method | " + " | ".join(f"digit {d}" for d in args.digits)
                  + " | mean AUROC | mean AUPRC |",
                  "|---|" + "---|" * (len(args.digits) + 2)]
        for method in args.methods:
            runs = {r["digit"]: r for r in records
                    if r["method"] == method and r["protocol"] == protocol}
            cells = [f"{runs[d]['auroc']:.3f}" if runs[d]["status"] == "ok" else "failed"
                     for d in args.digits]
            means = mean_auroc_auprc(runs.values())
            lines.append(f"| {method} | " + " | ".join(cells) + " | " + (
                f"{means[0]:.3f} | {means[1]:.3f} |" if means else "failed | failed |"))
        lines.append("")
    lines.append("Cells: AUROC per digit. A method with a failed digit has no mean.")
    failures = [f"- {r['method']}, {r['protocol']}, digit {r['digit']}: {r['error']}"
                for r in records if r["status"] == "failed"]
    if failures:
        lines += ["", "Failed:", "", *failures]
    return "\n".join(lines) + "\n"


def mean_auroc_auprc(runs):
    """Mean AUROC and AUPRC over runs, or ``None`` when one of them failed."""
    runs = list(runs)
    if any(r["status"] == "failed" for r in runs):
        return None
    return (float(np.mean([r["auroc"] for r in runs])),
            float(np.mean([r["auprc"] for r in runs])))


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data", default=str(MNIST_DIR))
    parser.add_argument("--methods", nargs="+", default=list(OURS), choices=OURS)
    parser.add_argument("--protocol", choices=["anomalous", "normal", "both"],
                        default="both")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of the detectors (default: the estimators' own)")
    parser.add_argument("--max-train", type=int, default=None,
                        help="train on at most this many images (drawn at random)")
    parser.add_argument("--max-test", type=int, default=None,
                        help="score at most this many images (drawn at random)")
    add_quick_and_output_arguments(
        parser, "mnist", writes="OUTPUT.json, OUTPUT.md and OUTPUT_auroc.png",
        quick="digit 0, 1 epoch (min_steps 0), 100 training and 200 test images (the "
              "cost of AnoGAN's latent search grows with the images)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--device", default="auto",
                        help="the detectors' device: 'auto' (CUDA when there is one), "
                             "'cpu', 'cuda'...; runs share it")
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.digits, args.epochs, args.max_train, args.max_test = [0], 1, 100, 200
        args.min_steps = 0
    args.output = args.output or default_output("mnist", args.quick)
    args.protocols = ["anomalous", "normal"] if args.protocol == "both" else [args.protocol]
    if not Path(args.data).exists():
        parser.error(f"MNIST folder not found: {args.data}")
    tasks = [(method, protocol, digit, args) for protocol in args.protocols
             for digit in args.digits for method in args.methods]
    print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
    records = run_tasks(
        run_one, tasks, jobs=args.jobs,
        identify=lambda task: {"method": task[0], "protocol": task[1], "digit": task[2],
                               "epochs": args.epochs,
                               "min_steps": min_steps_of(task[0], args.min_steps),
                               "max_train": args.max_train,
                               "max_test": args.max_test},
        description="MNIST", journal=journal_path(args.output), resume=args.resume)
    table = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "quick": args.quick,
         "runs": records}, indent=2))
    output.with_suffix(".md").write_text(table)
    means = {f"one digit {protocol}": {
        method: mean_auroc_auprc(r for r in records
                                 if r["method"] == method and r["protocol"] == protocol)
        for method in args.methods} for protocol in args.protocols}
    _plots.plot_grouped_bars(
        {group: {method: pair[0] for method, pair in values.items() if pair}
         for group, values in means.items()},
        f"One-class MNIST: mean AUROC over {len(args.digits)} digit(s); line: chance",
        "AUROC", output.with_name(output.name + "_auroc.png"), reference=0.5)
    print("\n" + table)
    return 0
