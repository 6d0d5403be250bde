"""Creating and destroying a cluster; confirming who the master is.

``init_cluster`` runs on the future master (``gnt-cluster init``): it
checks the host and the parameters, creates the cluster's secrets and the
first ``config.data``, writes ssconf, starts the node daemon, configures
the master IP and starts the master daemon. ``finalize_cluster_destroy``
undoes the master's part after ``OP_CLUSTER_DESTROY``. Master voting
(``check_master_vote``) guards master daemon start-up against a node that
only believes it is the master.

Building the initial configuration (``fill_cluster_params`` and
``build_initial_config``) has no side effects, so it can be tested alone.
"""

import copy
import errno
import logging
import os
import re
import socket
import sys
import time
import uuid as uuid_module

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti.utils import io
from ganeti.utils import process

FIRST_DRBD_PORT = 11000
NODED_WAIT_TIMEOUT = 30.0
MASTERD_WAIT_TIMEOUT = 60.0
CLUSTER_IP_PING_TIMEOUT = 2.0
VOTE_RETRIES = 6
VOTE_RETRY_DELAY = 10.0
IALLOC_HAIL = "hail"
_MAC_PREFIX_RE = re.compile(r"^[0-9a-z]{2}:[0-9a-z]{2}:[0-9a-z]{2}$")
_COMPRESSION_TOOL_RE = re.compile(r"^[-_a-zA-Z0-9]+$")
# Nobody may keep instance disks in or below these.
FORBIDDEN_FILE_STORAGE_PATHS = frozenset(
    ["/boot", "/dev", "/etc", "/home", "/proc", "/root", "/sys"] +
    ["%s/%s" % (prefix, name) for prefix in ("", "/usr", "/usr/local")
     for name in ("bin", "lib", "lib32", "lib64", "sbin")])

# Parameters of init_cluster with their defaults (the CLI's defaults).
INIT_DEFAULTS = {
    "mac_prefix": constants.DEFAULT_MAC_PREFIX,
    "master_netmask": None,
    "master_netdev": constants.DEFAULT_MASTER_NETDEV,
    "file_storage_dir": None,
    "shared_file_storage_dir": None,
    "gluster_storage_dir": None,
    "candidate_pool_size": constants.MASTER_POOL_SIZE_DEFAULT,
    "secondary_ip": None,
    "vg_name": None,
    "beparams": None,
    "hvparams": None,
    "nicparams": None,
    "ndparams": None,
    "diskparams": None,
    "enabled_hypervisors": None,
    "modify_etc_hosts": True,
    "modify_ssh_setup": True,
    "maintain_node_health": False,
    "drbd_helper": None,
    "uid_pool": None,
    "default_iallocator": None,
    "default_iallocator_params": None,
    "primary_ip_version": 4,
    "ipolicy": None,
    "prealloc_wipe_disks": False,
    "use_external_mip_script": False,
    "hv_state": None,
    "disk_state": None,
    "enabled_disk_templates": None,
    "install_image": "",
    "zeroing_image": "",
    "compression_tools": None,
    "enabled_user_shutdown": False,
    "ssh_key_type": constants.SSHK_RSA,
    "ssh_key_bits": constants.SSH_DEFAULT_KEY_BITS,
}
_FAMILIES = {4: (socket.AF_INET, constants.IP4_FAMILY, 32),
             6: (socket.AF_INET6, constants.IP6_FAMILY, 128)}


# --- addresses ---

def resolve_hostname(name=None, family=socket.AF_INET):
    """``(canonical name, address)`` of ``name`` (default: this host).

    Raises ResolverError (the CLI prints "can't resolve hostname").
    """
    name = name or pathutils.get_hostname()
    try:
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM,
                                   0, socket.AI_CANONNAME)
    except (socket.gaierror, socket.herror, UnicodeError) as err:
        args = err.args if len(err.args) == 2 else (0, str(err))
        raise errors.ResolverError(name, args[0], args[1])
    canonical = infos[0][3] or name
    if family == socket.AF_INET and "." not in canonical:
        try:
            full, aliases, _ = socket.gethostbyname_ex(name)
            canonical = next((n for n in [full] + aliases if "." in n),
                             canonical)
        except OSError:
            pass
    return canonical, infos[0][4][0]


def is_valid_ip(address, family=socket.AF_INET):
    try:
        socket.inet_pton(family, address)
    except (OSError, TypeError, ValueError):
        return False
    return True


def is_valid_ipv4(address):
    return isinstance(address, str) and is_valid_ip(address, socket.AF_INET)


def is_loopback(address):
    if ":" in address:
        return address == "::1"
    return address.startswith("127.")


def owns_address(address):
    """True if ``address`` is configured on this host (we can bind to it)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((address, 0))
    except OSError as err:
        if err.errno == errno.EADDRNOTAVAIL:
            return False
        raise
    finally:
        sock.close()
    return True


def tcp_ping(address, port, timeout=CLUSTER_IP_PING_TIMEOUT, source=None):
    """True if something answers at ``address``: a connection, or a
    refusal (the host is up even if nothing listens on ``port``)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if source:
            sock.bind((source, 0))
        sock.connect((address, port))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        sock.close()
    return True


# --- parameters of a new cluster (pure) ---

def _filled(defaults, given):
    result = copy.deepcopy(defaults)
    result.update(copy.deepcopy(given or {}))
    return result


def check_param_types(params, types, kind):
    checks = {
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "size": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and
        not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
    }
    for key, value in params.items():
        kind_of = types.get(key)
        if kind_of is None:
            raise errors.OpPrereqError("Unknown %s parameter '%s'" %
                                       (kind, key), errors.ECODE_INVAL)
        if not checks[kind_of](value):
            raise errors.OpPrereqError(
                "Invalid value for %s parameter '%s': %r" % (kind, key, value),
                errors.ECODE_INVAL)


def check_enabled_list(values, valid, what):
    if not values:
        raise errors.OpPrereqError("Enabled %s list must contain at least one"
                                   " member" % what, errors.ECODE_INVAL)
    invalid = sorted(set(values) - set(valid))
    if invalid:
        raise errors.OpPrereqError("Enabled %s list contains invalid entries:"
                                   " %s" % (what, ", ".join(invalid)),
                                   errors.ECODE_INVAL)


def check_mac_prefix(prefix):
    if not _MAC_PREFIX_RE.match(prefix):
        raise errors.OpPrereqError("Invalid mac prefix given '%s'" % prefix,
                                   errors.ECODE_INVAL)


def check_compression_tools(tools):
    """Ganeti's rules: sane names, and gzip always available."""
    for tool in tools:
        if not _COMPRESSION_TOOL_RE.match(tool):
            raise errors.OpPrereqError("Invalid compression tool name '%s'" %
                                       tool, errors.ECODE_INVAL)
    if "gzip" not in tools:
        raise errors.OpPrereqError("For compatibility reasons, the gzip"
                                   " utility must be present in the list of"
                                   " compression tools", errors.ECODE_INVAL)


def fill_cluster_params(**kwargs):
    """All init parameters with defaults applied and values checked.

    Parameter dictionaries come out complete (Ganeti stores every
    hypervisor, backend, NIC, node and disk parameter at init).
    """
    unknown = set(kwargs) - set(INIT_DEFAULTS)
    if unknown:
        raise errors.ProgrammerError("Unknown init parameters: %s" %
                                     ", ".join(sorted(unknown)))
    params = dict(INIT_DEFAULTS)
    params.update((k, v) for k, v in kwargs.items() if v is not None)
    hvs = params["enabled_hypervisors"] or \
        [constants.DEFAULT_ENABLED_HYPERVISOR]
    check_enabled_list(hvs, constants.HYPER_TYPES, "hypervisors")
    params["enabled_hypervisors"] = list(hvs)
    templates = params["enabled_disk_templates"] or \
        list(constants.DEFAULT_ENABLED_DISK_TEMPLATES)
    check_enabled_list(templates, constants.DISK_TEMPLATES, "disk templates")
    params["enabled_disk_templates"] = list(templates)
    if params["primary_ip_version"] not in _FAMILIES:
        raise errors.OpPrereqError("Invalid primary ip version: %s." %
                                   params["primary_ip_version"],
                                   errors.ECODE_INVAL)
    iplen = _FAMILIES[params["primary_ip_version"]][2]
    netmask = params["master_netmask"]
    if netmask is None:
        params["master_netmask"] = iplen
    elif not (isinstance(netmask, int) and 0 < netmask <= iplen):
        raise errors.OpPrereqError("CIDR netmask (%s) not valid for IPv%s " %
                                   (netmask, params["primary_ip_version"]),
                                   errors.ECODE_INVAL)
    check_mac_prefix(params["mac_prefix"])
    lvm = set(templates) & set([constants.DT_PLAIN, constants.DT_DRBD8])
    if params["vg_name"] is None and lvm:
        params["vg_name"] = constants.DEFAULT_VG
    drbd = constants.DT_DRBD8 in templates
    if drbd and params["drbd_helper"] is None:
        params["drbd_helper"] = constants.DEFAULT_DRBD_HELPER
    for key, default in (
            ("file_storage_dir", pathutils.DEFAULT_FILE_STORAGE_DIR),
            ("shared_file_storage_dir",
             pathutils.DEFAULT_SHARED_FILE_STORAGE_DIR),
            ("gluster_storage_dir", pathutils.DEFAULT_GLUSTER_STORAGE_DIR)):
        if params[key] is None:
            params[key] = default
        elif params[key]:
            params[key] = os.path.normpath(params[key])
    _fill_parameter_dicts(params)
    tools = params["compression_tools"]
    params["compression_tools"] = list(
        tools if tools is not None else constants.COMPRESSION_TOOLS_DEFAULT)
    check_compression_tools(params["compression_tools"])
    for key in ("uid_pool",):
        params[key] = list(params[key] or [])
    for key in ("default_iallocator_params", "hv_state", "disk_state"):
        params[key] = dict(params[key] or {})
    return params


def _fill_parameter_dicts(params):
    """hv/be/nic/nd/disk parameters and the instance policy, complete."""
    beparams = objects.upgrade_be_params(params["beparams"])
    params["beparams"] = _filled(constants.BEC_DEFAULTS, beparams)
    check_param_types(params["beparams"], constants.BES_PARAMETER_TYPES,
                      "backend")
    nicparams = _filled(constants.NICC_DEFAULTS, params["nicparams"])
    if nicparams[constants.NIC_MODE] not in constants.NIC_VALID_MODES:
        raise errors.OpPrereqError("Invalid NIC mode '%s'" %
                                   nicparams[constants.NIC_MODE],
                                   errors.ECODE_INVAL)
    params["nicparams"] = nicparams
    params["ndparams"] = _filled(constants.NDC_DEFAULTS, params["ndparams"])
    check_param_types(params["ndparams"], constants.NDS_PARAMETER_TYPES,
                      "node")
    given_hv = params["hvparams"] or {}
    unknown = sorted(set(given_hv) - set(constants.HYPER_TYPES))
    if unknown:
        raise errors.OpPrereqError("Invalid hypervisor(s) in hvparams: %s" %
                                   ", ".join(unknown), errors.ECODE_INVAL)
    hvparams = {}
    for hv in constants.HYPER_TYPES:
        defaults = constants.HVC_DEFAULTS[hv]
        extra = sorted(set(given_hv.get(hv, {})) - set(defaults))
        if extra:
            raise errors.OpPrereqError("Invalid parameters for hypervisor"
                                       " %s: %s" % (hv, ", ".join(extra)),
                                       errors.ECODE_INVAL)
        hvparams[hv] = _filled(defaults, given_hv.get(hv))
    params["hvparams"] = hvparams
    given_dp = params["diskparams"] or {}
    diskparams = {}
    for template in constants.DISK_TEMPLATES:
        defaults = constants.DISK_DT_DEFAULTS[template]
        extra = sorted(set(given_dp.get(template, {})) - set(defaults))
        if extra:
            raise errors.OpPrereqError("Invalid parameters for disk template"
                                       " %s: %s" % (template,
                                                    ", ".join(extra)),
                                       errors.ECODE_INVAL)
        diskparams[template] = _filled(defaults, given_dp.get(template))
    given_drbd = given_dp.get(constants.DT_DRBD8, {})
    if params["vg_name"] and "metavg" not in given_drbd:
        diskparams[constants.DT_DRBD8]["metavg"] = params["vg_name"]
    params["diskparams"] = diskparams
    ipolicy = copy.deepcopy(constants.IPOLICY_DEFAULTS)
    ipolicy.update(copy.deepcopy(params["ipolicy"] or {}))
    enabled = params["enabled_disk_templates"]
    ipolicy["disk-templates"] = [t for t in ipolicy["disk-templates"]
                                 if t in enabled]
    params["ipolicy"] = ipolicy


def build_initial_config(params, master_name, master_ip, cluster_ip,
                         secondary_ip=None, cert_digest=None, rsa_key="",
                         dsa_key="", now=None, new_uuid=None):
    """The first ``ConfigData``: the cluster, its master node and the
    "default" node group. ``params`` comes from ``fill_cluster_params``."""
    now = time.time() if now is None else now
    new_uuid = new_uuid or (lambda: str(uuid_module.uuid4()))
    cluster_uuid, node_uuid, group_uuid = new_uuid(), new_uuid(), new_uuid()
    family = _FAMILIES[params["primary_ip_version"]][1]
    cluster = objects.Cluster(
        serial_no=1, uuid=cluster_uuid, ctime=now, mtime=now, tags=[],
        cluster_name=params["cluster_name"], master_node=node_uuid,
        master_ip=cluster_ip, master_netdev=params["master_netdev"],
        master_netmask=params["master_netmask"],
        use_external_mip_script=params["use_external_mip_script"],
        rsahostkeypub=rsa_key, dsahostkeypub=dsa_key,
        highest_used_port=FIRST_DRBD_PORT - 1, tcpudp_port_pool=[],
        mac_prefix=params["mac_prefix"],
        volume_group_name=params["vg_name"], reserved_lvs=[],
        drbd_usermode_helper=params["drbd_helper"],
        file_storage_dir=params["file_storage_dir"],
        shared_file_storage_dir=params["shared_file_storage_dir"],
        gluster_storage_dir=params["gluster_storage_dir"],
        enabled_hypervisors=params["enabled_hypervisors"],
        hvparams=params["hvparams"], os_hvp={}, osparams={},
        osparams_private_cluster={},
        beparams={"default": params["beparams"]},
        nicparams={"default": params["nicparams"]},
        ndparams=params["ndparams"], diskparams=params["diskparams"],
        ipolicy=params["ipolicy"],
        candidate_pool_size=params["candidate_pool_size"],
        modify_etc_hosts=params["modify_etc_hosts"],
        modify_ssh_setup=params["modify_ssh_setup"],
        maintain_node_health=params["maintain_node_health"],
        uid_pool=params["uid_pool"],
        default_iallocator=params["default_iallocator"] or "",
        default_iallocator_params=params["default_iallocator_params"],
        hidden_os=[], blacklisted_os=[], primary_ip_family=family,
        prealloc_wipe_disks=params["prealloc_wipe_disks"],
        hv_state_static=params["hv_state"],
        disk_state_static=params["disk_state"],
        enabled_disk_templates=params["enabled_disk_templates"],
        candidate_certs={node_uuid: cert_digest} if cert_digest else {},
        max_running_jobs=constants.DEFAULT_MAX_RUNNING_JOBS,
        max_tracked_jobs=constants.DEFAULT_MAX_TRACKED_JOBS,
        install_image=params["install_image"],
        instance_communication_network="",
        zeroing_image=params["zeroing_image"],
        compression_tools=params["compression_tools"],
        enabled_user_shutdown=params["enabled_user_shutdown"],
        data_collectors=dict(
            (name, {"active": True,
                    "interval": constants.DATA_COLLECTOR_INTERVAL})
            for name in constants.DATA_COLLECTOR_NAMES),
        ssh_key_type=params["ssh_key_type"],
        ssh_key_bits=params["ssh_key_bits"])
    node = objects.Node(
        name=master_name, primary_ip=master_ip,
        secondary_ip=secondary_ip or master_ip, uuid=node_uuid, serial_no=1,
        ctime=now, mtime=now, master_candidate=True, offline=False,
        drained=False, group=group_uuid, master_capable=True,
        vm_capable=True, ndparams={}, powered=True, tags=[],
        hv_state_static={}, disk_state_static={})
    group = objects.NodeGroup(
        name=constants.INITIAL_NODE_GROUP_NAME, uuid=group_uuid, serial_no=1,
        ctime=now, mtime=now, ndparams={}, diskparams={}, ipolicy={},
        alloc_policy=constants.ALLOC_POLICY_PREFERRED, networks={}, tags=[],
        hv_state_static={}, disk_state_static={})
    return objects.ConfigData(
        version=constants.CONFIG_VERSION, cluster=cluster,
        nodes={node_uuid: node}, nodegroups={group_uuid: group},
        instances={}, networks={}, disks={}, filters={}, serial_no=1,
        ctime=now, mtime=now)


# --- checks of the host (side effects: none, but they look around) ---

def check_not_initialised():
    if os.path.exists(pathutils.CLUSTER_CONF_FILE):
        raise errors.OpPrereqError("Cluster is already initialised",
                                   errors.ECODE_STATE)
    keep = set([pathutils.JOB_QUEUE_LOCK_FILE])
    for ddir in (pathutils.QUEUE_DIR, pathutils.DATA_DIR,
                 pathutils.JOB_QUEUE_ARCHIVE_DIR):
        try:
            entries = sorted(os.listdir(ddir))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(ddir, entry)
            if path in keep or os.path.isdir(path):
                continue
            raise errors.OpPrereqError(
                "%s contains non-directory entries like %s. Remove left-overs"
                " of an old cluster before initialising a new one" %
                (ddir, entry), errors.ECODE_STATE)


def _check_host(params):
    """(host name, host ip, cluster name, cluster ip, secondary ip)."""
    family = _FAMILIES[params["primary_ip_version"]][0]
    version = params["primary_ip_version"]
    host_name, host_ip = resolve_hostname(family=family)
    if not is_valid_ip(host_ip, family):
        raise errors.OpPrereqError("This host's IP (%s) is not a valid IPv%d"
                                   " address." % (host_ip, version),
                                   errors.ECODE_INVAL)
    if is_loopback(host_ip):
        raise errors.OpPrereqError("This host's IP (%s) resolves to a loopback"
                                   " address. You must fix DNS or /etc/hosts."
                                   % host_ip, errors.ECODE_ENVIRON)
    if not owns_address(host_ip):
        raise errors.OpPrereqError("Inconsistency: this host's name resolves"
                                   " to %s,\nbut this ip address does not"
                                   " belong to this host" % host_ip,
                                   errors.ECODE_ENVIRON)
    cluster_name, cluster_ip = resolve_hostname(params["cluster_name"],
                                                family=family)
    if tcp_ping(cluster_ip, constants.DEFAULT_NODED_PORT):
        raise errors.OpPrereqError("Cluster IP already active",
                                   errors.ECODE_NOTUNIQUE)
    secondary_ip = params["secondary_ip"]
    if not secondary_ip:
        if version == 6:
            raise errors.OpPrereqError("When using a IPv6 primary address, a"
                                       " valid IPv4 address must be given as"
                                       " secondary", errors.ECODE_INVAL)
        secondary_ip = host_ip
    if not is_valid_ipv4(secondary_ip):
        raise errors.OpPrereqError("Secondary IP address (%s) has to be a"
                                   " valid IPv4 address." % secondary_ip,
                                   errors.ECODE_INVAL)
    if not owns_address(secondary_ip):
        raise errors.OpPrereqError("You gave %s as secondary IP, but it does"
                                   " not belong to this host." % secondary_ip,
                                   errors.ECODE_ENVIRON)
    return host_name, host_ip, cluster_name, cluster_ip, secondary_ip


def _check_vg(vg_name):
    result = process.run_cmd(["vgs", "--noheadings", "-o", "vg_name"],
                             reset_env=True, timeout=60)
    names = result.stdout.split() if not result.failed else []
    if vg_name not in names:
        raise errors.OpPrereqError("Error: volume group '%s' missing" %
                                   vg_name, errors.ECODE_INVAL)


def _check_drbd_helper(helper):
    path = "/sys/module/drbd/parameters/usermode_helper"
    try:
        current = io.read_one_line(path).strip()
    except OSError as err:
        raise errors.OpPrereqError(
            "Error while checking drbd helper (disable drbd with"
            " --enabled-disk-templates if you are not using drbd): Can't read"
            " the DRBD usermode helper: %s" % err, errors.ECODE_ENVIRON)
    if helper != current:
        raise errors.OpPrereqError("Error: requiring %s as drbd helper but %s"
                                   " is the current helper" % (helper,
                                                               current),
                                   errors.ECODE_INVAL)


def _check_master_netdev(params):
    if params["nicparams"][constants.NIC_MODE] == constants.NIC_MODE_OVS:
        return
    result = process.run_cmd(["ip", "link", "show", "dev",
                              params["master_netdev"]], reset_env=True,
                             timeout=30)
    if result.failed:
        raise errors.OpPrereqError("Invalid master netdev given (%s): '%s'" %
                                   (params["master_netdev"],
                                    result.output.strip()),
                                   errors.ECODE_INVAL)


def _check_iallocator(name):
    """The default iallocator: the given one (must exist) or hail."""
    from ganeti import iallocator
    from ganeti.backend.iallocator import find_allocator
    if name:
        iallocator.check_default_allocator(name)
        return name
    return IALLOC_HAIL if find_allocator(IALLOC_HAIL) else ""


def check_file_storage_path(path):
    """Refuse relative paths and system directories for instance files."""
    if not os.path.isabs(path):
        raise errors.OpPrereqError("File storage directory '%s' is not an"
                                   " absolute path." % path,
                                   errors.ECODE_INVAL)
    norm = os.path.normpath(path)
    for forbidden in FORBIDDEN_FILE_STORAGE_PATHS:
        if norm == forbidden or norm.startswith(forbidden + "/"):
            raise errors.OpPrereqError("Path '%s' is not acceptable for file"
                                       " storage" % path, errors.ECODE_INVAL)


def _prepare_file_storage(params):
    """Create the enabled file storage directories and list them as
    allowed in file-storage-paths (Ganeti requires them there)."""
    wanted = []
    for template, key in ((constants.DT_FILE, "file_storage_dir"),
                          (constants.DT_SHARED_FILE,
                           "shared_file_storage_dir")):
        if template not in params["enabled_disk_templates"]:
            continue
        path = params[key]
        check_file_storage_path(path)
        wanted.append(path)
    for path in wanted:
        if not os.path.exists(path):
            try:
                os.makedirs(path, 0o750)
            except OSError as err:
                raise errors.OpPrereqError("Cannot create file storage"
                                           " directory '%s': %s" % (path, err),
                                           errors.ECODE_ENVIRON)
        if not os.path.isdir(path):
            raise errors.OpPrereqError("The file storage directory '%s' is"
                                       " not a directory." % path,
                                       errors.ECODE_ENVIRON)
    if not wanted:
        return
    paths_file = pathutils.FILE_STORAGE_PATHS_FILE
    try:
        current = [line.strip() for line in io.read_file(paths_file)
                   .splitlines()]
    except OSError:
        current = []
    missing = [p for p in wanted if p not in current]
    if missing or not os.path.exists(paths_file):
        os.makedirs(os.path.dirname(paths_file), 0o755, exist_ok=True)
        lines = [line for line in current if line] + missing
        io.write_file(paths_file, "\n".join(lines) + "\n", mode=0o644)


# --- side effects of init ---

def _ensure_dirs():
    io.make_dirs([
        (pathutils.DATA_DIR, 0o755),
        (pathutils.QUEUE_DIR, 0o700),
        (pathutils.JOB_QUEUE_ARCHIVE_DIR, 0o700),
        (pathutils.CONF_DIR, 0o755),
        (pathutils.RUN_DIR, 0o755),
        (pathutils.SOCKET_DIR, 0o750),
        (pathutils.LOG_DIR, 0o750),
    ])


def _daemon_util(args, what):
    from ganeti.backend.common import daemon_util_path
    cmd = [daemon_util_path()] + list(args)
    result = process.run_cmd(cmd, timeout=180)
    if result.failed:
        raise errors.OpExecError("Could not %s, command %s had exitcode %s"
                                 " and error '%s'" %
                                 (what, " ".join(cmd), result.exit_code,
                                  result.output.strip()))


def generate_cluster_crypto():
    """server.pem, rapi.pem, hmac.key and cluster-domain-secret, each
    created only if missing (as Ganeti does at init)."""
    from ganeti import crypto
    for path in (pathutils.NODED_CERT_FILE, pathutils.RAPI_CERT_FILE):
        if not os.path.exists(path):
            crypto.write_cert_and_key(path, mode=0o400)
    for path in (pathutils.CONFD_HMAC_KEY,
                 pathutils.CLUSTER_DOMAIN_SECRET_FILE):
        if not os.path.exists(path):
            crypto.write_secret_file(path, mode=0o400)
    return crypto.cert_digest(pathutils.NODED_CERT_FILE)


def _local_rpc(name, address):
    from ganeti.rpc import client as rpc_client
    return rpc_client.RpcRunner(rpc_client.static_resolver({name: address}))


def _wait_for_noded(rpc, name, timeout=NODED_WAIT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        result = rpc.call_single("version", name, [])
        if not result.fail_msg:
            return
        if time.monotonic() > deadline:
            raise errors.OpExecError("The node daemon did not start: %s" %
                                     result.fail_msg)
        time.sleep(0.2)


def master_params_of(data):
    """Master network parameters (the node_*_master_ip argument)."""
    cluster = data.cluster
    master = data.nodes[cluster.master_node]
    return {"uuid": master.uuid, "name": master.name,
            "ip": cluster.master_ip, "netmask": cluster.master_netmask,
            "netdev": cluster.master_netdev,
            "ip_family": cluster.primary_ip_family or constants.IP4_FAMILY}


def init_cluster(cluster_name, feedback_fn=None, **kwargs):
    """Create a cluster whose master is this host (``gnt-cluster init``).

    Returns the master node's UUID. The CLI submits OP_CLUSTER_POST_INIT
    afterwards, as Ganeti does.
    """
    def warn(msg):
        logging.warning(msg)
        if feedback_fn is not None:
            feedback_fn(msg)

    check_not_initialised()
    params = fill_cluster_params(**kwargs)
    params["cluster_name"] = cluster_name
    host_name, host_ip, cluster_name, cluster_ip, secondary_ip = \
        _check_host(params)
    params["cluster_name"] = cluster_name
    lvm = set([constants.DT_PLAIN, constants.DT_DRBD8])
    if params["vg_name"] and set(params["enabled_disk_templates"]) & lvm:
        _check_vg(params["vg_name"])
    if constants.DT_DRBD8 in params["enabled_disk_templates"]:
        _check_drbd_helper(params["drbd_helper"])
    _daemon_util(["stop-all"], "stop daemons")
    _prepare_file_storage(params)
    _check_master_netdev(params)
    params["default_iallocator"] = _check_iallocator(
        params["default_iallocator"])
    _ensure_dirs()

    from ganeti import ssh
    rsa_key = ssh.read_host_public_key("rsa")
    dsa_key = ssh.read_host_public_key("dsa")
    if not rsa_key and not dsa_key:
        warn("No SSH host public key found in %s; the cluster known_hosts"
             " file will be empty" % pathutils.SSH_CONFIG_DIR)
    if params["modify_etc_hosts"]:
        from ganeti.backend import RPCFail
        from ganeti.backend import node as backend_node
        try:
            backend_node.etc_hosts_modify("add", host_name, host_ip)
        except RPCFail as err:
            raise errors.OpExecError("Can't update /etc/hosts: %s" % err)
    if params["modify_ssh_setup"]:
        ssh.init_ssh_setup(params["ssh_key_type"], params["ssh_key_bits"])

    digest = generate_cluster_crypto()
    data = build_initial_config(params, host_name, host_ip, cluster_ip,
                                secondary_ip=secondary_ip, cert_digest=digest,
                                rsa_key=rsa_key, dsa_key=dsa_key)
    from ganeti import config
    from ganeti.backend import files as backend_files
    from ganeti.config import ssconf_values
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    io.write_file(pathutils.SSH_KNOWN_HOSTS_FILE,
                  ssh.format_known_hosts(cluster_name, rsa_key, dsa_key),
                  mode=0o644)
    backend_files.write_ssconf_files(
        ssconf_values.compute_ssconf_values(data))

    _daemon_util(["start", constants.NODED], "start the node daemon")
    rpc = _local_rpc(host_name, host_ip)
    _wait_for_noded(rpc, host_name)
    # the master daemon brings up the master IP when it starts
    _daemon_util(["start-master"], "start the master daemon")
    from ganeti import luxi
    if not luxi.wait_for_socket(pathutils.MASTER_SOCKET,
                                timeout=MASTERD_WAIT_TIMEOUT):
        raise errors.OpExecError("Timeout while waiting for the master"
                                 " daemon to start")
    return data.cluster.master_node


def finalize_cluster_destroy(master=None, feedback_fn=None):
    """The master's last steps after OP_CLUSTER_DESTROY succeeded.

    Removes the master IP, stops the master daemons and makes the node
    leave the cluster (its node daemon removes the cluster files and
    stops itself). ``master`` is the name or UUID the opcode returned;
    the master is this node either way. Failures are only warnings.
    """
    from ganeti.config import store
    data = store.load_config_file(pathutils.CLUSTER_CONF_FILE)
    params = master_params_of(data)
    if master not in (None, params["uuid"], params["name"]):
        logging.warning("Destroy result names %s, but the master is %s",
                        master, params["name"])
    rpc = _local_rpc(params["name"],
                     data.nodes[params["uuid"]].primary_ip)
    steps = (
        ("node_deactivate_master_ip",
         [params, bool(data.cluster.use_external_mip_script)],
         "Could not disable the master IP: %s"),
        ("node_stop_master", [], "Could not disable the master role: %s"),
        ("node_leave_cluster", [bool(data.cluster.modify_ssh_setup)],
         "Could not shutdown the node daemon and cleanup the node: %s"),
    )
    for procedure, args, message in steps:
        result = rpc.call_single(procedure, params["name"], args)
        if result.fail_msg:
            logging.warning(message, result.fail_msg)
            if feedback_fn is not None:
                feedback_fn(message % result.fail_msg)


# --- master voting ---

def gather_master_votes(node_names, rpc):
    """``[(master name or None, votes)]``, most votes first.

    Each node answers from its own ssconf; a node that cannot be asked
    votes None. For equal counts real names come before None.
    """
    if not node_names:
        return []
    results = rpc.call("master_node_name", list(node_names), [])
    votes = {}
    for name in node_names:
        result = results.get(name)
        if result is None or result.fail_msg:
            if result is not None:
                logging.warning("Error contacting node %s: %s", name,
                                result.fail_msg)
            choice = None
        else:
            choice = result.payload
        votes[choice] = votes.get(choice, 0) + 1
    return sorted(votes.items(),
                  key=lambda item: (item[1], item[0] is not None,
                                    item[0] or ""),
                  reverse=True)


def evaluate_master_votes(votes, myself):
    """``(ok, message)``: are we the master according to ``votes``?

    The other nodes must name us most often, and at least as many must
    vote for us as against us (so a two-node cluster needs the other node
    up). No votes at all (a single-node cluster) is agreement.
    """
    if not votes:
        return True, None
    top_node, top_votes = votes[0]
    all_votes = sum(count for _, count in votes)
    if top_node is None:
        return False, ("Cluster inconsistent, most of the nodes didn't answer"
                       " after multiple retries. Aborting startup")
    if top_node != myself:
        return False, ("It seems we are not the master (top-voted node is %s"
                       " with %d out of %d votes)" %
                       (top_node, top_votes, all_votes))
    if top_votes < all_votes - top_votes:
        return False, ("It seems we are not the master (%d votes for, %d"
                       " votes against)" % (top_votes,
                                            all_votes - top_votes))
    return True, None


def check_master_vote(no_voting, retries=VOTE_RETRIES,
                      delay=VOTE_RETRY_DELAY, rpc=None, cfg_file=None,
                      myself=None):
    """Master daemon start-up check: do the other nodes agree we are the
    master? Retries while most nodes do not answer (a cold start of the
    whole cluster). Prints the reason to stderr when refusing."""
    if no_voting:
        return True
    from ganeti.config import store
    myself = myself or pathutils.get_hostname()
    data = store.load_config_file(cfg_file or pathutils.CLUSTER_CONF_FILE)
    others = dict((node.name, node.primary_ip)
                  for node in data.nodes.values() if node.name != myself)
    if rpc is None:
        from ganeti.rpc import client as rpc_client
        rpc = rpc_client.RpcRunner(rpc_client.static_resolver(others))
    votes = []
    for attempt in range(max(1, retries)):
        votes = gather_master_votes(sorted(others), rpc)
        if not votes or votes[0][0] is not None:
            break
        if attempt + 1 < retries:
            time.sleep(delay)
    ok, message = evaluate_master_votes(votes, myself)
    if not ok:
        sys.stderr.write("%s\nUse the --no-voting option if you understand"
                         " what effects it has on the cluster state\n" %
                         message)
    return ok


def master_failover(no_voting=False, votes=None):
    """Make this node the master (``gnt-cluster master-failover``);
    returns ``(exit code, warnings)``. See ``ganeti.master_failover``."""
    from ganeti import master_failover as failover_module
    return failover_module.failover(no_voting=no_voting, votes=votes)
