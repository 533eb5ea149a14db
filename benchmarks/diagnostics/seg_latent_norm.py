"""Diagnostic: what the simultaneous-encoder GAN's latent norm measures on MNIST.

In the one-digit-normal MNIST protocol at the CPU budget (``python -m benchmarks mnist
--cpu``) the simultaneous-encoder GAN ranks the digits the wrong way (digit 1 normal:
AUROC 0.02). This fits it as that suite does (same split, budget and seed) and
reports, per fit, the AUROC of both of its scores (``score_type``) and of the share of
lit pixels (a score without a model: more ink, more anomalous), and the mean latent
norm ``||E(x)||`` of training images, normal test images and anomalies next to the
norm of the latent noise E is trained to recover. G scales each latent vector to unit
root-mean-square before its first layer (``normalize_latents=True``, as the official
code), so E's loss does not constrain the scale of E(x).

    python -m benchmarks seg_latent_norm --digits 0 1 2 --train-steps 200
"""

import argparse
from datetime import date

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import SimultaneousEncoderGAN

from .._runner import command_line
from ..common import MNIST_DIR, default_output, script_parser, timed, write_results
from ..suites.mnist import detector_budget, mnist_split

METHOD = "SimultaneousEncoderGAN"


def _measure(digit, args):
    import torch

    torch.set_num_threads(args.threads)
    # The MNIST suite's options for this run: its split and its training budget.
    suite_args = argparse.Namespace(data=args.data, max_train=None, max_test=args.max_test,
                                    train_steps=args.train_steps, min_steps=None,
                                    score_batch_size=None, search_steps=None, epochs=None)
    X_train, X_test, y_test = mnist_split(digit, args.protocol, args.seed, suite_args)
    detector = SimultaneousEncoderGAN(random_state=args.seed, device="cpu",
                                      **detector_budget(METHOD, len(X_train), suite_args))
    _, fit_seconds = timed(detector.fit, X_train)
    ink = (X_test > 0).reshape(len(X_test), -1).mean(axis=1)
    row = {"digit": digit, "train_images": len(X_train), "fit_seconds": fit_seconds,
           "ink_auroc": roc_auc_score(y_test, ink),
           "noise_norm": detector.latent_scale * np.sqrt(detector.latent_dim)}
    for score_type in ("latent_norm", "reconstruction"):
        detector.set_params(score_type=score_type)
        anomaly_scores = -detector.score_samples(X_test)
        row[f"{score_type}_auroc"] = roc_auc_score(y_test, anomaly_scores)
        if score_type == "latent_norm":
            row["norm_train"] = float(np.mean(-detector.score_samples(X_train)))
            row["norm_test_normal"] = float(anomaly_scores[y_test == 0].mean())
            row["norm_anomalies"] = float(anomaly_scores[y_test == 1].mean())
    print(f"  digit {digit}: latent norm AUROC {row['latent_norm_auroc']:.3f}, "
          f"reconstruction {row['reconstruction_auroc']:.3f}, ink {row['ink_auroc']:.3f}",
          flush=True)
    return row


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data", default=str(MNIST_DIR))
    parser.add_argument("--digits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--protocol", choices=["normal", "anomalous"], default="normal")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--max-test", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    output = args.output or default_output("seg_latent_norm")
    rows = [_measure(digit, args) for digit in args.digits]
    lines = [
        f"# The simultaneous-encoder GAN's latent norm on MNIST ({date.today()})", "",
        f"Command: `{command_line()}`", "",
        f"Protocol: one digit {args.protocol}; seed {args.seed}; about "
        f"{args.train_steps} training steps, as `python -m benchmarks mnist` trains; at "
        f"most {args.max_test} scored images; AUROC with the anomaly positive. Noise "
        "norm: the expected `||z||` of the latent noise `latent_scale * N(0, I)`.", "",
        "| digit | training images | fit s | AUROC latent norm | AUROC reconstruction "
        "| AUROC share of lit pixels | noise norm | mean norm, training | "
        "mean norm, normal test | mean norm, anomalies |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(f"| {r['digit']} | {r['train_images']} | {r['fit_seconds']:.0f} | "
          f"{r['latent_norm_auroc']:.3f} | {r['reconstruction_auroc']:.3f} | "
          f"{r['ink_auroc']:.3f} | {r['noise_norm']:.2f} | {r['norm_train']:.1f} | "
          f"{r['norm_test_normal']:.1f} | {r['norm_anomalies']:.1f} |" for r in rows)]
    write_results(output, lines, args=vars(args), rows=rows)


if __name__ == "__main__":
    main()
