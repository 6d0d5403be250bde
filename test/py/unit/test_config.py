"""ConfigWriter: loading, copies, serial numbers, validation, group commit.

Every test works on a real ``config.data`` in a temporary directory,
starting from ``test/data/config/cluster-3.0.json`` (3.0 layout).
"""

import json
import os
import shutil
import stat
import threading
import time

import pytest

from ganeti import config
from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import ssconf
from ganeti.config import store
from ganeti.config.reservations import TemporaryReservationManager
from ganeti.utils import text as text_utils

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
SAMPLE = os.path.join(TOP, "test", "data", "config", "cluster-3.0.json")

N1 = "0a1b2c3d-0001-4000-8000-000000000001"
N2 = "0a1b2c3d-0002-4000-8000-000000000002"
N3 = "0a1b2c3d-0003-4000-8000-000000000003"
GROUP = "6d5e4f3a-1000-4000-8000-00000000aaaa"
I1 = "7e8f9a0b-2001-4000-8000-0000000000b1"
I2 = "7e8f9a0b-2002-4000-8000-0000000000b2"
D1 = "8f9a0b1c-3001-4000-8000-0000000000d1"
D2 = "8f9a0b1c-3002-4000-8000-0000000000d2"


def _sample_dict():
    with open(SAMPLE) as fh:
        return json.load(fh)


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / "config.data"
    shutil.copy(SAMPLE, str(path))
    os.chmod(str(path), 0o600)
    return str(path)


class Recorder:
    """Distributor stand-in: records what each write handed over."""

    def __init__(self, delay=0.0, fail=False):
        self.calls = []
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, payload, ssconf_values, snapshot):
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.calls.append((payload, ssconf_values))
        if self.fail:
            raise RuntimeError("replication to candidates failed")


def _reload(path):
    return store.load_config_file(path)


# ---------------------------------------------------------------------------
# Loading and round trip

def test_load_gives_the_objects_of_the_file(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.get_cluster_name() == "cluster.gnt.test"
    assert cfg.get_master_node() == N1
    assert cfg.get_master_node_name() == "node1.gnt.test"
    assert cfg.get_master_node_info().uuid == N1
    assert cfg.get_node_list() == [N1, N2, N3]
    assert cfg.get_instance_list() == [I1, I2]
    assert cfg.get_config_serial() == 42
    assert cfg.verify_config() == []


def test_serialisation_round_trip_is_stable(cfg_file):
    data = store.load_config_file(cfg_file)
    again = store.parse_config(store.serialize_config(data))
    assert again.to_dict() == data.to_dict()


def test_fast_serialisation_equals_to_dict(cfg_file):
    data = store.load_config_file(cfg_file)
    data.instances[I1].secondary_nodes = [N2]     # derived: never stored
    assert json.loads(store.serialize_config(data)) == \
        json.loads(json.dumps(data.to_dict()))
    assert store.config_to_plain(data) == data.to_dict()


def test_written_file_keeps_the_3_0_layout(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    node = cfg.get_node_info(N3)
    node.tags = ["x"]
    cfg.update(node)
    with open(cfg_file) as fh:
        written = json.load(fh)
    original = _sample_dict()
    assert written["version"] == 3000000
    assert sorted(written["nodes"]) == sorted(original["nodes"])
    assert sorted(written["instances"]) == sorted(original["instances"])
    assert sorted(written["disks"]) == sorted(original["disks"])
    assert written["instances"][I1]["disks"] == [D1]
    assert written["cluster"]["master_node"] == N1
    # Everything else survived untouched
    for key in ("cluster", "nodegroups", "instances"):
        for name, obj in original[key].items() if key != "cluster" else \
                [(None, original[key])]:
            stored = written[key][name] if name else written[key]
            for field, value in obj.items():
                if field in ("serial_no", "mtime") or value is None:
                    continue
                assert stored[field] == value, (key, name, field)
    assert stat.S_IMODE(os.stat(cfg_file).st_mode) == 0o600


# ---------------------------------------------------------------------------
# Reads

def test_reads_return_copies(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    node = cfg.get_node_info(N1)
    node.name = "changed"
    node.tags.append("t")
    assert cfg.get_node_info(N1).name == "node1.gnt.test"
    assert cfg.get_node_info(N1).tags == []
    cluster = cfg.get_cluster_info()
    cluster.hvparams["kvm"]["acpi"] = False
    assert cfg.get_cluster_info().hvparams["kvm"]["acpi"] is True
    data = cfg.get_config_data()
    data.nodes.clear()
    assert len(cfg.get_all_nodes_info()) == 3
    inst = cfg.get_instance_info(I1)
    inst.nics[0].mac = "aa:00:00:00:00:00"
    assert cfg.get_instance_info(I1).nics[0].mac == "aa:00:00:11:22:33"


def test_node_lookups(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.expand_node_name("node2") == (N2, "node2.gnt.test")
    assert cfg.expand_node_name("node2.gnt.test") == (N2, "node2.gnt.test")
    assert cfg.expand_node_name("NODE3") == (N3, "node3.gnt.test")
    assert cfg.expand_node_name("node") == (None, None)
    assert cfg.expand_node_name("nosuch") == (None, None)
    assert cfg.get_node_info_by_name("node3.gnt.test").uuid == N3
    assert cfg.get_node_info_by_name("node3") is None
    assert cfg.get_node_info("nope") is None
    assert cfg.get_node_name(N2) == "node2.gnt.test"
    assert cfg.get_node_names([N3, "x", N1]) == ["node3.gnt.test", None,
                                                  "node1.gnt.test"]
    assert cfg.get_online_node_list() == [N1, N2, N3]
    assert cfg.get_vm_capable_node_list() == [N1, N2, N3]


def test_instance_lookups_and_derived_facts(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.expand_instance_name("inst1") == (I1, "inst1.gnt.test")
    assert cfg.expand_instance_name("inst") == (None, None)
    assert cfg.get_instance_info_by_name("inst2.gnt.test").uuid == I2
    assert cfg.get_instance_info(I1).secondary_nodes == [N2]
    assert cfg.get_instance_secondary_nodes(I1) == [N2]
    assert cfg.get_instance_all_nodes(I1) == [N1, N2]
    assert cfg.get_instance_disk_template(I1) == "drbd"
    assert cfg.get_instance_disk_template(I2) == "file"
    disks = cfg.get_instance_disks(I1)
    assert [d.uuid for d in disks] == [D1]
    assert isinstance(disks[0].children[0], objects.Disk)
    assert cfg.get_node_instances(N1) == ([I1], [])
    assert cfg.get_node_instances(N2) == ([], [I1])
    assert cfg.get_node_instances(N3) == ([I2], [])


def test_group_lookups(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.lookup_node_group("default") == GROUP
    assert cfg.lookup_node_group(GROUP) == GROUP
    assert cfg.lookup_node_group(None) == GROUP
    with pytest.raises(errors.OpPrereqError) as err:
        cfg.lookup_node_group("nosuch")
    assert err.value.args == ("Node group 'nosuch' not found",
                              errors.ECODE_NOENT)
    assert cfg.get_group_node_list(GROUP) == [N1, N2, N3]
    assert cfg.get_node_group(GROUP).name == "default"
    assert list(cfg.get_all_node_groups_info()) == [GROUP]


def test_cluster_accessors(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.get_file_storage_dir() == "/srv/ganeti/file-storage"
    assert cfg.get_enabled_hypervisors() == ["kvm", "fake"]
    assert cfg.get_hypervisor_type() == "kvm"
    assert cfg.get_master_candidate_stats() == (2, 2, 3)
    assert cfg.get_master_candidate_stats([N3]) == (2, 2, 2)
    assert cfg.get_ndparams(N3)["ssh_port"] == 2222
    assert cfg.get_ndparams(N1)["ssh_port"] == 22
    assert set(cfg.get_ssconf_values()) == set(ssconf.SSCONF_KEYS)


# ---------------------------------------------------------------------------
# Mutations

def test_update_bumps_object_cluster_and_file_serials(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    before = cfg.get_cluster_info()
    node = cfg.get_node_info(N3)
    old_mtime = node.mtime
    node.tags = ["rack:b"]
    cfg.update(node)
    assert node.serial_no == 2            # the caller's copy follows
    stored = cfg.get_node_info(N3)
    assert stored.serial_no == 2 and stored.tags == ["rack:b"]
    assert stored.mtime > old_mtime
    assert cfg.get_cluster_info().serial_no == before.serial_no + 1
    assert cfg.get_config_serial() == 43
    reloaded = _reload(cfg_file)
    assert reloaded.serial_no == 43
    assert reloaded.nodes[N3].tags == ["rack:b"]
    assert reloaded.nodes[N3].serial_no == 2
    # An instance update bumps the instance and the cluster
    inst = cfg.get_instance_info(I2)
    inst.tags = ["db"]
    cfg.update(inst)
    assert cfg.get_instance_info(I2).serial_no == 2
    assert cfg.get_cluster_info().serial_no == before.serial_no + 2
    # A disk update bumps only the disk
    disk = cfg.get_instance_disks(I2)[0]
    disk.size = 4096
    cfg.update(disk)
    assert cfg.get_disk_info(D2).size == 4096
    assert cfg.get_disk_info(D2).serial_no == 2
    assert cfg.get_cluster_info().serial_no == before.serial_no + 2
    assert _reload(cfg_file).serial_no == 45


def test_update_of_cluster_keeps_config_owned_ports(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    stale = cfg.get_cluster_info()
    assert cfg.allocate_port() == 11001
    stale.candidate_pool_size = 3
    cfg.update(stale)
    cluster = cfg.get_cluster_info()
    assert cluster.candidate_pool_size == 3
    assert cluster.highest_used_port == 11001
    assert cluster.serial_no == stale.serial_no


def test_update_of_unknown_object_is_refused(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    node = cfg.get_node_info(N1)
    node.uuid = "no-such-uuid"
    with pytest.raises(errors.ConfigurationError):
        cfg.update(node)
    with pytest.raises(errors.ProgrammerError):
        cfg.update(objects.NIC(mac="aa:00:00:00:00:01"))
    assert cfg.get_config_serial() == 42


def test_invalid_change_is_refused_and_leaves_no_trace(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    with open(cfg_file, "rb") as fh:
        before = fh.read()
    bad = objects.Node(name="node4.gnt.test", primary_ip="198.51.100.14",
                       secondary_ip="198.51.100.14", group="no-such-group")
    with pytest.raises(errors.ConfigurationError) as err:
        cfg.add_node(bad)
    assert "node4.gnt.test" in str(err.value)
    assert "no-such-group" in str(err.value)
    dup_ip = objects.Node(name="node4.gnt.test", primary_ip="198.51.100.11",
                          secondary_ip="198.51.100.11", group=GROUP)
    with pytest.raises(errors.ConfigurationError) as err:
        cfg.add_node(dup_ip)
    assert "198.51.100.11" in str(err.value)
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_node(N1)          # the master
    with pytest.raises(errors.ConfigurationError) as err:
        cfg.remove_node(N2)          # holds inst1's DRBD secondary
    assert "inst1.gnt.test" in str(err.value)
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_node(N3)          # primary of inst2
    master = cfg.get_node_info(N1)
    master.master_candidate = False
    with pytest.raises(errors.ConfigurationError):
        cfg.update(master)
    assert cfg.get_config_serial() == 42
    assert len(cfg.get_all_nodes_info()) == 3
    assert cfg.get_node_info(N1).master_candidate is True
    assert cfg.get_cluster_info().serial_no == 7
    with open(cfg_file, "rb") as fh:
        assert fh.read() == before


def test_add_and_remove_node(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    new = objects.Node(name="node4.gnt.test", primary_ip="198.51.100.14",
                       secondary_ip="198.51.100.14")
    uuid = cfg.add_node(new)
    node = cfg.get_node_info(uuid)
    assert node.group == GROUP          # the only group
    assert node.serial_no == 1 and node.ctime == node.mtime
    assert cfg.expand_node_name("node4")[0] == uuid
    assert cfg.get_cluster_info().serial_no == 8
    with pytest.raises(errors.ConfigurationError):
        cfg.add_node(objects.Node(name="node5.gnt.test", uuid=uuid,
                                  primary_ip="198.51.100.15", group=GROUP))
    cfg.remove_node(uuid)
    assert cfg.get_node_info(uuid) is None
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_node(uuid)
    assert _reload(cfg_file).serial_no == 44


def test_add_and_remove_node_group(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    uuid = cfg.add_node_group(objects.NodeGroup(name="rack2"))
    assert cfg.lookup_node_group("rack2") == uuid
    assert cfg.get_node_group(uuid).alloc_policy == "preferred"
    with pytest.raises(errors.OpPrereqError) as err:
        cfg.add_node_group(objects.NodeGroup(name="rack2"))
    assert err.value.args[1] == errors.ECODE_EXISTS
    with pytest.raises(errors.OpPrereqError):
        cfg.lookup_node_group(None)   # now ambiguous
    cfg.remove_node_group(uuid)
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_node_group(GROUP)  # the only group
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_node_group(uuid)


def test_add_and_remove_instance(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    disk = objects.Disk(dev_type="file", size=1024, mode="rw",
                        logical_id=["loop", "/srv/x.file.disk0"], nodes=[N2],
                        iv_name="disk/0")
    inst = objects.Instance(
        name="inst3.gnt.test", primary_node=N2, os="noop", hypervisor="fake",
        admin_state="down", network_port=11005,
        nics=[objects.NIC(mac="aa:00:00:77:88:99", nicparams={})])
    uuid = cfg.add_instance(inst, disks=[disk])
    stored = cfg.get_instance_info(uuid)
    assert stored.serial_no == 1
    assert len(stored.disks) == 1
    assert cfg.get_instance_disks(uuid)[0].size == 1024
    assert cfg.get_node_instances(N2) == ([uuid], [I1])
    dup_mac = objects.Instance(
        name="inst4.gnt.test", primary_node=N2, os="noop", hypervisor="fake",
        admin_state="down",
        nics=[objects.NIC(mac="aa:00:00:77:88:99", nicparams={})])
    with pytest.raises(errors.ConfigurationError) as err:
        cfg.add_instance(dup_mac)
    assert "already in use" in str(err.value)
    disk_uuid = stored.disks[0]
    cfg.remove_instance(uuid)
    assert cfg.get_instance_info(uuid) is None
    assert cfg.get_disk_info(disk_uuid) is None
    assert 11005 in cfg.get_cluster_info().tcpudp_port_pool
    assert cfg.allocate_port() == 11005
    assert cfg.allocate_port() == 11001
    with pytest.raises(errors.ConfigurationError):
        cfg.remove_instance(uuid)


def test_maintain_candidate_pool(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    assert cfg.maintain_candidate_pool() == []
    cluster = cfg.get_cluster_info()
    cluster.candidate_pool_size = 10
    cfg.update(cluster)
    assert cfg.get_master_candidate_stats() == (2, 3, 3)
    assert cfg.maintain_candidate_pool([N3]) == []
    promoted = cfg.maintain_candidate_pool()
    assert [n.uuid for n in promoted] == [N3]
    assert promoted[0].master_candidate is True
    node = cfg.get_node_info(N3)
    assert node.master_candidate is True and node.serial_no == 2
    assert cfg.get_master_candidate_stats() == (3, 3, 3)
    assert _reload(cfg_file).nodes[N3].master_candidate is True


def test_candidate_certs(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    cfg.add_node_to_candidate_certs(N3, "abc")
    assert cfg.get_candidate_certs()[N3] == "abc"
    assert cfg.remove_node_from_candidate_certs(N3) is True
    assert N3 not in cfg.get_candidate_certs()


def test_port_allocation_limit(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    cluster_dict = _sample_dict()
    cluster_dict["cluster"]["highest_used_port"] = config.LAST_DRBD_PORT
    with open(cfg_file, "w") as fh:
        json.dump(cluster_dict, fh)
    cfg = config.ConfigWriter(cfg_file)
    with pytest.raises(errors.ConfigurationError):
        cfg.allocate_port()
    cfg.add_tcp_udp_port(12345)
    assert cfg.allocate_port() == 12345


# ---------------------------------------------------------------------------
# Group commit and distribution

def test_concurrent_mutations_are_coalesced(cfg_file):
    recorder = Recorder(delay=0.05)
    cfg = config.ConfigWriter(cfg_file, distributor=recorder)
    count = 50
    barrier = threading.Barrier(count)
    failures = []

    def worker(idx):
        try:
            barrier.wait()
            cfg.add_node_group(objects.NodeGroup(name="group%d" % idx))
        except Exception as err:  # pragma: no cover - reported below
            failures.append(err)

    threads = [threading.Thread(target=worker, args=(i,))
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    writes = len(recorder.calls)
    assert writes == cfg.write_count
    assert 1 <= writes <= 10, "%d writes for %d mutations" % (writes, count)
    assert cfg.get_config_serial() == 42 + count
    reloaded = _reload(cfg_file)
    assert reloaded.serial_no == 42 + count
    names = set(g.name for g in reloaded.nodegroups.values())
    assert names == set(["default"] + ["group%d" % i for i in range(count)])
    # The last write handed over is the newest state
    assert json.loads(recorder.calls[-1][0])["serial_no"] == 42 + count


def test_mutation_returns_after_write_and_distribution(cfg_file):
    recorder = Recorder()
    cfg = config.ConfigWriter(cfg_file, distributor=recorder)
    node = cfg.get_node_info(N2)
    node.tags = ["a"]
    cfg.update(node)
    assert len(recorder.calls) == 1
    payload, values = recorder.calls[0]
    with open(cfg_file, "rb") as fh:
        assert fh.read() == payload
    assert values == cfg.get_ssconf_values()      # first write: all values
    inst = cfg.get_instance_info(I1)
    inst.tags = ["web", "prod"]
    cfg.update(inst)
    assert recorder.calls[1][1] is None            # ssconf unchanged
    node = cfg.get_node_info(N3)
    node.offline = True
    cfg.update(node)
    values = recorder.calls[2][1]
    assert values[constants.SS_OFFLINE_NODES] == "node3.gnt.test"


def test_redistribute_sends_unchanged_ssconf(cfg_file):
    recorder = Recorder()
    cfg = config.ConfigWriter(cfg_file, distributor=recorder)
    cfg.redistribute_config()
    cfg.redistribute_config()
    assert [c[1] is not None for c in recorder.calls] == [True, True]
    inst = cfg.get_instance_info(I1)
    inst.tags = ["x"]
    cfg.update(inst)
    assert recorder.calls[-1][1] is None
    assert cfg.get_config_serial() == 45


def test_distributor_failure_is_logged_not_raised(cfg_file, caplog):
    recorder = Recorder(fail=True)
    cfg = config.ConfigWriter(cfg_file, distributor=recorder)
    node = cfg.get_node_info(N2)
    node.tags = ["a"]
    cfg.update(node)                      # does not raise
    assert "Distributing the configuration failed" in caplog.text
    assert _reload(cfg_file).nodes[N2].tags == ["a"]
    recorder.fail = False
    inst = cfg.get_instance_info(I1)
    inst.tags = ["x"]
    cfg.update(inst)
    # ssconf was not delivered last time: it is sent again
    assert recorder.calls[-1][1] is not None


def test_failed_write_raises_and_later_write_catches_up(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    directory = os.path.dirname(cfg_file)
    saved = directory + ".saved"
    os.rename(directory, saved)
    try:
        node = cfg.get_node_info(N2)
        node.tags = ["lost?"]
        with pytest.raises(errors.ConfigurationError) as err:
            cfg.update(node)
        assert "Can't write configuration file" in str(err.value)
    finally:
        os.rename(saved, directory)
    inst = cfg.get_instance_info(I1)
    inst.tags = ["later"]
    cfg.update(inst)
    reloaded = _reload(cfg_file)
    assert reloaded.nodes[N2].tags == ["lost?"]
    assert reloaded.instances[I1].tags == ["later"]


# ---------------------------------------------------------------------------
# Version and corruption

def test_version_mismatch(tmp_path):
    data = _sample_dict()
    data["version"] = 2160000
    path = tmp_path / "config.data"
    path.write_text(json.dumps(data))
    with pytest.raises(errors.ConfigVersionMismatch) as err:
        config.ConfigWriter(str(path))
    assert "2160000" in str(err.value) and "3000000" in str(err.value)
    assert isinstance(err.value, errors.ConfigurationError)


@pytest.mark.parametrize("content,message", [
    ('{"version": 3000000, "cluster": {', "Can't parse configuration file"),
    ("[1, 2]", "top level is list"),
    ('{"cluster": {}}', "no 'version' key"),
    ('{"version": 3000000, "nodes": {}, "nodegroups": {},'
     ' "instances": {}}', "'cluster' section"),
    ('{"version": 3000000, "cluster": {}, "nodes": [], "nodegroups": {},'
     ' "instances": {}}', "'nodes' must be an object"),
])
def test_corrupt_file_gives_clear_message(tmp_path, content, message):
    path = tmp_path / "config.data"
    path.write_text(content)
    with pytest.raises(errors.ConfigurationError) as err:
        config.ConfigWriter(str(path))
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert not isinstance(err.value, errors.ConfigVersionMismatch)


def test_unknown_keys_are_reported(tmp_path, caplog):
    data = _sample_dict()
    data["cluster"]["bogus_field"] = 1
    data["nodes"][N2]["other"] = 2
    path = tmp_path / "config.data"
    path.write_text(json.dumps(data))
    config.ConfigWriter(str(path))
    assert "cluster.bogus_field" in caplog.text
    assert "nodes[%s].other" % N2 in caplog.text


def test_missing_file(tmp_path):
    with pytest.raises(errors.ConfigurationError) as err:
        config.ConfigWriter(str(tmp_path / "nothing"))
    assert "Can't read configuration file" in str(err.value)


def test_write_initial(tmp_path):
    path = str(tmp_path / "config.data")
    config.ConfigWriter.write_initial(path, _sample_dict())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert config.ConfigWriter(path).get_cluster_name() == "cluster.gnt.test"
    bad = _sample_dict()
    bad["cluster"]["master_node"] = "nope"
    other = str(tmp_path / "other.data")
    with pytest.raises(errors.ConfigurationError):
        config.ConfigWriter.write_initial(other, bad)
    assert not os.path.exists(other)
    old = _sample_dict()
    old["version"] = 2150000
    with pytest.raises(errors.ConfigVersionMismatch):
        config.ConfigWriter.write_initial(other,
                                          objects.ConfigData.from_dict(old))


# ---------------------------------------------------------------------------
# Reservations

def test_temporary_reservation_manager():
    trm = TemporaryReservationManager()
    trm.reserve("job1", "a")
    with pytest.raises(errors.ReservationError):
        trm.reserve("job2", "a")
    trm.reserve("job2", "b")
    assert trm.get_reserved() == set(["a", "b"])
    assert trm.reserved("a")
    trm.release_all("job1")
    assert not trm.reserved("a")
    values = iter(["b", "x", "c"])
    assert trm.generate(["x"], lambda: next(values), "job3") == "c"
    assert trm.get_ec_reserved("job3") == set(["c"])
    with pytest.raises(errors.ReservationError):
        trm.generate(["z"], lambda: "z", "job3")


def test_uuid_and_mac_generation_are_unique_and_reserved(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    first = cfg.generate_uuid("job1")
    second = cfg.generate_uuid("job1")
    assert first != second and len(first) == 36
    mac = cfg.generate_mac(None, "job1")
    assert mac.startswith("aa:00:00:") and len(mac) == 17
    with pytest.raises(errors.ReservationError):
        cfg.reserve_mac(mac, "job2")
    with pytest.raises(errors.ReservationError):
        cfg.reserve_mac("aa:00:00:11:22:33", "job2")   # used by inst1
    cfg.drop_ec_reservations("job1")
    cfg.reserve_mac(mac, "job2")


def test_serialized_text_equals_plain_encoding_after_changes(tmp_path):
    """The cached per-object fragments never go stale: after changes the
    written text is still exactly the JSON of the whole config."""
    import json as _json
    from ganeti import serializer as _serializer
    from ganeti.config import store as _store
    src = _json.load(open(os.path.join(os.path.dirname(__file__), "..", "..",
                                       "data", "config", "cluster-3.0.json")))
    path = str(tmp_path / "config.data")
    with open(path, "w") as handle:
        _json.dump(src, handle)
    cfg = config.ConfigWriter(path)
    first = _store.serialize_config(cfg.get_config_data())
    node = cfg.get_node_info(cfg.get_node_list()[0])
    node.tags = ["changed-tag"]
    cfg.update(node)
    snapshot = cfg.get_config_data()
    text = _store.serialize_config(snapshot).decode()
    assert text == _serializer.dump_json(snapshot.to_dict())
    assert "changed-tag" in text and text.encode() != first
    with open(path) as handle:
        assert _json.load(handle) == _json.loads(text)


def test_sorted_names_follow_the_snapshot(cfg_file):
    cfg = config.ConfigWriter(cfg_file)
    snap, names = cfg.get_sorted_names("instances")
    assert snap is cfg.get_config_snapshot()
    before = list(names)
    assert cfg.get_sorted_names("instances")[1] is names   # cached
    for number in (10, 9, 100):
        cfg.add_instance(objects.Instance(
            name="web%d.gnt.test" % number, primary_node=N2, os="noop",
            hypervisor="fake", admin_state="down", nics=[]))
    snap2, names2 = cfg.get_sorted_names("instances")
    assert snap2 is not snap and snap2 is cfg.get_config_snapshot()
    assert names2 == sorted(before + ["web9.gnt.test", "web10.gnt.test",
                                      "web100.gnt.test"],
                            key=text_utils.nice_sort_key)
    assert names2.index("web9.gnt.test") < names2.index("web10.gnt.test")
    assert before == names   # the earlier answer was not changed
