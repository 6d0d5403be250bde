"""Cluster-wide logical units: post-init, destroy, queries, parameters,
configuration redistribution and the master IP.

Cluster verification lives in ``cluster_verify``.
"""

from ganeti import bootstrap
from ganeti import config_sync
from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu


def _query_context(lu):
    from ganeti import query
    return query.QueryContext(lu.cfg, lu.rpc, lu.context.jqueue,
                              lu.context.master_name)


class LUClusterPostInit(base.LogicalUnit):
    """Runs after ``gnt-cluster init``; its only effect is the post hooks."""

    HPATH = "cluster-init"
    HTYPE = "CLUSTER"

    def build_hooks_env(self):
        return {"OP_TARGET": self.cfg.get_cluster_name()}

    def build_hooks_nodes(self):
        return [], [self.cfg.get_master_node_name()]

    def exec_(self, feedback_fn):
        node_lu.sync_candidate_certs(self.cfg)
        return True


class LUClusterDestroy(base.LogicalUnit):
    """Last step before the master tears itself down (the CLI then calls
    ``bootstrap.finalize_cluster_destroy``); only the master may be left."""

    HPATH = "cluster-destroy"
    HTYPE = "CLUSTER"
    REQ_BGL = True

    def build_hooks_env(self):
        return {"OP_TARGET": self.cfg.get_cluster_name()}

    def build_hooks_nodes(self):
        return [], []

    def check_prereq(self):
        master = self.cfg.get_master_node()
        nodes = self.cfg.get_node_list()
        if len(nodes) != 1 or nodes[0] != master:
            raise errors.OpPrereqError("There are still %d node(s) in this"
                                       " cluster." % (len(nodes) - 1),
                                       errors.ECODE_INVAL)
        instances = self.cfg.get_instance_list()
        if instances:
            raise errors.OpPrereqError("There are still %d instance(s) in"
                                       " this cluster." % len(instances),
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        params = node_lu.master_params(self.cfg)
        result = self.rpc.call_single(
            "node_deactivate_master_ip", params["name"],
            [params, self.cfg.get_use_external_mip_script()])
        if result.fail_msg:
            self.log_warning("Error disabling the master IP address: %s",
                             result.fail_msg)
        return params["uuid"]


class LUClusterQuery(base.NoHooksLU):
    """The cluster's description (same dict as LUXI QueryClusterInfo)."""

    def exec_(self, feedback_fn):
        from ganeti.query import luxi_helpers
        return luxi_helpers.cluster_info(_query_context(self))


class LUClusterConfigQuery(base.NoHooksLU):
    """Selected configuration values (LUXI QueryConfigValues)."""

    def exec_(self, feedback_fn):
        from ganeti.query import luxi_helpers
        return luxi_helpers.config_values(_query_context(self),
                                          self.op.output_fields)


class LUClusterRedistConf(base.NoHooksLU):
    """Push config.data, ssconf and the other cluster files again."""

    def expand_names(self):
        self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET
        self.share_locks[constants.LOCKS_NODE] = 1

    def exec_(self, feedback_fn):
        # An explicit redistribution tries every node again, also those
        # the background pushes are skipping after failures.
        if self.context.node_backoff is not None:
            self.context.node_backoff.clear()
        # Rewriting the cluster object makes the ConfigWriter distribute
        # config.data; it sends ssconf only when the values changed, so a
        # node whose files were damaged gets them here.
        self.cfg.update(self.cfg.get_cluster_info())
        online = [node.name for node in self.cfg.get_all_nodes_info().values()
                  if not node.offline]
        results = self.rpc.call("write_ssconf_files", sorted(online),
                                [self.cfg.get_ssconf_values()])
        for name in sorted(results):
            if results[name].fail_msg:
                self.log_warning("Can't write ssconf files on node %s: %s",
                                 name, results[name].fail_msg)
        config_sync.redistribute_files(self.cfg, self.rpc,
                                       feedback_fn=feedback_fn,
                                       with_config=False)
        return None


class _MasterIpLU(base.NoHooksLU):
    PROCEDURE = None
    FAILURE = None

    def exec_(self, feedback_fn):
        params = node_lu.master_params(self.cfg)
        self.rpc.call_single(
            self.PROCEDURE, params["name"],
            [params, self.cfg.get_use_external_mip_script()]
        ).raise_on_failure(self.FAILURE)
        return None


class LUClusterActivateMasterIp(_MasterIpLU):
    PROCEDURE = "node_activate_master_ip"
    FAILURE = "Could not activate the master IP"


class LUClusterDeactivateMasterIp(_MasterIpLU):
    PROCEDURE = "node_deactivate_master_ip"
    FAILURE = "Could not deactivate the master IP"


# --- OP_CLUSTER_SET_PARAMS ---

# opcode field -> cluster attribute, for values that are simply replaced
_SIMPLE_FIELDS = (
    ("candidate_pool_size", "candidate_pool_size"),
    ("max_running_jobs", "max_running_jobs"),
    ("max_tracked_jobs", "max_tracked_jobs"),
    ("maintain_node_health", "maintain_node_health"),
    ("prealloc_wipe_disks", "prealloc_wipe_disks"),
    ("default_iallocator", "default_iallocator"),
    ("default_iallocator_params", "default_iallocator_params"),
    ("mac_prefix", "mac_prefix"),
    ("use_external_mip_script", "use_external_mip_script"),
    ("modify_etc_hosts", "modify_etc_hosts"),
    ("file_storage_dir", "file_storage_dir"),
    ("shared_file_storage_dir", "shared_file_storage_dir"),
    ("gluster_storage_dir", "gluster_storage_dir"),
    ("install_image", "install_image"),
    ("zeroing_image", "zeroing_image"),
    ("compression_tools", "compression_tools"),
    ("enabled_user_shutdown", "enabled_user_shutdown"),
    ("reserved_lvs", "reserved_lvs"),
    ("uid_pool", "uid_pool"),
    ("drbd_helper", "drbd_usermode_helper"),
    ("instance_communication_network", "instance_communication_network"),
    ("enabled_hypervisors", "enabled_hypervisors"),
    ("enabled_disk_templates", "enabled_disk_templates"),
    ("hv_state", "hv_state_static"),
    ("disk_state", "disk_state_static"),
)
# opcode field -> cluster attribute, for {key: {param: value}} merges
_NESTED_FIELDS = (
    ("hvparams", "hvparams"),
    ("diskparams", "diskparams"),
)
# opcode field -> cluster attribute, for {os: {param: value}} merges where
# None or "default" removes a parameter and an emptied OS entry goes away
_OSPARAM_FIELDS = (
    ("osparams", "osparams"),
    ("osparams_private_cluster", "osparams_private_cluster"),
)


def _merge(current, changes):
    """``current`` updated with ``changes``; None values drop a key."""
    result = dict(current or {})
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _merge_osparams(current, changes):
    result = dict((k, dict(v)) for k, v in (current or {}).items())
    for os_name, values in changes.items():
        params = dict(result.get(os_name, {}))
        for key, value in (values or {}).items():
            if value is None or value == "default":
                params.pop(key, None)
            else:
                params[key] = value
        if params:
            result[os_name] = params
        else:
            result.pop(os_name, None)
    return result


def _merge_os_hvp(current, changes):
    """Per-OS hypervisor parameters: parameters of one hypervisor are
    updated, a hypervisor given as None is dropped."""
    result = dict((os_name, dict((hv, dict(p)) for hv, p in hvs.items()))
                  for os_name, hvs in (current or {}).items())
    for os_name, hvs in changes.items():
        entry = result.setdefault(os_name, {})
        for hv_name, params in (hvs or {}).items():
            if params is None:
                entry.pop(hv_name, None)
            else:
                entry.setdefault(hv_name, {}).update(params)
    return result


def _check_known_params(kind, defaults, name, values):
    """Refuse an unknown ``kind`` (a hypervisor or disk template: the keys
    of ``defaults``) and parameters that ``name`` does not have."""
    known = defaults.get(name)
    if known is None:
        raise errors.OpPrereqError("Unknown %s '%s'" % (kind, name),
                                   errors.ECODE_INVAL)
    extra = sorted(set(values) - set(known))
    if extra:
        raise errors.OpPrereqError("Invalid parameters for %s %s: %s" %
                                   (kind, name, ", ".join(extra)),
                                   errors.ECODE_INVAL)


def _apply_os_list(current, mods, desc, feedback_fn):
    """Ganeti's (action, os) modifications of hidden/blacklisted OSes."""
    result = list(current or [])
    for action, name in mods:
        if action == "add":
            if name in result:
                feedback_fn("OS %s already in %s, ignoring" % (name, desc))
            else:
                result.append(name)
        elif action == "remove":
            if name in result:
                result.remove(name)
            else:
                feedback_fn("OS %s not found in %s, ignoring" % (name, desc))
        else:
            raise errors.OpPrereqError("Invalid OS modification '%s'" %
                                       action, errors.ECODE_INVAL)
    return result


class LUClusterSetParams(base.LogicalUnit):
    """Change cluster parameters (``gnt-cluster modify``)."""

    HPATH = "cluster-modify"
    HTYPE = "CLUSTER"

    def check_arguments(self):
        op = self.op
        if op.mac_prefix is not None:
            bootstrap.check_mac_prefix(op.mac_prefix)
        if op.enabled_hypervisors is not None:
            bootstrap.check_enabled_list(op.enabled_hypervisors,
                                         constants.HYPER_TYPES,
                                         "hypervisors")
        if op.enabled_disk_templates is not None:
            bootstrap.check_enabled_list(op.enabled_disk_templates,
                                         constants.DISK_TEMPLATES,
                                         "disk templates")
        if op.compression_tools is not None:
            bootstrap.check_compression_tools(op.compression_tools)
        if op.master_netmask is not None and not (
                isinstance(op.master_netmask, int) and
                0 < op.master_netmask <= 128):
            raise errors.OpPrereqError("Invalid netmask '%s'" %
                                       op.master_netmask, errors.ECODE_INVAL)
        for path in (op.file_storage_dir, op.shared_file_storage_dir):
            if path:
                bootstrap.check_file_storage_path(path)

    def expand_names(self):
        for level in (constants.LOCKS_NODE, constants.LOCKS_INSTANCE,
                      constants.LOCKS_NODEGROUP):
            self.needed_locks[level] = base.ALL_SET
            self.share_locks[level] = 1

    def build_hooks_env(self):
        return {"OP_TARGET": self.cfg.get_cluster_name(),
                "NEW_VG_NAME": self.op.vg_name}

    def build_hooks_nodes(self):
        master = self.cfg.get_master_node_name()
        return [master], [master]

    def check_prereq(self):
        op = self.op
        cluster = self.cfg.get_cluster_info()
        if op.default_iallocator:
            from ganeti import iallocator
            iallocator.check_default_allocator(op.default_iallocator)
        if op.enabled_disk_templates is not None:
            used = set()
            for uuid in self.cfg.get_instance_list():
                used.add(self.cfg.get_instance_disk_template(uuid))
            missing = sorted(used - set(op.enabled_disk_templates) -
                             set([None]))
            if missing:
                raise errors.OpPrereqError(
                    "Cannot disable disk template(s) %s, as instances use"
                    " them" % ", ".join(missing), errors.ECODE_STATE)
        if op.hvparams:
            for hv_name, values in op.hvparams.items():
                _check_known_params("hypervisor", constants.HVC_DEFAULTS,
                                    hv_name, values)
        for os_name, hvs in (op.os_hvp or {}).items():
            for hv_name, values in (hvs or {}).items():
                _check_known_params("hypervisor", constants.HVC_DEFAULTS,
                                    hv_name, values or {})
        self._check_osparams(cluster)
        if op.beparams:
            bootstrap.check_param_types(cluster.fill_be(op.beparams),
                                        constants.BES_PARAMETER_TYPES,
                                        "backend")
        if op.ndparams:
            bootstrap.check_param_types(_merge(cluster.fill_nd(),
                                               op.ndparams),
                                        constants.NDS_PARAMETER_TYPES, "node")
        if op.nicparams:
            mode = cluster.fill_nic(op.nicparams)[constants.NIC_MODE]
            if mode not in constants.NIC_VALID_MODES:
                raise errors.OpPrereqError("Invalid NIC mode '%s'" % mode,
                                           errors.ECODE_INVAL)
        if op.diskparams:
            for template, values in op.diskparams.items():
                _check_known_params("disk template",
                                    constants.DISK_DT_DEFAULTS, template,
                                    values)

    def exec_(self, feedback_fn):
        op = self.op
        cluster = self.cfg.get_cluster_info()
        old_netdev = cluster.master_netdev
        old_netmask = cluster.master_netmask
        for field, attr in _SIMPLE_FIELDS:
            value = getattr(op, field)
            if value is not None:
                setattr(cluster, attr, value)
        for field, attr in _NESTED_FIELDS:
            changes = getattr(op, field)
            if changes:
                merged = dict(getattr(cluster, attr) or {})
                for key, values in changes.items():
                    merged[key] = _merge(merged.get(key), values or {})
                setattr(cluster, attr, merged)
        for field, attr in _OSPARAM_FIELDS:
            changes = getattr(op, field)
            if changes:
                setattr(cluster, attr,
                        _merge_osparams(getattr(cluster, attr), changes))
        if op.os_hvp:
            cluster.os_hvp = _merge_os_hvp(cluster.os_hvp, op.os_hvp)
        for field in ("beparams", "nicparams"):
            changes = getattr(op, field)
            if changes:
                current = getattr(cluster, field) or {}
                current["default"] = _merge(current.get("default"), changes)
                setattr(cluster, field, current)
        if op.ndparams:
            cluster.ndparams = _merge(cluster.ndparams, op.ndparams)
        if op.ipolicy:
            cluster.ipolicy = _merge(cluster.ipolicy, op.ipolicy)
        if op.vg_name is not None:
            cluster.volume_group_name = op.vg_name or None
        for field, desc in (("hidden_os", "hidden OS list"),
                            ("blacklisted_os", "blacklisted OS list")):
            mods = getattr(op, field)
            if mods:
                setattr(cluster, field, _apply_os_list(
                    getattr(cluster, field), mods, desc, feedback_fn))
        if op.add_uids:
            cluster.uid_pool = list(cluster.uid_pool or []) + [
                r for r in op.add_uids if r not in (cluster.uid_pool or [])]
        if op.remove_uids:
            cluster.uid_pool = [r for r in cluster.uid_pool or []
                                if r not in op.remove_uids]
        self._set_data_collectors(cluster)
        netdev_changed = (op.master_netdev is not None and
                          op.master_netdev != old_netdev)
        if netdev_changed:
            self._master_ip("node_deactivate_master_ip", feedback_fn,
                            "Could not disable the master ip")
            cluster.master_netdev = op.master_netdev
        if op.master_netmask is not None:
            cluster.master_netmask = op.master_netmask
        self.cfg.update(cluster)
        if op.master_netmask is not None and op.master_netmask != \
                old_netmask and not netdev_changed:
            result = self.rpc.call_single(
                "node_change_master_netmask",
                self.cfg.get_master_node_name(),
                [old_netmask, op.master_netmask, cluster.master_ip,
                 cluster.master_netdev])
            if result.fail_msg:
                feedback_fn("Could not change the master IP netmask: %s" %
                            result.fail_msg)
        if netdev_changed:
            self._master_ip("node_activate_master_ip", feedback_fn,
                            "Could not re-enable the master ip on the master,"
                            " please restart manually")
        if op.candidate_pool_size is not None:
            node_lu.adjust_candidate_pool(self, [])
        return None

    def _check_osparams(self, cluster):
        """Ganeti checks changed OS parameters with the OS's own verify
        script on the master (an OS missing there is not checked)."""
        from ganeti import osapi
        op = self.op
        if not (op.osparams or op.osparams_private_cluster):
            return
        new_public = _merge_osparams(cluster.osparams, op.osparams or {})
        new_private = _merge_osparams(cluster.osparams_private_cluster,
                                      op.osparams_private_cluster or {})
        master = self.cfg.get_master_node_name()
        changed = set(op.osparams or {}) | set(
            op.osparams_private_cluster or {})
        for os_name in sorted(changed):
            params = osapi.fill_os_params(cluster, os_name,
                                          new_public.get(os_name, {}),
                                          new_private.get(os_name, {}))
            result = self.rpc.call_single(
                "os_validate", master,
                [False, os_name, [osapi.VALIDATE_PARAMETERS], params, False])
            result.raise_on_failure("OS Parameters validation failed on"
                                    " node %s" % master)
            if not result.payload:
                self.log_info("OS %s not found on node %s, validation"
                              " skipped", os_name, master)

    def _set_data_collectors(self, cluster):
        collectors = dict((name, dict(settings)) for name, settings in
                          (cluster.data_collectors or {}).items())
        for name, active in (self.op.enabled_data_collectors or {}).items():
            if name not in constants.DATA_COLLECTOR_NAMES:
                raise errors.OpPrereqError("Unknown data collector '%s'" %
                                           name, errors.ECODE_INVAL)
            collectors.setdefault(name, {})["active"] = bool(active)
        for name, interval in (self.op.data_collector_interval or
                               {}).items():
            if name not in constants.DATA_COLLECTOR_NAMES:
                raise errors.OpPrereqError("Unknown data collector '%s'" %
                                           name, errors.ECODE_INVAL)
            collectors.setdefault(name, {})["interval"] = interval
        cluster.data_collectors = collectors

    def _master_ip(self, procedure, feedback_fn, message):
        params = node_lu.master_params(self.cfg)
        result = self.rpc.call_single(
            procedure, params["name"],
            [params, self.cfg.get_use_external_mip_script()])
        if result.fail_msg:
            feedback_fn("%s: %s" % (message, result.fail_msg))
