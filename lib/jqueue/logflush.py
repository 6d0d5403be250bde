"""Deferred writing of job log messages.

An opcode may send hundreds of feedback messages; rewriting (and
replicating) the whole job file for each one made a 50-opcode job spend
more time on its own file than on its work. Messages reach waiters from
memory at once; the file follows within ``delay`` seconds, or earlier
with the next status change (every status change writes the job). A crash
loses at most the last ``delay`` seconds of log lines of a job that is
then marked as failed anyway.
"""

import logging
import threading
import time

DEFAULT_DELAY = 0.25


class LogFlusher:
    """Writes jobs whose log changed, at most ``delay`` seconds later."""

    def __init__(self, write_fn, delay=DEFAULT_DELAY):
        """``write_fn(job)`` persists a job; it is called with ``job.cond``
        held, as the queue's own writes are."""
        self._write_fn = write_fn
        self._delay = delay
        self._cond = threading.Condition()
        self._due = {}          # job -> monotonic deadline
        self._thread = None
        self._stopping = False

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="jq-log-flusher")
        self._thread.start()

    def schedule(self, job):
        """``job``'s log changed; call with ``job.cond`` held. Without a
        running flusher the job is written at once."""
        if self._thread is None:
            self._write_fn(job)
            return
        job.log_dirty = True
        with self._cond:
            if job not in self._due:
                self._due[job] = time.monotonic() + self._delay
                self._cond.notify()

    def stop(self):
        """Write everything pending and end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(10)
        self._flush(list(self._take(None)))

    def _take(self, now):
        """Pop the jobs due at ``now`` (all when ``now`` is None)."""
        with self._cond:
            due = [job for job, when in self._due.items()
                   if now is None or when <= now]
            for job in due:
                del self._due[job]
        return due

    def _flush(self, jobs):
        for job in jobs:
            with job.cond:
                if getattr(job, "log_dirty", False):
                    try:
                        self._write_fn(job)
                    except Exception:  # pylint: disable=broad-except
                        logging.exception("Writing the log of job %s failed",
                                          job.id)

    def _loop(self):
        while True:
            with self._cond:
                while not self._stopping:
                    if self._due:
                        wait = min(self._due.values()) - time.monotonic()
                        if wait <= 0:
                            break
                    else:
                        wait = None
                    self._cond.wait(wait)
                if self._stopping:
                    return
            self._flush(self._take(time.monotonic()))
