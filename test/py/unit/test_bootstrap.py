"""Cluster creation without side effects, master voting, node setup.

The initial configuration is compared with what real Ganeti 3.0.2 showed
in ``gnt-cluster info`` right after ``gnt-cluster init`` (test/data/cli/
cluster-info.out: fake hypervisor, diskless+file, NIC link br0).
"""

import importlib
import json
import os
import re
import shutil

import pytest

from ganeti import bootstrap
from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti.config import verify as config_verify
from ganeti.rpc.client import RpcResult

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
CLUSTER_INFO = os.path.join(TOP, "test", "data", "cli", "cluster-info.out")

_LINE_RE = re.compile(r"^( *)(?:- )?([^:]+):(?: (.*))?$")


def parse_info(path):
    """The YAML-like ``gnt-cluster info`` output as nested dicts of text.

    List items (``- min/0:``) become plain keys; good enough to look up
    values by their headings.
    """
    root = {}
    stack = [(-1, root)]
    with open(path) as fh:
        for line in fh:
            match = _LINE_RE.match(line.rstrip("\n"))
            if not match:
                continue
            indent = len(match.group(1)) + (2 if "- " in line[:len(
                match.group(1)) + 2] else 0)
            key, value = match.group(2).strip(), match.group(3)
            while stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1]
            if value is None or value == "":
                parent[key] = {}
                stack.append((indent, parent[key]))
            else:
                parent[key] = value
    return root


def text(value):
    """An empty value parses as an (empty) section; compare it as ""."""
    return "" if value == {} else value


@pytest.fixture(scope="module")
def sample():
    return parse_info(CLUSTER_INFO)


@pytest.fixture
def config_data():
    params = bootstrap.fill_cluster_params(
        enabled_hypervisors=["fake"],
        enabled_disk_templates=["diskless", "file"],
        nicparams={"link": "br0"}, master_netdev="br0")
    params["cluster_name"] = "cluster.rg.test"
    counter = iter(range(1, 100))
    return bootstrap.build_initial_config(
        params, "node1.rg.test", "203.0.113.11", "203.0.113.100",
        cert_digest="AA:BB", rsa_key="AAAAkey", now=1000.0,
        new_uuid=lambda: "uuid-%d" % next(counter))


def test_cluster_defaults_match_ganeti(sample, config_data):
    cluster = config_data.cluster
    params = sample["Cluster parameters"]
    assert str(cluster.candidate_pool_size) == params["candidate pool size"]
    assert str(cluster.max_running_jobs) == params[
        "maximal number of jobs running simultaneously"]
    assert str(cluster.max_tracked_jobs) == params[
        "maximal number of jobs simultaneously tracked by the scheduler"]
    assert cluster.mac_prefix == params["mac prefix"]
    assert cluster.master_netdev == params["master netdev"]
    assert str(cluster.master_netmask) == params["master netmask"]
    assert str(cluster.use_external_mip_script) == params[
        "use external master IP address setup script"]
    assert str(cluster.volume_group_name) == params["lvm volume group"]
    assert str(cluster.drbd_usermode_helper) == params[
        "drbd usermode helper"]
    assert cluster.file_storage_dir == params["file storage path"]
    assert cluster.shared_file_storage_dir == params[
        "shared file storage path"]
    assert cluster.gluster_storage_dir == params["gluster storage path"]
    assert str(cluster.maintain_node_health) == params[
        "maintenance of node health"]
    assert str(cluster.prealloc_wipe_disks) == params[
        "preallocation wipe disks"]
    assert str(cluster.enabled_user_shutdown) == params[
        "enabled user shutdown"]
    assert str(cluster.modify_ssh_setup) == params["modify ssh setup"]
    assert cluster.ssh_key_type == params["ssh_key_type"]
    assert str(cluster.ssh_key_bits) == params["ssh_key_bits"]
    assert cluster.compression_tools == ["gzip", "gzip-fast", "gzip-slow"]
    assert cluster.primary_ip_family == constants.IP4_FAMILY
    assert cluster.install_image == "" and cluster.zeroing_image == ""
    assert cluster.uid_pool == [] and cluster.reserved_lvs == []


def test_parameter_dicts_match_ganeti(sample, config_data):
    cluster = config_data.cluster
    nd = sample["Default node parameters"]
    for key, value in cluster.ndparams.items():
        if isinstance(value, float):
            value = "%g" % value
        assert str(value) == text(nd[key]), key
    be = sample["Default instance parameters"]["default"]
    assert dict((k, str(v)) for k, v in cluster.beparams["default"].items()) \
        == be
    nic = sample["Default nic parameters"]["default"]
    assert cluster.nicparams["default"]["link"] == nic["link"] == "br0"
    assert cluster.nicparams["default"]["mode"] == nic["mode"]
    assert cluster.nicparams["default"]["vlan"] == text(nic["vlan"])
    drbd = sample["Default disk parameters"]["drbd"]
    for key, value in cluster.diskparams["drbd"].items():
        assert str(value) == text(drbd[key]), key
    assert cluster.hvparams["fake"] == {"migration_mode": "live"}
    assert set(cluster.hvparams) == set(constants.HYPER_TYPES)


def test_ipolicy_and_collectors_match_ganeti(sample, config_data):
    cluster = config_data.cluster
    policy = sample["Instance policy - limits for instances"]
    bounds = policy["bounds specs"]
    for key, value in cluster.ipolicy["minmax"][0]["min"].items():
        assert str(value) == bounds["min/0"][key]
    for key, value in cluster.ipolicy["minmax"][0]["max"].items():
        assert str(value) == bounds["max/0"][key]
    assert sorted(cluster.ipolicy["disk-templates"]) == sorted(
        policy["allowed disk templates"].split(", "))
    assert "%g" % cluster.ipolicy["vcpu-ratio"] == policy["vcpu-ratio"]
    assert "%g" % cluster.ipolicy["spindle-ratio"] == policy["spindle-ratio"]
    collectors = sample["Data collectors"]
    assert sorted(cluster.data_collectors) == sorted(collectors)
    for name, settings in cluster.data_collectors.items():
        assert str(settings["active"]) == collectors[name]["active"]
        assert "%.3fs" % (settings["interval"] / 1e6) == \
            collectors[name]["interval"]


def test_initial_config_shape(config_data):
    cluster = config_data.cluster
    assert config_data.version == constants.CONFIG_VERSION
    assert config_data.serial_no == 1 and cluster.serial_no == 1
    assert config_data.ctime == config_data.mtime == 1000.0
    (node,) = config_data.nodes.values()
    (group,) = config_data.nodegroups.values()
    assert cluster.master_node == node.uuid
    assert node.name == "node1.rg.test" and node.master_candidate
    assert node.primary_ip == node.secondary_ip == "203.0.113.11"
    assert node.master_capable and node.vm_capable and not node.offline
    assert node.group == group.uuid and group.name == "default"
    assert group.alloc_policy == "preferred"
    assert cluster.master_ip == "203.0.113.100"
    assert cluster.candidate_certs == {node.uuid: "AA:BB"}
    assert cluster.highest_used_port == 10999
    assert cluster.rsahostkeypub == "AAAAkey"
    assert len(set([cluster.uuid, node.uuid, group.uuid])) == 3
    assert config_verify.verify_config_data(config_data) == []
    again = objects.ConfigData.from_dict(config_data.to_dict())
    assert again.to_dict() == config_data.to_dict()


def test_lvm_and_drbd_defaults():
    params = bootstrap.fill_cluster_params(
        enabled_disk_templates=["drbd", "plain"])
    assert params["vg_name"] == "xenvg"
    assert params["drbd_helper"] == constants.DEFAULT_DRBD_HELPER
    params = bootstrap.fill_cluster_params(vg_name="myvg",
                                           enabled_disk_templates=["drbd"])
    assert params["diskparams"]["drbd"]["metavg"] == "myvg"
    params = bootstrap.fill_cluster_params(enabled_disk_templates=["file"])
    assert params["vg_name"] is None and params["drbd_helper"] is None


def test_beparams_memory_is_upgraded():
    params = bootstrap.fill_cluster_params(beparams={"memory": 512})
    assert params["beparams"]["maxmem"] == params["beparams"]["minmem"] == 512
    assert "memory" not in params["beparams"]


@pytest.mark.parametrize("kwargs, text", [
    (dict(enabled_hypervisors=["nosuch"]),
     "Enabled hypervisors list contains invalid entries: nosuch"),
    (dict(enabled_disk_templates=["bad"]),
     "Enabled disk templates list contains invalid entries: bad"),
    (dict(mac_prefix="aa:00"), "Invalid mac prefix given 'aa:00'"),
    (dict(master_netmask=33), "CIDR netmask (33) not valid for IPv4 "),
    (dict(primary_ip_version=5), "Invalid primary ip version: 5."),
    (dict(compression_tools=["lzop"]),
     "For compatibility reasons, the gzip utility must be present in the"
     " list of compression tools"),
    (dict(beparams={"vcpus": "x"}),
     "Invalid value for backend parameter 'vcpus': 'x'"),
    (dict(hvparams={"fake": {"nosuch": 1}}),
     "Invalid parameters for hypervisor fake: nosuch"),
    (dict(diskparams={"drbd": {"nosuch": 1}}),
     "Invalid parameters for disk template drbd: nosuch"),
])
def test_invalid_init_parameters(kwargs, text):
    with pytest.raises(errors.OpPrereqError) as exc:
        bootstrap.fill_cluster_params(**kwargs)
    assert exc.value.args[0] == text
    assert exc.value.args[1] == errors.ECODE_INVAL


def test_file_storage_path_checks():
    bootstrap.check_file_storage_path("/srv/ganeti/file-storage")
    for bad in ("/usr/lib/x", "/etc", "/boot/foo"):
        with pytest.raises(errors.OpPrereqError) as exc:
            bootstrap.check_file_storage_path(bad)
        assert "is not acceptable for file storage" in exc.value.args[0]
    with pytest.raises(errors.OpPrereqError):
        bootstrap.check_file_storage_path("relative/dir")


def test_address_helpers():
    assert bootstrap.is_valid_ipv4("198.51.100.1")
    assert not bootstrap.is_valid_ipv4("198.51.100")
    assert not bootstrap.is_valid_ipv4("::1")
    assert bootstrap.is_loopback("127.0.1.1") and bootstrap.is_loopback("::1")
    assert bootstrap.owns_address("127.0.0.1")
    assert not bootstrap.owns_address("198.51.100.254")
    name, address = bootstrap.resolve_hostname("localhost")
    assert address.startswith("127.")
    with pytest.raises(errors.ResolverError):
        bootstrap.resolve_hostname("no-such-host.invalid")


def test_tcp_ping_counts_refusal_as_alive():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: refused, but the host answered
    assert bootstrap.tcp_ping("127.0.0.1", port, timeout=1)


# --- master voting ---

@pytest.mark.parametrize("votes, ok, message", [
    ([], True, None),
    ([("node1", 2)], True, None),
    ([("node1", 1), (None, 1)], True, None),
    ([("node1", 1), ("node2", 1)], True, None),
    ([("node2", 2), ("node1", 1)], False,
     "It seems we are not the master (top-voted node is node2 with 2 out of"
     " 3 votes)"),
    ([("node1", 2), ("node2", 2), (None, 1)], False,
     "It seems we are not the master (2 votes for, 3 votes against)"),
    ([("node1", 1), ("node2", 1), (None, 1)], False,
     "It seems we are not the master (1 votes for, 2 votes against)"),
    ([(None, 3)], False,
     "Cluster inconsistent, most of the nodes didn't answer after multiple"
     " retries. Aborting startup"),
])
def test_evaluate_master_votes(votes, ok, message):
    assert bootstrap.evaluate_master_votes(votes, "node1") == (ok, message)


class FakeRpc:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def call(self, procedure, names, args):
        self.calls.append((procedure, list(names), args))
        result = {}
        for name in names:
            answer = self.answers.get(name)
            if answer is None:
                result[name] = RpcResult(name, procedure,
                                         fail_msg="Node is unreachable")
            else:
                result[name] = RpcResult(name, procedure, payload=answer)
        return result


def test_gather_master_votes_sorts_and_counts_failures():
    rpc = FakeRpc({"n2": "n1", "n3": "n1", "n4": "n5"})
    votes = bootstrap.gather_master_votes(["n2", "n3", "n4", "n6"], rpc)
    assert votes == [("n1", 2), ("n5", 1), (None, 1)]
    assert rpc.calls == [("master_node_name", ["n2", "n3", "n4", "n6"], [])]
    assert bootstrap.gather_master_votes([], rpc) == []


def test_gather_master_votes_prefers_names_on_ties():
    rpc = FakeRpc({"n2": "n1"})
    assert bootstrap.gather_master_votes(["n2", "n3"], rpc) == \
        [("n1", 1), (None, 1)]


def _write_config(path, names):
    params = bootstrap.fill_cluster_params(enabled_hypervisors=["fake"],
                                           enabled_disk_templates=["file"])
    params["cluster_name"] = "c.example"
    data = bootstrap.build_initial_config(params, names[0], "198.51.100.11",
                                          "198.51.100.100")
    group = list(data.nodegroups)[0]
    for index, name in enumerate(names[1:], 2):
        ip = "198.51.100.%d" % (10 + index)
        node = objects.Node(name=name, primary_ip=ip, secondary_ip=ip,
                            uuid="node-%d" % index, group=group)
        data.nodes[node.uuid] = node
    from ganeti import config
    config.ConfigWriter.write_initial(str(path), data)


def test_check_master_vote(tmp_path, capsys):
    cfg_file = tmp_path / "config.data"
    _write_config(cfg_file, ["n1", "n2", "n3"])
    rpc = FakeRpc({"n2": "n1", "n3": "n1"})
    assert bootstrap.check_master_vote(False, rpc=rpc, cfg_file=str(cfg_file),
                                       myself="n1", delay=0)
    assert rpc.calls[0][1] == ["n2", "n3"]
    rpc = FakeRpc({"n2": "n2", "n3": "n2"})
    assert not bootstrap.check_master_vote(False, rpc=rpc, delay=0,
                                           cfg_file=str(cfg_file),
                                           myself="n1")
    assert "top-voted node is n2" in capsys.readouterr().err
    # nobody answers: retried, then refused
    rpc = FakeRpc({})
    assert not bootstrap.check_master_vote(False, rpc=rpc, delay=0,
                                           retries=3, cfg_file=str(cfg_file),
                                           myself="n1")
    assert len(rpc.calls) == 3
    assert bootstrap.check_master_vote(True, rpc=FakeRpc({}))


def test_single_node_cluster_needs_no_votes(tmp_path):
    cfg_file = tmp_path / "config.data"
    _write_config(cfg_file, ["n1"])
    rpc = FakeRpc({})
    assert bootstrap.check_master_vote(False, rpc=rpc, myself="n1",
                                       cfg_file=str(cfg_file), delay=0)
    assert rpc.calls == []


# --- node daemon setup (the program the master runs over SSH) ---

@pytest.fixture
def root(tmp_path):
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = str(tmp_path)
    importlib.reload(pathutils)
    try:
        yield tmp_path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)


def _setup_doc(**extra):
    key, cert = crypto.generate_self_signed(key_bits=1024)
    doc = {"cluster_name": "cluster.gnt.test",
           "node_daemon_certificate": (key + cert).decode("ascii"),
           "hmac_key": "ab" * 20, "cluster_domain_secret": "cd" * 20,
           "ssconf": {"cluster_name": "cluster.gnt.test",
                      "master_node": "node1.gnt.test",
                      "node_list": "node1.gnt.test\nnode2.gnt.test"},
           "file_storage_paths": "/srv/ganeti/file-storage\n"}
    doc.update(extra)
    return json.dumps(doc)


def test_node_daemon_setup_writes_files(root):
    from ganeti.tools import node_daemon_setup as nds
    nds.setup(_setup_doc())
    cert = pathutils.NODED_CERT_FILE
    assert os.stat(cert).st_mode & 0o777 == 0o400
    assert crypto.check_key_matches(cert)
    with open(pathutils.CONFD_HMAC_KEY) as fh:
        assert fh.read() == "ab" * 20 + "\n"
    assert os.stat(pathutils.CLUSTER_DOMAIN_SECRET_FILE).st_mode & 0o777 \
        == 0o400
    with open(pathutils.ssconf_file("node_list")) as fh:
        assert fh.read() == "node1.gnt.test\nnode2.gnt.test\n"
    with open(pathutils.FILE_STORAGE_PATHS_FILE) as fh:
        assert fh.read() == "/srv/ganeti/file-storage\n"
    # same cluster again: fine; another cluster: refused
    nds.setup(_setup_doc())
    with pytest.raises(nds.SetupError) as exc:
        nds.setup(_setup_doc(cluster_name="other.gnt.test"))
    assert str(exc.value) == "Current cluster name is 'cluster.gnt.test'"


@pytest.mark.parametrize("text, message", [
    ("not json", "Invalid JSON data"),
    ("[]", "Invalid data: expected a JSON object"),
    ('{"cluster_name": "x"}',
     "Missing required key 'node_daemon_certificate'"),
    ('{"cluster_name": "x", "node_daemon_certificate": "y", "z": 1}',
     "Unknown keys: z"),
])
def test_node_daemon_setup_rejects_bad_documents(text, message):
    from ganeti.tools import node_daemon_setup as nds
    with pytest.raises(nds.SetupError) as exc:
        nds.parse_document(text)
    assert str(exc.value).startswith(message)


def test_node_daemon_setup_rejects_mismatched_key(root):
    from ganeti.tools import node_daemon_setup as nds
    key1, _ = crypto.generate_self_signed(key_bits=1024)
    _, cert2 = crypto.generate_self_signed(key_bits=1024)
    with pytest.raises(nds.SetupError) as exc:
        nds.verify_certificate((key1 + cert2).decode("ascii"))
    assert "does not match" in str(exc.value)
    assert not os.path.exists(pathutils.NODED_CERT_FILE)


def test_node_daemon_setup_main_exit_codes(root, monkeypatch, capsys):
    import io as std_io
    from ganeti.tools import node_daemon_setup as nds
    monkeypatch.setattr("sys.stdin", std_io.StringIO("{}"))
    assert nds.main([]) == constants.EXIT_FAILURE
    assert capsys.readouterr().err.startswith("Error: Missing required key")
    monkeypatch.setattr("sys.stdin", std_io.StringIO(_setup_doc()))
    assert nds.main([]) == constants.EXIT_SUCCESS


def test_init_refuses_an_existing_cluster(root):
    os.makedirs(pathutils.DATA_DIR)
    with open(pathutils.CLUSTER_CONF_FILE, "w") as fh:
        fh.write("{}")
    with pytest.raises(errors.OpPrereqError) as exc:
        bootstrap.init_cluster("cluster.gnt.test")
    assert exc.value.args == ("Cluster is already initialised",
                              errors.ECODE_STATE)


def test_init_refuses_leftovers(root):
    os.makedirs(pathutils.QUEUE_DIR)
    with open(pathutils.JOB_QUEUE_LOCK_FILE, "w"):
        pass  # the queue lock survives a destroy: not a leftover
    bootstrap.check_not_initialised()
    with open(pathutils.job_file(3), "w"):
        pass
    with pytest.raises(errors.OpPrereqError) as exc:
        bootstrap.check_not_initialised()
    assert exc.value.args[0] == (
        "%s contains non-directory entries like job-3. Remove left-overs of"
        " an old cluster before initialising a new one" % pathutils.QUEUE_DIR)


def test_init_ssh_setup(tmp_path):
    from ganeti import ssh
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    ssh_dir = str(tmp_path / "ssh")
    priv = ssh.init_ssh_setup("rsa", 1024, ssh_dir=ssh_dir)
    assert priv == os.path.join(ssh_dir, "id_rsa")
    assert ssh.private_key_files(ssh_dir) == [priv]
    ssh.init_ssh_setup("rsa", 1024, ssh_dir=ssh_dir)  # keeps the key
    with open(os.path.join(ssh_dir, "authorized_keys")) as fh:
        lines = fh.read().splitlines()
    with open(priv + ".pub") as fh:
        assert lines == [fh.read().strip()]
