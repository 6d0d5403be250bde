"""OP_INSTANCE_QUERY_DATA: everything ``gnt-instance info`` shows.

The result maps instance names to dicts of configuration data (with
both the instance's own parameter overrides and the filled values, so
the client can print ``default (...)``) and, unless ``static``, the live
state from the primary node and the disks' status from their nodes.
"""

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_utils as iu


def _node_name(cfg, uuid):
    node = cfg.get_node_info(uuid) if uuid else None
    return node.name if node is not None else uuid


class LUInstanceQueryData(base.NoHooksLU):

    def expand_names(self):
        cfg = self.cfg
        if self.op.instances:
            uuids = []
            for name in self.op.instances:
                uuid, _ = cfg.expand_instance_name(name)
                if uuid is None:
                    raise errors.OpPrereqError("Instance '%s' not known" %
                                               name, errors.ECODE_NOENT)
                uuids.append(uuid)
        else:
            uuids = cfg.get_instance_list()
        self.wanted = uuids
        if self.op.use_locking:
            self.needed_locks[constants.LOCKS_INSTANCE] = list(uuids)
            self.share_locks[constants.LOCKS_INSTANCE] = 1

    def _disk_status(self, inst, disk):
        if self.op.static:
            return None
        pnode = self.cfg.get_node_info(inst.primary_node)
        if pnode is None or pnode.offline:
            return None
        result = self.rpc.call_single("blockdev_find", pnode.name,
                                      [disk.to_dict()])
        if result.fail_msg:
            self.log_warning("Can't find disk on node %s: %s", pnode.name,
                             result.fail_msg)
            return None
        return result.payload

    def _disk_data(self, inst, disk):
        return {
            "iv_name": disk.iv_name,
            "dev_type": disk.dev_type,
            "logical_id": disk.logical_id,
            "size": disk.size,
            "mode": disk.mode,
            "name": disk.name,
            "uuid": disk.uuid,
            "spindles": disk.spindles,
            "pstatus": self._disk_status(inst, disk),
            "sstatus": None,
            "children": [],
        }

    def _live_states(self, instances):
        """{instance uuid: running (bool) or None if unknown}."""
        result = {}
        if self.op.static:
            return result
        by_node = {}
        for inst in instances:
            by_node.setdefault(inst.primary_node, []).append(inst)
        for node_uuid, insts in by_node.items():
            node = self.cfg.get_node_info(node_uuid)
            if node is None or node.offline:
                continue
            hvs = sorted(set(i.hypervisor for i in insts))
            cluster = self.cfg.get_cluster_info()
            answer = self.rpc.call_single(
                "all_instances_info", node.name,
                [hvs, dict((hv, cluster.fill_hv(hv)) for hv in hvs)])
            if answer.fail_msg or not isinstance(answer.payload, dict):
                self.log_warning("Can't get instance information from node"
                                 " %s: %s", node.name, answer.fail_msg)
                continue
            for inst in insts:
                result[inst.uuid] = answer.payload.get(inst.name)
        return result

    def exec_(self, feedback_fn):
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        instances = [cfg.get_instance_info(u) for u in self.wanted]
        instances = [i for i in instances if i is not None]
        live = self._live_states(instances)
        result = {}
        for inst in instances:
            pnode = cfg.get_node_info(inst.primary_node)
            group = cfg.get_node_group(pnode.group) if pnode else None
            snodes = cfg.get_instance_secondary_nodes(inst.uuid)
            sgroups = [cfg.get_node_group(cfg.get_node_info(n).group)
                       for n in snodes]
            if self.op.static or inst.uuid not in live:
                run_state = None
            else:
                run_state = "up" if live[inst.uuid] else "down"
            hv_actual = iu.filled_hvparams(cfg, inst)
            for name in constants.HVC_GLOBALS:
                hv_actual.pop(name, None)
            be_actual = iu.filled_beparams(cfg, inst)
            be_actual[constants.BE_MEMORY] = be_actual[constants.BE_MAXMEM]
            os_actual = dict(cluster.osparams.get(
                (inst.os or "").split("+")[0], {}))
            os_actual.update(inst.osparams or {})
            nics = []
            for nic in inst.nics or []:
                filled = cluster.fill_nic(nic.nicparams)
                nics.append({
                    "ip": nic.ip, "mac": nic.mac,
                    "mode": filled.get(constants.NIC_MODE),
                    "link": filled.get(constants.NIC_LINK),
                    "vlan": filled.get(constants.NIC_VLAN, ""),
                    "network": nic.network, "uuid": nic.uuid,
                    "name": nic.name,
                })
            disks = cfg.get_instance_disks(inst.uuid)
            result[inst.name] = {
                "name": inst.name,
                "config_state": inst.admin_state,
                "run_state": run_state,
                "pnode": pnode.name if pnode else inst.primary_node,
                "pnode_group_uuid": group.uuid if group else None,
                "pnode_group_name": group.name if group else None,
                "snodes": [_node_name(cfg, n) for n in snodes],
                "snodes_group_uuids": [g.uuid for g in sgroups],
                "snodes_group_names": [g.name for g in sgroups],
                "os": inst.os,
                "nics": nics,
                "disk_template": cfg.get_instance_disk_template(inst.uuid),
                "disks": [self._disk_data(inst, d) for d in disks],
                "hypervisor": inst.hypervisor,
                "network_port": inst.network_port,
                "hv_instance": dict(inst.hvparams or {}),
                "hv_actual": hv_actual,
                "be_instance": dict(inst.beparams or {}),
                "be_actual": be_actual,
                "os_instance": dict(inst.osparams or {}),
                "os_actual": os_actual,
                "serial_no": inst.serial_no,
                "mtime": inst.mtime,
                "ctime": inst.ctime,
                "uuid": inst.uuid,
                "tags": list(inst.tags or []),
            }
        return result
