"""The opcode processor: opcode -> logical unit, with locks and hooks.

For each opcode the processor builds the LU, lets it declare its locks,
acquires them level by level (sorted names, shared or exclusive as
declared) with growing timeouts so that a waiting job can still be
canceled, then runs check_prereq, the pre hooks, exec and the post hooks.
"""

import random

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base as cmdlib_base

_LEVELS = constants.LOCK_LEVELS


def lock_attempt_timeouts(start=1.0, maximum=10.0):
    """Growing lock-acquire timeouts (with jitter); None once exhausted."""
    timeout = start
    while True:
        yield timeout * (1 + random.random() * 0.1)
        timeout = min(maximum, timeout * 1.5)


class Processor:
    """Runs opcodes; one instance per master daemon, thread-safe."""

    def __init__(self, context, lock_manager, lu_class_fn=None):
        self.context = context
        self.locks = lock_manager
        if lu_class_fn is None:
            from ganeti import cmdlib
            lu_class_fn = cmdlib.get_lu_class
        self._lu_class_fn = lu_class_fn

    def execute_opcode(self, op, callbacks):
        """Execute ``op`` for a job; returns the opcode's result."""
        lu_cls = self._lu_class_fn(op.OP_ID)
        feedback = callbacks.feedback
        lu = lu_cls(self.context, op, feedback, job_id=callbacks.job_id)
        lu.check_arguments()
        lu.expand_names()
        try:
            self._acquire_locks(lu, callbacks)
            callbacks.notify_start()
            write_count = self._write_count()
            lu.check_prereq()
            hooks = self._hooks_for(lu)
            if hooks is not None:
                hooks.run_pre()
            if op.dry_run:
                result = lu.dry_run_result
            else:
                try:
                    result = lu.exec_(feedback)
                    if hooks is not None:
                        result = hooks.run_post(result)
                finally:
                    # The config-update hooks follow any opcode that wrote
                    # the configuration, even a failed one (as Ganeti).
                    if (hooks is not None and
                            write_count != self._write_count()):
                        hooks.run_config_update()
        finally:
            self.locks.release_all()
        return self._process_result(result, callbacks)

    def _acquire_locks(self, lu, callbacks):
        for level in _LEVELS:
            lu.declare_locks(level)
            if level == constants.LOCKS_CLUSTER:
                # Every LU holds the big lock, shared unless it asks for
                # the whole cluster (REQ_BGL).
                names = [constants.BGL]
                shared = not lu.REQ_BGL
            else:
                if level not in lu.needed_locks:
                    continue
                names = lu.needed_locks[level]
                shared = bool(lu.share_locks.get(level, 0))
            if names is not None:
                names = sorted(set(names))
            if not self._lock_level(level, names, shared, callbacks):
                continue
            owned = self.locks.list_owned(level)
            lu.owned_locks[level] = owned

    def _lock_level(self, level, names, shared, callbacks):
        if names is not None and not names:
            return False
        for timeout in lock_attempt_timeouts():
            callbacks.check_cancel()
            acquired = self.locks.acquire(
                level, names, shared=shared, timeout=timeout,
                priority=callbacks.current_priority(),
                cancel_check=callbacks.check_cancel)
            if acquired is not None:
                return True
            callbacks.notify_waiting()
        return False  # not reached

    def _hooks_for(self, lu):
        """The LU's hooks (also built for LUs without HPATH: they may
        still need the config-update hooks); None without a runner."""
        if self.context.hooks is None:
            return None
        return self.context.hooks.for_lu(lu)

    def _write_count(self):
        return getattr(self.context.cfg, "write_count", None)

    def _process_result(self, result, callbacks):
        if isinstance(result, cmdlib_base.ResultWithJobs):
            jobs = callbacks.submit_many_jobs(result.jobs)
            outcome = dict(result.other)
            outcome["jobs"] = jobs
            return outcome
        return result

