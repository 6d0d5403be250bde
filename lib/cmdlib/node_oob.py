"""Out-of-band management of nodes, and hard powercycling.

A node's ``oob_program`` node parameter names a helper that the *master*
runs (through its own node daemon, ``run_oob``) as ``<program> <command>
<node name>``; commands are ``power-on``, ``power-off``, ``power-cycle``,
``power-status`` (prints ``{"powered": bool}``) and ``health`` (prints a
list of ``[item, status]``). The opcode's result has one row per node:
``[[RS_NORMAL, name], [status, payload]]``; nodes without a helper get
RS_UNAVAIL, failed or malformed answers RS_NODATA (with a warning), so a
multi-node command reports every node. Power-on/off also record the
node's ``powered`` flag.

``OP_NODE_POWERCYCLE`` asks the node itself to reboot hard (see
``backend.power``).
"""

import json
import logging
import time

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu
from ganeti.utils import text as text_utils

# Commands refused on the master: it would cut the cluster off.
_SKIP_MASTER = (constants.OOB_POWER_OFF, constants.OOB_POWER_CYCLE)
_NO_PAYLOAD = (constants.OOB_POWER_ON, constants.OOB_POWER_OFF,
               constants.OOB_POWER_CYCLE)


def oob_program(cfg, node):
    """The node's out-of-band helper, or None if it has none."""
    return cfg.get_ndparams(node).get("oob_program") or None


def decode_payload(output):
    """The helper's stdout as JSON; no output means None."""
    if output is None or not output.strip():
        return None
    return json.loads(output)


def check_payload(command, payload):
    """Problems with a helper's answer to ``command`` (empty: valid)."""
    problems = []
    if command == constants.OOB_HEALTH:
        if not isinstance(payload, list):
            problems.append("command 'health' is expected to return a list"
                            " but got %s" % type(payload).__name__)
        else:
            for entry in payload:
                if not (isinstance(entry, list) and len(entry) == 2):
                    problems.append("health item %r is not an [item,"
                                    " status] pair" % (entry,))
                elif entry[1] not in constants.OOB_STATUSES:
                    problems.append("health item '%s' has invalid status"
                                    " '%s'" % (entry[0], entry[1]))
    elif command == constants.OOB_POWER_STATUS:
        if not isinstance(payload, dict):
            problems.append("power-status is expected to return a dict but"
                            " got %s" % type(payload).__name__)
        elif constants.OOB_POWER_STATUS_POWERED not in payload:
            problems.append("power-status did not return the key '%s'" %
                            constants.OOB_POWER_STATUS_POWERED)
    elif command in _NO_PAYLOAD and payload is not None:
        problems.append("%s is expected to not return payload but got '%s'"
                        % (command, payload))
    return problems


class LUOobCommand(base.NoHooksLU):
    """Run an out-of-band command for nodes (all nodes if none named)."""

    def check_arguments(self):
        op = self.op
        if op.command not in constants.OOB_COMMANDS:
            raise errors.OpPrereqError(
                "Parameter 'OP_OOB_COMMAND.command' fails validation:"
                " expected one of %s, got %r" %
                (", ".join(sorted(constants.OOB_COMMANDS)), op.command),
                errors.ECODE_INVAL)
        if not isinstance(op.power_delay, (int, float)) or \
                op.power_delay < 0:
            raise errors.OpPrereqError("Parameter 'OP_OOB_COMMAND.power_delay'"
                                       " fails validation: expected a"
                                       " non-negative number, got %r" %
                                       (op.power_delay,), errors.ECODE_INVAL)

    def expand_names(self):
        if self.op.node_names:
            pairs = [node_lu.expand_node_name(self.cfg, name)
                     for name in self.op.node_names]
            self.node_uuids = [uuid for uuid, _ in pairs]
            self.op.node_names = [name for _, name in pairs]
            self.needed_locks[constants.LOCKS_NODE] = list(self.node_uuids)
        else:
            self.node_uuids = None
            self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET

    def check_prereq(self):
        op = self.op
        master_uuid = self.cfg.get_master_node()
        master = self.cfg.get_node_info(master_uuid)
        if self.node_uuids:
            if op.command in _SKIP_MASTER and master_uuid in self.node_uuids:
                helper = oob_program(self.cfg, master)
                if helper:
                    extra = ("run '%s %s %s' if you want to operate on the"
                             " master regardless" % (helper, op.command,
                                                     master.name))
                else:
                    extra = "it does not support out-of-band operations"
                raise errors.OpPrereqError(
                    "Operating on the master node %s is not allowed for %s;"
                    " %s" % (master.name, op.command, extra),
                    errors.ECODE_INVAL)
            uuids = list(self.node_uuids)
        else:
            uuids = self.cfg.get_node_list()
            if op.command in _SKIP_MASTER:
                uuids.remove(master_uuid)
        self.nodes = []
        for uuid in uuids:
            node = self.cfg.get_node_info(uuid)
            if node is None:
                raise errors.OpPrereqError("Node %s not found" % uuid,
                                           errors.ECODE_NOENT)
            if (not op.ignore_status and
                    op.command == constants.OOB_POWER_OFF and
                    not node.offline):
                raise errors.OpPrereqError("Cannot power off node %s because"
                                           " it is not marked offline" %
                                           node.name, errors.ECODE_STATE)
            self.nodes.append(node)

    def exec_(self, feedback_fn):
        op = self.op
        master_name = self.cfg.get_master_node_name()
        nodes = text_utils.nice_sort(self.nodes, key=lambda n: n.name)
        result = []
        for idx, node in enumerate(nodes):
            entry = [[constants.RS_NORMAL, node.name]]
            result.append(entry)
            helper = oob_program(self.cfg, node)
            if not helper:
                entry.append([constants.RS_UNAVAIL, None])
                continue
            logging.info("Executing out-of-band command '%s' using '%s' on"
                         " %s", op.command, helper, node.name)
            rpc_result = self.rpc.call_single(
                "run_oob", master_name,
                [helper, op.command, node.name, op.timeout])
            if rpc_result.fail_msg:
                self.log_warning("Out-of-band RPC failed on node '%s': %s",
                                 node.name, rpc_result.fail_msg)
                entry.append([constants.RS_NODATA, None])
                continue
            try:
                payload = decode_payload(rpc_result.payload)
                problems = check_payload(op.command, payload)
            except ValueError as err:
                problems = ["output is not valid JSON (%s)" % err]
            if problems:
                self.log_warning("Payload returned by node '%s' is not"
                                 " valid: Check of out-of-band payload"
                                 " failed due to %s", node.name,
                                 ", ".join(problems))
                entry.append([constants.RS_NODATA, None])
                continue
            self._record(node, payload, feedback_fn)
            entry.append([constants.RS_NORMAL, payload])
            if op.command == constants.OOB_POWER_ON and \
                    idx < len(nodes) - 1:
                time.sleep(op.power_delay)
        return result

    def _record(self, node, payload, feedback_fn):
        """Log health problems, keep the node's powered flag up to date."""
        command = self.op.command
        if command == constants.OOB_HEALTH:
            for item, status in payload:
                if status in (constants.OOB_STATUS_WARNING,
                              constants.OOB_STATUS_CRITICAL):
                    self.log_warning("Item '%s' on node '%s' has status"
                                     " '%s'", item, node.name, status)
        elif command == constants.OOB_POWER_STATUS:
            powered = payload[constants.OOB_POWER_STATUS_POWERED]
            if powered != node.powered:
                logging.warning("Recorded power state (%s) of node '%s' does"
                                " not match actual power state (%s)",
                                node.powered, node.name, powered)
        elif command in (constants.OOB_POWER_ON, constants.OOB_POWER_OFF):
            current = self.cfg.get_node_info(node.uuid)
            current.powered = command == constants.OOB_POWER_ON
            self.cfg.update(current, feedback_fn)


class LUNodePowercycle(base.NoHooksLU):
    """Ask a node to reboot hard; takes no locks (a last resort must not
    wait behind other jobs)."""

    def check_arguments(self):
        self.node_uuid, self.op.node_name = node_lu.expand_node_name(
            self.cfg, self.op.node_name)
        if self.node_uuid == self.cfg.get_master_node() and \
                not self.op.force:
            raise errors.OpPrereqError("The node is the master and the force"
                                       " parameter was not set",
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        hypervisor = self.cfg.get_hypervisor_type()
        hvparams = self.cfg.get_cluster_info().fill_hv(hypervisor)
        result = self.rpc.call_single("node_powercycle", self.op.node_name,
                                      [hypervisor, hvparams])
        result.raise_on_failure("Failed to schedule the reboot")
        return result.payload
