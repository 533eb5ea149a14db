"""Training and scoring speed of our detectors on 28x28 images, on this machine's CPU.

The one-class MNIST benchmark sized for a CPU (``python -m benchmarks mnist
--cpu``) runs with the settings this comparison supports. Each detector trains
``--epochs`` passes over ``--images`` MNIST images of one digit, scaled to [-1, 1],
and scores ``--score-images`` images, in each configuration:

* one torch thread (``n_jobs=None``, the tabular default) or every core
  (``n_jobs=-1``);
* scoring in batches of 4,096 rows, the tables' default ``score_batch_size`` (every
  batch is padded to that size, so a row's score never depends on its batch), or of
  the images' default, 256 (``score_batch_size="auto"``).

Epochs/s come from the training epochs alone (``history_``), the first epoch
excluded; configurations run interleaved, ``--rounds`` times, and the best counts.

    python -m benchmarks image_speed          # writes results/image_speed.{json,md}
"""

import os
from datetime import date

import numpy as np

from skgan_ad import all_detectors
from skgan_ad.base import IMAGE_SCORE_BATCH_SIZE

from .._runner import command_line
from ..common import (
    MNIST_DIR,
    OURS,
    default_output,
    script_parser,
    timed,
    write_results,
)

#: AnoGAN's latent search: steps per scored batch in this comparison (default 500).
SEARCH_STEPS = 20


def _configurations(table_batch):
    """``{label: parameters}``, the tables' settings first (the speed-ups' base)."""
    return {f"1 thread, score batches of {table_batch}":
                dict(n_jobs=None, score_batch_size=table_batch),
            f"{os.cpu_count()} threads, score batches of {table_batch}":
                dict(n_jobs=-1, score_batch_size=table_batch),
            f"{os.cpu_count()} threads, score batches of {IMAGE_SCORE_BATCH_SIZE} (default)":
                dict(n_jobs=-1)}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--detectors", nargs="+", default=list(OURS), choices=OURS)
    parser.add_argument("--images", type=int, default=800)
    parser.add_argument("--score-images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--table-score-batch-size", type=int, default=4096,
                        help="the score batches the images' default is compared with")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data", default=str(MNIST_DIR))
    parser.add_argument("--output", default=default_output("image_speed"))
    args = parser.parse_args(argv)
    from skgan_ad.datasets import load_mnist

    images, digits = load_mnist(args.data, return_X_y=True)
    images = 2 * images - 1
    train = images[digits == 0][:args.images]
    test = images[digits != 0][:args.score_images]
    configurations = _configurations(args.table_score_batch_size)
    best = {}
    for _ in range(args.rounds):
        for name in args.detectors:
            for label, settings in configurations.items():
                extra = {"search_steps": SEARCH_STEPS} if name == "AnoGAN" else {}
                detector = dict(all_detectors())[name](
                    epochs=args.epochs, min_steps=0, random_state=0, device="cpu",
                    **settings, **extra)
                detector.fit(train)
                epoch_seconds = float(np.mean(detector.history_[1:, "dur"]))
                _, score_seconds = timed(detector.score_samples, test)
                key = (name, label)
                previous = best.get(key, (np.inf, np.inf))
                best[key] = (min(epoch_seconds, previous[0]),
                             min(score_seconds, previous[1]))
    lines = [f"# Image speed on this CPU ({date.today()})", "",
             f"Command: `{command_line()}`", "",
             (f"{args.images} MNIST images of digit 0 in [-1, 1] (28x28), {args.epochs} "
              f"epochs at each detector's default batch size (epochs/s: mean of epochs "
              f"2 to {args.epochs}); scoring {args.score_images} other digits; AnoGAN's "
              f"latent search {SEARCH_STEPS} steps; best of {args.rounds} round(s); "
              f"{os.cpu_count()} cores. Speed-up: against one thread with score batches "
              f"of {args.table_score_batch_size}, the tables' default."), "",
             "| detector | setting | epochs/s | train images/s | score images/s | "
             "train speed-up | score speed-up |", "|---|---|---|---|---|---|---|"]
    records = []
    for (name, label), (epoch_seconds, score_seconds) in best.items():
        base_epoch, base_score = best[(name, next(iter(configurations)))]
        record = {"detector": name, "setting": label,
                  "epochs_per_second": 1 / epoch_seconds,
                  "train_images_per_second": args.images / epoch_seconds,
                  "score_images_per_second": args.score_images / score_seconds,
                  "train_speed_up": base_epoch / epoch_seconds,
                  "score_speed_up": base_score / score_seconds}
        records.append(record)
        lines.append(f"| {name} | {label} | {record['epochs_per_second']:.3f} | "
                     f"{record['train_images_per_second']:,.0f} | "
                     f"{record['score_images_per_second']:,.0f} | "
                     f"{record['train_speed_up']:.2f} | {record['score_speed_up']:.2f} |")
    write_results(args.output, lines, runs=records)
    return 0
