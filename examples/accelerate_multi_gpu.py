"""
Training on several GPUs with Accelerate
========================================

Inside :func:`skgan_ad.distributed.accelerated_training`, a detector trains through a
HuggingFace ``Accelerator``. Launched with ``accelerate launch``, every process runs
this script: each trains on its share of every epoch's batches, the gradients are
averaged across the processes, and all of them end with the same networks. The main
process then scores the test half of KDD99 and can save the model::

    pip install skgan_ad[distributed]
    # two GPUs, bf16 mixed precision
    accelerate launch --multi_gpu --num_processes 2 examples/accelerate_multi_gpu.py \\
        --mixed-precision bf16
    # the same with two CPU processes (no GPU needed)
    accelerate launch --multi_gpu --num_processes 2 examples/accelerate_multi_gpu.py --cpu

``batch_size`` is per process: two processes at ``batch_size=50`` step on 100 rows at
a time, and take half as many steps per epoch as one process.

This example is not run when the documentation is built: it needs ``accelerate
launch``.
"""

import argparse
import json
import time
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import gather_object

import skgan_ad
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.distributed import accelerated_training
from skgan_ad.metrics import anomaly_roc_auc


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train a detector on KDD99 with Accelerate.")
    parser.add_argument("--data", help="kddcup.data_10_percent.gz (default: the bundled "
                                       "20,000-row sample)")
    parser.add_argument("--rows", type=int, help="train on the first ROWS training rows "
                                                 "only (a quick run)")
    parser.add_argument("--detector", default="ALAD",
                        choices=["ALAD", "EGBAD", "AnoGAN", "FAnoGAN", "FenceGAN", "GANomaly",
                                 "SimultaneousEncoderGAN"],
                        help="which detector to train (default: ALAD)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-steps", type=int, default=None,
                        help="the detector's min_steps (default: its own; 0: exactly "
                             "--epochs passes)")
    parser.add_argument("--batch-size", type=int, default=50, help="rows per process")
    parser.add_argument("--cpu", action="store_true", help="train on CPU processes")
    parser.add_argument("--mixed-precision", choices=["no", "bf16"], default="no")
    parser.add_argument("--output", help="write the figures to this JSON file")
    parser.add_argument("--model", help="save the fitted detector to this file")
    args = parser.parse_args(argv)

    accelerator = Accelerator(cpu=args.cpu, mixed_precision=args.mixed_precision)
    data = load_kdd99(args.data) if args.data else load_kdd99(sample=True)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target)
    X_train = X_train.iloc[:args.rows]
    features = make_kdd99_preprocessor("standard").fit(X_train)
    X_train, X_test = features.transform(X_train), features.transform(X_test)

    # Every process must build the same networks and shuffle alike: an int seed.
    settings = {} if args.min_steps is None else {"min_steps": args.min_steps}
    detector = getattr(skgan_ad, args.detector)(epochs=args.epochs,
                                                batch_size=args.batch_size, random_state=0,
                                                **settings)
    start = time.perf_counter()
    with accelerated_training(accelerator):
        detector.fit(X_train)
    seconds = time.perf_counter() - start

    # The processes hold the same networks: their scores of a few rows agree.
    scores = gather_object([detector.score_samples(X_test[:100]).tolist()])
    if accelerator.is_main_process:
        report = {
            "processes": accelerator.num_processes,
            "device": str(accelerator.device),
            "mixed_precision": args.mixed_precision,
            "training_rows": len(X_train),
            "epochs": args.epochs,
            "batch_size_per_process": args.batch_size,
            "steps_per_epoch_per_process": len(detector.history_[-1, "batches"]),
            "fit_seconds": seconds,
            # Every process trains on its own batches: rows of all of them.
            "training_rows_per_second": sum(len(epoch["batches"])
                                            for epoch in detector.history_)
            * args.batch_size * accelerator.num_processes / seconds,
            "test_auroc": anomaly_roc_auc(detector, X_test, y_test),
            "same_networks_in_every_process": all(s == scores[0] for s in scores),
        }
        print(json.dumps(report, indent=2))
        if args.output:
            Path(args.output).write_text(json.dumps(report, indent=2))
        if args.model:
            detector.save(args.model)


if __name__ == "__main__":
    main()
