"""Watcher state file and pause handling (real files in a temp dir)."""

import json
import os
import time

from ganeti import pathutils
from ganeti import watcher
from ganeti.watcher.state import WatcherState, RETRY_EXPIRATION


def test_state_round_trip_and_format(tmp_path):
    path = str(tmp_path / "watcher.g1.data")
    state = WatcherState(path)
    state.record_restart("inst1", now=1000)
    state.record_restart("inst1", now=1001)
    state.set_node_boot_id("node1", "abc")
    state.save()
    state.close()
    with open(path) as handle:
        data = json.load(handle)
    assert data == {"instance": {"inst1": {"restart_count": 2,
                                           "restart_when": 1001}},
                    "node": {"node1": {"bootid": "abc"}}}
    state = WatcherState(path)
    assert state.restart_count("inst1", now=1002) == 2
    assert state.node_boot_id("node1") == "abc"
    # counters expire after 8 hours without attempts
    assert state.restart_count("inst1", now=1001 + RETRY_EXPIRATION + 1) == 0
    state.close()


def test_corrupt_state_is_ignored(tmp_path):
    path = tmp_path / "watcher.g2.data"
    path.write_text("{not json")
    state = WatcherState(str(path))
    assert state.restart_count("x") == 0
    state.close()


def test_pause_file_rules(tmp_path, monkeypatch):
    pause = tmp_path / "watcher.pause"
    monkeypatch.setattr(pathutils, "WATCHER_PAUSEFILE", str(pause))
    now = time.time()
    assert watcher.paused_until(now) is None
    pause.write_text("%d\n" % (now + 600))
    assert watcher.paused_until(now) == int(now + 600)
    pause.write_text("%d\n" % (now - 60))          # ended recently: kept
    assert watcher.paused_until(now) is None and pause.exists()
    pause.write_text("%d\n" % (now - 7200))        # long gone: removed
    assert watcher.paused_until(now) is None and not pause.exists()
    pause.write_text("garbage")
    assert watcher.paused_until(now) is None and not pause.exists()


def test_options():
    options = watcher.parse_options(["-A", "1h", "--ignore-pause"])
    assert options.job_age == 3600 and options.ignore_pause
    assert watcher.parse_options([]).job_age == 6 * 3600
    assert os.path.basename(pathutils.LOG_WATCHER) == "watcher.log"
