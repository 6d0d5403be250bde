"""The instance index must never let a change through that the full
verification would refuse, and must follow every change it is told of."""

import random

import pytest

from ganeti import errors
from ganeti import objects
from ganeti.config import instance_index, verify
from ganeti.config import store

from test_config import SAMPLE, N1, N2, cfg_file  # noqa: F401 (fixture)

MACS = ["aa:00:00:00:00:%02x" % n for n in range(40)]
NAMES = ["inst%d.gnt.test" % n for n in range(25)]
PORTS = [None] * 8 + [11001, 11002]


def _pick(rng, good, bad, bad_chance=0.04):
    return rng.choice(bad) if rng.random() < bad_chance else rng.choice(good)


def _random_instance(rng, uuid, data):
    disks = sorted(data.disks)
    return objects.Instance(
        uuid=uuid, name=_pick(rng, NAMES, [""]),
        primary_node=_pick(rng, sorted(data.nodes), ["no-such-node"]),
        os="noop", hypervisor="fake",
        admin_state=_pick(rng, ["up", "down"], ["broken"]),
        network_port=rng.choice(PORTS),
        disks=_pick(rng, [[]], [[rng.choice(disks)], ["no-such-disk"]],
                    0.1),
        nics=[objects.NIC(mac=_pick(rng, MACS, [""]),
                          uuid="nic-%s-%d" % (uuid, n), nicparams={})
              for n in range(rng.randrange(0, 3))])


def _fresh_maps(data):
    index = instance_index.InstanceIndex(data)
    return dict((kind, dict(index.holders(kind)))
                for kind in index.KINDS)


def test_clean_changes_never_hide_a_problem():
    """Random additions/replacements on a copy of the sample config: when
    the index says clean, the full verification finds nothing new."""
    rng = random.Random(7)
    data = store.load_config_file(SAMPLE)
    index = instance_index.InstanceIndex(data)
    uuids = sorted(data.instances) + ["new-%d" % n for n in range(6)]
    clean_seen = refused_seen = 0
    for _ in range(600):
        before = set(verify.verify_config_data(data))
        changed = rng.sample(uuids, rng.randrange(1, 3))
        saved = dict((key, data.instances.get(key)) for key in changed)
        for key in changed:
            data.instances[key] = _random_instance(rng, key, data)
        after = set(verify.verify_config_data(data))
        clean = index.changes_are_clean(data, changed, [])
        if clean:
            clean_seen += 1
            assert after <= before, (changed, after - before)
        if after - before:
            refused_seen += 1
            # the writer would refuse: undo, the index is left as it was
            for key, old in saved.items():
                if old is None:
                    del data.instances[key]
                else:
                    data.instances[key] = old
        else:
            for key, old in saved.items():
                index.apply(old, data.instances[key])
        assert _fresh_maps(data) == dict(
            (kind, dict(index.holders(kind))) for kind in index.KINDS)
    # both outcomes were exercised
    assert clean_seen > 50 and refused_seen > 50, (clean_seen, refused_seen)


def test_writer_uses_the_index_and_still_refuses(cfg_file):  # noqa: F811
    from ganeti import config
    cfg = config.ConfigWriter(cfg_file)

    def inst(name, mac):
        return objects.Instance(
            name=name, primary_node=N2, os="noop", hypervisor="fake",
            admin_state="down",
            nics=[objects.NIC(mac=mac, nicparams={})])

    calls = []
    original = config.verify_config_data

    def counting(data):
        calls.append(1)
        return original(data)

    config.verify_config_data = counting
    try:
        first = cfg.add_instance(inst("fast1.gnt.test", "aa:00:00:11:22:01"))
        assert calls == []          # proven clean without the full scan
        with pytest.raises(errors.ConfigurationError) as err:
            cfg.add_instance(inst("fast1.gnt.test", "aa:00:00:11:22:02"))
        assert "duplicate instance name 'fast1.gnt.test'" in str(err.value)
        assert calls == [1]         # doubt: the full verification decided
        node = cfg.get_node_info(N1)
        node.tags = ["x"]
        cfg.update(node)            # not an instance change: full scan
        assert calls == [1, 1]
    finally:
        config.verify_config_data = original
    assert cfg.get_instance_info(first).name == "fast1.gnt.test"
    assert "aa:00:00:11:22:01" in cfg._all_macs()
    assert "aa:00:00:11:22:02" not in cfg._all_macs()
    cfg.remove_instance(first)
    assert "aa:00:00:11:22:01" not in cfg._all_macs()
