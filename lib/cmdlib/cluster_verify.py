"""Cluster verification: one job for the configuration, one per group.

``OP_CLUSTER_VERIFY`` only submits the jobs. ``OP_CLUSTER_VERIFY_CONFIG``
checks what the master alone can see (configuration consistency,
certificates, hypervisor parameters, dangling nodes and instances).
``OP_CLUSTER_VERIFY_GROUP`` asks every node of a group to run its checks
(``node_verify``) and compares the answers: reachability, versions, clock,
hypervisors, bridges, identical cluster files and ssconf, instances.

Every problem is one feedback line, ``  - ERROR: <type> <item>: <text>``
(with ``error_codes``: ``  - ERROR:<CODE>:<type>:<item>:<text>``), and
the opcode's result is False when any error (not warning) was found.
"""

import time

from ganeti import config_sync
from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import opcodes
from ganeti import pathutils
from ganeti.cmdlib import base
from ganeti.rpc import defs as rpc_defs
from ganeti.utils import text as text_utils

ETYPE_ERROR = "ERROR"
ETYPE_WARNING = "WARNING"
NODE_MAX_CLOCK_SKEW = 150.0
CERT_WARN_DAYS = 30
VERIFY_NPLUSONE_MEM = "nplusone_mem"
NV_INSTANCELIST = "instancelist"

# Ganeti's verify error codes: name -> (item type, code)
CV = dict((code, (itype, code)) for itype, code in (
    ("cluster", "ECLUSTERCFG"),
    ("cluster", "ECLUSTERCERT"),
    ("cluster", "ECLUSTERFILECHECK"),
    ("cluster", "ECLUSTERDANGLINGNODES"),
    ("cluster", "ECLUSTERDANGLINGINST"),
    ("node", "ENODERPC"),
    ("node", "ENODEVERSION"),
    ("node", "ENODEHV"),
    ("node", "ENODESSH"),
    ("node", "ENODENET"),
    ("node", "ENODETIME"),
    ("node", "ENODEFILECHECK"),
    ("node", "ENODEORPHANINSTANCE"),
    ("node", "ENODEN1"),
    ("node", "ENODEHOOKS"),
    ("instance", "EINSTANCEDOWN"),
    ("instance", "EINSTANCEBADNODE"),
    ("instance", "EINSTANCEWRONGNODE"),
))

# Disk templates that survive the loss of the primary node
_MIRRORED = frozenset([constants.DT_DRBD8, constants.DT_SHARED_FILE,
                       constants.DT_BLOCK, constants.DT_RBD, constants.DT_EXT,
                       constants.DT_GLUSTER])


class _Reporter:
    """Formats verify problems and remembers whether an error was seen."""

    def __init__(self, op, feedback_fn):
        self.op = op
        self.feedback_fn = feedback_fn
        self.bad = False

    def error(self, code, item, msg, *args, warning=False):
        itype, etxt = CV[code]
        ltype = ETYPE_WARNING if warning else ETYPE_ERROR
        if etxt in (self.op.ignore_errors or []):
            ltype = ETYPE_WARNING
        if args:
            msg = msg % args
        if self.op.error_codes:
            text = "%s:%s:%s:%s:%s" % (ltype, etxt, itype, item, msg)
        else:
            text = "%s: %s%s: %s" % (ltype, itype,
                                     " " + item if item else "", msg)
        self.feedback_fn("  - %s" % text)
        if ltype == ETYPE_ERROR:
            self.bad = True

    def error_if(self, cond, code, item, msg, *args, **kwargs):
        if cond or self.op.debug_simulate_errors:
            self.error(code, item, msg, *args, **kwargs)


class LUClusterVerify(base.NoHooksLU):
    """Submit the verification jobs: config first, then each group."""

    def exec_(self, feedback_fn):
        op = self.op
        common = dict(debug_simulate_errors=op.debug_simulate_errors,
                      verbose=op.verbose, error_codes=op.error_codes,
                      ignore_errors=list(op.ignore_errors or []))
        jobs = []
        if op.group_name:
            groups = [self.cfg.lookup_node_group(op.group_name)]
            depends = None
        else:
            groups = sorted(self.cfg.get_all_node_groups_info())
            jobs.append([opcodes.OpClusterVerifyConfig(**common)])
            depends = True
        for group in groups:
            jobs.append([opcodes.OpClusterVerifyGroup(
                group_name=group, skip_checks=list(op.skip_checks or []),
                verify_clutter=op.verify_clutter,
                # relative job id: the config job submitted first
                depends=[[-len(jobs), []]] if depends else None,
                **common)])
        return base.ResultWithJobs(jobs)


def verify_certificate(path, now=None):
    """(error type or None, message) for one certificate file."""
    try:
        info = crypto.load_cert_info(path)
    except errors.X509CertError as err:
        return ETYPE_ERROR, "Failed to load X509 certificate %s: %s" % (
            path, err.args[-1] if err.args else err)
    now = time.time() if now is None else now
    if info["not_after"] < now:
        return ETYPE_ERROR, ("While verifying %s: Certificate expired %.0f"
                             " days ago" % (path, (now - info["not_after"]) /
                                            86400))
    days_left = (info["not_after"] - now) / 86400
    if days_left < CERT_WARN_DAYS:
        return ETYPE_WARNING, ("While verifying %s: Certificate expires in"
                               " %d days" % (path, days_left))
    return None, None


class LUClusterVerifyConfig(base.NoHooksLU):
    """Checks the master can make alone."""

    def expand_names(self):
        for level in base.LEVELS[1:]:
            self.needed_locks[level] = base.ALL_SET
            self.share_locks[level] = 1

    def exec_(self, feedback_fn):
        report = _Reporter(self.op, feedback_fn)
        cluster = self.cfg.get_cluster_info()
        nodes = self.cfg.get_all_nodes_info()
        groups = self.cfg.get_all_node_groups_info()
        instances = self.cfg.get_all_instances_info()

        feedback_fn("* Verifying cluster config")
        for msg in self.cfg.verify_config():
            report.error("ECLUSTERCFG", None, msg)

        feedback_fn("* Verifying cluster certificate files")
        for path in (pathutils.NODED_CERT_FILE, pathutils.RAPI_CERT_FILE):
            etype, msg = verify_certificate(path)
            if etype is not None or self.op.debug_simulate_errors:
                report.error("ECLUSTERCERT", None, msg or "",
                             warning=(etype == ETYPE_WARNING))

        feedback_fn("* Verifying hypervisor parameters")
        for source, hv_name, params in _all_hv_params(cluster,
                                                      instances.values()):
            defaults = constants.HVC_DEFAULTS.get(hv_name)
            if defaults is None:
                report.error("ECLUSTERCFG", None, "hypervisor %s parameters"
                             " syntax check (source %s): unknown hypervisor",
                             source, hv_name)
                continue
            unknown = sorted(set(params) - set(defaults))
            report.error_if(unknown, "ECLUSTERCFG", None,
                            "hypervisor %s parameters syntax check (source"
                            " %s): unknown parameters %s", source, hv_name,
                            ", ".join(unknown))

        feedback_fn("* Verifying all nodes belong to an existing group")
        dangling = [node for node in nodes.values()
                    if node.group not in groups]
        dangling_uuids = set(node.uuid for node in dangling)
        pretty = ["%s (%s)" % (node.name, ", ".join(
            inst.name for inst in instances.values()
            if inst.primary_node == node.uuid)) for node in dangling]
        report.error_if(dangling, "ECLUSTERDANGLINGNODES", None,
                        "the following nodes (and their instances) belong to"
                        " a non existing group: %s", ", ".join(pretty))
        no_node = [inst.name for inst in instances.values()
                   if inst.primary_node not in nodes and
                   inst.primary_node not in dangling_uuids]
        report.error_if(no_node, "ECLUSTERDANGLINGINST", None,
                        "the following instances have a non-existing"
                        " primary-node: %s", ", ".join(no_node))
        return not report.bad


def _all_hv_params(cluster, instances):
    """(source, hypervisor, parameters) for cluster, OS and instances."""
    result = []
    for hv_name in cluster.enabled_hypervisors or []:
        result.append(("cluster", hv_name, cluster.fill_hv(hv_name)))
    for os_name, os_hvp in (cluster.os_hvp or {}).items():
        for hv_name, params in os_hvp.items():
            if params:
                result.append(("os %s" % os_name, hv_name,
                               cluster.fill_hv(hv_name, os_name=os_name)))
    for inst in instances:
        if inst.hvparams:
            result.append(("instance %s" % inst.name, inst.hypervisor,
                           cluster.fill_hv(inst.hypervisor, inst.hvparams)))
    return result


class _NodeImage:
    """What the config says about a node, and what it reported."""

    def __init__(self, node):
        self.node = node
        self.pinst = []
        self.sinst = []
        self.sbp = {}          # primary node uuid -> [instance uuids]
        self.instances = None  # running instance names (None: unknown)
        self.mfree = None
        self.rpc_fail = False


class LUClusterVerifyGroup(base.LogicalUnit):
    """Ask every node of one group to check itself; compare the answers."""

    HPATH = "cluster-verify"
    HTYPE = "CLUSTER"

    def expand_names(self):
        self.group_uuid = self.cfg.lookup_node_group(self.op.group_name)
        self.node_uuids = self.cfg.get_group_node_list(self.group_uuid)
        nodes = set(self.node_uuids)
        self.inst_uuids = [uuid for uuid, inst in
                           self.cfg.get_all_instances_info().items()
                           if inst.primary_node in nodes]
        self.needed_locks = {
            constants.LOCKS_INSTANCE: list(self.inst_uuids),
            constants.LOCKS_NODEGROUP: [self.group_uuid],
            constants.LOCKS_NODE: list(self.node_uuids),
        }
        for level in self.needed_locks:
            self.share_locks[level] = 1

    def build_hooks_env(self):
        env = {"CLUSTER_TAGS": " ".join(self.cfg.get_cluster_info().tags or
                                        [])}
        for uuid in self.node_uuids:
            node = self.cfg.get_node_info(uuid)
            if node is not None:
                env["NODE_TAGS_%s" % node.name] = " ".join(node.tags or [])
        return env

    def build_hooks_nodes(self):
        names = [self.cfg.get_node_name(uuid) for uuid in self.node_uuids]
        return [], names

    def check_prereq(self):
        self.group = self.cfg.get_node_group(self.group_uuid)
        self.all_nodes = self.cfg.get_all_nodes_info()
        self.all_insts = self.cfg.get_all_instances_info()
        self.my_nodes = [self.all_nodes[uuid] for uuid in self.node_uuids
                         if uuid in self.all_nodes]
        self.my_insts = [self.all_insts[uuid] for uuid in self.inst_uuids
                         if uuid in self.all_insts]

    # --- data gathering ---

    def _verify_params(self, cluster, master_ip):
        files = config_sync.ancillary_files(cluster, False)
        filelist = sorted(set().union(*files))
        online = [n for n in self.my_nodes if not n.offline]
        params = {
            rpc_defs.NV_VERSION: None,
            rpc_defs.NV_FILELIST: filelist,
            rpc_defs.NV_NODELIST: dict((n.name, n.primary_ip)
                                       for n in online),
            rpc_defs.NV_MASTERIP: master_ip,
            rpc_defs.NV_TIME: None,
            rpc_defs.NV_HYPERVISOR: list(cluster.enabled_hypervisors or []),
            rpc_defs.NV_SSCONF: [],
            NV_INSTANCELIST: list(cluster.enabled_hypervisors or []),
        }
        if cluster.enabled_hypervisors:
            params[rpc_defs.NV_HVINFO] = cluster.enabled_hypervisors[0]
        nic = cluster.fill_nic()
        if nic[constants.NIC_MODE] == constants.NIC_MODE_BRIDGED:
            params[rpc_defs.NV_BRIDGES] = [nic[constants.NIC_LINK]]
        return files, params

    def exec_(self, feedback_fn):
        report = _Reporter(self.op, feedback_fn)
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        master_uuid = cfg.get_master_node()
        n_nodes = len(self.my_nodes)
        feedback_fn("* Verifying group '%s'" % self.group.name)
        feedback_fn("* Gathering data (%d nodes)" % n_nodes)
        files, params = self._verify_params(cluster, cluster.master_ip)
        images = dict((n.uuid, _NodeImage(n)) for n in self.my_nodes)
        for inst in self.my_insts:
            images[inst.primary_node].pinst.append(inst.uuid)
            for snode in inst.secondary_nodes or []:
                img = images.get(snode)
                if img is not None:
                    img.sinst.append(inst.uuid)
                    img.sbp.setdefault(inst.primary_node,
                                       []).append(inst.uuid)

        feedback_fn("* Gathering information about nodes (%d nodes)" %
                    n_nodes)
        names = [n.name for n in self.my_nodes]
        start = time.time()
        hvparams = dict((hv, cluster.fill_hv(hv))
                        for hv in cluster.enabled_hypervisors or [])
        nvinfo = self.rpc.call("node_verify", names,
                               [params, cluster.cluster_name, hvparams])
        end = time.time()
        ssconf_expected = cfg.get_ssconf_values()
        # Files are compared between the group's nodes and the master.
        file_nodes = list(self.my_nodes)
        file_info = dict((n.uuid, nvinfo.get(n.name)) for n in file_nodes)
        if master_uuid not in images:
            master = self.all_nodes[master_uuid]
            file_nodes.append(master)
            file_info[master_uuid] = self.rpc.call_single(
                "node_verify", master.name,
                [{rpc_defs.NV_FILELIST: params[rpc_defs.NV_FILELIST]},
                 cluster.cluster_name, hvparams])

        feedback_fn("* Gathering disk information (%d nodes)" % n_nodes)

        feedback_fn("* Verifying configuration file consistency")
        self._verify_files(report, file_nodes, file_info, files)

        feedback_fn("* Verifying node status")
        n_offline = n_drained = 0
        for node in self.my_nodes:
            img = images[node.uuid]
            if node.offline:
                if self.op.verbose:
                    feedback_fn("* Skipping offline node %s" % node.name)
                n_offline += 1
                continue
            if node.uuid == master_uuid:
                ntype = "master"
            elif node.master_candidate:
                ntype = "master candidate"
            elif node.drained:
                ntype = "drained"
                n_drained += 1
            else:
                ntype = "regular"
            if self.op.verbose:
                feedback_fn("* Verifying node %s (%s)" % (node.name, ntype))
            result = nvinfo.get(node.name)
            msg = result.fail_msg if result is not None else "no result"
            report.error_if(msg, "ENODERPC", node.name,
                            "while contacting node: %s", msg)
            if msg:
                img.rpc_fail = True
                continue
            payload = result.payload
            if not self._verify_node(report, node, payload):
                continue
            self._verify_time(report, node, payload, start, end)
            self._verify_network(report, node, payload, master_uuid)
            self._verify_ssconf(report, node, payload, ssconf_expected)
            if node.vm_capable:
                self._update_node(report, node, payload, img)

        feedback_fn("* Verifying instance status")
        non_redundant, non_balanced, i_offline = [], [], 0
        for inst in self.my_insts:
            if self.op.verbose:
                feedback_fn("* Verifying instance %s" % inst.name)
            if inst.admin_state == constants.ADMINST_OFFLINE:
                i_offline += 1
            self._verify_instance(report, inst, images)
            templates = set(d.dev_type for d in
                            cfg.get_instance_disks(inst.uuid))
            if templates - _MIRRORED:
                non_redundant.append(inst.name)
            if not cluster.fill_be(inst.beparams).get(
                    constants.BE_AUTO_BALANCE, True):
                non_balanced.append(inst.name)

        feedback_fn("* Verifying orphan volumes")
        if VERIFY_NPLUSONE_MEM not in (self.op.skip_checks or []):
            feedback_fn("* Verifying N+1 Memory redundancy")
            self._verify_n_plus_one(report, images, cluster)

        feedback_fn("* Other Notes")
        for count, what in ((len(non_redundant), "non-redundant instance(s)"),
                            (len(non_balanced),
                             "non-auto-balanced instance(s)"),
                            (i_offline, "offline instance(s)"),
                            (n_offline, "offline node(s)"),
                            (n_drained, "drained node(s)")):
            if count:
                feedback_fn("  - NOTICE: %d %s found." % (count, what))
        result = not report.bad
        if self.context.hooks is None:
            # No hooks runner: still report the (empty) hooks phase, as
            # Ganeti always does.
            result = self.hooks_callback(rpc_defs.HOOKS_PHASE_POST, {},
                                         feedback_fn, result)
        return result

    # --- checks ---

    def _verify_files(self, report, nodes, infos, files):
        files_all, files_opt, files_mc, files_vm = files
        master_uuid = self.cfg.get_master_node()
        expected = {}
        for path in files_all:
            expected[path] = set(n.uuid for n in nodes)
        for path in files_mc:
            expected[path] = set(n.uuid for n in nodes
                                 if n.master_candidate or
                                 n.uuid == master_uuid)
        for path in files_vm:
            expected[path] = set(n.uuid for n in nodes if n.vm_capable)
        checksums = dict((path, {}) for path in expected)
        ignore = set()
        for node in nodes:
            if node.offline:
                ignore.add(node.uuid)
                continue
            result = infos.get(node.uuid)
            data = None
            if result is not None and not result.fail_msg and \
                    isinstance(result.payload, dict):
                data = result.payload.get(rpc_defs.NV_FILELIST)
            test = not isinstance(data, dict)
            report.error_if(test, "ENODEFILECHECK", node.name,
                            "Node did not return file checksum data")
            if test:
                ignore.add(node.uuid)
                continue
            for path, digest in data.items():
                if digest is not None and path in checksums:
                    checksums[path].setdefault(digest, set()).add(node.uuid)
        names = dict((n.uuid, n.name) for n in nodes)

        def pretty(uuids):
            return ", ".join(text_utils.nice_sort(names[u] for u in uuids))

        for path in sorted(expected):
            variants = checksums[path]
            having = set().union(*variants.values()) - ignore
            should = expected[path] - ignore
            missing = should - having
            if path in files_opt:
                report.error_if(missing and missing != should,
                                "ECLUSTERFILECHECK", None,
                                "File %s is optional, but it must exist on"
                                " all or no nodes (not found on %s)", path,
                                pretty(missing))
            else:
                report.error_if(missing, "ECLUSTERFILECHECK", None,
                                "File %s is missing from node(s) %s", path,
                                pretty(missing))
                unexpected = having - should
                report.error_if(unexpected, "ECLUSTERFILECHECK", None,
                                "File %s should not exist on node(s) %s",
                                path, pretty(unexpected))
            if len(variants) > 1:
                text = "; ".join(
                    "variant %d on %s" % (idx + 1, pretty(uuids))
                    for idx, (_, uuids) in enumerate(sorted(variants.items())))
                report.error("ECLUSTERFILECHECK", None,
                             "File %s found with %d different checksums (%s)",
                             path, len(variants), text)

    @staticmethod
    def _verify_node(report, node, payload):
        """Basic sanity and versions; False if nothing else can be read."""
        test = not isinstance(payload, dict)
        report.error_if(test, "ENODERPC", node.name,
                        "unable to verify node: no data returned")
        if test:
            return False
        version = payload.get(rpc_defs.NV_VERSION)
        test = not (isinstance(version, (list, tuple)) and len(version) == 2)
        report.error_if(test, "ENODERPC", node.name,
                        "connection to node returned invalid data")
        if test:
            return False
        test = version[0] != constants.PROTOCOL_VERSION
        report.error_if(test, "ENODEVERSION", node.name,
                        "incompatible protocol versions: master %s, node %s",
                        constants.PROTOCOL_VERSION, version[0])
        if test:
            return False
        report.error_if(version[1] != constants.RELEASE_VERSION,
                        "ENODEVERSION", node.name,
                        "software version mismatch: master %s, node %s",
                        constants.RELEASE_VERSION, version[1], warning=True)
        hv_result = payload.get(rpc_defs.NV_HYPERVISOR)
        if node.vm_capable and isinstance(hv_result, dict):
            for hv_name in sorted(hv_result):
                report.error_if(hv_result[hv_name] is not None, "ENODEHV",
                                node.name, "hypervisor %s verify failure:"
                                " '%s'", hv_name, hv_result[hv_name])
        return True

    @staticmethod
    def _verify_time(report, node, payload, start, end):
        try:
            node_time = text_utils.merge_time(payload.get(rpc_defs.NV_TIME))
        except (TypeError, ValueError, IndexError):
            report.error("ENODETIME", node.name, "Node returned invalid time")
            return
        if node_time < start - NODE_MAX_CLOCK_SKEW:
            diff = "%.01fs" % abs(start - node_time)
        elif node_time > end + NODE_MAX_CLOCK_SKEW:
            diff = "%.01fs" % abs(node_time - end)
        else:
            diff = None
        report.error_if(diff is not None, "ENODETIME", node.name,
                        "Node time diverges by at least %s from master node"
                        " time", diff)

    @staticmethod
    def _verify_network(report, node, payload, master_uuid):
        nodelist = payload.get(rpc_defs.NV_NODELIST)
        report.error_if(nodelist is None, "ENODESSH", node.name,
                        "node hasn't returned node ssh connectivity data")
        for other in text_utils.nice_sort(nodelist or {}):
            report.error("ENODESSH", node.name,
                         "ssh communication with node '%s': %s", other,
                         nodelist[other])
        if rpc_defs.NV_MASTERIP not in payload:
            report.error("ENODENET", node.name, "node hasn't returned node"
                         " master IP reachability data")
        elif not payload[rpc_defs.NV_MASTERIP]:
            if node.uuid == master_uuid:
                msg = ("the master node cannot reach the master IP (not"
                       " configured?)")
            else:
                msg = "cannot reach the master IP"
            report.error("ENODENET", node.name, msg)
        missing = payload.get(rpc_defs.NV_BRIDGES)
        if node.vm_capable and missing:
            report.error("ENODENET", node.name, "missing bridges: %s",
                         ", ".join(sorted(missing)))

    @staticmethod
    def _verify_ssconf(report, node, payload, expected):
        """The node's ssconf files must say what the configuration says."""
        actual = payload.get(rpc_defs.NV_SSCONF)
        if not isinstance(actual, dict):
            report.error("ENODEFILECHECK", node.name,
                         "node hasn't returned its ssconf values")
            return
        for key in sorted(expected):
            if key not in actual:
                report.error("ENODEFILECHECK", node.name,
                             "ssconf file for key '%s' is missing", key)
            elif actual[key] != expected[key]:
                report.error("ENODEFILECHECK", node.name,
                             "ssconf value of '%s' differs from the"
                             " configuration", key)

    def _update_node(self, report, node, payload, img):
        """Running instances and free memory, when the node reported them."""
        running = payload.get(NV_INSTANCELIST)
        if isinstance(running, (list, tuple)):
            img.instances = list(running)
            mine = set(self.all_insts[u].name for u in img.pinst)
            known = dict((inst.name, inst) for inst in self.all_insts.values())
            for name in sorted(set(running) - mine):
                if name in known:
                    report.error("EINSTANCEWRONGNODE", name,
                                 "instance should not run on node %s",
                                 node.name)
                else:
                    report.error("ENODEORPHANINSTANCE", node.name,
                                 "node is running unknown instance %s", name)
        hvinfo = payload.get(rpc_defs.NV_HVINFO)
        if isinstance(hvinfo, dict) and "memory_free" in hvinfo:
            try:
                img.mfree = int(hvinfo["memory_free"])
            except (TypeError, ValueError):
                report.error("ENODERPC", node.name,
                             "node returned invalid nodeinfo, check"
                             " hypervisor")

    def _verify_instance(self, report, inst, images):
        pimg = images.get(inst.primary_node)
        pnode = self.all_nodes.get(inst.primary_node)
        pname = pnode.name if pnode is not None else inst.primary_node
        if pnode is None:
            report.error("EINSTANCEBADNODE", inst.name,
                         "instance lives on ghost node %s", pname)
            return
        if pnode.offline:
            report.error_if(inst.admin_state == constants.ADMINST_UP,
                            "EINSTANCEBADNODE", inst.name,
                            "instance is marked as running and lives on"
                            " offline node %s", pname)
            return
        if pimg is None or pimg.rpc_fail or pimg.instances is None:
            return
        running = inst.name in pimg.instances
        report.error_if(inst.admin_state == constants.ADMINST_UP and
                        not running, "EINSTANCEDOWN", inst.name,
                        "instance not running on its primary node %s", pname)
        report.error_if(inst.admin_state != constants.ADMINST_UP and running,
                        "EINSTANCEDOWN", inst.name,
                        "instance is marked as down but running on node %s",
                        pname, warning=True)

    def _verify_n_plus_one(self, report, images, cluster):
        """Each node must be able to take over the auto-balanced instances
        of any one primary node for which it is secondary."""
        for img in images.values():
            if img.mfree is None or img.node.offline:
                continue
            for prinode, inst_uuids in sorted(img.sbp.items()):
                needed = 0
                for uuid in inst_uuids:
                    be = cluster.fill_be(self.all_insts[uuid].beparams)
                    if be.get(constants.BE_AUTO_BALANCE, True):
                        needed += be.get(constants.BE_MINMEM, 0)
                node = self.all_nodes.get(prinode)
                report.error_if(
                    img.mfree < needed, "ENODEN1", img.node.name,
                    "not enough memory to accomodate instance failovers"
                    " should node %s fail (%dMiB needed, %dMiB available)",
                    node.name if node else prinode, needed, img.mfree)

    def hooks_callback(self, phase, results, feedback_fn, lu_result):
        """Report the post hooks; a failed hook makes verify fail."""
        if phase != rpc_defs.HOOKS_PHASE_POST or not self.node_uuids:
            # Only post hooks count, and an empty group runs none.
            return lu_result
        feedback_fn("* Hooks Results")
        report = _Reporter(self.op, feedback_fn)
        for name in text_utils.nice_sort(results or {}):
            res = results[name]
            msg = getattr(res, "fail_msg", None)
            if getattr(res, "offline", False):
                continue
            report.error_if(msg, "ENODEHOOKS", name,
                            "Communication failure in hooks execution: %s",
                            msg)
            if msg:
                continue
            payload = getattr(res, "payload", res) or []
            for script, status, output in payload:
                if status == rpc_defs.HKR_FAIL:
                    report.error("ENODEHOOKS", name, "Script %s failed,"
                                 " output:", script)
                    feedback_fn("      %s" % (output or "").replace(
                        "\n", "\n      "))
        return bool(lu_result) and not report.bad
