"""Answers of the LUXI calls that are not generic queries.

``QueryClusterInfo`` (also RAPI ``/2/info``), ``QueryConfigValues``,
``QueryTags`` and the pre-query2 calls (``QueryNodes``, ``QueryInstances``,
``QueryGroups``: plain value rows) are built here from the config
snapshot, so masterd answers them without going through the job queue.
"""

from ganeti import constants
from ganeti import errors
from ganeti.config import derived
from ganeti.query import common
from ganeti.query import fields_cluster
from ganeti import query as query_engine

_T = constants


def _data_collectors(cluster):
    """Every known collector with its (filled) settings."""
    result = dict((name, {"active": True,
                          "interval": _T.DATA_COLLECTOR_INTERVAL})
                  for name in _T.DATA_COLLECTOR_NAMES)
    for name, settings in (cluster.data_collectors or {}).items():
        result.setdefault(name, {}).update(settings or {})
    return result


def cluster_info(context):
    """The ``QueryClusterInfo`` dict (same keys as RAPI ``/2/info``)."""
    data = context.cfg.get_config_snapshot()
    cluster = data.cluster
    enabled_hvs = list(cluster.enabled_hypervisors or [])
    os_hvp = {}
    for os_name, hv_dict in (cluster.os_hvp or {}).items():
        os_hvp[os_name] = dict((hv, common.dict_copy(params))
                               for hv, params in hv_dict.items()
                               if hv in enabled_hvs)
    collectors = _data_collectors(cluster)
    if cluster.primary_ip_family == _T.IP6_FAMILY:
        ip_version = 6
    else:
        ip_version = 4
    return {
        "software_version": _T.RELEASE_VERSION,
        "protocol_version": _T.PROTOCOL_VERSION,
        "config_version": _T.CONFIG_VERSION,
        "os_api_version": max(_T.OS_API_VERSIONS),
        "export_version": _T.EXPORT_VERSION,
        "vcs_version": _T.VCS_VERSION,
        "architecture": fields_cluster.architecture(),
        "name": cluster.cluster_name,
        "master": derived.master_node_name(data),
        "default_hypervisor": derived.default_hypervisor(cluster),
        "enabled_hypervisors": enabled_hvs,
        "hvparams": dict((hv, cluster.fill_hv(hv)) for hv in _T.HYPER_TYPES),
        "os_hvp": os_hvp,
        "beparams": {"default": cluster.fill_be()},
        "osparams": common.dict_copy(cluster.osparams),
        "ipolicy": cluster.fill_ipolicy(),
        "nicparams": {"default": cluster.fill_nic()},
        "ndparams": cluster.fill_nd(),
        "diskparams": cluster.fill_diskparams(),
        "candidate_pool_size": cluster.candidate_pool_size,
        "max_running_jobs": cluster.max_running_jobs,
        "max_tracked_jobs": cluster.max_tracked_jobs,
        "mac_prefix": cluster.mac_prefix,
        "master_netdev": cluster.master_netdev,
        "master_netmask": cluster.master_netmask,
        "use_external_mip_script": bool(cluster.use_external_mip_script),
        "volume_group_name": cluster.volume_group_name,
        "drbd_usermode_helper": cluster.drbd_usermode_helper,
        "file_storage_dir": cluster.file_storage_dir,
        "shared_file_storage_dir": cluster.shared_file_storage_dir,
        "gluster_storage_dir": cluster.gluster_storage_dir,
        "maintain_node_health": bool(cluster.maintain_node_health),
        "ctime": cluster.ctime,
        "mtime": cluster.mtime,
        "uuid": cluster.uuid,
        "tags": list(cluster.tags or []),
        "uid_pool": common.dict_copy(cluster.uid_pool) or [],
        "default_iallocator": cluster.default_iallocator,
        "default_iallocator_params":
            common.dict_copy(cluster.default_iallocator_params),
        "reserved_lvs": list(cluster.reserved_lvs or []),
        "primary_ip_version": ip_version,
        "prealloc_wipe_disks": bool(cluster.prealloc_wipe_disks),
        "hidden_os": list(cluster.hidden_os or []),
        "blacklisted_os": list(cluster.blacklisted_os or []),
        "enabled_disk_templates": list(cluster.enabled_disk_templates or []),
        "install_image": cluster.install_image or "",
        "instance_communication_network":
            cluster.instance_communication_network or "",
        "zeroing_image": cluster.zeroing_image or "",
        "compression_tools": list(cluster.compression_tools or []),
        "enabled_user_shutdown": bool(cluster.enabled_user_shutdown),
        "enabled_data_collectors":
            dict((name, bool(s.get("active", True)))
                 for name, s in collectors.items()),
        "data_collector_interval":
            dict((name, s.get("interval", _T.DATA_COLLECTOR_INTERVAL))
                 for name, s in collectors.items()),
        "modify_ssh_setup": bool(cluster.modify_ssh_setup),
        "ssh_key_type": cluster.ssh_key_type,
        "ssh_key_bits": cluster.ssh_key_bits,
        "vg_name": cluster.volume_group_name,
        "drbd_helper": cluster.drbd_usermode_helper,
    }


CONFIG_VALUE_FIELDS = ("cluster_name", "master_node", "drain_flag",
                       "watcher_pause", "volume_group_name",
                       "modify_ssh_setup", "ssh_key_type", "ssh_key_bits")


def config_values(context, fields):
    """``QueryConfigValues``: one value per requested field name."""
    data = context.cfg.get_config_snapshot()
    cluster = data.cluster
    getters = {
        "cluster_name": lambda: cluster.cluster_name,
        "master_node": lambda: derived.master_node_name(data),
        "drain_flag": fields_cluster.drain_flag,
        "watcher_pause": fields_cluster.watcher_pause,
        "volume_group_name": lambda: cluster.volume_group_name,
        "modify_ssh_setup": lambda: bool(cluster.modify_ssh_setup),
        "ssh_key_type": lambda: cluster.ssh_key_type,
        "ssh_key_bits": lambda: cluster.ssh_key_bits,
    }
    result = []
    for field in fields:
        getter = getters.get(field)
        if getter is None:
            raise errors.ParameterError(field)
        result.append(getter())
    return result


_TAG_COLLECTIONS = {
    _T.TAG_NODE: ("nodes", "Node"),
    _T.TAG_INSTANCE: ("instances", "Instance"),
    _T.TAG_NODEGROUP: ("nodegroups", "NodeGroup"),
    _T.TAG_NETWORK: ("networks", "Network"),
}


def tags(context, kind, name):
    """``QueryTags``: the tags of one object, sorted."""
    data = context.cfg.get_config_snapshot()
    if kind == _T.TAG_CLUSTER:
        obj = data.cluster
    elif kind in _TAG_COLLECTIONS:
        collection, kind_name = _TAG_COLLECTIONS[kind]
        if name is None:
            raise errors.OpPrereqError("Missing name for tag type %s" % kind,
                                       errors.ECODE_INVAL)
        obj = common.lookup_item(getattr(data, collection), name, kind_name)
    else:
        raise errors.OpPrereqError("Invalid tag type '%s'" % (kind,),
                                   errors.ECODE_INVAL)
    return sorted(obj.tags or [])


_COMPAT_NAME_FIELD = {
    _T.QR_JOB: "id",
}


def query_compat(context, what, names, fields):
    """Pre-query2 answer: rows of plain values (None where a cell has no
    data); unknown fields are an error, as in Ganeti."""
    name_field = _COMPAT_NAME_FIELD.get(what, "name")
    qfilter = None
    if names:
        qfilter = ["|"] + [["==", name_field, name] for name in names]
    result = query_engine.query(what, fields, qfilter, context)
    unknown = [f["name"] for f in result["fields"]
               if f["kind"] == _T.QFT_UNKNOWN]
    if unknown:
        raise errors.OpPrereqError("Unknown output fields selected: %s" %
                                   ", ".join(unknown), errors.ECODE_INVAL)
    return [[value for _, value in row] for row in result["data"]]
