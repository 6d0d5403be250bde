"""Hard power-cycling of this node (``gnt-node powercycle``).

A powercycle reboots the machine without shutting anything down: Ganeti
schedules it a few seconds ahead (so that the RPC reply gets out) and
then writes ``b`` to ``/proc/sysrq-trigger`` (falling back to ``reboot -n
-f``); for Xen it also asks the hypervisor to reboot.

Because nodes of the virtual cluster are namespaces of one host, a real
powercycle would reboot that host. It is therefore refused unless the
node daemon runs with ``GANETI_ALLOW_POWERCYCLE=yes`` in its environment
(set it on real nodes, e.g. in the daemon's defaults file, to allow the
command).
"""

import logging
import os
import time

from ganeti import constants
from ganeti.backend.common import fail
from ganeti.utils import process

ALLOW_ENV = "GANETI_ALLOW_POWERCYCLE"
POWERCYCLE_DELAY = 5
SYSRQ_TRIGGER = "/proc/sysrq-trigger"


def powercycle_allowed(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(ALLOW_ENV, "").lower() in ("yes", "true", "1")


def linux_powercycle():
    """Reboot at once through sysrq, else ``reboot -n -f``."""
    try:
        fd = os.open(SYSRQ_TRIGGER, os.O_WRONLY)
        try:
            os.write(fd, b"b")
        finally:
            os.close(fd)
    except OSError:
        logging.exception("Can't open the sysrq-trigger file")
        result = process.run_cmd(["reboot", "-n", "-f"], reset_env=True)
        if result.failed:
            logging.error("Can't run reboot: %s", result.output)


def xen_powercycle(hvparams):
    """Linux reboot first (works with a broken root filesystem), then ask
    the Xen toolstack."""
    try:
        linux_powercycle()
    finally:
        xen_cmd = (hvparams or {}).get("xen_cmd") or "xl"
        process.run_cmd([xen_cmd, "debug", "R"], reset_env=True)


# hypervisor -> function(hvparams) doing the reboot
_METHODS = {
    constants.HT_XEN_PVM: xen_powercycle,
    constants.HT_XEN_HVM: xen_powercycle,
    constants.HT_KVM: lambda hvparams: linux_powercycle(),
    constants.HT_LXC: lambda hvparams: linux_powercycle(),
    constants.HT_CHROOT: lambda hvparams: linux_powercycle(),
    constants.HT_FAKE: lambda hvparams: linux_powercycle(),
}


def _schedule(method, hvparams, delay):
    """Run ``method`` in a detached grandchild after ``delay`` seconds."""
    pid = os.fork()
    if pid > 0:
        os.waitpid(pid, 0)  # the intermediate child exits at once
        return
    try:
        if os.fork() > 0:
            os._exit(0)
        os.setsid()
        time.sleep(delay)
        method(hvparams)
    finally:
        os._exit(0)


def node_powercycle(hypervisor, hvparams, environ=None, schedule=_schedule):
    """Schedule a hard reboot of this node; the reply says when."""
    method = _METHODS.get(hypervisor)
    if method is None:
        fail("Unknown hypervisor '%s'", hypervisor)
    if not powercycle_allowed(environ):
        fail("Powercycling is disabled on this node (the node daemon must"
             " run with %s=yes to allow it)", ALLOW_ENV)
    schedule(method, hvparams, POWERCYCLE_DELAY)
    return "Reboot scheduled in %d seconds" % POWERCYCLE_DELAY


RPC_FUNCTIONS = {
    "node_powercycle": node_powercycle,
}
