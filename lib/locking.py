"""Shared/exclusive locks, named lock sets and the level-ordered manager.

Deadlock avoidance is structural: the processor acquires levels in the order
of ``constants.LOCK_LEVELS`` and, within a level, names in sorted order; a
level's "all" lock is always taken before its elements. Ownership is per
thread (each job runs in one worker thread).
"""

import heapq
import itertools
import threading
import time

from ganeti import constants
from ganeti import errors

_counter = itertools.count()


class _Waiter:
    __slots__ = ("shared", "priority", "seq", "event", "granted")

    def __init__(self, shared, priority):
        self.shared = shared
        self.priority = priority
        self.seq = next(_counter)
        self.event = threading.Event()
        self.granted = False

    def __lt__(self, other):
        return (self.priority, self.seq) < (other.priority, other.seq)


class SharedLock:
    """A lock held by many sharers or one exclusive owner.

    Waiters are served by priority (lower number first), FIFO within a
    priority; consecutive shared waiters at the head are granted together.
    """

    def __init__(self, name, monitor=None):
        self.name = name
        self._mutex = threading.Lock()
        self._exclusive = None          # owning thread id
        self._shared = set()            # sharing thread ids
        self._waiters = []              # heap of _Waiter
        self._pending = {}              # waiter -> thread id
        self._deleted = False
        if monitor is not None:
            monitor.register(self)

    def _compatible(self, shared):
        if self._exclusive is not None:
            return False
        return shared or not self._shared

    def _grant_waiters(self):
        while self._waiters:
            head = self._waiters[0]
            if head.granted:
                heapq.heappop(self._waiters)
                continue
            if not self._compatible(head.shared):
                break
            heapq.heappop(self._waiters)
            owner = self._pending.pop(head)
            if head.shared:
                self._shared.add(owner)
            else:
                self._exclusive = owner
            head.granted = True
            head.event.set()

    def is_owned(self, shared=None):
        me = threading.get_ident()
        with self._mutex:
            if shared is None:
                return me == self._exclusive or me in self._shared
            if shared:
                return me in self._shared
            return me == self._exclusive

    def acquire(self, shared=False, timeout=None, priority=0):
        """Acquire; returns True, or False on timeout."""
        me = threading.get_ident()
        with self._mutex:
            if self._deleted:
                raise errors.LockError("Deleted lock %s" % self.name)
            if me == self._exclusive or me in self._shared:
                raise errors.LockError("Lock %s already owned" % self.name)
            if not self._waiters and self._compatible(shared):
                if shared:
                    self._shared.add(me)
                else:
                    self._exclusive = me
                return True
            if timeout is not None and timeout <= 0:
                return False
            waiter = _Waiter(shared, priority)
            self._pending[waiter] = me
            heapq.heappush(self._waiters, waiter)
        waiter.event.wait(timeout)
        with self._mutex:
            if waiter.granted:
                return True
            # timed out: withdraw and let others proceed
            self._pending.pop(waiter, None)
            waiter.granted = True  # lazy removal from the heap
            self._grant_waiters()
            if self._deleted:
                raise errors.LockError("Deleted lock %s" % self.name)
            return False

    def release(self):
        me = threading.get_ident()
        with self._mutex:
            if me == self._exclusive:
                self._exclusive = None
            elif me in self._shared:
                self._shared.discard(me)
            else:
                raise errors.LockError("Lock %s not owned" % self.name)
            self._grant_waiters()

    def info(self):
        """(mode, owners, pending) for lock queries."""
        with self._mutex:
            if self._exclusive is not None:
                mode, owners = "exclusive", [self._exclusive]
            elif self._shared:
                mode, owners = "shared", sorted(self._shared)
            else:
                mode, owners = None, []
            pending = [("shared" if w.shared else "exclusive",
                        [self._pending[w]])
                       for w in sorted(self._waiters) if not w.granted]
            return mode, owners, pending


class LockSet:
    """Named locks of one level, created on demand, plus an "all" lock."""

    def __init__(self, level):
        self.level = level
        self._all = SharedLock("%s/[all]" % level)
        self._locks = {}
        self._mutex = threading.Lock()
        self._owned = threading.local()

    def _get(self, name):
        with self._mutex:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = SharedLock(name)
            return lock

    def names(self):
        with self._mutex:
            return sorted(self._locks)

    def _owned_state(self):
        state = getattr(self._owned, "state", None)
        if state is None:
            state = self._owned.state = {"all": None, "names": []}
        return state

    def list_owned(self):
        state = self._owned_state()
        return list(state["names"])

    def owns_all(self):
        return self._owned_state()["all"] is not None

    def acquire(self, names, shared=False, timeout=None, priority=0,
                cancel_check=None):
        """Acquire ``names`` (list) or every lock (``None``).

        Returns the acquired names, or None if the timeout expired (then
        nothing is held). ``cancel_check`` is called between attempts and
        may raise to abort.
        """
        state = self._owned_state()
        if state["names"] or state["all"] is not None:
            raise errors.LockError("Level %s already has owned locks" %
                                   self.level)
        deadline = None if timeout is None else time.monotonic() + timeout
        acquired = []

        def remaining():
            if deadline is None:
                return None
            return max(0.0, deadline - time.monotonic())

        all_mode = names is None
        # Everyone takes the "all" lock: exclusive holders of all block
        # everyone; "all" acquirers and single-name acquirers share it.
        all_shared = shared or not all_mode
        if not self._all.acquire(shared=all_shared, timeout=remaining(),
                                 priority=priority):
            return None
        try:
            if all_mode:
                names = self.names() if shared else []
            for name in sorted(set(names)):
                if cancel_check is not None:
                    cancel_check()
                lock = self._get(name)
                if not lock.acquire(shared=shared, timeout=remaining(),
                                    priority=priority):
                    raise _LockTimeout()
                acquired.append(name)
        except _LockTimeout:
            for name in acquired:
                self._get(name).release()
            self._all.release()
            return None
        except BaseException:
            for name in acquired:
                self._get(name).release()
            self._all.release()
            raise
        state["all"] = all_shared
        state["names"] = acquired
        return acquired

    def release(self, names=None):
        """Release owned names (all of them by default)."""
        state = self._owned_state()
        if state["all"] is None:
            return
        to_release = state["names"] if names is None else \
            [n for n in state["names"] if n in names]
        for name in to_release:
            self._get(name).release()
        state["names"] = [n for n in state["names"] if n not in to_release]
        if names is None or not state["names"]:
            for name in state["names"]:
                self._get(name).release()
            state["names"] = []
            self._all.release()
            state["all"] = None

    def info(self):
        with self._mutex:
            locks = [self._all] + [self._locks[n] for n in sorted(self._locks)]
        return [(lock.name,) + lock.info() for lock in locks]


class _LockTimeout(Exception):
    pass


class LockManager:
    """One LockSet per level; enforces the acquisition order."""

    def __init__(self, levels=constants.LOCK_LEVELS):
        self.levels = tuple(levels)
        self._sets = dict((level, LockSet(level)) for level in self.levels)

    def _check_order(self, level):
        index = self.levels.index(level)
        for later in self.levels[index + 1:]:
            if self._sets[later].list_owned() or self._sets[later].owns_all():
                raise errors.LockError("Cannot acquire level %s while owning"
                                       " locks at level %s" % (level, later))

    def acquire(self, level, names, shared=False, timeout=None, priority=0,
                cancel_check=None):
        self._check_order(level)
        return self._sets[level].acquire(names, shared=shared,
                                         timeout=timeout, priority=priority,
                                         cancel_check=cancel_check)

    def release(self, level, names=None):
        self._sets[level].release(names)

    def release_all(self):
        for level in reversed(self.levels):
            self._sets[level].release()

    def list_owned(self, level):
        return self._sets[level].list_owned()

    def owns_all(self, level):
        return self._sets[level].owns_all()

    def info(self):
        """Rows (name, mode, owners, pending) over every level."""
        rows = []
        for level in self.levels:
            rows.extend(self._sets[level].info())
        return rows
