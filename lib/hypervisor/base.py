"""The interface every hypervisor driver implements, and its helpers.

A driver is a class derived from ``BaseHypervisor``, one module per
technology, registered by name in ``ganeti.hypervisor``. Drivers are
cheap to build: noded makes one per call (``get_hypervisor(name)``), and
every path is read from ``pathutils`` at construction time so tests can
relocate the tree with ``GANETI_ROOTDIR``.

Objects a driver receives (built by the backend from the RPC dicts):

* ``instance``: an ``objects.Instance`` whose ``hvparams`` and
  ``beparams`` are complete (filled by the master; the backend adds the
  defaults of ``constants.HVC_DEFAULTS`` for any key still missing) and
  whose ``nics`` carry filled ``nicparams`` (``mode``, ``link``);
* ``block_devices``: ``[(disk, link_name, uri), ...]``: the
  ``objects.Disk``, the path the guest's disk is reached at on this node
  (a symlink under ``/var/run/ganeti/instance-disks``) and an optional
  userspace URI (None for files and block devices).

Failures are ``errors.HypervisorError`` with Ganeti's messages; the
backend turns them into RPC failures.
"""

import os
import re
import time

from ganeti import constants
from ganeti import errors


class HvInstanceState:
    """What ``get_instance_info`` reports as state (Ganeti's numbers)."""

    RUNNING = 0
    SHUTDOWN = 1

    @staticmethod
    def is_running(state):
        return state == HvInstanceState.RUNNING

    @staticmethod
    def is_shutdown(state):
        return state == HvInstanceState.SHUTDOWN


# Migration statuses (``get_migration_status``); QEMU's names.
MIGRATION_ACTIVE = "active"
MIGRATION_COMPLETED = "completed"
MIGRATION_FAILED = "failed"
MIGRATION_CANCELLED = "cancelled"
MIGRATION_VALID_STATUSES = frozenset([
    "setup", MIGRATION_ACTIVE, MIGRATION_COMPLETED, MIGRATION_FAILED,
    MIGRATION_CANCELLED, "cancelling", "pre-switchover", "device",
    "postcopy-active", "postcopy-paused", "postcopy-recover",
    "wait-unplug"])
MIGRATION_FAILED_STATUSES = frozenset([MIGRATION_FAILED,
                                       MIGRATION_CANCELLED])

# Console kinds (``get_instance_console`` -> {"kind": ...})
CONS_SSH = "ssh"
CONS_VNC = "vnc"
CONS_SPICE = "spice"
CONS_MESSAGE = "msg"
CONS_ALL = frozenset([CONS_SSH, CONS_VNC, CONS_SPICE, CONS_MESSAGE])
SSH_CONSOLE_USER = "root"
SOCAT_PATH = "/usr/bin/socat"
# Ctrl-] ends a socat console session, as in Ganeti.
SOCAT_ESCAPE_CODE = "0x1d"


def console(instance_name, kind, **kwargs):
    """A console description: the dict form of Ganeti's InstanceConsole.

    ``kind`` is one of CONS_*; ``ssh`` carries host/port/user/command,
    ``vnc`` host/port/display, ``spice`` host/port, ``msg`` message.
    """
    if kind not in CONS_ALL:
        raise errors.ProgrammerError("Unknown console kind %r" % kind)
    result = {"instance": instance_name, "kind": kind}
    for key in ("message", "host", "port", "user", "command", "display"):
        value = kwargs.pop(key, None)
        if value is not None:
            result[key] = value
    if kwargs:
        raise errors.ProgrammerError("Unknown console keys %s" %
                                     sorted(kwargs))
    return result


# --- parameter checks -------------------------------------------------------
#
# Each PARAMETERS entry is (required, syntax_check, syntax_msg, node_check,
# node_msg): the syntax check runs on the master (cheap, no access to the
# world), the node check on the node that will run the instance. A check
# function returns True when the value is acceptable.

def is_norm_abs_path(path):
    """Whether ``path`` is absolute and already normalised."""
    return (isinstance(path, str) and os.path.isabs(path) and
            os.path.normpath(path) == path and not path.startswith("//"))


def is_url(value):
    return isinstance(value, str) and bool(
        re.match(r"^(https?|ftp)://", value))


_CPU_RANGE_RE = re.compile(r"^\d+(-\d+)?$")


def parse_cpu_mask(mask):
    """``"0-2,4"`` -> [0, 1, 2, 4]; ``"all"`` -> [-1] (no pinning).

    Raises errors.ParseError for a malformed mask.
    """
    if not isinstance(mask, str) or not mask.strip():
        return []
    mask = mask.strip()
    if mask == "all":
        return [-1]
    cpus = []
    for part in mask.split(","):
        part = part.strip()
        if not _CPU_RANGE_RE.match(part):
            raise errors.ParseError("Invalid CPU ID value '%s'" % part)
        if "-" in part:
            low, high = [int(x) for x in part.split("-")]
            if low > high:
                raise errors.ParseError("Invalid CPU ID range '%s'" % part)
            cpus.extend(range(low, high + 1))
        else:
            cpus.append(int(part))
    return cpus


def parse_multi_cpu_mask(mask):
    """``"0-1:all:3"`` -> one list per vCPU (see parse_cpu_mask)."""
    return [parse_cpu_mask(part) for part in mask.split(":")]


def _cpu_mask_ok(mask):
    try:
        cpus = parse_cpu_mask(mask)
    except errors.ParseError:
        return False
    return bool(cpus)


def _multi_cpu_mask_ok(mask):
    try:
        return all(parse_multi_cpu_mask(mask))
    except errors.ParseError:
        return False


_FILE_CHECK = (is_norm_abs_path, "must be an absolute normalized path",
               os.path.isfile, "not found or not a file")
_FILE_OR_URL_CHECK = (lambda x: is_norm_abs_path(x) or is_url(x),
                      "must be an absolute normalized path or a URL",
                      lambda x: os.path.isfile(x) or is_url(x),
                      "not found or not a file or URL")
_DIR_CHECK = (is_norm_abs_path, "must be an absolute normalized path",
              os.path.isdir, "not found or not a directory")
_CPU_MASK_CHECK = (_cpu_mask_ok, "CPU mask definition is not well-formed",
                   None, None)
_MULTI_CPU_MASK_CHECK = (_multi_cpu_mask_ok,
                         "Multiple CPU mask definition is not well-formed",
                         None, None)
_NET_PORT_CHECK = (lambda x: isinstance(x, int) and 0 < x < 65535,
                   "invalid port number", None, None)
_NONNEGATIVE_INT_CHECK = (lambda x: isinstance(x, int) and x >= 0,
                          "cannot be negative", None, None)
_VIRTIO_NET_QUEUES_CHECK = (lambda x: isinstance(x, int) and 0 < x < 9,
                            "invalid number of queues", None, None)

REQ_FILE_CHECK = (True,) + _FILE_CHECK
OPT_FILE_CHECK = (False,) + _FILE_CHECK
REQ_FILE_OR_URL_CHECK = (True,) + _FILE_OR_URL_CHECK
OPT_FILE_OR_URL_CHECK = (False,) + _FILE_OR_URL_CHECK
REQ_DIR_CHECK = (True,) + _DIR_CHECK
OPT_DIR_CHECK = (False,) + _DIR_CHECK
REQ_NET_PORT_CHECK = (True,) + _NET_PORT_CHECK
OPT_NET_PORT_CHECK = (False,) + _NET_PORT_CHECK
REQ_CPU_MASK_CHECK = (True,) + _CPU_MASK_CHECK
OPT_CPU_MASK_CHECK = (False,) + _CPU_MASK_CHECK
REQ_MULTI_CPU_MASK_CHECK = (True,) + _MULTI_CPU_MASK_CHECK
OPT_MULTI_CPU_MASK_CHECK = (False,) + _MULTI_CPU_MASK_CHECK
REQ_NONNEGATIVE_INT_CHECK = (True,) + _NONNEGATIVE_INT_CHECK
OPT_NONNEGATIVE_INT_CHECK = (False,) + _NONNEGATIVE_INT_CHECK
OPT_VIRTIO_NET_QUEUES_CHECK = (False,) + _VIRTIO_NET_QUEUES_CHECK
NO_CHECK = (False, None, None, None, None)
REQUIRED_CHECK = (True, None, None, None, None)

MIGRATION_MODES = ("live", "non-live")
MIGRATION_MODE_CHECK = (True, lambda x: x in MIGRATION_MODES,
                        "invalid migration mode", None, None)


def param_in_set(required, values):
    """A check accepting only the members of ``values``."""
    values = tuple(values)
    return (required, lambda x: x in values,
            "The value must be one of: %s" % ", ".join(values), None, None)


def param_types(hv_name):
    """``{parameter: "bool"|"int"|"string"}`` of a hypervisor, derived
    from the types of its defaults in ``constants.HVC_DEFAULTS``.

    The master uses it to convert ``-H key=value`` strings.
    """
    result = {}
    for name, value in constants.HVC_DEFAULTS.get(hv_name, {}).items():
        if isinstance(value, bool):
            result[name] = "bool"
        elif isinstance(value, int):
            result[name] = "int"
        else:
            result[name] = "string"
    return result


def _unspecified(value):
    return value is None or value == ""


# --- host facts -------------------------------------------------------------

def linux_node_info(meminfo="/proc/meminfo", cpuinfo="/proc/cpuinfo"):
    """Memory (MiB) and CPU facts of a Linux host, as Ganeti reports them.

    ``memory_free`` counts MemFree + Buffers + Cached (what instances can
    get), ``memory_dom0`` is what the host itself uses: total minus free.
    """
    try:
        with open(meminfo) as fh:
            lines = fh.read().splitlines()
    except OSError as err:
        raise errors.HypervisorError("Failed to list node info: %s" % err)
    result = {"memory_total": 0}
    free = 0
    try:
        for line in lines:
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key = key.strip()
            kib = value.split()
            if not kib:
                continue
            if key == "MemTotal":
                result["memory_total"] = int(kib[0]) // 1024
            elif key in ("MemFree", "Buffers", "Cached"):
                free += int(kib[0]) // 1024
    except ValueError as err:
        raise errors.HypervisorError("Failed to compute memory usage: %s" %
                                     err)
    result["memory_free"] = free
    result["memory_dom0"] = max(result["memory_total"] - free, 0)
    try:
        with open(cpuinfo) as fh:
            text = fh.read()
    except OSError as err:
        raise errors.HypervisorError("Failed to list node info: %s" % err)
    total = len(re.findall(r"(?m)^processor\s*:\s*[0-9]+\s*$", text))
    sockets = len(set(re.findall(r"(?m)^physical id\s*:\s*(\d+)", text)))
    try:
        numa = len([n for n in os.listdir("/sys/devices/system/node")
                    if re.match(r"^node\d+$", n)])
    except OSError:
        numa = 0
    result["cpu_total"] = total
    result["cpu_dom0"] = total
    result["cpu_nodes"] = max(numa, 1)
    result["cpu_sockets"] = max(sockets, 1)
    return result


def process_alive(pid):
    """True if ``pid`` runs and is not a zombie."""
    if not pid or pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as fh:
            data = fh.read()
    except OSError:
        return False
    # state is the field after the parenthesised command name
    return data[data.rfind(")") + 2:][:1] not in ("Z", "X", "")


def kill_process(pid, timeout=30.0, sig_first=15):
    """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL and wait.

    Returns True once the process is gone.
    """
    if not process_alive(pid):
        return True
    try:
        os.kill(pid, sig_first)
    except ProcessLookupError:
        return True
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        return True
    deadline = time.time() + 10
    while time.time() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return not process_alive(pid)


# --- the interface ----------------------------------------------------------

class BaseHypervisor:
    """What the backend needs from a virtualisation technology.

    Class attributes:

    * ``NAME``: the hypervisor's name (``constants.HT_*``)
    * ``PARAMETERS``: ``{name: (required, syntax_fn, syntax_msg, node_fn,
      node_msg)}``; its keys are exactly those of
      ``constants.HVC_DEFAULTS[NAME]`` (a unit test checks this)
    * ``CAN_MIGRATE``: whether live or non-live migration works
    """

    NAME = None
    PARAMETERS = {}
    CAN_MIGRATE = False

    # -- lifecycle --

    def start_instance(self, instance, block_devices, startup_paused):
        """Start ``instance``; raise HypervisorError on failure.

        Returns once the instance runs (or is paused when
        ``startup_paused``).
        """
        raise NotImplementedError

    def stop_instance(self, instance, force=False, timeout=None):
        """Ask the instance to stop (soft: ACPI or the guest's own
        shutdown) or, with ``force``, destroy it.

        A soft stop returns without waiting; the backend polls
        ``get_instance_info`` and forces the stop after its timeout. A
        forced stop returns once the instance is gone. ``timeout`` bounds
        any single wait inside the driver.
        """
        raise NotImplementedError

    def cleanup_instance(self, instance_name):
        """Remove what a stopped instance left behind (runtime files)."""

    def reboot_instance(self, instance, timeout=None):
        """Reboot a running instance from the host side."""
        raise NotImplementedError

    # -- inventory --

    def list_instances(self, hvparams=None):
        """Names of the instances running on this node."""
        raise NotImplementedError

    def get_instance_info(self, instance_name, hvparams=None):
        """``(name, id, memory, vcpus, state, times)`` or None when the
        instance does not run here; ``state`` is an HvInstanceState."""
        raise NotImplementedError

    def get_all_instances_info(self, hvparams=None):
        """``[(name, id, memory, vcpus, state, times), ...]``."""
        result = []
        for name in self.list_instances(hvparams=hvparams):
            try:
                info = self.get_instance_info(name, hvparams=hvparams)
            except errors.HypervisorError:
                continue  # stopped while we looked
            if info is not None:
                result.append(info)
        return result

    def get_node_info(self, hvparams=None):
        """Memory (MiB) and CPU facts: memory_total, memory_free,
        memory_dom0, cpu_total, cpu_dom0, cpu_nodes, cpu_sockets (plus
        anything driver-specific)."""
        return linux_node_info()

    def verify(self, hvparams=None):
        """None if the hypervisor is usable on this node, else a
        description of the problems (``"; "``-joined)."""
        return None

    # -- console --

    @classmethod
    def get_instance_console(cls, instance, primary_node, node_group,
                             hvparams, beparams):
        """How to reach the console: a dict made by ``console()``.

        ``primary_node`` and ``node_group`` are objects.Node/NodeGroup
        (only their name and ndparams are read).
        """
        raise NotImplementedError

    # -- migration --

    def migration_info(self, instance):
        """Opaque data the target needs to accept ``instance`` (a str)."""
        return ""

    def accept_instance(self, instance, info, target):
        """Prepare this node (the target, reachable at address
        ``target``) to receive a migrating instance."""

    def finalize_migration_dst(self, instance, info, success):
        """Finish (``success``) or undo an accepted migration here."""

    def migrate_instance(self, cluster_name, instance, target, live):
        """Start migrating ``instance`` to the node at address
        ``target``; progress is read with ``get_migration_status``."""
        raise errors.HypervisorError("Migration is not supported by the"
                                     " %s hypervisor" % self.NAME)

    def get_migration_status(self, instance):
        """``{"status": one of MIGRATION_VALID_STATUSES,
        "transferred_ram": MiB or None, "total_ram": MiB or None}``."""
        raise NotImplementedError

    def finalize_migration_src(self, instance, success, live):
        """On the source: drop the instance after a successful
        migration, or resume it after a failed live one."""

    @staticmethod
    def versions_safe_for_migration(src, target):
        return src == target

    # -- parameters --

    @classmethod
    def check_parameter_syntax(cls, hvparams):
        """Master-side check of a complete hvparams dict.

        Raises HypervisorError naming the first bad parameter.
        """
        for key in hvparams:
            if key not in cls.PARAMETERS:
                raise errors.HypervisorError("Parameter '%s' is not"
                                             " supported" % key)
        for name, (required, check_fn, errstr, _, _) in \
                sorted(cls.PARAMETERS.items()):
            if name not in hvparams:
                raise errors.HypervisorError("Parameter '%s' is missing" %
                                             name)
            value = hvparams[name]
            if _unspecified(value):
                if required:
                    raise errors.HypervisorError(
                        "Parameter '%s' is required but is currently not"
                        " defined" % name)
                continue
            if check_fn is not None and not check_fn(value):
                raise errors.HypervisorError(
                    "Parameter '%s' fails syntax check: %s (current value:"
                    " '%s')" % (name, errstr, value))

    @classmethod
    def validate_parameters(cls, hvparams):
        """Node-side check (files exist, ...) of a complete hvparams dict.
        """
        for name, (required, _, _, check_fn, errstr) in \
                sorted(cls.PARAMETERS.items()):
            value = hvparams.get(name)
            if not required and _unspecified(value):
                continue
            if check_fn is not None and not check_fn(value):
                raise errors.HypervisorError(
                    "Parameter '%s' fails validation: %s (current value:"
                    " '%s')" % (name, errstr, value))

    # -- helpers for drivers --

    def startup_memory(self, instance):
        """Memory to start with: maxmem, lowered to the node's free memory
        but never below minmem (Ganeti's rule)."""
        beparams = instance.beparams
        maxmem = beparams.get(constants.BE_MAXMEM,
                              beparams.get(constants.BE_MEMORY, 128))
        minmem = beparams.get(constants.BE_MINMEM, maxmem)
        try:
            free = self.get_node_info(instance.hvparams)["memory_free"]
        except (errors.HypervisorError, KeyError):
            return maxmem
        return max(minmem, min(maxmem, free))

    @staticmethod
    def format_verify_results(msgs):
        return "; ".join(msgs) if msgs else None
