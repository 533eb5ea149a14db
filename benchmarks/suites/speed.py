"""Training and scoring speed on KDD99: our ALAD next to PyOD's, in one run.

* Training rows/s at the same batch size (50) and the same number of gradient steps
  (``--steps``, 200 by default): PyOD's ALAD counts one mini-batch step as an "epoch"
  and is fitted on the whole KDD99 training half (it shuffles all of it at every
  step) and, as a second row, on the ``steps x 50`` rows ours trains on with
  ``epochs=1`` (our cost per step does not depend on the data size). Our time is the
  training epochs alone (``history_``); PyOD's is its ``fit`` minus the time it then
  takes to score its training rows.
* Scoring rows/s of ``decision_function`` on the whole test half (247,011 rows), the
  best of ``--repeats`` interleaved rounds.
* The raw limit: the forward passes our ALAD's score needs (E, G and D_xx twice) run in
  a bare loop over pre-built float32 tensors of the same batch size, with no input
  checks or conversions. Ours should reach at least half of it.

One torch thread for everything; the figures are ratios measured side by side.

    python -m benchmarks speed            # writes results/speed.{json,md}
"""

import json
import platform
from datetime import date
from pathlib import Path

import numpy as np
import torch

from skgan_ad import ALAD
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

from .._runner import command_line
from ..common import KDD99_FILE, default_output, script_parser, timed

BATCH = 50


def raw_alad_scorer(detector, X_test, batch_size):
    """The bare forward passes of ALAD's "fm" score over pre-built float32 batches."""
    net = detector.net_
    E, G = net.scoring_module("encoder"), net.scoring_module("generator")
    D_xx = net.scoring_module("discriminator_xx")
    batches = [torch.from_numpy(np.ascontiguousarray(X_test[start:start + batch_size]))
               for start in range(0, len(X_test), batch_size)]

    def score():
        with torch.no_grad():
            for x in batches:
                x_rec = G(E(x))
                (D_xx(x, x)[1] - D_xx(x, x_rec)[1]).abs().sum(1)
    return score


def best_seconds(scorers, repeats):
    """Best time of each scorer over ``repeats`` interleaved rounds (the machine's noise
    hits all of them alike)."""
    best = {name: np.inf for name in scorers}
    for _ in range(repeats):
        for name, scorer in scorers.items():
            best[name] = min(best[name], timed(scorer)[1])
    return best


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data", default=str(KDD99_FILE))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="scoring rounds (best kept)")
    parser.add_argument("--output", default=default_output("speed"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from pyod.models.alad import ALAD as PyODALAD

    data = load_kdd99(args.data)
    X_train, X_test, _ = kdd99_paper_split(data.data, data.target, random_state=42)
    preprocessor = make_kdd99_preprocessor("standard").fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)
    train_rows = X_train[np.random.RandomState(0).choice(len(X_train), args.steps * BATCH,
                                                         replace=False)]

    ours = ALAD(epochs=1, min_steps=0, batch_size=BATCH, random_state=0, device="cpu")
    ours.fit(train_rows)
    ours_train_seconds = float(np.sum(ours.history_[:, "dur"]))
    assert len(ours.history_[-1, "batches"]) == args.steps

    # PyOD's ALAD on the whole KDD99 training half, as a user would fit it (it shuffles
    # all of its training data at every step), and on our subset of it.
    pyod_train_seconds = {}
    for data_name, data in (("full", X_train), ("subset", train_rows)):
        pyod = PyODALAD(epochs=args.steps, batch_size=BATCH, device="cpu")
        _, pyod_fit_seconds = timed(pyod.fit, data)
        _, pyod_rescore_seconds = timed(pyod.decision_function, data)
        pyod_train_seconds[data_name] = pyod_fit_seconds - pyod_rescore_seconds

    seconds = best_seconds({
        "ours": lambda: ours.decision_function(X_test),
        "pyod": lambda: pyod.decision_function(X_test),
        "raw": raw_alad_scorer(ours, X_test, ours._score_batch_rows()),
    }, args.repeats)
    ours_score_seconds, pyod_score_seconds = seconds["ours"], seconds["pyod"]
    raw = len(X_test) / seconds["raw"]

    rows = args.steps * BATCH
    figures = {
        "train_rows_per_second": {"ours": rows / ours_train_seconds,
                                  "pyod": rows / pyod_train_seconds["full"],
                                  "pyod_on_subset": rows / pyod_train_seconds["subset"]},
        "score_rows_per_second": {"ours": len(X_test) / ours_score_seconds,
                                  "pyod": len(X_test) / pyod_score_seconds,
                                  "raw_forward": raw},
    }
    ratios = {
        "train_ours_over_pyod": figures["train_rows_per_second"]["ours"]
        / figures["train_rows_per_second"]["pyod"],
        "train_ours_over_pyod_on_subset": figures["train_rows_per_second"]["ours"]
        / figures["train_rows_per_second"]["pyod_on_subset"],
        "score_ours_over_pyod": figures["score_rows_per_second"]["ours"]
        / figures["score_rows_per_second"]["pyod"],
        "score_ours_over_raw": figures["score_rows_per_second"]["ours"] / raw,
    }
    train, score = figures["train_rows_per_second"], figures["score_rows_per_second"]
    lines = [
        f"# Speed on KDD99: ALAD, ours and PyOD's ({date.today()})", "",
        f"Command: `{command_line()}`", "",
        (f"One torch thread; {platform.machine()}; training: {args.steps} gradient "
         f"steps of batch {BATCH} on the same {rows:,} standardised KDD99 training rows; "
         f"scoring: decision_function on {len(X_test):,} test rows (ours in batches of "
         f"{ours._score_batch_rows()}; PyOD in one pass). PyOD's networks are smaller "
         "(latent 2, 25-10-5 layers) than the official KDD99 sizes ours use."), "",
        "| figure | ours | PyOD ALAD | ours / PyOD | raw forward limit | ours / raw |",
        "|---|---|---|---|---|---|",
        (f"| training rows/s (PyOD on the {len(X_train):,} training rows) | "
         f"{train['ours']:,.0f} | {train['pyod']:,.0f} | "
         f"{ratios['train_ours_over_pyod']:.1f}x | – | – |"),
        (f"| training rows/s (PyOD on our {rows:,} rows) | {train['ours']:,.0f} | "
         f"{train['pyod_on_subset']:,.0f} | "
         f"{ratios['train_ours_over_pyod_on_subset']:.1f}x | – | – |"),
        (f"| scoring rows/s | {score['ours']:,.0f} | {score['pyod']:,.0f} | "
         f"{ratios['score_ours_over_pyod']:.2f}x | {raw:,.0f} | "
         f"{ratios['score_ours_over_raw']:.0%} |"),
    ]
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "steps": args.steps,
         "batch_size": BATCH, "figures": figures, "ratios": ratios}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0
