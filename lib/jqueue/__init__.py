"""The durable job queue of the master daemon.

Jobs are kept in memory while live and written to ``queue/job-N`` on every
status change (fsync + rename). Worker threads take runnable jobs by
priority; ``WaitForJobChange`` is answered from memory through a condition
per job, never by polling files. Locking: ``_lock`` guards the job table,
the serial and the run queue; each job has its own condition guarding its
state, so slow jobs never block submissions or queries.
"""

import heapq
import logging
import os
import threading
import time

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti import serializer
from ganeti.jqueue.job import QueuedJob, compute_job_status, JOB_FIELDS
from ganeti.jqueue.logflush import LogFlusher
from ganeti.jqueue.store import QueueStore
from ganeti.utils import text as text_utils

__all__ = ["JobQueue", "QueuedJob", "compute_job_status", "JOB_FIELDS"]

_UNCLEAN_SHUTDOWN = "Unclean master daemon shutdown"


class _JobCallbacks:
    """What the processor may do to the job while an opcode runs."""

    def __init__(self, queue, job, op_index):
        self._queue = queue
        self._job = job
        self._op_index = op_index

    def notify_start(self):
        """Locks acquired: the opcode is now running."""
        self._queue._set_op_running(self._job, self._op_index)

    def notify_waiting(self):
        self._queue._set_op_waiting(self._job, self._op_index)

    def feedback(self, *args):
        if len(args) == 1:
            log_type, message = constants.ELOG_MESSAGE, args[0]
        else:
            log_type, message = args[0], args[1]
        self._queue._append_log(self._job, self._op_index, log_type, message)

    def check_cancel(self):
        if self._job.cancel_requested:
            raise errors.JobCanceled("Job was canceled")

    def current_priority(self):
        return self._job.ops[self._op_index].priority

    def submit_many_jobs(self, jobs):
        return self._queue.submit_many_jobs(
            [[op.to_dict() if hasattr(op, "to_dict") else op for op in ops]
             for ops in jobs])

    @property
    def job_id(self):
        return self._job.id


class JobQueue:
    """Submission, scheduling, execution, waiting, cancel and archive."""

    def __init__(self, store, processor_fn, replicator=None,
                 max_running_fn=None, workers=None):
        """``processor_fn(op, callbacks)`` executes one opcode and returns
        its result (raising on failure)."""
        self._store = store if store is not None else QueueStore()
        self._processor_fn = processor_fn
        self._replicator = replicator
        self._max_running_fn = max_running_fn or \
            (lambda: constants.DEFAULT_MAX_RUNNING_JOBS)
        self._lock = threading.Lock()
        self._jobs = {}                # id -> QueuedJob (not archived)
        self._serial = 0
        self._runq = []                # heap of (priority, seq, job id)
        self._runq_cond = threading.Condition(self._lock)
        self._seq = 0
        self._dep_waiters = {}         # job id -> set(job ids waiting on it)
        self._running = 0
        self._stopping = False
        self._workers = []
        self._nworkers = workers or max(self._max_running_fn(), 1)
        self._log_flusher = LogFlusher(self._write)
        if replicator is not None and replicator.full_sync_fn is None:
            replicator.full_sync_fn = self._queue_files

    def _queue_files(self):
        """(path, content) of the serial and every live job file."""
        files = [(self._store.serial_file,
                  "%d\n" % self._store.read_serial())]
        with self._lock:
            ids = sorted(self._jobs)
        for job_id in ids:
            path = self._store.job_path(job_id)
            try:
                with open(path) as handle:
                    files.append((path, handle.read()))
            except FileNotFoundError:  # archived meanwhile
                continue
        return files

    # Life cycle
    def open(self):
        """Take the queue lock, load jobs and recover from a crash."""
        self._store.open()
        self._serial = self._store.read_serial()
        for job_id in self._store.list_job_ids():
            try:
                data = self._store.read_job(job_id)
                job = QueuedJob.from_dict(data)
            except Exception as err:  # corrupt file: keep going
                logging.error("Can't load job %s: %s", job_id, err)
                continue
            job.cond = threading.Condition()
            self._jobs[job.id] = job
            self._serial = max(self._serial, job.id)
            self._recover_job(job)

    def _recover_job(self, job):
        status = job.calc_status()
        if status in (constants.JOB_STATUS_RUNNING,
                      constants.JOB_STATUS_CANCELING):
            job.mark_unfinished_ops(constants.OP_STATUS_ERROR,
                                    _UNCLEAN_SHUTDOWN)
            self._write(job)
            logging.info("Job %s was running at shutdown, marked as error",
                         job.id)
        elif status in (constants.JOB_STATUS_QUEUED,
                        constants.JOB_STATUS_WAITING):
            for op in job.ops:
                if op.status == constants.OP_STATUS_WAITING:
                    op.status = constants.OP_STATUS_QUEUED
            if status == constants.JOB_STATUS_WAITING:
                self._write(job)
            self._enqueue(job)

    def start(self):
        self._log_flusher.start()
        for index in range(self._nworkers):
            thread = threading.Thread(target=self._worker_loop,
                                      name="jq-worker-%d" % index,
                                      daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout=10.0):
        with self._lock:
            self._stopping = True
            self._runq_cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._workers:
            thread.join(max(0, deadline - time.monotonic()))
        self._log_flusher.stop()
        self._store.close()

    # Persistence
    def _write(self, job):
        job.log_dirty = False
        path, content = self._store.write_job(job.id, job.to_json())
        if self._replicator is not None:
            self._replicator.update_file(path, content)

    def _update(self, job):
        """Persist the job and wake its waiters; call with job.cond held."""
        self._write(job)
        job.cond.notify_all()

    # Submission
    def _check_submit(self, count, drained_ok=False):
        if not drained_ok and self._store.is_drained():
            raise errors.JobQueueDrainError("Job queue is drained, refusing"
                                            " job")
        if len(self._jobs) + count > constants.JOB_QUEUE_SIZE_HARD_LIMIT:
            raise errors.JobQueueFull()

    @staticmethod
    def _load_ops(op_dicts):
        if not isinstance(op_dicts, list) or not op_dicts:
            raise errors.OpPrereqError("A job needs a non-empty list of"
                                       " opcodes", errors.ECODE_INVAL)
        ops = [opcodes.load_opcode(data) for data in op_dicts]
        for op in ops:
            if op.priority not in constants.OP_PRIO_SUBMIT_VALID:
                raise errors.OpPrereqError(
                    "Priority %s is not a valid submit priority (%s)" %
                    (op.priority, ", ".join(str(p) for p in sorted(
                        constants.OP_PRIO_SUBMIT_VALID))), errors.ECODE_INVAL)
        return ops

    def submit_job(self, op_dicts, drained_ok=False):
        """Validate, persist and queue one job; returns its id."""
        ops = self._load_ops(op_dicts)
        with self._lock:
            self._check_submit(1, drained_ok)
            job_id = self._allocate_ids(1)[0]
        job = self._create_job(job_id, ops)
        return job.id

    def submit_many_jobs(self, jobs):
        """Submit several jobs; negative dependency ids are relative."""
        results = []
        loaded = []
        for op_dicts in jobs:
            try:
                loaded.append((self._load_ops(op_dicts), None))
            except errors.GenericError as err:
                loaded.append((None, err))
        valid = sum(1 for ops, _ in loaded if ops is not None)
        with self._lock:
            self._check_submit(valid)
            ids = self._allocate_ids(valid) if valid else []
        ids_iter = iter(ids)
        assigned = []
        for ops, err in loaded:
            if ops is None:
                results.append([False, str(err)])
                assigned.append(None)
                continue
            job_id = next(ids_iter)
            try:
                self._resolve_relative_deps(ops, job_id, assigned)
            except errors.GenericError as dep_err:
                results.append([False, str(dep_err)])
                assigned.append(None)
                continue
            self._create_job(job_id, ops)
            assigned.append(job_id)
            results.append([True, job_id])
        return results

    @staticmethod
    def _resolve_relative_deps(ops, job_id, previous):
        for op in ops:
            if not op.depends:
                continue
            resolved = []
            for dep in op.depends:
                dep_id, statuses = dep[0], dep[1]
                dep_id = int(dep_id)
                if dep_id < 0:
                    index = len(previous) + dep_id
                    if index < 0 or previous[index] is None:
                        raise errors.OpPrereqError(
                            "Job %s: relative dependency %s cannot be"
                            " resolved" % (job_id, dep_id),
                            errors.ECODE_INVAL)
                    dep_id = previous[index]
                resolved.append([dep_id, statuses])
            op.depends = resolved

    def _allocate_ids(self, count):
        first = self._serial + 1
        self._serial += count
        self._store.write_serial(self._serial)
        if self._replicator is not None:
            self._replicator.update_file(self._store.serial_file,
                                         "%d\n" % self._serial)
        return list(range(first, first + count))

    def _create_job(self, job_id, ops):
        job = QueuedJob(job_id, ops)
        job.cond = threading.Condition()
        with job.cond:
            self._write(job)
        with self._lock:
            self._jobs[job.id] = job
            self._enqueue_locked(job)
        return job

    # Scheduling
    def _enqueue(self, job):
        with self._lock:
            self._enqueue_locked(job)

    def _enqueue_locked(self, job):
        self._seq += 1
        heapq.heappush(self._runq, (job.calc_priority(), self._seq, job.id))
        self._runq_cond.notify()

    def _next_job(self):
        with self._lock:
            while True:
                if self._stopping:
                    return None
                while self._runq and self._running < self._max_running_fn():
                    _, _, job_id = heapq.heappop(self._runq)
                    job = self._jobs.get(job_id)
                    if job is None or job.is_finalized():
                        continue
                    if getattr(job, "active", False):
                        # woken while its worker is still returning (e.g.
                        # from "wait"): that worker queues it again
                        job.rerun = True
                        continue
                    job.active = True
                    self._running += 1
                    return job
                self._runq_cond.wait()

    def _worker_loop(self):
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                self._run_job(job)
            except Exception:  # a bug must not kill the worker
                logging.exception("Unhandled error while running job %s",
                                  job.id)
            finally:
                with self._lock:
                    job.active = False
                    self._running -= 1
                    if getattr(job, "rerun", False):
                        job.rerun = False
                        if not job.is_finalized():
                            self._enqueue_locked(job)
                    self._runq_cond.notify()
            if job.is_finalized():
                self._job_finalized(job)

    def _run_job(self, job):
        while True:
            with job.cond:
                index = job.current_op_index()
                if index is None:
                    return
                if job.cancel_requested:
                    job.mark_unfinished_ops(constants.OP_STATUS_CANCELED,
                                            "Job canceled by request")
                    self._update(job)
                    return
                qop = job.ops[index]
                blocked = self._check_dependencies(job, qop)
                if blocked == "wait":
                    if qop.status != constants.OP_STATUS_WAITING:
                        qop.status = constants.OP_STATUS_WAITING
                        self._update(job)
                    return
                if blocked is not None:  # dependency failed
                    self._fail_ops(job, index, blocked)
                    self._update(job)
                    return
                now = text_utils.timestamp_now()
                qop.status = constants.OP_STATUS_WAITING
                qop.start_timestamp = now
                if job.start_timestamp is None:
                    job.start_timestamp = now
                # Not written yet: a crash now would requeue the job
                # anyway; the file is written once locks are held (running)
                # or when acquiring them has to wait (notify_waiting).
                job.cond.notify_all()
            callbacks = _JobCallbacks(self, job, index)
            try:
                result = self._processor_fn(qop.input, callbacks)
            except errors.JobCanceled:
                with job.cond:
                    job.mark_unfinished_ops(constants.OP_STATUS_CANCELED,
                                            "Job canceled by request")
                    self._update(job)
                return
            except Exception as err:
                if not isinstance(err, errors.GenericError):
                    logging.exception("Opcode %s of job %s raised",
                                      qop.input.OP_ID, job.id)
                with job.cond:
                    self._fail_ops(job, index, errors.encode_exception(err))
                    self._update(job)
                return
            with job.cond:
                qop.status = constants.OP_STATUS_SUCCESS
                qop.result = result
                qop.end_timestamp = text_utils.timestamp_now()
                if job.current_op_index() is None:
                    job.end_timestamp = qop.end_timestamp
                self._update(job)

    @staticmethod
    def _fail_ops(job, index, encoded_error):
        now = text_utils.timestamp_now()
        op = job.ops[index]
        op.status = constants.OP_STATUS_ERROR
        op.result = encoded_error
        op.end_timestamp = now
        following = errors.encode_exception(
            errors.OpExecError("Preceding opcode failed"))
        for later in job.ops[index + 1:]:
            if later.status not in constants.OPS_FINALIZED:
                later.status = constants.OP_STATUS_ERROR
                later.result = following
                later.end_timestamp = now
        job.end_timestamp = now

    def _check_dependencies(self, job, qop):
        """None to run, "wait" to wait, or an encoded error if one failed."""
        for dep_id, statuses in (qop.input.depends or []):
            dep_id = int(dep_id)
            with self._lock:
                dep = self._jobs.get(dep_id)
            if dep is None:
                data = self._store.read_job(dep_id, archived=True)
                if data is None:
                    return errors.encode_exception(errors.OpExecError(
                        "Dependency job %s not found" % dep_id))
                status = QueuedJob.from_dict(data).calc_status()
            else:
                status = dep.calc_status()
                if status not in constants.JOBS_FINALIZED:
                    with self._lock:
                        self._dep_waiters.setdefault(dep_id, set()).add(job.id)
                        job.blocked_on = dep_id
                    # it may have finished in between
                    if dep.calc_status() not in constants.JOBS_FINALIZED:
                        return "wait"
                    status = dep.calc_status()
            if statuses and status not in statuses:
                return errors.encode_exception(errors.OpExecError(
                    "Dependency job %s failed, status '%s'" % (dep_id,
                                                               status)))
        job.blocked_on = None
        return None

    def _job_finalized(self, job):
        with self._lock:
            waiters = self._dep_waiters.pop(job.id, set())
            for waiter_id in waiters:
                waiter = self._jobs.get(waiter_id)
                if waiter is not None and not waiter.is_finalized():
                    self._enqueue_locked(waiter)

    # Callbacks from the processor
    def _set_op_running(self, job, index):
        with job.cond:
            qop = job.ops[index]
            qop.status = constants.OP_STATUS_RUNNING
            qop.exec_timestamp = text_utils.timestamp_now()
            self._update(job)

    def _set_op_waiting(self, job, index):
        """Lock acquisition has to wait: make the state visible on disk."""
        with job.cond:
            qop = job.ops[index]
            qop.status = constants.OP_STATUS_WAITING
            if not getattr(job, "waiting_written", False):
                job.waiting_written = True
                self._update(job)

    def _append_log(self, job, index, log_type, message):
        with job.cond:
            job.add_log(index, log_type, message)
            job.cond.notify_all()
            self._log_flusher.schedule(job)

    # Queries
    def get_job(self, job_id):
        """The live job, or a read-only copy of an archived one, or None."""
        try:
            job_id = int(job_id)
        except (TypeError, ValueError):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        data = self._store.read_job(job_id, archived=True)
        if data is None:
            return None
        job = QueuedJob.from_dict(data, archived=True)
        job.cond = threading.Condition()
        return job

    def query_jobs(self, job_ids, fields):
        if job_ids is None or job_ids == []:
            with self._lock:
                job_ids = sorted(self._jobs)
        result = []
        for job_id in job_ids:
            job = self.get_job(job_id)
            if job is None:
                result.append(None)
                continue
            with job.cond:
                result.append(job.get_info(fields))
        return result

    def get_jobs_data(self, job_ids=None, include_archived=False):
        """Every field of the named jobs (all by default) for the query
        engine; unknown ids are skipped."""
        if not job_ids:
            with self._lock:
                ids = set(self._jobs)
            if include_archived:
                ids.update(self._store.list_archived_job_ids())
            job_ids = sorted(ids)
        rows = []
        for job_id in job_ids:
            job = self.get_job(job_id)
            if job is None:
                continue
            with job.cond:
                rows.append(job.to_query_dict())
        return rows

    def wait_for_job_change(self, job_id, fields, prev_job_info,
                            prev_log_serial, timeout):
        job = self.get_job(job_id)
        if job is None:
            return None
        prev_serial = prev_log_serial or 0
        prev_text = serializer.dump_json(prev_job_info)
        deadline = time.monotonic() + max(0, min(float(timeout),
                                                 constants.LUXI_WFJC_TIMEOUT))
        with job.cond:
            while True:
                info = job.get_info(fields)
                log = job.log_entries_after(prev_serial)
                if (log or serializer.dump_json(info) != prev_text or
                        job.is_finalized()):
                    return [info, log]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return constants.JOB_NOTCHANGED
                job.cond.wait(remaining)

    # Job control
    def cancel_job(self, job_id):
        job = self.get_job(job_id)
        if job is None or job.archived:
            return [False, "Job %s not found" % job_id]
        with job.cond:
            status = job.calc_status()
            if status == constants.JOB_STATUS_QUEUED:
                job.cancel_requested = True
                job.mark_unfinished_ops(constants.OP_STATUS_CANCELED,
                                        "Job canceled by request")
                self._update(job)
                finalized = True
                message = [True, "Job %s canceled" % job.id]
            elif status == constants.JOB_STATUS_WAITING:
                job.cancel_requested = True
                if job.blocked_on is not None and \
                        not getattr(job, "active", False):
                    job.mark_unfinished_ops(constants.OP_STATUS_CANCELED,
                                            "Job canceled by request")
                    finalized = True
                else:
                    for op in job.ops:
                        if op.status not in constants.OPS_FINALIZED:
                            op.status = constants.OP_STATUS_CANCELING
                    finalized = False
                self._update(job)
                message = [True, "Job %s will be canceled" % job.id]
            else:
                return [False, "Job %s is no longer waiting in the queue" %
                        job.id]
        if finalized:
            self._job_finalized(job)
        return message

    def change_job_priority(self, job_id, priority):
        if priority not in constants.OP_PRIO_SUBMIT_VALID:
            raise errors.OpPrereqError(
                "Invalid priority %s, must be one of %s" %
                (priority, sorted(constants.OP_PRIO_SUBMIT_VALID)),
                errors.ECODE_INVAL)
        job = self.get_job(job_id)
        if job is None or job.archived:
            return [False, "Job %s not found" % job_id]
        with job.cond:
            if job.is_finalized():
                return [False, "Job %s is finished" % job.id]
            changed = False
            for op in job.ops:
                if op.status in (constants.OP_STATUS_QUEUED,
                                 constants.OP_STATUS_WAITING):
                    op.priority = priority
                    changed = True
            if not changed:
                return [False, "Job %s had no pending opcodes" % job.id]
            self._update(job)
        self._enqueue(job)
        return [True, "Priorities of pending opcodes for job %s have been"
                " changed to %s" % (job.id, priority)]

    def archive_job(self, job_id):
        job = self.get_job(job_id)
        if job is None or job.archived:
            return False
        with job.cond:
            if not job.is_finalized():
                return False
            self._archive(job)
        return True

    def _archive(self, job):
        old, new = self._store.archive_job(job.id)
        job.archived = True
        with self._lock:
            self._jobs.pop(job.id, None)
        if self._replicator is not None:
            self._replicator.rename_files([(old, new)])

    def auto_archive_jobs(self, age, timeout):
        """Archive finalized jobs older than ``age`` seconds (-1: all)."""
        deadline = time.monotonic() + max(0, timeout)
        now = time.time()
        with self._lock:
            candidates = sorted(self._jobs)
        archived = 0
        checked = 0
        for job_id in candidates:
            if time.monotonic() > deadline:
                break
            checked += 1
            job = self.get_job(job_id)
            if job is None:
                continue
            with job.cond:
                if not job.is_finalized():
                    continue
                stamp = job.end_timestamp or job.start_timestamp or \
                    job.received_timestamp
                if age != -1 and stamp is not None and \
                        now - text_utils.merge_time(stamp) < age:
                    continue
                self._archive(job)
                archived += 1
        return [archived, len(candidates) - checked]

    # Flags
    def set_drain_flag(self, flag):
        self._store.set_drained(bool(flag))
        if self._replicator is not None:
            self._replicator.set_drain_flag(bool(flag))
        return True

    def is_drained(self):
        return self._store.is_drained()

    def job_count(self):
        with self._lock:
            return len(self._jobs)

    @property
    def queue_dir(self):
        return self._store.queue_dir

    def flush_replication(self):
        if self._replicator is not None:
            self._replicator.flush()


def job_file_exists(queue_dir, job_id):
    return os.path.exists(os.path.join(queue_dir, "job-%d" % job_id))
