"""Every file and directory Ganeti uses.

Paths come from ``./configure`` (``ganeti._autoconf``, generated) with Debian
defaults when the tree is not configured. When ``$GANETI_ROOTDIR`` is set,
every path is relocated under it so that several nodes can share one
filesystem without namespaces.
"""

import os

try:
    from ganeti import _autoconf as _ac
except ImportError:  # unconfigured source tree
    _ac = None


def _conf(name, default):
    return getattr(_ac, name, default) if _ac is not None else default


GANETI_ROOTDIR = os.environ.get("GANETI_ROOTDIR", "").rstrip("/")


def _root(path):
    return GANETI_ROOTDIR + path if GANETI_ROOTDIR else path


LOCALSTATEDIR = _conf("LOCALSTATEDIR", "/var")
SYSCONFDIR = _conf("SYSCONFDIR", "/etc")

DATA_DIR = _root(LOCALSTATEDIR + "/lib/ganeti")
RUN_DIR = _root(LOCALSTATEDIR + "/run/ganeti")
LOG_DIR = _root(LOCALSTATEDIR + "/log/ganeti")
CONF_DIR = _root(SYSCONFDIR + "/ganeti")
LOCK_DIR = _root(LOCALSTATEDIR + "/lock")
SOCKET_DIR = RUN_DIR + "/socket"
SSCONF_LOCK_FILE = LOCK_DIR + "/ganeti-ssconf.lock"
WATCHER_LOCK_FILE = LOCK_DIR + "/ganeti-watcher.lock"

CLUSTER_CONF_FILE = DATA_DIR + "/config.data"
NODED_CERT_FILE = DATA_DIR + "/server.pem"
NODED_CLIENT_CERT_FILE = DATA_DIR + "/client.pem"
RAPI_CERT_FILE = DATA_DIR + "/rapi.pem"
CONFD_HMAC_KEY = DATA_DIR + "/hmac.key"
SPICE_CERT_FILE = DATA_DIR + "/spice.pem"
SPICE_CACERT_FILE = DATA_DIR + "/spice-ca.pem"
CLUSTER_DOMAIN_SECRET_FILE = DATA_DIR + "/cluster-domain-secret"
SSH_KNOWN_HOSTS_FILE = DATA_DIR + "/known_hosts"
SSH_PUB_KEYS = DATA_DIR + "/ganeti_pub_keys"
RAPI_DATA_DIR = DATA_DIR + "/rapi"
RAPI_USERS_FILE = RAPI_DATA_DIR + "/users"
QUEUE_DIR = DATA_DIR + "/queue"
JOB_QUEUE_LOCK_FILE = QUEUE_DIR + "/lock"
JOB_QUEUE_SERIAL_FILE = QUEUE_DIR + "/serial"
JOB_QUEUE_VERSION_FILE = QUEUE_DIR + "/version"
JOB_QUEUE_ARCHIVE_DIR = QUEUE_DIR + "/archive"
JOB_QUEUE_DRAIN_FILE = QUEUE_DIR + "/drain"
WATCHER_PAUSEFILE = DATA_DIR + "/watcher.pause"
EXPORT_DIR = _root(LOCALSTATEDIR + "/lib/ganeti/export")
SSCONF_PREFIX = "ssconf_"

MASTER_SOCKET = SOCKET_DIR + "/ganeti-master"
QUERY_SOCKET = SOCKET_DIR + "/ganeti-query"

HOOKS_BASE_DIR = CONF_DIR + "/hooks"
FILE_STORAGE_PATHS_FILE = CONF_DIR + "/file-storage-paths"
EXTERNAL_MASTER_SETUP_SCRIPT = CONF_DIR + "/scripts/master-ip-setup"
RESTRICTED_COMMANDS_DIR = CONF_DIR + "/restricted-commands"
VNC_PASSWORD_FILE = CONF_DIR + "/vnc-cluster-password"

DEFAULT_FILE_STORAGE_DIR = _root(_conf("FILE_STORAGE_DIR",
                                       "/srv/ganeti/file-storage"))
DEFAULT_SHARED_FILE_STORAGE_DIR = _root(
    _conf("SHARED_FILE_STORAGE_DIR", "/srv/ganeti/shared-file-storage"))
DEFAULT_GLUSTER_STORAGE_DIR = _conf("GLUSTER_STORAGE_DIR",
                                    "/var/run/ganeti/gluster")
OS_SEARCH_PATH = [_root(p) for p in _conf(
    "OS_SEARCH_PATH", "/srv/ganeti/os,/usr/local/lib/ganeti/os,"
    "/usr/lib/ganeti/os,/usr/share/ganeti/os").split(",")]
ES_SEARCH_PATH = [_root(p) for p in _conf(
    "ES_SEARCH_PATH", "/srv/ganeti/extstorage,/usr/local/lib/ganeti/"
    "extstorage,/usr/lib/ganeti/extstorage,/usr/share/ganeti/extstorage"
    ).split(",")]
# Where instance allocators (hail...) are looked for, in this order.
IALLOCATOR_SEARCH_PATH = [_root(p) for p in _conf(
    "IALLOCATOR_SEARCH_PATH", "/usr/lib/ganeti/iallocators,"
    "/usr/local/lib/ganeti/iallocators").split(",")]
KVM_PATH = _conf("KVM_PATH", "/usr/bin/kvm")
SSH_CONFIG_DIR = _conf("SSH_CONFIG_DIR", "/etc/ssh")

LOG_NODESERVER = LOG_DIR + "/node-daemon.log"
LOG_MASTERDAEMON = LOG_DIR + "/master-daemon.log"
LOG_RAPISERVER = LOG_DIR + "/rapi-daemon.log"
LOG_COMMANDS = LOG_DIR + "/commands.log"
LOG_WATCHER = LOG_DIR + "/watcher.log"
LOG_OS_DIR = LOG_DIR + "/os"

DAEMON_LOGS = {
    "ganeti-noded": LOG_NODESERVER,
    "ganeti-masterd": LOG_MASTERDAEMON,
    "ganeti-rapi": LOG_RAPISERVER,
}


def daemon_pid_file(name):
    """The pid file of daemon ``name``."""
    return RUN_DIR + "/%s.pid" % name


def ssconf_file(key):
    """The path of ssconf key ``key``."""
    return DATA_DIR + "/" + SSCONF_PREFIX + key


def job_file(job_id):
    return "%s/job-%s" % (QUEUE_DIR, job_id)


def archived_job_file(job_id):
    return "%s/%s/job-%s" % (JOB_QUEUE_ARCHIVE_DIR,
                             int(job_id) // 10000, job_id)


def get_hostname():
    """This node's name: ``$GANETI_HOSTNAME`` or the FQDN of the host."""
    name = os.environ.get("GANETI_HOSTNAME")
    if name:
        return name
    import socket
    host = socket.gethostname()
    if "." not in host:
        try:
            host = socket.getfqdn(host)
        except OSError:
            pass
    return host
