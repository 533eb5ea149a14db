"""The benchmarks' entry point and quick paths, end to end, and how a suite reports runs.

Each suite runs as ``python -m benchmarks run --suite NAME --quick`` from the
repository root, on small data for one epoch; the tests check what it writes, that
each of our detectors ran in one of them and beat chance there, never how long it
took. The tests that run a script in a subprocess are marked ``slow``
(``python -m pytest -m "not slow"`` leaves them out).
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA_DIR

from skgan_ad import all_detectors

ROOT = Path(__file__).resolve().parents[1]
OURS = [name for name, _ in all_detectors()]
#: Ours that the quick KDD99 sample cannot test: GANomaly and the simultaneous-encoder
#: GAN rank it backwards after their one epoch (seed 42: AUROC 0.06 and 0.27; above
#: 0.95 when fully trained, results/kdd99.md), and AnoGAN's latent search over its
#: 10,000 test rows would double that suite's time. One epoch on Arrhythmia ranks
#: above chance for all three (AUROC 0.69 to 0.83), so they run there.
NOT_ON_KDD99 = ("AnoGAN", "GANomaly", "SimultaneousEncoderGAN")
ON_KDD99 = [name for name in OURS if name not in NOT_ON_KDD99]
#: ALAD as well: with it, the ALAD paper's protocol also runs the paper's settings.
ON_ARRHYTHMIA = ["ALAD", *NOT_ON_KDD99]
PYOD_MISSING = importlib.util.find_spec("pyod") is None
#: A quick run's AUROC must exceed this: chance, by a margin. The lowest AUROC of the
#: quick runs tested (seed 42) is ALAD's 0.633 after its one epoch on the bundled
#: KDD99 sample; the others are 0.69 to 0.99.
MIN_AUROC = 0.55
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _benchmarks_importable(monkeypatch):
    # benchmarks/ is a package of the repository, not of the installed skgan_ad.
    monkeypatch.syspath_prepend(str(ROOT))


def run_quick_suite(suite, output_dir, *options):
    """Run one suite's quick path; return its JSON."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--suite", suite, "--quick",
         "--output-dir", str(output_dir), *options],
        cwd=ROOT, capture_output=True, text=True, check=False)  # stderr in the assert
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((output_dir / f"{suite}.json").read_text())


def assert_ran(name, result, metrics=(), beats_chance=True):
    """One detector's result in a quick suite: a run, or a summary cell (each metric
    as its mean and std over seeds).

    Ours must have run, with finite metrics and, where ``beats_chance``, an AUROC above
    ``MIN_AUROC``; so must PyOD's, unless PyOD is not installed.
    """
    if name.startswith("PyOD") and PYOD_MISSING and result["status"] == "failed":
        assert "pyod" in result["error"], result
        return
    assert result["status"] == "ok", (name, result)
    for metric in metrics:
        assert np.isfinite(result[metric]).all(), (name, metric, result)
    if beats_chance:
        assert np.ravel(result["auroc"])[0] > MIN_AUROC, (name, result)


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def test_every_listed_script_answers_help(capsys):
    from benchmarks.__main__ import GROUPS, SCRIPTS, SUITES, main

    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    listing = capsys.readouterr().out
    for group in GROUPS:
        assert f"(benchmarks/{group}/)" in listing
    assert set(SUITES) - {"speed"} <= set(SCRIPTS)
    # Importing a script and building its parser: a moved script's broken import fails.
    for name in SCRIPTS:
        assert f"\n  {name} " in listing
        with pytest.raises(SystemExit) as exit:
            main([name, "--help"])
        assert exit.value.code == 0, name
        assert capsys.readouterr().out.startswith("usage: "), name


@pytest.mark.slow
def test_kdd99_quick_suite_on_the_bundled_sample(tmp_path):
    # --quick reads the KDD99 sample bundled with skgan_ad: no ../shared/data needed.
    from benchmarks.suites.kdd99 import OFFICIAL

    detectors = [*ON_KDD99, "PyOD IForest"]
    result = run_quick_suite("kdd99", tmp_path, "--detectors", *detectors)
    # Ours with a published KDD99 figure also train as the official code does.
    official = [name + OFFICIAL for name in ("ALAD", "EGBAD") if name in detectors]
    rows = [*detectors, *official]

    assert result["quick"] and result["data"] == "bundled"
    assert set(result["summary"]) == set(rows)
    for name, cell in result["summary"].items():
        # One epoch on unscaled features need not rank well: it must run.
        assert_ran(name, cell, ("precision", "recall", "f1", "auroc", "auprc"),
                   beats_chance=name not in official)
    assert {(run["detector"], run["seed"]) for run in result["runs"]} == {
        (name, 42) for name in rows}
    official_run = next(run for run in result["runs"] if run["detector"] == official[0])
    assert official_run["train_seconds"] is not None
    for run in result["runs"]:
        if run["status"] == "ok":  # the points the ROC and PR curves are drawn from
            assert 0 < len(run["curves"]["roc"]["fpr"]) <= 200
            assert len(run["curves"]["pr"]["recall"]) == len(
                run["curves"]["pr"]["precision"])
    table = (tmp_path / "kdd99.md").read_text()
    assert "quick smoke run" in table
    for name in rows:
        assert f"| {name} |" in table
    assert "| ALAD" + OFFICIAL + " |" in table and "0.9501" in table
    assert_png(tmp_path / "kdd99_f1.png")
    assert_png(tmp_path / "kdd99_curves.png")

    # Every run is in the journal (beside a quick run's output, not in journals/), so
    # a resumed suite runs nothing and reports the same.
    journal = (tmp_path / "kdd99.runs.jsonl").read_text().splitlines()
    assert len(journal) == len(rows)
    assert {json.loads(line)["scaler"] for line in journal
            if json.loads(line)["detector"] in official} == {None}
    resumed = run_quick_suite("kdd99", tmp_path, "--detectors", *detectors, "--resume")
    assert resumed["runs"] == json.loads(json.dumps(result["runs"]))


@pytest.mark.slow
def test_adbench_quick_suite_on_arrhythmia(tmp_path):
    from benchmarks.suites.adbench import ALAD_PAPER_SETTINGS

    if not (DATA_DIR / "odds" / "arrhythmia.mat").exists():
        pytest.skip(f"Arrhythmia not found in {DATA_DIR} (set SKGAN_AD_DATA to the "
                    "folder holding odds/arrhythmia.mat)")
    detectors = ON_ARRHYTHMIA  # PyOD's run in the other suites' tests
    result = run_quick_suite("adbench", tmp_path, "--data-dir", str(DATA_DIR),
                             "--datasets", "arrhythmia", "--detectors", *detectors)

    tables, paper = result["results"]["adbench"], result["results"]["alad_paper"]
    assert set(tables) == set(paper) == {"arrhythmia"}
    assert set(tables["arrhythmia"]) == set(detectors)
    # ALAD also runs with the official code's Arrhythmia settings, in that protocol.
    assert set(paper["arrhythmia"]) == {*detectors, ALAD_PAPER_SETTINGS}
    for name in detectors:
        assert_ran(name, tables["arrhythmia"][name], ("auroc", "auprc"))
        assert 1 <= result["mean_ranks"]["auroc"][name] <= len(detectors)
    for name, cell in paper["arrhythmia"].items():
        # The paper's settings train on unscaled features: one epoch ranks at chance
        # (AUROC 0.47), where ALAD's defaults reach 0.79.
        assert_ran(name, cell, ("precision", "recall", "f1", "auroc"),
                   beats_chance=name != ALAD_PAPER_SETTINGS)
    table = (tmp_path / "adbench.md").read_text()
    assert "## AUROC" in table and "| mean rank |" in table and "## Overview" in table
    # The ALAD paper's published F1 stands next to ours.
    assert "Arrhythmia in the ALAD paper's protocol" in table
    assert table.count("| 0.5152 |") == 2
    assert_png(tmp_path / "adbench_ranks.png")


@pytest.mark.slow
def test_contamination_quick_suite_on_the_bundled_sample(tmp_path):
    detectors = ["ALAD", "PyOD IForest"]
    result = run_quick_suite("contamination", tmp_path, "--detectors", *detectors,
                             "--levels", "0.1", "--jobs", "2")

    assert result["quick"]
    # 10% of the training rows are anomalies, which every detector still ranks.
    assert [(run["detector"], run["contamination"]) for run in result["runs"]] == [
        (name, 0.1) for name in detectors]
    for run in result["runs"]:
        assert_ran(run["detector"], run)
    assert set(result["summary"]) == set(detectors)
    assert "quick smoke run" in (tmp_path / "contamination.md").read_text()


def test_adbench_means_leave_out_failed_tables_and_count_them():
    from benchmarks.suites.adbench import mean_over_tables

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


def test_failed_runs_are_reported_not_lost():
    from benchmarks._runner import run_tasks

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


def test_validation_runs_of_several_processes_merge_by_seed(tmp_path):
    from benchmarks.defaults.tabular_validation import best_epoch, merged_runs

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
    assert commands[1] == ("python -m benchmarks tabular_validation "
                           "SimultaneousEncoderGAN --seeds 1")
    best = best_epoch(run)  # epoch 2: mean 0.8 beats epoch 3's 0.7
    assert best["epoch"] == 2 and best["auprc"] == pytest.approx(0.8)
    assert best["auprc_min"] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="already in an earlier file"):
        merged_runs([paths[0], paths[0]])


def test_a_resumed_suite_reruns_only_what_its_journal_lacks(tmp_path):
    from benchmarks._runner import run_tasks

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


def test_the_journal_of_every_shown_result_is_found(tmp_path):
    from benchmarks.common import JOURNALS, RESULTS, journal_path

    journals = sorted(JOURNALS.glob("*.runs.jsonl"))
    assert journals
    for journal in journals:
        output = RESULTS / journal.name.removesuffix(".runs.jsonl")
        assert output.with_suffix(".json").exists(), journal
        assert journal_path(output) == journal
    # Quick runs and outputs elsewhere keep their journals beside them.
    assert journal_path(tmp_path / "kdd99") == tmp_path / "kdd99.runs.jsonl"


def test_kdd99_runs_name_the_data_file_alike_on_every_machine():
    # A journal names the data file relative to the repository, so a run journaled
    # in one checkout is resumed in another.
    from benchmarks.common import REPOSITORY, portable_path
    from benchmarks.suites.kdd99 import identify

    class Args:
        data = str(REPOSITORY.parent / "shared" / "data" / "kdd99"
                   / "kddcup.data_10_percent.gz")
        scaler, epochs, pyod_epochs, min_steps = "chosen", None, None, None
        standardize, ensemble, gan_ensemble, combination = False, None, None, "mean"

    assert identify(("ALAD", 42, Args))["data"] == (
        "../shared/data/kdd99/kddcup.data_10_percent.gz")
    assert portable_path("/elsewhere/kdd.gz") == "/elsewhere/kdd.gz"
    # --standardize names its runs apart; runs without it keep the journals' old keys.
    assert "standardize" not in identify(("ALAD", 42, Args))

    class Standardized(Args):
        standardize = True

    assert identify(("ALAD", 42, Standardized))["standardize"] is True

    class Ensembles(Args):
        ensemble = 5

    # --ensemble names ours' runs apart, and leaves PyOD's as they were.
    assert identify(("ALAD", 42, Ensembles))["ensemble"] == 5
    assert identify(("PyOD IForest", 42, Ensembles)) == identify(("PyOD IForest", 42, Args))

    class MedianEnsembles(Ensembles):
        combination = "median"

    # The mean, the default, is named as the journals named it before --combination
    # (no value); the median names its runs apart, ours only.
    assert identify(("ALAD", 42, Ensembles))["combination"] is None
    assert identify(("ALAD", 42, MedianEnsembles))["combination"] == "median"
    assert (identify(("PyOD IForest", 42, MedianEnsembles))
            == identify(("PyOD IForest", 42, Args)))

    class GANEnsembles(Args):
        gan_ensemble = 5

    # So does --gan-ensemble; runs without it keep the journals' old keys.
    assert identify(("ALAD", 42, GANEnsembles))["ensemble_size"] == 5
    assert "ensemble_size" not in identify(("ALAD", 42, Args))
    assert (identify(("PyOD IForest", 42, GANEnsembles))
            == identify(("PyOD IForest", 42, Args)))


def test_journals_tell_runs_averaged_with_the_old_warm_up_from_todays(tmp_path):
    """A run journaled before the official moving average (no "ema" key) is not
    resumed as one of today's for a detector that averages; others are."""
    from benchmarks._runner import journaled_runs
    from benchmarks.suites.kdd99 import OFFICIAL, identify

    class Args:
        data, scaler, epochs, pyod_epochs, min_steps = "bundled", "chosen", None, None, None
        standardize, ensemble, gan_ensemble, combination = False, None, None, "mean"

    tasks = [(name, 42, Args) for name in ("EGBAD", "EGBAD" + OFFICIAL, "FAnoGAN",
                                           "PyOD IForest")]
    assert [identify(task)["ema"] for task in tasks] == ["official", "official", None,
                                                         None]
    old_records = [{**{key: value for key, value in identify(task).items()
                       if key != "ema"}, "status": "ok"} for task in tasks]
    journal = tmp_path / "kdd99.runs.jsonl"
    journal.write_text("".join(json.dumps(record) + "\n" for record in old_records))
    assert sorted(journaled_runs(journal, identify, tasks)) == [2, 3]


@pytest.mark.slow
def test_min_steps_validation_fits_on_training_parts_and_names_a_winner(tmp_path):
    if not (DATA_DIR / "adbench" / "45_wine.npz").exists():
        pytest.skip(f"ADBench's wine table not found in {DATA_DIR}")
    output = tmp_path / "min_steps"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "min_steps_validation", "--data-dir",
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


def test_model_selection_reads_no_row_of_an_evaluated_test_half():
    """tabular_validation's rows are in the training half of every KDD99 table seed."""
    from benchmarks.common import DEFAULT_SEEDS
    from benchmarks.defaults.tabular_validation import selection_data

    from skgan_ad.datasets import kdd99_paper_split, load_kdd99

    data = load_kdd99(sample=True)
    X_train, X_valid, y_valid = selection_data(data)
    read = X_train.index.union(X_valid.index)
    assert len(X_train) > 100 and 0 < y_valid.mean() < 0.5
    for seed in DEFAULT_SEEDS:
        _, X_test, _ = kdd99_paper_split(data.data, data.target, random_state=seed)
        assert read.intersection(X_test.index).empty, seed


def test_dependability_counts_a_table_inverted_only_where_iforest_finds_the_signal():
    from benchmarks.suites.dependability import REFERENCE, dependability

    def run(detector, table, seed, auroc, scaler="minmax"):
        return {"detector": detector, "dataset": table, "scaler": scaler, "seed": seed,
                "status": "ok", "auroc": auroc, "auprc": auroc / 2, "fit_seconds": seed + 1}

    records = [run(REFERENCE, "easy", 0, 0.9), run(REFERENCE, "easy", 1, 0.8),
               run(REFERENCE, "hard", 0, 0.6), run(REFERENCE, "hard", 1, 0.6),
               run("GAN", "easy", 0, 0.2), run("GAN", "easy", 1, 0.4),
               run("GAN", "hard", 0, 0.3), run("GAN", "hard", 1, 0.3),
               run("GAN", "easy", 0, 0.95, scaler="standard")]
    cell = dependability(records, "GAN", ("minmax",))
    assert cell["inverted"] == ["easy (minmax)"]  # IForest 0.6 on "hard": no signal
    assert cell["mean_auroc"] == pytest.approx(0.3)
    assert cell["worst_auroc"] == pytest.approx(0.3)
    assert cell["mean_seed_std"] == pytest.approx(0.05)  # std 0.1 and 0 over seeds
    assert cell["mean_fit_seconds"] == pytest.approx(1.5)
    both = dependability(records, "GAN", ("minmax", "standard"))
    assert both["tables"] == 3 and both["inverted"] == ["easy (minmax)"]
    failed = [*records, {**run("GAN", "hard", 2, 0.0), "status": "failed"}]
    assert dependability(failed, "GAN", ("minmax",))["failed"] == 1
    not_run = [*records, {**run("GAN", "hard", 2, 0.0), "status": "not run"},
               {**run("GAN", "other", 0, 0.0), "status": "not run"}]
    assert dependability(not_run, "GAN", ("minmax",)) == cell  # --report-only, partial


def test_ensemble_option_wraps_only_our_detectors_seeded_by_the_run():
    from benchmarks.common import make_detector

    from skgan_ad import SeedEnsemble

    ours, convention = make_detector("GANomaly", 43, 5, ensemble=3)
    assert isinstance(ours, SeedEnsemble) and convention == "sklearn"
    assert (ours.n_members, ours.random_state) == (3, 43)
    assert ours.estimator.get_params()["device"] == "cpu"
    theirs, _ = make_detector("PyOD IForest", 43, 5)
    assert not isinstance(theirs, SeedEnsemble)


def test_voting_is_one_of_each_of_ours_made_as_the_suite_makes_them():
    from benchmarks.common import OURS, VOTING, make_detector

    from skgan_ad import VotingDetector

    voting, convention = make_detector(VOTING, 43, 5, min_steps=0,
                                       extra={"standardize": True}, ensemble=3)
    assert isinstance(voting, VotingDetector) and convention == "sklearn"
    assert [name for name, _ in voting.estimators] == list(OURS)
    for name, member in voting.estimators:
        single, _ = make_detector(name, 43, 5, min_steps=0, extra={"standardize": True})
        assert member.get_params() == single.get_params()  # single: ensemble ignored


@pytest.mark.slow
def test_dependability_quick_suite_behind_both_scalers(tmp_path):
    if not (DATA_DIR / "adbench" / "14_glass.npz").exists():
        pytest.skip(f"ADBench's glass table not found in {DATA_DIR}")
    result = run_quick_suite("dependability", tmp_path, "--datasets", "14_glass",
                             "--detectors", "FenceGAN", "PyOD IForest")
    assert {(run["detector"], run["scaler"]) for run in result["runs"]} == {
        (name, scaler) for name in ("FenceGAN", "PyOD IForest")
        for scaler in ("standard", "minmax")}
    for group in ("standard", "minmax", "both"):
        for name in ("FenceGAN", "PyOD IForest"):
            assert_ran(name, {"status": "ok", "auroc": result["summary"][group][name][
                "mean_auroc"]}, beats_chance=name != "FenceGAN")
    assert "Behind MinMaxScaler" in (tmp_path / "dependability.md").read_text()
    assert_png(tmp_path / "dependability_auroc.png")


def test_set_options_parse_json_values_and_refuse_others():
    """``--set NAME=VALUE`` of the validation scripts: JSON values, a clear error else."""
    from benchmarks.common import add_set_argument, parsed_settings

    parser = argparse.ArgumentParser()
    add_set_argument(parser)
    args = parser.parse_args(["--set", "standardize=true", "--set", "lr=2e-4",
                              "--set", "score_type=\"fm\""])
    assert parsed_settings(parser, args.set) == {"standardize": True, "lr": 2e-4,
                                                 "score_type": "fm"}
    with pytest.raises(SystemExit):
        parsed_settings(parser, ["standardize=yes"])


def test_validation_scores_after_the_last_epoch_are_the_fitted_detectors(rows_and_labels):
    """tabular_validation's per-epoch scores equal score_samples after the last epoch,
    standardize=True included (its scores standardise the rows first)."""
    from benchmarks.defaults.tabular_validation import ValidationScores
    from conftest import fast
    from sklearn.metrics import average_precision_score

    from skgan_ad import EGBAD

    X_train, X_valid, y_valid = rows_and_labels
    detector = fast(EGBAD, standardize=True, ema_decay=None)
    monitor = ValidationScores(detector, X_valid, y_valid)
    detector.set_params(callbacks=[monitor]).fit(X_train)
    assert monitor.epochs[None][-1]["auprc"] == pytest.approx(
        average_precision_score(y_valid, -detector.score_samples(X_valid)))


@pytest.fixture
def rows_and_labels():
    """Rows on scales far from standard, and validation rows with 20% shifted ones."""
    rng = np.random.RandomState(0)
    scale = np.array([1e3, 1.0, 1e-2, 50.0], dtype=np.float32)
    X_train = (rng.normal(size=(400, 4)) * scale + 5 * scale).astype(np.float32)
    X_valid = (rng.normal(size=(100, 4)) * scale + 5 * scale).astype(np.float32)
    y_valid = np.r_[np.zeros(80, int), np.ones(20, int)]
    X_valid[80:] += 3 * scale
    return X_train, X_valid, y_valid


def test_mnist_cpu_budget_averages_weights_with_the_warm_up_only_where_they_average():
    """At about 200 steps the official average would still be the initial weights."""
    from argparse import Namespace

    from benchmarks.suites.mnist import CPU_BUDGET, detector_budget

    args = Namespace(min_steps=None, epochs=None, score_batch_size=None, **CPU_BUDGET)
    for method, averages in [("ALAD", True), ("EGBAD", True), ("AnoGAN", True),
                             ("SimultaneousEncoderGAN", True), ("GANomaly", False),
                             ("FenceGAN", False), ("FAnoGAN", False)]:
        params = detector_budget(method, 5000, args)
        assert params.get("ema_warmup", False) is averages, method
        assert params["min_steps"] == 0, method
    args.train_steps = None
    assert "ema_warmup" not in detector_budget("ALAD", 5000, args)
