"""ganeti-watcher: run from cron on every node, repairs what broke.

Every node: make sure the node daemon runs, run the watcher hooks. The
master also makes sure masterd and the RAPI daemon run, archives old jobs,
restarts instances that should run but do not (at most five times per
instance, forgotten after 8 h), re-activates disks of instances whose
secondary node rebooted, and writes the instance status files. A pause set
with ``gnt-cluster watcher pause`` makes it do nothing.
"""

import errno
import fcntl
import logging
import optparse
import os
import sys
import time

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti.utils import io
from ganeti.utils import text as text_utils

DEFAULT_JOB_AGE = 6 * 3600
REASON_SOURCE = "gnt:watcher"
# pause files this far in the past are stale and removed
PAUSE_STALE_AFTER = 3600


def parse_options(argv):
    parser = optparse.OptionParser(
        description="Repairs what broke on a Ganeti cluster; run from cron.",
        usage="%prog [-d] [-A AGE] [--ignore-pause]",
        version="%%prog (ganeti) %s" % constants.RELEASE_VERSION)
    parser.add_option("-d", "--debug", dest="debug", action="store_true",
                      default=False, help="Log debug messages")
    parser.add_option("-A", "--job-age", dest="job_age", default="6h",
                      help="Autoarchive jobs older than this age (default"
                      " 6h)")
    parser.add_option("--ignore-pause", dest="ignore_pause",
                      action="store_true", default=False,
                      help="Ignore the cluster watcher pause setting")
    parser.add_option("--wait-children", dest="wait_children",
                      action="store_true", default=False)
    parser.add_option("--no-wait-children", dest="wait_children",
                      action="store_false")
    parser.add_option("-g", "--node-group", dest="nodegroup", default=None,
                      help="Only check this node group")
    parser.add_option("--rapi-ip", dest="rapi_ip", default="127.0.0.1",
                      help="Address of the RAPI daemon to probe")
    parser.add_option("--no-verify-disks", dest="no_verify_disks",
                      action="store_true", default=False)
    options, args = parser.parse_args(argv)
    if args:
        parser.error("No arguments expected")
    try:
        options.job_age = text_utils.parse_timespec(options.job_age)
    except errors.OpPrereqError as err:
        parser.error(str(err))
    return options


def _setup_logging(debug):
    handler = None
    try:
        os.makedirs(os.path.dirname(pathutils.LOG_WATCHER), exist_ok=True)
        handler = logging.FileHandler(pathutils.LOG_WATCHER)
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s: ganeti-watcher pid=%(process)d %(levelname)s"
        " %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)


def paused_until(now=None):
    """The pause end if the watcher is paused now, else None.

    A pause that ended more than an hour ago, or a file that does not hold
    a number, is removed.
    """
    now = time.time() if now is None else now
    try:
        text = io.read_file(pathutils.WATCHER_PAUSEFILE).strip()
    except FileNotFoundError:
        return None
    try:
        until = float(text)
    except ValueError:
        logging.warning("Removing unparsable watcher pause file")
        io.remove_file(pathutils.WATCHER_PAUSEFILE)
        return None
    if until > now:
        return until
    if now - until > PAUSE_STALE_AFTER:
        io.remove_file(pathutils.WATCHER_PAUSEFILE)
    return None


def _lock():
    """The watcher lock; None if another watcher holds it."""
    os.makedirs(os.path.dirname(pathutils.WATCHER_LOCK_FILE), exist_ok=True)
    fd = os.open(pathutils.WATCHER_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def _daemon_util(*args):
    from ganeti.backend.common import daemon_util_path
    from ganeti.utils import process
    return process.run_cmd([daemon_util_path()] + list(args), timeout=120)


def ensure_daemon(name):
    """Start daemon ``name`` if it is not running; True if it runs."""
    if not _daemon_util("check", name).failed:
        return True
    logging.warning("Daemon %s is not running, starting it", name)
    result = _daemon_util("start", name)
    if result.failed:
        logging.error("Can't start %s: %s", name, result.output.strip())
        return False
    return True


def run_watcher_hooks():
    """Run the executables of hooks/watcher/ (run-parts rules)."""
    from ganeti.backend import hooks as backend_hooks
    from ganeti.rpc import defs
    hooks_dir = os.path.join(pathutils.HOOKS_BASE_DIR, "watcher")
    for script, status, output in backend_hooks.run_parts_dir(hooks_dir, {}):
        if status == defs.HKR_FAIL:
            logging.warning("Watcher hook %s failed: %s", script, output)


class MasterWatcher:
    """The master's repairs, through LUXI like any client."""

    def __init__(self, client, options):
        self.cl = client
        self.options = options

    def _reason(self, text):
        return [[REASON_SOURCE, text, time.time_ns()]]

    def _submit_and_wait(self, ops, timeout=300):
        job_id = self.cl.submit_job(ops)
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.cl.query_jobs([job_id], ["status"])[0][0]
            if status in constants.JOBS_FINALIZED:
                return job_id, status
            time.sleep(0.2)
        return job_id, None

    def archive_jobs(self):
        archived, left = self.cl.auto_archive_jobs(self.options.job_age, 30)
        logging.info("Archived %s jobs, left %s", archived, left)

    def groups(self):
        result = self.cl.query(constants.QR_GROUP, ["uuid", "name"], None)
        groups = [(row[0][1], row[1][1]) for row in result["data"]]
        if self.options.nodegroup:
            groups = [g for g in groups
                      if self.options.nodegroup in (g[0], g[1])]
        return groups

    def check_group(self, group_uuid):
        from ganeti.watcher.state import WatcherState, MAXTRIES
        inst_fields = ["name", "status", "admin_state", "disks_active",
                       "snodes", "pnode.group.uuid"]
        node_fields = ["name", "bootid", "offline", "group.uuid"]
        instances = [[cell[1] for cell in row] for row in self.cl.query(
            constants.QR_INSTANCE, inst_fields, None)["data"]]
        instances = [i for i in instances if i[5] == group_uuid]
        nodes = [[cell[1] for cell in row] for row in self.cl.query(
            constants.QR_NODE, node_fields, None)["data"]]
        nodes = [n for n in nodes if n[3] == group_uuid]
        state = WatcherState(os.path.join(
            pathutils.DATA_DIR, "watcher.%s.data" % group_uuid))
        try:
            started = self._restart_instances(state, instances, MAXTRIES)
            self._activate_after_reboot(state, instances, nodes, started)
            self._write_status(group_uuid, instances)
            state.save()
        finally:
            state.close()

    def _restart_instances(self, state, instances, maxtries):
        started = set()
        for name, status, _, _, _, _ in instances:
            if status != "ERROR_down":
                if status == "running":
                    state.remove_instance(name)
                continue
            tries = state.restart_count(name)
            if tries >= maxtries:
                if tries == maxtries:
                    logging.error("Could not restart instance %s for %d"
                                  " times, giving up", name, maxtries)
                    state.record_restart(name)
                continue
            logging.info("Restarting instance %s (attempt #%d)", name,
                         tries + 1)
            state.record_restart(name)
            op = {"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": name,
                  "force": False,
                  "reason": self._reason("restarting instance %s" % name)}
            job_id, status = self._submit_and_wait([op])
            if status == constants.JOB_STATUS_SUCCESS:
                started.add(name)
            else:
                logging.warning("Restart of %s failed (job %s: %s)", name,
                                job_id, status)
        return started

    def _activate_after_reboot(self, state, instances, nodes, started):
        rebooted = []
        for name, bootid, offline, _ in nodes:
            if offline or not bootid:
                continue
            old = state.node_boot_id(name)
            if old is not None and old != bootid:
                rebooted.append(name)
            state.set_node_boot_id(name, bootid)
        if not rebooted:
            return
        logging.info("Rebooted nodes: %s", ", ".join(rebooted))
        for name, _, admin_state, disks_active, snodes, _ in instances:
            if name in started or not disks_active:
                continue
            if not set(snodes or []) & set(rebooted):
                continue
            op = {"OP_ID": "OP_INSTANCE_ACTIVATE_DISKS",
                  "instance_name": name,
                  "reason": self._reason("activating disks of %s" % name)}
            self._submit_and_wait([op])

    @staticmethod
    def _write_status(group_uuid, instances):
        lines = "".join("%s %s\n" % (i[0], i[1]) for i in instances)
        io.write_file(os.path.join(pathutils.DATA_DIR, "watcher.%s."
                                   "instance-status" % group_uuid), lines)

    def merge_status(self, groups):
        lines = []
        for uuid, _ in groups:
            path = os.path.join(pathutils.DATA_DIR,
                                "watcher.%s.instance-status" % uuid)
            try:
                lines.append(io.read_file(path))
            except FileNotFoundError:
                continue
        os.makedirs(pathutils.RUN_DIR, exist_ok=True)
        io.write_file(os.path.join(pathutils.RUN_DIR, "instance-status"),
                      "".join(lines))


def _is_master():
    from ganeti import ssconf
    try:
        return ssconf.SimpleStore().get_master_node() == \
            pathutils.get_hostname()
    except errors.ConfigurationError:
        return None


def run(options):
    """One watcher pass; returns the exit code."""
    until = paused_until()
    if until is not None and not options.ignore_pause:
        logging.info("Watcher is paused until %s, exiting",
                     time.ctime(until))
        return constants.EXIT_SUCCESS
    master = _is_master()
    if master is None:
        logging.info("Not part of a cluster, nothing to do")
        return constants.EXIT_SUCCESS
    ensure_daemon(constants.NODED)
    run_watcher_hooks()
    if not master:
        return constants.EXIT_SUCCESS
    if not ensure_daemon(constants.MASTERD):
        return constants.EXIT_FAILURE
    if _rapi_installed():
        ensure_daemon(constants.RAPI)
    from ganeti import luxi
    if not luxi.wait_for_socket(pathutils.MASTER_SOCKET, 30):
        logging.error("The master daemon does not answer")
        return constants.EXIT_FAILURE
    watcher = MasterWatcher(luxi.Client(), options)
    watcher.archive_jobs()
    groups = watcher.groups()
    for uuid, name in groups:
        logging.debug("Checking node group %s", name)
        watcher.check_group(uuid)
    watcher.merge_status(groups)
    return constants.EXIT_SUCCESS


def _rapi_installed():
    import shutil
    return shutil.which("ganeti-rapi") is not None


def main(argv=None):
    options = parse_options(sys.argv[1:] if argv is None else argv)
    _setup_logging(options.debug)
    fd = _lock()
    if fd is None:
        logging.info("Another watcher is running, exiting")
        return constants.EXIT_SUCCESS
    try:
        return run(options)
    except errors.GenericError as err:
        logging.error("Watcher failed: %s", err)
        return constants.EXIT_FAILURE
    except Exception:  # cron must get an exit status, and the log a trace
        logging.exception("Watcher failed")
        return constants.EXIT_FAILURE
    finally:
        os.close(fd)
