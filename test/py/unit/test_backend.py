"""Node-side procedures (ganeti.backend) on a relocated file tree.

``GANETI_ROOTDIR`` points at a temporary directory and ``pathutils`` is
reloaded; backend functions read paths at call time, so no other module
needs reloading. The original paths are restored afterwards.
"""

import importlib
import os
import stat
import subprocess
import sys
import time

import pytest

from ganeti import constants
from ganeti import pathutils
from ganeti.backend import RPCFail
from ganeti.backend import files
from ganeti.backend import hooks
from ganeti.backend import master
from ganeti.backend import node
from ganeti.rpc import defs


@pytest.fixture
def root(tmp_path):
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = str(tmp_path)
    importlib.reload(pathutils)
    try:
        os.makedirs(pathutils.QUEUE_DIR)
        yield str(tmp_path)
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _read(path):
    with open(path) as fh:
        return fh.read()


# --- ssconf ---

def test_ssconf_files_format_and_mode(root):
    files.write_ssconf_files({
        "cluster_name": "cluster.example.com",
        "node_list": "node1.example.com\nnode2.example.com",
        "master_candidates": ["node1.example.com", "node2.example.com"],
        "cluster_tags": "",
        "maintain_node_health": False,
        "hvparams_kvm": "acpi=True\nkvm_path=/usr/bin/kvm",
    })
    path = pathutils.ssconf_file("cluster_name")
    assert path == root + "/var/lib/ganeti/ssconf_cluster_name"
    assert _read(path) == "cluster.example.com\n"
    assert _mode(path) == 0o444
    assert (_read(pathutils.ssconf_file("node_list")) ==
            "node1.example.com\nnode2.example.com\n")
    assert (_read(pathutils.ssconf_file("master_candidates")) ==
            "node1.example.com\nnode2.example.com\n")
    assert _read(pathutils.ssconf_file("cluster_tags")) == ""
    assert _read(pathutils.ssconf_file("maintain_node_health")) == "False\n"
    assert _read(pathutils.ssconf_file("hvparams_kvm")).endswith(
        "/usr/bin/kvm\n")
    # rewriting replaces atomically and keeps the mode
    files.write_ssconf_files({"cluster_name": "other.example.com"})
    assert _read(path) == "other.example.com\n"
    assert _mode(path) == 0o444


def test_ssconf_rejects_unknown_and_bad_keys(root):
    for key in ("no_such_key", "../config.data", "a/b"):
        with pytest.raises(RPCFail):
            files.write_ssconf_files({key: "x"})
    with pytest.raises(RPCFail):
        files.write_ssconf_files(
            {"cluster_tags": "x" * (constants.SSCONF_MAX_SIZE + 1)})
    assert not [n for n in os.listdir(pathutils.DATA_DIR)
                if n.startswith("ssconf_")]


def test_ssconf_read_back_by_node_verify_and_master_name(root):
    files.write_ssconf_files({"master_node": "node1.example.com",
                              "cluster_name": "c.example.com"})
    assert master.master_node_name() == "node1.example.com"
    result = node.node_verify({defs.NV_SSCONF: None}, "c", {})
    assert result[defs.NV_SSCONF] == {"master_node": "node1.example.com",
                                      "cluster_name": "c.example.com"}


def test_master_node_name_without_ssconf_fails(root):
    with pytest.raises(RPCFail):
        master.master_node_name()


# --- job queue ---

def test_jobqueue_update_writes_inside_queue(root):
    job = pathutils.job_file(17)
    files.jobqueue_update(job, [0, '{"id": 17}'])
    assert _read(job) == '{"id": 17}'
    assert _mode(job) == constants.JOB_QUEUE_FILES_PERMS
    archived = pathutils.archived_job_file(12345)
    big = b"x" * 4000
    files.jobqueue_update(archived, defs.encode_content(big))
    assert open(archived, "rb").read() == big


@pytest.mark.parametrize("bad", [
    "/etc/passwd",
    "relative/job-1",
    "{queue}/../config.data",
    "{queue}",
    "{queue}-evil/job-1",
])
def test_jobqueue_update_rejects_paths_outside_queue(root, bad):
    path = bad.format(queue=pathutils.QUEUE_DIR)
    with pytest.raises(RPCFail) as exc:
        files.jobqueue_update(path, [0, "x"])
    assert "queue" in str(exc.value)
    assert not os.path.exists(pathutils.CLUSTER_CONF_FILE)


def test_jobqueue_rename_purge_and_drain(root):
    old = pathutils.job_file(3)
    new = pathutils.archived_job_file(3)
    files.jobqueue_update(old, [0, "{}"])
    files.jobqueue_update(pathutils.JOB_QUEUE_SERIAL_FILE, [0, "3\n"])
    files.jobqueue_rename([[old, new]])
    assert not os.path.exists(old) and _read(new) == "{}"
    with pytest.raises(RPCFail):
        files.jobqueue_rename([[new, "/tmp/stolen"]])
    assert os.path.exists(new)

    files.jobqueue_set_drain_flag(True)
    assert os.path.exists(pathutils.JOB_QUEUE_DRAIN_FILE)
    files.jobqueue_set_drain_flag(False)
    assert not os.path.exists(pathutils.JOB_QUEUE_DRAIN_FILE)

    open(pathutils.JOB_QUEUE_LOCK_FILE, "w").close()
    files.jobqueue_purge()
    assert os.listdir(pathutils.QUEUE_DIR) == ["lock"]


# --- upload_file ---

def test_upload_file_whitelisted_target(root):
    path = pathutils.CLUSTER_CONF_FILE
    mtime = time.time() - 3600
    files.upload_file(path, defs.encode_content(b'{"cluster": {}}'), 0o600,
                      "root", "root", mtime, mtime)
    assert _read(path) == '{"cluster": {}}'
    assert _mode(path) == 0o600
    assert abs(os.stat(path).st_mtime - mtime) < 1
    # rapi/users lives in a subdirectory that may not exist yet
    files.upload_file(pathutils.RAPI_USERS_FILE, [0, "admin pw write\n"],
                      0o640, -1, -1, None, None)
    assert _read(pathutils.RAPI_USERS_FILE) == "admin pw write\n"


@pytest.mark.parametrize("target", [
    "/etc/passwd",
    "{data}/ssconf_cluster_name",
    "{data}/queue/job-1",
    "{data}/rapi/../../../../etc/shadow",
])
def test_upload_file_rejects_other_targets(root, target):
    path = target.format(data=pathutils.DATA_DIR)
    with pytest.raises(RPCFail) as exc:
        files.upload_file(path, [0, "x"], 0o644, -1, -1, None, None)
    assert str(exc.value) == ("Filename passed to UploadFile not in allowed"
                              " upload targets: '%s'" % path)


# --- node facts ---

def test_node_info_storage_and_memory(root):
    boot_id, storage, hv_info = node.node_info(
        [["file", root, []], ["sharedfile", root + "/missing", []]],
        [["fake", {}]])
    assert boot_id is None or len(boot_id) == 36
    assert storage[0]["type"] == "file" and storage[0]["name"] == root
    assert 0 <= storage[0]["storage_free"] <= storage[0]["storage_size"]
    assert storage[1]["storage_free"] is None
    info = hv_info[0]
    for key in ("memory_total", "memory_free", "memory_dom0", "cpu_total",
                "cpu_nodes", "cpu_sockets", "cpu_dom0"):
        assert isinstance(info[key], int), key
    assert info["memory_total"] >= info["memory_free"]
    assert info["memory_dom0"] == info["memory_total"] - info["memory_free"]


def test_parse_vgs_output():
    # vgs --noheadings --units=m --nosuffix -o vg_name,vg_free,vg_size
    output = "  xenvg   10236.00  102396.00\n  other     0.00   512.50\n"
    assert node.parse_vgs_output(output) == {
        "xenvg": (10236, 102396), "other": (0, 512)}


def test_node_verify_checks(root, tmp_path):
    present = tmp_path / "present"
    present.write_text("abc")
    result = node.node_verify({
        defs.NV_VERSION: None,
        defs.NV_FILELIST: [str(present), str(tmp_path / "absent")],
        defs.NV_TIME: None,
        defs.NV_HYPERVISOR: ["fake", "nonesuch"],
        defs.NV_BRIDGES: ["surely-no-such-bridge"],
        "unknown-check": 1,
    }, "cluster", {})
    assert result[defs.NV_VERSION] == [constants.PROTOCOL_VERSION,
                                       constants.RELEASE_VERSION]
    assert result[defs.NV_FILELIST] == {
        str(present): "a9993e364706816aba3e25717850c26c9cd0d89d",
        str(tmp_path / "absent"): None}
    assert abs(result[defs.NV_TIME][0] - time.time()) < 5
    assert result[defs.NV_HYPERVISOR]["fake"] is None
    assert result[defs.NV_HYPERVISOR]["nonesuch"]
    assert result[defs.NV_BRIDGES] == ["surely-no-such-bridge"]
    assert "unknown-check" not in result


def test_node_verify_nodelist_reports_only_failures(monkeypatch):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    monkeypatch.setattr(node, "NODED_PORT", listener.getsockname()[1])
    try:
        result = node.node_verify({
            defs.NV_NODELIST: {"up": "127.0.0.1", "down": "127.0.0.2"},
            defs.NV_NODENETTEST: [["up", "127.0.0.1", "127.0.0.1"],
                                  ["down", "127.0.0.1", "127.0.0.3"]],
            defs.NV_MASTERIP: "127.0.0.1",
        }, "cluster", {})
    finally:
        listener.close()
    assert list(result[defs.NV_NODELIST]) == ["down"]
    assert "127.0.0.2" in result[defs.NV_NODELIST]["down"]
    assert list(result[defs.NV_NODENETTEST]) == ["down"]
    assert "127.0.0.3" in result[defs.NV_NODENETTEST]["down"]
    assert result[defs.NV_MASTERIP] is True


def test_node_has_ip_address():
    assert node.node_has_ip_address("127.0.0.1") is True
    assert node.node_has_ip_address("198.51.100.254") is False


def test_etc_hosts_edit_text():
    content = ("127.0.0.1\tlocalhost\n"
               "198.51.100.11\tnode1.example.com node1\n"
               "198.51.100.12\tnode2.example.com node2 extra # comment\n")
    added = node.edit_hosts_text(content, "add", "node3.example.com",
                                 "198.51.100.13")
    assert added.endswith("198.51.100.13\tnode3.example.com node3\n")
    removed = node.edit_hosts_text(content, "remove", "node2.example.com",
                                   None)
    assert "node2" not in removed
    assert "198.51.100.12\textra # comment" in removed
    assert "node1.example.com" in removed
    readded = node.edit_hosts_text(content, "add", "node1.example.com",
                                   "198.51.100.21")
    assert readded.count("node1") == 2  # one line, two names
    assert "198.51.100.11" not in readded


def test_etc_hosts_modify_in_rootdir(root):
    os.makedirs(root + "/etc")
    with open(root + "/etc/hosts", "w") as fh:
        fh.write("127.0.0.1\tlocalhost\n")
    node.etc_hosts_modify("add", "node9.example.com", "198.51.100.19")
    assert "198.51.100.19\tnode9.example.com node9" in _read(
        root + "/etc/hosts")
    node.etc_hosts_modify("remove", "node9.example.com", None)
    assert _read(root + "/etc/hosts") == "127.0.0.1\tlocalhost\n"
    with pytest.raises(RPCFail):
        node.etc_hosts_modify("add", "x", None)


def test_watcher_pause(root):
    assert node.get_watcher_pause() is None
    until = int(time.time()) + 600
    node.set_watcher_pause(until)
    assert _read(pathutils.WATCHER_PAUSEFILE) == "%d\n" % until
    assert node.get_watcher_pause() == until
    node.set_watcher_pause(int(time.time()) - 10)
    assert node.get_watcher_pause() is None  # expired
    node.set_watcher_pause(None)
    assert not os.path.exists(pathutils.WATCHER_PAUSEFILE)


def test_test_delay():
    start = time.time()
    node.test_delay(0.2)
    assert time.time() - start >= 0.2
    with pytest.raises(RPCFail):
        node.test_delay(-1)


# --- hooks ---

def test_hooks_runner(root):
    hdir = os.path.join(pathutils.HOOKS_BASE_DIR, "instance-start-post.d")
    os.makedirs(hdir)
    scripts = {
        "10-ok": "#!/bin/sh\necho ok $GANETI_INSTANCE_NAME\n",
        "20-fail": "#!/bin/sh\necho broken >&2\nexit 3\n",
        "30-noexec": "#!/bin/sh\nexit 0\n",
        "bad.name": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        path = os.path.join(hdir, name)
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, 0o644 if name == "30-noexec" else 0o755)
    result = hooks.hooks_runner("instance-start", "post",
                                {"GANETI_INSTANCE_NAME": "inst1"})
    assert result == [
        ["instance-start-post.d/10-ok", defs.HKR_SUCCESS, "ok inst1"],
        ["instance-start-post.d/20-fail", defs.HKR_FAIL, "broken"],
        ["instance-start-post.d/30-noexec", defs.HKR_SKIP, ""],
        ["instance-start-post.d/bad.name", defs.HKR_SKIP, ""],
    ]
    assert hooks.hooks_runner("cluster-verify", "pre", {}) == []
    with pytest.raises(RPCFail):
        hooks.hooks_runner("../x", "pre", {})


# --- master ---

def test_master_ip_env():
    env = master.master_ip_env({"name": "node1", "ip": "198.51.100.100",
                                "netmask": 24, "netdev": "eth0",
                                "ip_family": 2, "uuid": "u"})
    assert env == {"MASTER_NETDEV": "eth0", "MASTER_IP": "198.51.100.100",
                   "MASTER_NETMASK": "24", "CLUSTER_IP_VERSION": "4"}
    with pytest.raises(RPCFail):
        master.master_ip_env({"ip": "198.51.100.100"})


def test_external_master_ip_script(root):
    script = pathutils.EXTERNAL_MASTER_SETUP_SCRIPT
    os.makedirs(os.path.dirname(script))
    out = os.path.join(root, "mip.out")
    with open(script, "w") as fh:
        fh.write("#!/bin/sh\necho \"$1 $MASTER_IP/$MASTER_NETMASK"
                 " $MASTER_NETDEV $CLUSTER_IP_VERSION\" >> %s\n" % out)
    os.chmod(script, 0o755)
    params = {"name": "n", "ip": "198.51.100.100", "netmask": 24,
              "netdev": "br0", "ip_family": 2, "uuid": "u"}
    master.node_activate_master_ip(params, True)
    master.node_deactivate_master_ip(params, True)
    assert _read(out) == ("start 198.51.100.100/24 br0 4\n"
                          "stop 198.51.100.100/24 br0 4\n")


def test_node_leave_cluster_cleans_up(root, monkeypatch):
    monkeypatch.setenv("GANETI_DAEMON_UTIL", "/bin/true")
    files.write_ssconf_files({"cluster_name": "c"})
    files.upload_file(pathutils.NODED_CERT_FILE, [0, "pem"], 0o400, -1, -1,
                      None, None)
    files.jobqueue_update(pathutils.job_file(1), [0, "{}"])
    master.node_leave_cluster(False)
    assert os.listdir(pathutils.DATA_DIR) == ["queue"]
    assert os.listdir(pathutils.QUEUE_DIR) == []


def _can_unshare_net():
    try:
        return subprocess.run(["unshare", "-n", "true"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


_MIP_SCRIPT = """
import subprocess
from ganeti.backend import master, node
run = lambda *a: subprocess.run(a, check=True)
run("ip", "link", "add", "gnt0", "type", "bridge")
run("ip", "link", "set", "gnt0", "up")
p = {"name": "n1", "ip": "198.51.100.100", "netmask": 24, "netdev": "gnt0",
     "ip_family": 2, "uuid": "u"}
assert not node.node_has_ip_address("198.51.100.100")
master.node_activate_master_ip(p, False)
master.node_activate_master_ip(p, False)  # already there: fine
out = subprocess.run(["ip", "-o", "-4", "addr", "show", "gnt0"],
                     capture_output=True, text=True).stdout
assert "198.51.100.100/24" in out and "gnt0:0" in out, out
assert node.node_has_ip_address("198.51.100.100")
master.node_deactivate_master_ip(p, False)
master.node_deactivate_master_ip(p, False)  # already gone: fine
assert not node.node_has_ip_address("198.51.100.100")
assert node.missing_bridges(["gnt0", "nobr0"]) == ["nobr0"]
print("OK")
"""


@pytest.mark.skipif(not _can_unshare_net(),
                    reason="needs root and network namespaces")
def test_master_ip_activation_in_network_namespace():
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.run(["unshare", "-n", sys.executable, "-c",
                           _MIP_SCRIPT],
                          env=dict(os.environ, PYTHONPATH=top),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"


def test_run_oob(tmp_path):
    prog = tmp_path / "oob"
    prog.write_text("#!/bin/sh\necho \"$1 $2\"\n[ \"$1\" = power-status ]\n")
    prog.chmod(0o755)
    assert hooks.run_oob(str(prog), "power-status", "node1", 10) == \
        "power-status node1\n"
    with pytest.raises(RPCFail):
        hooks.run_oob(str(prog), "power-off", "node1", 10)
    with pytest.raises(RPCFail):
        hooks.run_oob("relative/oob", "power-on", "node1", 10)
