"""Back-off for nodes that do not answer.

Background pushes (config, ssconf, job files) go to many nodes at once; a
node that is down would make every push wait for its connect timeout. A
node whose call failed is skipped for a while (doubling up to a maximum)
and tried again afterwards; callers treat skipped nodes as stale and
bring them fully up to date once they answer again.
"""

import threading
import time


class NodeBackoff:
    def __init__(self, initial=5.0, maximum=120.0, clock=time.monotonic):
        self._initial = initial
        self._maximum = maximum
        self._clock = clock
        self._lock = threading.Lock()
        self._state = {}  # node -> (delay, retry_at)

    def split(self, nodes):
        """(nodes to call now, nodes skipped because they failed lately)."""
        now = self._clock()
        with self._lock:
            skipped = [n for n in nodes
                       if n in self._state and self._state[n][1] > now]
        skipped_set = set(skipped)
        return [n for n in nodes if n not in skipped_set], skipped

    def record(self, results):
        """Update from ``{node: RpcResult}``; returns the failed nodes."""
        now = self._clock()
        failed = []
        with self._lock:
            for node, result in results.items():
                if result.fail_msg and not result.offline:
                    delay = self._state.get(node, (self._initial / 2, 0))[0]
                    delay = min(self._maximum, delay * 2)
                    self._state[node] = (delay, now + delay)
                    failed.append(node)
                else:
                    self._state.pop(node, None)
        return failed

    def clear(self):
        """Forget every failure: the next push tries all nodes."""
        with self._lock:
            self._state.clear()

    def failing(self):
        with self._lock:
            return sorted(self._state)
