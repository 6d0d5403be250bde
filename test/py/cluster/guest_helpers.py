"""Helpers shared by the cluster tests that run instances and real guests.

The test guest (tools/build-test-guest: a Debian kernel and a busybox
initramfs), its serial console read through the unix socket qemu serves
in a node's /var/run/ganeti (reachable from the host through the node's
directory tree), and the few ``gnt-instance`` calls every instance test
makes. One copy here, so that a fix to, say, the console reader reaches
every test that boots a guest.
"""

import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import TOP, DOMAIN

NODE1 = "node1." + DOMAIN
NOCHECK = ["--no-name-check", "--no-ip-check"]
GUEST_TOOL = os.path.join(TOP, "tools", "build-test-guest")
MARKER = "GANETI-TEST-GUEST-UP"
KVM_DIR = "/var/run/ganeti/kvm-hypervisor"


# --- the test guest -------------------------------------------------------

def guest_paths():
    """``({"kernel": path, "initrd": path}, None)`` of the test guest
    (built once, then cached), or ``(None, reason)`` when it cannot run
    here."""
    if shutil.which("qemu-system-x86_64") is None:
        return None, "qemu-system-x86_64 is not installed"
    proc = subprocess.run([GUEST_TOOL], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        return None, "cannot build the test guest: %s" % proc.stderr.strip()
    found = dict(line.split("=", 1) for line in proc.stdout.splitlines()
                 if "=" in line)
    return found, None


def guest_or_skip():
    """The test guest's paths; the calling test is skipped without it."""
    guest, reason = guest_paths()
    if reason:
        pytest.skip(reason)
    return guest


def node_path(cluster, node, path):
    """The host path of ``path`` inside ``node`` (per-node bind mounts)."""
    path = path.replace("/var/run/", "/run/")
    return os.path.join(cluster.dir, node, "root") + path


def serial_path(cluster, node, name):
    """Host path of the serial socket of instance ``name`` on ``node``."""
    return node_path(cluster, node, "%s/ctrl/%s.serial" % (KVM_DIR, name))


class SerialConsole:
    """A guest's serial console: a reader thread collects what the guest
    prints; after the boot marker it is a root shell ``run`` types into."""

    def __init__(self, path, timeout=20):
        deadline = time.time() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.text = ""
        self.closed = False
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.text += data.decode("utf-8", "replace")
                self.cond.notify_all()

    def wait_for(self, pattern, timeout, start=0):
        """The first match of regex ``pattern`` after offset ``start``;
        fails showing the console's tail when none comes in time."""
        regex = re.compile(pattern)
        deadline = time.time() + timeout
        with self.cond:
            while True:
                match = regex.search(self.text, start)
                if match:
                    return match
                left = deadline - time.time()
                if left <= 0 or self.closed:
                    raise AssertionError("no %r on the serial console; it"
                                         " showed:\n%s" %
                                         (pattern, self.text[-3000:]))
                self.cond.wait(left)

    def run(self, command, expect, timeout=30):
        """Type ``command`` in the guest's shell; wait for ``expect`` in
        what follows it."""
        start = len(self.text)
        self.sock.sendall(command.encode() + b"\n")
        return self.wait_for(expect, timeout, start)

    def close(self):
        self.sock.close()


def wait_for_boot(cluster, node, name, timeout=90):
    """Wait for the boot marker of instance ``name`` on ``node``'s serial
    console (the guest's ``gnt_name`` is the first label of ``name``)."""
    console = SerialConsole(serial_path(cluster, node, name))
    try:
        console.wait_for("%s %s" % (MARKER, name.split(".")[0]), timeout)
    finally:
        console.close()


# --- gnt-instance on node1 ------------------------------------------------

def add_noop_instance(cluster, name, *extra, check=True):
    """``gnt-instance add`` of ``name`` on node1 with the no-op OS (the
    ``noop_cluster`` fixture installs it) and no name/IP checks."""
    return cluster.run("node1", "gnt-instance", "add", "-o", "noop",
                       "-n", NODE1, *(NOCHECK + list(extra) + [name]),
                       check=check, timeout=180)


def add_guest_instance(cluster, name):
    """A kvm instance of the test guest (skipped without it) on a 1G
    sharedfile disk, added on node1 and started: its serial console shows
    the boot marker (``wait_for_boot``)."""
    guest = guest_or_skip()
    hvp = ("kvm:kernel_path=%s,initrd_path=%s,root_path=,kernel_args=quiet"
           " gnt_name=%s,serial_console=true" %
           (guest["kernel"], guest["initrd"], name.split(".")[0]))
    return add_noop_instance(cluster, name, "-t", "sharedfile", "--disk",
                             "0:size=1G", "-H", hvp)


def instance_names(cluster):
    return cluster.run("node1", "gnt-instance", "list", "--no-headers",
                       "-o", "name").stdout.split()


def instance_fields(cluster, name, fields):
    """The values of ``fields`` (comma-separated) that ``gnt-instance
    list`` shows for ``name``."""
    return cluster.run("node1", "gnt-instance", "list", "--no-headers",
                       "-o", fields, name).stdout.split()
