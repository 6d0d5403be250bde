"""Running site scripts for the master: hooks and out-of-band programs.

Hooks live in ``/etc/ganeti/hooks/<hpath>-<phase>.d/``; like run-parts,
only executable files with names of letters, digits, ``_`` and ``-`` run,
in sorted order. Each yields ``[relative_name, status, output]`` with
status HKR_SUCCESS, HKR_FAIL or HKR_SKIP.
"""

import os
import re

from ganeti import pathutils
from ganeti.backend.common import fail
from ganeti.rpc import defs
from ganeti.utils import process

HOOK_TIMEOUT = 3600
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
    try:
        names = sorted(os.listdir(dirname))
    except FileNotFoundError:
        return []
    except OSError as err:
        fail("Can't list hooks directory '%s': %s", dirname, err.strerror)
    script_env = dict((str(k), str(v)) for k, v in (env or {}).items())
    results = []
    for name in names:
        path = os.path.join(dirname, name)
        rel = "%s/%s" % (subdir, name)
        if (not _HOOK_NAME_RE.match(name) or not os.path.isfile(path) or
                not os.access(path, os.X_OK)):
            results.append([rel, defs.HKR_SKIP, ""])
            continue
        result = process.run_cmd([path], env=script_env, reset_env=True,
                                 cwd=dirname, timeout=HOOK_TIMEOUT)
        output = result.output.strip()
        if result.failed:
            if not output:
                output = result.fail_reason
            results.append([rel, defs.HKR_FAIL, output])
        else:
            results.append([rel, defs.HKR_SUCCESS, output])
    return results


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
