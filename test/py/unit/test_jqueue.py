"""Job queue: status rules, persistence, recovery, cancel, dependencies."""

import json
import os
import threading
import time

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti.jqueue import JobQueue, compute_job_status
from ganeti.jqueue.store import QueueStore

S = constants


@pytest.mark.parametrize("ops,expected", [
    ([S.OP_STATUS_QUEUED, S.OP_STATUS_QUEUED], S.JOB_STATUS_QUEUED),
    ([S.OP_STATUS_SUCCESS, S.OP_STATUS_QUEUED], S.JOB_STATUS_QUEUED),
    ([S.OP_STATUS_SUCCESS, S.OP_STATUS_WAITING], S.JOB_STATUS_WAITING),
    ([S.OP_STATUS_SUCCESS, S.OP_STATUS_RUNNING], S.JOB_STATUS_RUNNING),
    ([S.OP_STATUS_SUCCESS, S.OP_STATUS_SUCCESS], S.JOB_STATUS_SUCCESS),
    ([S.OP_STATUS_ERROR, S.OP_STATUS_ERROR], S.JOB_STATUS_ERROR),
    ([S.OP_STATUS_SUCCESS, S.OP_STATUS_ERROR], S.JOB_STATUS_ERROR),
    ([S.OP_STATUS_CANCELING, S.OP_STATUS_RUNNING], S.JOB_STATUS_CANCELING),
    ([S.OP_STATUS_CANCELED, S.OP_STATUS_CANCELED], S.JOB_STATUS_CANCELED),
    ([S.OP_STATUS_WAITING, S.OP_STATUS_ERROR], S.JOB_STATUS_ERROR),
    ([S.OP_STATUS_RUNNING, S.OP_STATUS_QUEUED], S.JOB_STATUS_RUNNING),
])
def test_job_status_rule(ops, expected):
    assert compute_job_status(ops) == expected


def delay(duration=0.001, **kw):
    return opcodes.OpTestDelay(duration=duration, **kw).to_dict()


class Runner:
    """A processor function with controllable behaviour per duration."""

    def __init__(self):
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def __call__(self, op, callbacks):
        callbacks.notify_start()
        self.started.set()
        if op.duration == 7:
            raise errors.OpPrereqError("boom", errors.ECODE_INVAL)
        if op.duration == 9:
            while not self.gate.wait(0.01):
                callbacks.check_cancel()
        callbacks.feedback("did %s" % op.duration)
        return op.duration


def make_queue(tmp_path, runner=None, workers=4, start=True):
    store = QueueStore(str(tmp_path / "queue"))
    queue = JobQueue(store, runner or Runner(), workers=workers)
    queue.open()
    if start:
        queue.start()
    return queue


def wait_final(queue, job_id, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = queue.query_jobs([job_id], ["status"])[0][0]
        if status in S.JOBS_FINALIZED:
            return status
        time.sleep(0.01)
    raise AssertionError("job %s did not finish" % job_id)


def test_submit_runs_and_persists(tmp_path):
    queue = make_queue(tmp_path)
    job_id = queue.submit_job([delay(0.5), delay(0.25)])
    assert job_id == 1
    assert wait_final(queue, job_id) == S.JOB_STATUS_SUCCESS
    queue.stop()
    with open(tmp_path / "queue" / "serial") as fh:
        assert fh.read() == "1\n"
    with open(tmp_path / "queue" / "job-1") as fh:
        data = json.load(fh)
    assert data["id"] == 1
    assert [op["status"] for op in data["ops"]] == ["success", "success"]
    assert [op["result"] for op in data["ops"]] == [0.5, 0.25]
    log = data["ops"][1]["log"][0]
    assert log[0] == 2 and log[2] == "message" and log[3] == "did 0.25"
    assert len(log[1]) == 2
    for key in ("received_timestamp", "start_timestamp", "end_timestamp"):
        assert len(data[key]) == 2
    mode = os.stat(tmp_path / "queue" / "job-1").st_mode & 0o777
    assert mode == 0o640


def test_failed_opcode_fails_the_rest(tmp_path):
    queue = make_queue(tmp_path)
    job_id = queue.submit_job([delay(7), delay(1)])
    assert wait_final(queue, job_id) == S.JOB_STATUS_ERROR
    status, result = queue.query_jobs([job_id], ["opstatus", "opresult"])[0]
    assert status == ["error", "error"]
    assert result[0] == ["OpPrereqError", ["boom", "wrong_input"]]
    assert result[1] == ["OpExecError", ["Preceding opcode failed"]]
    queue.stop()


def test_invalid_opcode_rejected(tmp_path):
    queue = make_queue(tmp_path)
    with pytest.raises(errors.OpPrereqError):
        queue.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": 1,
                           "bogus": 2}])
    with pytest.raises(errors.OpPrereqError):
        queue.submit_job([{"OP_ID": "OP_NO_SUCH"}])
    with pytest.raises(errors.OpPrereqError):
        queue.submit_job([delay(1, priority=3)])
    with pytest.raises(errors.OpPrereqError):
        queue.submit_job([])
    assert queue.job_count() == 0
    queue.stop()


def test_cancel_queued_and_waiting(tmp_path):
    runner = Runner()
    runner.gate.clear()
    queue = make_queue(tmp_path, runner, workers=1)
    blocker = queue.submit_job([delay(9)])
    assert runner.started.wait(5)
    queued = queue.submit_job([delay(1)])
    assert queue.cancel_job(queued) == [True, "Job %d canceled" % queued]
    assert queue.query_jobs([queued], ["status"])[0] == ["canceled"]
    assert queue.cancel_job(blocker)[0] is False  # running
    assert queue.cancel_job(999) == [False, "Job 999 not found"]
    runner.gate.set()
    assert wait_final(queue, blocker) == S.JOB_STATUS_SUCCESS
    queue.stop()


def test_dependencies_and_relative_ids(tmp_path):
    runner = Runner()
    runner.gate.clear()
    queue = make_queue(tmp_path, runner, workers=4)
    results = queue.submit_many_jobs([
        [delay(9)],
        [delay(2, depends=[[-1, ["success"]]])],
        [delay(3, depends=[[-2, ["error"]]])],
    ])
    ids = [r[1] for r in results]
    assert all(r[0] for r in results)
    time.sleep(0.2)
    assert queue.query_jobs([ids[1]], ["status"])[0] == ["waiting"]
    runner.gate.set()
    assert wait_final(queue, ids[1]) == S.JOB_STATUS_SUCCESS
    assert wait_final(queue, ids[2]) == S.JOB_STATUS_ERROR
    depends = queue.query_jobs([ids[1]], ["ops"])[0][0][0]["depends"]
    assert depends == [[ids[0], ["success"]]]
    queue.stop()


def test_wait_for_job_change(tmp_path):
    runner = Runner()
    runner.gate.clear()
    queue = make_queue(tmp_path, runner, workers=1)
    job_id = queue.submit_job([delay(9)])
    assert runner.started.wait(5)
    info = queue.wait_for_job_change(job_id, ["status"], None, 0, 5)
    assert info[0] == ["running"]
    assert queue.wait_for_job_change(job_id, ["status"], ["running"], 0,
                                     0.2) == S.JOB_NOTCHANGED
    runner.gate.set()
    result = queue.wait_for_job_change(job_id, ["status"], ["running"], 0, 5)
    assert result[1][0][3] == "did 9"
    assert queue.wait_for_job_change(12345, ["status"], None, 0, 1) is None
    queue.stop()


def test_recovery_after_crash(tmp_path):
    runner = Runner()
    runner.gate.clear()
    queue = make_queue(tmp_path, runner, workers=1)
    running = queue.submit_job([delay(9), delay(1)])
    assert runner.started.wait(5)
    queued = queue.submit_job([delay(1)])
    done_before = queue.query_jobs([running], ["status"])[0][0]
    assert done_before == "running"
    # Simulate a crash: a new queue over the same directory (the old one's
    # workers are abandoned, its lock file released).
    queue._store.close()
    runner2 = Runner()
    queue2 = make_queue(tmp_path, runner2, workers=2)
    status, results = queue2.query_jobs([running], ["opstatus",
                                                    "opresult"])[0]
    assert status == ["error", "error"]
    assert results == ["Unclean master daemon shutdown"] * 2
    assert wait_final(queue2, queued) == S.JOB_STATUS_SUCCESS
    assert queue2.submit_job([delay(1)]) == queued + 1
    queue2.stop()
    runner.gate.set()


def test_drain_archive_priority(tmp_path):
    queue = make_queue(tmp_path)
    queue.set_drain_flag(True)
    with pytest.raises(errors.JobQueueDrainError):
        queue.submit_job([delay(1)])
    assert queue.submit_job([delay(1)], drained_ok=True) == 1
    queue.set_drain_flag(False)
    assert wait_final(queue, 1) == S.JOB_STATUS_SUCCESS
    assert queue.archive_job(1) is True
    assert os.path.exists(tmp_path / "queue" / "archive" / "0" / "job-1")
    assert queue.query_jobs([1], ["id", "archived"])[0] == [1, True]
    assert queue.archive_job(1) is False
    for _ in range(3):
        wait_final(queue, queue.submit_job([delay(1)]))
    assert queue.auto_archive_jobs(-1, 10) == [3, 0]
    assert queue.change_job_priority(77, 10)[0] is False
    with pytest.raises(errors.OpPrereqError):
        queue.change_job_priority(2, 5)
    queue.stop()


def test_many_parallel_submissions(tmp_path):
    queue = make_queue(tmp_path, workers=8)
    ids = []
    lock = threading.Lock()

    def submit():
        for _ in range(10):
            job_id = queue.submit_job([delay(1)])
            with lock:
                ids.append(job_id)

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 101))
    for job_id in ids:
        assert wait_final(queue, job_id) == S.JOB_STATUS_SUCCESS
    queue.stop()


def test_log_messages_reach_waiters_at_once_and_the_file_soon(tmp_path):
    """Feedback is not rewritten to disk per message (LogFlusher), but a
    running opcode's messages are in the job file within the delay."""

    class Chatty(Runner):
        def __call__(self, op, callbacks):
            callbacks.notify_start()
            for index in range(200):
                callbacks.feedback("step %d" % index)
            self.started.set()
            while not self.gate.wait(0.01):
                pass
            return 1

    runner = Chatty()
    runner.gate.clear()
    queue = make_queue(tmp_path, runner, workers=1)
    writes = []
    original = queue._store.write_job
    queue._store.write_job = lambda *args: (writes.append(1),
                                            original(*args))[1]
    job_id = queue.submit_job([delay(9)])
    assert runner.started.wait(5)
    info = queue.wait_for_job_change(job_id, ["status"], None, 0, 5)
    assert info[1][-1][3] == "step 199"
    assert len(writes) < 20, "%d job file writes for 200 messages" % \
        len(writes)
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(tmp_path / "queue" / ("job-%d" % job_id)) as fh:
            log = json.load(fh)["ops"][0]["log"]
        if len(log) == 200:
            break
        time.sleep(0.05)
    assert [entry[3] for entry in log][-1] == "step 199"
    runner.gate.set()
    assert wait_final(queue, job_id) == S.JOB_STATUS_SUCCESS
    queue.stop()


def test_job_file_text_is_the_json_of_the_job(tmp_path):
    """to_json (input text encoded once) == dump_json(to_dict())."""
    from ganeti import serializer
    queue = make_queue(tmp_path)
    job_id = queue.submit_job([delay(0.25), delay(7), delay(0.5)])
    assert wait_final(queue, job_id) == S.JOB_STATUS_ERROR
    job = queue.get_job(job_id)
    job.ops[0].log.append([99, [1, 2], "message", u"caf\u00e9 \"quoted\""])
    for _ in range(2):   # second time from the cached input text
        assert job.to_json() == serializer.dump_json(job.to_dict())
    queue.stop()


def test_dependency_finishing_while_the_waiter_returns(tmp_path):
    """Lost wake-up: the dependency ends after the dependent job decided to
    wait but before its worker let go of it; the job must still run."""

    class SlowToLetGo(JobQueue):
        def _check_dependencies(self, job, qop):
            result = JobQueue._check_dependencies(self, job, qop)
            if result == "wait":
                time.sleep(0.3)    # widen the window before job.active clears
            return result

    runner = Runner()
    runner.gate.clear()
    store = QueueStore(str(tmp_path / "queue"))
    queue = SlowToLetGo(store, runner, workers=4)
    queue.open()
    queue.start()
    results = queue.submit_many_jobs([[delay(9)],
                                      [delay(2, depends=[[-1, []]])]])
    first, second = [r[1] for r in results]
    time.sleep(0.1)        # the second job is inside the slow "wait"
    runner.gate.set()      # the first ends and wakes it while still active
    assert wait_final(queue, first) == S.JOB_STATUS_SUCCESS
    assert wait_final(queue, second, timeout=5) == S.JOB_STATUS_SUCCESS
    queue.stop()
