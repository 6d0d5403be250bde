"""What every backend module needs: RPCFail, ssconf reading, daemon-util.

Paths are always taken from ``pathutils`` at call time (never copied at
import time), so tests can relocate the tree with ``GANETI_ROOTDIR`` and
``importlib.reload(pathutils)``.
"""

import os
import shutil

from ganeti import pathutils
from ganeti.utils import process

try:
    from ganeti import _autoconf
except ImportError:  # unconfigured source tree
    _autoconf = None


class RPCFail(Exception):
    """An expected failure of a node procedure.

    noded answers ``[false, str(err)]``; the master shows the message.
    """


def fail(msg, *args):
    """Raise RPCFail with ``msg % args`` (noded logs it)."""
    if args:
        msg = msg % args
    raise RPCFail(msg)


def read_ssconf(key, default=None):
    """The value of ssconf key ``key`` on this node (trailing newline
    stripped), or ``default`` if the file does not exist."""
    try:
        with open(pathutils.ssconf_file(key)) as fh:
            data = fh.read()
    except FileNotFoundError:
        return default
    return data[:-1] if data.endswith("\n") else data


def read_all_ssconf():
    """``{key: value}`` of every ssconf file on this node."""
    result = {}
    prefix = pathutils.SSCONF_PREFIX
    try:
        names = os.listdir(pathutils.DATA_DIR)
    except OSError:
        return result
    for name in sorted(names):
        if not name.startswith(prefix) or name.startswith("."):
            continue
        key = name[len(prefix):]
        value = read_ssconf(key)
        if value is not None:
            result[key] = value
    return result


def _package_top():
    """The source tree holding this package (for daemons/ next to lib/)."""
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.dirname(pkg)


def daemon_util_path():
    """Where ``daemon-util`` is.

    In a source tree (the virtual cluster) it is ``<top>/daemons``; when
    installed, in PKGLIBDIR as in upstream; ``$GANETI_DAEMON_UTIL``
    overrides both.
    """
    env = os.environ.get("GANETI_DAEMON_UTIL")
    if env:
        return env
    candidates = [os.path.join(_package_top(), "daemons", "daemon-util")]
    pkglibdir = getattr(_autoconf, "PKGLIBDIR", "/usr/lib/ganeti")
    candidates.append(os.path.join(pkglibdir, "daemon-util"))
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("daemon-util") or candidates[-1]


def run_daemon_util(args, env=None, timeout=120):
    """Run ``daemon-util ARGS``; RPCFail with its output on failure."""
    cmd = [daemon_util_path()] + list(args)
    result = process.run_cmd(cmd, env=env, timeout=timeout)
    if result.failed:
        output = (result.stdout + result.stderr).strip()
        fail("Command '%s' failed (%s); output: %s", " ".join(cmd),
             result.fail_reason, output or "(none)")
    return result
