"""``make demo`` (tools/demo) on a virtual cluster of its own.

The demo must end with a running kvm instance of the test guest and print
commands that work: this runs tools/demo twice (the second run rebuilds
the cluster over the first, as a user re-running ``make demo`` does),
then runs the printed RAPI and console commands for real. It uses its
own state dir and prefix, not the shared session cluster.
"""

import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import TOP
from guest_helpers import guest_or_skip

DEMO = os.path.join(TOP, "tools", "demo")
VCLUSTER = os.path.join(TOP, "tools", "vcluster")
PREFIX = os.environ.get("GNT_TEST_DEMO_PREFIX", "gdm")
INSTANCE = "demo1.gnt.test"
GUEST_IP = "198.51.100.50"
LIST_RE = re.compile(
    r"^    \[node1\] gnt-instance list\n"
    r"Instance +Hypervisor +OS +Primary_node +Status +Memory\n"
    r"demo1\.gnt\.test +kvm +ganeti-test-guest\+default +node1\.gnt\.test"
    r" +running +128M\n", re.M)
RAPI_RE = re.compile(r"^  (tools/vcluster --dir \S+ exec node2 curl -sk "
                     r"'https://198\.51\.100\.100:5080/2/instances\?bulk=1')$",
                     re.M)
CONSOLE_RE = re.compile(r"^  (tools/vcluster --dir \S+ exec node1 "
                        r"gnt-instance console demo1\.gnt\.test)$", re.M)


@pytest.fixture(scope="module")
def demo_dir():
    if os.geteuid() != 0:
        pytest.skip("the demo needs root (network namespaces)")
    # Building the guest needs the Debian archive the first time; without
    # it there is nothing to demonstrate.
    guest_or_skip()
    path = tempfile.mkdtemp(prefix="gnt-demo-")
    os.rmdir(path)
    try:
        yield path
    finally:
        subprocess.run([VCLUSTER, "--dir", path, "--prefix", PREFIX, "down"],
                       capture_output=True, timeout=120)
        shutil.rmtree(path, ignore_errors=True)


def _run_demo(state_dir):
    env = dict(os.environ, GNT_DEMO_DIR=state_dir, GNT_DEMO_PREFIX=PREFIX)
    for name in ("GNT_DEMO_INSTANCE", "GNT_DEMO_IP", "GNT_DEMO_NODES",
                 "GNT_DEMO_CLUSTER", "VCLUSTER_DIR", "VCLUSTER_PREFIX"):
        env.pop(name, None)
    start = time.time()
    proc = subprocess.run(["bash", DEMO], cwd=TOP, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=900)
    assert proc.returncode == 0, "tools/demo exited %d:\n%s" % (
        proc.returncode, proc.stdout)
    return proc.stdout, time.time() - start


def _check_output(out, state_dir):
    assert LIST_RE.search(out), out
    assert re.search(r"^    GANETI-TEST-GUEST-UP demo1 \(after ", out,
                     re.M), out
    assert "3 packets transmitted, 3 received, 0% packet loss" in out, out
    assert '[{"id": "demo1.gnt.test", "uri": "/2/instances/demo1.gnt.test"}]' \
        in out, out
    assert out.rstrip().endswith(
        "Stop the virtual cluster with:\n\n"
        "  tools/vcluster --dir %s down" % state_dir), out


def _printed(regex, out):
    match = regex.search(out)
    assert match, "no such hint in the demo's output:\n%s" % out
    return shlex.split(match.group(1))


def _console(argv, typed, expect, timeout=30):
    """Run the printed console command on a pty, type a line, wait for
    ``expect``, leave with Ctrl-]; return (exit status, what was seen)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.chdir(TOP)
        os.execvp(argv[0], argv)
    seen = b""
    start = time.time()
    sent = False
    try:
        while expect not in seen and time.time() < start + timeout:
            # socat connects silently: type once it has had time to
            if not sent and time.time() > start + 2:
                os.write(fd, b"\r" + typed + b"\r")
                sent = True
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        os.write(fd, b"\x1d")
        end = time.time() + 10
        while time.time() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), seen
            time.sleep(0.1)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return None, seen
    finally:
        os.close(fd)


def test_demo_ends_with_a_running_kvm_guest(demo_dir):
    out, first = _run_demo(demo_dir)
    _check_output(out, demo_dir)

    # Re-running rebuilds everything over the running demo.
    out, again = _run_demo(demo_dir)
    _check_output(out, demo_dir)
    print("tools/demo: %.1f s, re-run %.1f s" % (first, again))

    rapi = subprocess.run(_printed(RAPI_RE, out), cwd=TOP, text=True,
                          capture_output=True, timeout=60)
    assert rapi.returncode == 0, rapi.stderr
    instances = json.loads(rapi.stdout)
    assert [i["name"] for i in instances] == [INSTANCE], rapi.stdout
    assert instances[0]["status"] == "running", instances[0]
    assert instances[0]["oper_state"] is True, instances[0]
    assert instances[0]["nic.ips"] == [GUEST_IP], instances[0]
    # the kernel comes from the cluster-wide kvm parameters, the guest's
    # name and address from the instance's own
    assert instances[0]["hvparams"]["kernel_path"].endswith("/vmlinuz")
    assert instances[0]["custom_hvparams"] == {
        "kernel_args": "quiet gnt_name=demo1 gnt_ip=%s/24" % GUEST_IP}

    status, seen = _console(_printed(CONSOLE_RE, out),
                            b"echo guest-$((6*7)) $(hostname)",
                            b"guest-42 demo1")
    assert b"guest-42 demo1" in seen, seen
    assert status == 0, seen
