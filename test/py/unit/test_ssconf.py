"""ssconf: the exact text of every value the master generates, and reading
them back on a node."""

import copy
import json
import os

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti import ssconf
from ganeti.config import ssconf_values

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
SAMPLE = os.path.join(TOP, "test", "data", "config", "cluster-3.0.json")

N1 = "0a1b2c3d-0001-4000-8000-000000000001"
N2 = "0a1b2c3d-0002-4000-8000-000000000002"
N3 = "0a1b2c3d-0003-4000-8000-000000000003"
GROUP = "6d5e4f3a-1000-4000-8000-00000000aaaa"


def _sample():
    with open(SAMPLE) as fh:
        return json.load(fh)


def _values(data_dict=None):
    data = objects.ConfigData.from_dict(data_dict or _sample())
    return ssconf_values.compute_ssconf_values(data)


def _natural_sort_config():
    """Nodes whose names sort differently naturally and as strings."""
    data = _sample()
    names = {N1: "node10.gnt.test", N2: "node9.gnt.test",
             N3: "node2.gnt.test"}
    for uuid, name in names.items():
        data["nodes"][uuid]["name"] = name
        data["nodes"][uuid]["master_candidate"] = True
    return data


def test_every_key_is_generated_without_trailing_newline():
    values = _values()
    assert set(values) == set(ssconf.SSCONF_KEYS)
    assert len(ssconf.SSCONF_KEYS) == 28 + len(constants.HYPER_TYPES)
    for key, value in values.items():
        assert isinstance(value, str), key
        assert not value.endswith("\n"), key


def test_scalar_values():
    values = _values()
    assert values["cluster_name"] == "cluster.gnt.test"
    assert values["master_node"] == "node1.gnt.test"
    assert values["master_ip"] == "198.51.100.100"
    assert values["master_netdev"] == "br0"
    assert values["master_netmask"] == "24"
    assert values["primary_ip_family"] == "2"
    assert values["release_version"] == constants.RELEASE_VERSION
    assert values["file_storage_dir"] == "/srv/ganeti/file-storage"
    assert values["shared_file_storage_dir"] == \
        "/srv/ganeti/shared-file-storage"
    assert values["gluster_storage_dir"] == "/var/run/ganeti/gluster"
    assert values["maintain_node_health"] == "False"
    assert values["enabled_user_shutdown"] == "False"


def test_node_lists():
    values = _values()
    assert values["node_list"] == \
        "node1.gnt.test\nnode2.gnt.test\nnode3.gnt.test"
    assert values["node_primary_ips"] == (
        "node1.gnt.test 198.51.100.11\n"
        "node2.gnt.test 198.51.100.12\n"
        "node3.gnt.test 198.51.100.13")
    assert values["node_secondary_ips"] == values["node_primary_ips"]
    assert values["node_vm_capable"] == (
        "node1.gnt.test=True\nnode2.gnt.test=True\nnode3.gnt.test=True")
    assert values["master_candidates"] == "node1.gnt.test\nnode2.gnt.test"
    assert values["master_candidates_ips"] == "198.51.100.11\n198.51.100.12"
    assert values["master_candidates_certs"] == (
        "%s=%s\n%s=%s" % (N1, "d1" * 20, N2, "d2" * 20))
    assert values["online_nodes"] == values["node_list"]
    assert values["offline_nodes"] == ""
    assert values["ssh_ports"] == (
        "node1.gnt.test=22\nnode2.gnt.test=22\nnode3.gnt.test=2222")


def test_node_lists_are_sorted_naturally():
    values = _values(_natural_sort_config())
    assert values["node_list"] == \
        "node2.gnt.test\nnode9.gnt.test\nnode10.gnt.test"
    assert values["master_candidates"] == values["node_list"]
    assert values["master_candidates_ips"] == \
        "198.51.100.13\n198.51.100.12\n198.51.100.11"
    assert values["node_primary_ips"].splitlines()[0] == \
        "node2.gnt.test 198.51.100.13"


def test_offline_and_vm_capable_flags():
    data = _sample()
    data["nodes"][N3]["offline"] = True
    data["nodes"][N3]["vm_capable"] = False
    values = _values(data)
    assert values["offline_nodes"] == "node3.gnt.test"
    assert values["online_nodes"] == "node1.gnt.test\nnode2.gnt.test"
    assert values["node_vm_capable"].splitlines()[2] == "node3.gnt.test=False"


def test_cluster_wide_lists():
    values = _values()
    assert values["instance_list"] == "inst1.gnt.test\ninst2.gnt.test"
    assert values["hypervisor_list"] == "kvm\nfake"
    assert values["cluster_tags"] == "env:test\nowner:qa"
    assert values["uid_pool"] == "4000-4009\n5000"
    assert values["nodegroups"] == "%s default" % GROUP
    assert values["networks"] == ""


def test_hvparams_values():
    values = _values()
    lines = values["hvparams_kvm"].splitlines()
    assert lines == sorted(lines)
    params = dict(line.split("=", 1) for line in lines)
    assert set(params) == set(constants.HVC_DEFAULTS["kvm"])
    assert params["acpi"] == "True"
    assert params["use_chroot"] == "False"
    assert params["migration_port"] == "8102"
    assert params["kernel_path"] == "/boot/vmlinuz-test"   # cluster value
    assert params["kvm_extra"] == ""
    assert values["hvparams_fake"] == "migration_mode=live"
    assert values["hvparams_chroot"] == "init_script=/ganeti-chroot"
    assert "devices=c 1:3 rw,c 1:5 rw" in values["hvparams_lxc"]
    for hv in constants.HYPER_TYPES:
        assert values["hvparams_" + hv]


def test_hvparams_missing_from_config_use_defaults():
    data = _sample()
    del data["cluster"]["hvparams"]["xen-pvm"]
    values = _values(data)
    assert "xen_cmd=xm" in values["hvparams_xen-pvm"].splitlines()


def test_format_ssconf_value():
    fmt = ssconf.format_ssconf_value
    assert fmt(None) == ""
    assert fmt(True) == "True"
    assert fmt(["a", "b"]) == "a\nb"
    assert fmt([]) == ""
    assert fmt(24) == "24"


# ---------------------------------------------------------------------------
# Reading

def _write_store(directory, values):
    for key, value in values.items():
        with open(os.path.join(directory, "ssconf_" + key), "w") as fh:
            fh.write(value + "\n")
    return ssconf.SimpleStore(str(directory))


def test_simple_store_reads_what_the_master_wrote(tmp_path):
    values = _values()
    ss = _write_store(tmp_path, values)
    assert ss.get_cluster_name() == "cluster.gnt.test"
    assert ss.get_master_node() == "node1.gnt.test"
    assert ss.get_master_ip() == "198.51.100.100"
    assert ss.get_master_netdev() == "br0"
    assert ss.get_master_netmask() == 24
    assert ss.get_node_list() == ["node1.gnt.test", "node2.gnt.test",
                                  "node3.gnt.test"]
    assert ss.get_node_primary_ips()[1] == "node2.gnt.test 198.51.100.12"
    assert ss.get_node_primary_ip_map() == {
        "node1.gnt.test": "198.51.100.11", "node2.gnt.test": "198.51.100.12",
        "node3.gnt.test": "198.51.100.13"}
    assert ss.get_master_candidates() == ["node1.gnt.test", "node2.gnt.test"]
    assert ss.get_master_candidates_ips() == ["198.51.100.11",
                                              "198.51.100.12"]
    assert ss.get_master_candidates_certs()[N2] == "d2" * 20
    assert ss.get_online_nodes() == ss.get_node_list()
    assert ss.get_offline_nodes() == []
    assert ss.get_release_version() == constants.RELEASE_VERSION
    assert ss.get_hypervisor_list() == ["kvm", "fake"]
    assert ss.get_nodegroups() == ["%s default" % GROUP]
    assert ss.get_file_storage_dir() == "/srv/ganeti/file-storage"
    assert ss.get_shared_file_storage_dir() == \
        "/srv/ganeti/shared-file-storage"
    assert ss.get_primary_ip_family() == 2
    assert ss.get_uid_pool() == [(4000, 4009), (5000, 5000)]
    assert ss.get_ssh_ports()["node3.gnt.test"] == 2222
    assert ss.get_node_vm_capable()["node1.gnt.test"] is True
    assert ss.get_maintain_node_health() is False
    assert ss.get_cluster_tags() == ["env:test", "owner:qa"]
    assert ss.get_values() == values


def test_hvparams_types_are_restored(tmp_path):
    data = _sample()
    cluster = objects.Cluster.from_dict(copy.deepcopy(data["cluster"]))
    ss = _write_store(tmp_path, _values(data))
    for hv in constants.HYPER_TYPES:
        assert ss.get_hvparams(hv) == cluster.fill_hv(hv), hv
    kvm = ss.get_hvparams("kvm")
    assert kvm["acpi"] is True and kvm["migration_port"] == 8102
    assert kvm["cdrom_image_path"] == ""
    assert ss.get_all_hvparams()["fake"] == {"migration_mode": "live"}


def test_missing_file_error(tmp_path):
    ss = ssconf.SimpleStore(str(tmp_path))
    with pytest.raises(errors.ConfigurationError) as err:
        ss.get_master_node()
    assert str(err.value).startswith(
        "Can't read ssconf file %s/ssconf_master_node: " % tmp_path)
    assert ss.get_values() == {}
    assert ss.check_master("node1.gnt.test") is False


def test_invalid_key_is_a_programming_error(tmp_path):
    ss = ssconf.SimpleStore(str(tmp_path))
    with pytest.raises(errors.ProgrammerError):
        ss.key_to_filename("no_such_key")
    with pytest.raises(errors.GenericError):
        ssconf.verify_keys(["cluster_name", "bogus"])
    ssconf.verify_keys(["cluster_name", "hvparams_kvm"])


def test_master_checks(tmp_path, monkeypatch):
    ss = _write_store(tmp_path, _values())
    assert ss.check_master("node1.gnt.test") is True
    assert ss.check_master("node2.gnt.test") is False
    monkeypatch.setenv("GANETI_HOSTNAME", "node2.gnt.test")
    assert ss.get_master_and_my_name() == ("node1.gnt.test",
                                           "node2.gnt.test")
    assert ssconf.get_master_and_my_name(ss) == ("node1.gnt.test",
                                                 "node2.gnt.test")
    assert ssconf.check_master(ss=ss) is False
    monkeypatch.setenv("GANETI_HOSTNAME", "node1.gnt.test")
    assert ssconf.check_master(ss=ss) is True


def test_default_location_is_resolved_when_reading(tmp_path, monkeypatch):
    ss = ssconf.SimpleStore()
    _write_store(tmp_path, {"cluster_name": "late.example.com"})
    monkeypatch.setattr(pathutils, "DATA_DIR", str(tmp_path))
    assert ss.get_cluster_name() == "late.example.com"


def test_values_without_optional_files_use_defaults(tmp_path):
    ss = _write_store(tmp_path, {"master_node": "n1"})
    assert ss.get_primary_ip_family() == constants.IP4_FAMILY
    assert ss.get_maintain_node_health() is False
    assert ss.get_master_netmask() is None
