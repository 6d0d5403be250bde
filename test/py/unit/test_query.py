"""Query engine: field tables as Ganeti 3.0 defines them, the filter
language, unknown fields, live-data status mapping and the LUXI helpers.

The configuration is real (a ConfigWriter on a copy of
``test/data/config/cluster-3.0.json``); node RPC and the job queue are tiny
stand-ins, because only their answers matter here.
"""

import json
import os
import shutil

import pytest

from ganeti import config
from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti import query
from ganeti.query import fields_instance
from ganeti.query import fields_node
from ganeti.query import luxi_helpers

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
SAMPLE = os.path.join(TOP, "test", "data", "config", "cluster-3.0.json")
FIELD_TABLES = os.path.join(TOP, "test", "data", "query", "fields-3.0.json")
RAPI_INFO = "/work/shared/reference/samples/1node/rapi-2-info.json"

N1 = "0a1b2c3d-0001-4000-8000-000000000001"
N2 = "0a1b2c3d-0002-4000-8000-000000000002"
N3 = "0a1b2c3d-0003-4000-8000-000000000003"
GROUP = "6d5e4f3a-1000-4000-8000-00000000aaaa"
I1 = "7e8f9a0b-2001-4000-8000-0000000000b1"
I2 = "7e8f9a0b-2002-4000-8000-0000000000b2"


class FakeResult:
    def __init__(self, payload=None, fail_msg=None, offline=False):
        self.payload = payload
        self.fail_msg = fail_msg
        self.offline = offline


class FakeRpc:
    """Answers from a table ``{procedure: {node name: FakeResult}}``."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def call(self, procedure, node_names, args):
        self.calls.append((procedure, list(node_names), args))
        table = self.answers.get(procedure, {})
        return dict((name, table.get(name, FakeResult(fail_msg="no answer")))
                    for name in node_names)


class FakeJobQueue:
    def __init__(self, jobs):
        self.jobs = jobs
        self.calls = []

    def get_jobs_data(self, job_ids=None, include_archived=False):
        self.calls.append((job_ids, include_archived))
        rows = [j for j in self.jobs
                if include_archived or job_ids or not j["archived"]]
        if job_ids:
            rows = [j for j in rows if j["id"] in job_ids]
        return [dict(j) for j in rows]


def _node_payload(free, total=24105, dfree=80102):
    return [
        "boot-%d" % free,
        [{"type": "lvm-vg", "name": "xenvg", "storage_free": dfree,
          "storage_size": 258019}],
        [{"memory_total": total, "memory_free": free, "memory_dom0": 237,
          "cpu_total": 4, "cpu_nodes": 1, "cpu_sockets": 1, "cpu_dom0": 2}],
    ]


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "config.data"
    shutil.copy(SAMPLE, str(path))
    return config.ConfigWriter(str(path))


def _ctx(cfg, rpc=None, jqueue=None):
    return query.QueryContext(cfg, rpc=rpc, jqueue=jqueue,
                              cluster_master_name="node1.gnt.test")


def _values(result):
    """Rows of plain values; non-normal cells become ``(status,)``."""
    return [[value if status == constants.RS_NORMAL else (status,)
             for status, value in row] for row in result["data"]]


def _names(cfg, what, qfilter, field="name"):
    result = query.query(what, [field], qfilter, _ctx(cfg))
    return [row[0][1] for row in result["data"]]


# ---------------------------------------------------------------------------
# Field tables

with open(FIELD_TABLES) as _fh:
    EXPECTED = json.load(_fh)


@pytest.mark.parametrize("what", ["node", "group", "job", "cluster"])
def test_field_table_matches_ganeti(what):
    expected = EXPECTED[what]
    table = query.get_field_table(what)
    assert len(table) == expected["count"]
    actual = sorted((spec.fdef.name, spec.fdef.title, spec.fdef.kind)
                    for spec in table.values())
    assert actual == sorted(tuple(f) for f in expected["fields"])
    for spec in table.values():
        assert spec.fdef.doc, spec.fdef.name


def test_instance_field_table_matches_ganeti():
    expected = EXPECTED["instance"]
    table = query.get_field_table("instance")
    assert len(table) == expected["count"] == 292
    for name, title, kind in expected["fields"]:
        if name.endswith("/N"):
            limit = 16 if name.startswith("disk.") else 8
            for idx in range(limit):
                fdef = table[name[:-1] + str(idx)].fdef
                assert (fdef.title, fdef.kind) == \
                    (title[:-1] + str(idx), kind)
            assert name[:-1] + str(limit) not in table
        else:
            fdef = table[name].fdef
            assert (fdef.title, fdef.kind) == (title, kind), name
    hv_fields = sorted(n for n in table if n.startswith("hv/"))
    assert len(hv_fields) == 82
    assert "hv/migration_port" not in table       # cluster-global
    titles = dict((n, table[n].fdef.title) for n in hv_fields)
    assert titles["hv/kernel_path"] == "Kernel_path"
    assert titles["hv/acpi"] == "ACPI"
    assert titles["hv/cpu_type"] == "cpu_type"
    assert titles["hv/vnc_bind_address"] == "VNC_bind_address"
    assert titles["hv/kvm_extra"] == "hv/kvm_extra"
    assert table["hv/acpi"].fdef.kind == constants.QFT_BOOL
    assert table["hv/serial_speed"].fdef.kind == constants.QFT_NUMBER
    assert table["hv/root_path"].fdef.kind == constants.QFT_OTHER
    assert table["disk.size/3"].fdef.doc == "Disk size of 4th disk"
    assert table["nic.mac/1"].fdef.doc == "MAC address of 2nd network" \
        " interface"


def test_query_fields_all_sorted_and_selected():
    result = query.query_fields("group", None)
    names = [f["name"] for f in result["fields"]]
    assert names == sorted(names) and len(names) == 25
    assert result["fields"][names.index("name")] == {
        "name": "name", "title": "Group", "kind": "text",
        "doc": "Group name"}
    result = query.query_fields("node", ["role", "nosuch"])
    assert [f["name"] for f in result["fields"]] == ["role", "nosuch"]
    assert result["fields"][1] == {"name": "nosuch", "title": "nosuch",
                                   "kind": "unknown",
                                   "doc": "Unknown field 'nosuch'"}
    assert [f.name for f in query.get_fields("job", ["id", "x"])] == \
        ["id", "x"]


def test_unknown_resource():
    with pytest.raises(errors.OpPrereqError) as err:
        query.query_fields("nosuch")
    assert err.value.args[1] == errors.ECODE_INVAL


def test_unknown_field_cells(cfg):
    result = query.query("node", ["name", "nosuch"], None, _ctx(cfg))
    assert result["fields"][1]["kind"] == constants.QFT_UNKNOWN
    assert [row[1] for row in result["data"]] == \
        [[constants.RS_UNKNOWN, None]] * 3


# ---------------------------------------------------------------------------
# Configuration data of each resource

def test_node_config_fields(cfg):
    fields = ["name", "pinst_cnt", "sinst_cnt", "pinst_list", "sinst_list",
              "master_candidate", "drained", "offline", "role", "master",
              "pip", "sip", "group", "group.uuid", "ndp/ssh_port",
              "custom_ndparams", "powered", "hv_state", "tags", "serial_no",
              "uuid", "vm_capable", "master_capable"]
    rows = _values(query.query("node", fields, None, _ctx(cfg)))
    assert rows[0] == ["node1.gnt.test", 1, 0, ["inst1.gnt.test"], [], True,
                       False, False, "M", True, "198.51.100.11",
                       "198.51.100.11", "default", GROUP, 22, {},
                       (constants.RS_UNAVAIL,), (constants.RS_UNAVAIL,), [],
                       1, N1, True, True]
    assert rows[1][:10] == ["node2.gnt.test", 0, 1, [], ["inst1.gnt.test"],
                            True, False, False, "C", False]
    assert rows[2][:10] == ["node3.gnt.test", 1, 0, ["inst2.gnt.test"], [],
                            False, False, False, "R", False]
    assert rows[2][14:16] == [2222, {"ssh_port": 2222}]
    ndparams = _values(query.query("node", ["ndparams"], None,
                                   _ctx(cfg)))[0][0]
    assert set(ndparams) == set(constants.NDC_DEFAULTS)


def test_node_roles(cfg):
    node = cfg.get_node_info(N3)
    node.drained = True
    cfg.update(node)
    assert _values(query.query("node", ["role"], ["==", "name", "node3"],
                               _ctx(cfg))) == [["D"]]
    node = cfg.get_node_info(N3)
    node.drained = False
    node.offline = True
    cfg.update(node)
    assert _values(query.query("node", ["role"], ["==", "name", "node3"],
                               _ctx(cfg))) == [["O"]]


def test_group_fields(cfg):
    fields = ["name", "node_cnt", "pinst_cnt", "node_list", "pinst_list",
              "alloc_policy", "ndp/spindle_count", "custom_ndparams", "uuid",
              "serial_no"]
    rows = _values(query.query("group", fields, None, _ctx(cfg)))
    assert rows == [["default", 3, 2,
                     ["node1.gnt.test", "node2.gnt.test", "node3.gnt.test"],
                     ["inst1.gnt.test", "inst2.gnt.test"], "preferred", 1, {},
                     GROUP, 1]]
    row = _values(query.query("group", ["ndparams", "ipolicy", "diskparams"],
                              None, _ctx(cfg)))[0]
    assert row[0]["ovs_name"] == "switch1"
    assert row[1]["disk-templates"] == ["drbd", "plain", "file", "diskless"]
    assert row[2]["drbd"]["metavg"] == "xenvg"


def test_instance_config_fields(cfg):
    fields = ["name", "pnode", "snodes", "snodes.group", "pnode.group",
              "admin_state", "admin_up", "disk_template", "os", "hypervisor",
              "be/memory", "be/minmem", "vcpus", "nic.count", "nic.macs",
              "nic.ips", "nic.modes", "nic.links", "nic.bridges",
              "nic.mode/0", "nic.bridge/0", "nic.link/1", "ip", "mac",
              "disk.count", "disk.sizes", "disk.size/0", "sda_size",
              "sdb_size", "disk.name/0", "disk_usage", "network_port",
              "hv/boot_order", "hv/kernel_path", "custom_hvparams",
              "custom_beparams", "custom_nicparams", "tags"]
    rows = _values(query.query("instance", fields, None, _ctx(cfg)))
    unavail = (constants.RS_UNAVAIL,)
    assert rows[0] == [
        "inst1.gnt.test", "node1.gnt.test", ["node2.gnt.test"], ["default"],
        "default", "up", True, "drbd", "debootstrap+default", "kvm", 512, 256,
        1, 1, ["aa:00:00:11:22:33"], [None], ["bridged"], ["br0"], ["br0"],
        "bridged", "br0", unavail, unavail, "aa:00:00:11:22:33", 1, [10240],
        10240, 10240, unavail, "root", 10368, 11001, "cdrom",
        "/boot/vmlinuz-test", {"boot_order": "cdrom"},
        {"maxmem": 512, "minmem": 256}, [{}], ["web"]]
    assert rows[1] == [
        "inst2.gnt.test", "node3.gnt.test", [], [], "default", "down", False,
        "file", "noop", "fake", 128, 128, 1, 1, ["aa:00:00:44:55:66"],
        ["198.51.100.200"], ["routed"], ["100"], [None], "routed", unavail,
        unavail, "198.51.100.200", "aa:00:00:44:55:66", 1, [2048], 2048,
        2048, unavail, unavail, 2048, unavail, unavail, unavail, {}, {},
        [{"mode": "routed", "link": "100"}], []]


def test_instance_hvparams_exclude_globals(cfg):
    rows = _values(query.query("instance", ["hvparams", "beparams"], None,
                               _ctx(cfg)))
    assert "migration_port" not in rows[0][0]
    assert rows[0][0]["boot_order"] == "cdrom"
    assert rows[1][0] == {}            # fake: only a global parameter
    assert rows[1][1] == dict(constants.BEC_DEFAULTS)


def test_cluster_query(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(pathutils, "JOB_QUEUE_DRAIN_FILE",
                        str(tmp_path / "drain"))
    monkeypatch.setattr(pathutils, "WATCHER_PAUSEFILE",
                        str(tmp_path / "pause"))
    fields = ["name", "cluster_name", "master_node", "config_version",
              "software_version", "drain_flag", "watcher_pause", "tags",
              "volume_group_name", "os_api_version", "architecture"]
    row = _values(query.query("cluster", fields, None, _ctx(cfg)))[0]
    assert row[:9] == ["cluster.gnt.test", "cluster.gnt.test",
                       "node1.gnt.test", 3000000, constants.RELEASE_VERSION,
                       False, None, ["env:test", "owner:qa"], "xenvg"]
    assert row[9] == 20
    assert row[10][0].endswith("bits")
    (tmp_path / "drain").write_text("")
    (tmp_path / "pause").write_text("%d\n" % 4000000000)
    row = _values(query.query("cluster", ["drain_flag", "watcher_pause"],
                              None, _ctx(cfg)))[0]
    assert row == [True, 4000000000]
    (tmp_path / "pause").write_text("1000\n")
    assert _values(query.query("cluster", ["watcher_pause"], None,
                               _ctx(cfg)))[0] == [None]


# ---------------------------------------------------------------------------
# Filters

@pytest.mark.parametrize("qfilter,expected", [
    (None, ["node1.gnt.test", "node2.gnt.test", "node3.gnt.test"]),
    (["==", "name", "node2.gnt.test"], ["node2.gnt.test"]),
    (["=", "name", "node2.gnt.test"], ["node2.gnt.test"]),
    (["==", "name", "node2"], ["node2.gnt.test"]),
    (["!=", "role", "M"], ["node2.gnt.test", "node3.gnt.test"]),
    (["<", "pinst_cnt", 1], ["node2.gnt.test"]),
    (["<=", "sinst_cnt", 0], ["node1.gnt.test", "node3.gnt.test"]),
    ([">", "ndp/ssh_port", 22], ["node3.gnt.test"]),
    ([">=", "pip", "198.51.100.12"], ["node2.gnt.test", "node3.gnt.test"]),
    (["=~", "name", "^node[13]"], ["node1.gnt.test", "node3.gnt.test"]),
    (["=~", "name", "(?i)NODE2"], ["node2.gnt.test"]),
    (["=[]", "pinst_list", "inst2.gnt.test"], ["node3.gnt.test"]),
    (["=[]", "tags", "rack:a"], ["node2.gnt.test"]),
    (["?", "master"], ["node1.gnt.test"]),
    (["!", ["?", "master_candidate"]], ["node3.gnt.test"]),
    (["|", ["==", "role", "M"], ["==", "role", "R"]],
     ["node1.gnt.test", "node3.gnt.test"]),
    (["&", ["?", "master_candidate"], ["!", ["?", "master"]]],
     ["node2.gnt.test"]),
    (["&"], ["node1.gnt.test", "node2.gnt.test", "node3.gnt.test"]),
    (["|"], []),
])
def test_filter_operators(cfg, qfilter, expected):
    assert _names(cfg, "node", qfilter) == expected


def test_filter_on_instances_and_groups(cfg):
    assert _names(cfg, "instance", ["==", "pnode", "node3"]) == \
        ["inst2.gnt.test"]
    assert _names(cfg, "instance", ["=[]", "snodes", "node2.gnt.test"]) == \
        ["inst1.gnt.test"]
    assert _names(cfg, "instance", ["==", "admin_state", "down"]) == \
        ["inst2.gnt.test"]
    assert _names(cfg, "instance", [">", "be/maxmem", 128]) == \
        ["inst1.gnt.test"]
    assert _names(cfg, "group", ["==", "alloc_policy", "preferred"]) == \
        ["default"]


def test_name_filter_keeps_requested_order_and_expands(cfg):
    qfilter = ["|", ["==", "name", "node3"], ["==", "name", "node1.gnt.test"],
               ["==", "name", "node3.gnt.test"]]
    assert _names(cfg, "node", qfilter) == ["node3.gnt.test",
                                            "node1.gnt.test"]
    assert _names(cfg, "node", ["==", "name", N2]) == []  # uuid != name


def test_unknown_name_in_name_filter(cfg):
    with pytest.raises(errors.OpPrereqError) as err:
        query.query("instance", ["name"],
                    ["|", ["==", "name", "nosuch.gnt.test"]], _ctx(cfg))
    assert err.value.args == ("Instance name nosuch.gnt.test not found",
                              errors.ECODE_NOENT)
    with pytest.raises(errors.OpPrereqError) as err:
        query.query("node", ["name"], ["==", "name", "node"], _ctx(cfg))
    assert err.value.args[0] == "Node name node not found"


def test_lookup_of_ambiguous_short_name():
    from ganeti import objects
    from ganeti.query import common
    items = dict((o.uuid, o) for o in [
        objects.Node(uuid="u1", name="web.a.test"),
        objects.Node(uuid="u2", name="web.b.test"),
        objects.Node(uuid="u3", name="db.a.test")])
    assert common.lookup_item(items, "db", "Node").uuid == "u3"
    assert common.lookup_item(items, "u2", "Node").uuid == "u2"
    assert common.lookup_item(items, "WEB.B", "Node").uuid == "u2"
    with pytest.raises(errors.OpPrereqError) as err:
        common.lookup_item(items, "web", "Node")
    assert err.value.args == ("Node name web has multiple matches",
                              errors.ECODE_NOENT)


@pytest.mark.parametrize("qfilter,message", [
    (["==", "nosuch", 1], "Can't find field named 'nosuch'"),
    (["?", "nosuch"], "Can't find field named 'nosuch'"),
    (["~~", "name", "x"], "Unknown operator '~~'"),
    ("name", "Invalid filter on level 0"),
    ([], "Invalid filter on level 0"),
    (["!", ["?", "master"], ["?", "master"]], "exactly one operand"),
    (["==", "name"], "takes a field name and a value"),
    (["=~", "name", "("], "Invalid regular expression '('"),
    (["=~", "name", 3], "must be a string"),
    (["==", "name", ["a"]], "Invalid value"),
    (["<", "pinst_cnt", True], "needs a number or a string"),
    (["&", ["|", ["&", ["|", ["&", ["|", ["&", ["|", ["&", ["|", [
        "?", "master"]]]]]]]]]]], "nested too deep"),
])
def test_malformed_filters(cfg, qfilter, message):
    with pytest.raises(errors.ParameterError) as err:
        query.query("node", ["name"], qfilter, _ctx(cfg))
    assert message in str(err.value)


def test_type_errors_at_evaluation(cfg):
    with pytest.raises(errors.ParameterError) as err:
        query.query("node", ["name"], ["<", "pinst_cnt", "3"], _ctx(cfg))
    assert "Invalid types in comparison" in str(err.value)
    with pytest.raises(errors.ParameterError):
        query.query("node", ["name"], ["=~", "pinst_cnt", "1"], _ctx(cfg))
    with pytest.raises(errors.ParameterError):
        query.query("node", ["name"], ["=[]", "name", "x"], _ctx(cfg))


# ---------------------------------------------------------------------------
# Live node data

LIVE = ["name", "mfree", "mtotal", "mnode", "dfree", "dtotal", "ctotal",
        "cnodes", "cnos", "csockets", "bootid", "sptotal"]


def test_node_live_fields_status_mapping(cfg):
    node = cfg.get_node_info(N3)
    node.offline = True
    node.master_candidate = False
    cfg.update(node)
    rpc = FakeRpc({"node_info": {
        "node1.gnt.test": FakeResult(_node_payload(23400)),
        "node2.gnt.test": FakeResult(fail_msg="Connection refused"),
    }})
    rows = _values(query.query("node", LIVE, None, _ctx(cfg, rpc)))
    assert rows[0] == ["node1.gnt.test", 23400, 24105, 237, 80102, 258019, 4,
                       1, 2, 1, "boot-23400", (constants.RS_NODATA,)]
    assert rows[1] == ["node2.gnt.test"] + [(constants.RS_NODATA,)] * 11
    assert rows[2] == ["node3.gnt.test"] + [(constants.RS_OFFLINE,)] * 11
    assert len(rpc.calls) == 1
    procedure, nodes, args = rpc.calls[0]
    assert procedure == "node_info"
    assert nodes == ["node1.gnt.test", "node2.gnt.test"]  # not the offline
    cluster = cfg.get_cluster_info()
    assert args == [[["lvm-vg", "xenvg", [False]],
                     ["file", "/srv/ganeti/file-storage", []]],
                    [["kvm", cluster.fill_hv("kvm")]]]


def test_rpc_reporting_offline_and_missing_answers(cfg):
    rpc = FakeRpc({"node_info": {
        "node1.gnt.test": FakeResult(offline=True,
                                     fail_msg="Node is marked offline"),
        "node2.gnt.test": FakeResult(payload="garbage"),
    }})
    rows = _values(query.query("node", ["mfree"], None, _ctx(cfg, rpc)))
    assert rows == [[(constants.RS_OFFLINE,)], [(constants.RS_NODATA,)],
                    [(constants.RS_NODATA,)]]


def test_no_rpc_without_live_fields(cfg):
    rpc = FakeRpc()
    query.query("node", ["name", "role", "pinst_cnt"], None, _ctx(cfg, rpc))
    query.query("node", ["name"], ["==", "role", "M"], _ctx(cfg, rpc))
    assert rpc.calls == []


def test_only_requested_domains_are_asked_for(cfg):
    rpc = FakeRpc({"node_info": {
        "node1.gnt.test": FakeResult(_node_payload(100))}})
    query.query("node", ["bootid"], ["==", "name", "node1"], _ctx(cfg, rpc))
    assert rpc.calls[-1][2] == [[], []]
    query.query("node", ["dfree"], ["==", "name", "node1"], _ctx(cfg, rpc))
    assert rpc.calls[-1][2][1] == []
    assert rpc.calls[-1][2][0][0] == ["lvm-vg", "xenvg", [False]]


def test_name_filter_contacts_only_matching_nodes(cfg):
    rpc = FakeRpc({"node_info": {
        "node2.gnt.test": FakeResult(_node_payload(500))}})
    rows = _values(query.query("node", ["name", "mfree"],
                               ["==", "name", "node2"], _ctx(cfg, rpc)))
    assert rows == [["node2.gnt.test", 500]]
    assert [c[1] for c in rpc.calls] == [["node2.gnt.test"]]
    rpc.calls[:] = []
    query.query("node", ["name", "mfree"], ["=~", "name", "node[23]"],
                _ctx(cfg, rpc))
    assert [c[1] for c in rpc.calls] == [["node2.gnt.test",
                                          "node3.gnt.test"]]


def test_filter_on_live_field_is_applied_after_fetching(cfg):
    rpc = FakeRpc({"node_info": {
        "node1.gnt.test": FakeResult(_node_payload(100)),
        "node2.gnt.test": FakeResult(_node_payload(5000)),
        "node3.gnt.test": FakeResult(_node_payload(9000)),
    }})
    qfilter = ["&", [">", "mfree", 1000], ["!=", "role", "R"]]
    rows = _values(query.query("node", ["name"], qfilter, _ctx(cfg, rpc)))
    assert rows == [["node2.gnt.test"]]
    # node3 was excluded by its role before any RPC
    assert rpc.calls[0][1] == ["node1.gnt.test", "node2.gnt.test"]
    rpc.calls[:] = []
    qfilter = ["!", [">", "mfree", 1000]]
    rows = _values(query.query("node", ["name"], qfilter, _ctx(cfg, rpc)))
    assert rows == [["node1.gnt.test"]]


def test_filter_keeps_rows_without_data(cfg):
    rpc = FakeRpc({"node_info": {
        "node1.gnt.test": FakeResult(_node_payload(100))}})
    rows = _values(query.query("node", ["name"], [">", "mfree", 1000],
                               _ctx(cfg, rpc)))
    assert rows == [["node2.gnt.test"], ["node3.gnt.test"]]


def test_storage_units_follow_enabled_templates(cfg):
    cluster = cfg.get_cluster_info()
    assert fields_node.storage_units(cluster, {}) == [
        ["lvm-vg", "xenvg", [False]],
        ["file", "/srv/ganeti/file-storage", []]]
    cluster.enabled_disk_templates = ["diskless", "file", "sharedfile"]
    assert fields_node.storage_units(cluster, {}) == [
        ["file", "/srv/ganeti/file-storage", []],
        ["sharedfile", "/srv/ganeti/shared-file-storage", []]]
    cluster.enabled_disk_templates = ["diskless"]
    assert fields_node.storage_units(cluster, {}) == []


# ---------------------------------------------------------------------------
# Live instance data

INST_LIVE = ["name", "status", "oper_state", "oper_ram", "oper_vcpus"]


def test_instance_status_running_and_down(cfg):
    rpc = FakeRpc({"all_instances_info": {
        "node1.gnt.test": FakeResult({"inst1.gnt.test": {
            "memory": 512, "vcpus": 1, "state": "running", "time": 3.0}}),
        "node3.gnt.test": FakeResult({}),
    }})
    rows = _values(query.query("instance", INST_LIVE, None, _ctx(cfg, rpc)))
    assert rows == [
        ["inst1.gnt.test", "running", True, 512, 1],
        ["inst2.gnt.test", "ADMIN_down", False, (constants.RS_UNAVAIL,),
         (constants.RS_UNAVAIL,)],
    ]
    procedure, nodes, args = rpc.calls[0]
    assert procedure == "all_instances_info"
    assert nodes == ["node1.gnt.test", "node3.gnt.test"]
    assert args[0] == ["fake", "kvm"]
    assert set(args[1]) == set(["fake", "kvm"])


@pytest.mark.parametrize("node1,node3,expected", [
    # inst1 admin up, not running anywhere
    (FakeResult({}), FakeResult({}), ["ERROR_down", "ADMIN_down"]),
    # inst2 admin down but running
    (FakeResult({}), FakeResult({"inst2.gnt.test": {"memory": 128,
                                                    "vcpus": 1}}),
     ["ERROR_down", "ERROR_up"]),
    # inst2 found on node1, not on its primary node3
    (FakeResult({"inst2.gnt.test": {"memory": 128, "vcpus": 1}}),
     FakeResult({}), ["ERROR_down", "ERROR_wrongnode"]),
    # primaries unreachable
    (FakeResult(fail_msg="timeout"), FakeResult(fail_msg="timeout"),
     ["ERROR_nodedown", "ERROR_nodedown"]),
    # shut down from inside the guest while admin up
    (FakeResult({"inst1.gnt.test": {"memory": 512, "vcpus": 1,
                                    "state": "shutdown"}}),
     FakeResult({}), ["ERROR_down", "ADMIN_down"]),
])
def test_instance_status_rules(cfg, node1, node3, expected):
    rpc = FakeRpc({"all_instances_info": {"node1.gnt.test": node1,
                                          "node3.gnt.test": node3}})
    rows = _values(query.query("instance", ["status"], None, _ctx(cfg, rpc)))
    assert [r[0] for r in rows] == expected


def test_instance_on_offline_node(cfg):
    node = cfg.get_node_info(N3)
    node.offline = True
    cfg.update(node)
    inst = cfg.get_instance_info(I2)
    inst.admin_state = "offline"
    cfg.update(inst)
    rpc = FakeRpc({"all_instances_info": {
        "node1.gnt.test": FakeResult({})}})
    rows = _values(query.query("instance", INST_LIVE, None, _ctx(cfg, rpc)))
    assert rows[1] == ["inst2.gnt.test", "ERROR_nodeoffline",
                       (constants.RS_NODATA,), (constants.RS_OFFLINE,),
                       (constants.RS_OFFLINE,)]
    assert rpc.calls[0][1] == ["node1.gnt.test"]
    rows = _values(query.query("instance", ["name", "admin_state"],
                               ["==", "admin_state", "offline"], _ctx(cfg)))
    assert rows == [["inst2.gnt.test", "offline"]]


def test_instance_user_down(cfg):
    cluster = cfg.get_cluster_info()
    cluster.enabled_user_shutdown = True
    cfg.update(cluster)
    inst = cfg.get_instance_info(I2)
    inst.admin_state_source = "user"
    cfg.update(inst)
    rpc = FakeRpc({"all_instances_info": {
        "node1.gnt.test": FakeResult({"inst1.gnt.test": {
            "memory": 512, "vcpus": 1, "state": "shutdown"}}),
        "node3.gnt.test": FakeResult({})}})
    rows = _values(query.query("instance", ["status"], None, _ctx(cfg, rpc)))
    # inst1 is kvm without user_shutdown: still an error
    assert rows == [["ERROR_down"], ["USER_down"]]


# ---------------------------------------------------------------------------
# Jobs

def _job(job_id, status, archived=False):
    return {"id": job_id, "status": status, "priority": 0,
            "ops": [{"OP_ID": "OP_TEST_DELAY", "duration": 0.0}],
            "opresult": [None], "opstatus": [status], "oplog": [[]],
            "opstart": [None], "opexec": [None], "opend": [None],
            "oppriority": [0], "received_ts": [1, 0], "start_ts": None,
            "end_ts": None, "summary": ["TEST_DELAY(0.0)"],
            "archived": archived}


def test_job_query(cfg):
    jq = FakeJobQueue([_job(10, "success"), _job(2, "error"),
                       _job(1, "success", archived=True)])
    ctx = _ctx(cfg, jqueue=jq)
    rows = _values(query.query("job", ["id", "status", "summary", "priority"],
                               None, ctx))
    assert rows == [[2, "error", ["TEST_DELAY(0.0)"], 0],
                    [10, "success", ["TEST_DELAY(0.0)"], 0]]
    assert jq.calls[-1] == (None, False)
    rows = _values(query.query("job", ["id", "archived"], None, ctx))
    assert rows == [[1, True], [2, False], [10, False]]
    assert jq.calls[-1] == (None, True)
    rows = _values(query.query("job", ["id"],
                               ["|", ["==", "id", 10], ["==", "id", "1"]],
                               ctx))
    assert rows == [[10], [1]]  # requested order; numeric strings accepted
    assert jq.calls[-1] == ([10, 1], True)
    rows = _values(query.query("job", ["id"], ["==", "status", "error"], ctx))
    assert rows == [[2]]
    with pytest.raises(errors.OpPrereqError):
        query.query("job", ["id"], ["==", "id", "x"], ctx)
    every = _values(query.query("job", sorted(query.get_field_table("job")),
                                ["==", "id", 2], ctx))
    assert len(every[0]) == 16
    assert _values(query.query("job", ["id"], None, _ctx(cfg))) == []


# ---------------------------------------------------------------------------
# LUXI helpers

def test_cluster_info_keys_match_ganeti(cfg):
    info = luxi_helpers.cluster_info(_ctx(cfg))
    with open(RAPI_INFO) as fh:
        sample = json.load(fh)
    assert sorted(info) == sorted(sample)
    for key, value in sample.items():
        if isinstance(value, (dict, list)) and key not in ("hvparams",):
            assert isinstance(info[key], type(value)), key
    assert info["name"] == "cluster.gnt.test"
    assert info["master"] == "node1.gnt.test"
    assert info["default_hypervisor"] == "kvm"
    assert sorted(info["hvparams"]) == sorted(sample["hvparams"])
    assert info["hvparams"]["kvm"]["kernel_path"] == "/boot/vmlinuz-test"
    assert info["hvparams"]["xen-pvm"] == sample["hvparams"]["xen-pvm"]
    assert info["beparams"] == sample["beparams"]
    assert info["primary_ip_version"] == 4
    assert info["enabled_data_collectors"] == \
        sample["enabled_data_collectors"]
    assert info["data_collector_interval"] == \
        sample["data_collector_interval"]
    assert info["diskparams"] == sample["diskparams"]
    assert info["vg_name"] == info["volume_group_name"] == "xenvg"
    assert info["uid_pool"] == [[4000, 4009], [5000, 5000]]
    assert info["architecture"][0].endswith("bits")
    json.dumps(info)


def test_config_values(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(pathutils, "JOB_QUEUE_DRAIN_FILE",
                        str(tmp_path / "drain"))
    monkeypatch.setattr(pathutils, "WATCHER_PAUSEFILE",
                        str(tmp_path / "pause"))
    ctx = _ctx(cfg)
    assert luxi_helpers.config_values(
        ctx, list(luxi_helpers.CONFIG_VALUE_FIELDS)) == [
            "cluster.gnt.test", "node1.gnt.test", False, None, "xenvg", True,
            "rsa", 2048]
    with pytest.raises(errors.ParameterError):
        luxi_helpers.config_values(ctx, ["cluster_name", "bogus"])


def test_tags(cfg):
    ctx = _ctx(cfg)
    assert luxi_helpers.tags(ctx, "cluster", None) == ["env:test", "owner:qa"]
    assert luxi_helpers.tags(ctx, "node", "node2") == ["rack:a"]
    assert luxi_helpers.tags(ctx, "instance", "inst1.gnt.test") == ["web"]
    assert luxi_helpers.tags(ctx, "nodegroup", "default") == []
    with pytest.raises(errors.OpPrereqError) as err:
        luxi_helpers.tags(ctx, "instance", "nosuch")
    assert err.value.args[1] == errors.ECODE_NOENT
    with pytest.raises(errors.OpPrereqError):
        luxi_helpers.tags(ctx, "bogus", "x")


def test_query_compat(cfg):
    ctx = _ctx(cfg)
    assert luxi_helpers.query_compat(ctx, "node", ["node3", "node1"],
                                     ["name", "pip", "mfree"]) == [
        ["node3.gnt.test", "198.51.100.13", None],
        ["node1.gnt.test", "198.51.100.11", None]]
    assert len(luxi_helpers.query_compat(ctx, "instance", [], ["name"])) == 2
    with pytest.raises(errors.OpPrereqError) as err:
        luxi_helpers.query_compat(ctx, "node", None, ["name", "x", "y"])
    assert err.value.args == ("Unknown output fields selected: x, y",
                              errors.ECODE_INVAL)


def test_query_result_is_plain_json(cfg):
    fields = sorted(query.get_field_table("instance"))
    result = query.query("instance", fields, None, _ctx(cfg, FakeRpc()))
    assert len(result["data"][0]) == 292
    text = json.dumps(result)
    assert json.loads(text)["fields"][0]["name"] == fields[0]


def test_snapshot_is_shared_until_a_change(cfg):
    first = cfg.get_config_snapshot()
    assert cfg.get_config_snapshot() is first
    node = cfg.get_node_info(N2)
    node.tags = ["b"]
    cfg.update(node)
    second = cfg.get_config_snapshot()
    assert second is not first
    assert _values(query.query("node", ["tags"], ["==", "name", "node2"],
                               _ctx(cfg))) == [[["b"]]]


def test_instance_parameter_kinds_cover_every_hypervisor():
    kinds = fields_instance.hv_parameter_kinds()
    assert len(kinds) == 82
    assert kinds["acpi"] == constants.QFT_BOOL
    assert kinds["kvm_pci_reservations"] == constants.QFT_NUMBER
