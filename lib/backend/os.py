"""Node-side OS procedures: diagnose, validate, create, rename, export.

Definitions are read by ``ganeti.osapi``; the scripts run here as root,
with the OS directory as working directory and nothing of noded's own
environment but ``PATH`` (Ganeti 2.5+ "clean environment"). Their output
goes to ``/var/log/ganeti/os/<kind>-<os>-<instance>-<time>.log``; on
failure the RPC error carries the last lines of that log.

The ``instance`` argument is the wire form described in
``ganeti.backend.instance`` (``objects.Instance.to_dict()`` with filled
hv/be parameters and ``disks_info``); in addition ``osparams`` must be
the instance's complete OS parameters (the master merges the cluster's
with ``osapi.fill_os_params``), and the optional key
``secondary_nodes`` (names) fills ``INSTANCE_SECONDARY_NODES``. The
paths given to the scripts (``DISK_<n>_PATH``) are those of the disks on
this node, found through the storage drivers: the disks must exist (and
be assembled) here.
"""

import logging
import os
import signal
import subprocess
import tarfile
import tempfile

from ganeti import errors
from ganeti import osapi
from ganeti import pathutils
from ganeti.backend import blockdev
from ganeti.backend import instance as inst_backend
from ganeti.backend.common import fail

# Script time limits: a little below the RPC timeouts of their procedures
# (instance_os_add: 1 day; instance_run_rename: 1 h; os_validate: 5 min),
# so that the node reports the failure before the master gives up.
CREATE_TIMEOUT = 86400 - 600
RENAME_TIMEOUT = 3600 - 300
VERIFY_TIMEOUT = 300 - 60
# How many lines of a failed script's log the error message quotes.
LOG_TAIL_LINES = 20


class ScriptResult:
    """How a script ended, described in Ganeti's words."""

    def __init__(self, exit_code, signum, timeout, output=""):
        self.exit_code = exit_code
        self.signal = signum
        self.timeout = timeout
        self.output = output

    @property
    def failed(self):
        return bool(self.timeout) or self.exit_code != 0

    @property
    def fail_reason(self):
        parts = []
        if self.signal:
            parts.append("terminated by signal %s" % self.signal)
        elif self.exit_code is not None:
            parts.append("exited with exit code %s" % self.exit_code)
        else:
            parts.append("unable to determine termination reason")
        if self.timeout:
            parts.append("terminated after timeout of %.2f seconds" %
                         self.timeout)
        return ", ".join(parts)


def run_script(argv, env, cwd, timeout, log_path=None, stdin=None):
    """Run an OS script with exactly ``env``; output to ``log_path`` (or
    kept in the result). On timeout the script's process group is killed.
    """
    if log_path is not None:
        os.makedirs(os.path.dirname(log_path), mode=0o750, exist_ok=True)
        out = open(log_path, "a")
    else:
        out = subprocess.PIPE
    try:
        try:
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=stdin or subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True)
        except OSError as err:
            if log_path is not None:
                out.write("%s: %s\n" % (argv[0], err))
            return ScriptResult(127, None, None, str(err))
        timed_out = None
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = timeout
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            output, _ = proc.communicate()
    finally:
        if log_path is not None:
            out.close()
    code = proc.returncode
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    if code is not None and code < 0:
        return ScriptResult(None, -code, timed_out, output or "")
    return ScriptResult(code, None, timed_out, output or "")


def tail_file(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return data.splitlines()[-lines:]


def _safe_text(line):
    """Non-printable characters escaped (a log may contain anything)."""
    return "".join(c if (c.isprintable() or c == "\t") else
                   "\\x%02x" % ord(c) for c in line)


def load_os(os_name):
    """The OSDefinition of an instance's OS; RPCFail if unusable."""
    try:
        return osapi.read_os(osapi.get_name(os_name))
    except osapi.InvalidOS as err:
        fail("%s", err)


def _instance(data):
    inst, disks = inst_backend.instance_from_wire(data)
    if not inst.os:
        fail("Instance %s has no OS" % inst.name)
    secondaries = data.get("secondary_nodes") if isinstance(data, dict) \
        else None
    return inst, disks, secondaries


def _open_disks(inst, disks):
    """``[(disk, dev_path, uri)]``: each disk found and opened here."""
    result = []
    for disk in disks:
        try:
            device = blockdev.recursive_find(disk)
            if device is None:
                fail("Block device '%s' is not set up",
                     disk.iv_name or disk.uuid)
            device.open()
        except errors.BlockDeviceError as err:
            fail("Block device error: %s", err)
        result.append((disk, device.dev_path,
                       blockdev.device_uri(disk, device, inst.hypervisor)))
    return result


def instance_environment(data, debug=0):
    """(instance, OSDefinition, environment) of an instance on this node."""
    inst, disks, secondaries = _instance(data)
    osdef = load_os(inst.os)
    env = osapi.instance_env(inst, osdef, _open_disks(inst, disks),
                             debug=int(debug or 0),
                             secondary_nodes=secondaries)
    return inst, osdef, env


def _fail_with_log(what, result, log_path):
    logging.error("%s failed: %s, logfile %s", what, result.fail_reason,
                  log_path)
    lines = [_safe_text(line) for line in tail_file(log_path)]
    fail("%s failed (%s), last lines in the log file:\n%s", what,
         result.fail_reason, "\n".join(lines))


# --- procedures ---

def os_diagnose():
    """Every OS definition on this node, valid or not."""
    return osapi.diagnose()


def os_validate(required, name, checks, params, force_variant):
    """Check that OS ``name`` exists here and accepts ``params``.

    Returns False (OS absent and not ``required``) or True; anything wrong
    beyond that fails with Ganeti's message.
    """
    try:
        osdef = osapi.read_os(osapi.get_name(name))
    except osapi.InvalidOS as err:
        if required:
            fail("%s", err)
        return False
    if not force_variant:
        msg = osapi.check_variant(osdef, name)
        if msg:
            fail("%s", msg)
    if max(osdef.api_versions) < osapi.OS_API_V20:
        return True
    checks = list(checks or [])
    unknown = sorted(set(checks) - osapi.VALIDATE_CALLS)
    if unknown:
        fail("Unknown checks required for OS %s: %s", name,
             ", ".join(unknown))
    params = dict(params or {})
    if osapi.VALIDATE_PARAMETERS in checks:
        msg = osapi.check_parameters(osdef, params.keys())
        if msg:
            fail("%s", msg)
    verify = osdef.script(osapi.SCRIPT_VERIFY)
    env = osapi.core_env(name, osdef, params)
    result = run_script([verify] + checks, env, osdef.path, VERIFY_TIMEOUT)
    if result.failed:
        logging.error("os validate command '%s' returned error: %s output:"
                      " %s", verify, result.fail_reason, result.output)
        fail("OS validation script failed (%s), output: %s",
             result.fail_reason, result.output)
    return True


def instance_os_add(instance_osp, reinstall, debug):
    """Run the OS create script for an instance (its disks on this node);
    ``reinstall`` sets INSTANCE_REINSTALL=1."""
    inst, osdef, env = instance_environment(instance_osp, debug)
    env = osapi.create_env(env, reinstall)
    log_path = osapi.log_file_name(osapi.LOG_ADD, inst.os, inst.name)
    result = run_script([osdef.create_script], env, osdef.path,
                        CREATE_TIMEOUT, log_path=log_path)
    if result.failed:
        _fail_with_log("OS create script", result, log_path)
    return None


def instance_run_rename(instance, old_name, debug):
    """Run the OS rename script (``instance`` already has the new name)."""
    inst, osdef, env = instance_environment(instance, debug)
    env = osapi.rename_env(env, old_name)
    log_path = osapi.log_file_name(osapi.LOG_RENAME, inst.os,
                                   "%s-%s" % (old_name, inst.name))
    result = run_script([osdef.script(osapi.SCRIPT_RENAME)], env, osdef.path,
                        RENAME_TIMEOUT, log_path=log_path)
    if result.failed:
        _fail_with_log("OS rename script", result, log_path)
    return None


def os_export(instance, override_env):
    """Pack the instance's OS definition and script environment.

    Writes a gzip'ed tarball holding ``os/`` (the definition) and
    ``environment`` (``VAR=value`` lines, ``override_env`` applied) so the
    scripts can run elsewhere (Ganeti 2.16+ runs untrusted OSes in a
    helper VM); returns its path.
    """
    inst, disks, secondaries = _instance(instance)
    osdef = load_os(inst.os)
    # The disks need not be set up on this node: no paths.
    env = osapi.instance_env(inst, osdef, [(d, None, None) for d in disks],
                             secondary_nodes=secondaries)
    env.update(override_env or {})
    fd, package = tempfile.mkstemp(suffix=".tgz", dir=_export_dir())
    os.close(fd)
    try:
        with tarfile.open(package, "w:gz", dereference=True) as tar:
            tar.add(osdef.path, arcname="./os")
            text = "".join("%s=%s\n" % (k, env[k]) for k in sorted(env))
            with tempfile.NamedTemporaryFile("w") as envfile:
                envfile.write(text)
                envfile.flush()
                tar.add(envfile.name, arcname="./environment")
    except (OSError, tarfile.TarError) as err:
        os.unlink(package)
        fail("Failed to create OS archive '%s': %s", package, err)
    return package


def _export_dir():
    path = os.path.join(pathutils.RUN_DIR, "os-export")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


RPC_FUNCTIONS = {
    "os_diagnose": os_diagnose,
    "os_validate": os_validate,
    "instance_os_add": instance_os_add,
    "instance_run_rename": instance_run_rename,
    "os_export": os_export,
}
