"""What the training half of the KDD99 paper split holds, the anomalies it drops included.

``skgan_ad.datasets.kdd99_paper_split`` keeps only the normal rows of its training
half. Model selection (``defaults/tabular_validation.py``) and the contamination suite
also draw from that half's anomalies (``common.training_half``), never from the test
half. For each seed this prints how many rows each part holds: the most anomalies a
contamination level can draw, and the rows a validation split starts from.

    python -m benchmarks kdd99_training_half --seeds 42 43 44
    python -m benchmarks kdd99_training_half --data bundled   # the bundled sample
"""

from ..common import (
    add_kdd99_data_argument,
    kdd99_data,
    load_kdd99_data,
    script_parser,
    training_half,
)


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    add_kdd99_data_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42],
                        help="the splits' seeds (42: the papers' split)")
    args = parser.parse_args(argv)

    data = load_kdd99_data(kdd99_data(parser, args.data))
    print("| seed | training rows (normal) | anomalies dropped from the training half | "
          "test rows | test anomalies |", "|---|---|---|---|---|", sep="\n")
    for seed in args.seeds:
        X_normal, X_anomalous, X_test, y_test = training_half(data.data, data.target,
                                                             random_state=seed)
        print(f"| {seed} | {len(X_normal):,} | {len(X_anomalous):,} | {len(X_test):,} | "
              f"{y_test.mean():.2%} |")
    return 0
