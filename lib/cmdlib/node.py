"""Node membership: add, remove, change roles and flags.

Adding a node is the one place where the master uses SSH: it installs the
cluster certificate and secrets on the new node and starts its node
daemon (``ganeti.tools.node_daemon_setup``); from then on every exchange
goes through the node daemon. The master candidate pool is kept at its
configured size whenever a node comes, goes or changes role.
"""

import json
import logging
import time

from ganeti import bootstrap
from ganeti import config_sync
from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti import ssh
from ganeti.cmdlib import base
from ganeti.rpc import defs as rpc_defs

# How long to wait for a freshly started node daemon to answer.
NODED_START_TIMEOUT = 20.0
SETUP_COMMAND = "python3 -m ganeti.tools.node_daemon_setup"
# A parameter value meaning "remove the override, use the default"
VALUE_DEFAULT = "default"


# --- helpers shared by the LUs of this package ---

expand_node_name = base.expand_node_name


def decide_self_promotion(cfg, exceptions=None):
    """Whether a node joining (or returning to) the pool should be a
    candidate: the pool grows by one node, so compare with the new goal."""
    pool_size = cfg.get_cluster_info().candidate_pool_size
    mc_now, mc_should, _ = cfg.get_master_candidate_stats(exceptions or [])
    return mc_now < min(mc_should + 1, pool_size)


def sync_candidate_certs(cfg):
    """Keep ``cluster.candidate_certs`` = {candidate uuid: cert digest}.

    All nodes share the cluster certificate here, so every candidate maps
    to its digest; ssconf_master_candidates_certs is derived from it.
    """
    try:
        digest = crypto.cert_digest(pathutils.NODED_CERT_FILE)
    except errors.X509CertError as err:
        logging.warning("Can't compute the cluster certificate digest: %s",
                        err)
        return
    wanted = dict((uuid, digest) for uuid, node in
                  cfg.get_all_nodes_info().items() if node.master_candidate)
    cluster = cfg.get_cluster_info()
    if (cluster.candidate_certs or {}) != wanted:
        cluster.candidate_certs = wanted
        cfg.update(cluster)


def adjust_candidate_pool(lu, exceptions):
    """Promote nodes until the candidate pool is full again."""
    promoted = lu.cfg.maintain_candidate_pool(exceptions)
    if promoted:
        lu.log_info("Promoted nodes to master candidate role: %s",
                    ", ".join(node.name for node in promoted))
    sync_candidate_certs(lu.cfg)
    mc_now, mc_max, _ = lu.cfg.get_master_candidate_stats(exceptions)
    if mc_now > mc_max:
        lu.log_info("Note: more nodes are candidates (%d) than desired (%d)",
                    mc_now, mc_max)


def master_params(cfg):
    """The master network parameters, as node_*_master_ip expect them."""
    cluster = cfg.get_cluster_info()
    return {
        "uuid": cluster.master_node,
        "name": cfg.get_master_node_name(),
        "ip": cluster.master_ip,
        "netmask": cluster.master_netmask,
        "netdev": cluster.master_netdev,
        "ip_family": cluster.primary_ip_family or constants.IP4_FAMILY,
    }


def direct_rpc(name, address):
    """An RPC runner reaching ``name`` at ``address``, config or not."""
    from ganeti.rpc import client as rpc_client
    return rpc_client.RpcRunner(rpc_client.static_resolver({name: address}))


def instances_on_node(cfg, node_uuid):
    """Names of the instances using the node (primary or secondary)."""
    primary, secondary = cfg.get_node_instances(node_uuid)
    return sorted(cfg.get_instance_name(uuid) or uuid
                  for uuid in set(primary) | set(secondary))


def _read_optional(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def setup_document(cfg, node_name):
    """The JSON document for ``ganeti.tools.node_daemon_setup``."""
    try:
        with open(pathutils.NODED_CERT_FILE) as fh:
            cert = fh.read()
    except OSError as err:
        raise errors.OpExecError("Can't read the cluster certificate: %s" %
                                 err)
    doc = {
        "cluster_name": cfg.get_cluster_name(),
        "node_name": node_name,
        "node_daemon_certificate": cert,
        "ssconf": cfg.get_ssconf_values(),
        "start_node_daemon": True,
    }
    for key, path in (("hmac_key", pathutils.CONFD_HMAC_KEY),
                      ("cluster_domain_secret",
                       pathutils.CLUSTER_DOMAIN_SECRET_FILE),
                      ("file_storage_paths",
                       pathutils.FILE_STORAGE_PATHS_FILE)):
        value = _read_optional(path)
        if value is not None:
            doc[key] = value
    return json.dumps(doc)


def setup_node_daemon(cfg, node_name, address, ssh_port=ssh.DEFAULT_PORT,
                      runner=None):
    """Install the cluster's credentials on a node over SSH, start noded."""
    runner = runner or ssh.SshRunner(cfg.get_cluster_name())
    code, out, err = runner.run(node_name, SETUP_COMMAND,
                                stdin=setup_document(cfg, node_name),
                                address=address, port=ssh_port)
    if code != 0:
        raise errors.OpExecError(
            "Remote command on node %s, error: %s, output: %s" %
            (node_name, "exited with exit code %s" % code,
             (out + err).strip() or "(none)"))


def wait_for_noded(rpc, node_name, timeout=NODED_START_TIMEOUT):
    """The node daemon's protocol version, once it answers (RpcResult)."""
    deadline = time.monotonic() + timeout
    while True:
        result = rpc.call_single("version", node_name, [])
        if not result.fail_msg or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def check_node_has_ip(rpc, node_name, address, kind, prereq):
    """Fail unless the node has ``address`` configured locally."""
    result = rpc.call_single("node_has_ip_address", node_name, [address])
    result.raise_on_failure("Failure checking %s ip on node %s" %
                            (kind, node_name), prereq=prereq,
                            ecode=errors.ECODE_ENVIRON)
    if not result.payload:
        msg = ("Node claims it doesn't have the %s ip you gave (%s),"
               " please fix and re-run this command" % (kind, address))
        if prereq:
            raise errors.OpPrereqError(msg, errors.ECODE_ENVIRON)
        raise errors.OpExecError(msg)


# --- OP_NODE_ADD ---

class LUNodeAdd(base.LogicalUnit):
    """Add a node (or re-add a known one) to the cluster."""

    HPATH = "node-add"
    HTYPE = "NODE"
    REQ_BGL = True
    _NFLAGS = ("master_capable", "vm_capable")

    def check_arguments(self):
        self.hostname, self.address = bootstrap.resolve_hostname(
            self.op.node_name)
        self.op.node_name = self.hostname
        if self.op.readd and self.hostname == self.cfg.get_master_node_name():
            raise errors.OpPrereqError("Cannot readd the master node",
                                       errors.ECODE_STATE)
        if self.op.readd and self.op.group:
            raise errors.OpPrereqError("Cannot pass a node group when a node"
                                       " is being readded",
                                       errors.ECODE_INVAL)

    def build_hooks_env(self):
        return {
            "OP_TARGET": self.op.node_name,
            "NODE_NAME": self.op.node_name,
            "NODE_PIP": self.op.primary_ip,
            "NODE_SIP": self.op.secondary_ip,
            "MASTER_CAPABLE": str(self.op.master_capable),
            "VM_CAPABLE": str(self.op.vm_capable),
        }

    def build_hooks_nodes(self):
        names = [node.name for node in self.cfg.get_all_nodes_info().values()
                 if node.name != self.op.node_name]
        return names, names + [self.op.node_name]

    def _check_addresses(self):
        """Primary/secondary IPs valid, free, and homed like the master."""
        node_name = self.hostname
        self.op.primary_ip = self.address
        if self.op.secondary_ip is None:
            self.op.secondary_ip = self.op.primary_ip
        sip = self.op.secondary_ip
        if not bootstrap.is_valid_ipv4(sip):
            raise errors.OpPrereqError("Secondary IP (%s) needs to be a valid"
                                       " IPv4 address" % sip,
                                       errors.ECODE_INVAL)
        self.changed_primary_ip = False
        for node in self.cfg.get_all_nodes_info().values():
            if self.op.readd and node.name == node_name:
                if node.secondary_ip != sip:
                    raise errors.OpPrereqError(
                        "Readded node doesn't have the same IP address"
                        " configuration as before", errors.ECODE_INVAL)
                if node.primary_ip != self.op.primary_ip:
                    self.changed_primary_ip = True
                continue
            if (set([node.primary_ip, node.secondary_ip]) &
                    set([self.op.primary_ip, sip])):
                raise errors.OpPrereqError(
                    "New node ip address(es) conflict with existing node %s"
                    % node.name, errors.ECODE_NOTUNIQUE)
        master = self.cfg.get_node_info(self.cfg.get_master_node())
        master_single = master.secondary_ip == master.primary_ip
        newbie_single = sip == self.op.primary_ip
        if master_single and not newbie_single:
            raise errors.OpPrereqError("The master has no secondary ip but the"
                                       " new node has one",
                                       errors.ECODE_INVAL)
        if newbie_single and not master_single:
            raise errors.OpPrereqError("The master has a secondary ip but the"
                                       " new node doesn't have one",
                                       errors.ECODE_INVAL)

    def check_prereq(self):
        node_name = self.hostname
        existing = self.cfg.get_node_info_by_name(node_name)
        if not self.op.readd and existing is not None:
            raise errors.OpPrereqError("Node %s is already in the"
                                       " configuration" % node_name,
                                       errors.ECODE_EXISTS)
        if self.op.readd and existing is None:
            raise errors.OpPrereqError("Node %s is not in the configuration" %
                                       node_name, errors.ECODE_NOENT)
        self._check_addresses()
        for attr in self._NFLAGS:
            if getattr(self.op, attr) is None:
                default = getattr(existing, attr) if self.op.readd else True
                setattr(self.op, attr, default)
        if self.op.readd and not self.op.vm_capable:
            if instances_on_node(self.cfg, existing.uuid):
                raise errors.OpPrereqError(
                    "Node %s being re-added with vm_capable flag set to"
                    " false, but it already holds instances" % node_name,
                    errors.ECODE_STATE)
        exceptions = [existing.uuid] if self.op.readd else []
        self.master_candidate = bool(self.op.master_capable and
                                     decide_self_promotion(self.cfg,
                                                           exceptions))
        if self.op.readd:
            self.new_node = existing
        else:
            group_uuid = self.cfg.lookup_node_group(self.op.group)
            self.new_node = objects.Node(
                name=node_name, primary_ip=self.op.primary_ip,
                secondary_ip=self.op.secondary_ip,
                master_candidate=self.master_candidate, offline=False,
                drained=False, group=group_uuid, ndparams={})
        if self.op.ndparams:
            _check_ndparams(self.op.ndparams)
        if self.op.dry_run:
            return
        self._setup_and_contact()

    def _setup_and_contact(self):
        """SSH setup, then the checks Ganeti makes once noded runs."""
        cluster = self.cfg.get_cluster_info()
        ndparams = cluster.fill_nd()
        ndparams.update(self.op.ndparams or {})
        node_name = self.hostname
        setup_node_daemon(self.cfg, node_name, self.op.primary_ip,
                          int(ndparams.get("ssh_port") or ssh.DEFAULT_PORT))
        self.node_rpc = direct_rpc(node_name, self.op.primary_ip)
        # noded was just (re)started: give it time to listen
        result = wait_for_noded(self.node_rpc, node_name)
        if result.fail_msg and not bootstrap.tcp_ping(
                self.op.primary_ip, constants.DEFAULT_NODED_PORT):
            raise errors.OpPrereqError("Node not reachable by ping",
                                       errors.ECODE_ENVIRON)
        result.raise_on_failure("Can't get version information from node %s"
                                % node_name, prereq=True,
                                ecode=errors.ECODE_ENVIRON)
        if result.payload != constants.PROTOCOL_VERSION:
            raise errors.OpPrereqError(
                "Version mismatch master version %s, node version %s" %
                (constants.PROTOCOL_VERSION, result.payload),
                errors.ECODE_ENVIRON)
        check_node_has_ip(self.node_rpc, node_name, self.op.primary_ip,
                          "primary", True)

    def exec_(self, feedback_fn):
        node = self.new_node
        node.powered = True
        if self.op.readd:
            node.offline = False
            node.drained = False
            self.log_info("Readding a node, the offline/drained flags were"
                          " reset")
            node.master_candidate = self.master_candidate
            if self.changed_primary_ip:
                node.primary_ip = self.op.primary_ip
        for attr in self._NFLAGS:
            setattr(node, attr, getattr(self.op, attr))
        if node.master_candidate:
            self.log_info("Node will be a master candidate")
        node.ndparams = dict(self.op.ndparams or {})
        if self.op.hv_state:
            node.hv_state_static = self.op.hv_state
        if self.op.disk_state:
            node.disk_state_static = self.op.disk_state

        cluster = self.cfg.get_cluster_info()
        master_name = self.cfg.get_master_node_name()
        if cluster.modify_etc_hosts:
            self.rpc.call_single(
                "etc_hosts_modify", master_name,
                [rpc_defs.ETC_HOSTS_ADD, node.name, node.primary_ip]
            ).raise_on_failure("Can't update hosts file with new host data")
        if node.secondary_ip != node.primary_ip:
            check_node_has_ip(self.node_rpc, node.name, node.secondary_ip,
                              "secondary", False)
        self._verify_from_master(master_name, node, feedback_fn)

        if self.op.readd:
            self.cfg.update(node)
        else:
            if not node.uuid:
                node.uuid = self.cfg.generate_uuid()
            self.cfg.add_node(node)
        sync_candidate_certs(self.cfg)
        # config.data reached the node (if a candidate) with add_node
        config_sync.redistribute_files(self.cfg, self.rpc, [node.name],
                                       feedback_fn, with_config=False)
        if self.op.readd and not node.master_candidate:
            msg = self.rpc.call_single("node_demote_from_mc", node.name,
                                       []).fail_msg
            if msg:
                self.log_warning("Node failed to demote itself from master"
                                 " candidate status: %s", msg)
        return None

    def _verify_from_master(self, master_name, node, feedback_fn):
        """The master must reach the new node's daemon by its name."""
        result = self.rpc.call_single(
            "node_verify", master_name,
            [{rpc_defs.NV_NODELIST: {node.name: node.primary_ip}},
             self.cfg.get_cluster_name(),
             self.cfg.get_cluster_info().hvparams])
        result.raise_on_failure("Cannot communicate with node %s" %
                                master_name)
        failures = (result.payload or {}).get(rpc_defs.NV_NODELIST) or {}
        if failures:
            for name in sorted(failures):
                feedback_fn("ssh/hostname verification failed (checking from"
                            " %s): %s" % (master_name, failures[name]))
            raise errors.OpExecError("ssh/hostname verification failed")


def _check_ndparams(ndparams):
    """Only known node parameters, with values of the right type."""
    for key, value in ndparams.items():
        kind = constants.NDS_PARAMETER_TYPES.get(key)
        if kind is None:
            raise errors.OpPrereqError("Unknown node parameter '%s'" % key,
                                       errors.ECODE_INVAL)
        ok = {"string": lambda v: isinstance(v, str),
              "int": lambda v: isinstance(v, int) and
              not isinstance(v, bool),
              "bool": lambda v: isinstance(v, bool),
              "float": lambda v: isinstance(v, (int, float)) and
              not isinstance(v, bool)}[kind](value)
        if not ok:
            raise errors.OpPrereqError(
                "Invalid value for node parameter '%s': %r (expected %s)" %
                (key, value, kind), errors.ECODE_INVAL)


# --- OP_NODE_REMOVE ---

class LUNodeRemove(base.LogicalUnit):
    """Remove a node that holds no instances; never the master."""

    HPATH = "node-remove"
    HTYPE = "NODE"
    REQ_BGL = True

    def expand_names(self):
        self.node_uuid, self.op.node_name = expand_node_name(
            self.cfg, self.op.node_name)

    def build_hooks_env(self):
        return {"OP_TARGET": self.op.node_name,
                "NODE_NAME": self.op.node_name}

    def build_hooks_nodes(self):
        names = [node.name for node in self.cfg.get_all_nodes_info().values()
                 if node.name != self.op.node_name]
        return names, names

    def check_prereq(self):
        node = self.cfg.get_node_info(self.node_uuid)
        if node.uuid == self.cfg.get_master_node():
            raise errors.OpPrereqError("Node is the master node, failover to"
                                       " another node is required",
                                       errors.ECODE_INVAL)
        for name in instances_on_node(self.cfg, node.uuid):
            raise errors.OpPrereqError("Instance %s is still running on the"
                                       " node, please remove first" % name,
                                       errors.ECODE_INVAL)
        self.node = node

    def exec_(self, feedback_fn):
        node = self.node
        cluster = self.cfg.get_cluster_info()
        logging.info("Stopping the node daemon and removing configs from"
                     " node %s", node.name)
        adjust_candidate_pool(self, [node.uuid])
        self.cfg.remove_node(node.uuid)
        sync_candidate_certs(self.cfg)
        result = direct_rpc(node.name, node.primary_ip).call_single(
            "node_leave_cluster", node.name, [cluster.modify_ssh_setup])
        if result.fail_msg and not node.offline:
            self.log_warning("Errors encountered on the remote node while"
                             " leaving the cluster: %s", result.fail_msg)
        if cluster.modify_etc_hosts:
            self.rpc.call_single(
                "etc_hosts_modify", self.cfg.get_master_node_name(),
                [rpc_defs.ETC_HOSTS_REMOVE, node.name, None]
            ).raise_on_failure("Can't update hosts file with new host data")
            config_sync.redistribute_files(self.cfg, self.rpc,
                                           feedback_fn=feedback_fn,
                                           with_config=False)
        return None


# --- OP_NODE_SET_PARAMS ---

_ROLE_CANDIDATE, _ROLE_DRAINED, _ROLE_OFFLINE, _ROLE_REGULAR = range(4)
# (master_candidate, drained, offline) <-> role
_FLAGS_TO_ROLE = {
    (True, False, False): _ROLE_CANDIDATE,
    (False, True, False): _ROLE_DRAINED,
    (False, False, True): _ROLE_OFFLINE,
    (False, False, False): _ROLE_REGULAR,
}
_ROLE_TO_FLAGS = dict((role, flags) for flags, role in _FLAGS_TO_ROLE.items())
_ROLE_FLAGS = ("master_candidate", "drained", "offline")


class LUNodeSetParams(base.LogicalUnit):
    """Change a node's role (-C/-D/-O), capabilities or secondary IP.

    At most one role flag may be set to True at once; the master's role
    changes only through master failover; demoting a candidate needs a
    replacement (``auto_promote``) unless the pool stays large enough;
    an offline node is never contacted.
    """

    HPATH = "node-modify"
    HTYPE = "NODE"

    def check_arguments(self):
        op = self.op
        mods = [op.offline, op.master_candidate, op.drained,
                op.master_capable, op.vm_capable, op.secondary_ip,
                op.ndparams, op.hv_state, op.disk_state, op.powered]
        if all(value is None for value in mods):
            raise errors.OpPrereqError("Please pass at least one"
                                       " modification", errors.ECODE_INVAL)
        if [op.offline, op.master_candidate, op.drained].count(True) > 1:
            raise errors.OpPrereqError("Can't set the node into more than one"
                                       " state at the same time",
                                       errors.ECODE_INVAL)
        self.might_demote = (op.master_candidate is False or
                             op.offline is True or op.drained is True or
                             op.master_capable is False)
        if op.secondary_ip and not bootstrap.is_valid_ipv4(op.secondary_ip):
            raise errors.OpPrereqError("Secondary IP (%s) needs to be a valid"
                                       " IPv4 address" % op.secondary_ip,
                                       errors.ECODE_INVAL)
        self.lock_all = bool(op.auto_promote and self.might_demote)

    def expand_names(self):
        self.node_uuid, self.op.node_name = expand_node_name(
            self.cfg, self.op.node_name)
        nodes = base.ALL_SET if self.lock_all else [self.node_uuid]
        self.needed_locks[constants.LOCKS_NODE] = nodes
        self.needed_locks[constants.LOCKS_NODE_RES] = nodes

    def build_hooks_env(self):
        return {
            "OP_TARGET": self.op.node_name,
            "MASTER_CANDIDATE": str(self.op.master_candidate),
            "OFFLINE": str(self.op.offline),
            "DRAINED": str(self.op.drained),
            "MASTER_CAPABLE": str(self.op.master_capable),
            "VM_CAPABLE": str(self.op.vm_capable),
        }

    def build_hooks_nodes(self):
        names = [self.cfg.get_master_node_name(), self.op.node_name]
        return names, names

    def check_prereq(self):
        op = self.op
        node = self.cfg.get_node_info(self.node_uuid)
        master_uuid = self.cfg.get_master_node()
        if ((op.master_candidate is not None or op.drained is not None or
             op.offline is not None) and node.uuid == master_uuid):
            raise errors.OpPrereqError("The master role can be changed only"
                                       " via master-failover",
                                       errors.ECODE_INVAL)
        if op.master_candidate and not node.master_capable:
            raise errors.OpPrereqError("Node %s is not master capable, cannot"
                                       " make it a master candidate" %
                                       node.name, errors.ECODE_STATE)
        if op.vm_capable is False and instances_on_node(self.cfg, node.uuid):
            raise errors.OpPrereqError("Node %s hosts instances, cannot unset"
                                       " the vm_capable flag" % node.name,
                                       errors.ECODE_STATE)
        if node.master_candidate and self.might_demote and not self.lock_all:
            remaining, should, _ = self.cfg.get_master_candidate_stats(
                [node.uuid])
            if remaining < should:
                raise errors.OpPrereqError(
                    "Not enough master candidates, please pass auto promote"
                    " option to allow promotion (--auto-promote or RAPI"
                    " auto_promote=True)", errors.ECODE_STATE)
        self.old_flags = (bool(node.master_candidate), bool(node.drained),
                          bool(node.offline))
        if self.old_flags not in _FLAGS_TO_ROLE:
            raise errors.OpPrereqError("Node %s has inconsistent role flags"
                                       " %s" % (node.name, self.old_flags),
                                       errors.ECODE_STATE)
        self.old_role = _FLAGS_TO_ROLE[self.old_flags]
        for attr in _ROLE_FLAGS:
            if getattr(op, attr) is False and not getattr(node, attr):
                self.log_info("Ignoring request to unset flag %s, already"
                              " unset", attr)
                setattr(op, attr, None)
        if op.powered is not None:
            group = self.cfg.get_node_group(node.group)
            oob = self.cfg.get_cluster_info().fill_nd(
                node=node, group=group).get("oob_program")
            if not oob:
                raise errors.OpPrereqError(
                    "Unable to change powered state for node %s as it does"
                    " not support out-of-band handling" % node.name,
                    errors.ECODE_STATE)
        if (op.drained is False or op.offline is False or
                (op.master_capable and not node.master_capable)):
            if decide_self_promotion(self.cfg):
                op.master_candidate = True
                self.log_info("Auto-promoting node to master candidate")
        if op.master_capable is False and node.master_candidate:
            if node.uuid == master_uuid:
                raise errors.OpPrereqError("Master must remain master"
                                           " capable", errors.ECODE_STATE)
            self.log_info("Demoting from master candidate")
            op.master_candidate = False
        self.new_role = self._new_role()
        if self.old_role == _ROLE_OFFLINE and self.new_role != self.old_role:
            result = self.rpc.call_single("version", node.name, [])
            if result.fail_msg:
                raise errors.OpPrereqError(
                    "Node %s is being de-offlined but fails to report its"
                    " version: %s" % (node.name, result.fail_msg),
                    errors.ECODE_STATE)
            self.log_warning("Transitioning node from offline to online state"
                             " without using re-add. Please make sure the"
                             " node is healthy!")
        if op.secondary_ip:
            self._check_secondary_ip(node)
        if op.ndparams:
            self.new_ndparams = dict(node.ndparams or {})
            for key, value in op.ndparams.items():
                if value is None or value == VALUE_DEFAULT:
                    self.new_ndparams.pop(key, None)
                else:
                    self.new_ndparams[key] = value
            _check_ndparams(self.new_ndparams)
        self.node = node

    def _new_role(self):
        op = self.op
        if op.master_candidate:
            return _ROLE_CANDIDATE
        if op.drained:
            return _ROLE_DRAINED
        if op.offline:
            return _ROLE_OFFLINE
        if False in (op.master_candidate, op.drained, op.offline):
            return _ROLE_REGULAR
        return self.old_role

    def _check_secondary_ip(self, node):
        sip = self.op.secondary_ip
        master = self.cfg.get_node_info(self.cfg.get_master_node())
        master_single = master.secondary_ip == master.primary_ip
        if master_single and sip != node.primary_ip:
            if self.op.force and node.uuid == master.uuid:
                self.log_warning("Transitioning from single-homed to"
                                 " multi-homed cluster; all nodes will"
                                 " require a secondary IP address")
            else:
                raise errors.OpPrereqError(
                    "Changing the secondary ip on a single-homed cluster"
                    " requires the --force option to be passed, and the"
                    " target node to be the master", errors.ECODE_INVAL)
        elif not master_single and sip == node.primary_ip:
            if self.op.force and node.uuid == master.uuid:
                self.log_warning("Transitioning from multi-homed to"
                                 " single-homed cluster; secondary IP"
                                 " addresses will have to be removed")
            else:
                raise errors.OpPrereqError(
                    "Cannot set the secondary IP to be the same as the"
                    " primary IP on a multi-homed cluster, unless the"
                    " --force option is passed, and the target node is the"
                    " master", errors.ECODE_INVAL)
        if node.offline:
            if instances_on_node(self.cfg, node.uuid):
                raise errors.OpPrereqError(
                    "Cannot change secondary IP address: offline node has"
                    " instances (%s) configured to use it" %
                    ", ".join(instances_on_node(self.cfg, node.uuid)),
                    errors.ECODE_STATE)
            return
        check_node_has_ip(self.rpc, node.name, sip, "secondary", True)
        if master.uuid != node.uuid:
            if not bootstrap.tcp_ping(sip, constants.DEFAULT_NODED_PORT,
                                      source=master.secondary_ip):
                raise errors.OpPrereqError(
                    "Node secondary ip not reachable by TCP based ping to"
                    " node daemon port", errors.ECODE_ENVIRON)

    def exec_(self, feedback_fn):
        op = self.op
        node = self.cfg.get_node_info(self.node_uuid)
        result = []
        if op.ndparams:
            node.ndparams = self.new_ndparams
        if op.powered is not None:
            node.powered = op.powered
        if op.hv_state:
            node.hv_state_static = op.hv_state
        if op.disk_state:
            node.disk_state_static = op.disk_state
        for attr in ("master_capable", "vm_capable"):
            value = getattr(op, attr)
            if value is not None:
                setattr(node, attr, value)
                result.append((attr, str(value)))
        if op.secondary_ip:
            node.secondary_ip = op.secondary_ip
            result.append(("secondary_ip", op.secondary_ip))
        if self.new_role != self.old_role:
            new_flags = _ROLE_TO_FLAGS[self.new_role]
            for old, new, desc in zip(self.old_flags, new_flags,
                                      _ROLE_FLAGS):
                if old != new:
                    result.append((desc, str(new)))
            (node.master_candidate, node.drained, node.offline) = new_flags
        self.cfg.update(node)
        if self.new_role != self.old_role:
            if (self.old_role == _ROLE_CANDIDATE and
                    self.new_role != _ROLE_OFFLINE):
                msg = self.rpc.call_single("node_demote_from_mc", node.name,
                                           []).fail_msg
                if msg:
                    self.log_warning("Node failed to demote itself: %s", msg)
            if self.lock_all:
                adjust_candidate_pool(self, [node.uuid])
            else:
                sync_candidate_certs(self.cfg)
        return result
