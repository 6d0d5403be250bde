"""Asynchronous replication of job files to master candidates.

Job file writes must not wait for the network: the queue hands every new
content to ``QueueReplicator``, whose thread sends the newest content of each
file in batches (``jobqueue_update``/``jobqueue_rename`` RPCs). A file
changed five times while a batch was in flight is sent once.
"""

import logging
import threading

from ganeti import constants
from ganeti.rpc.backoff import NodeBackoff


class QueueReplicator:
    """Coalescing sender; ``targets_fn()`` names the nodes to update."""

    def __init__(self, rpc, targets_fn, encode_fn, full_sync_fn=None,
                 backoff=None):
        """``full_sync_fn()`` lists (path, content) of the whole queue; it is
        sent once to every node that newly becomes a target (a node just
        added or promoted to master candidate)."""
        self._rpc = rpc
        self._targets_fn = targets_fn
        self._encode = encode_fn
        self.full_sync_fn = full_sync_fn
        self._synced = set()
        # a dead candidate must not slow replication to the others; it
        # gets a full sync once it answers again
        self._backoff = backoff if backoff is not None else NodeBackoff()
        self._cond = threading.Condition()
        self._pending = {}        # path -> content
        self._renames = []        # [(old, new)]
        self._drain = None        # pending drain flag value
        self._stop = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="jq-replicate",
                                        daemon=True)
        self._thread.start()

    def update_file(self, path, content):
        with self._cond:
            self._pending[path] = content
            self._cond.notify()

    def rename_files(self, renames):
        with self._cond:
            for old, new in renames:
                content = self._pending.pop(old, None)
                if content is not None:
                    self._pending[new] = content
                else:
                    self._renames.append((old, new))
            self._cond.notify()

    def set_drain_flag(self, flag):
        with self._cond:
            self._drain = flag
            self._cond.notify()

    def flush(self, timeout=30.0):
        """Wait until everything queued so far has been sent."""
        with self._cond:
            self._cond.wait_for(lambda: not (self._pending or self._renames or
                                             self._drain is not None or
                                             self._busy), timeout)

    def stop(self):
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._pending or
                                    self._renames or self._drain is not None)
                if self._stop:
                    return
                pending, self._pending = self._pending, {}
                renames, self._renames = self._renames, []
                drain, self._drain = self._drain, None
                self._busy = True
            try:
                self._send(pending, renames, drain)
            except Exception:  # never let the thread die
                logging.exception("Job queue replication failed")
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _send(self, pending, renames, drain):
        nodes, skipped = self._backoff.split(self._targets_fn())
        self._synced &= set(nodes)
        if self.full_sync_fn is not None:
            self._full_sync([n for n in nodes if n not in self._synced])
        nodes = [n for n in nodes if n in self._synced or
                 self.full_sync_fn is None]
        if skipped:
            logging.debug("Job queue replication skips %s for now",
                          ", ".join(skipped))
        if not nodes:
            return
        if renames:
            self._report("rename", self._call(
                "jobqueue_rename", nodes, [[list(r) for r in renames]]))
        for path, content in sorted(pending.items()):
            self._report(path, self._call(
                "jobqueue_update", nodes, [path, self._encode(content)]))
            nodes = [n for n in nodes if n in self._synced or
                     self.full_sync_fn is None]
        if drain is not None and nodes:
            self._report("drain flag", self._call(
                "jobqueue_set_drain_flag", nodes, [drain]))

    def _call(self, procedure, nodes, args):
        """Call and book failures: a failed node leaves the synced set."""
        results = self._rpc.call(procedure, nodes, args,
                                 timeout=constants.RPC_TMO_URGENT)
        for node in self._backoff.record(results):
            self._synced.discard(node)
        return results

    def _full_sync(self, new_nodes):
        """Bring nodes that just became targets up to date."""
        if not new_nodes:
            return
        failed = set()
        for path, content in self.full_sync_fn():
            targets = [n for n in new_nodes if n not in failed]
            if not targets:
                break
            results = self._rpc.call("jobqueue_update", targets,
                                     [path, self._encode(content)],
                                     timeout=constants.RPC_TMO_URGENT)
            failed.update(self._backoff.record(results))
        self._synced.update(set(new_nodes) - failed)
        if failed:
            logging.warning("Full job queue sync to %s failed",
                            ", ".join(sorted(failed)))

    @staticmethod
    def _report(what, results):
        for node, result in results.items():
            if result.fail_msg and not result.offline:
                logging.warning("Job queue replication of %s to %s failed:"
                                " %s", what, node, result.fail_msg)
