"""Locks: shared/exclusive semantics, priorities, timeouts, level order."""

import threading
import time

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import locking


def in_thread(fn, *args):
    result = {}

    def run():
        result["value"] = fn(*args)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_shared_lock_semantics():
    lock = locking.SharedLock("x")
    assert lock.acquire(shared=True)
    def share_and_release():
        ok = lock.acquire(shared=True, timeout=1)
        lock.release()
        return ok
    thread, result = in_thread(share_and_release)
    thread.join()
    assert result["value"] is True          # sharers coexist
    thread, result = in_thread(lock.acquire, False, 0.1)
    thread.join()
    assert result["value"] is False         # exclusive times out
    with pytest.raises(errors.LockError):
        lock.acquire(shared=True)           # no recursion
    lock.release()


def test_exclusive_waiters_by_priority():
    lock = locking.SharedLock("x")
    lock.acquire()
    order = []

    def waiter(prio):
        lock.acquire(priority=prio)
        order.append(prio)
        lock.release()

    threads = []
    for prio in (10, 0, -10):
        thread = threading.Thread(target=waiter, args=(prio,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)
    lock.release()
    for thread in threads:
        thread.join()
    assert order == [-10, 0, 10]


def test_timeout_withdraws_waiter():
    lock = locking.SharedLock("x")
    lock.acquire()
    thread, result = in_thread(lock.acquire, False, 0.05)
    thread.join()
    assert result["value"] is False
    lock.release()
    assert lock.acquire(timeout=0)  # nobody stuck in front
    lock.release()


def test_lockset_all_blocks_names():
    lockset = locking.LockSet("node")
    assert lockset.acquire(["b", "a"]) == ["a", "b"]
    thread, result = in_thread(lockset.acquire, None, False, 0.1)
    thread.join()
    assert result["value"] is None           # all-exclusive must wait
    def take_and_release(names):
        got = lockset.acquire(names, timeout=1)
        lockset.release()
        return got
    thread, result = in_thread(take_and_release, ["c"])
    thread.join()
    assert result["value"] == ["c"]          # other names are free
    lockset.release()
    thread, result = in_thread(take_and_release, None)
    thread.join()
    assert result["value"] == []


def test_manager_enforces_level_order():
    manager = locking.LockManager()
    assert manager.acquire(constants.LOCKS_NODE, ["n1"]) == ["n1"]
    with pytest.raises(errors.LockError):
        manager.acquire(constants.LOCKS_INSTANCE, ["i1"])
    manager.release_all()
    assert manager.acquire(constants.LOCKS_CLUSTER, [constants.BGL],
                           shared=True) == [constants.BGL]
    assert manager.acquire(constants.LOCKS_NODE, ["n1"]) == ["n1"]
    assert manager.list_owned(constants.LOCKS_NODE) == ["n1"]
    manager.release_all()
    assert manager.list_owned(constants.LOCKS_NODE) == []


def test_cancel_check_aborts_acquisition():
    lockset = locking.LockSet("instance")
    lockset.acquire(["a"])

    def cancel():
        raise errors.JobCanceled("Job was canceled")

    def other():
        try:
            lockset.acquire(["b", "c"], cancel_check=cancel)
        except errors.JobCanceled:
            return "canceled"
    thread, result = in_thread(other)
    thread.join()
    assert result["value"] == "canceled"
    lockset.release()
