"""OS definitions (the OS API, versions 10, 15 and 20).

An OS definition is a directory ``<search path entry>/<name>`` on every
node (never replicated by Ganeti) holding:

* ``ganeti_api_version``: the API versions it speaks, one per line;
* scripts ``create``, ``import``, ``export``, ``rename`` and, for API 20,
  ``verify`` (executable); 3.0's optional ``create_untrusted`` may stand in
  for ``create`` and makes the OS "untrusted";
* ``variants.list`` (API >= 15, optional): one variant per line, blank
  lines and ``#`` comments ignored; an instance's OS is ``name+variant``;
* ``parameters.list`` (API 20, required): ``<name> <description>`` lines.

This module reads such directories (``read_os``, ``diagnose``) and builds
the exact environment Ganeti gives the scripts (``core_env``,
``instance_env`` and the per-kind wrappers). It runs nothing: running the
scripts is ``ganeti.backend.os``'s job, and the master side only needs the
name helpers and ``fill_os_params``.
"""

import errno
import os
import stat
import time

from ganeti import constants
from ganeti import pathutils
from ganeti.utils import io as io_utils

OS_API_V10 = 10
OS_API_V15 = 15
OS_API_V20 = 20

SCRIPT_CREATE = "create"
SCRIPT_CREATE_UNTRUSTED = "create_untrusted"
SCRIPT_IMPORT = "import"
SCRIPT_EXPORT = "export"
SCRIPT_RENAME = "rename"
SCRIPT_VERIFY = "verify"
OS_SCRIPTS = (SCRIPT_CREATE, SCRIPT_CREATE_UNTRUSTED, SCRIPT_EXPORT,
              SCRIPT_IMPORT, SCRIPT_RENAME, SCRIPT_VERIFY)

API_FILE = "ganeti_api_version"
VARIANTS_FILE = "variants.list"
PARAMETERS_FILE = "parameters.list"

# Checks os_validate may ask the verify script for (its arguments).
VALIDATE_PARAMETERS = "parameters"
VALIDATE_CALLS = frozenset([VALIDATE_PARAMETERS])

# The only variable of the node daemon's environment the scripts inherit.
SCRIPT_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"

# Kinds of OS script logs (/var/log/ganeti/os/<kind>-...)
LOG_ADD = "add"
LOG_REINSTALL = "add"   # Ganeti logs reinstalls under "add" too
LOG_RENAME = "rename"
LOG_IMPORT = "import"
LOG_EXPORT = "export"

VARIANT_SEP = "+"


# --- names ---

def get_name(os_name):
    """``debootstrap`` of ``debootstrap+default``."""
    return os_name.split(VARIANT_SEP, 1)[0]


def get_variant(os_name):
    """``default`` of ``debootstrap+default``; "" without a variant."""
    parts = os_name.split(VARIANT_SEP, 1)
    return parts[1] if len(parts) > 1 else ""


def calculate_os_names(name, variants):
    """The names users pick from: ``name+variant`` each, or ``name``."""
    if variants:
        return ["%s%s%s" % (name, VARIANT_SEP, v) for v in variants]
    return [name]


def fill_os_params(cluster, os_name, params, private=None):
    """An instance's complete OS parameters: the cluster's for the base
    OS, then for ``os+variant``, then the instance's own (``private``
    ones last)."""
    result = dict((cluster.osparams or {}).get(get_name(os_name), {}))
    if get_variant(os_name):
        result.update((cluster.osparams or {}).get(os_name, {}))
    result.update(params or {})
    if private:
        result.update(private)
    return result


# --- reading a definition ---

class InvalidOS(Exception):
    """The definition is unusable; the message is the node's diagnosis."""


class OSDefinition:
    """One OS definition as found on this node."""

    def __init__(self, name, path, api_versions, variants, parameters,
                 scripts):
        self.name = name
        self.path = path
        self.api_versions = api_versions
        self.variants = variants
        self.parameters = parameters   # [[name, description], ...]
        self.scripts = scripts         # script name -> absolute path

    def __repr__(self):
        return "<OSDefinition %s at %s>" % (self.name, self.path)

    @property
    def api_version(self):
        """The version we speak with it: the highest both know."""
        return max(constants.OS_API_VERSIONS.intersection(self.api_versions))

    @property
    def trusted(self):
        return SCRIPT_CREATE_UNTRUSTED not in self.scripts

    @property
    def create_script(self):
        return (self.scripts.get(SCRIPT_CREATE) or
                self.scripts.get(SCRIPT_CREATE_UNTRUSTED))

    def script(self, kind):
        return self.scripts.get(kind)

    def parameter_names(self):
        return [entry[0] for entry in self.parameters]


def _strerror(err):
    if err.errno is not None and err.errno in errno.errorcode:
        return errno.errorcode[err.errno]
    return str(err)


def _read(path):
    with open(path) as fh:
        return fh.read()


def _read_api_versions(os_dir):
    api_file = os.path.join(os_dir, API_FILE)
    try:
        st = os.stat(api_file)
    except OSError as err:
        raise InvalidOS("Required file '%s' not found under path %s: %s" %
                        (API_FILE, os_dir, _strerror(err)))
    if not stat.S_ISREG(st.st_mode):
        raise InvalidOS("File '%s' in %s is not a regular file" %
                        (API_FILE, os_dir))
    try:
        lines = _read(api_file).splitlines()
    except OSError as err:
        raise InvalidOS("Error while reading the API version file at %s: %s"
                        % (api_file, _strerror(err)))
    try:
        return [int(line.strip()) for line in lines]
    except ValueError as err:
        raise InvalidOS("API version(s) can't be converted to integer: %s" %
                        err)


def _meaningful_lines(text):
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            result.append(line)
    return result


def read_os(name, search_path=None):
    """The OSDefinition of OS ``name`` (no variant) found first along
    ``search_path`` (default: the node's OS search path); InvalidOS with
    Ganeti's diagnosis if it is missing or broken."""
    if search_path is None:
        search_path = pathutils.OS_SEARCH_PATH
    os_dir = io_utils.find_in_search_path(name, search_path, os.path.isdir)
    if os_dir is None:
        raise InvalidOS("Directory for OS %s not found in search path" %
                        name)
    api_versions = _read_api_versions(os_dir)
    if not constants.OS_API_VERSIONS.intersection(api_versions):
        raise InvalidOS("API version mismatch for path '%s': found %s,"
                        " want %s." % (os_dir, api_versions,
                                       sorted(constants.OS_API_VERSIONS)))
    top = max(api_versions)
    # file -> required?
    wanted = dict((script, True) for script in OS_SCRIPTS)
    wanted[SCRIPT_CREATE] = False
    wanted[SCRIPT_CREATE_UNTRUSTED] = False
    if top >= OS_API_V15:
        wanted[VARIANTS_FILE] = False
    if top >= OS_API_V20:
        wanted[PARAMETERS_FILE] = True
    else:
        del wanted[SCRIPT_VERIFY]
    found = {}
    for filename in sorted(wanted):
        path = os.path.join(os_dir, filename)
        try:
            st = os.stat(path)
        except OSError as err:
            if err.errno == errno.ENOENT and not wanted[filename]:
                continue
            raise InvalidOS("File '%s' under path '%s' is missing (%s)" %
                            (filename, os_dir, _strerror(err)))
        if not stat.S_ISREG(st.st_mode):
            raise InvalidOS("File '%s' under path '%s' is not a regular file"
                            % (filename, os_dir))
        if filename in OS_SCRIPTS and not st.st_mode & stat.S_IXUSR:
            raise InvalidOS("File '%s' under path '%s' is not executable" %
                            (filename, os_dir))
        found[filename] = path
    if SCRIPT_CREATE not in found and SCRIPT_CREATE_UNTRUSTED not in found:
        raise InvalidOS("A create script (trusted or untrusted) under path"
                        " '%s' must exist" % os_dir)
    variants = []
    if VARIANTS_FILE in found:
        try:
            variants = _meaningful_lines(_read(found[VARIANTS_FILE]))
        except OSError as err:
            raise InvalidOS("Error while reading the OS variants file at"
                            " %s: %s" % (found[VARIANTS_FILE],
                                         _strerror(err)))
    parameters = []
    if PARAMETERS_FILE in found:
        try:
            lines = _read(found[PARAMETERS_FILE]).splitlines()
        except OSError as err:
            raise InvalidOS("Error while reading the OS parameters file at"
                            " %s: %s" % (found[PARAMETERS_FILE],
                                         _strerror(err)))
        for line in lines:
            parts = line.strip().split(None, 1)
            if parts:
                parameters.append([parts[0],
                                   parts[1] if len(parts) > 1 else ""])
    scripts = dict((k, v) for k, v in found.items() if k in OS_SCRIPTS)
    return OSDefinition(name, os_dir, api_versions, variants, parameters,
                        scripts)


def diagnose(search_path=None):
    """Every entry of every search path directory, valid or not, as
    ``[name, path, status, diagnose, variants, parameters, api_versions,
    trusted]`` rows (the ``os_diagnose`` RPC payload). An OS found in two
    directories gives two rows, the first one is the one used."""
    if search_path is None:
        search_path = pathutils.OS_SEARCH_PATH
    result = []
    for base in search_path:
        if not os.path.isdir(base):
            continue
        try:
            names = sorted(n for n in os.listdir(base)
                           if not n.startswith("."))
        except OSError:
            continue
        for name in names:
            path = os.path.join(base, name)
            try:
                osdef = read_os(name, [base])
            except InvalidOS as err:
                result.append([name, path, False, str(err), [], [], [],
                               True])
                continue
            result.append([name, path, True, "", osdef.variants,
                           osdef.parameters, osdef.api_versions,
                           osdef.trusted])
    return result


def check_variant(osdef, os_name):
    """The reason ``os_name``'s variant does not fit ``osdef``, or None."""
    variant = get_variant(os_name)
    if not osdef.variants:
        if variant:
            return ("OS '%s' doesn't support variants ('%s' passed)" %
                    (osdef.name, variant))
        return None
    if not variant:
        return "OS name '%s' must include a variant" % os_name
    if variant not in osdef.variants:
        return ("OS '%s' does not support variant '%s'" %
                (osdef.name, variant))
    return None


def check_parameters(osdef, names):
    """The reason some of ``names`` are not OS parameters, or None."""
    unknown = sorted(set(names) - set(osdef.parameter_names()))
    if unknown:
        return ("The following parameters are not supported by the OS %s:"
                " %s" % (osdef.name, ", ".join(unknown)))
    return None


# --- script environments ---

def core_env(os_name, osdef, os_params, debug=0):
    """What every script gets: API version, OS name and variant, the OS
    parameters (``OSP_<NAME>``), debug level and PATH."""
    api = osdef.api_version
    env = {
        "OS_API_VERSION": "%d" % api,
        "OS_NAME": osdef.name,
        "DEBUG_LEVEL": "%d" % debug,
    }
    variant = ""
    if api >= OS_API_V15 and osdef.variants:
        variant = get_variant(os_name) or osdef.variants[0]
    env["OS_VARIANT"] = variant
    for name, value in (os_params or {}).items():
        env["OSP_%s" % name.upper().replace("-", "_")] = str(value)
    env["PATH"] = SCRIPT_PATH
    return env


def network_env(prefix, netinfo):
    """``<prefix>NETWORK_*`` of a NIC's network (its ``netinfo`` dict)."""
    env = {
        prefix + "NETWORK_NAME": str(netinfo.get("name") or ""),
        prefix + "NETWORK_UUID": str(netinfo.get("uuid") or ""),
        prefix + "NETWORK_TAGS": " ".join(netinfo.get("tags") or []),
    }
    for key, suffix in (("network", "SUBNET"), ("gateway", "GATEWAY"),
                        ("network6", "SUBNET6"), ("gateway6", "GATEWAY6"),
                        ("mac_prefix", "MAC_PREFIX")):
        if netinfo.get(key):
            env[prefix + "NETWORK_" + suffix] = str(netinfo[key])
    return env


def instance_env(instance, osdef, disks, debug=0, secondary_nodes=None):
    """The environment of an instance's OS scripts.

    ``instance`` is an objects.Instance with filled ``hvparams``,
    ``beparams``, ``osparams`` (and ``nicparams`` of its NICs); ``disks``
    lists ``(objects.Disk, dev_path, uri)`` per disk in index order, the
    path being where the node reaches the disk (a block device or a file).
    """
    params = dict(instance.osparams or {})
    params.update(instance.osparams_private or {})
    env = core_env(instance.os, osdef, params, debug=debug)
    for attr in ("name", "os", "uuid", "ctime", "mtime", "primary_node"):
        env["INSTANCE_%s" % attr.upper()] = str(getattr(instance, attr))
    env["INSTANCE_SECONDARY_NODES"] = " ".join(secondary_nodes or [])
    env["HYPERVISOR"] = str(instance.hypervisor)
    env["DISK_COUNT"] = "%d" % len(disks)
    env["NIC_COUNT"] = "%d" % len(instance.nics or [])
    hvp = instance.hvparams or {}
    for idx, (disk, dev_path, uri) in enumerate(disks):
        prefix = "DISK_%d_" % idx
        env[prefix + "ACCESS"] = str(disk.mode or "rw")
        env[prefix + "UUID"] = str(disk.uuid)
        if dev_path:
            env[prefix + "PATH"] = dev_path
        if uri:
            env[prefix + "URI"] = uri
        if disk.name:
            env[prefix + "NAME"] = disk.name
        if disk.size is not None:
            env[prefix + "SIZE"] = "%d" % disk.size
        if "disk_type" in hvp:
            env[prefix + "FRONTEND_TYPE"] = str(hvp["disk_type"])
        if disk.dev_type in constants.DTS_FILEBASED:
            env[prefix + "BACKEND_TYPE"] = "file:%s" % disk.logical_id[0]
        elif disk.dev_type:
            env[prefix + "BACKEND_TYPE"] = "block"
    for idx, nic in enumerate(instance.nics or []):
        prefix = "NIC_%d_" % idx
        nicparams = nic.nicparams or {}
        mode = nicparams.get(constants.NIC_MODE)
        link = nicparams.get(constants.NIC_LINK)
        env[prefix + "MAC"] = str(nic.mac)
        env[prefix + "UUID"] = str(nic.uuid)
        if nic.name:
            env[prefix + "NAME"] = nic.name
        if nic.ip:
            env[prefix + "IP"] = nic.ip
        env[prefix + "MODE"] = str(mode)
        if mode == constants.NIC_MODE_BRIDGED:
            env[prefix + "BRIDGE"] = str(link)
        if link:
            env[prefix + "LINK"] = str(link)
        if nic.netinfo:
            env.update(network_env(prefix, nic.netinfo))
        if "nic_type" in hvp:
            env[prefix + "FRONTEND_TYPE"] = str(hvp["nic_type"])
    for source, kind in ((instance.beparams, "BE"), (hvp, "HV")):
        for key, value in (source or {}).items():
            env["INSTANCE_%s_%s" % (kind, key)] = str(value)
    return env


def create_env(base_env, reinstall):
    env = dict(base_env)
    if reinstall:
        env["INSTANCE_REINSTALL"] = "1"
    return env


def rename_env(base_env, old_name):
    env = dict(base_env)
    env["OLD_INSTANCE_NAME"] = old_name
    return env


def import_env(base_env, idx, dev_path, uri=None):
    """``import`` runs once per disk with the data on its stdin."""
    env = dict(base_env)
    env["IMPORT_INDEX"] = "%d" % idx
    env["IMPORT_DEVICE"] = dev_path
    env["IMPORT_DISK_PATH"] = dev_path
    if uri:
        env["IMPORT_DISK_URI"] = uri
    return env


def export_env(base_env, idx, dev_path, uri=None, size_fd=None):
    """``export`` runs once per disk and writes the data to its stdout;
    with ``size_fd`` it may announce the byte count on that descriptor."""
    env = dict(base_env)
    env["EXPORT_INDEX"] = "%d" % idx
    env["EXPORT_DEVICE"] = dev_path
    env["EXPORT_DISK_PATH"] = dev_path
    if uri:
        env["EXPORT_DISK_URI"] = uri
    if size_fd is not None:
        env["EXP_SIZE_FD"] = "%d" % size_fd
    return env


def log_file_name(kind, os_name, instance_name, component=None, now=None):
    """``/var/log/ganeti/os/<kind>-<os>-<instance>[-<component>]-<time>.log``
    (``os`` as the instance names it, variant included)."""
    suffix = "-%s" % component if component else ""
    stamp = time.strftime("%Y-%m-%d_%H_%M_%S",
                          time.localtime(now if now is not None else
                                         time.time()))
    base = "%s-%s-%s%s-%s.log" % (kind, os_name, instance_name, suffix,
                                  stamp)
    return os.path.join(pathutils.LOG_OS_DIR, base)
