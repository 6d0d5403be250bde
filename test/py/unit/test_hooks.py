"""Hooks on the master: environment, target nodes, phases, config-update.

The LUs run against a real ConfigWriter (a 3-node cluster in a temporary
``GANETI_ROOTDIR``) and the hook scripts are real files run by the
node-side ``backend.hooks.hooks_runner``; only the HTTPS transport between
master and nodes is replaced by ``LocalNodes``, which runs the procedure
in this process for every target node (all "nodes" share one hooks
directory here; the cluster test runs them on separate nodes).
"""

import importlib
import json
import os
import stat

import pytest

from ganeti import bootstrap
from ganeti import cli
from ganeti import cmdlib
from ganeti import config
from ganeti import errors
from ganeti import hooksmaster
from ganeti import locking
from ganeti import mcpu
from ganeti import objects
from ganeti import opcodes
from ganeti import pathutils
from ganeti.backend import hooks as backend_hooks
from ganeti.cmdlib import base
from ganeti.rpc import defs as rpc_defs
from ganeti.rpc.client import RpcResult

from test_cmdlib import ProcessorCallbacks

MASTER = "node1.gnt.test"
NODE2 = "node2.gnt.test"
NODE3 = "node3.gnt.test"
CLUSTER = "cluster.gnt.test"


class LocalNodes:
    """The hooks_runner RPC executed locally for each target node.

    ``unreachable``/``offline`` name nodes answered with a failure, as the
    real RPC client does for them.
    """

    def __init__(self, unreachable=(), offline=()):
        self.calls = []
        self.unreachable = set(unreachable)
        self.offline = set(offline)

    def call(self, procedure, node_names, args, timeout=None):
        assert procedure == "hooks_runner"
        self.calls.append((list(node_names), list(args)))
        results = {}
        for name in node_names:
            if name in self.offline:
                results[name] = RpcResult(name, procedure,
                                          fail_msg="Node is marked offline",
                                          offline=True)
            elif name in self.unreachable:
                results[name] = RpcResult(name, procedure,
                                          fail_msg="Connection refused")
            else:
                results[name] = RpcResult(
                    name, procedure,
                    payload=backend_hooks.hooks_runner(*args))
        return results

    def call_single(self, procedure, node_name, args, timeout=None):
        return self.call(procedure, [node_name], args)[node_name]


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


@pytest.fixture
def cfg(root):
    params = bootstrap.fill_cluster_params(
        enabled_hypervisors=["fake"], master_netdev="br0",
        enabled_disk_templates=["file", "diskless"],
        nicparams={"link": "br0"}, candidate_pool_size=10)
    params["cluster_name"] = CLUSTER
    data = bootstrap.build_initial_config(params, MASTER, "198.51.100.11",
                                          "198.51.100.100")
    group = list(data.nodegroups)[0]
    for index, name in enumerate((NODE2, NODE3), 2):
        ip = "198.51.100.%d" % (10 + index)
        node = objects.Node(name=name, primary_ip=ip, secondary_ip=ip,
                            uuid="uuid-%s" % name.split(".")[0], group=group,
                            master_candidate=True, serial_no=1)
        data.nodes[node.uuid] = node
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    return config.ConfigWriter(pathutils.CLUSTER_CONF_FILE)


def hook(hpath, phase, name, body, mode=0o755):
    """Write one hook script; returns its path."""
    hdir = os.path.join(pathutils.HOOKS_BASE_DIR, "%s-%s.d" % (hpath, phase))
    os.makedirs(hdir, exist_ok=True)
    path = os.path.join(hdir, name)
    with open(path, "w") as fh:
        fh.write("#!/bin/sh\n" + body)
    os.chmod(path, mode)
    return path


def env_dump(hpath, phase, name="50-env"):
    """A hook that saves its whole environment; returns the dump's path."""
    out = os.path.join(pathutils.HOOKS_BASE_DIR, "%s-%s.env" % (hpath, phase))
    # /proc: exactly what the script was given (sh adds PWD, drops names
    # with dots)
    hook(hpath, phase, name, "tr '\\0' '\\n' < /proc/$$/environ > %s\n"
         % out)
    return out


def read_env(path):
    with open(path) as fh:
        return dict(line.rstrip("\n").split("=", 1) for line in fh
                    if "=" in line)


def run_op(cfg, nodes, op_dict):
    """Run one opcode through the real processor with a HooksRunner."""
    ctx = base.MasterContext(cfg, nodes, hooks=hooksmaster.HooksRunner(nodes),
                             master_name=MASTER)
    proc = mcpu.Processor(ctx, locking.LockManager())
    callbacks = ProcessorCallbacks()
    result = proc.execute_opcode(opcodes.load_opcode(op_dict), callbacks)
    assert callbacks.submitted == [], "no jobs expected"
    return result, callbacks.messages


def base_keys(opcode, hpath, phase, htype):
    return {
        "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
        "GANETI_HOOKS_VERSION": "2",
        "GANETI_OP_CODE": opcode,
        "GANETI_DATA_DIR": pathutils.DATA_DIR,
        "GANETI_HOOKS_PHASE": phase,
        "GANETI_HOOKS_PATH": hpath,
        "GANETI_OBJECT_TYPE": htype,
        "GANETI_CLUSTER": CLUSTER,
        "GANETI_MASTER": MASTER,
    }


# --- environment building ---

def test_base_env_exact_keys(root):
    env = hooksmaster.full_env(
        hooksmaster.base_env("OP_NODE_ADD", "node-add", "pre", "NODE",
                             CLUSTER, MASTER),
        {"GANETI_NODE_NAME": "node4", "GANETI_VM_CAPABLE": True,
         "GANETI_NODE_SIP": None})
    expected = base_keys("OP_NODE_ADD", "node-add", "pre", "NODE")
    expected.update({"GANETI_NODE_NAME": "node4", "GANETI_VM_CAPABLE": "True",
                     "GANETI_NODE_SIP": "None"})
    assert env == expected


def test_base_env_without_type_cluster_or_master(root):
    env = hooksmaster.base_env("OP_X", "config-update", "post")
    assert sorted(env) == ["GANETI_DATA_DIR", "GANETI_HOOKS_PATH",
                           "GANETI_HOOKS_PHASE", "GANETI_HOOKS_VERSION",
                           "GANETI_OP_CODE", "PATH"]


def test_phase_env_prefixes():
    assert hooksmaster.phase_env(lambda: {"A": 1}, "pre") == {"GANETI_A": 1}
    assert hooksmaster.phase_env(lambda: {"A": 1}, "post") == \
        {"GANETI_POST_A": 1}
    assert hooksmaster.phase_env(lambda: None, "pre") == {}
    with pytest.raises(errors.ProgrammerError):
        hooksmaster.phase_env(lambda: {"GANETI_A": 1}, "pre")
    with pytest.raises(errors.ProgrammerError):
        hooksmaster.phase_env(lambda: {"A": 1}, "middle")
    with pytest.raises(errors.ProgrammerError):
        hooksmaster.full_env({"GANETI_A": 1}, {"GANETI_A": 2})


def test_post_env_recomputes_the_lu_keys():
    """Post hooks see the object after the change (GANETI_POST_*) next to
    the values from before it (GANETI_*)."""
    state = {"value": "before"}
    seen = []

    def execute(nodes, hpath, phase, env):
        seen.append((list(nodes), phase, env))
        return dict((n, RpcResult(n, "hooks_runner", payload=[]))
                    for n in nodes)

    master = hooksmaster.HooksMaster(
        "OP_TEST", "test-path", (["b", "a"], ["c"]), execute,
        lambda: {"VALUE": state["value"]}, lambda *a: None, htype="NODE",
        cluster_name=CLUSTER, master_name=MASTER)
    master.run_phase("pre")
    state["value"] = "after"
    master.run_phase("post")
    (pre_nodes, _, pre), (post_nodes, _, post) = seen
    assert pre_nodes == ["a", "b"] and post_nodes == ["c"]
    assert pre["GANETI_VALUE"] == "before"
    assert "GANETI_POST_VALUE" not in pre
    assert post["GANETI_VALUE"] == "before"
    assert post["GANETI_POST_VALUE"] == "after"
    assert post["GANETI_HOOKS_PHASE"] == "post"


# --- through the processor, with real scripts ---

def test_cluster_modify_env_pre_and_post(cfg):
    pre_out = env_dump("cluster-modify", "pre")
    post_out = env_dump("cluster-modify", "post")
    nodes = LocalNodes()
    result, _ = run_op(cfg, nodes, {"OP_ID": "OP_CLUSTER_SET_PARAMS",
                                    "candidate_pool_size": 7})
    assert cfg.get_cluster_info().candidate_pool_size == 7
    assert [call[0] for call in nodes.calls] == [[MASTER], [MASTER],
                                                 [MASTER]]
    pre = read_env(pre_out)
    expected = base_keys("OP_CLUSTER_SET_PARAMS", "cluster-modify", "pre",
                         "CLUSTER")
    expected.update({"GANETI_OP_TARGET": CLUSTER,
                     "GANETI_NEW_VG_NAME": "None"})
    assert pre == expected
    post = read_env(post_out)
    expected.update({"GANETI_HOOKS_PHASE": "post",
                     "GANETI_POST_OP_TARGET": CLUSTER,
                     "GANETI_POST_NEW_VG_NAME": "None"})
    assert post == expected
    # the third call: config-update on the master, with the pre keys
    hpath, phase, env = nodes.calls[2][1]
    assert (hpath, phase) == ("config-update", "post")
    assert env["GANETI_HOOKS_PATH"] == "config-update"
    assert env["GANETI_OP_TARGET"] == CLUSTER
    assert not any(key.startswith("GANETI_POST_") for key in env)


def test_failing_pre_hook_aborts_before_any_change(cfg):
    hook("node-modify", "pre", "10-ok", "exit 0\n")
    hook("node-modify", "pre", "20-fail", "echo refused; exit 1\n")
    hook("node-modify", "pre", "30-silent", "exit 2\n")
    hook("node-modify", "pre", "40-not.run", "exit 1\n")
    post_out = env_dump("node-modify", "post")
    serial = cfg.get_config_serial()
    nodes = LocalNodes()
    with pytest.raises(errors.HooksAbort) as info:
        run_op(cfg, nodes, {"OP_ID": "OP_NODE_SET_PARAMS",
                            "node_name": NODE3, "drained": True})
    assert info.value.args[0] == [
        (MASTER, "node-modify-pre.d/20-fail", "refused"),
        (MASTER, "node-modify-pre.d/30-silent", ""),
        (NODE3, "node-modify-pre.d/20-fail", "refused"),
        (NODE3, "node-modify-pre.d/30-silent", ""),
    ]
    assert cfg.get_config_serial() == serial
    assert not cfg.get_node_info_by_name(NODE3).drained
    assert not os.path.exists(post_out)
    assert len(nodes.calls) == 1
    # what the user reads (after the error travelled through the job)
    wire = json.loads(json.dumps(errors.encode_exception(info.value)))
    _, text = cli.format_error(errors.decode_exception(wire))
    assert text == (
        "Failure: hooks execution failed:\n"
        "  node: node1.gnt.test, script: node-modify-pre.d/20-fail,"
        " output: refused\n"
        "  node: node1.gnt.test, script: node-modify-pre.d/30-silent"
        " (no output)\n"
        "  node: node3.gnt.test, script: node-modify-pre.d/20-fail,"
        " output: refused\n"
        "  node: node3.gnt.test, script: node-modify-pre.d/30-silent"
        " (no output)")


def test_failing_post_hook_is_only_reported(cfg):
    hook("node-modify", "post", "20-fail", "echo late >&2; exit 1\n")
    hook("node-modify", "post", "30-silent", "exit 1\n")
    nodes = LocalNodes()
    result, messages = run_op(cfg, nodes, {"OP_ID": "OP_NODE_SET_PARAMS",
                                           "node_name": NODE3,
                                           "vm_capable": False})
    assert not cfg.get_node_info_by_name(NODE3).vm_capable
    assert result == [("vm_capable", "False")]
    warnings = [m.lstrip() for m in messages if "script" in m]
    assert warnings == [
        "- WARNING: On %s script node-modify-post.d/20-fail failed,"
        " output: late" % MASTER,
        "- WARNING: On %s script node-modify-post.d/30-silent failed,"
        " output: (no output)" % MASTER,
        "- WARNING: On %s script node-modify-post.d/20-fail failed,"
        " output: late" % NODE3,
        "- WARNING: On %s script node-modify-post.d/30-silent failed,"
        " output: (no output)" % NODE3,
    ]


def test_unreachable_and_offline_nodes_do_not_abort(cfg):
    hook("node-modify", "pre", "20-fail", "exit 1\n")
    nodes = LocalNodes(unreachable=[MASTER], offline=[NODE3])
    result, messages = run_op(cfg, nodes, {"OP_ID": "OP_NODE_SET_PARAMS",
                                           "node_name": NODE3,
                                           "vm_capable": False})
    assert result == [("vm_capable", "False")]
    assert [m.lstrip() for m in messages] == [
        "- WARNING: Communication failure to node %s: Connection refused"
        % MASTER] * 2


def test_no_hooks_lu_runs_only_config_update(cfg):
    out = env_dump("config-update", "post")
    nodes = LocalNodes()
    run_op(cfg, nodes, {"OP_ID": "OP_TAGS_SET", "kind": "cluster",
                        "tags": ["hooked"]})
    assert [call[1][:2] for call in nodes.calls] == [["config-update",
                                                      "post"]]
    assert nodes.calls[0][0] == [MASTER]
    env = read_env(out)
    assert env["GANETI_OP_CODE"] == "OP_TAGS_SET"
    assert env["GANETI_HOOKS_PATH"] == "config-update"
    assert env["GANETI_CLUSTER"] == CLUSTER
    assert "GANETI_OBJECT_TYPE" not in env


def test_no_config_change_no_config_update(cfg):
    nodes = LocalNodes()
    run_op(cfg, nodes, {"OP_ID": "OP_TAGS_GET", "kind": "cluster"})
    run_op(cfg, nodes, {"OP_ID": "OP_TEST_DELAY", "duration": 0.01})
    assert nodes.calls == []


def test_dry_run_runs_pre_hooks_only(cfg):
    out = env_dump("cluster-modify", "pre")
    post_out = env_dump("cluster-modify", "post")
    nodes = LocalNodes()
    run_op(cfg, nodes, {"OP_ID": "OP_CLUSTER_SET_PARAMS",
                        "candidate_pool_size": 7, "dry_run": True})
    assert os.path.exists(out) and not os.path.exists(post_out)
    assert cfg.get_cluster_info().candidate_pool_size == 10


# --- target nodes of the LUs ---

def _hook_nodes(cfg, op_dict):
    op = opcodes.load_opcode(op_dict)
    ctx = base.MasterContext(cfg, LocalNodes(), master_name=MASTER)
    lu = cmdlib.get_lu_class(op.OP_ID)(ctx, op, lambda msg: None)
    lu.check_arguments()
    lu.expand_names()
    hooks = hooksmaster.HooksRunner(LocalNodes()).for_lu(lu)
    return (lu.HPATH, lu.HTYPE, sorted(hooks.master.pre_nodes or []),
            sorted(hooks.master.post_nodes or []), hooks.master.pre_env)


def test_lu_hook_paths_nodes_and_keys(cfg):
    assert _hook_nodes(cfg, {"OP_ID": "OP_CLUSTER_SET_PARAMS"}) == (
        "cluster-modify", "CLUSTER", [MASTER], [MASTER],
        {"GANETI_OP_TARGET": CLUSTER, "GANETI_NEW_VG_NAME": None})
    assert _hook_nodes(cfg, {"OP_ID": "OP_CLUSTER_POST_INIT"}) == (
        "cluster-init", "CLUSTER", [], [MASTER],
        {"GANETI_OP_TARGET": CLUSTER})
    assert _hook_nodes(cfg, {"OP_ID": "OP_CLUSTER_DESTROY"})[:4] == (
        "cluster-destroy", "CLUSTER", [], [])
    assert _hook_nodes(cfg, {"OP_ID": "OP_NODE_REMOVE",
                             "node_name": NODE3}) == (
        "node-remove", "NODE", [MASTER, NODE2], [MASTER, NODE2],
        {"GANETI_OP_TARGET": NODE3, "GANETI_NODE_NAME": NODE3})
    assert _hook_nodes(cfg, {"OP_ID": "OP_NODE_SET_PARAMS",
                             "node_name": NODE2, "offline": True}) == (
        "node-modify", "NODE", [MASTER, NODE2], [MASTER, NODE2],
        {"GANETI_OP_TARGET": NODE2, "GANETI_MASTER_CANDIDATE": "None",
         "GANETI_OFFLINE": "True", "GANETI_DRAINED": "None",
         "GANETI_MASTER_CAPABLE": "None", "GANETI_VM_CAPABLE": "None"})
    group = cfg.lookup_node_group("default")
    hpath, htype, pre, post, env = _hook_nodes(
        cfg, {"OP_ID": "OP_CLUSTER_VERIFY_GROUP", "group_name": group})
    assert (hpath, htype, pre, post) == ("cluster-verify", "CLUSTER", [],
                                         [MASTER, NODE2, NODE3])
    assert env == {"GANETI_CLUSTER_TAGS": "",
                   "GANETI_NODE_TAGS_%s" % MASTER: "",
                   "GANETI_NODE_TAGS_%s" % NODE2: "",
                   "GANETI_NODE_TAGS_%s" % NODE3: ""}
    for op_id in ("OP_TAGS_SET", "OP_TAGS_DEL", "OP_CLUSTER_REDIST_CONF",
                  "OP_TEST_DELAY", "OP_CLUSTER_VERIFY"):
        assert cmdlib.get_lu_class(op_id).HPATH is None, op_id


# --- cluster verify ---

def test_verify_reports_failed_post_hooks(cfg):
    """A failing cluster-verify post hook is a verify error (ENODEHOOKS)
    with its output indented, and makes verify fail."""
    from ganeti.cmdlib import cluster_verify
    group = cfg.lookup_node_group("default")
    op = opcodes.load_opcode({"OP_ID": "OP_CLUSTER_VERIFY_GROUP",
                              "group_name": group})
    messages = []
    ctx = base.MasterContext(cfg, LocalNodes(), master_name=MASTER)
    lu = cluster_verify.LUClusterVerifyGroup(ctx, op, messages.append)
    lu.expand_names()
    hook("cluster-verify", "post", "10-check", "echo line1; echo line2;"
         " exit 1\n")
    hooks = hooksmaster.HooksRunner(LocalNodes(unreachable=[NODE2])
                                    ).for_lu(lu)
    assert hooks.run_post(True) is False
    start = messages.index("* Hooks Results")
    assert messages[start:] == [
        "* Hooks Results",
        "  - ERROR: node %s: Script cluster-verify-post.d/10-check failed,"
        " output:" % MASTER,
        "      line1\n      line2",
        "  - ERROR: node %s: Communication failure in hooks execution:"
        " Connection refused" % NODE2,
        "  - ERROR: node %s: Script cluster-verify-post.d/10-check failed,"
        " output:" % NODE3,
        "      line1\n      line2",
    ]
    # the generic post-phase warnings come first, as in Ganeti
    assert [m.lstrip() for m in messages[:start]] == [
        "- WARNING: On %s script cluster-verify-post.d/10-check failed,"
        " output: line1\nline2" % MASTER,
        "- WARNING: Communication failure to node %s: Connection refused"
        % NODE2,
        "- WARNING: On %s script cluster-verify-post.d/10-check failed,"
        " output: line1\nline2" % NODE3,
    ]


def test_verify_passing_hooks_keep_the_result(cfg):
    from ganeti.cmdlib import cluster_verify
    group = cfg.lookup_node_group("default")
    op = opcodes.load_opcode({"OP_ID": "OP_CLUSTER_VERIFY_GROUP",
                              "group_name": group})
    messages = []
    ctx = base.MasterContext(cfg, LocalNodes(), master_name=MASTER)
    lu = cluster_verify.LUClusterVerifyGroup(ctx, op, messages.append)
    lu.expand_names()
    hook("cluster-verify", "post", "10-ok", "echo fine\n")
    hooks = hooksmaster.HooksRunner(LocalNodes()).for_lu(lu)
    assert hooks.run_post(True) is True
    assert messages == ["* Hooks Results"]


# --- the node side (run-parts rules) ---

def test_runner_skips_bad_names_and_hidden_files(root, monkeypatch):
    hook("node-add", "pre", "10-ok",
         "tr '\\0' '\\n' < /proc/$$/environ | sort\n")
    hook("node-add", "pre", "20_ok-too", "exit 0\n")
    hook("node-add", "pre", "bad.sh", "exit 1\n")
    hook("node-add", "pre", ".hidden", "exit 1\n")
    hook("node-add", "pre", "30-noexec", "exit 1\n", mode=0o644)
    os.makedirs(os.path.join(pathutils.HOOKS_BASE_DIR, "node-add-pre.d",
                             "40-dir"))
    monkeypatch.setenv("LEAK_CHECK", "1")
    result = backend_hooks.hooks_runner("node-add", "pre", {"GANETI_X": "x"})
    assert result == [
        # a clean environment: nothing of ours (LEAK_CHECK) gets through
        ["node-add-pre.d/10-ok", rpc_defs.HKR_SUCCESS,
         "GANETI_X=x\nPATH=/sbin:/bin:/usr/sbin:/usr/bin"],
        ["node-add-pre.d/20_ok-too", rpc_defs.HKR_SUCCESS, ""],
        ["node-add-pre.d/30-noexec", rpc_defs.HKR_SKIP, ""],
        ["node-add-pre.d/40-dir", rpc_defs.HKR_SKIP, ""],
        ["node-add-pre.d/bad.sh", rpc_defs.HKR_SKIP, ""],
    ]


def test_runner_reports_exec_errors(root):
    path = hook("node-add", "post", "10-broken", "")
    with open(path, "w") as fh:
        fh.write("not a script\n")
    os.chmod(path, stat.S_IRWXU)
    ((name, status, output),) = backend_hooks.hooks_runner("node-add",
                                                            "post", {})
    assert name == "node-add-post.d/10-broken"
    assert status == rpc_defs.HKR_FAIL
    assert output.startswith("Hook script execution error: ")
