"""Charts of the committed KDD99 results: F1 and AUROC per detector, next to the papers.

Reads every ``results/kdd99*.json`` written by ``kdd99.py`` and draws one chart of the
mean F1 (with its standard deviation over seeds) and the mean AUROC per detector, with
the paper's F1 marked where there is one.

    python benchmarks/plot_results.py        # writes results/kdd99_f1.png
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kdd99 import PAPER  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main():
    summary = {}
    for path in sorted(RESULTS.glob("kdd99*.json")):
        summary.update(json.loads(path.read_text()).get("summary", {}))
    names = sorted(summary, key=lambda name: (name.startswith("PyOD"), name))
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2, 4))
    positions = range(len(names))
    ax.bar([p - 0.2 for p in positions], [summary[n]["f1"][0] for n in names], 0.4,
           yerr=[summary[n]["f1"][1] for n in names], label="F1 (mean ± std over seeds)")
    ax.bar([p + 0.2 for p in positions], [summary[n]["auroc"][0] for n in names], 0.4,
           label="AUROC")
    papers = [(p, PAPER[n][2]) for p, n in zip(positions, names) if n in PAPER]
    ax.scatter([p - 0.2 for p, _ in papers], [f1 for _, f1 in papers], marker="_", s=400,
               color="k", zorder=3, label="paper F1")
    ax.set_xticks(list(positions), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("KDD99, paper protocol (benchmarks/kdd99.py)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "kdd99_f1.png", dpi=120)
    print(RESULTS / "kdd99_f1.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
