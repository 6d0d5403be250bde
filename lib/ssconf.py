"""Read access to the ssconf files (``/var/lib/ganeti/ssconf_<key>``).

ssconf is the small, node-local copy of the facts every node needs without
talking to the master: who the master is, the node and candidate lists,
the cluster name, hypervisor parameters. The master computes the values
(``ConfigWriter.get_ssconf_values``) and every node writes them through the
node daemon; this module only reads them, so it stays import-light for
``gnt-*`` start-up and scripts.
"""

import errno
import os

from ganeti import constants
from ganeti import errors
from ganeti import pathutils

# Every key the master generates, in a stable order (5.2 of the interface
# notes); hvparams_<hv> follow for every known hypervisor.
_BASE_KEYS = (
    constants.SS_CLUSTER_NAME,
    constants.SS_CLUSTER_TAGS,
    constants.SS_FILE_STORAGE_DIR,
    constants.SS_SHARED_FILE_STORAGE_DIR,
    constants.SS_GLUSTER_STORAGE_DIR,
    constants.SS_MASTER_CANDIDATES,
    constants.SS_MASTER_CANDIDATES_IPS,
    constants.SS_MASTER_CANDIDATES_CERTS,
    constants.SS_MASTER_IP,
    constants.SS_MASTER_NETDEV,
    constants.SS_MASTER_NETMASK,
    constants.SS_MASTER_NODE,
    constants.SS_NODE_LIST,
    constants.SS_NODE_PRIMARY_IPS,
    constants.SS_NODE_SECONDARY_IPS,
    constants.SS_NODE_VM_CAPABLE,
    constants.SS_OFFLINE_NODES,
    constants.SS_ONLINE_NODES,
    constants.SS_PRIMARY_IP_FAMILY,
    constants.SS_INSTANCE_LIST,
    constants.SS_RELEASE_VERSION,
    constants.SS_HYPERVISOR_LIST,
    constants.SS_MAINTAIN_NODE_HEALTH,
    constants.SS_UID_POOL,
    constants.SS_NODEGROUPS,
    constants.SS_NETWORKS,
    constants.SS_ENABLED_USER_SHUTDOWN,
    constants.SS_SSH_PORTS,
)
SSCONF_HVPARAMS_KEYS = tuple(constants.SS_HVPARAMS_PREF + hv
                             for hv in constants.HYPER_TYPES)
SSCONF_KEYS = _BASE_KEYS + SSCONF_HVPARAMS_KEYS
_VALID_KEYS = frozenset(SSCONF_KEYS)


def hvparams_key(hv_name):
    """The ssconf key holding the cluster parameters of ``hv_name``."""
    return constants.SS_HVPARAMS_PREF + hv_name


def format_ssconf_value(value):
    """Text form of a value as stored in an ssconf file (no final newline).

    Lists become one item per line, booleans ``True``/``False``, ``None``
    the empty string; everything else its ``str``.
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(format_ssconf_value(v) for v in value)
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def verify_keys(keys):
    """Raise for keys that are not ssconf keys (catches typos early)."""
    invalid = sorted(set(keys) - _VALID_KEYS)
    if invalid:
        raise errors.GenericError("Invalid ssconf keys: %s" %
                                  ", ".join(invalid))


def _restore_type(default, text):
    """Parse ``text`` back into the type of the hypervisor default."""
    if isinstance(default, bool):
        return text == "True"
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def parse_key_value_lines(lines):
    """``key=value`` lines -> dict (values stay strings)."""
    result = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            result[key] = value
    return result


class SimpleStore:
    """Reader of the ssconf files of this node.

    ``cfg_location`` is the directory holding the files; by default
    ``pathutils.DATA_DIR`` as it is when a value is read.
    """

    def __init__(self, cfg_location=None):
        self._cfg_location = cfg_location

    def key_to_filename(self, key):
        if key not in _VALID_KEYS:
            raise errors.ProgrammerError("Invalid key requested from SSConf:"
                                         " '%s'" % key)
        directory = self._cfg_location
        if directory is None:
            directory = pathutils.DATA_DIR
        return os.path.join(directory, pathutils.SSCONF_PREFIX + key)

    def _read(self, key, default=None):
        """Content of the file for ``key`` without its trailing newline."""
        filename = self.key_to_filename(key)
        try:
            with open(filename, "r") as fh:
                data = fh.read(constants.SSCONF_MAX_SIZE)
        except EnvironmentError as err:
            if err.errno == errno.ENOENT and default is not None:
                return default
            raise errors.ConfigurationError("Can't read ssconf file %s: %s" %
                                            (filename, err))
        return data.rstrip("\n")

    def _read_list(self, key):
        return [line for line in self._read(key).splitlines() if line]

    def get_values(self):
        """``{key: text}`` for every ssconf file present on this node."""
        result = {}
        for key in SSCONF_KEYS:
            try:
                result[key] = self._read(key)
            except errors.ConfigurationError:
                continue
        return result

    # Scalars
    def get_cluster_name(self):
        return self._read(constants.SS_CLUSTER_NAME)

    def get_master_node(self):
        return self._read(constants.SS_MASTER_NODE)

    def get_master_ip(self):
        return self._read(constants.SS_MASTER_IP)

    def get_master_netdev(self):
        return self._read(constants.SS_MASTER_NETDEV)

    def get_master_netmask(self):
        value = self._read(constants.SS_MASTER_NETMASK, default="")
        try:
            return int(value)
        except ValueError:
            return None

    def get_file_storage_dir(self):
        return self._read(constants.SS_FILE_STORAGE_DIR)

    def get_shared_file_storage_dir(self):
        return self._read(constants.SS_SHARED_FILE_STORAGE_DIR)

    def get_gluster_storage_dir(self):
        return self._read(constants.SS_GLUSTER_STORAGE_DIR)

    def get_release_version(self):
        return self._read(constants.SS_RELEASE_VERSION)

    def get_primary_ip_family(self):
        value = self._read(constants.SS_PRIMARY_IP_FAMILY,
                           default=str(constants.IP4_FAMILY))
        try:
            return int(value)
        except ValueError:
            raise errors.ConfigurationError("Error while trying to parse"
                                            " primary IP family: %r" % value)

    def get_maintain_node_health(self):
        return self._read(constants.SS_MAINTAIN_NODE_HEALTH,
                          default="False") == "True"

    def get_enabled_user_shutdown(self):
        return self._read(constants.SS_ENABLED_USER_SHUTDOWN,
                          default="False") == "True"

    # Lists
    def get_cluster_tags(self):
        return self._read_list(constants.SS_CLUSTER_TAGS)

    def get_node_list(self):
        return self._read_list(constants.SS_NODE_LIST)

    def get_node_primary_ips(self):
        """``["name ip", ...]`` lines, as stored."""
        return self._read_list(constants.SS_NODE_PRIMARY_IPS)

    def get_node_secondary_ips(self):
        return self._read_list(constants.SS_NODE_SECONDARY_IPS)

    def get_node_primary_ip_map(self):
        """``{node name: primary ip}``."""
        return self._name_ip_map(self.get_node_primary_ips())

    def get_node_secondary_ip_map(self):
        return self._name_ip_map(self.get_node_secondary_ips())

    @staticmethod
    def _name_ip_map(lines):
        result = {}
        for line in lines:
            parts = line.split()
            if len(parts) == 2:
                result[parts[0]] = parts[1]
        return result

    def get_master_candidates(self):
        return self._read_list(constants.SS_MASTER_CANDIDATES)

    def get_master_candidates_ips(self):
        return self._read_list(constants.SS_MASTER_CANDIDATES_IPS)

    def get_master_candidates_certs(self):
        """``{node uuid: certificate digest}``."""
        return parse_key_value_lines(
            self._read_list(constants.SS_MASTER_CANDIDATES_CERTS))

    def get_online_nodes(self):
        return self._read_list(constants.SS_ONLINE_NODES)

    def get_offline_nodes(self):
        return self._read_list(constants.SS_OFFLINE_NODES)

    def get_node_vm_capable(self):
        """``{node name: bool}``."""
        lines = self._read_list(constants.SS_NODE_VM_CAPABLE)
        return dict((name, value == "True") for name, value in
                    parse_key_value_lines(lines).items())

    def get_instance_list(self):
        return self._read_list(constants.SS_INSTANCE_LIST)

    def get_hypervisor_list(self):
        return self._read_list(constants.SS_HYPERVISOR_LIST)

    def get_nodegroups(self):
        """``["uuid name", ...]`` lines."""
        return self._read_list(constants.SS_NODEGROUPS)

    def get_networks(self):
        return self._read_list(constants.SS_NETWORKS)

    def get_ssh_ports(self):
        """``{node name: port}``."""
        result = {}
        for name, value in parse_key_value_lines(
                self._read_list(constants.SS_SSH_PORTS)).items():
            try:
                result[name] = int(value)
            except ValueError:
                continue
        return result

    def get_uid_pool(self):
        """``[(low, high), ...]`` from lines ``a-b`` or ``a``."""
        result = []
        for line in self._read_list(constants.SS_UID_POOL):
            low, _, high = line.partition("-")
            try:
                result.append((int(low), int(high or low)))
            except ValueError:
                raise errors.ConfigurationError("Invalid uid pool entry %r" %
                                                line)
        return result

    def get_hvparams(self, hv_name):
        """Cluster parameters of ``hv_name`` with their types restored."""
        lines = self._read_list(hvparams_key(hv_name))
        defaults = constants.HVC_DEFAULTS.get(hv_name, {})
        result = {}
        for key, text in parse_key_value_lines(lines).items():
            if key in defaults:
                result[key] = _restore_type(defaults[key], text)
            else:
                result[key] = text
        return result

    def get_all_hvparams(self):
        return dict((hv, self.get_hvparams(hv))
                    for hv in constants.HYPER_TYPES)

    # Master checks
    def get_master_and_my_name(self):
        """``(master node name, this node's name)``."""
        return (self.get_master_node(), pathutils.get_hostname())

    def check_master(self, hostname=None):
        """True if ``hostname`` (default: this node) is the master."""
        if hostname is None:
            hostname = pathutils.get_hostname()
        try:
            return self.get_master_node() == hostname
        except errors.ConfigurationError:
            return False


def get_master_and_my_name(ss=None):
    """``(master, my name)`` read from ``ss`` (default: a new SimpleStore)."""
    return (ss or SimpleStore()).get_master_and_my_name()


def check_master(hostname=None, ss=None):
    """True if ``hostname`` (default: this node) is the cluster master."""
    return (ss or SimpleStore()).check_master(hostname)
