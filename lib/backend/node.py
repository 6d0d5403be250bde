"""Facts about this node and small node-level operations.

``node_info`` and ``node_verify`` report memory, CPUs, storage space,
reachability of other nodes and file checksums; the others edit
``/etc/hosts``, the watcher pause file, or start/stop daemons.
"""

import hashlib
import os
import re
import socket
import threading
import time

from ganeti import constants
from ganeti import pathutils
from ganeti.backend.common import RPCFail, fail, read_all_ssconf, \
    run_daemon_util
from ganeti.rpc import defs
from ganeti.utils import io
from ganeti.utils import process
from ganeti.utils import text

_MIB = 1024 * 1024
TCP_CHECK_TIMEOUT = 2.0
# The port other nodes' noded listen on, for reachability checks.
NODED_PORT = constants.DEFAULT_NODED_PORT


def version():
    """The protocol version; the master refuses nodes that differ."""
    return constants.PROTOCOL_VERSION


# --- node_info ---

def _boot_id():
    try:
        return io.read_one_line("/proc/sys/kernel/random/boot_id")
    except OSError:
        return None


def _statvfs_info(storage_type, path):
    """Free and total MiB of the filesystem holding ``path``."""
    try:
        st = os.statvfs(path)
        free = st.f_bavail * st.f_frsize // _MIB
        size = st.f_blocks * st.f_frsize // _MIB
    except (OSError, TypeError):
        free = size = None
    return {"type": storage_type, "name": path, "storage_free": free,
            "storage_size": size}


_VGS_CMD = ["vgs", "--noheadings", "--units=m", "--nosuffix",
            "-o", "vg_name,vg_free,vg_size"]


def parse_vgs_output(output):
    """``{vg_name: (free_mib, size_mib)}`` from the output of _VGS_CMD."""
    result = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        try:
            result[fields[0]] = (int(round(float(fields[1]))),
                                 int(round(float(fields[2]))))
        except ValueError:
            continue
    return result


def _lvm_vg_info(storage_type, vg_name):
    entry = {"type": storage_type, "name": vg_name, "storage_free": None,
             "storage_size": None}
    result = process.run_cmd(_VGS_CMD + [vg_name], reset_env=True,
                             timeout=60)
    if not result.failed:
        values = parse_vgs_output(result.stdout).get(vg_name)
        if values:
            entry["storage_free"], entry["storage_size"] = values
    return entry


_STORAGE_REPORTERS = {
    constants.DT_FILE: _statvfs_info,
    constants.DT_SHARED_FILE: _statvfs_info,
    constants.DT_GLUSTER: _statvfs_info,
    "lvm-vg": _lvm_vg_info,
}


def _storage_info(unit):
    if not isinstance(unit, (list, tuple)) or len(unit) < 2:
        fail("Invalid storage unit %r", unit)
    storage_type, key = unit[0], unit[1]
    reporter = _STORAGE_REPORTERS.get(storage_type)
    if reporter is None:
        return {"type": storage_type, "name": key, "storage_free": None,
                "storage_size": None}
    return reporter(storage_type, key)


def _meminfo():
    """``/proc/meminfo`` as ``{field: kB}``."""
    result = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    result[name.strip()] = int(parts[0])
    except OSError:
        pass
    return result


def _cpu_facts():
    """(cpu_total, cpu_nodes, cpu_sockets) of this machine."""
    total = os.cpu_count() or 1
    sockets = set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("physical id"):
                    sockets.add(line.split(":", 1)[1].strip())
    except OSError:
        pass
    try:
        nodes = len([n for n in os.listdir("/sys/devices/system/node")
                     if re.match(r"^node\d+$", n)])
    except OSError:
        nodes = 0
    return total, max(nodes, 1), max(len(sockets), 1)


def host_hv_info():
    """Memory and CPU facts of the host, in the hypervisors' format.

    All in MiB. ``memory_free`` counts page cache and buffers as free
    (the kernel gives them back when instances need them);
    ``memory_dom0`` is what the node's own processes use, i.e. total
    minus that free amount.
    """
    mem = _meminfo()
    total = mem.get("MemTotal", 0) // 1024
    free = (mem.get("MemFree", 0) + mem.get("Buffers", 0) +
            mem.get("Cached", 0)) // 1024
    cpu_total, cpu_nodes, cpu_sockets = _cpu_facts()
    return {
        "memory_total": total,
        "memory_free": free,
        "memory_dom0": max(total - free, 0),
        "cpu_total": cpu_total,
        "cpu_nodes": cpu_nodes,
        "cpu_sockets": cpu_sockets,
        "cpu_dom0": cpu_total,
    }


def hypervisor_node_info(hv_name, hvparams):
    """Node facts for one hypervisor, from its driver's get_node_info
    (the host's facts for hypervisors without a driver here)."""
    from ganeti import errors
    from ganeti import hypervisor
    try:
        info = hypervisor.get_hypervisor(hv_name).get_node_info(hvparams)
    except errors.HypervisorError:
        info = host_hv_info()
    info["hv_name"] = hv_name
    return info


def node_info(storage_units, hv_specs):
    """``[boot_id, [storage info...], [hypervisor info...]]``."""
    storage = [_storage_info(unit) for unit in (storage_units or [])]
    hv_info = []
    for spec in hv_specs or []:
        if not isinstance(spec, (list, tuple)) or len(spec) != 2:
            fail("Invalid hypervisor specification %r", spec)
        hv_info.append(hypervisor_node_info(spec[0], spec[1]))
    return [_boot_id(), storage, hv_info]


# --- node_verify ---

def tcp_ping(address, port=None, timeout=TCP_CHECK_TIMEOUT):
    """None if a TCP connection to address:port succeeds, else the error."""
    if port is None:
        port = NODED_PORT
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as err:
        return err.strerror or str(err) or "timed out"
    sock.close()
    return None


def _ping_many(targets):
    """``{name: error}`` for those of ``[(name, address)]`` not reachable.

    Checked in parallel so that many dead nodes cost one timeout, not one
    timeout each.
    """
    failures = {}
    lock = threading.Lock()

    def check(name, address):
        err = tcp_ping(address)
        if err is not None:
            with lock:
                failures[name] = ("TCP connection to %s:%s failed: %s" %
                                  (address, NODED_PORT, err))

    threads = [threading.Thread(target=check, args=t, daemon=True)
               for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _name_address_pairs(value):
    """Accept ``{name: ip}`` or ``[[name, ip, (secondary_ip)], ...]``."""
    if isinstance(value, dict):
        return list(value.items())
    pairs = []
    for item in value or []:
        if isinstance(item, str):
            pairs.append((item, item))
        else:
            pairs.append((item[0], item[1]))
            if len(item) > 2 and item[2] and item[2] != item[1]:
                pairs.append((item[0], item[2]))
    return pairs


def _file_checksums(paths):
    result = {}
    for path in paths or []:
        try:
            with open(path, "rb") as fh:
                result[path] = hashlib.sha1(fh.read()).hexdigest()
        except OSError:
            result[path] = None
    return result


def _check_master_ip(value):
    address = value[1] if isinstance(value, (list, tuple)) else value
    return tcp_ping(address) is None


def _check_hypervisors(names, all_hvparams=None):
    """``{name: None or problem}`` from each driver's verify()."""
    from ganeti import errors
    from ganeti import hypervisor
    result = {}
    for name in names or []:
        if name not in constants.HYPER_TYPES:
            result[name] = "Unknown hypervisor '%s'" % name
            continue
        try:
            result[name] = hypervisor.get_hypervisor(name).verify(
                (all_hvparams or {}).get(name))
        except errors.HypervisorError as err:
            result[name] = str(err)
    return result


def _existing_bridges():
    """Names of the bridges in this network namespace.

    Asked of ``ip`` rather than read from /sys, which shows the namespace
    of whoever mounted it (not ours inside a network namespace).
    """
    result = process.run_cmd(["ip", "-o", "link", "show", "type", "bridge"],
                             reset_env=True, timeout=30)
    if result.failed:
        return None
    found = set()
    for line in result.stdout.splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3:
            found.add(fields[1].strip().split("@")[0])
    return found


def missing_bridges(names):
    """The bridges among ``names`` that do not exist on this node."""
    names = list(names or [])
    if not names:
        return []
    found = _existing_bridges()
    if found is None:
        return [name for name in names
                if not os.path.isdir("/sys/class/net/%s/bridge" % name)]
    return [name for name in names if name not in found]


def _hvinfo(value, all_hvparams):
    if isinstance(value, (list, tuple)):
        return hypervisor_node_info(value[0], value[1])
    return hypervisor_node_info(value, (all_hvparams or {}).get(value, {}))


# key -> function(value, all_hvparams); unknown keys are ignored
_VERIFY_CHECKS = {
    defs.NV_VERSION: lambda _v, _h: [constants.PROTOCOL_VERSION,
                                     constants.RELEASE_VERSION],
    defs.NV_FILELIST: lambda v, _h: _file_checksums(v),
    defs.NV_NODELIST: lambda v, _h: _ping_many(_name_address_pairs(v)),
    defs.NV_NODENETTEST: lambda v, _h: _ping_many(_name_address_pairs(v)),
    defs.NV_MASTERIP: lambda v, _h: _check_master_ip(v),
    defs.NV_TIME: lambda _v, _h: list(text.split_time(time.time())),
    defs.NV_HYPERVISOR: _check_hypervisors,
    defs.NV_SSCONF: lambda _v, _h: read_all_ssconf(),
    defs.NV_BRIDGES: lambda v, _h: missing_bridges(v),
    defs.NV_HVINFO: _hvinfo,
}


def node_verify(checkdict, cluster_name, all_hvparams):
    """Run the checks named by the keys of ``checkdict``; same keys out."""
    del cluster_name
    if not isinstance(checkdict, dict):
        fail("node_verify expects a dict of checks")
    result = {}
    for key, value in checkdict.items():
        check = _VERIFY_CHECKS.get(key)
        if check is not None:
            result[key] = check(value, all_hvparams)
    return result


# --- addresses, bridges, /etc/hosts ---

def _local_addresses():
    """Addresses configured on this node's interfaces (``ip -o addr``)."""
    result = process.run_cmd(["ip", "-o", "addr", "show"], reset_env=True,
                             timeout=30)
    if result.failed:
        return None
    found = set()
    for line in result.stdout.splitlines():
        fields = line.split()
        for idx, field in enumerate(fields[:-1]):
            if field in ("inet", "inet6"):
                found.add(fields[idx + 1].split("/")[0])
    return found


def node_has_ip_address(address):
    """Whether ``address`` is configured on a local interface."""
    found = _local_addresses()
    if found is not None:
        return address in found
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((address, 0))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def bridges_exist(bridges_list):
    """RPCFail naming the missing bridges, if any."""
    missing = missing_bridges(bridges_list)
    if missing:
        fail("Missing bridges %s", ", ".join(missing))
    return None


def etc_hosts_file():
    return pathutils.GANETI_ROOTDIR + "/etc/hosts"


def edit_hosts_text(content, mode, name, ip):
    """/etc/hosts text with ``name`` (and its short name) added/removed."""
    short = name.split(".")[0]
    names = set([name, short])
    lines = []
    for line in content.splitlines():
        data, hash_, comment = line.partition("#")
        fields = data.split()
        if len(fields) < 2 or not names.intersection(fields[1:]):
            lines.append(line)
            continue
        kept = [f for f in fields[1:] if f not in names]
        if kept:
            lines.append("\t".join([fields[0], " ".join(kept)]) +
                         (" " + hash_ + comment if hash_ else ""))
    if mode == defs.ETC_HOSTS_ADD:
        aliases = [name] if short == name else [name, short]
        lines.append("%s\t%s" % (ip, " ".join(aliases)))
    return "\n".join(lines) + "\n"


def etc_hosts_modify(mode, name, ip):
    """Add (``mode`` "add", with ``ip``) or remove a host in /etc/hosts."""
    if mode not in (defs.ETC_HOSTS_ADD, defs.ETC_HOSTS_REMOVE):
        fail("Mode not supported: %s", mode)
    if mode == defs.ETC_HOSTS_ADD and not ip:
        fail("Mode 'add' needs 'ip' parameter, but parameter not present")
    path = etc_hosts_file()
    try:
        content = io.read_file(path)
        st = os.stat(path)
        file_mode = st.st_mode & 0o7777
    except FileNotFoundError:
        content, file_mode = "", 0o644
    new = edit_hosts_text(content, mode, name, ip)
    try:
        io.write_file(path, new, mode=file_mode)
    except OSError:
        # /etc/hosts bind-mounted into a namespace cannot be renamed over.
        with open(path, "w") as fh:
            fh.write(new)
    return None


# --- watcher pause ---

def get_watcher_pause():
    """Epoch until which the watcher is paused, or None if not paused."""
    try:
        value = int(io.read_one_line(pathutils.WATCHER_PAUSEFILE).strip())
    except (OSError, ValueError):
        return None
    if value < time.time():
        return None
    return value


def set_watcher_pause(until):
    """Pause the watcher until epoch ``until``; None resumes it."""
    path = pathutils.WATCHER_PAUSEFILE
    if until is None:
        io.remove_file(path)
        return None
    if not isinstance(until, (int, float)) or isinstance(until, bool):
        fail("Duration must be numeric")
    io.write_file(path, "%d\n" % int(until), mode=0o644)
    return None


# --- misc ---

def test_delay(duration):
    """Sleep, to test the job queue and RPC timeouts."""
    try:
        duration = float(duration)
    except (TypeError, ValueError):
        fail("Invalid sleep duration %r", duration)
    if duration < 0:
        fail("Negative sleep duration %s", duration)
    time.sleep(duration)
    return None


_ENSURABLE_DAEMONS = frozenset([constants.MASTERD, constants.RAPI])


def node_ensure_daemon(daemon, run):
    """Start (``run``) or stop a daemon other than noded itself."""
    if daemon not in _ENSURABLE_DAEMONS:
        raise RPCFail("Daemon '%s' cannot be started or stopped this way" %
                      daemon)
    run_daemon_util(["start" if run else "stop", daemon])
    return None


RPC_FUNCTIONS = {
    "version": version,
    "node_info": node_info,
    "node_verify": node_verify,
    "node_verify_light": node_verify,
    "node_has_ip_address": node_has_ip_address,
    "bridges_exist": bridges_exist,
    "etc_hosts_modify": etc_hosts_modify,
    "get_watcher_pause": get_watcher_pause,
    "set_watcher_pause": set_watcher_pause,
    "test_delay": test_delay,
    "node_ensure_daemon": node_ensure_daemon,
}
