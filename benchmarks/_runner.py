"""Every run of a suite in a fresh process, and journaled at once for ``--resume``.

Each run of a suite (one detector on one data set and seed) executes in a spawned
process of its own, so it starts from a clean interpreter, has a peak RSS of its own
and can be stopped when it outlives its time budget. A run that raises, dies or is
stopped becomes a record with ``"status": "failed"`` and the reason: the suite reports
the failure instead of losing the run or the whole suite.

Every finished run is also appended to a journal at once (``common.journal_path``), so a
suite stopped half way loses only its unfinished runs: ``--resume`` takes the
successful runs of the journal as they are and runs the rest. Resuming with more seeds
or detectors than a journal holds also joins suites run side by side (one per seed,
say) into one table.
"""

import importlib
import json
import multiprocessing
import multiprocessing.connection
import shlex
import sys
import time
from pathlib import Path

from tqdm import tqdm

# Nothing from common.py here, whose detector table brings torch: a spawned run
# imports this module first, and pays for torch only if its own function needs it.

#: The command of the suite, in a process that runs a script for it (``call_main``).
_suite_command = None


def command_line():
    """The command that started this run, as typed (for a table's "Command")."""
    return _suite_command or shlex.join(["python", *sys.orig_argv[1:]])


def call_main(task):
    """Run ``main(argv)`` of a benchmark script for a suite, in the suite's name.

    ``task`` is ``(module name, argv, the suite's command_line())``. Lets a suite run
    other benchmark scripts, each in its own process (see ``run_tasks``), whose tables
    then name the suite's command rather than the process's own.
    """
    global _suite_command
    module_name, argv, _suite_command = task
    status = importlib.import_module(module_name).main(argv)
    if status:
        raise RuntimeError(f"{module_name} exited with status {status}")
    return {}


def _run_and_send(function, task, connection):
    try:
        result = {"status": "ok", **function(task)}
    except Exception as exc:  # noqa: BLE001 - any error is the run's result: "failed"
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    connection.send(result)
    connection.close()


def add_resume_argument(parser):
    parser.add_argument("--resume", action="store_true",
                        help="keep the successful runs of the output's journal "
                             "(journals/NAME.runs.jsonl for results/NAME, else "
                             "OUTPUT.runs.jsonl: the journal of an earlier, interrupted "
                             "or parallel, run of the same command) and run only the "
                             "others")


def add_report_only_argument(parser):
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: write the report from the journal's finished "
                             "runs (the others show as not run)")


def finished_runs(journal, identify, tasks):
    """One record per task, as ``run_tasks`` returns them: the journal's successful
    record, else ``"status": "not run"`` (``--report-only``)."""
    done = journaled_runs(journal, identify, tasks)
    return [done.get(index, {**identify(task), "status": "not run"})
            for index, task in enumerate(tasks)]


def journaled_runs(journal, identify, tasks):
    """The successful records of ``journal`` for ``tasks``, by task index."""
    if journal is None or not tasks or not Path(journal).exists():
        return {}
    names = list(identify(tasks[0]))  # every task is named by the same keys
    saved = {}
    for line in Path(journal).read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("status") == "ok":
            saved[json.dumps([record.get(name) for name in names])] = record
    keys = [json.dumps([identify(task)[name] for name in names]) for task in tasks]
    return {index: saved[key] for index, key in enumerate(keys) if key in saved}


def run_tasks(function, tasks, *, identify, jobs=2, budget_seconds=None, group=None,
              description="runs", journal=None, resume=False):
    """Run ``function(task)`` for every task, each in a fresh process, ``jobs`` at once.

    Parameters
    ----------
    function : callable
        A module-level function (spawned processes import it) that takes one task and
        returns a JSON-serialisable dict.
    tasks : list
        Picklable tasks, started in this order.
    identify : callable
        ``identify(task)`` gives the keys that name a task's run (e.g. detector and
        seed); every record carries them, a failed one too.
    jobs : int, default=2
        Processes at once.
    budget_seconds : float, default=None
        Wall-clock seconds a run may take; a run still going then is stopped and
        reported as failed. ``None``: no limit.
    group : callable, default=None
        ``group(task)`` gives a key; once one run of a group has failed, the group's
        runs not yet started are reported as failed without running (e.g. the other
        seeds of a detector that ran out of time on a data set).
    description : str, default="runs"
        Label of the progress bar.
    journal : path, default=None
        A JSON-lines file to which every finished record is appended as soon as it
        is known. Without ``resume`` it is emptied first.
    resume : bool, default=False
        Take the tasks whose ``identify`` keys have a successful record in
        ``journal`` from it instead of running them (JSON keeps JSON types: tuples
        come back as lists).

    Returns
    -------
    records : list of dict
        One per task, in the order of ``tasks``: ``function``'s dict with
        ``"status": "ok"``, or ``"status": "failed"`` and ``"error"``.
    """
    context = multiprocessing.get_context("spawn")
    records = [None] * len(tasks)
    failed_groups = {}
    done = journaled_runs(journal, identify, tasks) if resume else {}
    if journal is not None:
        Path(journal).parent.mkdir(parents=True, exist_ok=True)
        if not resume:
            Path(journal).write_text("")
    for index, record in done.items():
        records[index] = record
    waiting = [index for index in range(len(tasks)) if index not in done]
    running = {}  # task index -> (process, receiving end of its pipe, start time)

    def finish(index, result):
        records[index] = {**identify(tasks[index]), **result}
        if journal is not None:
            with open(journal, "a") as lines:
                lines.write(json.dumps(records[index]) + "\n")
        if result["status"] == "failed" and group is not None:
            failed_groups.setdefault(group(tasks[index]), result["error"])
        progress.update()

    with tqdm(total=len(tasks), initial=len(done), desc=description, unit="run",
              file=sys.stderr) as progress:
        try:
            while waiting or running:
                while waiting and len(running) < jobs:
                    index = waiting.pop(0)
                    key = group(tasks[index]) if group is not None else None
                    if key in failed_groups:
                        finish(index, {"status": "failed", "error": "not run, another "
                                       f"run of the same group failed: {failed_groups[key]}"})
                        continue
                    receiver, sender = context.Pipe(duplex=False)
                    process = context.Process(target=_run_and_send,
                                              args=(function, tasks[index], sender))
                    process.start()
                    sender.close()
                    running[index] = (process, receiver, time.monotonic())
                multiprocessing.connection.wait(
                    [receiver for _, receiver, _ in running.values()], timeout=1.0)
                for index, (process, receiver, start) in list(running.items()):
                    if receiver.poll():
                        try:
                            result = receiver.recv()
                        except EOFError:  # the process ended without sending a result
                            process.join()
                            result = {"status": "failed", "error": "process ended with "
                                      f"exit code {process.exitcode}, no result"}
                    elif budget_seconds is not None and \
                            time.monotonic() - start > budget_seconds:
                        process.kill()
                        result = {"status": "failed", "error":
                                  f"time budget of {budget_seconds:g} s exceeded"}
                    else:
                        continue
                    process.join()
                    receiver.close()
                    del running[index]
                    finish(index, result)
        finally:
            for process, _, _ in running.values():  # interrupted: stop what still runs
                process.kill()
                process.join()
    return records
