"""OS definitions: discovery, diagnostics, the scripts' exact environment,
the node procedures (real scripts on real files in a relocated tree), the
cluster-wide merge of node answers and the gnt-os texts."""

import importlib
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from ganeti import objects
from ganeti import osapi
from ganeti import pathutils
from ganeti.backend import RPCFail
from ganeti.backend import os as os_backend
from ganeti.client import gnt_os
from ganeti.cmdlib import os as os_lu
from ganeti.query import fields_os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TEST_OS_SRC = os.path.join(TOP, "doc", "examples", "os", "ganeti-test-guest")
SCRIPTS = ("create", "import", "export", "rename", "verify")


def make_os(base, name, api="20\n", variants=None, params="",
            scripts=SCRIPTS, body="#!/bin/sh\nexit 0\n", mode=0o755):
    path = os.path.join(base, name)
    os.makedirs(path)
    if api is not None:
        with open(os.path.join(path, "ganeti_api_version"), "w") as fh:
            fh.write(api)
    if variants is not None:
        with open(os.path.join(path, "variants.list"), "w") as fh:
            fh.write(variants)
    if params is not None:
        with open(os.path.join(path, "parameters.list"), "w") as fh:
            fh.write(params)
    for script in scripts:
        spath = os.path.join(path, script)
        with open(spath, "w") as fh:
            fh.write(body)
        os.chmod(spath, mode)
    return path


@pytest.fixture
def osdir(tmp_path):
    return str(tmp_path)


# --- discovery ---

def test_read_os_api_variants_parameters(osdir):
    make_os(osdir, "deb", api="20\n15\n10\n",
            variants="# comment\n\nbookworm\n  trixie  \n",
            params="filesystem The filesystem type\nsize   \nx-y a b  c\n")
    osdef = osapi.read_os("deb", [osdir])
    assert osdef.path == os.path.join(osdir, "deb")
    assert osdef.api_versions == [20, 15, 10]
    assert osdef.api_version == 20
    assert osdef.variants == ["bookworm", "trixie"]
    assert osdef.parameters == [["filesystem", "The filesystem type"],
                                ["size", ""], ["x-y", "a b  c"]]
    assert osdef.trusted
    assert osdef.create_script == os.path.join(osdir, "deb", "create")


def test_highest_common_api_version(osdir):
    make_os(osdir, "new", api="25\n15\n5\n")
    assert osapi.read_os("new", [osdir]).api_version == 15


def test_first_directory_of_search_path_wins(tmp_path):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    make_os(first, "dup", api="15\n", params=None, scripts=SCRIPTS[:4])
    make_os(second, "dup")
    assert osapi.read_os("dup", [first, second]).path == first + "/dup"
    rows = osapi.diagnose([first, second, str(tmp_path / "missing")])
    assert [(r[0], r[1], r[2], r[6]) for r in rows] == [
        ("dup", first + "/dup", True, [15]),
        ("dup", second + "/dup", True, [20])]


def test_api15_needs_no_verify_nor_parameters(osdir):
    make_os(osdir, "old", api="15\n", params=None, scripts=SCRIPTS[:4])
    osdef = osapi.read_os("old", [osdir])
    assert osdef.script("verify") is None and osdef.parameters == []


def test_untrusted_create(osdir):
    make_os(osdir, "u", scripts=("create_untrusted",) + SCRIPTS[1:])
    osdef = osapi.read_os("u", [osdir])
    assert not osdef.trusted
    assert osdef.create_script.endswith("/create_untrusted")


@pytest.mark.parametrize("kwargs, message", [
    (dict(api=None),
     "Required file 'ganeti_api_version' not found under path {p}: ENOENT"),
    (dict(api="20\ntwenty\n"), "API version(s) can't be converted to"
     " integer: invalid literal for int() with base 10: 'twenty'"),
    (dict(api="5\n"), "API version mismatch for path '{p}': found [5],"
     " want [10, 15, 20]."),
    (dict(scripts=SCRIPTS[1:]), "A create script (trusted or untrusted)"
     " under path '{p}' must exist"),
    (dict(scripts=("create", "import", "export", "verify")),
     "File 'rename' under path '{p}' is missing (ENOENT)"),
    (dict(params=None), "File 'parameters.list' under path '{p}' is missing"
     " (ENOENT)"),
    (dict(mode=0o644), "File 'create' under path '{p}' is not executable"),
])
def test_invalid_definitions(osdir, kwargs, message):
    path = make_os(osdir, "bad", **kwargs)
    with pytest.raises(osapi.InvalidOS) as err:
        osapi.read_os("bad", [osdir])
    assert str(err.value) == message.format(p=path)
    row = osapi.diagnose([osdir])[0]
    assert row == ["bad", path, False, message.format(p=path), [], [], [],
                   True]


def test_missing_os_and_non_regular_files(osdir):
    with pytest.raises(osapi.InvalidOS) as err:
        osapi.read_os("nothere", [osdir])
    assert str(err.value) == \
        "Directory for OS nothere not found in search path"
    path = make_os(osdir, "dirscript", scripts=SCRIPTS[1:])
    os.mkdir(os.path.join(path, "create"))
    with pytest.raises(osapi.InvalidOS) as err:
        osapi.read_os("dirscript", [osdir])
    assert str(err.value) == ("File 'create' under path '%s' is not a"
                              " regular file" % path)


def test_diagnose_skips_hidden_entries_and_sorts(osdir):
    make_os(osdir, "zeta")
    make_os(osdir, "alpha", variants="v1\n")
    make_os(osdir, ".hidden")
    rows = osapi.diagnose([osdir])
    assert [r[0] for r in rows] == ["alpha", "zeta"]
    assert rows[0][4] == ["v1"] and rows[0][7] is True


def test_names_and_checks(osdir):
    assert osapi.get_name("deb+bookworm") == "deb"
    assert osapi.get_variant("deb+bookworm") == "bookworm"
    assert osapi.get_variant("deb") == ""
    assert osapi.calculate_os_names("deb", ["a", "b"]) == ["deb+a", "deb+b"]
    assert osapi.calculate_os_names("noop", []) == ["noop"]
    make_os(osdir, "v", variants="one\n", params="p1 x\n")
    make_os(osdir, "plain")
    with_variants = osapi.read_os("v", [osdir])
    plain = osapi.read_os("plain", [osdir])
    assert osapi.check_variant(with_variants, "v+one") is None
    assert osapi.check_variant(with_variants, "v") == \
        "OS name 'v' must include a variant"
    assert osapi.check_variant(with_variants, "v+two") == \
        "OS 'v' does not support variant 'two'"
    assert osapi.check_variant(plain, "plain+x") == \
        "OS 'plain' doesn't support variants ('x' passed)"
    assert osapi.check_parameters(with_variants, ["p1"]) is None
    assert osapi.check_parameters(with_variants, ["zz", "p1", "aa"]) == \
        "The following parameters are not supported by the OS v: aa, zz"


def test_fill_os_params():
    cluster = objects.Cluster(osparams={"deb": {"a": "1", "b": "1"},
                                        "deb+x": {"b": "2", "c": "2"}})
    assert osapi.fill_os_params(cluster, "deb+x", {"c": "3"}) == \
        {"a": "1", "b": "2", "c": "3"}
    assert osapi.fill_os_params(cluster, "deb", {}, {"s": "p"}) == \
        {"a": "1", "b": "1", "s": "p"}


# --- environments ---

def _instance(osname="deb+trixie"):
    inst = objects.Instance(
        name="inst1.example.com", uuid="i-uuid", os=osname,
        hypervisor="kvm", primary_node="n-uuid", ctime=100.5, mtime=200,
        hvparams={"disk_type": "paravirtual", "nic_type": "e1000",
                  "serial_console": True},
        beparams={"maxmem": 256, "vcpus": 1},
        osparams={"filesystem": "ext4", "x-y": "1"},
        osparams_private={"secret": "s3"},
        nics=[objects.NIC(mac="aa:00:00:11:22:33", uuid="nic0",
                          ip="198.51.100.50",
                          nicparams={"mode": "bridged", "link": "br0"}),
              objects.NIC(mac="aa:00:00:11:22:44", uuid="nic1", name="net1",
                          nicparams={"mode": "routed", "link": ""},
                          netinfo={"name": "n1", "uuid": "net-uuid",
                                   "network": "198.51.100.0/24",
                                   "gateway": "198.51.100.1",
                                   "tags": ["a", "b"]})])
    inst.upgrade_config()
    disks = [
        (objects.Disk(dev_type="file", logical_id=["loop", "/srv/d0"],
                      uuid="d0", mode="rw", size=1024, name="root"),
         "/srv/d0", None),
        (objects.Disk(dev_type="plain", logical_id=["vg", "lv"], uuid="d1",
                      mode="ro", size=512), "/dev/vg/lv", "kvm:uri"),
    ]
    return inst, disks


def test_instance_environment_exact(osdir):
    make_os(osdir, "deb", api="20\n15\n", variants="bookworm\ntrixie\n",
            params="filesystem fs\nx-y z\nsecret s\n")
    osdef = osapi.read_os("deb", [osdir])
    inst, disks = _instance()
    env = osapi.instance_env(inst, osdef, disks, debug=1,
                             secondary_nodes=["n2", "n3"])
    assert env == {
        "OS_API_VERSION": "20", "OS_NAME": "deb", "OS_VARIANT": "trixie",
        "DEBUG_LEVEL": "1", "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
        "OSP_FILESYSTEM": "ext4", "OSP_X_Y": "1", "OSP_SECRET": "s3",
        "INSTANCE_NAME": "inst1.example.com", "INSTANCE_OS": "deb+trixie",
        "INSTANCE_UUID": "i-uuid", "INSTANCE_CTIME": "100.5",
        "INSTANCE_MTIME": "200", "INSTANCE_PRIMARY_NODE": "n-uuid",
        "INSTANCE_SECONDARY_NODES": "n2 n3", "HYPERVISOR": "kvm",
        "DISK_COUNT": "2", "NIC_COUNT": "2",
        "DISK_0_ACCESS": "rw", "DISK_0_UUID": "d0", "DISK_0_PATH": "/srv/d0",
        "DISK_0_NAME": "root", "DISK_0_SIZE": "1024",
        "DISK_0_FRONTEND_TYPE": "paravirtual",
        "DISK_0_BACKEND_TYPE": "file:loop",
        "DISK_1_ACCESS": "ro", "DISK_1_UUID": "d1",
        "DISK_1_PATH": "/dev/vg/lv", "DISK_1_URI": "kvm:uri",
        "DISK_1_SIZE": "512", "DISK_1_FRONTEND_TYPE": "paravirtual",
        "DISK_1_BACKEND_TYPE": "block",
        "NIC_0_MAC": "aa:00:00:11:22:33", "NIC_0_UUID": "nic0",
        "NIC_0_IP": "198.51.100.50", "NIC_0_MODE": "bridged",
        "NIC_0_BRIDGE": "br0", "NIC_0_LINK": "br0",
        "NIC_0_FRONTEND_TYPE": "e1000",
        "NIC_1_MAC": "aa:00:00:11:22:44", "NIC_1_UUID": "nic1",
        "NIC_1_NAME": "net1", "NIC_1_MODE": "routed",
        "NIC_1_NETWORK_NAME": "n1", "NIC_1_NETWORK_UUID": "net-uuid",
        "NIC_1_NETWORK_TAGS": "a b",
        "NIC_1_NETWORK_SUBNET": "198.51.100.0/24",
        "NIC_1_NETWORK_GATEWAY": "198.51.100.1",
        "NIC_1_FRONTEND_TYPE": "e1000",
        "INSTANCE_BE_maxmem": "256", "INSTANCE_BE_vcpus": "1",
        "INSTANCE_HV_disk_type": "paravirtual", "INSTANCE_HV_nic_type":
        "e1000", "INSTANCE_HV_serial_console": "True",
    }


def test_variant_defaults_to_first_and_old_api_has_none(osdir):
    make_os(osdir, "deb", variants="bookworm\ntrixie\n")
    make_os(osdir, "old", api="10\n", variants="ignored\n", params=None,
            scripts=SCRIPTS[:4])
    env = osapi.core_env("deb", osapi.read_os("deb", [osdir]), {})
    assert env["OS_VARIANT"] == "bookworm"
    env = osapi.core_env("old+x", osapi.read_os("old", [osdir]), {})
    assert env["OS_VARIANT"] == "" and env["OS_API_VERSION"] == "10"


def test_kind_specific_variables():
    base = {"A": "1"}
    assert osapi.create_env(base, False) == base
    assert osapi.create_env(base, True) == {"A": "1",
                                            "INSTANCE_REINSTALL": "1"}
    assert osapi.rename_env(base, "old.example.com") == \
        {"A": "1", "OLD_INSTANCE_NAME": "old.example.com"}
    assert osapi.import_env(base, 1, "/dev/x") == {
        "A": "1", "IMPORT_INDEX": "1", "IMPORT_DEVICE": "/dev/x",
        "IMPORT_DISK_PATH": "/dev/x"}
    assert osapi.export_env(base, 0, "/f", uri="u", size_fd=5) == {
        "A": "1", "EXPORT_INDEX": "0", "EXPORT_DEVICE": "/f",
        "EXPORT_DISK_PATH": "/f", "EXPORT_DISK_URI": "u", "EXP_SIZE_FD": "5"}
    assert base == {"A": "1"}


def test_log_file_name():
    import time
    now = time.mktime((2024, 3, 5, 7, 8, 9, 0, 0, -1))
    assert osapi.log_file_name("add", "deb+x", "inst1.example.com",
                               now=now) == \
        pathutils.LOG_OS_DIR + "/add-deb+x-inst1.example.com-" \
        "2024-03-05_07_08_09.log"
    assert osapi.log_file_name("import", "deb", "i", component="disk0",
                               now=now).endswith(
        "/import-deb-i-disk0-2024-03-05_07_08_09.log")


# --- node procedures, for real ---

@pytest.fixture
def node_root():
    path = tempfile.mkdtemp(prefix="gos", dir="/tmp")
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = path
    importlib.reload(pathutils)
    try:
        os.makedirs(pathutils.CONF_DIR)
        storage = path + "/srv/ganeti/file-storage"
        os.makedirs(storage)
        with open(pathutils.FILE_STORAGE_PATHS_FILE, "w") as fh:
            fh.write(storage + "\n")
        os.makedirs(pathutils.OS_SEARCH_PATH[0])
        subprocess.run([os.path.join(TOP, "tools", "install-test-os"),
                        "--dir", pathutils.OS_SEARCH_PATH[0]], check=True)
        yield path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)
        shutil.rmtree(path)


def _wire_instance(root, os_name="ganeti-test-guest+default", size=16,
                   name="inst1.example.com"):
    disk_path = root + "/srv/ganeti/file-storage/%s/disk0" % name
    os.makedirs(os.path.dirname(disk_path), exist_ok=True)
    with open(disk_path, "wb") as fh:
        fh.truncate(size * 1024 * 1024)
    inst = objects.Instance(name=name, uuid="uuid-1", os=os_name,
                            hypervisor="fake", primary_node="node1",
                            osparams={"marker": "HELLO 42"}, nics=[],
                            disks=["d0"])
    data = inst.to_dict()
    data["disks_info"] = [objects.Disk(
        dev_type="file", logical_id=["loop", disk_path], uuid="d0",
        size=size, mode="rw", iv_name="disk/0").to_dict()]
    return data, disk_path


def _debugfs_cat(image, path):
    return subprocess.run(["debugfs", "-R", "cat %s" % path, image],
                          capture_output=True, text=True).stdout


def _logs():
    return sorted(os.listdir(pathutils.LOG_OS_DIR))


def test_instance_os_add_runs_create_and_logs(node_root):
    data, disk = _wire_instance(node_root)
    assert os_backend.instance_os_add(data, False, 0) is None
    (log,) = _logs()
    assert log.startswith("add-ganeti-test-guest+default-inst1.example.com-")
    assert log.endswith(".log")
    with open(os.path.join(pathutils.LOG_OS_DIR, log)) as fh:
        text = fh.read()
    assert "Installing inst1.example.com (ganeti-test-guest+default)" in text
    assert _debugfs_cat(disk, "/ganeti-test-guest") == \
        "HELLO 42 inst1.example.com\n"
    env = dict(line.split("=", 1) for line in
               _debugfs_cat(disk, "/ganeti/create.env").splitlines())
    assert env["DISK_0_PATH"] == disk
    assert env["DISK_0_BACKEND_TYPE"] == "file:loop"
    assert env["OS_VARIANT"] == "default"
    assert env["OSP_MARKER"] == "HELLO 42"
    assert env["PATH"] == "/sbin:/bin:/usr/sbin:/usr/bin"
    assert "INSTANCE_REINSTALL" not in env
    # nothing of the caller's environment leaks into the script's
    assert "GANETI_ROOTDIR" not in env and "HOME" not in env
    # reinstall
    os_backend.instance_os_add(data, True, 1)
    env = _debugfs_cat(disk, "/ganeti/create.env")
    assert "INSTANCE_REINSTALL=1\n" in env and "DEBUG_LEVEL=1\n" in env


def test_instance_os_add_failure_quotes_log_tail(node_root):
    data, _ = _wire_instance(node_root, size=1)   # create wants 4 MiB
    with pytest.raises(RPCFail) as err:
        os_backend.instance_os_add(data, False, 0)
    assert str(err.value) == (
        "OS create script failed (exited with exit code 1), last lines in"
        " the log file:\ncreate: Disk 0 is too small (1048576 bytes, need"
        " 4 MiB)")


def test_instance_os_add_needs_existing_disk_and_os(node_root):
    data, disk = _wire_instance(node_root)
    os.unlink(disk)
    with pytest.raises(RPCFail) as err:
        os_backend.instance_os_add(data, False, 0)
    assert str(err.value) == "Block device 'disk/0' is not set up"
    data, _ = _wire_instance(node_root, os_name="nosuch")
    with pytest.raises(RPCFail) as err:
        os_backend.instance_os_add(data, False, 0)
    assert str(err.value) == \
        "Directory for OS nosuch not found in search path"


def test_instance_run_rename(node_root):
    data, disk = _wire_instance(node_root)
    os_backend.instance_os_add(data, False, 0)
    data["name"] = "inst2.example.com"
    os_backend.instance_run_rename(data, "inst1.example.com", 0)
    renames = [n for n in _logs() if n.startswith("rename-")]
    assert len(renames) == 1 and renames[0].startswith(
        "rename-ganeti-test-guest+default-inst1.example.com-"
        "inst2.example.com-")
    assert _debugfs_cat(disk, "/etc/hostname") == "inst2.example.com\n"
    env = _debugfs_cat(disk, "/ganeti/rename.env")
    assert "OLD_INSTANCE_NAME=inst1.example.com\n" in env
    assert "INSTANCE_NAME=inst2.example.com\n" in env


def test_os_validate(node_root):
    assert os_backend.os_validate(False, "nosuch", [], {}, False) is False
    with pytest.raises(RPCFail) as err:
        os_backend.os_validate(True, "nosuch", [], {}, False)
    assert str(err.value) == \
        "Directory for OS nosuch not found in search path"
    name = "ganeti-test-guest"
    assert os_backend.os_validate(True, name + "+default", ["parameters"],
                                  {"marker": "ok"}, False) is True
    with pytest.raises(RPCFail) as err:
        os_backend.os_validate(True, name, [], {}, False)
    assert str(err.value) == \
        "OS name 'ganeti-test-guest' must include a variant"
    assert os_backend.os_validate(True, name, [], {}, True) is True
    with pytest.raises(RPCFail) as err:
        os_backend.os_validate(True, name + "+default", ["parameters"],
                               {"colour": "red"}, False)
    assert str(err.value) == ("The following parameters are not supported"
                              " by the OS ganeti-test-guest: colour")
    with pytest.raises(RPCFail) as err:
        os_backend.os_validate(True, name + "+default", ["parameters"],
                               {"marker": "no;way"}, False)
    assert str(err.value) == (
        "OS validation script failed (exited with exit code 1), output:"
        " verify: Invalid value 'no;way' for parameter marker (letters,"
        " digits, space and ._:- only, at most 80)\n")


def test_os_export_packs_definition_and_environment(node_root):
    data, _ = _wire_instance(node_root)
    package = os_backend.os_export(data, {"EXTRA": "x"})
    try:
        with tarfile.open(package) as tar:
            names = set(tar.getnames())
            env = tar.extractfile("./environment").read().decode()
        assert "./os/create" in names and "./os/ganeti_api_version" in names
        assert "EXTRA=x\n" in env and "OSP_MARKER=HELLO 42\n" in env
    finally:
        os.unlink(package)


def test_run_script_timeout_and_signal(tmp_path):
    script = tmp_path / "s"
    script.write_text("#!/bin/sh\necho started\nexec sleep 30\n")
    script.chmod(0o755)
    log = str(tmp_path / "log")
    result = os_backend.run_script([str(script)], {"PATH": "/bin:/usr/bin"},
                                   str(tmp_path), 0.5, log_path=log)
    assert result.failed
    assert result.fail_reason == ("terminated by signal 9, terminated after"
                                  " timeout of 0.50 seconds")
    assert open(log).read() == "started\n"


# --- cluster view and commands ---

def _row(name, path, ok=True, variants=(), params=(), apis=(20,),
         trusted=True, diag=""):
    return [name, path, ok, diag, list(variants), [list(p) for p in params],
            list(apis), trusted]


def test_merge_diagnoses():
    cluster = objects.Cluster(hidden_os=["h"], blacklisted_os=[],
                              os_hvp={"a+x": {"kvm": {"acpi": False}}},
                              osparams={"a": {"p": "1"}})
    payloads = {
        "node1": [_row("a", "/srv/a", variants=["x", "y"],
                       params=[["p", "d"], ["q", "e"]], apis=[15, 20]),
                  _row("h", "/srv/h"),
                  _row("a", "/usr/a", ok=False, diag="broken")],
        "node2": [_row("a", "/srv/a", variants=["y", "x", "z"],
                       params=[["p", "d"]], apis=[20], trusted=False)],
    }
    oses = fields_os.merge_diagnoses(payloads, cluster)
    a, h = oses["a"], oses["h"]
    assert a.valid and a.variants == ["x", "y"]
    assert a.parameters == [["p", "d"]] and a.api_versions == [20]
    assert a.trusted is False
    assert a.os_hvp == {"a+x": {"kvm": {"acpi": False}}}
    assert a.osparams == {"a": {"p": "1"}}
    assert len(a.node_status["node1"]) == 2
    assert not h.valid and h.hidden and h.node_status["node2"] == []


def test_diagnose_filter():
    assert os_lu.build_filter(["name", "variants"], []) == [
        "&", ["!", ["?", "hidden"]], ["!", ["?", "blacklisted"]],
        ["?", "valid"]]
    assert os_lu.build_filter(["name", "valid", "hidden", "blacklisted"],
                              []) is None
    assert os_lu.build_filter(["name", "valid", "hidden", "blacklisted"],
                              ["a", "b"]) == [
        "|", ["==", "name", "a"], ["==", "name", "b"]]


def test_diagnose_node_message():
    entry = ["/srv/ganeti/os/deb", True, "", ["a", "b"], [["p", "d"]],
             [15, 20], True]
    assert gnt_os._node_message(entry) == (
        "valid (path: /srv/ganeti/os/deb) [API versions: 15, 20]"
        " [variants: a, b] [parameters: p] [trusted]")
    entry = ["/srv/x", False, "File 'create' ... missing", [], [], [], True]
    assert gnt_os._node_message(entry) == (
        "invalid - File 'create' ... missing (path: /srv/x) [no API versions"
        " declared] [trusted]")
    entry = ["/srv/y", True, "", [], [], [20], False]
    assert gnt_os._node_message(entry) == (
        "valid (path: /srv/y) [API versions: 20] [no variants]"
        " [no parameters] [untrusted]")
