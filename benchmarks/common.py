"""What every benchmark script shares: paths, data, the detectors, memory sampling.

The scripts (``suites/``, ``defaults/``, ``diagnostics/``) import from here, from
``_runner.py`` (runs in fresh processes, the command that started them) and from
``_plots.py`` (charts); none of these imports a script.
"""

import argparse
import contextlib
import inspect
import json
import os
import resource
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np

from skgan_ad import SeedEnsemble, VotingDetector, all_detectors
from skgan_ad.base import MIN_STEPS

# Paths ----------------------------------------------------------------------------

REPOSITORY = Path(__file__).resolve().parents[1]
#: What the documentation shows: tables, JSON and charts.
RESULTS = REPOSITORY / "benchmarks" / "results"
#: Quick (smoke) runs write here, so they never overwrite the results of real runs;
#: the documentation shows ``results/*`` only, not this subfolder.
QUICK_RESULTS = RESULTS / "quick"
#: The journals of the runs behind ``RESULTS`` (``NAME.runs.jsonl``), for ``--resume``.
JOURNALS = REPOSITORY / "benchmarks" / "journals"
#: The real data sets (``../shared/data/README.md``): beside the repository, or where
#: ``$SKGAN_AD_DATA`` says.
DATA = Path(os.environ.get("SKGAN_AD_DATA", REPOSITORY.parent / "shared" / "data"))
KDD99_FILE = DATA / "kdd99" / "kddcup.data_10_percent.gz"
MNIST_DIR = DATA / "mnist"


def portable_path(path):
    """``path`` relative to the repository root when it lies beside the repository.

    ``../shared/data/...`` rather than an absolute path, so that journals and tables
    name a data file the same way on every machine and ``--resume`` recognises runs
    journaled on another one.
    """
    # abspath, not resolve: a data folder reached through a symlink keeps its name.
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(REPOSITORY.parent):
        return os.path.relpath(absolute, REPOSITORY)
    return str(path)


def default_output(name, quick=False):
    """The output prefix of a script: ``results/NAME``, or ``results/quick/NAME``."""
    return str((QUICK_RESULTS if quick else RESULTS) / name)


def journal_path(output):
    """Where a suite writing ``OUTPUT.json`` journals its runs (``_runner.run_tasks``).

    ``journals/NAME.runs.jsonl`` for the results the documentation shows
    (``results/NAME``); ``OUTPUT.runs.jsonl`` beside any other output (a quick run's,
    say), so that it never mixes with the journal of a shown result.
    """
    output = Path(output).resolve()
    name = output.name + ".runs.jsonl"
    if output.parent == RESULTS:
        return JOURNALS / name
    return output.with_name(name)


# Scripts ----------------------------------------------------------------------------

def script_parser(module_name, doc):
    """The argument parser of a script: ``python -m benchmarks NAME``, its summary."""
    name = module_name.split(".")[-1]
    return argparse.ArgumentParser(prog=f"python -m benchmarks {name}",
                                   description=doc.split("\n")[0])


def add_set_argument(parser):
    """``--set NAME=VALUE``: a parameter of ours for every fit (VALUE in JSON)."""
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="fit ours with this parameter (VALUE in JSON, e.g. "
                             "standardize=true); repeatable")


def parsed_settings(parser, settings):
    """The parameters of ``--set``, by name."""
    import json

    params = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            parser.error(f"--set {setting}: VALUE must be JSON (true, 0.5, \"text\")")
    return params


def add_quick_and_output_arguments(parser, name, quick, writes):
    """``--quick`` (``quick`` says what it does) and ``--output`` (writing ``writes``)
    of the suite ``name``; its script then sets ``args.output = args.output or
    default_output(name, args.quick)``."""
    parser.add_argument("--quick", action="store_true",
                        help=f"{quick}, output under results/quick/: a smoke run, not a "
                             "result")
    parser.add_argument("--output", default=None,
                        help=f"writes {writes} (default: results/{name}, or "
                             f"results/quick/{name} with --quick)")


def write_results(output, lines, **content):
    """Write ``OUTPUT.json`` (today's date, the command and ``content``) and
    ``OUTPUT.md`` (the markdown ``lines``), and print the markdown."""
    from ._runner import command_line

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), **content}, indent=2,
        default=float))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def markdown_cell(text):
    """``text`` made safe for one cell of a markdown table (an error message, say)."""
    return " ".join(str(text).split()).replace("|", "/")


def timed(function, *args, **kwargs):
    """``(function(*args, **kwargs), seconds it took)``."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


# Data -------------------------------------------------------------------------------

#: ``--data`` value that loads the 20,000-row KDD99 sample bundled with skgan_ad.
BUNDLED = "bundled"
#: The ADBench protocol's name; Arrhythmia's, and its anomalous classes (ODDS, ALAD).
TABLES, ARRHYTHMIA = "adbench", "arrhythmia"
ARRHYTHMIA_ANOMALIES = (3, 4, 5, 7, 8, 9, 14, 15)


def add_kdd99_data_argument(parser):
    """``--data``: the KDD99 file or the bundled sample (see :func:`kdd99_data`)."""
    parser.add_argument("--data", default=None,
                        help=f"the KDD99 10%% file, or '{BUNDLED}': the 20,000-row sample "
                             f"bundled with skgan_ad (default: {KDD99_FILE}; a quick "
                             f"run's: '{BUNDLED}')")


def kdd99_data(parser, data, quick=False):
    """``--data`` as given, else the bundled sample for a quick run and the KDD99 file
    for a real one; a file that is not there is a usage error."""
    data = data or (BUNDLED if quick else str(KDD99_FILE))
    if data != BUNDLED and not Path(data).exists():
        parser.error(f"KDD99 file not found: {data}")
    return data


def load_kdd99_data(path):
    """KDD99 from ``path``, or the bundled 20,000-row sample when ``path`` is "bundled"."""
    from skgan_ad.datasets import load_kdd99

    return load_kdd99(sample=True) if path == BUNDLED else load_kdd99(path)


def training_half(data, target, random_state=42):
    """Split KDD99 as ``kdd99_paper_split`` and keep the training half's anomalies.

    ``kdd99_paper_split`` keeps only the normal rows of its training half; model
    selection (``defaults/tabular_validation.py``) and the contamination suite also
    need that half's anomalies: taking them from the same half keeps the test half
    untouched.

    Returns
    -------
    X_normal : DataFrame
        The training rows of the paper protocol (the training half's normal rows).
    X_anomalous : DataFrame
        The training half's anomalies, which the protocol drops.
    X_test, y_test : DataFrame, ndarray
        The test half, as ``kdd99_paper_split`` returns it.
    """
    import pandas as pd

    from skgan_ad.datasets import kdd99_paper_split

    X_normal, X_test, y_test = kdd99_paper_split(data, target, random_state=random_state)
    # The same draw as kdd99_paper_split's training half.
    half = data.sample(frac=0.5, random_state=random_state)
    labels = pd.Series(np.asarray(target), index=data.index)[half.index].to_numpy()
    return X_normal, half[labels == 1], X_test, y_test


def selection_rows(data, target, evaluated_seeds=None):
    """The KDD99 rows a choice of settings may read: never a row of an evaluated test half.

    A row belongs to the training half of every seed in ``evaluated_seeds`` (default
    ``DEFAULT_SEEDS``, the seeds of the KDD99 table), so no model selected here has
    seen a row that any reported run is tested on. Each half holds a random half of
    the rows, so about 1 / 2**len(seeds) of them (3% for five seeds: about 15,400 of
    the 494,021 rows) remain, normal rows and anomalies in the data's proportions.

    Returns
    -------
    X_normal : DataFrame
        Those rows of the protocol's normal class (label 0), as training rows.
    X_anomalous : DataFrame
        Those rows of its anomalous class.
    """
    import pandas as pd

    from skgan_ad.datasets import kdd99_paper_split

    kept = data.index
    for seed in DEFAULT_SEEDS if evaluated_seeds is None else evaluated_seeds:
        _, X_test, _ = kdd99_paper_split(data, target, random_state=seed)
        kept = kept.difference(X_test.index)
    labels = pd.Series(np.asarray(target), index=data.index)[kept].to_numpy()
    rows = data.loc[kept]
    return rows[labels == 0], rows[labels == 1]


def dataset_files(data_dir):
    """Every table of the ADBench suite by name, and its file: the ADBench tables, then
    Arrhythmia."""
    data_dir = Path(data_dir)
    files = {path.stem: path for path in sorted((data_dir / "adbench").glob("*.npz"))}
    files[ARRHYTHMIA] = data_dir / "odds" / "arrhythmia.mat"
    return files


def load_table(path):
    """``X`` (float64) and ``y`` (1 = anomaly) of an ADBench ``.npz`` or of Arrhythmia."""
    if path.suffix == ".mat":
        from scipy.io import loadmat

        matrix = loadmat(path)["arrhythmia"]
        return (matrix[:, :-1].astype(np.float64),
                np.isin(matrix[:, -1], ARRHYTHMIA_ANOMALIES).astype(int))
    with np.load(path) as table:
        return table["X"].astype(np.float64), table["y"].astype(int)


#: The scalers a user puts in front of a detector, by the name the scripts take.
USER_SCALERS = ("standard", "minmax")
#: What the scripts call each input scaling: the user scalers, and raw features.
SCALER_TITLES = {"standard": "StandardScaler", "minmax": "MinMaxScaler",
                 "quantile": "QuantileTransformer (normal output)",
                 "none": "no scaler (raw features)"}


def make_scaler(name):
    """A fresh ``StandardScaler`` ("standard"), ``MinMaxScaler`` ("minmax"),
    ``QuantileTransformer`` to normal marginals ("quantile": the same features
    whatever monotone scaling came before) or identity ("none": the raw features)."""
    from sklearn.preprocessing import (
        FunctionTransformer,
        MinMaxScaler,
        QuantileTransformer,
        StandardScaler,
    )

    def quantile():
        return QuantileTransformer(output_distribution="normal", random_state=0)

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "quantile": quantile,
            "none": FunctionTransformer}[name]()


def adbench_split(X, y, seed):
    """The ADBench protocol's stratified 70/30 split, unscaled: ``X_train, X_test,
    y_train, y_test``."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


# Detectors --------------------------------------------------------------------------

#: How every suite but ``dependability`` fits ours: on the features as the suite
#: prepared them (``standardize=False``, the official code's input), as every result
#: before ``standardize=True`` became the estimators' default (2026-12-06) was measured.
#: A suite's own settings (``extra``) override it.
AS_PREPARED = {"standardize": False}
#: Our detectors, as the package lists them.
OURS = tuple(name for name, _ in all_detectors())
#: Ours but those whose scoring runs a latent search (AnoGAN: hundreds of optimiser
#: steps a batch), which would take hours on the rows of memory.py, threads.py and
#: contamination.py.
OURS_WITHOUT_SEARCH = tuple(name for name, cls in all_detectors()
                            if "search_steps" not in inspect.signature(cls).parameters)
#: PyOD's detectors, with the argument that counts their training epochs (``None``:
#: not trained in epochs). PyOD's ALAD counts gradient steps as epochs; MO_GAAL and
#: SO_GAAL train for three times ``stop_epochs``.
PYOD_EPOCHS = {"PyOD IForest": None, "PyOD OCSVM": None, "PyOD ECOD": None,
               "PyOD AutoEncoder": "epoch_num", "PyOD DeepSVDD": "epochs",
               "PyOD ALAD": "epochs", "PyOD AnoGAN": "epochs",
               "PyOD MO_GAAL": "stop_epochs", "PyOD SO_GAAL": "stop_epochs"}
DETECTORS = OURS + tuple(PYOD_EPOCHS)
#: One of each of ours with its defaults, in a :class:`skgan_ad.VotingDetector`.
VOTING = "VotingDetector"
DEFAULT_SEEDS = (42, 43, 44, 45, 46)
#: Detectors fitted on a random subsample of the training rows, for time: PyOD's
#: AnoGAN runs a Python loop of latent queries over every training row during fit;
#: OCSVM's kernel fit and MO_GAAL's ten generators grow quickly with the rows.
TRAIN_ROWS = {"PyOD AnoGAN": 2000, "PyOD OCSVM": 20000, "PyOD MO_GAAL": 20000}
#: ``--quick`` divides ``TRAIN_ROWS`` by this.
QUICK_TRAIN_ROWS_DIVISOR = 10
#: Feature scaling of KDD99 per detector (``make_kdd99_preprocessor``), chosen on rows
#: of no evaluated test half (``results/<detector>_validation_disjoint.md``); any other
#: is standardised.
SCALERS = {"ALAD": "log", "FenceGAN": "log", "GANomaly": "log",
           "SimultaneousEncoderGAN": "log"}


def scaler_of(name, scaler):
    """``make_kdd99_preprocessor``'s scaler for detector ``name`` under ``--scaler``."""
    if scaler == "chosen":
        scaler = SCALERS.get(name, "standard")
    return None if scaler == "none" else scaler


def min_steps_of(name, min_steps):
    """The ``min_steps`` a run of ``name`` trains with under ``--min-steps``; None for
    PyOD's detectors.

    A number, not "the default", so that ``--resume`` does not take runs journaled
    under another default.
    """
    if name not in (*OURS, VOTING):
        return None
    return MIN_STEPS if min_steps is None else min_steps


def ema_of(name):
    """How a run of ``name`` averages its weights: "official" for ours that score with
    a moving average by default (no warm-up since 2026-12-06), None otherwise.

    Journals name it, so that ``--resume`` does not take runs averaged with the
    earlier warm-up (whose records have no such key) for today's.
    """
    if name == VOTING:
        return "official"  # that of each member which averages its weights
    if name not in OURS:
        return None
    default = dict(all_detectors())[name]().ema_decay
    return None if default is None else "official"


def make_detector(name, seed, n_features, epochs=None, pyod_epochs=None,
                  min_steps=None, extra=None, ensemble=None, combination="mean"):
    """One of ``DETECTORS``, seeded where it takes a seed, on the CPU.

    Ours fit the features as given (``AS_PREPARED``) unless ``extra``, further
    parameters of one of ours (``OURS``), says otherwise. ``ensemble``: a number of
    members, to wrap one of ours in :class:`skgan_ad.SeedEnsemble` (seeded with
    ``seed``; its members stacked where the detector allows). ``VOTING``: each of ours
    so made (single, ``ensemble`` ignored) in one :class:`skgan_ad.VotingDetector`.

    Returns
    -------
    detector : estimator
    convention : {"sklearn", "pyod"}
        "sklearn": higher ``decision_function`` = more normal; "pyod": more anomalous.
    """
    if name == VOTING:
        return VotingDetector([
            (member, make_detector(member, seed, n_features, epochs, min_steps=min_steps,
                                   extra=extra)[0]) for member in OURS]), "sklearn"
    if name in OURS:
        params = {"random_state": seed, "device": "cpu"}
        if epochs is not None:
            params["epochs"] = epochs
        if min_steps is not None:
            params["min_steps"] = min_steps
        detector = dict(all_detectors())[name](**{**params, **AS_PREPARED, **(extra or {})})
        if ensemble:
            detector = SeedEnsemble(detector, n_members=ensemble, combination=combination,
                                    random_state=seed)
        return detector, "sklearn"
    from pyod.models import (
        alad,
        anogan,
        auto_encoder,
        deep_svdd,
        ecod,
        iforest,
        mo_gaal,
        ocsvm,
        so_gaal,
    )

    detector = {
        "PyOD IForest": lambda: iforest.IForest(random_state=seed),
        "PyOD OCSVM": ocsvm.OCSVM,
        "PyOD ECOD": ecod.ECOD,
        "PyOD AutoEncoder": lambda: auto_encoder.AutoEncoder(
            device="cpu", random_state=seed, verbose=0),
        "PyOD DeepSVDD": lambda: deep_svdd.DeepSVDD(n_features=n_features,
                                                    random_state=seed, verbose=0),
        "PyOD ALAD": lambda: alad.ALAD(device="cpu"),
        "PyOD AnoGAN": lambda: anogan.AnoGAN(device="cpu"),
        "PyOD MO_GAAL": mo_gaal.MO_GAAL,
        "PyOD SO_GAAL": so_gaal.SO_GAAL,
    }[name]()
    if pyod_epochs is not None and PYOD_EPOCHS[name] is not None:
        detector.set_params(**{PYOD_EPOCHS[name]: pyod_epochs})
    return detector, "pyod"


@contextlib.contextmanager
def _stdout_discarded():
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


def fit_and_score(name, seed, X_train, X_test, *, epochs=None, pyod_epochs=None,
                  min_steps=None, quick=False, extra=None, ensemble=None,
                  combination="mean"):
    """Fit one detector on ``X_train`` and score ``X_test``, with one torch thread.

    ``extra``, ``ensemble`` and ``combination``: as in :func:`make_detector`.

    Returns
    -------
    anomaly_scores : ndarray of shape (n_test,)
        Higher = more anomalous, whatever the library's convention.
    timings : dict
        ``train_rows``, ``fit_seconds``, ``train_seconds`` (our training epochs alone,
        from ``history_``; ``None`` for PyOD), ``passes`` (ours: passes over the
        training rows, ``min_steps`` included; ``None`` for PyOD),
        ``score_rows_per_second`` and ``peak_rss_mb`` (of this process so far).
    detector : estimator
        The fitted detector.
    """
    import torch

    torch.set_num_threads(1)
    if name in TRAIN_ROWS:
        rows = TRAIN_ROWS[name] // (QUICK_TRAIN_ROWS_DIVISOR if quick else 1)
        if len(X_train) > rows:
            X_train = X_train[np.random.RandomState(seed).choice(len(X_train), rows,
                                                                 replace=False)]
    detector, convention = make_detector(name, seed, X_train.shape[1], epochs,
                                         pyod_epochs, min_steps, extra, ensemble,
                                         combination)
    # PyOD's GAN detectors draw from the global generators (they take no seed).
    torch.manual_seed(seed)
    np.random.seed(seed)
    # MO_GAAL and SO_GAAL print every epoch whatever their settings, which would break
    # into a suite's progress bar; errors still raise, and warnings go to stderr.
    with _stdout_discarded() if convention == "pyod" else contextlib.nullcontext():
        _, fit_seconds = timed(detector.fit, X_train)
        scores, score_seconds = timed(detector.decision_function, X_test)
    return (-scores if convention == "sklearn" else scores), {
        "train_rows": len(X_train),
        "fit_seconds": fit_seconds,
        # Our fit = the training epochs, then scoring the training rows for offset_
        # (for AnoGAN, a latent search over every training row).
        "train_seconds": (float(sum(detector.history_[:, "dur"]))
                          if hasattr(detector, "history_") else None),
        "passes": (detector.net_.max_epochs * detector.net_.passes_per_epoch(len(X_train))
                   if hasattr(detector, "net_") else None),
        "score_rows_per_second": len(X_test) / score_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, detector


def detection_metrics(y_test, anomaly_scores, percentile):
    """Precision, recall, F1, AUROC and AUPRC of anomaly scores.

    The test rows at or above ``percentile`` of the test scores are called anomalies
    (the papers' transductive threshold); ``flagged`` is their share, more than
    ``1 - percentile / 100`` when rows tie at the threshold (identical rows score
    alike). AUPRC is the average precision.
    """
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    predicted = anomaly_scores >= np.percentile(anomaly_scores, percentile)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_test, predicted, average="binary", zero_division=0.0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "flagged": float(predicted.mean()),
            "auroc": roc_auc_score(y_test, anomaly_scores),
            "auprc": average_precision_score(y_test, anomaly_scores),
            # PyOD's GAN scores point the wrong way on this protocol (pyod #119/#237):
            # the AUROC of the negated score diagnoses it.
            "auroc_negated": roc_auc_score(y_test, -anomaly_scores)}


def add_run_arguments(parser):
    """The options every suite over ``DETECTORS`` takes: seeds, detectors, epochs."""
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS),
                        choices=[*DETECTORS, VOTING])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of our detectors (default: the estimators' own)")
    parser.add_argument("--pyod-epochs", type=int, default=None,
                        help="the epoch argument of PyOD's trained detectors "
                             "(PYOD_EPOCHS; default: PyOD's own)")
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of our detectors (default: the estimators' own)")


def add_ensemble_arguments(parser):
    """``--ensemble N``: fit ours as :class:`skgan_ad.SeedEnsemble` s of ``N`` members
    (``make_detector``'s ``ensemble``); ``--gan-ensemble N``: fit ours with
    ``ensemble_size=N`` (:func:`gan_ensemble_settings`). PyOD's detectors stay single."""
    parser.add_argument("--ensemble", type=int, default=None, metavar="N",
                        help="fit ours as a SeedEnsemble of N members")
    parser.add_argument("--combination", choices=["mean", "median"], default="mean",
                        help="how each SeedEnsemble combines its members' normalised "
                             "scores (default: mean, the estimator's)")
    parser.add_argument("--gan-ensemble", type=int, default=None, metavar="N",
                        help="fit ours with ensemble_size=N: Han et al.'s GAN ensemble of "
                             "N generators and N discriminators")


def combination_of(args, name):
    """How a run's :class:`skgan_ad.SeedEnsemble` combines its members, as journals
    name it: ``--combination``, or None for a run that is no SeedEnsemble or averages
    them (the mean, the default and the only rule before 2026-12-07, so that the runs
    journaled then match)."""
    if args.ensemble and name in OURS and args.combination != "mean":
        return args.combination
    return None


def gan_ensemble_settings(args):
    """The parameters of ours that ``--gan-ensemble`` sets: ``{}`` or
    ``{"ensemble_size": N}``."""
    return {"ensemble_size": args.gan_ensemble} if args.gan_ensemble else {}


# Memory -----------------------------------------------------------------------------

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes():
    """The resident memory of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES


class PeakSampler(threading.Thread):
    """Samples resident memory every millisecond until stopped; ``peak`` is the highest."""

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


def with_extra_peak(function, *args, **kwargs):
    """``(function(*args, **kwargs), seconds, extra peak resident MB)``: the peak while
    it ran, above the resident memory before."""
    before = resident_bytes()
    sampler = PeakSampler()
    sampler.start()
    result, seconds = timed(function, *args, **kwargs)
    return result, seconds, (sampler.stop() - before) / 2**20
