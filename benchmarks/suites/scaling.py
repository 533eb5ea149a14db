"""Scaling out: a search on a Dask cluster, scoring a dask array, training with Accelerate.

Three measurements, each next to its in-process baseline, with one torch thread per
process (``torch.set_num_threads(1)``):

* **search**: GridSearchCV of EGBAD on a labelled KDD99 subset (bundled sample, features
  transformed beforehand), run sequentially in this process, with joblib's default
  process pool (``n_jobs=2``), and through ``joblib.parallel_config(backend="dask")`` on
  a ``LocalCluster`` of 2 worker processes on loopback. Pools and clusters are timed
  cold (first search: the workers import torch) and warm (second search); every run
  must find the same scores.
* **scoring**: a fitted ALAD scores rows in memory (one thread), and scores a lazily
  generated ``dask.array`` of ``--dask-rows`` x 121 float32 (5,000,000 rows: 2.4 GB,
  never held whole) with :func:`skgan_ad.distributed.score_dask_array` on Dask's
  threaded scheduler, while a thread samples the resident memory every millisecond.
  Generating the array alone is timed too, as generating it is part of that run.
* **accelerate**: ALAD on the KDD99 sample trained plainly and inside
  :func:`skgan_ad.distributed.accelerated_training` with ``Accelerator(cpu=True)`` in
  this process, then ``examples/accelerate_multi_gpu.py --cpu`` launched with
  ``accelerate launch`` on 1 and 2 processes (DistributedDataParallel over gloo), and on
  1 process in bf16.

The figures depend on the machine and on what else runs on it: the load average is
recorded next to them.

    python -m benchmarks scaling                    # writes results/scaling.{json,md}
    python -m benchmarks scaling --dask-rows 500000 # quicker
"""

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import accelerate
import dask
import dask.array as da
import distributed
import joblib
import numpy as np
import torch
from accelerate import Accelerator
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skgan_ad import ALAD, EGBAD
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.distributed import accelerated_training, score_dask_array
from skgan_ad.metrics import anomaly_roc_auc

from .._runner import command_line
from ..common import REPOSITORY, default_output, script_parser, timed, with_extra_peak

EXAMPLE = REPOSITORY / "examples" / "accelerate_multi_gpu.py"
N_FEATURES = 121


# Search ------------------------------------------------------------------------

def _search():
    return GridSearchCV(EGBAD(epochs=2, min_steps=0, random_state=0),
                        {"latent_dim": [16, 32], "lr": [1e-4, 1e-5]}, scoring=anomaly_roc_auc,
                        cv=StratifiedKFold(2, shuffle=True, random_state=0))


def _split_scores(search):
    return [search.cv_results_[f"split{i}_test_score"].tolist() for i in range(2)]


def measure_search():
    data = load_kdd99(sample=True)
    _, X_test, y_test = kdd99_paper_split(data.data, data.target)
    # Features transformed before the search: under the Dask backend the joblib calls
    # inside a searched ColumnTransformer would become cluster tasks of their own.
    X = make_kdd99_preprocessor("standard").fit_transform(X_test.iloc[::5])
    y = y_test[::5]
    fits = 4 * 2 + 1
    local, seconds = timed(_search().fit, X, y)
    records = [{"engine": "this process, sequential", "run": "-", "seconds": seconds}]
    expected = _split_scores(local)
    for run in ("cold", "warm"):
        search, seconds = timed(_search().set_params(n_jobs=2).fit, X, y)
        records.append({"engine": "joblib process pool, n_jobs=2", "run": run,
                        "seconds": seconds, "same_scores": _split_scores(search) == expected})
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        records.append({"engine": "Dask LocalCluster, 2 worker processes",
                        "run": "cluster start", "seconds": time.perf_counter() - start})
        for run in ("cold", "warm"):
            with joblib.parallel_config(backend="dask"):
                search, seconds = timed(_search().set_params(n_jobs=-1).fit, X, y)
            records.append({"engine": "Dask LocalCluster, 2 worker processes", "run": run,
                            "seconds": seconds,
                            "same_scores": _split_scores(search) == expected})
    for record in records:
        record.update(rows=len(X), fits=fits)
        print(f"search  {record['engine']:<40} {record['run']:<14} "
              f"{record['seconds']:6.1f} s", flush=True)
    return records


# Scoring -----------------------------------------------------------------------

def _record(how, threads, X, timing):
    _, seconds, extra_mb = timing
    return {"how": how, "threads": threads, "rows": X.shape[0], "data_mb": X.nbytes / 2**20,
            "chunk_rows": X.chunks[0][0] if isinstance(X, da.Array) else None,
            "seconds": seconds, "extra_peak_mb": extra_mb,
            "rows_per_second": X.shape[0] / seconds}


def _score_in_memory(detector, rows, chunk_rows, threads):
    """The same rows in memory: scored directly, then as a chunked dask array."""
    X = np.random.RandomState(1).normal(size=(rows, N_FEATURES)).astype(np.float32)
    timing = with_extra_peak(detector.decision_function, X)
    expected = timing[0]
    records = [_record("in memory, decision_function", 1, X, timing)]
    chunked = da.from_array(X, chunks=(chunk_rows, N_FEATURES))
    for n_threads in sorted({1, threads}):
        timing = with_extra_peak(score_dask_array(detector, chunked).compute,
                                 scheduler="threads", num_workers=n_threads)
        np.testing.assert_allclose(timing[0], expected, rtol=1e-6)
        records.append(_record("in memory as a dask array, score_dask_array", n_threads,
                               chunked, timing))
    return records


def measure_scoring(memory_rows, dask_rows, chunk_rows, threads):
    detector = ALAD(epochs=1, min_steps=0, random_state=0).fit(
        np.random.RandomState(0).normal(size=(5000, N_FEATURES)).astype(np.float32))
    records = _score_in_memory(detector, memory_rows, chunk_rows, threads)
    lazy = da.random.default_rng(0).standard_normal(
        (dask_rows, N_FEATURES), chunks=(chunk_rows, N_FEATURES), dtype=np.float32)
    with dask.config.set(scheduler="threads", num_workers=threads):
        # Reading one column still generates every block: the cost of the data alone.
        records.append(_record("lazily generated dask array, generating only", threads,
                               lazy, with_extra_peak(lazy[:, 0].compute)))
        timing = with_extra_peak(score_dask_array(detector, lazy).compute)
        records.append(_record("lazily generated dask array, score_dask_array", threads,
                               lazy, timing))
        first_block = lazy[:chunk_rows].compute()
    # The blocks score as the in-memory path does.
    np.testing.assert_allclose(timing[0][:chunk_rows],
                               detector.decision_function(first_block), rtol=1e-6)
    for record in records:
        print(f"scoring {record['how']:<46} {record['threads']} thr "
              f"{record['rows']:>10,} rows "
              f"{record['rows_per_second']:>10,.0f} rows/s  extra peak "
              f"{record['extra_peak_mb']:7.1f} MB (data {record['data_mb']:,.0f} MB)",
              flush=True)
    return records


# Accelerate --------------------------------------------------------------------

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch(processes, epochs, mixed_precision):
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "accelerate.commands.launch",
                   *(["--multi_gpu"] if processes > 1 else []),
                   "--num_processes", str(processes), "--num_machines", "1",
                   "--mixed_precision", mixed_precision, "--dynamo_backend", "no",
                   "--main_process_port", str(_free_port()), str(EXAMPLE), "--cpu",
                   "--epochs", str(epochs), "--mixed-precision", mixed_precision,
                   "--output", str(report)]
        # One torch thread per process, as in this process.
        _, seconds = timed(subprocess.run, command, check=True, capture_output=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
        return {**json.loads(report.read_text()), "launch_seconds": seconds}


def measure_accelerate(epochs):
    data = load_kdd99(sample=True)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target)
    features = make_kdd99_preprocessor("standard").fit(X_train)
    X_train, X_test = features.transform(X_train), features.transform(X_test)
    settings = {"epochs": epochs, "min_steps": 0, "random_state": 0}
    plain, plain_seconds = timed(ALAD(**settings).fit, X_train)
    with accelerated_training(Accelerator(cpu=True)):
        accelerated, seconds = timed(ALAD(**settings).fit, X_train)
    difference = np.abs(plain.score_samples(X_test) - accelerated.score_samples(X_test)).max()
    records = [
        {"how": "plain fit, this process", "processes": 1, "mixed_precision": "no",
         "fit_seconds": plain_seconds, "test_auroc": anomaly_roc_auc(plain, X_test, y_test)},
        {"how": "accelerated_training(Accelerator(cpu=True)), this process",
         "processes": 1, "mixed_precision": "no", "fit_seconds": seconds,
         "test_auroc": anomaly_roc_auc(accelerated, X_test, y_test),
         "max_score_difference_to_plain": float(difference)},
    ]
    for processes, mixed_precision in ((1, "no"), (2, "no"), (1, "bf16")):
        launched = _launch(processes, epochs, mixed_precision)
        records.append({"how": "accelerate launch examples/accelerate_multi_gpu.py --cpu",
                        **launched})
    for record in records:
        record.setdefault("training_rows", len(X_train))
        record.setdefault("epochs", epochs)
        record["training_rows_per_second"] = (record["training_rows"] * record["epochs"]
                                              / record["fit_seconds"])
        print(f"train   {record['how'][:56]:<56} {record['processes']} proc "
              f"{record['mixed_precision']:<4} {record['fit_seconds']:6.1f} s "
              f"{record['training_rows_per_second']:8,.0f} rows/s  "
              f"AUROC {record['test_auroc']:.4f}", flush=True)
    return records


# Report ------------------------------------------------------------------------

def _markdown(results):
    meta = results["machine"]
    lines = [
        f"# Scaling out: Dask and Accelerate ({results['date']})", "",
        f"Command: `{results['command']}`", "",
        (f"{meta['cpus']} CPU cores, `torch.set_num_threads(1)`; load average "
         f"{meta['load_before'][0]:.1f} before and {meta['load_after'][0]:.1f} after "
         f"(other jobs shared the machine); torch {meta['torch']}, dask {meta['dask']}, "
         f"distributed {meta['distributed']}, accelerate {meta['accelerate']}."), "",
        ("## GridSearchCV of EGBAD (4 candidates x 2 folds + refit, "
         f"{results['search'][0]['rows']:,} KDD99 rows)"), "",
        "| engine | run | seconds | same scores as sequential |", "|---|---|---|---|",
        *(f"| {r['engine']} | {r['run']} | {r['seconds']:.1f} | "
          f"{'-' if 'same_scores' not in r else ('yes' if r['same_scores'] else 'NO')} |"
          for r in results["search"]),
        "", "## Scoring with a fitted ALAD (121 features, float32)", "",
        "| how | threads | rows | data MB | chunk rows | rows/s | extra peak MB |",
        "|---|---|---|---|---|---|---|",
        *(f"| {r['how']} | {r['threads']} | {r['rows']:,} | {r['data_mb']:,.0f} | "
          f"{format(r['chunk_rows'], ',') if r['chunk_rows'] else '-'} | "
          f"{r['rows_per_second']:,.0f} | "
          f"{r['extra_peak_mb']:,.0f} |"
          for r in results["scoring"]),
        "", ("## Training ALAD on the KDD99 sample with Accelerate "
             f"({results['accelerate'][0]['training_rows']:,} rows, "
             f"{results['accelerate'][0]['epochs']} epoch(s), CPU)"), "",
        "| how | processes | precision | steps/epoch/process | fit s | rows/s | test AUROC |",
        "|---|---|---|---|---|---|---|",
        *(f"| {r['how']} | {r['processes']} | {r['mixed_precision']} | "
          f"{r.get('steps_per_epoch_per_process', '-')} | {r['fit_seconds']:.1f} | "
          f"{r['training_rows_per_second']:,.0f} | {r['test_auroc']:.4f} |"
          for r in results["accelerate"]),
        "", "Accelerated fit in this process: largest score difference to the plain fit "
        f"{results['accelerate'][1]['max_score_difference_to_plain']:.1g}. Launched "
        "processes ended with the same networks: "
        + ", ".join(f"{r['processes']} proc {r['mixed_precision']}: "
                    f"{'yes' if r['same_networks_in_every_process'] else 'NO'}"
                    for r in results["accelerate"][2:]) + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--memory-rows", type=int, default=500_000)
    parser.add_argument("--dask-rows", type=int, default=5_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2, help="Dask scheduler threads")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (accelerate)")
    parser.add_argument("--output", default=default_output("scaling"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = {"date": str(date.today()), "command": command_line(),
               "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(),
                           "python": platform.python_version(), "torch": torch.__version__,
                           "dask": dask.__version__, "distributed": distributed.__version__,
                           "accelerate": accelerate.__version__}}
    results["search"] = measure_search()
    results["scoring"] = measure_scoring(args.memory_rows, args.dask_rows, args.chunk_rows,
                                         args.threads)
    results["accelerate"] = measure_accelerate(args.epochs)
    results["machine"]["load_after"] = os.getloadavg()
    output = Path(args.output)
    output.with_suffix(".json").write_text(json.dumps(results, indent=2))
    output.with_suffix(".md").write_text(_markdown(results))
    print(output.with_suffix(".md").read_text())
    return 0
