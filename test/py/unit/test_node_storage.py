"""Node storage, volumes, out-of-band commands and powercycle.

The backend runs for real where it can here: file storage is listed from
a temporary directory with real files, the out-of-band helper is a real
script run by ``backend.hooks.run_oob``. LVM cannot run on this machine,
so the LVM parsers are pinned on hand-made outputs in the real format
(``test/data/storage``, see its README) and the command lines built are
compared with Ganeti's.
"""

import json
import os
import shutil
import stat

import pytest

from ganeti import constants
from ganeti import errors
from ganeti.backend import common as backend_common
from ganeti.backend import hooks as backend_hooks
from ganeti.backend import power as backend_power
from ganeti.backend import storage as backend_storage
from ganeti.client import gnt_node
from ganeti.cmdlib import node_oob
from ganeti.rpc.client import RpcResult
from ganeti.utils import process

from test_cmdlib import (FakeRpc, run_lu, root, cfg,  # noqa: F401
                         MASTER, NODE2, NODE3)

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "data", "storage")
RPCFail = backend_common.RPCFail


def data_file(name):
    with open(os.path.join(DATA, name)) as fh:
        return fh.read()


# --- backend: file storage ---

def test_file_storage_reports_real_sizes(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * (3 * 1024 * 1024))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * (2 * 1024 * 1024))
    fields = ["name", "size", "used", "free", "allocatable"]
    rows = backend_storage.storage_list("file", [[str(tmp_path)]], None,
                                        fields)
    st = os.statvfs(str(tmp_path))
    assert len(rows) == 1
    name, size, used, free, allocatable = rows[0]
    assert name == str(tmp_path)
    assert used == 5
    assert size == round(st.f_blocks * st.f_frsize / 1048576.0)
    assert abs(free - st.f_bavail * st.f_frsize / 1048576.0) < 64
    assert allocatable is True


def test_file_storage_named_unit_and_field_order(tmp_path):
    rows = backend_storage.storage_list("sharedfile", [["/nonexistent"]],
                                        str(tmp_path), ["allocatable",
                                                        "name"])
    assert rows == [[True, str(tmp_path)]]


def test_file_storage_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(RPCFail) as err:
        backend_storage.storage_list("file", [[str(tmp_path / "no")]], None,
                                     ["name", "used"])
    assert "not a directory" in str(err.value)


def test_unknown_storage_type_and_field():
    with pytest.raises(RPCFail) as err:
        backend_storage.storage_list("tape", [], None, ["name"])
    assert str(err.value) == "Unknown storage type: 'tape'"
    with pytest.raises(RPCFail) as err:
        backend_storage.storage_list("lvm-vg", [], None, ["colour"])
    assert str(err.value) == "Unknown field: 'colour'"


def test_file_storage_cannot_be_modified_or_repaired():
    with pytest.raises(RPCFail):
        backend_storage.storage_modify("file", [["/srv"]], "/srv",
                                       {"allocatable": False})
    with pytest.raises(RPCFail):
        backend_storage.storage_execute("file", [["/srv"]], "/srv",
                                        "fix-consistency")


# --- backend: LVM (hand-made outputs in the real format) ---

def test_vgs_command_line_is_ganetis():
    fields = ["name", "size", "used", "free", "allocatable"]
    columns = backend_storage.LvmVgStorage.lvm_fields(fields)
    assert columns == ["vg_name", "vg_size", "vg_free"]
    assert backend_storage.build_lvm_list_command("vgs", columns) == [
        "vgs", "--noheadings", "--units=m", "--nosuffix", "--separator",
        "|", "--options", "vg_name,vg_size,vg_free"]
    assert backend_storage.build_lvm_list_command(
        "pvs", ["pv_name"], "/dev/sda3")[-1] == "/dev/sda3"


def test_vgs_output_parsed():
    rows = backend_storage.LvmVgStorage.build_rows(
        data_file("vgs.txt"), ["name", "size", "used", "free",
                               "allocatable"])
    assert rows == [["xenvg", 409596, 102400, 307196, True],
                    ["backupvg", 953864, 953864, 0, True]]


def test_pvs_output_parsed():
    fields = ["name", "size", "used", "free", "allocatable"]
    assert backend_storage.LvmPvStorage.lvm_fields(fields) == [
        "pv_name", "pv_size", "pv_used", "pv_free", "pv_attr"]
    rows = backend_storage.LvmPvStorage.build_rows(data_file("pvs.txt"),
                                                   fields)
    assert rows == [["/dev/sda3", 204796, 102400, 102396, True],
                    ["/dev/sdb1", 204800, 0, 204800, True],
                    ["/dev/sdc1", 953864, 953864, 0, False]]


def test_lvm_output_lines_of_the_wrong_shape_are_skipped():
    text = data_file("vgs.txt") + "  garbage line\n\n  a|b|c|d\n"
    rows = backend_storage.LvmVgStorage.build_rows(text, ["name", "size",
                                                          "free"])
    assert rows == [["xenvg", 409596, 307196], ["backupvg", 953864, 0]]


def test_lvs_volumes_parsed_one_entry_per_device():
    volumes = backend_storage.parse_lvs_volumes(data_file("lvs.txt"))
    assert volumes[0] == {
        "name": "9f2b4c1e-0a7d-4e1b-bc44-2f3e1a0d5c11.disk0_data",
        "size": "10240.00", "dev": "/dev/sda3", "vg": "xenvg"}
    assert [(v["name"], v["dev"]) for v in volumes[2:]] == [
        ("striped", "/dev/sda3"), ("striped", "/dev/sdb1")]


def test_vgreduce_retries_with_force_and_checks_with_vgs():
    calls = []

    def run(cmd):
        calls.append(cmd)
        if cmd[0] == "vgreduce" and "--force" not in cmd:
            return process.RunResult(5, None, "", "  WARNING: use"
                                     " vgreduce --removemissing --force", cmd)
        return process.RunResult(0, None, "  xenvg 1 2\n", "", cmd)

    assert backend_storage.remove_missing_pvs("xenvg", run=run) is None
    assert calls == [["vgreduce", "--removemissing", "xenvg"],
                     ["vgreduce", "--removemissing", "--force", "xenvg"],
                     ["vgs", "--noheadings", "--nosuffix", "xenvg"]]


@pytest.mark.skipif(shutil.which("vgs", path="/sbin:/bin:/usr/sbin:/usr/bin")
                    is not None, reason="LVM tools are installed here")
def test_lvm_listing_without_lvm_fails_cleanly():
    with pytest.raises(RPCFail) as err:
        backend_storage.storage_list("lvm-vg", [], None, ["name", "size"])
    assert str(err.value).startswith("Failed to run 'vgs', command output:")
    with pytest.raises(RPCFail) as err:
        backend_storage.node_volumes()
    assert str(err.value).startswith("Failed to list logical volumes, lvs"
                                     " output:")


# --- LUs: storage and volumes ---

def _storage_rpc(paths_by_node=None):
    """node RPC answering storage_list with the real backend function; a
    node's file storage dir can be redirected to a test directory."""
    def storage_list(name, args):
        su_name, su_args, unit, fields = args
        if paths_by_node and name in paths_by_node:
            su_args = [[paths_by_node[name]]]
        return backend_storage.storage_list(su_name, su_args, unit, fields)
    return FakeRpc({"storage_list": storage_list})


def test_query_storage_file_adds_node_and_type(cfg, tmp_path):  # noqa
    dirs = {}
    for name in (MASTER, NODE2, NODE3):
        path = tmp_path / name
        path.mkdir()
        dirs[name] = str(path)
    (tmp_path / NODE2 / "disk").write_bytes(b"z" * (4 * 1024 * 1024))
    rpc = _storage_rpc(dirs)
    result, _, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_NODE_QUERY_STORAGE", "storage_type": "file",
        "output_fields": ["node", "type", "name", "used", "allocatable"]})
    assert result == [[MASTER, "file", dirs[MASTER], 0, True],
                      [NODE2, "file", dirs[NODE2], 4, True],
                      [NODE3, "file", dirs[NODE3], 0, True]]
    procedure, names, args = rpc.called("storage_list")[0]
    assert names == [MASTER, NODE2, NODE3]
    assert args[:2] == ["file", [[cfg.get_file_storage_dir()]]]
    assert args[3] == ["name", "used", "allocatable"]


def test_query_storage_default_type_and_node_selection(cfg, tmp_path):  # noqa
    rpc = _storage_rpc({NODE2: str(tmp_path)})
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_NODE_QUERY_STORAGE",
                                     "nodes": ["node2"],
                                     "output_fields": ["node", "name"]})
    # the first enabled disk template (file) decides the type
    assert result == [[NODE2, str(tmp_path)]]


def test_query_storage_failing_node_is_a_warning(cfg):  # noqa: F811
    rpc = FakeRpc({"storage_list": lambda name, args: RpcResult(
        name, "storage_list", fail_msg="boom")})
    result, messages, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_NODE_QUERY_STORAGE", "storage_type": "file",
        "nodes": [NODE3], "output_fields": ["name"]})
    assert result == []
    assert messages == [" - WARNING: Can't get storage data from node %s:"
                        " boom" % NODE3]


@pytest.mark.parametrize("op, text", [
    ({"storage_type": "lvm-vg"},
     "No disk template of storage type 'lvm-vg' is enabled in this"
     " cluster. Enabled disk templates are: file,diskless"),
    ({"storage_type": "lvm-pv"},
     "No disk template of storage type 'lvm-vg' is enabled in this"
     " cluster."),
    ({"storage_type": "file", "output_fields": ["name", "colour"]},
     "Unknown output fields selected: colour"),
])
def test_query_storage_prerequisites(cfg, op, text):  # noqa: F811
    data = {"OP_ID": "OP_NODE_QUERY_STORAGE", "output_fields": ["name"]}
    data.update(op)
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), data)
    assert text in err.value.args[0]


def test_queryvols_warns_per_node_without_lvm(cfg):  # noqa: F811
    rpc = FakeRpc({"node_volumes": lambda name, args: RpcResult(
        name, "node_volumes", fail_msg="Failed to list logical volumes,"
        " lvs output: lvs: not found")})
    result, messages, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_NODE_QUERYVOLS",
        "output_fields": ["node", "phys", "vg", "name", "size",
                          "instance"]})
    assert result == []
    assert messages[0] == (" - WARNING: Can't compute volume data on node"
                           " %s: Failed to list logical volumes, lvs output:"
                           " lvs: not found" % MASTER)
    assert len(messages) == 3


def test_queryvols_rows_are_text_and_name_owner(cfg):  # noqa: F811
    volumes = backend_storage.parse_lvs_volumes(data_file("lvs.txt"))
    rpc = FakeRpc({"node_volumes": lambda name, args: volumes})
    result, _, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_NODE_QUERYVOLS", "nodes": [NODE2],
        "output_fields": ["node", "phys", "name", "size", "instance"]})
    assert result[0] == [NODE2, "/dev/sda3",
                         "9f2b4c1e-0a7d-4e1b-bc44-2f3e1a0d5c11.disk0_data",
                         "10240", "-"]
    assert all(isinstance(v, str) for row in result for v in row)


@pytest.mark.parametrize("op, text", [
    ({"OP_ID": "OP_NODE_MODIFY_STORAGE", "storage_type": "file",
      "changes": {"allocatable": False}},
     "Storage units of type 'file' can not be modified"),
    ({"OP_ID": "OP_NODE_MODIFY_STORAGE", "storage_type": "lvm-pv",
      "changes": {"size": 1}},
     "The following fields can not be modified for storage units of type"
     " 'lvm-pv': ['size']"),
    ({"OP_ID": "OP_NODE_MODIFY_STORAGE", "storage_type": "lvm-pv",
      "changes": {"allocatable": False}},
     "No disk template of storage type 'lvm-vg' is enabled"),
    ({"OP_ID": "OP_REPAIR_NODE_STORAGE", "storage_type": "file"},
     "Storage units of type 'file' can not be repaired"),
    ({"OP_ID": "OP_REPAIR_NODE_STORAGE", "storage_type": "lvm-vg"},
     "No disk template of storage type 'lvm-vg' is enabled"),
])
def test_modify_and_repair_storage_are_lvm_only(cfg, op, text):  # noqa
    data = dict(op, node_name=NODE2, name="xenvg")
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), data)
    assert text in err.value.args[0]


# --- out-of-band ---

OOB_SCRIPT = """#!/bin/sh
echo "$1 $2" >> %(log)s
case "$1" in
  power-status) echo '{"powered": true}' ;;
  health) echo '[["disk", "OK"], ["fan", "WARNING"]]' ;;
  power-on|power-off|power-cycle) ;;
  *) echo "bad command $1" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def oob(cfg, tmp_path):  # noqa: F811
    """A real OOB helper set as ndparam on node2 and node3, and an RPC
    runner whose run_oob is the real backend function."""
    log = tmp_path / "oob.log"
    script = tmp_path / "oob-test"
    script.write_text(OOB_SCRIPT % {"log": log})
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    for name in (NODE2, NODE3):
        node = cfg.get_node_info_by_name(name)
        node.ndparams = {"oob_program": str(script)}
        cfg.update(node)
    rpc = FakeRpc({"run_oob": lambda name, args:
                   backend_hooks.run_oob(*args)})
    return rpc, log


def test_oob_power_status_runs_helper_on_master(cfg, oob):  # noqa: F811
    rpc, log = oob
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND",
                                     "command": "power-status",
                                     "node_names": ["node2"]})
    assert result == [[[constants.RS_NORMAL, NODE2],
                       [constants.RS_NORMAL, {"powered": True}]]]
    (call,) = rpc.called("run_oob")
    assert call[1] == [MASTER]
    assert call[2][1:] == ["power-status", NODE2, 60]
    assert log.read_text() == "power-status %s\n" % NODE2


def test_oob_all_nodes_without_helper_unavailable(cfg, oob):  # noqa: F811
    rpc, _ = oob
    result, messages, _ = run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND",
                                            "command": "health"})
    assert [row[0][1] for row in result] == [MASTER, NODE2, NODE3]
    assert result[0][1] == [constants.RS_UNAVAIL, None]
    assert result[1][1] == [constants.RS_NORMAL,
                            [["disk", "OK"], ["fan", "WARNING"]]]
    assert (" - WARNING: Item 'fan' on node '%s' has status 'WARNING'" %
            NODE2) in messages


def test_oob_power_on_records_powered(cfg, oob):  # noqa: F811
    rpc, log = oob
    node = cfg.get_node_info_by_name(NODE3)
    node.powered = False
    cfg.update(node)
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND",
                                     "command": "power-on",
                                     "node_names": [NODE3],
                                     "power_delay": 0})
    assert result == [[[0, NODE3], [0, None]]]
    assert cfg.get_node_info_by_name(NODE3).powered is True


def test_oob_power_off_needs_offline_node_and_never_master(cfg, oob):  # noqa
    rpc, _ = oob
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND", "command": "power-off",
                          "node_names": [NODE2]})
    assert err.value.args[0] == ("Cannot power off node %s because it is"
                                 " not marked offline" % NODE2)
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND", "command": "power-off",
                          "node_names": [MASTER], "ignore_status": True})
    assert err.value.args[0] == (
        "Operating on the master node %s is not allowed for power-off; it"
        " does not support out-of-band operations" % MASTER)
    assert not rpc.called("run_oob")


def test_oob_invalid_payload_is_nodata(cfg, oob, tmp_path):  # noqa: F811
    rpc, _ = oob
    bad = tmp_path / "bad-oob"
    bad.write_text("#!/bin/sh\necho 'not json'\n")
    bad.chmod(0o755)
    node = cfg.get_node_info_by_name(NODE2)
    node.ndparams = {"oob_program": str(bad)}
    cfg.update(node)
    result, messages, _ = run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND",
                                            "command": "power-status",
                                            "node_names": [NODE2]})
    assert result[0][1] == [constants.RS_NODATA, None]
    assert messages[0].startswith(" - WARNING: Payload returned by node"
                                  " '%s' is not valid" % NODE2)


def test_oob_failing_helper_is_nodata_with_warning(cfg, oob):  # noqa: F811
    rpc, _ = oob
    node = cfg.get_node_info_by_name(NODE2)
    node.ndparams = {"oob_program": "/bin/false"}
    cfg.update(node)
    result, messages, _ = run_lu(cfg, rpc, {"OP_ID": "OP_OOB_COMMAND",
                                            "command": "power-status",
                                            "node_names": [NODE2]})
    assert result[0][1] == [constants.RS_NODATA, None]
    assert messages[0].startswith(" - WARNING: Out-of-band RPC failed on"
                                  " node '%s': '/bin/false' failed" % NODE2)


def test_check_payload_shapes():
    assert node_oob.check_payload("health", [["a", "OK"]]) == []
    assert node_oob.check_payload("health", [["a", "bad"]]) == [
        "health item 'a' has invalid status 'bad'"]
    assert node_oob.check_payload("power-status", []) == [
        "power-status is expected to return a dict but got list"]
    assert node_oob.check_payload("power-on", {"x": 1}) == [
        "power-on is expected to not return payload but got '{'x': 1}'"]
    assert node_oob.decode_payload("  \n") is None
    assert node_oob.decode_payload(json.dumps({"powered": False})) == \
        {"powered": False}


# --- powercycle: only the refusals ---

def test_powercycle_refused_unless_allowed():
    scheduled = []
    with pytest.raises(RPCFail) as err:
        backend_power.node_powercycle("fake", {}, environ={},
                                      schedule=scheduled.append)
    assert "GANETI_ALLOW_POWERCYCLE=yes" in str(err.value)
    assert not scheduled
    with pytest.raises(RPCFail):
        backend_power.node_powercycle("vmware", {}, environ={})


def test_powercycle_lu_needs_force_for_master_and_reports_refusal(
        cfg):  # noqa: F811
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_POWERCYCLE",
                                "node_name": MASTER})
    assert err.value.args[0] == ("The node is the master and the force"
                                 " parameter was not set")
    os.environ.pop(backend_power.ALLOW_ENV, None)
    rpc = FakeRpc({"node_powercycle": lambda name, args:
                   backend_power.node_powercycle(*args)})
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_NODE_POWERCYCLE",
                          "node_name": "node2"})
    assert err.value.args[0].startswith("Failed to schedule the reboot:"
                                        " Powercycling is disabled")
    assert rpc.called("node_powercycle")[0][2][0] == "fake"


def test_powercycle_cli_asks_for_confirmation(monkeypatch):
    asked = []
    monkeypatch.setattr(gnt_node.cli, "ask_user",
                        lambda text, choices=None: asked.append(text) or
                        False)

    class Opts:
        confirm = False
        force = False

    assert gnt_node.powercycle_node(Opts(), [NODE2]) == 2
    assert asked == ["Are you sure you want to hard powercycle node %s?" %
                     NODE2]
