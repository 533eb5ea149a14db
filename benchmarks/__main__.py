"""Run the benchmarks: a suite, or any one script by its file name.

Run it from the repository root::

    python -m benchmarks run --suite NAME [--quick] [options]   # a suite
    python -m benchmarks SCRIPT [options]                       # one script
    python -m benchmarks --help                                 # the scripts, by purpose

A suite writes JSON, markdown tables and PNG charts into ``benchmarks/results/``, whose
tables and charts the documentation's benchmark page shows; with ``--quick``, into
``benchmarks/results/quick/`` instead (neither shown nor committed), so a smoke run
never overwrites a real result; ``--output-dir`` picks another folder. Every run (one
detector on one data set and seed) runs in a process of its own, with one torch
thread; a progress bar counts the finished runs, and a run that fails is reported as
failed in the tables. The runs behind ``results/NAME`` are journaled in
``benchmarks/journals/NAME.runs.jsonl``, for ``--resume``.

Suites:

``kdd99`` (``suites/kdd99.py``)
    The ALAD/EGBAD papers' KDD99 protocol, seeds 42 to 46, our detectors and nine of
    PyOD's: ``kdd99.json``, ``kdd99.md``, ``kdd99_f1.png`` and ``kdd99_curves.png``
    (ROC and PR curves of every detector, seed 42). ``--quick``: the KDD99 sample
    bundled with skgan_ad (no ``../shared/data`` needed), seed 42, one epoch.
``adbench`` (``suites/adbench.py``)
    Every ADBench table in ``../shared/data/adbench`` and Arrhythmia, the same
    detectors, AUROC, AUPRC and mean ranks; Arrhythmia also in the ALAD paper's
    protocol, next to its published F1: ``adbench.json``, ``adbench.md`` and
    ``adbench_ranks.png``. ``--quick``: two small tables, seed 42, one epoch.
``dependability`` (``suites/dependability.py``)
    Every ADBench table and Arrhythmia behind StandardScaler and MinMaxScaler, three
    seeds, our defaults next to PyOD's IForest, ECOD, OCSVM and AutoEncoder: mean AUROC
    and AUPRC, worst table, seed spread and inverted tables per detector:
    ``dependability.json``, ``dependability.md`` and ``dependability_auroc.png``.
    ``--quick``: two small tables, seed 42, one epoch.
``mnist`` (``suites/mnist.py``)
    One-class MNIST in both protocols, our detectors and PyOD's IForest and
    AutoEncoder on the pixels: ``mnist.json``, ``mnist.md`` and ``mnist_auroc.png``.
    ``--quick``: digit 0, one epoch, 100 training images. ``--cpu``: every digit, two
    seeds, about 200 training steps per fit (``mnist_cpu.*``).
``contamination`` (``suites/contamination.py``)
    KDD99 with 0% to 20% anomalies among the training rows: ``contamination.json`` and
    ``contamination.md``. ``--quick``: the bundled sample, seed 42, one epoch.
``speed`` (``suites/speed.py``, ``anogan_speed.py``, ``memory.py``)
    The three scripts one after the other, each in its own process, then our ALAD and
    AnoGAN against PyOD's as ratios (training and scoring rows/s, peak extra memory
    of scoring): their own tables and ``speed_ratios.json``, ``speed_ratios.md`` and
    ``speed_ratios.png``. ``--quick``: fewer steps, rows and repeats.

Options that follow are passed to the suite's script (not for ``speed``), e.g.
``--seeds``, ``--detectors``, ``--jobs``, ``--budget``; see ``python -m benchmarks
kdd99 --help``.

    python -m benchmarks run --suite kdd99                  # full runs: hours each
    python -m benchmarks run --suite adbench
    python -m benchmarks run --suite speed
    python -m benchmarks run --suite kdd99 --quick          # smoke runs: minutes
    python -m benchmarks run --suite adbench --quick --datasets 14_glass
    python -m benchmarks run --suite kdd99 --seeds 42 --detectors ALAD "PyOD IForest"
    python -m benchmarks tabular_validation --help          # one script
    python -m benchmarks gpu_check
"""

import argparse
import ast
import importlib
import json
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import NamedTuple

from . import _plots
from ._runner import call_main, command_line, run_tasks
from .common import OURS, QUICK_RESULTS, RESULTS, markdown_cell

PROG = "python -m benchmarks"
#: The scripts' folders, by purpose, in the order ``--help`` lists them.
GROUPS = ("suites", "defaults", "diagnostics")


class Script(NamedTuple):
    group: str
    module: str
    path: Path


def find_scripts():
    """Every script by its file name: its group, module and file."""
    root = Path(__file__).parent
    return {path.stem: Script(group, f"{__package__}.{group}.{path.stem}", path)
            for group in GROUPS for path in sorted((root / group).glob("[!_]*.py"))}


SCRIPTS = find_scripts()
#: The suites of ``run``: a script each, but ``speed``.
SUITES = ("kdd99", "adbench", "dependability", "mnist", "contamination", "speed")
#: The speed suite's scripts, with the arguments --quick adds. Our AnoGAN's scoring
#: memory comes from anogan_speed.py, which measures it with a short latent search
#: (memory.py leaves AnoGAN out).
SPEED_SCRIPTS = {
    "speed": ["--steps", "20", "--repeats", "1"],
    "anogan_speed": ["--train-rows", "2000", "--rows", "200", "--loop-rows", "5",
                     "--memory-rows", "20000", "--pyod-train-rows", "200"],
    "memory": ["--rows", "20000"],
}


def script_listing():
    """The scripts, grouped by purpose, each with the first line of its docstring."""
    lines = []
    for group in GROUPS:
        purpose, what = importlib.import_module(f".{group}", __package__).__doc__.split(
            ":", 1)
        lines += ["", f"{purpose} (benchmarks/{group}/):{what.rstrip()}"]
        for name, script in SCRIPTS.items():
            if script.group == group:
                summary = ast.get_docstring(ast.parse(script.path.read_text()))
                lines += textwrap.wrap(summary.split("\n")[0], 88,
                                       initial_indent=f"  {name:<22}",
                                       subsequent_indent=" " * 24)
    return "\n".join(lines[1:])


def speed_suite(output_dir, quick):
    """Run the speed scripts, then write the ratios of ours to PyOD's and their chart."""
    tasks = [(SCRIPTS[name].module,
              [*(quick_options if quick else []), "--output", str(output_dir / name)],
              command_line())
             for name, quick_options in SPEED_SCRIPTS.items()]
    # One at a time: the scripts measure speed and must not compete for the cores.
    records = run_tasks(call_main, tasks, jobs=1, description="speed",
                        identify=lambda task: {"script": task[0].split(".")[-1]})
    results = {r["script"]: json.loads((output_dir / f"{r['script']}.json").read_text())
               for r in records if r["status"] == "ok"}
    comparisons = speed_comparisons(results)
    ours = [r for r in results.get("memory", {}).get("runs", [])
            if r["detector"] in OURS and r["input"] == "float32"]

    def figure(value, digits=0):
        return "–" if value is None else f"{value:,.{digits}f}"

    lines = [f"# Speed and memory: ours and PyOD's ({date.today()})", "",
             f"Command: `{command_line()}`", ""]
    if quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    lines += [
        ("Ratios, from the tables of `speed.py` (ALAD), `anogan_speed.py` (AnoGAN) and "
         "`memory.py` (ALAD's memory), in this run. \"Ours better by\": ours over PyOD "
         "for rows/s, PyOD over ours for memory; above 1, ours is better."), "",
        "| method | figure | ours | PyOD | ours better by |", "|---|---|---|---|---|",
        *(f"| {c['method']} | {c['figure']} | {figure(c['ours'], 1)} | "
          f"{figure(c['pyod'], 1)} | {figure(c['advantage'], 2)}x |" for c in comparisons),
        "",
        ("Our detectors (`memory.py`): training rows/s of a one-epoch fit on 5,000 rows, "
         "scoring rows/s and peak extra memory of scoring float32 rows."), "",
        "| detector | training rows/s | scoring rows/s | scoring extra peak MB |",
        "|---|---|---|---|",
        *(f"| {r['detector']} | {figure(r['train_rows_per_second'])} | "
          f"{figure(r['rows_per_second'])} | {r['extra_mb']:.1f} |" for r in ours),
    ]
    failed = [f"- {r['script']}.py: {markdown_cell(r['error'])}"
              for r in records if r["status"] == "failed"]
    if failed:
        lines += ["", "Failed:", "", *failed]
    output = output_dir / "speed_ratios"
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "quick": quick,
         "scripts": records, "comparisons": comparisons}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    _plots.plot_grouped_bars(
        {group: {c["method"]: c["advantage"] for c in comparisons
                 if c["group"] == group and c["advantage"] is not None}
         for group in dict.fromkeys(c["group"] for c in comparisons)},
        "Ours against PyOD's (above 1: ours better)", "ours better by (x)",
        output.with_name("speed_ratios.png"), log=True, reference=1)
    print("\n".join(lines))


def speed_comparisons(results):
    """Ours against PyOD's, from the JSON of each speed script that finished.

    Returns
    -------
    comparisons : list of dict
        ``method``, ``group`` (the chart's), ``figure``, ``ours``, ``pyod`` and
        ``advantage`` (how many times better ours is; ``None`` when undefined).
    """
    comparisons = []

    def add(method, group, figure, ours, pyod, higher_is_better=True):
        ratio = ours / pyod if higher_is_better else pyod / ours
        comparisons.append({"method": method, "group": group, "figure": figure,
                            "ours": ours, "pyod": pyod,
                            "advantage": ratio if ours > 0 and pyod > 0 else None})

    if "speed" in results:
        train = results["speed"]["figures"]["train_rows_per_second"]
        score = results["speed"]["figures"]["score_rows_per_second"]
        add("ALAD", "training", "training rows/s (PyOD on the whole training half)",
            train["ours"], train["pyod"])
        add("ALAD", "training, same rows", "training rows/s (PyOD on our rows)",
            train["ours"], train["pyod_on_subset"])
        add("ALAD", "scoring", "scoring rows/s", score["ours"], score["pyod"])
    if "memory" in results:
        extra = {r["detector"]: r["extra_mb"] for r in results["memory"]["runs"]
                 if r["input"] == "float32"}
        add("ALAD", "scoring memory", "scoring extra peak MB", extra["ALAD"],
            extra["PyOD ALAD"], higher_is_better=False)
    if "anogan_speed" in results:
        anogan = results["anogan_speed"]
        if "AnoGAN" in anogan["fit_seconds"]:  # not when the model was loaded
            add("AnoGAN", "training",
                "fit rows/s (whole fit with defaults, on "
                f"{anogan['train_rows']['AnoGAN']:,} and "
                f"{anogan['train_rows']['PyOD AnoGAN']:,} rows)",
                *(anogan["train_rows"][name] / anogan["fit_seconds"][name]
                  for name in ("AnoGAN", "PyOD AnoGAN")))
        add("AnoGAN", "scoring", "scoring rows/s (PyOD runs no latent search)",
            anogan["runs"]["ours, batched (500 steps)"]["rows_per_second"],
            anogan["runs"]["PyOD AnoGAN (no search at scoring)"]["rows_per_second"])
        add("AnoGAN", "scoring memory",
            f"scoring extra peak MB (ours: {anogan['memory']['search_steps']} search steps)",
            anogan["memory"]["extra_peak_mb"], anogan["memory"]["pyod_extra_peak_mb"],
            higher_is_better=False)
    return comparisons


def run(argv):
    """``python -m benchmarks run``: one suite."""
    # No abbreviations: a suite's own --output must not be taken for --output-dir.
    parser = argparse.ArgumentParser(
        prog=f"{PROG} run", description="Run one suite.", allow_abbrev=False,
        epilog="Options not listed here go to the suite's script (kdd99, adbench, mnist, "
               "contamination), e.g. --seeds, --detectors, --jobs; see "
               f"{PROG} kdd99 --help.")
    parser.add_argument("--suite", required=True, choices=SUITES)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of a few minutes, written under results/quick/")
    parser.add_argument("--output-dir", default=None,
                        help="write here (default: benchmarks/results, or "
                             "benchmarks/results/quick with --quick)")
    args, suite_argv = parser.parse_known_args(argv)
    if args.suite == "speed" and suite_argv:
        parser.error(f"the speed suite takes no other options: {' '.join(suite_argv)}")
    output_dir = Path(args.output_dir) if args.output_dir else (
        QUICK_RESULTS if args.quick else RESULTS)
    output_dir.mkdir(parents=True, exist_ok=True)
    if args.suite == "speed":
        speed_suite(output_dir, args.quick)
        return 0
    suite_argv += ["--output", str(output_dir / args.suite)]
    if args.quick:
        suite_argv.append("--quick")
    return importlib.import_module(SCRIPTS[args.suite].module).main(suite_argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog=PROG, usage=f"{PROG} [-h] {{run,SCRIPT}} [options]",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"{PROG} run --help gives the suites' options, {PROG} SCRIPT --help\n"
               f"a script's.\n\n{script_listing()}")
    parser.add_argument("command", choices=["run", *SCRIPTS], metavar="{run,SCRIPT}",
                        help="run: one suite; SCRIPT: one script by its file name; the "
                             "options that follow are theirs")
    # The command alone: its options are for run or the script to parse.
    command = parser.parse_args(argv[:1]).command
    if command == "run":
        return run(argv[1:])
    return importlib.import_module(SCRIPTS[command].module).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
