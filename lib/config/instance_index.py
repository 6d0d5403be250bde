"""Which instance holds which name, MAC, NIC UUID, port and disk.

The ConfigWriter checks the whole configuration before each write; at
10,000 instances that scan cost more than the change itself. The index is
kept up to date change by change, so that for the common mutation (some
instances, and their disks, added or replaced) ``changes_are_clean`` can
prove by looking at the changed objects only that no problem appeared.
It only ever proves: when it cannot (removals, other collections, cluster
settings, anything unexpected), the writer runs the full verification,
which stays the authority on what is wrong. UUID and MAC generation use
the same index instead of scanning every NIC.
"""

import collections

from ganeti import constants
from ganeti.config import derived

_ADMIN_STATES = frozenset([constants.ADMINST_UP, constants.ADMINST_DOWN,
                           constants.ADMINST_OFFLINE])
_DISK_MODES = frozenset(["rw", "ro"])
# attributes a mutation may change in place without making it "unusual"
_BOOKKEEPING_ATTRS = frozenset(["serial_no", "mtime"])
_INDEXED_COLLECTIONS = frozenset(["instances", "disks"])


def _keys(inst):
    """``(map name, key)`` pairs an instance occupies."""
    yield "names", inst.name
    for nic in inst.nics or []:
        if nic.mac:
            yield "macs", nic.mac
        if nic.uuid:
            yield "nic_uuids", nic.uuid
    if inst.network_port is not None:
        yield "ports", inst.network_port
    for disk_uuid in inst.disks or []:
        yield "disks", disk_uuid


class InstanceIndex:
    """``{key: set(instance uuids)}`` per kind of unique instance resource;
    more than one holder means the configuration already has a problem."""

    KINDS = ("names", "macs", "nic_uuids", "ports", "disks")

    def __init__(self, data):
        self._maps = dict((kind, collections.defaultdict(set))
                          for kind in self.KINDS)
        for inst in data.instances.values():
            self._add(inst)

    def holders(self, kind):
        """The live map of one kind (membership tests: ``mac in ...``)."""
        return self._maps[kind]

    def _add(self, inst):
        for kind, key in _keys(inst):
            self._maps[kind][key].add(inst.uuid)

    def _remove(self, inst):
        for kind, key in _keys(inst):
            holders = self._maps[kind].get(key)
            if holders is not None:
                holders.discard(inst.uuid)
                if not holders:
                    del self._maps[kind][key]

    def apply(self, old, new):
        """One instance went from ``old`` to ``new`` (either may be None)."""
        if old is not None:
            self._remove(old)
        if new is not None:
            self._add(new)

    def changes_are_clean(self, data, instance_keys, disk_keys):
        """True when the changed instances and disks (already in ``data``;
        the index still describes the state before the change) cannot
        have added a problem to the configuration."""
        for key in disk_keys:
            disk = data.disks.get(key)
            if disk is None or disk.uuid != key or \
                    disk.dev_type not in constants.DISK_TEMPLATES or \
                    disk.mode not in _DISK_MODES:
                return False
        changed = set(instance_keys)
        taken = dict((kind, set()) for kind in self.KINDS)
        for key in instance_keys:
            inst = data.instances.get(key)
            if inst is None or inst.uuid != key or not inst.name or \
                    inst.primary_node not in data.nodes or \
                    inst.admin_state not in _ADMIN_STATES:
                return False
            for kind, value in _keys(inst):
                if value in taken[kind] or \
                        self._maps[kind].get(value, set()) - changed:
                    return False
                taken[kind].add(value)
            for disk_uuid in inst.disks or []:
                if disk_uuid not in data.disks:
                    return False
            for nic in inst.nics or []:
                if not nic.mac or (nic.network and
                                   nic.network not in data.networks):
                    return False
            for node_uuid in derived.instance_secondary_nodes(data, inst):
                if node_uuid not in data.nodes:
                    return False
        return True


def summarize_changes(steps, data):
    """``(instance keys, disk keys, other_changes, index_stale)`` of an
    undo log's steps (``_UndoLog`` step tuples). ``other_changes``: more
    than instances, disks and serial/mtime bookkeeping changed;
    ``index_stale``: an object other than the configuration or cluster
    was changed in place, which the index cannot follow."""
    keys = {"instances": set(), "disks": set()}
    other = stale = False
    for step in steps:
        if step[0] == "item":
            if step[1] in _INDEXED_COLLECTIONS:
                keys[step[1]].add(step[2])
            else:
                other = True
        elif step[0] == "attrs":
            if step[1] is not data and step[1] is not data.cluster:
                other = stale = True
            elif not set(step[2]) <= _BOOKKEEPING_ATTRS:
                other = True
        else:
            other = True
    return keys["instances"], keys["disks"], other, stale
