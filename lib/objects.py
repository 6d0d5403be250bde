"""Configuration objects with explicit wire forms (``to_dict``/``from_dict``).

Each class lists its fields once; the dict form is exactly the one stored in
``config.data`` (Ganeti 3.0 layout) and sent over RPC.
"""

import copy
import time

from ganeti import constants


def upgrade_be_params(beparams):
    """A copy of ``beparams`` with the pre-2.6 ``memory`` turned into
    ``maxmem`` and ``minmem`` (limits given explicitly win)."""
    result = dict(beparams or {})
    memory = result.pop(constants.BE_MEMORY, None)
    if memory is not None:
        result.setdefault(constants.BE_MAXMEM, memory)
        result.setdefault(constants.BE_MINMEM, memory)
    return result


class ConfigObject:
    """Base: attributes are the declared FIELDS; missing ones read as None."""

    FIELDS = ()
    # field -> class for nested objects (single) or ("list"/"dict", class)
    NESTED = {}

    def __init__(self, **kwargs):
        for name in self.FIELDS:
            setattr(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError("%s: unknown fields %s" %
                            (type(self).__name__, sorted(kwargs)))

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__,
                            getattr(self, "name", None) or
                            getattr(self, "uuid", None))

    def to_dict(self):
        result = {}
        for name in self.FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            kind = self.NESTED.get(name)
            if kind is None:
                result[name] = copy.deepcopy(value)
            elif isinstance(kind, tuple) and kind[0] == "list":
                result[name] = [v.to_dict() for v in value]
            elif isinstance(kind, tuple) and kind[0] == "dict":
                result[name] = dict((k, v.to_dict()) for k, v in value.items())
            else:
                result[name] = value.to_dict()
        return result

    @classmethod
    def from_dict(cls, data):
        if data is None:
            return None
        kwargs = {}
        for name in cls.FIELDS:
            if name not in data:
                continue
            value = data[name]
            kind = cls.NESTED.get(name)
            if kind is None or value is None:
                kwargs[name] = copy.deepcopy(value)
            elif isinstance(kind, tuple) and kind[0] == "list":
                kwargs[name] = [kind[1].from_dict(v) for v in value]
            elif isinstance(kind, tuple) and kind[0] == "dict":
                kwargs[name] = dict((k, kind[1].from_dict(v))
                                    for k, v in value.items())
            else:
                kwargs[name] = kind.from_dict(value)
        obj = cls(**kwargs)
        obj.upgrade_config()
        return obj

    def copy(self):
        return type(self).from_dict(self.to_dict())

    def upgrade_config(self):
        """Fill defaults for fields an older writer may have left out."""


class TaggableObject(ConfigObject):
    def get_tags(self):
        if self.tags is None:
            self.tags = []
        return self.tags

    def add_tag(self, tag):
        tags = self.get_tags()
        if tag not in tags:
            tags.append(tag)

    def remove_tag(self, tag):
        self.get_tags().remove(tag)


def _touch(obj, now=None):
    """Bump serial_no and mtime of a config object."""
    obj.serial_no = (obj.serial_no or 0) + 1
    obj.mtime = now if now is not None else time.time()


_TIMESTAMPS = ("ctime", "mtime")
_SERIAL = ("serial_no",)
_UUID = ("uuid",)


class NIC(ConfigObject):
    FIELDS = ("name", "mac", "ip", "network", "nicparams", "netinfo", "pci",
              "hvinfo") + _UUID


class Disk(ConfigObject):
    FIELDS = ("name", "dev_type", "logical_id", "children", "nodes",
              "iv_name", "size", "mode", "params", "spindles", "pci",
              "hvinfo", "forthcoming") + _SERIAL + _UUID + _TIMESTAMPS

    def upgrade_config(self):
        if self.children:
            self.children = [c if isinstance(c, Disk) else Disk.from_dict(c)
                             for c in self.children]
        if self.params is None:
            self.params = {}
        if self.mode is None:
            self.mode = "rw"
        if self.forthcoming is None:
            self.forthcoming = False

    def to_dict(self):
        data = ConfigObject.to_dict(self)
        if self.children is not None:
            data["children"] = [c.to_dict() for c in self.children]
        return data


class Instance(TaggableObject):
    FIELDS = ("name", "primary_node", "secondary_nodes", "os", "hypervisor",
              "hvparams", "beparams", "osparams", "osparams_private",
              "admin_state", "admin_state_source", "nics", "disks",
              "disks_active", "network_port", "forthcoming", "tags") + \
        _SERIAL + _UUID + _TIMESTAMPS
    NESTED = {"nics": ("list", NIC)}

    def upgrade_config(self):
        for name in ("hvparams", "beparams", "osparams", "osparams_private"):
            if getattr(self, name) is None:
                setattr(self, name, {})
        if self.nics is None:
            self.nics = []
        if self.disks is None:
            self.disks = []
        if self.admin_state_source is None:
            self.admin_state_source = constants.ADMIN_SOURCE
        if self.forthcoming is None:
            self.forthcoming = False
        if self.disks_active is None:
            self.disks_active = False

    def to_dict(self):
        data = TaggableObject.to_dict(self)
        data.pop("secondary_nodes", None)  # derived from disks, never stored
        return data


class Node(TaggableObject):
    FIELDS = ("name", "primary_ip", "secondary_ip", "master_candidate",
              "offline", "drained", "group", "master_capable", "vm_capable",
              "ndparams", "powered", "hv_state", "hv_state_static",
              "disk_state", "disk_state_static", "tags") + \
        _SERIAL + _UUID + _TIMESTAMPS

    def upgrade_config(self):
        for name in ("master_candidate", "offline", "drained"):
            if getattr(self, name) is None:
                setattr(self, name, False)
        for name in ("master_capable", "vm_capable", "powered"):
            if getattr(self, name) is None:
                setattr(self, name, True)
        for name in ("ndparams", "hv_state_static", "disk_state_static"):
            if getattr(self, name) is None:
                setattr(self, name, {})


class NodeGroup(TaggableObject):
    FIELDS = ("name", "ndparams", "diskparams", "ipolicy", "hv_state_static",
              "disk_state_static", "alloc_policy", "networks", "tags") + \
        _SERIAL + _UUID + _TIMESTAMPS

    def upgrade_config(self):
        for name in ("ndparams", "diskparams", "ipolicy", "hv_state_static",
                     "disk_state_static", "networks"):
            if getattr(self, name) is None:
                setattr(self, name, {})
        if self.alloc_policy is None:
            self.alloc_policy = constants.ALLOC_POLICY_PREFERRED


class Network(TaggableObject):
    FIELDS = ("name", "network", "network6", "gateway", "gateway6",
              "mac_prefix", "reservations", "ext_reservations", "tags") + \
        _SERIAL + _UUID + _TIMESTAMPS


class Filter(ConfigObject):
    FIELDS = ("watermark", "priority", "predicates", "action",
              "reason_trail") + _SERIAL + _UUID


class Cluster(TaggableObject):
    FIELDS = (
        "rsahostkeypub", "dsahostkeypub", "highest_used_port",
        "tcpudp_port_pool", "mac_prefix", "volume_group_name",
        "reserved_lvs", "drbd_usermode_helper", "master_node", "master_ip",
        "master_netdev", "master_netmask", "use_external_mip_script",
        "cluster_name", "file_storage_dir", "shared_file_storage_dir",
        "gluster_storage_dir", "enabled_hypervisors", "hvparams", "ipolicy",
        "os_hvp", "beparams", "osparams", "osparams_private_cluster",
        "nicparams", "ndparams", "diskparams", "candidate_pool_size",
        "modify_etc_hosts", "modify_ssh_setup", "maintain_node_health",
        "uid_pool", "default_iallocator", "default_iallocator_params",
        "hidden_os", "blacklisted_os", "primary_ip_family",
        "prealloc_wipe_disks", "hv_state_static", "disk_state_static",
        "enabled_disk_templates", "candidate_certs", "max_running_jobs",
        "max_tracked_jobs", "install_image", "instance_communication_network",
        "zeroing_image", "compression_tools", "enabled_user_shutdown",
        "data_collectors", "ssh_key_type", "ssh_key_bits", "tags") + \
        _SERIAL + _UUID + _TIMESTAMPS

    def upgrade_config(self):
        defaults = {
            "hvparams": {}, "os_hvp": {}, "osparams": {},
            "osparams_private_cluster": {}, "beparams": {}, "nicparams": {},
            "ndparams": {}, "diskparams": {}, "ipolicy": {},
            "tcpudp_port_pool": [], "reserved_lvs": [], "uid_pool": [],
            "hidden_os": [], "blacklisted_os": [], "hv_state_static": {},
            "disk_state_static": {}, "candidate_certs": {},
            "enabled_disk_templates": [], "data_collectors": {},
            "default_iallocator_params": {}, "compression_tools":
            list(constants.COMPRESSION_TOOLS_DEFAULT),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        for name in ("use_external_mip_script", "maintain_node_health",
                     "prealloc_wipe_disks", "enabled_user_shutdown"):
            if getattr(self, name) is None:
                setattr(self, name, False)
        if self.max_running_jobs is None:
            self.max_running_jobs = constants.DEFAULT_MAX_RUNNING_JOBS
        if self.max_tracked_jobs is None:
            self.max_tracked_jobs = constants.DEFAULT_MAX_TRACKED_JOBS
        if self.candidate_pool_size is None:
            self.candidate_pool_size = constants.MASTER_POOL_SIZE_DEFAULT

    # Parameters with cluster defaults filled in
    def fill_hv(self, hv_name, overrides=None, os_name=None):
        params = dict(constants.HVC_DEFAULTS.get(hv_name, {}))
        params.update(self.hvparams.get(hv_name, {}))
        if os_name:
            params.update(self.os_hvp.get(os_name, {}).get(hv_name, {}))
        if overrides:
            params.update(overrides)
        return params

    def fill_be(self, overrides=None):
        """Backend parameters with the defaults; the old ``memory`` alias
        is understood at both levels (``upgrade_be_params``)."""
        params = dict(constants.BEC_DEFAULTS)
        params.update(upgrade_be_params(self.beparams.get("default", {})))
        if overrides:
            params.update(upgrade_be_params(overrides))
        return params

    def fill_nic(self, overrides=None):
        params = dict(constants.NICC_DEFAULTS)
        params.update(self.nicparams.get("default", {}))
        if overrides:
            params.update(overrides)
        return params

    def fill_nd(self, node=None, group=None):
        params = dict(constants.NDC_DEFAULTS)
        params.update(self.ndparams)
        if group is not None:
            params.update(group.ndparams)
        if node is not None:
            params.update(node.ndparams)
        return params

    def fill_ipolicy(self, group=None):
        policy = copy.deepcopy(constants.IPOLICY_DEFAULTS)
        policy.update(copy.deepcopy(self.ipolicy))
        if group is not None:
            policy.update(copy.deepcopy(group.ipolicy))
        return policy

    def fill_diskparams(self):
        params = copy.deepcopy(constants.DISK_DT_DEFAULTS)
        for template, values in self.diskparams.items():
            params.setdefault(template, {}).update(values)
        return params


class ConfigData(ConfigObject):
    """The whole ``config.data`` document."""

    FIELDS = ("version", "cluster", "nodes", "nodegroups", "instances",
              "networks", "disks", "filters") + _SERIAL + _TIMESTAMPS
    NESTED = {
        "cluster": Cluster,
        "nodes": ("dict", Node),
        "nodegroups": ("dict", NodeGroup),
        "instances": ("dict", Instance),
        "networks": ("dict", Network),
        "disks": ("dict", Disk),
        "filters": ("dict", Filter),
    }

    def upgrade_config(self):
        for name in ("nodes", "nodegroups", "instances", "networks", "disks",
                     "filters"):
            if getattr(self, name) is None:
                setattr(self, name, {})
        if self.serial_no is None:
            self.serial_no = 1


touch = _touch
