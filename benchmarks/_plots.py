"""The benchmark charts, drawn by the suites on their own results.

F1 and AUROC per detector and the ROC and PR curves on KDD99, the ranks across the
ADBench tables, AUROC per method on one-class MNIST and the speed ratios.
"""

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def _ordered(names):
    """Ours first, then PyOD's, alphabetically within each."""
    return sorted(names, key=lambda name: (name.startswith("PyOD"), name))


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(path)


def plot_f1(summary, paper, path):
    """Mean F1 (± std over seeds) and mean AUROC per detector, paper F1 marked.

    Parameters
    ----------
    summary : dict
        ``suites/kdd99.py``'s JSON summary: per detector, ``"f1"`` and ``"auroc"`` as
        ``(mean, std)``; failed detectors (no ``"f1"``) are left out.
    paper : dict
        Per detector, the paper's ``(precision, recall, F1)``.
    path : path-like
        The PNG written.
    """
    names = _ordered(name for name, stats in summary.items() if "f1" in stats)
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names) + 2), 4.5))
    positions = np.arange(len(names))
    ax.bar(positions - 0.2, [summary[n]["f1"][0] for n in names], 0.4,
           yerr=[summary[n]["f1"][1] for n in names], label="F1 (mean ± std over seeds)")
    ax.bar(positions + 0.2, [summary[n]["auroc"][0] for n in names], 0.4, label="AUROC")
    papers = [(p, paper[n][2]) for p, n in zip(positions, names) if n in paper]
    ax.scatter([p - 0.2 for p, _ in papers], [f1 for _, f1 in papers], marker="_", s=400,
               color="k", zorder=3, label="paper F1")
    ax.set_xticks(positions, names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("KDD99, paper protocol (python -m benchmarks kdd99)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.4), ncol=3, fontsize=8)
    _save(fig, path)


def plot_curves(curves, title, path):
    """ROC and precision-recall curves of every detector, side by side.

    Parameters
    ----------
    curves : dict
        Per detector, ``{"roc": {"fpr", "tpr"}, "pr": {"recall", "precision"}}``.
    title : str
    path : path-like
        The PNG written.
    """
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(11, 5))
    colours = plt.get_cmap("tab20")
    for index, name in enumerate(_ordered(curves)):
        style = {"color": colours(index % 20),
                 "linestyle": "--" if name.startswith("PyOD") else "-", "label": name}
        roc.plot(curves[name]["roc"]["fpr"], curves[name]["roc"]["tpr"], **style)
        pr.plot(curves[name]["pr"]["recall"], curves[name]["pr"]["precision"], **style)
    roc.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall", ylim=(0, 1.02))
    pr.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    fig.suptitle(title + " (dashed: PyOD)")
    _save(fig, path)


def plot_ranks(ranks, title, path):
    """Box plot of each method's rank over data sets, best mean rank at the top.

    Parameters
    ----------
    ranks : dict
        Per method, its rank (1 = best) on each data set.
    title : str
    path : path-like
        The PNG written.
    """
    names = sorted(ranks, key=lambda name: np.mean(ranks[name]), reverse=True)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.boxplot([ranks[n] for n in names], orientation="horizontal")
    ax.scatter([np.mean(ranks[n]) for n in names], np.arange(1, len(names) + 1),
               marker="D", color="k", zorder=3, label="mean rank")
    ax.set_yticks(np.arange(1, len(names) + 1), names)
    ax.set_xlabel("rank on a data set (1 = best)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)  # the best ranks, at the top, sit left
    _save(fig, path)


def plot_grouped_bars(values, title, ylabel, path, *, log=False, reference=None):
    """Grouped bars: one group per key of ``values``, one bar per inner key.

    Parameters
    ----------
    values : dict of dict
        ``values[group][bar]``; bars missing from a group are left empty.
    title, ylabel : str
    path : path-like
        The PNG written.
    log : bool, default=False
        Logarithmic y axis (for ratios).
    reference : float, default=None
        Draws a horizontal line there (1 for ratios, 0.5 for a chance AUROC).
    """
    groups = list(values)
    bars = list(dict.fromkeys(bar for group in groups for bar in values[group]))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(groups) + 5), 4.5))
    for index, bar in enumerate(bars):
        positions = [g + (index - (len(bars) - 1) / 2) * width
                     for g, group in enumerate(groups) if bar in values[group]]
        ax.bar(positions, [values[group][bar] for group in groups if bar in values[group]],
               width, label=bar)
    if reference is not None:
        ax.axhline(reference, color="k", linewidth=0.8)
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    if log:
        ax.set_yscale("log")
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    _save(fig, path)
