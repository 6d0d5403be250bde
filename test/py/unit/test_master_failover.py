"""Master failover: votes, the majority rule, Ganeti's refusal texts and
the order of the steps (the real procedure runs in
test/py/cluster/test_master_failover_cluster.py)."""

import importlib
import os

import pytest

from ganeti import bootstrap
from ganeti import errors
from ganeti import master_failover as mf
from ganeti import objects
from ganeti import pathutils
from ganeti.rpc.client import RpcResult

N1, N2, N3 = "node1.example.com", "node2.example.com", "node3.example.com"


class RecordingRpc:
    """Answers per (procedure, node); records every call in order.

    ``answers[(procedure, node)]`` is a payload, or an Exception instance
    whose text becomes the failure message.
    """

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def call(self, procedure, names, args, timeout=None):
        self.calls.append((procedure, sorted(names)))
        result = {}
        for name in names:
            answer = self.answers.get((procedure, name))
            if isinstance(answer, Exception):
                result[name] = RpcResult(name, procedure,
                                         fail_msg=str(answer))
            else:
                result[name] = RpcResult(name, procedure, payload=answer)
        return result

    def procedures(self, node):
        return [proc for proc, names in self.calls if node in names]


# --- votes and the majority rule ---

def test_votes_are_ranked_by_count_then_name():
    votes = mf.Votes({N1: N2, N2: N2, N3: N1, "n4": N1, "n5": "nx"})
    assert votes.ranking() == [(N1, 2), (N2, 2), ("nx", 1)]
    assert votes.winner() == N1
    assert mf.Votes().winner() is None


def test_gather_votes_separates_failures():
    rpc = RecordingRpc({
        ("master_node_name", N1): N1,
        ("master_node_name", N2): Exception("Node is unreachable: timed"
                                            " out"),
        ("master_node_name", N3): "",
    })
    votes = mf.gather_votes([N1, N2, N3], rpc)
    assert votes.answers == {N1: N1}
    assert votes.failures == {
        N2: "Node is unreachable: timed out",
        N3: "no master name in the answer"}
    assert rpc.calls == [("master_node_name", [N1, N2, N3])]
    assert mf.gather_votes([], rpc).answers == {}
    assert len(rpc.calls) == 1


@pytest.mark.parametrize("nodes, answered, healthy", [
    ([N1, N2, N3], [N1, N2, N3], True),
    ([N1, N2, N3], [N2, N3], True),      # the master is gone: 2 of 3
    ([N1, N2, N3], [N1], False),         # two nodes gone
    ([N1, N2], [N2], False),             # two nodes: half is not enough
    ([N1], [N1], True),
])
def test_majority_needs_more_than_half(nodes, answered, healthy):
    votes = mf.Votes(dict((name, N1) for name in answered))
    ok, unhealthy = mf.majority_answered(votes, nodes)
    assert ok is healthy
    assert unhealthy == [name for name in nodes if name not in answered]


# --- Ganeti's refusals ---

def test_refuses_on_the_master_itself():
    with pytest.raises(errors.OpPrereqError) as exc:
        mf.check_prerequisites(N1, N1, [N1, N2], None)
    assert exc.value.args == (
        "This commands must be run on the node where you want the new"
        " master to be. %s is already the master" % N1, errors.ECODE_INVAL)


def test_refuses_a_node_that_is_not_a_candidate():
    with pytest.raises(errors.OpPrereqError) as exc:
        mf.check_prerequisites(N1, N3, [N1, N2, "node4.example.com"], None)
    assert exc.value.args == (
        "This node is not among the nodes marked as master candidates. Only"
        " these nodes can become masters. Current list of master candidates"
        " is:\n%s\nnode4.example.com" % N2, errors.ECODE_STATE)


def test_refuses_a_stale_configuration_unless_no_voting():
    votes = mf.Votes({N1: N3, N2: N3, N3: N3})
    with pytest.raises(errors.OpPrereqError) as exc:
        mf.check_prerequisites(N1, N2, [N1, N2, N3], votes)
    assert exc.value.args == (
        "I have a wrong configuration, I believe the master is %s but the"
        " other nodes voted %s. Please resync the configuration of this"
        " node." % (N1, N3), errors.ECODE_STATE)
    mf.check_prerequisites(N1, N2, [N1, N2, N3], None)  # --no-voting
    # nobody answered: nothing contradicts us
    mf.check_prerequisites(N1, N2, [N1, N2, N3], mf.Votes())


# --- waiting for the master IP ---

def test_wait_for_ip_polls_until_the_state_is_reached():
    answers = iter([True, True, False])
    assert mf.wait_for_ip("198.51.100.100", False, timeout=5,
                          delays=(0, 1, 0), probe=lambda: next(answers))
    assert not mf.wait_for_ip("198.51.100.100", True, timeout=0.05,
                              delays=(0.01, 1, 0.01), probe=lambda: False)


# --- the whole procedure against a relocated root ---

@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("GANETI_ROOTDIR", str(tmp_path))
    monkeypatch.setenv("GANETI_HOSTNAME", N2)
    importlib.reload(pathutils)
    try:
        yield tmp_path
    finally:
        monkeypatch.delenv("GANETI_ROOTDIR")
        importlib.reload(pathutils)


def _make_cluster(master=N1):
    """config.data and ssconf of a three-node cluster whose master is
    ``master``; every node is a candidate except node3."""
    from ganeti import config
    from ganeti.backend import files as backend_files
    from ganeti.config import ssconf_values
    params = bootstrap.fill_cluster_params(enabled_hypervisors=["fake"],
                                           enabled_disk_templates=["file"],
                                           master_netdev="br0")
    params["cluster_name"] = "cluster.example.com"
    data = bootstrap.build_initial_config(params, N1, "198.51.100.11",
                                          "198.51.100.100")
    group = list(data.nodegroups)[0]
    first = list(data.nodes.values())[0]
    first.master_candidate = True
    for index, name in ((2, N2), (3, N3)):
        ip = "198.51.100.%d" % (10 + index)
        data.nodes["uuid-%d" % index] = objects.Node(
            name=name, primary_ip=ip, secondary_ip=ip, uuid="uuid-%d" % index,
            group=group, master_candidate=(index == 2), master_capable=True,
            vm_capable=True, offline=False, drained=False, serial_no=1,
            ndparams={})
    by_name = dict((node.name, uuid) for uuid, node in data.nodes.items())
    data.cluster.master_node = by_name[master]
    os.makedirs(pathutils.DATA_DIR, exist_ok=True)
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    backend_files.write_ssconf_files(ssconf_values.compute_ssconf_values(data))
    return by_name


def _run(rpc, monkeypatch, **kwargs):
    waits = []
    monkeypatch.setattr(mf, "wait_for_ip",
                        lambda ip, reachable, **kw: waits.append(reachable)
                        or True)
    monkeypatch.setattr(bootstrap, "owns_address", lambda address: False)
    rcode, warnings = mf.failover(rpc_factory=lambda cfg: rpc, **kwargs)
    return rcode, warnings, waits


def _master_in_config():
    from ganeti.config import store
    data = store.load_config_file(pathutils.CLUSTER_CONF_FILE)
    return data.nodes[data.cluster.master_node].name, data.serial_no


def test_failover_stops_the_old_master_before_writing(root, monkeypatch):
    _make_cluster()
    _, serial = _master_in_config()
    rpc = RecordingRpc()
    votes = mf.Votes({N1: N1, N2: N1, N3: N1})
    rcode, warnings, waits = _run(rpc, monkeypatch, votes=votes)
    assert (rcode, warnings) == (0, [])
    assert rpc.calls == [
        ("node_deactivate_master_ip", [N1]),
        ("node_stop_master", [N1]),
        ("upload_file", [N1]),                 # the other candidate
        ("write_ssconf_files", [N1, N3]),      # every other node
        ("node_start_master_daemons", [N2]),
        # masterd raises the master IP itself
    ]
    assert waits == [False, True]              # IP gone, then up
    master, new_serial = _master_in_config()
    assert master == N2 and new_serial > serial
    from ganeti import ssconf
    assert ssconf.SimpleStore().get_master_node() == N2


def test_failover_to_a_dead_old_master_contacts_it_once(root, monkeypatch):
    _make_cluster()
    down = Exception("Node is unreachable: timed out")
    rpc = RecordingRpc(dict(((proc, N1), down) for proc in (
        "node_deactivate_master_ip", "node_stop_master", "upload_file",
        "write_ssconf_files")))
    votes = mf.Votes({N2: N1, N3: N1}, {N1: str(down)})
    rcode, warnings, _ = _run(rpc, monkeypatch, votes=votes)
    assert rcode == 0
    assert warnings == [
        "Could not disable the master IP: %s" % down,
        "Could not disable the master role on the old master %s, please"
        " disable manually: %s" % (N1, down),
        "Could not update the configuration of node %s (run 'gnt-cluster"
        " redist-conf' once it is back): %s" % (N1, down),
    ]
    assert rpc.procedures(N1) == []  # known unreachable from the vote
    assert _master_in_config()[0] == N2


def test_failover_without_voting_asks_the_old_master(root, monkeypatch):
    _make_cluster()
    rpc = RecordingRpc()
    rcode, _, _ = _run(rpc, monkeypatch, no_voting=True)
    assert rcode == 0
    assert rpc.procedures(N1)[:2] == ["node_deactivate_master_ip",
                                      "node_stop_master"]
    start = [c for c in rpc.calls if c[0] == "node_start_master_daemons"]
    assert start == [("node_start_master_daemons", [N2])]


def test_failover_reports_a_master_daemon_that_refuses(root, monkeypatch):
    _make_cluster()
    rpc = RecordingRpc({("node_start_master_daemons", N2): Exception(
        "daemon-util: ganeti-masterd failed to start (exit code 1)")})
    rcode, warnings, waits = _run(rpc, monkeypatch,
                                  votes=mf.Votes({N1: N1, N2: N1}))
    assert rcode == 1
    assert warnings == [
        "Could not start the master role on the new master %s, please"
        " check: daemon-util: ganeti-masterd failed to start (exit code 1)"
        % N2]
    assert "node_activate_master_ip" not in rpc.procedures(N2)
    assert waits == [False]


def test_failover_refuses_before_changing_anything(root, monkeypatch):
    _make_cluster()
    rpc = RecordingRpc()
    with pytest.raises(errors.OpPrereqError):
        _run(rpc, monkeypatch, votes=mf.Votes({N1: N3, N2: N3, N3: N3}))
    assert rpc.calls == []
    assert _master_in_config()[0] == N1
    monkeypatch.setenv("GANETI_HOSTNAME", N3)  # not a candidate
    with pytest.raises(errors.OpPrereqError) as exc:
        _run(rpc, monkeypatch, votes=mf.Votes({N1: N1}))
    assert "not among the nodes marked as master candidates" in \
        exc.value.args[0]
    assert rpc.calls == []


# --- masterd steps down when the others name another master ---

class FakeCfg:
    """The three ConfigWriter reads other_master and watch_master_role do."""

    def __init__(self, names, offline=()):
        self.nodes = dict(
            ("uuid-%s" % name, objects.Node(name=name, uuid="uuid-%s" % name,
                                            offline=name in offline))
            for name in names)
        self.cluster = objects.Cluster(master_ip="198.51.100.100",
                                       master_netmask=32, master_netdev="br0",
                                       use_external_mip_script=False)

    def get_all_nodes_info(self):
        return dict(self.nodes)

    def get_cluster_info(self):
        return self.cluster

    def get_node_info_by_name(self, name):
        return self.nodes.get("uuid-%s" % name)


def _ssconf_naming(tmp_path, master):
    from ganeti import ssconf
    (tmp_path / "ssconf_master_node").write_text(master + "\n")
    return ssconf.SimpleStore(str(tmp_path))


@pytest.mark.parametrize("answers, expected", [
    ({N2: N2, N3: N2}, N2),                      # failed over to node2
    ({N2: N2}, None),                            # 1 of 3 is no majority
    ({N2: N1, N3: N1}, None),                    # still us
    ({N2: N2, N3: N3}, None),                    # no agreement
    ({}, None),                                  # cut off from everybody
])
def test_other_master_needs_a_majority(tmp_path, answers, expected):
    rpc = RecordingRpc(dict((("master_node_name", node), name)
                            for node, name in answers.items()))
    for node in (N2, N3):
        rpc.answers.setdefault(("master_node_name", node),
                               Exception("Node is unreachable: timed out"))
    cfg = FakeCfg([N1, N2, N3])
    assert mf.other_master(cfg, rpc, N1,
                           ss=_ssconf_naming(tmp_path, N1)) == expected
    assert rpc.calls == [("master_node_name", [N2, N3])]


def test_a_master_made_without_voting_ignores_the_majority(tmp_path):
    rpc = RecordingRpc({("master_node_name", N2): N1,
                        ("master_node_name", N3): N1})
    cfg = FakeCfg([N1, N2, N3])
    assert mf.other_master(cfg, rpc, N2, ss=_ssconf_naming(tmp_path, N2),
                           voting=False) is None
    assert rpc.calls == []
    assert mf.other_master(cfg, rpc, N2, ss=_ssconf_naming(tmp_path, N1),
                           voting=False) == N1


def test_other_master_believes_its_own_ssconf(tmp_path):
    rpc = RecordingRpc()
    assert mf.other_master(FakeCfg([N1, N2, N3]), rpc, N1,
                           ss=_ssconf_naming(tmp_path, N2)) == N2
    assert rpc.calls == []


def test_masterd_steps_down(tmp_path, monkeypatch):
    import threading
    from ganeti import ssconf
    store = _ssconf_naming(tmp_path, N1)
    monkeypatch.setattr(ssconf, "SimpleStore", lambda: store)
    rpc = RecordingRpc({("master_node_name", N2): N2,
                        ("master_node_name", N3): N2})
    stop = threading.Event()
    thread = mf.watch_master_role(FakeCfg([N1, N2, N3]), rpc, stop,
                                  myself=N1, interval=0.01)
    assert stop.wait(5)
    thread.join(5)
    assert rpc.procedures(N1) == ["node_deactivate_master_ip"]
    # a master whose nodes agree keeps running
    rpc = RecordingRpc({("master_node_name", N2): N1,
                        ("master_node_name", N3): N1})
    stop = threading.Event()
    mf.watch_master_role(FakeCfg([N1, N2, N3]), rpc, stop, myself=N1,
                         interval=0.01)
    assert not stop.wait(0.2)
    stop.set()
    assert len(rpc.calls) >= 2 and rpc.procedures(N1) == []
