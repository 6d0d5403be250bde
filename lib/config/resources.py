"""Unique resources of the configuration: UUIDs, MACs, IPs, ports and
candidate certificates.

Kept apart from the ConfigWriter's object accessors so that the
reservation rules (what a running job may promise before committing) are
in one place. ``ResourcesMixin`` is mixed into ``ConfigWriter`` and relies
on its ``_lock``, ``_data``, ``_mutate`` and ``_temporary_*`` managers.
"""

import random
import uuid as uuid_module

from ganeti import constants
from ganeti import errors

FIRST_DRBD_PORT = 11000
LAST_DRBD_PORT = 14999


class _UsedIds:
    """Membership view of the UUIDs a configuration uses: the object
    collections are asked directly (always current, also in the middle of
    a mutation), NIC UUIDs from the instance index."""

    _COLLECTIONS = ("nodes", "nodegroups", "instances", "disks", "networks",
                    "filters")

    def __init__(self, data, nic_uuids):
        self._data = data
        self._nic_uuids = nic_uuids

    def __contains__(self, uuid):
        data = self._data
        if uuid is None:
            return False
        if uuid == data.cluster.uuid or uuid in self._nic_uuids:
            return True
        return any(uuid in getattr(data, name) for name in self._COLLECTIONS)


class ResourcesMixin:
    """UUID/MAC/IP reservations, port allocation, candidate certs."""

    def _all_ids(self):
        """A live container of every UUID in use (membership tests only)."""
        return _UsedIds(self._data,
                        self._get_instance_index().holders("nic_uuids"))

    def generate_uuid(self, ec_id=None):
        """A new UUID used nowhere in the config nor reserved; reserved for
        ``ec_id`` until its reservations are dropped."""
        with self._lock:
            return self._temporary_ids.generate(
                self._all_ids(), lambda: str(uuid_module.uuid4()), ec_id)

    def _ensure_uuid(self, obj, ec_id):
        """Give ``obj`` a fresh UUID, or check that its own is unused."""
        if not obj.uuid:
            obj.uuid = self._temporary_ids.generate(
                self._all_ids(), lambda: str(uuid_module.uuid4()), ec_id)
        elif obj.uuid in self._all_ids():
            raise errors.ConfigurationError(
                "Cannot add '%s': UUID %s already in use" %
                (getattr(obj, "name", None), obj.uuid))

    def _all_macs(self):
        """A live container of every MAC in use (membership tests only)."""
        return self._get_instance_index().holders("macs")

    def generate_mac(self, net_uuid=None, ec_id=None):
        """A random MAC with the network's (or cluster's) prefix, unused and
        unreserved; reserved for ``ec_id``."""
        with self._lock:
            prefix = None
            if net_uuid and net_uuid in self._data.networks:
                prefix = self._data.networks[net_uuid].mac_prefix
            prefix = prefix or self._data.cluster.mac_prefix or \
                constants.DEFAULT_MAC_PREFIX

            def one():
                return "%s:%02x:%02x:%02x" % (prefix, random.randrange(256),
                                              random.randrange(256),
                                              random.randrange(256))
            return self._temporary_macs.generate(self._all_macs(), one,
                                                 ec_id)

    def reserve_mac(self, mac, ec_id):
        """Reserve a user-given MAC; fails if used or reserved."""
        with self._lock:
            if mac in self._all_macs():
                raise errors.ReservationError("MAC already in use")
        self._temporary_macs.reserve(ec_id, mac)

    def reserve_ip(self, net_uuid, address, ec_id):
        """Reserve ``address`` of network ``net_uuid`` (pool bookkeeping
        arrives with networks; this only prevents double promises)."""
        self._temporary_ips.reserve(ec_id, (net_uuid, address))

    def drop_ec_reservations(self, ec_id):
        """Release everything job ``ec_id`` reserved."""
        for manager in (self._temporary_ids, self._temporary_macs,
                        self._temporary_ips):
            manager.release_all(ec_id)

    def add_node_to_candidate_certs(self, node_uuid, digest):
        """Record the client certificate digest of a master candidate."""
        def change(data, log, now):
            log.save_attrs(data.cluster, "candidate_certs")
            certs = dict(data.cluster.candidate_certs or {})
            certs[node_uuid] = digest
            data.cluster.candidate_certs = certs
        self._mutate(change)

    def remove_node_from_candidate_certs(self, node_uuid):
        def change(data, log, now):
            certs = dict(data.cluster.candidate_certs or {})
            if node_uuid not in certs:
                return False
            log.save_attrs(data.cluster, "candidate_certs")
            del certs[node_uuid]
            data.cluster.candidate_certs = certs
            return True
        return self._mutate(change)

    def allocate_port(self):
        """A free TCP/UDP port for an instance (DRBD, VNC): from the pool of
        freed ports, else one above the highest used."""
        def change(data, log, now):
            cluster = data.cluster
            log.save_attrs(cluster, "tcpudp_port_pool", "highest_used_port")
            pool = list(cluster.tcpudp_port_pool or [])
            if pool:
                port = min(pool)
                pool.remove(port)
                cluster.tcpudp_port_pool = pool
                return port
            highest = cluster.highest_used_port
            if highest is None:
                highest = FIRST_DRBD_PORT - 1
            port = highest + 1
            if port > LAST_DRBD_PORT:
                raise errors.ConfigurationError(
                    "The highest used port is greater than %s. Aborting." %
                    LAST_DRBD_PORT)
            cluster.highest_used_port = port
            return port
        return self._mutate(change)

    def add_tcp_udp_port(self, port):
        """Give a port back to the pool."""
        def change(data, log, now):
            cluster = data.cluster
            log.save_attrs(cluster, "tcpudp_port_pool")
            pool = list(cluster.tcpudp_port_pool or [])
            if port not in pool:
                pool.append(port)
            cluster.tcpudp_port_pool = pool
        self._mutate(change)
