"""Logical units of the foundation: table, tags, test opcodes, nodes,
cluster verify, and the configuration distribution they rely on.

LUs run against a real ConfigWriter on a temporary ``config.data`` (a
3-node cluster built by ``bootstrap.build_initial_config``) and a fake
node RPC runner that records calls and answers from handlers.
"""

import importlib
import os

import pytest

from ganeti import bootstrap
from ganeti import cmdlib
from ganeti import config
from ganeti import config_sync
from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import objects
from ganeti import opcodes
from ganeti import pathutils
from ganeti import serializer
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu
from ganeti.cmdlib import tags as tags_lu
from ganeti.rpc import defs as rpc_defs
from ganeti.rpc.client import RpcResult

MASTER = "node1.gnt.test"
NODE2 = "node2.gnt.test"
NODE3 = "node3.gnt.test"


# --- fixtures and helpers ---

class FakeRpc:
    """Records calls; ``handlers[proc](name, args)`` gives the payload (an
    RpcResult is returned as is, an exception becomes a failure)."""

    def __init__(self, handlers=None):
        self.handlers = dict(handlers or {})
        self.calls = []

    def call(self, procedure, node_names, args, timeout=None):
        if isinstance(node_names, str):
            node_names = [node_names]
        self.calls.append((procedure, list(node_names), list(args)))
        results = {}
        for name in node_names:
            handler = self.handlers.get(procedure)
            try:
                payload = handler(name, args) if handler else None
            except Exception as err:  # pylint: disable=broad-except
                results[name] = RpcResult(name, procedure, fail_msg=str(err))
                continue
            if isinstance(payload, RpcResult):
                results[name] = payload
            else:
                results[name] = RpcResult(name, procedure, payload=payload)
        return results

    def call_single(self, procedure, node_name, args, timeout=None):
        return self.call(procedure, [node_name], args)[node_name]

    def called(self, procedure):
        return [c for c in self.calls if c[0] == procedure]


@pytest.fixture
def root(tmp_path):
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = str(tmp_path)
    importlib.reload(pathutils)
    os.makedirs(pathutils.DATA_DIR)
    try:
        yield tmp_path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)


def make_config_data(extra_nodes=(NODE2, NODE3), pool_size=10):
    params = bootstrap.fill_cluster_params(
        enabled_hypervisors=["fake"], master_netdev="br0",
        enabled_disk_templates=["file", "diskless"],
        nicparams={"link": "br0"}, candidate_pool_size=pool_size)
    params["cluster_name"] = "cluster.gnt.test"
    data = bootstrap.build_initial_config(params, MASTER, "198.51.100.11",
                                          "198.51.100.100")
    group = list(data.nodegroups)[0]
    for index, name in enumerate(extra_nodes, 2):
        ip = "198.51.100.%d" % (10 + index)
        node = objects.Node(name=name, primary_ip=ip, secondary_ip=ip,
                            uuid="uuid-%s" % name.split(".")[0], group=group,
                            master_candidate=True, serial_no=1)
        data.nodes[node.uuid] = node
    return data


@pytest.fixture
def cfg(root):
    data = make_config_data()
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    return config.ConfigWriter(pathutils.CLUSTER_CONF_FILE)



class ProcessorCallbacks:
    """What the job queue gives the processor (``mcpu.Processor``):
    records feedback messages and the jobs an LU submits."""

    def __init__(self):
        self.messages = []
        self.submitted = []
        self.job_id = 1

    def notify_start(self):
        pass

    def notify_waiting(self):
        pass

    def feedback(self, *args):
        self.messages.append(args[-1])

    def check_cancel(self):
        pass

    def current_priority(self):
        return 0

    def submit_many_jobs(self, jobs):
        jobs = [[op.to_dict() for op in ops] for ops in jobs]
        self.submitted.extend(jobs)
        return [[True, 100 + idx] for idx in range(len(jobs))]

def run_lu(cfg, rpc, op_dict, feedback=None):
    """Drive an LU through its lifecycle as the processor does."""
    op = opcodes.load_opcode(op_dict)
    messages = []
    feedback = feedback or messages.append
    ctx = base.MasterContext(cfg, rpc, master_name=cfg.get_master_node_name())
    lu = cmdlib.get_lu_class(op.OP_ID)(ctx, op, feedback)
    lu.check_arguments()
    lu.expand_names()
    for level in constants.LOCK_LEVELS:
        lu.declare_locks(level)
    lu.check_prereq()
    result = lu.exec_(feedback)
    return result, messages, lu


def uuid_of(cfg, name):
    return cfg.get_node_info_by_name(name).uuid


# --- the LU table ---

def test_every_lu_in_the_table_imports():
    for op_id in cmdlib.LU_TABLE:
        cls = cmdlib.get_lu_class(op_id)
        assert issubclass(cls, base.LogicalUnit), op_id
        assert op_id in opcodes.OP_MAPPING, op_id


def test_foundation_opcodes_are_all_mapped():
    wanted = ["OP_CLUSTER_POST_INIT", "OP_CLUSTER_DESTROY",
              "OP_CLUSTER_QUERY", "OP_CLUSTER_VERIFY",
              "OP_CLUSTER_VERIFY_CONFIG", "OP_CLUSTER_VERIFY_GROUP",
              "OP_CLUSTER_REDIST_CONF", "OP_CLUSTER_SET_PARAMS",
              "OP_CLUSTER_CONFIG_QUERY", "OP_CLUSTER_ACTIVATE_MASTER_IP",
              "OP_CLUSTER_DEACTIVATE_MASTER_IP", "OP_NODE_ADD",
              "OP_NODE_REMOVE", "OP_NODE_SET_PARAMS", "OP_TAGS_GET",
              "OP_TAGS_SET", "OP_TAGS_DEL", "OP_TAGS_SEARCH",
              "OP_TEST_DELAY", "OP_TEST_DUMMY", "OP_TEST_JQUEUE"]
    # later issues add rows; the foundation's must all stay
    assert sorted(set(wanted) - set(cmdlib.LU_TABLE)) == []


def test_unknown_opcode():
    with pytest.raises(errors.OpCodeUnknown):
        cmdlib.get_lu_class("OP_NO_SUCH_THING")


def test_register_refuses_duplicates():
    with pytest.raises(errors.ProgrammerError):
        cmdlib.register({"OP_TEST_DELAY": "misc:LUTestDelay"})


# --- tags ---

@pytest.mark.parametrize("tag", ["a", "web", "x.y+z*w/v:u@t-s_r",
                                 "a" * constants.MAX_TAG_LEN])
def test_valid_tags(tag):
    tags_lu.validate_tag(tag)


@pytest.mark.parametrize("tag, message", [
    ("a" * (constants.MAX_TAG_LEN + 1), "Tag too long (>128 characters)"),
    ("", "Tags cannot be empty"),
    ("with space", "Tag contains invalid characters"),
    ("hash#", "Tag contains invalid characters"),
    (5, "Invalid tag type (not a string)"),
])
def test_invalid_tags(tag, message):
    with pytest.raises(errors.TagError) as exc:
        tags_lu.validate_tag(tag)
    assert exc.value.args == (message,)


def test_tag_count_limit():
    full = ["t%d" % i for i in range(constants.MAX_TAGS_PER_OBJ)]
    assert tags_lu.add_tags(full, ["t0"]) == full  # duplicates are no-ops
    with pytest.raises(errors.TagError) as exc:
        tags_lu.add_tags(full, ["one-more"])
    assert exc.value.args == ("Too many tags",)


def test_tags_set_get_del_search(cfg):
    rpc = FakeRpc()
    run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SET", "kind": "cluster",
                      "tags": ["b", "a"]})
    run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SET", "kind": "node",
                      "name": "node2", "tags": ["web", "a"]})
    run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SET", "kind": "nodegroup",
                      "name": "default", "tags": ["grp"]})
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_GET",
                                     "kind": "cluster"})
    assert result == ["a", "b"]
    result, _, lu = run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_GET", "kind": "node",
                                      "name": NODE2, "use_locking": True})
    assert result == ["a", "web"]
    assert lu.needed_locks == {constants.LOCKS_NODE: [uuid_of(cfg, NODE2)]}
    assert lu.share_locks[constants.LOCKS_NODE] == 1
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SEARCH",
                                     "pattern": "^(a|grp)$"})
    assert result == [("/cluster", "a"), ("/nodes/%s" % NODE2, "a"),
                      ("/nodegroup/default", "grp")]
    run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_DEL", "kind": "node", "name": NODE2,
                      "tags": ["a"]})
    assert cfg.get_node_info_by_name(NODE2).tags == ["web"]
    assert cfg.get_ssconf_values()["cluster_tags"] == "a\nb"


def test_tags_errors(cfg):
    rpc = FakeRpc()
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_DEL", "kind": "cluster",
                          "tags": ["x", "y"]})
    assert exc.value.args == ("Tag(s) 'x', 'y' not found",
                              errors.ECODE_NOENT)
    with pytest.raises(errors.TagError):
        run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SET", "kind": "cluster",
                          "tags": ["bad tag"]})
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_GET", "kind": "node",
                          "name": "nosuch"})
    assert exc.value.args == ("Node 'nosuch' not known", errors.ECODE_NOENT)
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, rpc, {"OP_ID": "OP_TAGS_SEARCH", "pattern": "("})
    assert exc.value.args[0].startswith("Invalid search pattern '(':")


# --- test opcodes ---

def test_delay_zero_is_refused_with_one_argument(cfg):
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TEST_DELAY", "duration": 0})
    assert exc.value.args == ("Duration must be greater than zero",)


def test_delay_on_nodes_with_repeat(cfg):
    rpc = FakeRpc()
    _, messages, lu = run_lu(cfg, rpc, {
        "OP_ID": "OP_TEST_DELAY", "duration": 0.01, "on_master": False,
        "on_nodes": ["node2", NODE3], "repeat": 2, "no_locks": False})
    assert messages == [" - INFO: Test delay iteration 0/1",
                        " - INFO: Test delay iteration 1/1"]
    assert rpc.calls == [("test_delay", [NODE2, NODE3], [0.01])] * 2
    assert sorted(lu.needed_locks[constants.LOCKS_NODE]) == sorted(
        [uuid_of(cfg, NODE2), uuid_of(cfg, NODE3)])


def test_delay_node_failure(cfg):
    def fail(name, args):
        raise RuntimeError("boom")
    with pytest.raises(errors.OpExecError) as exc:
        run_lu(cfg, FakeRpc({"test_delay": fail}), {
            "OP_ID": "OP_TEST_DELAY", "duration": 0.01, "on_master": False,
            "on_nodes": [NODE2]})
    assert exc.value.args[0] == "Failure during rpc call to node %s: boom" \
        % NODE2


def test_interruptible_delay_sees_cancel(cfg):
    class Callbacks:
        def __init__(self):
            self.checks = 0

        def feedback(self, msg):
            pass

        def check_cancel(self):
            self.checks += 1
            if self.checks > 2:
                raise errors.JobCanceled("Job was canceled")
    callbacks = Callbacks()
    with pytest.raises(errors.JobCanceled):
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TEST_DELAY", "duration": 30,
                                "interruptible": True},
               feedback=callbacks.feedback)


def test_jqueue_and_dummy(cfg):
    result, messages, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_TEST_JQUEUE", "log_messages": ["hello"]})
    assert result is True
    assert "TESTMSG=hello" in messages
    with pytest.raises(errors.OpExecError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TEST_JQUEUE", "fail": True})
    assert exc.value.args == ("Opcode failure was requested",)
    result, messages, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_TEST_DUMMY", "result": {"x": 1}, "messages": ["m"]})
    assert result == {"x": 1} and messages == ["m"]
    result, _, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_TEST_DUMMY",
        "submit_jobs": [[{"OP_ID": "OP_TEST_DELAY", "duration": 1}]]})
    assert isinstance(result, base.ResultWithJobs)
    assert result.jobs[0][0].OP_ID == "OP_TEST_DELAY"


# --- node set params ---

def test_node_modify_needs_a_change_and_one_state(cfg):
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_SET_PARAMS",
                                "node_name": NODE2})
    assert exc.value.args == ("Please pass at least one modification",
                              errors.ECODE_INVAL)
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_SET_PARAMS",
                                "node_name": NODE2, "offline": True,
                                "drained": True})
    assert exc.value.args[0] == ("Can't set the node into more than one"
                                 " state at the same time")


def test_master_role_cannot_change(cfg):
    for flag in ("offline", "drained"):
        with pytest.raises(errors.OpPrereqError) as exc:
            run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_SET_PARAMS",
                                    "node_name": MASTER, flag: True})
        assert exc.value.args == ("The master role can be changed only via"
                                  " master-failover", errors.ECODE_INVAL)


def test_offline_and_back(cfg):
    rpc = FakeRpc({"version": lambda n, a: constants.PROTOCOL_VERSION})
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_NODE_SET_PARAMS",
                                     "node_name": NODE2, "offline": True})
    assert result == [("master_candidate", "False"), ("offline", "True")]
    node = cfg.get_node_info_by_name(NODE2)
    assert node.offline and not node.master_candidate
    assert rpc.calls == []  # an offline node is not contacted
    result, messages, _ = run_lu(cfg, rpc, {"OP_ID": "OP_NODE_SET_PARAMS",
                                            "node_name": NODE2,
                                            "offline": False})
    assert result == [("master_candidate", "True"), ("offline", "False")]
    assert rpc.called("version") == [("version", [NODE2], [])]
    assert " - INFO: Auto-promoting node to master candidate" in messages
    assert cfg.get_node_info_by_name(NODE2).master_candidate


def test_drain_demotes_and_tells_the_node(cfg):
    rpc = FakeRpc()
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_NODE_SET_PARAMS",
                                     "node_name": NODE3, "drained": True})
    assert result == [("master_candidate", "False"), ("drained", "True")]
    assert rpc.called("node_demote_from_mc") == [
        ("node_demote_from_mc", [NODE3], [])]
    assert "node3.gnt.test" not in \
        cfg.get_ssconf_values()["master_candidates"]


def test_candidate_pool_is_kept(root):
    data = make_config_data(pool_size=2)
    data.nodes["uuid-node3"].master_candidate = False
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    cfg = config.ConfigWriter(pathutils.CLUSTER_CONF_FILE)
    op = {"OP_ID": "OP_NODE_SET_PARAMS", "node_name": NODE2,
          "master_candidate": False}
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), op)
    assert exc.value.args[0].startswith("Not enough master candidates,"
                                        " please pass auto promote option")
    op["auto_promote"] = True
    result, messages, lu = run_lu(cfg, FakeRpc(), op)
    assert result == [("master_candidate", "False")]
    assert lu.needed_locks[constants.LOCKS_NODE] is base.ALL_SET
    assert (" - INFO: Promoted nodes to master candidate role: %s" % NODE3
            in messages)
    assert cfg.get_node_info_by_name(NODE3).master_candidate
    assert not cfg.get_node_info_by_name(NODE2).master_candidate


def test_capabilities(cfg):
    result, _, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_NODE_SET_PARAMS", "node_name": NODE3,
        "vm_capable": False, "master_capable": False})
    assert result == [("master_capable", "False"), ("vm_capable", "False"),
                      ("master_candidate", "False")]
    node = cfg.get_node_info_by_name(NODE3)
    assert not node.vm_capable and not node.master_capable
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_SET_PARAMS",
                                "node_name": NODE3,
                                "master_candidate": True})
    assert "is not master capable" in exc.value.args[0]


# --- node remove / add ---

def test_remove_master_refused(cfg):
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_REMOVE",
                                "node_name": MASTER})
    assert exc.value.args == ("Node is the master node, failover to another"
                              " node is required", errors.ECODE_INVAL)


def test_remove_node(cfg, monkeypatch):
    direct = FakeRpc()
    monkeypatch.setattr(node_lu, "direct_rpc", lambda name, ip: direct)
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_REMOVE", "node_name": "node3"})
    assert cfg.get_node_info_by_name(NODE3) is None
    assert direct.calls == [("node_leave_cluster", [NODE3], [True])]
    assert cfg.get_ssconf_values()["node_list"] == "%s\n%s" % (MASTER, NODE2)


def _patch_node_add(monkeypatch, version=constants.PROTOCOL_VERSION):
    direct = FakeRpc({"version": lambda n, a: version,
                      "node_has_ip_address": lambda n, a: True})
    setups = []
    monkeypatch.setattr(node_lu, "direct_rpc", lambda name, ip: direct)
    monkeypatch.setattr(node_lu, "setup_node_daemon",
                        lambda cfg, name, ip, port: setups.append(
                            (name, ip, port)))
    addresses = {"node4": ("node4.gnt.test", "198.51.100.14"),
                 NODE2: (NODE2, "198.51.100.12"),
                 MASTER: (MASTER, "198.51.100.11"),
                 "clash": ("clash.gnt.test", "198.51.100.12")}
    monkeypatch.setattr(bootstrap, "resolve_hostname",
                        lambda name: addresses[name])
    return direct, setups


def test_add_node(cfg, monkeypatch):
    direct, setups = _patch_node_add(monkeypatch)
    with open(pathutils.CONFD_HMAC_KEY, "w") as fh:
        fh.write("x\n")
    rpc = FakeRpc({"node_verify": lambda n, a: {rpc_defs.NV_NODELIST: {}}})
    _, messages, _ = run_lu(cfg, rpc, {"OP_ID": "OP_NODE_ADD",
                                       "node_name": "node4"})
    node = cfg.get_node_info_by_name("node4.gnt.test")
    assert node.primary_ip == node.secondary_ip == "198.51.100.14"
    assert node.master_candidate and node.vm_capable and node.master_capable
    assert node.group == cfg.lookup_node_group("default")
    assert setups == [("node4.gnt.test", "198.51.100.14", 22)]
    assert direct.called("version")
    assert rpc.called("node_verify")[0][2][0] == {
        rpc_defs.NV_NODELIST: {"node4.gnt.test": "198.51.100.14"}}
    uploads = rpc.called("upload_file")
    assert [(c[1], c[2][0]) for c in uploads] == [
        (["node4.gnt.test"], pathutils.CONFD_HMAC_KEY)]
    assert " - INFO: Node will be a master candidate" in messages


@pytest.mark.parametrize("op, message", [
    ({"node_name": NODE2}, "Node %s is already in the configuration" % NODE2),
    ({"node_name": "node4", "readd": True},
     "Node node4.gnt.test is not in the configuration"),
    ({"node_name": MASTER, "readd": True}, "Cannot readd the master node"),
    ({"node_name": "clash"},
     "New node ip address(es) conflict with existing node %s" % NODE2),
    ({"node_name": "node4", "secondary_ip": "198.51.100.99"},
     "The master has no secondary ip but the new node has one"),
])
def test_add_node_refusals(cfg, monkeypatch, op, message):
    _patch_node_add(monkeypatch)
    op = dict(op, OP_ID="OP_NODE_ADD")
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), op)
    assert exc.value.args[0] == message


def test_add_node_version_mismatch(cfg, monkeypatch):
    _patch_node_add(monkeypatch, version=1)
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_ADD",
                                "node_name": "node4"})
    assert exc.value.args[0] == ("Version mismatch master version %s, node"
                                 " version 1" % constants.PROTOCOL_VERSION)
    assert cfg.get_node_info_by_name("node4.gnt.test") is None


# --- cluster verify ---

def test_verify_submits_config_and_group_jobs(cfg):
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_VERIFY",
                                           "error_codes": True})
    assert isinstance(result, base.ResultWithJobs)
    (config_job,), (group_job,) = result.jobs
    assert config_job.OP_ID == "OP_CLUSTER_VERIFY_CONFIG"
    assert config_job.error_codes
    assert group_job.OP_ID == "OP_CLUSTER_VERIFY_GROUP"
    assert group_job.group_name == cfg.lookup_node_group("default")
    assert group_job.depends == [[-1, []]]
    assert group_job.summary() == "CLUSTER_VERIFY_GROUP(%s)" % \
        cfg.lookup_node_group("default")
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_VERIFY",
                                           "group_name": "default"})
    ((job,),) = result.jobs
    assert job.OP_ID == "OP_CLUSTER_VERIFY_GROUP" and job.depends is None


def _make_certs():
    for path in (pathutils.NODED_CERT_FILE, pathutils.RAPI_CERT_FILE):
        crypto.write_cert_and_key(path)


def test_verify_config(cfg):
    result, messages, _ = run_lu(cfg, FakeRpc(),
                                 {"OP_ID": "OP_CLUSTER_VERIFY_CONFIG"})
    assert result is False  # no certificates yet
    assert messages[0] == "* Verifying cluster config"
    assert messages[2].startswith("  - ERROR: cluster: Failed to load X509"
                                  " certificate %s" %
                                  pathutils.NODED_CERT_FILE)
    _make_certs()
    result, messages, _ = run_lu(cfg, FakeRpc(),
                                 {"OP_ID": "OP_CLUSTER_VERIFY_CONFIG"})
    assert result is True
    assert messages == ["* Verifying cluster config",
                        "* Verifying cluster certificate files",
                        "* Verifying hypervisor parameters",
                        "* Verifying all nodes belong to an existing group"]


class NodeWorld:
    """node_verify answers of healthy nodes, to be spoiled by tests."""

    def __init__(self, cfg):
        import time as time_module
        self.cfg = cfg
        self.ssconf = cfg.get_ssconf_values()
        self.files = {}
        self.version = [constants.PROTOCOL_VERSION, constants.RELEASE_VERSION]
        self.time = time_module.time
        self.overrides = {}

    def __call__(self, name, args):
        checks = args[0]
        from ganeti.utils import text
        result = {}
        if rpc_defs.NV_FILELIST in checks:
            result[rpc_defs.NV_FILELIST] = dict(
                (path, self.files.get((name, path), "f" * 40))
                for path in checks[rpc_defs.NV_FILELIST])
        if rpc_defs.NV_VERSION in checks:
            result.update({
                rpc_defs.NV_VERSION: list(self.version),
                rpc_defs.NV_NODELIST: {},
                rpc_defs.NV_MASTERIP: True,
                rpc_defs.NV_TIME: list(text.split_time(self.time())),
                rpc_defs.NV_HYPERVISOR: {"fake": None},
                rpc_defs.NV_SSCONF: dict(self.ssconf),
                rpc_defs.NV_BRIDGES: [],
                "instancelist": [],
                rpc_defs.NV_HVINFO: {"memory_free": 1000},
            })
        result.update(self.overrides.get(name, {}))
        return result


GROUP_LINES = [
    "* Verifying group 'default'",
    "* Gathering data (3 nodes)",
    "* Gathering information about nodes (3 nodes)",
    "* Gathering disk information (3 nodes)",
    "* Verifying configuration file consistency",
    "* Verifying node status",
    "* Verifying instance status",
    "* Verifying orphan volumes",
    "* Verifying N+1 Memory redundancy",
    "* Other Notes",
    "* Hooks Results",
]


def _verify_group(cfg, world, **extra):
    op = {"OP_ID": "OP_CLUSTER_VERIFY_GROUP",
          "group_name": cfg.lookup_node_group("default")}
    op.update(extra)
    rpc = FakeRpc({"node_verify": world})
    result, messages, lu = run_lu(cfg, rpc, op)
    return result, messages, rpc


def test_verify_group_healthy(cfg):
    result, messages, rpc = _verify_group(cfg, NodeWorld(cfg))
    assert messages == GROUP_LINES
    assert result is True
    ((_, names, args),) = rpc.calls
    assert names == [MASTER, NODE2, NODE3]
    checks = args[0]
    assert checks[rpc_defs.NV_MASTERIP] == "198.51.100.100"
    assert checks[rpc_defs.NV_NODELIST] == {
        MASTER: "198.51.100.11", NODE2: "198.51.100.12",
        NODE3: "198.51.100.13"}
    assert pathutils.CLUSTER_CONF_FILE in checks[rpc_defs.NV_FILELIST]
    assert pathutils.NODED_CERT_FILE in checks[rpc_defs.NV_FILELIST]
    assert checks[rpc_defs.NV_BRIDGES] == ["br0"]


def _errors(messages):
    return [m for m in messages if m.startswith("  - ")]


def test_verify_group_finds_problems(cfg):
    world = NodeWorld(cfg)
    world.overrides[NODE2] = {
        rpc_defs.NV_SSCONF: dict(world.ssconf, node_list="stale"),
        rpc_defs.NV_TIME: [1000, 0],
        rpc_defs.NV_MASTERIP: False,
    }
    world.overrides[NODE3] = {rpc_defs.NV_VERSION: [1, "2.0"]}
    world.files[(NODE3, pathutils.CLUSTER_CONF_FILE)] = "0" * 40
    result, messages, _ = _verify_group(cfg, world)
    assert result is False
    errs = _errors(messages)
    assert ("  - ERROR: cluster: File %s found with 2 different checksums"
            " (variant 1 on %s; variant 2 on %s, %s)" %
            (pathutils.CLUSTER_CONF_FILE, NODE3, MASTER, NODE2)) in errs
    assert ("  - ERROR: node %s: ssconf value of 'node_list' differs from"
            " the configuration" % NODE2) in errs
    assert any(e.startswith("  - ERROR: node %s: Node time diverges by at"
                            " least" % NODE2) for e in errs)
    assert "  - ERROR: node %s: cannot reach the master IP" % NODE2 in errs
    assert ("  - ERROR: node %s: incompatible protocol versions: master %s,"
            " node 1" % (NODE3, constants.PROTOCOL_VERSION)) in errs
    # the error list sits between its section headings
    assert messages.index(errs[0]) > messages.index(
        "* Verifying configuration file consistency")


def test_verify_group_rpc_failure_and_error_codes(cfg):
    world = NodeWorld(cfg)

    def answer(name, args):
        if name == NODE3:
            raise RuntimeError("Node is unreachable")
        return world(name, args)
    op = {"OP_ID": "OP_CLUSTER_VERIFY_GROUP", "error_codes": True,
          "group_name": "default"}
    result, messages, _ = run_lu(cfg, FakeRpc({"node_verify": answer}), op)
    assert result is False
    errs = _errors(messages)
    assert ("  - ERROR:ENODERPC:node:%s:while contacting node: Node is"
            " unreachable" % NODE3) in errs
    assert ("  - ERROR:ENODEFILECHECK:node:%s:Node did not return file"
            " checksum data" % NODE3) in errs
    op["ignore_errors"] = ["ENODERPC", "ENODEFILECHECK"]
    result, messages, _ = run_lu(cfg, FakeRpc({"node_verify": answer}), op)
    assert result is True
    assert all(e.startswith("  - WARNING:") for e in _errors(messages))


def test_verify_group_offline_node_is_skipped(cfg):
    node = cfg.get_node_info_by_name(NODE3)
    node.offline = True
    node.master_candidate = False
    cfg.update(node)
    result, messages, rpc = _verify_group(cfg, NodeWorld(cfg))
    assert result is True
    assert "  - NOTICE: 1 offline node(s) found." in messages


# --- cluster LUs ---

def test_destroy_refuses_with_nodes_left(cfg):
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_DESTROY"})
    assert exc.value.args == ("There are still 2 node(s) in this cluster.",
                              errors.ECODE_INVAL)


def test_destroy_single_node(root):
    data = make_config_data(extra_nodes=())
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    cfg = config.ConfigWriter(pathutils.CLUSTER_CONF_FILE)
    rpc = FakeRpc()
    result, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_CLUSTER_DESTROY"})
    assert result == cfg.get_master_node()
    ((proc, names, args),) = rpc.calls
    assert proc == "node_deactivate_master_ip" and names == [MASTER]
    assert args[0]["ip"] == "198.51.100.100" and args[0]["netdev"] == "br0"


def test_master_ip_lus(cfg):
    rpc = FakeRpc()
    run_lu(cfg, rpc, {"OP_ID": "OP_CLUSTER_ACTIVATE_MASTER_IP"})
    assert rpc.calls[0][0] == "node_activate_master_ip"
    assert rpc.calls[0][2][0]["netmask"] == 32

    def fail(name, args):
        raise RuntimeError("no such device")
    with pytest.raises(errors.OpExecError) as exc:
        run_lu(cfg, FakeRpc({"node_deactivate_master_ip": fail}),
               {"OP_ID": "OP_CLUSTER_DEACTIVATE_MASTER_IP"})
    assert exc.value.args == ("Could not deactivate the master IP: no such"
                              " device",)


def test_redist_conf_rewrites_ssconf_everywhere(cfg):
    node = cfg.get_node_info_by_name(NODE3)
    node.offline = True
    node.master_candidate = False
    cfg.update(node)
    rpc = FakeRpc()
    run_lu(cfg, rpc, {"OP_ID": "OP_CLUSTER_REDIST_CONF"})
    ((_, names, args),) = rpc.called("write_ssconf_files")
    assert names == [MASTER, NODE2]
    assert args == [cfg.get_ssconf_values()]


def test_post_init(cfg):
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_POST_INIT"})
    assert result is True


def test_set_params(cfg):
    run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_CLUSTER_SET_PARAMS", "candidate_pool_size": 3,
        "beparams": {"vcpus": 2},
        "hvparams": {"fake": {"migration_mode": "non-live"}},
        "max_running_jobs": 5, "hidden_os": [["add", "debian"]],
        "enabled_data_collectors": {"drbd": False}})
    cluster = cfg.get_cluster_info()
    assert cluster.candidate_pool_size == 3
    assert cluster.beparams["default"]["vcpus"] == 2
    assert cluster.beparams["default"]["maxmem"] == 128
    assert cluster.hvparams["fake"]["migration_mode"] == "non-live"
    assert cluster.max_running_jobs == 5
    assert cluster.hidden_os == ["debian"]
    assert cluster.data_collectors["drbd"]["active"] is False
    with pytest.raises(errors.OpPrereqError):
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_SET_PARAMS",
                                "mac_prefix": "zz"})


def test_cluster_query(cfg):
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_CLUSTER_QUERY"})
    assert result["name"] == "cluster.gnt.test"
    assert result["master"] == MASTER
    result, _, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_CLUSTER_CONFIG_QUERY",
        "output_fields": ["cluster_name", "master_node"]})
    assert result == ["cluster.gnt.test", MASTER]


# --- distribution ---

def test_distributor_targets():
    data = make_config_data()
    data.nodes["uuid-node3"].offline = True
    data.nodes["uuid-node3"].master_candidate = False
    payload = serializer.dump_json(data.to_dict()).encode("utf-8")
    rpc = FakeRpc()
    distribute = config_sync.make_distributor(rpc)
    distribute(payload, {"cluster_name": "cluster.gnt.test"})
    (upload, ssconf) = rpc.calls
    assert upload[0] == "upload_file" and upload[1] == [NODE2]
    assert upload[2][0] == pathutils.CLUSTER_CONF_FILE
    assert rpc_defs.decode_content(upload[2][1]) == payload
    assert upload[2][2] == 0o600
    assert ssconf == ("write_ssconf_files", [MASTER, NODE2],
                      [{"cluster_name": "cluster.gnt.test"}])
    rpc.calls = []
    distribute(payload, None)
    assert [c[0] for c in rpc.calls] == ["upload_file"]


def test_redistribute_files(cfg):
    for path in (pathutils.SSH_KNOWN_HOSTS_FILE, pathutils.CONFD_HMAC_KEY,
                 pathutils.RAPI_CERT_FILE):
        with open(path, "w") as fh:
            fh.write("data\n")
    node = cfg.get_node_info_by_name(NODE3)
    node.master_candidate = False
    cfg.update(node)
    rpc = FakeRpc()
    assert config_sync.redistribute_files(cfg, rpc) == 0
    targets = dict((c[2][0], c[1]) for c in rpc.called("upload_file"))
    assert targets == {
        pathutils.SSH_KNOWN_HOSTS_FILE: [NODE2, NODE3],
        pathutils.CONFD_HMAC_KEY: [NODE2, NODE3],
        pathutils.RAPI_CERT_FILE: [NODE2, NODE3],
        pathutils.CLUSTER_CONF_FILE: [NODE2],
    }
    messages = []
    rpc = FakeRpc({"upload_file": lambda n, a: RpcResult(
        n, "upload_file", fail_msg="disk full")})
    assert config_sync.redistribute_files(cfg, rpc, [NODE2],
                                          messages.append) == 4
    assert messages[0].startswith(" - WARNING: Copy of file ")


def test_ancillary_files():
    cluster = make_config_data().cluster
    files_all, files_opt, files_mc, _ = \
        config_sync.ancillary_files(cluster, False)
    assert pathutils.CLUSTER_CONF_FILE in files_mc
    assert pathutils.NODED_CERT_FILE in files_all
    assert pathutils.FILE_STORAGE_PATHS_FILE in files_opt
    redist = config_sync.ancillary_files(cluster, True)
    assert pathutils.NODED_CERT_FILE not in redist[0]
    assert not redist[2]


# --- ssh ---

def test_host_key_checks(tmp_path):
    import paramiko
    from ganeti import ssh
    key = paramiko.RSAKey.generate(1024)
    other = paramiko.RSAKey.generate(1024)
    known = tmp_path / "known_hosts"
    known.write_text("node2.gnt.test,198.51.100.12 %s %s\n"
                     "cluster.gnt.test %s %s\n" %
                     (key.get_name(), key.get_base64(), other.get_name(),
                      other.get_base64()))
    keys = ssh._load_known_hosts([str(known)])
    assert ssh.host_key_matches(keys, ["198.51.100.12"], key)
    assert not ssh.host_key_matches(keys, ["node3.gnt.test"], key)
    assert ssh.host_key_matches(keys, ["x", "cluster.gnt.test"], other)
    assert ssh.format_known_hosts("c", "AAA") == "c ssh-rsa AAA\n"


def test_ssh_runner_reports_connection_failure(tmp_path):
    import socket
    from ganeti import ssh
    key = tmp_path / "id_rsa"
    import paramiko
    paramiko.RSAKey.generate(1024).write_private_key_file(str(key))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    runner = ssh.SshRunner("c", ssh_dir=str(tmp_path), known_hosts_files=[],
                           connect_timeout=2)
    code, out, err = runner.run("localhost", "true", address="127.0.0.1",
                                port=port)
    assert code == ssh.EXIT_SSH_FAILURE and out == ""
    assert err.startswith("Can't connect to localhost:")


def test_master_stays_master_capable(cfg):
    with pytest.raises(errors.OpPrereqError) as exc:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_NODE_SET_PARAMS",
                                "node_name": MASTER,
                                "master_capable": False})
    assert exc.value.args == ("Master must remain master capable",
                              errors.ECODE_STATE)
