"""Compute the ssconf values from a configuration.

The result is ``{key: text}`` for every key of ``ssconf.SSCONF_KEYS``, text
without the trailing newline (the node-side writer adds it). Node lists are
sorted naturally; a value changes only when the facts it lists change, so
comparing two results tells whether nodes must rewrite their files.
"""

from ganeti import constants
from ganeti import ssconf
from ganeti.config import derived
from ganeti.utils import text as text_utils

_fmt = ssconf.format_ssconf_value


def _format_uid_pool(uid_pool):
    lines = []
    for entry in uid_pool or []:
        low, high = entry[0], entry[-1]
        lines.append(str(low) if low == high else "%s-%s" % (low, high))
    return "\n".join(lines)


def _format_hvparams(params):
    return "\n".join("%s=%s" % (key, _fmt(params[key]))
                     for key in sorted(params))


def compute_ssconf_values(data, instance_sorter=None):
    """``{ssconf key: text}`` for ``data`` (a ``ConfigData``).

    ``instance_sorter`` (a ``text_utils.IncrementalNiceSort``), when given,
    keeps the sorted instance list between calls: the writer recomputes
    these values after every change.
    """
    cluster = data.cluster
    nodes = text_utils.nice_sort(list(data.nodes.values()),
                                 key=lambda n: n.name)
    candidates = [n for n in nodes if n.master_candidate]
    online = [n.name for n in nodes if not n.offline]
    offline = [n.name for n in nodes if n.offline]
    names = [i.name for i in data.instances.values() if i.name]
    if instance_sorter is None:
        instances = text_utils.nice_sort(names)
    else:
        instances = instance_sorter.update(names)
    groups = sorted(data.nodegroups.values(), key=lambda g: g.uuid)
    networks = sorted(data.networks.values(), key=lambda n: n.uuid)
    ssh_ports = []
    for node in nodes:
        ndparams = derived.filled_node_ndparams(data, node)
        ssh_ports.append("%s=%s" % (node.name, ndparams.get("ssh_port")))
    certs = cluster.candidate_certs or {}

    values = {
        constants.SS_CLUSTER_NAME: _fmt(cluster.cluster_name),
        constants.SS_CLUSTER_TAGS: _fmt(sorted(cluster.tags or [])),
        constants.SS_FILE_STORAGE_DIR: _fmt(cluster.file_storage_dir),
        constants.SS_SHARED_FILE_STORAGE_DIR:
            _fmt(cluster.shared_file_storage_dir),
        constants.SS_GLUSTER_STORAGE_DIR: _fmt(cluster.gluster_storage_dir),
        constants.SS_MASTER_CANDIDATES: _fmt([n.name for n in candidates]),
        constants.SS_MASTER_CANDIDATES_IPS:
            _fmt([n.primary_ip for n in candidates]),
        constants.SS_MASTER_CANDIDATES_CERTS:
            _fmt(["%s=%s" % (uuid, certs[uuid]) for uuid in sorted(certs)]),
        constants.SS_MASTER_IP: _fmt(cluster.master_ip),
        constants.SS_MASTER_NETDEV: _fmt(cluster.master_netdev),
        constants.SS_MASTER_NETMASK: _fmt(cluster.master_netmask),
        constants.SS_MASTER_NODE: _fmt(derived.master_node_name(data)),
        constants.SS_NODE_LIST: _fmt([n.name for n in nodes]),
        constants.SS_NODE_PRIMARY_IPS:
            _fmt(["%s %s" % (n.name, n.primary_ip) for n in nodes]),
        constants.SS_NODE_SECONDARY_IPS:
            _fmt(["%s %s" % (n.name, n.secondary_ip) for n in nodes]),
        constants.SS_NODE_VM_CAPABLE:
            _fmt(["%s=%s" % (n.name, _fmt(bool(n.vm_capable)))
                  for n in nodes]),
        constants.SS_OFFLINE_NODES: _fmt(offline),
        constants.SS_ONLINE_NODES: _fmt(online),
        constants.SS_PRIMARY_IP_FAMILY:
            _fmt(cluster.primary_ip_family or constants.IP4_FAMILY),
        constants.SS_INSTANCE_LIST: _fmt(instances),
        constants.SS_RELEASE_VERSION: constants.RELEASE_VERSION,
        constants.SS_HYPERVISOR_LIST: _fmt(cluster.enabled_hypervisors or []),
        constants.SS_MAINTAIN_NODE_HEALTH:
            _fmt(bool(cluster.maintain_node_health)),
        constants.SS_UID_POOL: _format_uid_pool(cluster.uid_pool),
        constants.SS_NODEGROUPS:
            _fmt(["%s %s" % (g.uuid, g.name) for g in groups]),
        constants.SS_NETWORKS:
            _fmt(["%s %s" % (n.uuid, n.name) for n in networks]),
        constants.SS_ENABLED_USER_SHUTDOWN:
            _fmt(bool(cluster.enabled_user_shutdown)),
        constants.SS_SSH_PORTS: _fmt(ssh_ports),
    }
    for hv in constants.HYPER_TYPES:
        values[ssconf.hvparams_key(hv)] = _format_hvparams(cluster.fill_hv(hv))
    return values
