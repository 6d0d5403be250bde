"""The watcher's per-group state file: restart counters and boot ids.

``watcher.<group-uuid>.data`` in Ganeti's format::

    {"instance": {name: {"restart_count": n, "restart_when": epoch}},
     "node": {name: {"bootid": "<id>"}}}

It is read and written under an exclusive lock, and saved only when the
run succeeded, so a crash never records attempts that were not made.
"""

import fcntl
import logging
import os
import time

from ganeti import serializer
from ganeti.utils import io

MAXTRIES = 5
# restart counters are forgotten after this long without an attempt
RETRY_EXPIRATION = 8 * 3600


class WatcherState:
    def __init__(self, path):
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.data = {"instance": {}, "node": {}}
        try:
            text = os.read(self._fd, 1 << 20).decode("utf-8")
            if text.strip():
                loaded = serializer.load_json(text)
                if isinstance(loaded, dict):
                    self.data["instance"] = dict(loaded.get("instance", {}))
                    self.data["node"] = dict(loaded.get("node", {}))
        except (ValueError, UnicodeDecodeError) as err:
            logging.warning("Ignoring corrupt watcher state %s: %s", path, err)

    def save(self):
        io.write_file(self.path, serializer.dump_json(self.data), mode=0o600)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # Boot ids
    def node_boot_id(self, name):
        return self.data["node"].get(name, {}).get("bootid")

    def set_node_boot_id(self, name, boot_id):
        self.data["node"].setdefault(name, {})["bootid"] = boot_id

    # Restart attempts
    def restart_count(self, name, now=None):
        entry = self.data["instance"].get(name)
        if not entry:
            return 0
        now = time.time() if now is None else now
        if now - entry.get("restart_when", 0) > RETRY_EXPIRATION:
            del self.data["instance"][name]
            return 0
        return entry.get("restart_count", 0)

    def record_restart(self, name, now=None):
        entry = self.data["instance"].setdefault(name, {"restart_count": 0})
        entry["restart_count"] = entry.get("restart_count", 0) + 1
        entry["restart_when"] = time.time() if now is None else now

    def remove_instance(self, name):
        self.data["instance"].pop(name, None)
