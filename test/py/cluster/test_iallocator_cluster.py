"""Instance allocators on the shared virtual cluster, with Debian's real
``hail`` (package ganeti-htools-3.0, fetched at test time).

The package is downloaded with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into a temporary directory; its ``htools`` binary is
copied, unchanged, as ``hail`` into a directory that each node
bind-mounts over /usr/local/lib/ganeti/iallocators (in the node's own
mount namespace: the host and other clusters see nothing). Shared
libraries the binary lacks (``ldd``) are installed from the package's
own Depends. Without the package (no mirror) the tests are skipped with
the reason.

What runs for real: gnt-instance add/migrate/failover and gnt-node
evacuate with ``-I hail`` (masterd builds the request, noded runs hail
on the master, the answer places or moves fake-hypervisor instances);
the input printed by ``gnt-debug iallocator --dir in`` fed to hail by
hand; failing, refusing and missing allocators, which leave nothing
behind. Every instance made here is removed, the mounts undone and the
default allocator reset at the end.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import DOMAIN, NOOP_OS, NOOP_SETUP

PACKAGE = "ganeti-htools-3.0"
NODES = ("node1", "node2", "node3")
FQDNS = ["%s.%s" % (node, DOMAIN) for node in NODES]
IALLOC_DIR = "/usr/local/lib/ganeti/iallocators"
NOCHECK = ["--no-name-check", "--no-ip-check"]
PREFIX = "gia-"  # instances of this module

FAIL_SCRIPT = "#!/bin/sh\necho 'cannot place anything' >&2\nexit 1\n"
REFUSE_SCRIPT = ("#!/bin/sh\necho '{\"success\": false, \"info\": \"no node"
                 " has room\", \"result\": []}'\n")


class Unavailable(Exception):
    """hail cannot be prepared here (the reason is the skip message)."""


def _run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=600, **kwargs)
    if result.returncode != 0:
        raise Unavailable("%s failed (exit %s): %s" % (
            " ".join(argv), result.returncode,
            (result.stdout + result.stderr).strip()[-2000:]))
    return result.stdout


def _missing_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return sorted(set(re.findall(r"^\s*(\S+) => not found", out.stdout,
                                 re.M)))


def _not_installed(packages):
    missing = []
    for package in packages:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Status}",
                              package], capture_output=True, text=True)
        if out.returncode != 0 or "install ok installed" not in out.stdout:
            missing.append(package)
    return missing


def fetch_hail(workdir):
    """Download and unpack the package; the path of its hail binary
    (the real file the package's iallocators/hail symlink points to)."""
    os.chmod(workdir, 0o777)  # apt's sandbox user writes the .deb here
    _run(["apt-get", "download", "-q", PACKAGE], cwd=workdir)
    debs = [n for n in os.listdir(workdir) if n.endswith(".deb")]
    if len(debs) != 1:
        raise Unavailable("apt-get download left %s" % debs)
    deb = os.path.join(workdir, debs[0])
    root = os.path.join(workdir, "root")
    _run(["dpkg-deb", "-x", deb, root])
    links = [os.path.join(d, "hail") for d, _, files in os.walk(root)
             if d.endswith("/iallocators") and "hail" in files]
    if not links:
        raise Unavailable("%s has no iallocators/hail" % debs[0])
    binary = os.path.realpath(links[0])
    missing = _missing_libraries(binary)
    if missing:
        # the libraries come from the package's own dependencies
        depends = _run(["dpkg-deb", "-f", deb, "Depends"])
        names = [re.split(r"[\s(]", alt.strip())[0]
                 for dep in depends.split(",") for alt in dep.split("|")]
        wanted = _not_installed([n for n in names if n.startswith("lib")])
        if wanted:
            _run(["apt-get", "install", "-y", "-q",
                  "--no-install-recommends"] + wanted,
                 env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        missing = _missing_libraries(binary)
        if missing:
            raise Unavailable("hail needs %s, not installable here" %
                              ", ".join(missing))
    return binary, debs[0]


def _names(c):
    return c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                 "name").stdout.split()


def _pnode(c, name):
    return c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                 "pnode", name).stdout.strip()


def _add(c, name, *extra, check=True):
    return c.run("node1", "gnt-instance", "add", "-t", "diskless", "-o",
                 "noop", "-H", "fake", *(NOCHECK + list(extra) + [name]),
                 check=check, timeout=180)


def _remove(c, names):
    for name in names:
        c.run("node1", "gnt-instance", "remove", "-f", "--shutdown-timeout",
              "5", name, check=False, timeout=180)


@contextlib.contextmanager
def allocators_mounted(cluster, adir):
    """``adir`` bind-mounted over every node's iallocator directory (each
    node has its own mount namespace; the mount point is made on the
    shared /usr and removed again) and the noop OS present; undone on
    exit. Mounts stack, so an inner use hides an outer one."""
    created = []
    path = IALLOC_DIR
    while not os.path.exists(path):
        created.append(path)
        path = os.path.dirname(path)
    os.makedirs(IALLOC_DIR, exist_ok=True)
    had_os = {}
    mounted = []
    try:
        for node in NODES:
            cluster.run(node, "mount", "--bind", adir, IALLOC_DIR)
            mounted.append(node)
            had_os[node] = cluster.run(node, "test", "-d", NOOP_OS,
                                       check=False).returncode == 0
            cluster.run(node, "sh", "-c", NOOP_SETUP)
        yield
    finally:
        for node in mounted:
            cluster.run(node, "umount", IALLOC_DIR, check=False)
            if not had_os.get(node, True):
                cluster.run(node, "rm", "-rf", NOOP_OS, check=False)
        for path in created:
            try:
                os.rmdir(path)
            except OSError:
                pass


@pytest.fixture(scope="module")
def hail(cluster):
    """The shared cluster with hail (and two broken allocators) in every
    node's iallocator directory; yields (cluster, allocator dir)."""
    workdir = tempfile.mkdtemp(prefix="gia-hail-")
    try:
        try:
            binary, deb = fetch_hail(workdir)
        except Unavailable as err:
            pytest.skip("cannot prepare Debian's hail: %s" % err)
        adir = os.path.join(workdir, "iallocators")
        os.makedirs(adir)
        # htools picks its personality from its name, like the package's
        # symlink
        shutil.copy2(binary, os.path.join(adir, "hail"))
        version = subprocess.run([os.path.join(adir, "hail"), "--version"],
                                 capture_output=True, text=True)
        assert "hail (ganeti) version" in version.stdout, version
        for name, text in (("gia-fail", FAIL_SCRIPT),
                           ("gia-refuse", REFUSE_SCRIPT)):
            with open(os.path.join(adir, name), "w") as handle:
                handle.write(text)
            os.chmod(os.path.join(adir, name), 0o755)
        with allocators_mounted(cluster, adir):
            try:
                yield cluster, adir, deb
            finally:
                _remove(cluster, [n for n in _names(cluster)
                                  if n.startswith(PREFIX)])
                cluster.run("node1", "gnt-cluster", "modify",
                            "--default-iallocator=", check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _selected(output, name):
    """The node(s) of the "Selected nodes ... via iallocator" line."""
    match = re.search(r"Selected nodes for instance %s via iallocator"
                      r" (\S+): (.+)$" % re.escape(name), output, re.M)
    assert match, output
    return match.group(1), match.group(2).split(", ")


def test_add_places_instances_with_hail(hail):
    c, _, _ = hail
    names = ["%sadd%d.%s" % (PREFIX, i, DOMAIN) for i in range(3)]
    try:
        placed = {}
        for name in names:
            out = _add(c, name, "-I", "hail").stdout
            allocator, nodes = _selected(out, name)
            assert allocator == "hail" and len(nodes) == 1
            assert nodes[0] in FQDNS
            assert _pnode(c, name) == nodes[0]
            placed[name] = nodes[0]
        # hail balances: three equal, empty nodes do not get all three
        assert len(set(placed.values())) >= 2, placed
        # "-I ." is the cluster's default allocator
        extra = "%sdefault.%s" % (PREFIX, DOMAIN)
        names.append(extra)
        res = _add(c, extra, "-I", ".", check=False)
        assert "No iallocator or node given and no cluster-wide default" \
            " iallocator found" in res.stderr
        c.run("node1", "gnt-cluster", "modify", "--default-iallocator=hail")
        try:
            assert _selected(_add(c, extra, "-I", ".").stdout,
                             extra)[0] == "hail"
        finally:
            c.run("node1", "gnt-cluster", "modify", "--default-iallocator=")
    finally:
        _remove(c, names)
    assert not set(names) & set(_names(c))


def _hail_answer(c, path):
    """Run the installed hail on a request file, inside node1."""
    out = c.run("node1", IALLOC_DIR + "/hail", path).stdout
    return json.loads(out)


def test_gnt_debug_input_is_accepted_by_hail(hail):
    c, adir, _ = hail
    name = "%sdbg.%s" % (PREFIX, DOMAIN)
    _add(c, name, "-n", FQDNS[1])
    requests = [
        (["-m", "allocate", "-t", "diskless", "--disks=", "new1"], 1),
        (["-m", "allocate", "-t", "file", "--disks=1024,2048", "-o", "noop",
          "--memory=256", "-p", "2", "--tags=a,b", "new2"], 1),
        (["-m", "multi-allocate", "-t", "sharedfile", "--disks=1024",
          "--count", "3", "new"], None),
        (["-m", "relocate", name], 1),
        (["-m", "node-evacuate", "--evac-mode", "primary-only", name],
         None),
    ]
    try:
        for args, nodes in requests:
            text = c.run("node1", "gnt-debug", "iallocator", "--dir", "in",
                         *args).stdout
            data = json.loads(text)
            assert data["version"] == 2 and data["request"]["type"] == \
                args[1]
            path = os.path.join(adir, "request.json")
            with open(path, "w") as handle:
                handle.write(text)
            answer = _hail_answer(c, path)
            assert answer["success"] is True, (args, answer)
            if nodes is not None:
                assert len(answer["result"]) == nodes
                assert set(answer["result"]) <= set(FQDNS)
            if args[1] == "relocate":
                # relocation moves it off its primary
                assert answer["result"] != [FQDNS[1]]
            if args[1] == "multi-allocate":
                assert [i[0] for i in answer["result"][0]] == \
                    ["new0", "new1", "new2"] and answer["result"][1] == []
            if args[1] == "node-evacuate":
                moved, failed, jobs = answer["result"]
                assert failed == [] and moved[0][0] == name
                assert jobs[0][0]["OP_ID"] == "OP_INSTANCE_MIGRATE"
            # --dir out runs the same allocator through masterd and noded
            out = c.run("node1", "gnt-debug", "iallocator", "--dir", "out",
                        "-I", "hail", *args).stdout
            assert json.loads(out)["success"] is True
        # a drained node keeps its figures (hail requires them) and is
        # never chosen
        c.run("node1", "gnt-node", "modify", "-D", "yes", FQDNS[2])
        try:
            text = c.run("node1", "gnt-debug", "iallocator", "--dir", "in",
                         "-m", "allocate", "-t", "diskless", "--disks=",
                         "new3").stdout
            node3 = json.loads(text)["nodes"][FQDNS[2]]
            assert node3["drained"] is True and "free_memory" in node3
            with open(path, "w") as handle:
                handle.write(text)
            answer = _hail_answer(c, path)
            assert answer["success"] is True
            assert answer["result"] != [FQDNS[2]]
        finally:
            c.run("node1", "gnt-node", "modify", "-D", "no", FQDNS[2])
            mc = c.run("node1", "gnt-node", "list", "--no-headers", "-o",
                       "master_candidate", FQDNS[2]).stdout.strip()
            if mc != "Y":
                c.run("node1", "gnt-node", "modify", "-C", "yes", FQDNS[2])
    finally:
        _remove(c, [name])


def test_migrate_failover_and_evacuate_with_hail(hail):
    c, _, _ = hail
    names = ["%smv%d.%s" % (PREFIX, i, DOMAIN) for i in range(2)]
    try:
        for name in names:
            _add(c, name, "-n", FQDNS[0])
        out = c.run("node1", "gnt-instance", "migrate", "-f", "-I", "hail",
                    names[0], timeout=180).stdout
        _, nodes = _selected(out, names[0])
        assert nodes[0] != FQDNS[0]
        assert _pnode(c, names[0]) == nodes[0]
        assert "* done" in out
        out = c.run("node1", "gnt-instance", "failover", "-f", "-I", "hail",
                    names[1], timeout=180).stdout
        _, nodes = _selected(out, names[1])
        assert nodes[0] != FQDNS[0] and _pnode(c, names[1]) == nodes[0]
        # everything back on node1, then evacuate node1 with hail
        for name in names:
            c.run("node1", "gnt-instance", "migrate", "-f", "-n", FQDNS[0],
                  name, timeout=180)
        out = c.run("node1", "gnt-node", "evacuate", "-f", "-I", "hail",
                    "-p", FQDNS[0], timeout=300).stdout
        assert "Instances to be moved: " in out
        assert "All instances evacuated successfully." in out
        for name in names:
            assert _pnode(c, name) in FQDNS[1:]
    finally:
        _remove(c, names)


def test_failing_and_missing_allocators_leave_nothing(hail):
    c, _, _ = hail
    name = "%sbad.%s" % (PREFIX, DOMAIN)
    cases = [
        ("gia-fail", "Failure: command execution error:\n"
         "Failure while running the iallocator script: iallocator module"
         " 'gia-fail' failed: exited with exit code 1, output 'cannot place"
         " anything\n'\n"),
        ("gia-refuse", "Failure: prerequisites not met for this operation:\n"
         "error type: insufficient_resources, error details:\n"
         "Can't compute nodes using iallocator 'gia-refuse': no node has"
         " room\n"),
        ("nosuch", "Failure: command execution error:\n"
         "Failure while running the iallocator script: iallocator module"
         " 'nosuch' not found in the search path\n"),
    ]
    for allocator, text in cases:
        res = _add(c, name, "-I", allocator, check=False)
        assert res.returncode == 1, res
        assert res.stderr == text, res.stderr
        assert name not in _names(c)
    # the moves refuse the same way and leave the instance in place
    _add(c, name, "-n", FQDNS[0])
    try:
        res = c.run("node1", "gnt-instance", "migrate", "-f", "-I",
                    "gia-refuse", name, check=False)
        assert res.returncode == 1
        assert "Can't compute nodes using iallocator 'gia-refuse': no node" \
            " has room" in res.stderr
        res = c.run("node1", "gnt-node", "evacuate", "-f", "-I",
                    "gia-refuse", FQDNS[0], check=False)
        assert res.returncode == 1
        assert "Can't compute node evacuation using iallocator" \
            " 'gia-refuse': no node has room" in res.stderr
        assert _pnode(c, name) == FQDNS[0]
    finally:
        _remove(c, [name])


def test_our_most_free_memory_allocator(cluster):
    """Our own allocator (tools/iallocators/most-free-memory), put in the
    nodes' iallocator directory like hail (a bind mount in each node's
    mount namespace), places instances and evacuates a node; node3 is
    drained so that every choice is known."""
    from conftest import TOP
    c = cluster
    allocator = "most-free-memory"
    names = ["%smfm%d.%s" % (PREFIX, i, DOMAIN) for i in range(2)]
    big = "%smfm-big.%s" % (PREFIX, DOMAIN)
    adir = tempfile.mkdtemp(prefix="gia-mfm-")
    os.chmod(adir, 0o755)
    shutil.copy2(os.path.join(TOP, "tools", "iallocators", allocator), adir)
    drained = False
    # stacked on hail's mount when that module fixture is active
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, adir, ignore_errors=True)
        stack.enter_context(allocators_mounted(c, adir))
        try:
            c.run("node1", "gnt-node", "modify", "-D", "yes", FQDNS[2])
            drained = True
            for name in names:
                out = _add(c, name, "-I", allocator).stdout
                used, nodes = _selected(out, name)
                assert used == allocator and len(nodes) == 1
                assert nodes[0] in FQDNS[:2], out
                assert _pnode(c, name) == nodes[0]
            # nobody has a TiB free: refused with each node's reason
            res = _add(c, big, "-I", allocator, "-B", "memory=1048576",
                       check=False)
            assert res.returncode == 1 and big not in _names(c)
            assert re.match(
                r"Failure: prerequisites not met for this operation:\n"
                r"error type: insufficient_resources, error details:\n"
                r"Can't compute nodes using iallocator 'most-free-memory': No"
                r" node has room for instance %s \(1048576 MiB of memory and 0"
                r" MiB of disk\): %s has only \d+ MiB of memory free; %s has"
                r" only \d+ MiB of memory free; %s is drained\n$" %
                tuple(re.escape(n) for n in [big] + FQDNS), res.stderr), \
                res.stderr
            # both on node1, then evacuate it: node2 is the only target left
            for name in names:
                if _pnode(c, name) != FQDNS[0]:
                    c.run("node1", "gnt-instance", "migrate", "-f", "-n",
                          FQDNS[0], name, timeout=180)
            out = c.run("node1", "gnt-node", "evacuate", "-f", "-I", allocator,
                        "-p", FQDNS[0], timeout=300).stdout
            assert "Instances to be moved: %s (to %s), %s (to %s)" % (
                names[0], FQDNS[1], names[1], FQDNS[1]) in out, out
            assert "All instances evacuated successfully." in out
            assert [_pnode(c, name) for name in names] == [FQDNS[1]] * 2
        finally:
            _remove(c, names + [big])
            if drained:
                c.run("node1", "gnt-node", "modify", "-D", "no", FQDNS[2])
                mc = c.run("node1", "gnt-node", "list", "--no-headers", "-o",
                           "master_candidate", FQDNS[2]).stdout.strip()
                if mc != "Y":
                    c.run("node1", "gnt-node", "modify", "-C", "yes", FQDNS[2])
    assert not set(names) & set(_names(c))
