"""KDD99 in the protocol of the ALAD/EGBAD papers: ours next to PyOD, in one run.

Protocol (``../shared/data/README.md``): one-hot encoding to 121 features, a 50/50
split drawn with ``DataFrame.sample(frac=0.5, random_state=seed)``, training on the
normal (attack) rows of the first half only, scoring the whole other half, and calling
anomalies the test rows at or above the 80th percentile of the test scores.

Feature scaling (``--scaler``): the official code trains on unscaled features
(``src_bytes`` reaches 7e8). By default each detector gets the scaling chosen for it on
KDD99 rows that are in no evaluated test half (``defaults/tabular_validation.py``,
``common.selection_rows``), listed in ``common.SCALERS``; the others are standardised with
statistics of the training rows. ALAD, for one, swings from epoch to epoch on raw and
min-max features and plateaus low on standardised ones, while ``log1p`` of the
numeric columns keeps the byte totals' order of magnitude and trains stably
(``results/alad_validation.md``).

Like for like: the official code's preprocessing beside ours. For each of ours with a
published KDD99 figure (``PAPER``: ALAD, EGBAD, AnoGAN), a row "NAME, official
preprocessing" trains on the unscaled one-hot features with the estimator's defaults
and exactly the epochs asked (``min_steps=0``), as the official code trains; the row
"NAME" is the recommended setting (the scaling of ``common.SCALERS``). Both stand next
to the paper's F1, so each comparison says what it compares. ``--no-official``
leaves the official rows out.

Detectors: ours (``skgan_ad.all_detectors()``) and nine of PyOD's, with their own
defaults (``common.make_detector``). PyOD's OCSVM and MO_GAAL are fitted on a random
20,000 of the training rows and its AnoGAN on 2,000 (``common.TRAIN_ROWS``), which
keeps their fits to minutes (``../shared/peers.md``).

Each (detector, seed) runs in a fresh process with one torch thread, so the peak RSS
it reports is its own; ``--jobs`` processes run at once. Seeds vary both the split and
the model; seed 42 is the papers' split. Besides the tables, the run keeps each run's
ROC and PR curve (at most 200 points each) and draws them for the first seed, with
the chart of F1 and AUROC per detector.

    python -m benchmarks kdd99                      # 5 seeds, every detector
    python -m benchmarks kdd99 --seeds 42 --detectors ALAD --epochs 5
    python -m benchmarks kdd99 --quick              # a smoke run, see --help
    python -m benchmarks kdd99 --detectors GANomaly --ensemble 5 --no-official \
        --output benchmarks/results/kdd99_ensemble5
    python -m benchmarks kdd99 --detectors GANomaly --gan-ensemble 5 --no-official \
        --output benchmarks/results/kdd99_gan_ensemble5
    python -m benchmarks kdd99 --detectors VotingDetector --standardize --no-official \
        --output benchmarks/results/kdd99_voting

``VotingDetector`` (not run by default) is one of each of ours with its defaults in a
:class:`skgan_ad.VotingDetector`, behind one scaling (``standard`` unless ``--scaler``).
"""

import json
import multiprocessing
import platform
from datetime import date
from pathlib import Path

import numpy as np

from .. import _plots
from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    BUNDLED,
    OURS,
    QUICK_TRAIN_ROWS_DIVISOR,
    SCALERS,
    TRAIN_ROWS,
    VOTING,
    add_ensemble_arguments,
    add_kdd99_data_argument,
    add_quick_and_output_arguments,
    add_run_arguments,
    combination_of,
    default_output,
    ema_of,
    detection_metrics,
    fit_and_score,
    gan_ensemble_settings,
    journal_path,
    kdd99_data,
    load_kdd99_data,
    markdown_cell,
    portable_path,
    scaler_of,
    script_parser,
)

#: Precision / recall / F1 on this protocol, from the ALAD and EGBAD papers' tables.
PAPER = {
    "EGBAD": (0.9200, 0.9582, 0.9372),
    "ALAD": (0.9427, 0.9577, 0.9501),
    "PyOD IForest": (0.9216, 0.9373, 0.9294),  # the papers' Isolation Forest row
    "PyOD OCSVM": (0.7457, 0.8523, 0.7954),  # the papers' OC-SVM row
    # The papers' AnoGAN row (Zenati's re-implementation); its printed F1, 0.8865, is
    # inconsistent with P and R, whose harmonic mean is given here.
    "AnoGAN": (0.8786, 0.8297, 0.8535),
}


#: Suffix of the rows that train as the official code does (unscaled features).
OFFICIAL = ", official preprocessing"


def official_rows(detectors):
    """The official-preprocessing rows of the detectors with a published figure."""
    return [name + OFFICIAL for name in detectors if name in OURS and name in PAPER]


def run_settings(label, args):
    """``(detector name, scaler, min_steps)`` of a table row."""
    if label.endswith(OFFICIAL):
        return label[:-len(OFFICIAL)], None, 0
    return label, scaler_of(label, args.scaler), args.min_steps


def curve_points(y_test, anomaly_scores, points=200):
    """The ROC and PR curves, each thinned to at most ``points`` points for the JSON."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    def thin(*arrays):
        keep = np.unique(np.linspace(0, len(arrays[0]) - 1, points).round().astype(int))
        return [np.round(array[keep], 5).tolist() for array in arrays]

    fpr, tpr, _ = roc_curve(y_test, anomaly_scores)
    precision, recall, _ = precision_recall_curve(y_test, anomaly_scores)
    fpr, tpr = thin(fpr, tpr)
    recall, precision = thin(recall, precision)
    return {"roc": {"fpr": fpr, "tpr": tpr},
            "pr": {"recall": recall, "precision": precision}}


def run_one(task):
    """Fit and score one detector on one split; runs in its own process."""
    label, seed, args = task
    name, scaler, min_steps = run_settings(label, args)
    from skgan_ad.datasets import kdd99_paper_split, make_kdd99_preprocessor

    data = load_kdd99_data(args.data)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target, random_state=seed)
    preprocessor = make_kdd99_preprocessor(scaler).fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)
    anomaly_scores, timings, detector = fit_and_score(
        name, seed, X_train, X_test, epochs=args.epochs, pyod_epochs=args.pyod_epochs,
        min_steps=min_steps, quick=args.quick,
        extra=our_settings(name, args),
        ensemble=args.ensemble, combination=args.combination)
    record = {"detector": label, "seed": seed, "test_rows": len(X_test), **timings,
              **detection_metrics(y_test, anomaly_scores, 80),
              "curves": curve_points(y_test, anomaly_scores)}
    if args.save_models and name in OURS:
        Path(args.save_models).mkdir(parents=True, exist_ok=True)
        detector.save(Path(args.save_models) / f"{label}_seed{seed}.safetensors")
    print(f"  {label:<13} seed {seed}: F1 {record['f1']:.4f}  AUROC {record['auroc']:.4f}  "
          f"fit {record['fit_seconds']:.0f}s", flush=True)
    return record


def data_label(data):
    """How journals and results name ``--data``: ``BUNDLED``, or a portable path."""
    return data if data == BUNDLED else portable_path(data)


def identify(task):
    """What names a run, its settings included, so ``--resume`` reuses only its like."""
    label, seed, args = task
    name, scaler, min_steps = run_settings(label, args)
    return {"detector": label, "seed": seed, "data": data_label(args.data),
            "scaler": scaler, "epochs": args.epochs, "pyod_epochs": args.pyod_epochs,
            # None: the estimators' own, which never lengthens a fit on this protocol's
            # training half (test_min_steps_default_leaves_kdd99_training_as_it_was).
            "min_steps": min_steps, "ema": ema_of(name),
            **({"standardize": True} if args.standardize else {}),
            **({"ensemble": args.ensemble} if args.ensemble and name in OURS else {}),
            "combination": combination_of(args, name),
            **(gan_ensemble_settings(args) if name in OURS else {})}


def our_settings(name, args):
    """The parameters of one of ours that the suite sets, if any: ``standardize`` with
    ``--standardize``, ``ensemble_size`` with ``--gan-ensemble``."""
    if name not in (*OURS, VOTING):
        return None
    settings = {**({"standardize": True} if args.standardize else {}),
                **gan_ensemble_settings(args)}
    return settings or None


def summarise(records, args):
    """Per detector, the mean and std over seeds or the first failure; the report.

    Returns
    -------
    summary : dict
        The JSON summary, by detector.
    report : str
        The markdown tables.
    """
    chosen = [f"`{SCALERS[name]}` for {name}" for name in args.detectors if name in SCALERS]
    scaling = (f"`{args.scaler}`" if args.scaler != "chosen" else
               ", ".join([*chosen, "`standard` for the others" if chosen else "`standard`"]))
    setting = (f"Features: 121 one-hot, scaled ({scaling}) with statistics of the "
               f"training rows; top-20% test threshold; seeds {', '.join(map(str, args.seeds))} "
               f"(split and model); epochs: {args.epochs or 'estimator default'} (ours), "
               f"{args.pyod_epochs or 'PyOD default'} (PyOD's); ours "
               + ("with their default standardize=True" if args.standardize
                  else "on the features as scaled (standardize=False)")
               + (f", each a SeedEnsemble of {args.ensemble} members (their "
                  f"{args.combination})" if args.ensemble else "")
               + (f", with ensemble_size={args.gan_ensemble}" if args.gan_ensemble else "")
               + "; one torch thread per run; "
               f"{platform.processor() or platform.machine()}, "
               f"{multiprocessing.cpu_count()} cores.")
    if any(label.endswith(OFFICIAL) for label in args.detectors):
        setting += (f" Rows \"NAME{OFFICIAL}\": unscaled features and exactly the "
                    "epochs asked (`min_steps=0`), as the official code trains; it "
                    "records no epoch count for KDD99 (`--nb_epochs` has no default), "
                    "so the epochs are the estimator's default unless `--epochs` says. "
                    "Rows \"NAME\": the recommended setting.")
    setting += (" Selection rule: every setting of ours (scaling, epochs, Fence GAN's and "
                "the simultaneous-encoder GAN's parameters) was chosen on KDD99 rows that "
                "lie in the training half of each of seeds 42 to 46, never on a row any "
                "reported KDD99 run is tested on (`defaults/tabular_validation.py`, "
                "`common.selection_rows`).")
    if args.data == BUNDLED:
        setting += " Data: the 20,000-row KDD99 sample bundled with skgan_ad."
    lines = [f"# KDD99, paper protocol ({date.today()})", "", f"Command: `{command_line()}`",
             ""]
    if args.quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    lines += [
        setting, "",
        ("| detector | precision | recall | F1 | paper F1 | AUROC | AUPRC | fit s | "
         "score rows/s | peak RSS MB |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for name in args.detectors:
        runs = [r for r in records if r["detector"] == name]
        failed = [r for r in runs if r["status"] == "failed"]
        if failed:
            summary[name] = {"status": "failed", "error": failed[0]["error"]}
            lines.append(f"| {name} | failed (seed {failed[0]['seed']}: "
                         f"{markdown_cell(failed[0]['error'])}) |" + " – |" * 9)
            continue
        stats = {key: (float(np.mean([r[key] for r in runs])),
                       float(np.std([r[key] for r in runs])))
                 for key in ("precision", "recall", "f1", "auroc", "auprc", "auroc_negated",
                             "fit_seconds", "score_rows_per_second", "peak_rss_mb")}
        summary[name] = {"status": "ok", **stats}

        def fmt(key, stats=stats):
            return f"{stats[key][0]:.4f} ± {stats[key][1]:.4f}"

        published = PAPER.get(run_settings(name, args)[0])
        paper = f"{published[2]:.4f}" if published else "–"
        lines.append(
            f"| {name} | {fmt('precision')} | {fmt('recall')} | {fmt('f1')} | {paper} | "
            f"{fmt('auroc')} | {fmt('auprc')} | {stats['fit_seconds'][0]:.0f} | "
            f"{stats['score_rows_per_second'][0]:,.0f} | {stats['peak_rss_mb'][0]:,.0f} |")
    finished = {name: s for name, s in summary.items() if s["status"] == "ok"}
    lines += ["", "AUROC of the negated score (a sign diagnosis): " + ", ".join(
        f"{name} {s['auroc_negated'][0]:.4f}" for name, s in finished.items())]
    # A subsampled detector trains on as many rows for every seed.
    train_rows = {r["detector"]: r["train_rows"] for r in records if r["status"] == "ok"}
    subsampled = [f"{name} {train_rows[name]:,}" for name in finished if name in TRAIN_ROWS]
    if subsampled:
        lines += ["", "Fitted on a random subsample of the training rows: "
                  + ", ".join(subsampled) + "."]
    lines += ["", ("Per run (flagged: the share of test rows called anomalies, above 20% "
                   "when rows tie at the threshold; passes: ours' passes over the "
                   "training rows, `min_steps` included; train s: the training epochs "
                   "alone; fit s adds scoring the training rows for `offset_`):"), "",
              ("| detector | seed | precision | recall | F1 | flagged | AUROC | passes | "
               "fit s | train s | score rows/s |"),
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r["status"] == "failed":
            lines.append(f"| {r['detector']} | {r['seed']} | failed: "
                         f"{markdown_cell(r['error'])} |" + " – |" * 8)
            continue
        train = f"{r['train_seconds']:.0f}" if r.get("train_seconds") is not None else "–"
        flagged = f"{r['flagged']:.1%}" if "flagged" in r else "–"
        passes = r.get("passes") or "–"
        lines.append(
            f"| {r['detector']} | {r['seed']} | {r['precision']:.4f} | {r['recall']:.4f} | "
            f"{r['f1']:.4f} | {flagged} | {r['auroc']:.4f} | {passes} | "
            f"{r['fit_seconds']:.0f} | {train} | {r['score_rows_per_second']:,.0f} |")
    return summary, "\n".join(lines) + "\n"


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    add_kdd99_data_argument(parser)
    add_run_arguments(parser)
    parser.add_argument("--scaler", default="chosen",
                        choices=["chosen", "none", "log", "minmax", "standard"],
                        help="feature scaling of every detector (default: each "
                             "detector's from common.SCALERS, else standard)")
    parser.add_argument("--standardize", action="store_true",
                        help="fit ours with standardize=True, their default, instead of "
                             "on the features as scaled (common.AS_PREPARED)")
    add_ensemble_arguments(parser)
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="stop a run after this long and report it as failed")
    parser.add_argument("--save-models", default=None, metavar="DIR",
                        help="save our fitted detectors as DIR/NAME_seedSEED.safetensors")
    add_quick_and_output_arguments(
        parser, "kdd99", writes="OUTPUT.json, OUTPUT.md, OUTPUT_f1.png and "
                                "OUTPUT_curves.png",
        quick=f"seed 42, 1 epoch (min_steps 0) for ours and PyOD's, TRAIN_ROWS divided "
              f"by {QUICK_TRAIN_ROWS_DIVISOR}, the bundled sample unless --data is given")
    parser.add_argument("--no-official", action="store_true",
                        help="leave out the rows that train on the official code's "
                             "(unscaled) features")
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.pyod_epochs, args.min_steps = [42], 1, 1, 0
    if not args.no_official:
        # Each official row right after its detector's recommended one.
        official = set(official_rows(args.detectors))
        args.detectors = [row for name in args.detectors
                          for row in [name, *official.intersection([name + OFFICIAL])]]
    args.data = kdd99_data(parser, args.data, args.quick)
    args.output = args.output or default_output("kdd99", args.quick)

    tasks = [(name, seed, args) for seed in args.seeds for name in args.detectors]
    print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
    records = run_tasks(run_one, tasks, jobs=args.jobs, budget_seconds=args.budget,
                        identify=identify, description="KDD99",
                        journal=journal_path(args.output), resume=args.resume)
    summary, table = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(),
         "quick": args.quick,
         "data": data_label(args.data),
         "scaler": args.scaler,
         "epochs": args.epochs, "pyod_epochs": args.pyod_epochs, "runs": records,
         "summary": summary}, indent=2))
    output.with_suffix(".md").write_text(table)
    published = {label: PAPER[run_settings(label, args)[0]] for label in args.detectors
                 if run_settings(label, args)[0] in PAPER}
    _plots.plot_f1(summary, published, output.with_name(output.name + "_f1.png"))
    _plots.plot_curves(
        {r["detector"]: r["curves"] for r in records
         if r["seed"] == args.seeds[0] and r["status"] == "ok"},
        f"KDD99, paper protocol, seed {args.seeds[0]}",
        output.with_name(output.name + "_curves.png"))
    print("\n" + table)
    return 0
