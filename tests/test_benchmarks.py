"""The benchmark suites' quick paths, end to end, and how a suite reports failed runs.

Each suite runs as ``python -m benchmarks run --suite NAME --quick`` from the
repository root, with two detectors (one of ours for one epoch, PyOD's IForest) on
small data; the tests check what it writes, never how long it took.
"""

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
DETECTORS = ["ALAD", "PyOD IForest"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quick_suite(suite, output_dir, *options):
    """Run one suite's quick path with ``DETECTORS``; return its JSON."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--suite", suite, "--quick",
         "--output-dir", str(output_dir), "--detectors", *DETECTORS, *options],
        cwd=ROOT, capture_output=True, text=True, check=False)  # stderr in the assert
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((output_dir / f"{suite}.json").read_text())


def assert_reported(cell, metrics):
    """A detector's result: finite metrics, or a failure with its reason."""
    assert cell["status"] in ("ok", "failed"), cell
    if cell["status"] == "failed":
        assert cell["error"]
    else:
        for metric in metrics:
            mean, std = cell[metric]
            assert math.isfinite(mean) and math.isfinite(std), (metric, cell)


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def test_kdd99_quick_suite_on_the_bundled_sample(tmp_path):
    # --quick reads the KDD99 sample bundled with skgan_ad: no ../shared/data needed.
    result = run_quick_suite("kdd99", tmp_path)

    assert result["quick"] and result["data"] == "bundled"
    assert set(result["summary"]) == set(DETECTORS)
    for cell in result["summary"].values():
        assert_reported(cell, ("precision", "recall", "f1", "auroc", "auprc"))
    assert {(run["detector"], run["seed"]) for run in result["runs"]} == {
        (name, 42) for name in DETECTORS}
    for run in result["runs"]:
        if run["status"] == "ok":  # the points the ROC and PR curves are drawn from
            assert 0 < len(run["curves"]["roc"]["fpr"]) <= 200
            assert len(run["curves"]["pr"]["recall"]) == len(
                run["curves"]["pr"]["precision"])
    table = (tmp_path / "kdd99.md").read_text()
    assert "quick smoke run" in table
    for name in DETECTORS:
        assert f"| {name} |" in table
    assert_png(tmp_path / "kdd99_f1.png")
    assert_png(tmp_path / "kdd99_curves.png")

    # Every run is in the journal, so a resumed suite runs nothing and reports the same.
    journal = (tmp_path / "kdd99.runs.jsonl").read_text().splitlines()
    assert len(journal) == len(DETECTORS)
    resumed = run_quick_suite("kdd99", tmp_path, "--resume")
    assert resumed["runs"] == json.loads(json.dumps(result["runs"]))


def test_adbench_quick_suite_on_arrhythmia(tmp_path):
    from benchmarks.adbench import ALAD_PAPER_SETTINGS

    if not (DATA_DIR / "odds" / "arrhythmia.mat").exists():
        pytest.skip(f"Arrhythmia not found in {DATA_DIR} (set SKGAN_AD_DATA to the "
                    "folder holding odds/arrhythmia.mat)")
    result = run_quick_suite("adbench", tmp_path, "--data-dir", str(DATA_DIR),
                             "--datasets", "arrhythmia")

    tables, paper = result["results"]["adbench"], result["results"]["alad_paper"]
    assert set(tables) == set(paper) == {"arrhythmia"}
    assert set(tables["arrhythmia"]) == set(DETECTORS)
    # ALAD also runs with the official code's Arrhythmia settings, in that protocol.
    assert set(paper["arrhythmia"]) == {*DETECTORS, ALAD_PAPER_SETTINGS}
    for name in DETECTORS:
        assert_reported(tables["arrhythmia"][name], ("auroc", "auprc"))
        assert 1 <= result["mean_ranks"]["auroc"][name] <= len(DETECTORS)
    for name in paper["arrhythmia"]:
        assert_reported(paper["arrhythmia"][name], ("precision", "recall", "f1", "auroc"))
    table = (tmp_path / "adbench.md").read_text()
    assert "## AUROC" in table and "| mean rank |" in table and "## Overview" in table
    # The ALAD paper's published F1 stands next to ours.
    assert "Arrhythmia in the ALAD paper's protocol" in table
    assert table.count("| 0.5152 |") == 2
    assert_png(tmp_path / "adbench_ranks.png")


def test_adbench_means_leave_out_failed_tables_and_count_them(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.adbench import mean_over_tables

    failed = {"status": "failed", "error": "time budget of 1800 s exceeded"}
    results = {"a": {"ours": {"status": "ok", "auroc": (0.9, 0.0)},
                     "theirs": {"status": "ok", "auroc": (0.6, 0.1)}},
               "b": {"ours": {"status": "ok", "auroc": (0.7, 0.0)}, "theirs": failed}}
    means = mean_over_tables(results, ["ours", "theirs"], "auroc")
    assert means["ours"] == {"mean": pytest.approx(0.8), "failed": 0}
    assert means["theirs"] == {"mean": pytest.approx(0.6), "failed": 1}
    results["a"]["theirs"] = failed
    assert mean_over_tables(results, ["theirs"], "auroc")["theirs"] == {"mean": None,
                                                                         "failed": 2}


def test_failed_runs_are_reported_not_lost(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.runner import run_tasks

    # dict(5) raises in its process; the group's next run is then not started.
    records = run_tasks(dict, [{"value": 1}, 5, {"value": 2}], jobs=1,
                        identify=lambda task: {"task": repr(task)},
                        group=lambda task: "one group")
    assert records[0] == {"task": "{'value': 1}", "status": "ok", "value": 1}
    assert records[1]["status"] == "failed" and "TypeError" in records[1]["error"]
    assert records[2]["status"] == "failed" and "not run" in records[2]["error"]

    records = run_tasks(time.sleep, [60], budget_seconds=1,
                        identify=lambda task: {"task": task})
    assert records == [{"task": 60, "status": "failed",
                        "error": "time budget of 1 s exceeded"}]


def test_validation_runs_of_several_processes_merge_by_seed(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from tabular_validation import best_epoch, merged_runs

    def saved(seed, auprcs):
        run = {"candidate": "c", "scaler": "log", "score_type": None, "params": {},
               "fit_seconds": [float(seed)],
               "per_seed": {str(seed): [{"epoch": i + 1, "auprc": a, "auroc": a,
                                         "precision": a, "recall": a, "f1": a}
                                        for i, a in enumerate(auprcs)]}}
        path = tmp_path / f"seed{seed}.json"
        path.write_text(json.dumps({"argv": ["SimultaneousEncoderGAN", "--seeds",
                                             str(seed)], "runs": [run]}))
        return path

    paths = [saved(0, [0.5, 0.9, 0.6]), saved(1, [0.5, 0.7, 0.8])]
    (run,), commands = merged_runs(paths)
    assert sorted(run["per_seed"]) == ["0", "1"] and run["fit_seconds"] == [0.0, 1.0]
    assert len(commands) == 2 and commands[1].endswith("--seeds 1")
    best = best_epoch(run)  # epoch 2: mean 0.8 beats epoch 3's 0.7
    assert best["epoch"] == 2 and best["auprc"] == pytest.approx(0.8)
    assert best["auprc_min"] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="already in an earlier file"):
        merged_runs([paths[0], paths[0]])


def test_a_resumed_suite_reruns_only_what_its_journal_lacks(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.runner import run_tasks

    journal = tmp_path / "suite.runs.jsonl"
    def identify(task):
        return {"task": task["value"]}

    run_tasks(dict, [{"value": 1}, {"value": 2}], identify=identify, jobs=1,
              journal=journal)
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines == [{"task": 1, "status": "ok", "value": 1},
                     {"task": 2, "status": "ok", "value": 2}]

    # Mark run 1 as journaled and make run 2 a failure: resuming keeps run 1 as it
    # is, runs 2 again and runs 3, which the journal never had.
    lines[0]["from_journal"] = True
    lines[1] = {"task": 2, "status": "failed", "error": "killed"}
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    records = run_tasks(dict, [{"value": 1}, {"value": 2}, {"value": 3}],
                        identify=identify, jobs=1, journal=journal, resume=True)
    assert records == [{"task": 1, "status": "ok", "value": 1, "from_journal": True},
                       {"task": 2, "status": "ok", "value": 2},
                       {"task": 3, "status": "ok", "value": 3}]

    # Without resume the journal starts again.
    run_tasks(dict, [{"value": 4}], identify=identify, jobs=1, journal=journal)
    assert [json.loads(line)["task"] for line in journal.read_text().splitlines()] == [4]


def test_kdd99_runs_name_the_data_file_alike_on_every_machine(monkeypatch):
    # A journal names the data file relative to the repository, so a run journaled
    # in one checkout is resumed in another.
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.kdd99 import DEFAULT_DATA, identify
    from benchmarks.runner import portable_path

    class Args:
        data, scaler, epochs, pyod_epochs, min_steps = (str(DEFAULT_DATA), "chosen", None,
                                                        None, None)

    assert identify(("ALAD", 42, Args))["data"] == (
        "../shared/data/kdd99/kddcup.data_10_percent.gz")
    assert portable_path("/elsewhere/kdd.gz") == "/elsewhere/kdd.gz"


def test_min_steps_validation_fits_on_training_parts_and_names_a_winner(tmp_path):
    if not (DATA_DIR / "adbench" / "45_wine.npz").exists():
        pytest.skip(f"ADBench's wine table not found in {DATA_DIR}")
    output = tmp_path / "min_steps"
    completed = subprocess.run(
        [sys.executable, "benchmarks/min_steps_validation.py", "--data-dir",
         str(DATA_DIR), "--datasets", "45_wine", "--detectors", "FenceGAN",
         "--candidates", "0", "60", "--jobs", "1", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(output.with_suffix(".json").read_text())
    (run,) = result["runs"]
    # wine: 129 rows; the ADBench training part is 90 of them, split 63 / 27 here.
    assert (run["fit_rows"], run["valid_rows"]) == (63, 27)
    # FenceGAN's 12 epochs of one batch (63 rows < its batch of 200), then 5 passes
    # an epoch to reach 60 steps.
    assert [run["candidates"][c]["steps"] for c in ("0", "60")] == [12, 60]
    assert result["winner"] in (0, 60)
    best = max(("0", "60"), key=lambda c: run["candidates"][c]["auroc"])
    assert result["winner"] == int(best)
    assert f"`min_steps={best}`" in output.with_suffix(".md").read_text()
