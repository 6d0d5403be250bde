"""gnt-instance modify/rename/grow-disk/recreate-disks: argument
conversion, checks with Ganeti's texts and the (param, value) result
list, against a real ConfigWriter and a recording fake RPC runner."""

import pytest

from ganeti import constants
from ganeti import errors
from ganeti.client import instance_moves
from ganeti.cmdlib import instance_modify as im

from test_cmdlib import FakeRpc, MASTER, run_lu
from test_cmdlib import cfg, root  # noqa: F401 (fixtures)
from test_instance_migration import add_instance


@pytest.mark.parametrize("convert", [im.convert_mods,
                                     lambda mods, kind=None:
                                     instance_moves.convert_mods(mods)])
def test_convert_mods(convert):
    assert convert([("add", {"size": 1024})], "disk") == \
        [("add", -1, {"size": 1024})]
    assert convert([("1", {"remove": True})], "disk") == \
        [("remove", "1", {})]
    assert convert([("0", {"mode": "ro"})], "disk") == \
        [("modify", "0", {"mode": "ro"})]
    assert convert([("0", {"add": True, "link": "br0"})], "NIC") == \
        [("add", "0", {"link": "br0"})]
    for mods, text in (
            ([("0", {"add": True, "remove": True})],
             "Cannot add and remove at the same time"),
            ([("0", {"modify": True, "remove": True})],
             "Cannot modify and add/remove at the same time"),
            ([("0", {"remove": True, "size": 1})],
             "Not accepting parameters on removal")):
        with pytest.raises(errors.OpPrereqError) as err:
            convert(mods, "disk")
        assert str(err.value.args[0]) == text


def test_format_unit_and_disk_index():
    assert [im.format_unit(v) for v in (100, 128, 1024, 1536, 2097152)] == \
        ["100M", "128M", "1.0G", "1.5G", "2.0T"]
    inst = type("I", (), {"disks": ["a"]})()
    assert im.find_disk_index(inst, "0") == 0
    with pytest.raises(errors.OpPrereqError) as err:
        im.find_disk_index(inst, 3)
    assert str(err.value.args[0]) == \
        "Invalid disk index: 3 (instace has disks 0..0)"


def _rpc(running=False):
    return FakeRpc({
        "instance_info": lambda name, args: {"state": "running"} if running
        else None,
        "hypervisor_validate_params": lambda name, args: None,
        "blockdev_assemble": lambda name, args: ["/dev/x", "l", None],
        "blockdev_shutdown": lambda name, args: None,
        "blockdev_grow": lambda name, args: None,
    })


def _fails(cfg, rpc, op, text):
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, op)
    assert text in str(err.value)


def test_set_params_results_and_refusals(cfg):
    uuid = add_instance(cfg, "i1.gnt.test")
    rpc = _rpc()
    op = {"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "i1.gnt.test"}
    _fails(cfg, rpc, op, "No changes submitted")
    result, _, _ = run_lu(cfg, rpc, dict(op, beparams={"memory": "256"}))
    assert result == [("be/maxmem", 256), ("be/minmem", 256)]
    assert cfg.get_instance_info(uuid).beparams == {"maxmem": 256,
                                                    "minmem": 256}
    result, _, _ = run_lu(cfg, rpc, dict(op, beparams={"minmem": "default",
                                                       "maxmem": "512"}))
    assert cfg.get_instance_info(uuid).beparams == {"maxmem": 512}
    _fails(cfg, rpc, dict(op, beparams={"minmem": "1024"}),
           "Minimum memory (1024) is bigger than maximum memory (512)")
    _fails(cfg, rpc, dict(op, hvparams={"nosuch": "1"}),
           "Unknown hypervisor parameter 'nosuch' for hypervisor fake")
    result, _, _ = run_lu(cfg, rpc, dict(op, nics=[("add", {})]))
    ((param, value),) = result
    assert param == "nic.0"
    assert value.startswith("add:mac=aa:00:00:")
    assert value.endswith(",ip=None,mode=bridged,link=br0,network=None")
    result, _, _ = run_lu(cfg, rpc, dict(op, nics=[
        ("0", {"ip": "198.51.100.9"})]))
    assert result == [("nic.ip/0", "198.51.100.9")]
    _fails(cfg, rpc, dict(op, nics=[("5", {"remove": True})]),
           "Got NIC index 5, but there are only 1")
    result, _, _ = run_lu(cfg, rpc, dict(op, nics=[("0", {"remove": True})]))
    assert result == [("nic.0", "remove")]
    assert cfg.get_instance_info(uuid).nics == []
    _fails(cfg, _rpc(running=True), dict(op, offline=True),
           "Instance 'i1.gnt.test' is marked to be up, can't change to"
           " offline")


def test_offline_online(cfg):
    uuid = add_instance(cfg, "i1.gnt.test",
                        admin_state=constants.ADMINST_DOWN)
    op = {"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "i1.gnt.test"}
    result, _, _ = run_lu(cfg, _rpc(), dict(op, offline=True))
    assert result == [("admin_state", "offline")]
    assert cfg.get_instance_info(uuid).admin_state == "offline"
    result, _, _ = run_lu(cfg, _rpc(), dict(op, offline=False))
    assert result == [("admin_state", "down")]


def test_grow_disk(cfg):
    uuid = add_instance(cfg, "f1.gnt.test", constants.DT_FILE)
    op = {"OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "f1.gnt.test",
          "disk": 0}
    _fails(cfg, _rpc(), dict(op, amount=512, absolute=True),
           "Requested size (512M) is smaller than current disk size (1.0G)")
    _fails(cfg, _rpc(), dict(op, amount=-1),
           "Requested increment (-1M) is negative")
    rpc = _rpc()
    _, messages, _ = run_lu(cfg, rpc, dict(op, amount=1024))
    assert "Growing disk 0 of instance 'f1.gnt.test' by 1.0G to 2.0G" in \
        messages
    grows = rpc.called("blockdev_grow")
    assert [(c[1], c[2][1], c[2][2]) for c in grows] == \
        [([MASTER], 1024, True), ([MASTER], 1024, False)]
    assert cfg.get_instance_disks(uuid)[0].size == 2048
    add_instance(cfg, "d1.gnt.test")
    _fails(cfg, _rpc(), {"OP_ID": "OP_INSTANCE_GROW_DISK",
                         "instance_name": "d1.gnt.test", "disk": 0,
                         "amount": 1},
           "Instance's disk layout does not support growing")


def test_rename_checks(cfg):
    add_instance(cfg, "i1.gnt.test")
    add_instance(cfg, "i2.gnt.test", admin_state=constants.ADMINST_DOWN)
    op = {"OP_ID": "OP_INSTANCE_RENAME", "instance_name": "i2.gnt.test",
          "name_check": False}
    _fails(cfg, _rpc(), dict(op, new_name="x.gnt.test"),
           "IP address check requires a name check")
    _fails(cfg, _rpc(), dict(op, new_name="i1.gnt.test", ip_check=False),
           "Instance 'i1.gnt.test' is already in the cluster")
    _fails(cfg, _rpc(running=True),
           dict(op, instance_name="i1.gnt.test", new_name="x.gnt.test",
                ip_check=False),
           "Instance 'i1.gnt.test' is marked to be up, cannot rename")
    result, _, _ = run_lu(cfg, _rpc(), dict(op, new_name="x.gnt.test",
                                            ip_check=False))
    assert result == "x.gnt.test"
    assert cfg.get_instance_info_by_name("x.gnt.test") is not None
