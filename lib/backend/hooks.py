"""Running site scripts for the master: hooks and out-of-band programs.

Hooks live in ``/etc/ganeti/hooks/<hpath>-<phase>.d/``; like run-parts,
only executable files with names of letters, digits, ``_`` and ``-`` run,
in sorted order, in a clean environment (``PATH`` and the ``GANETI_*``
keys the master sends). Each yields ``[relative_name, status, output]``
with status HKR_SUCCESS, HKR_FAIL or HKR_SKIP.
"""

import logging
import os
import re
import subprocess

from ganeti import pathutils
from ganeti.backend.common import fail
from ganeti.rpc import defs
from ganeti.utils import process

HOOK_TIMEOUT = 3600
HOOKS_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"
_HOOK_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
_HOOK_PATH_RE = re.compile(r"^[a-zA-Z0-9_-]+(/[a-zA-Z0-9_-]+)*$")


def hooks_runner(hpath, phase, env):
    """Run the hooks of ``hpath`` for ``phase`` ("pre"/"post") with ``env``."""
    if phase not in (defs.HOOKS_PHASE_PRE, defs.HOOKS_PHASE_POST):
        fail("Unknown hooks phase '%s'", phase)
    if not isinstance(hpath, str) or not _HOOK_PATH_RE.match(hpath):
        fail("Invalid hooks path '%s'", hpath)
    subdir = "%s-%s.d" % (hpath, phase)
    dirname = os.path.join(pathutils.HOOKS_BASE_DIR, subdir)
    return [["%s/%s" % (subdir, name), status, output]
            for name, status, output in run_parts_dir(dirname, env)]


def run_parts_dir(dirname, env):
    """Run a directory's scripts with run-parts rules.

    Returns ``[name, status, output]`` per entry (hidden files are not
    listed); a missing directory is the common case and yields nothing.
    """
    if not os.path.isdir(dirname):
        return []
    try:
        names = sorted(name for name in os.listdir(dirname)
                       if not name.startswith("."))
    except OSError as err:
        logging.warning("Hooks: can't list %s: %s", dirname, err.strerror)
        return []
    script_env = {"PATH": HOOKS_PATH}
    script_env.update((str(k), str(v)) for k, v in (env or {}).items())
    results = []
    for name in names:
        path = os.path.join(dirname, name)
        if (not _HOOK_NAME_RE.match(name) or not os.path.isfile(path) or
                not os.access(path, os.X_OK)):
            results.append([name, defs.HKR_SKIP, ""])
            continue
        status, output = _run_hook(path, script_env)
        results.append([name, status, output])
    return results


def _run_hook(path, env):
    """(status, output) of one script; a failure with no output keeps an
    empty output (the CLI then says "(no output)")."""
    try:
        proc = subprocess.run([path], env=env, cwd="/", timeout=HOOK_TIMEOUT,
                              stdin=subprocess.DEVNULL, capture_output=True)
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"") + (err.stderr or b"")
        return defs.HKR_FAIL, _text(output)
    except OSError as err:
        return defs.HKR_FAIL, "Hook script execution error: %s" % err
    output = _text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        return defs.HKR_FAIL, output
    return defs.HKR_SUCCESS, output


def _text(data):
    return data.decode("utf-8", "replace").strip()


def run_oob(oob_program, command, remote_node, timeout):
    """Run ``oob_program command remote_node``; its stdout is the result."""
    if not isinstance(oob_program, str) or not os.path.isabs(oob_program):
        fail("Out-of-band program '%s' is not an absolute path", oob_program)
    result = process.run_cmd([oob_program, command, remote_node],
                             timeout=timeout)
    if result.failed:
        fail("'%s' failed with reason '%s'; output: %s", oob_program,
             result.fail_reason, result.output.strip())
    return result.stdout


RPC_FUNCTIONS = {
    "hooks_runner": hooks_runner,
    "run_oob": run_oob,
}
