"""Shared vocabulary: versions, statuses, parameter names and their defaults.

Everything here is plain data; nothing imports from the rest of the package,
so every layer may use it.
"""

from ganeti import _version

RELEASE_VERSION = _version.RELEASE_VERSION
VCS_VERSION = "(ganeti) version %s" % RELEASE_VERSION
VERSION_MAJOR, VERSION_MINOR, VERSION_REVISION = _version.VERSION_TUPLE


def build_version(major, minor, revision):
    """Ganeti's packed version number (e.g. 3.0.0 -> 3000000)."""
    return 1000000 * major + 10000 * minor + revision


CONFIG_MAJOR, CONFIG_MINOR, CONFIG_REVISION = VERSION_MAJOR, VERSION_MINOR, 0
CONFIG_VERSION = build_version(CONFIG_MAJOR, CONFIG_MINOR, CONFIG_REVISION)
PROTOCOL_VERSION = CONFIG_VERSION
LUXI_VERSION = CONFIG_VERSION
OS_API_VERSION = 20
OS_API_VERSIONS = frozenset([10, 15, 20])
EXPORT_VERSION = 0
JOB_QUEUE_VERSION = 1

# Exit codes
EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_CONFIG_CORRUPT = 2
EXIT_NOTCLUSTER = 5
EXIT_NOTMASTER = 11
EXIT_NODESETUP_ERROR = 12
EXIT_CONFIRMATION = 13
EXIT_UNKNOWN_FIELD = 14

# Ports and daemons
NODED = "ganeti-noded"
MASTERD = "ganeti-masterd"
RAPI = "ganeti-rapi"
WATCHER = "ganeti-watcher"
DEFAULT_NODED_PORT = 1811
DEFAULT_RAPI_PORT = 5080
DEFAULT_MIGRATION_PORT = 8102

# Job and opcode status
OP_STATUS_QUEUED = "queued"
OP_STATUS_WAITING = "waiting"
OP_STATUS_CANCELING = "canceling"
OP_STATUS_RUNNING = "running"
OP_STATUS_CANCELED = "canceled"
OP_STATUS_SUCCESS = "success"
OP_STATUS_ERROR = "error"
OPS_FINALIZED = frozenset([OP_STATUS_CANCELED, OP_STATUS_SUCCESS,
                           OP_STATUS_ERROR])
JOB_STATUS_QUEUED = OP_STATUS_QUEUED
JOB_STATUS_WAITING = OP_STATUS_WAITING
JOB_STATUS_CANCELING = OP_STATUS_CANCELING
JOB_STATUS_RUNNING = OP_STATUS_RUNNING
JOB_STATUS_CANCELED = OP_STATUS_CANCELED
JOB_STATUS_SUCCESS = OP_STATUS_SUCCESS
JOB_STATUS_ERROR = OP_STATUS_ERROR
JOBS_PENDING = frozenset([JOB_STATUS_QUEUED, JOB_STATUS_WAITING,
                          JOB_STATUS_CANCELING])
JOBS_FINALIZED = OPS_FINALIZED
JOB_STATUS_ALL = frozenset([JOB_STATUS_QUEUED, JOB_STATUS_WAITING,
                            JOB_STATUS_CANCELING, JOB_STATUS_RUNNING,
                            JOB_STATUS_CANCELED, JOB_STATUS_SUCCESS,
                            JOB_STATUS_ERROR])
JOB_NOTCHANGED = "nochange"

# Priorities: lower number = more urgent
OP_PRIO_LOWEST = 19
OP_PRIO_HIGHEST = -20
OP_PRIO_LOW = 10
OP_PRIO_NORMAL = 0
OP_PRIO_HIGH = -10
OP_PRIO_SUBMIT_VALID = frozenset([OP_PRIO_LOW, OP_PRIO_NORMAL, OP_PRIO_HIGH])
OP_PRIO_DEFAULT = OP_PRIO_NORMAL
PRIORITY_NAMES = {"low": OP_PRIO_LOW, "normal": OP_PRIO_NORMAL,
                  "high": OP_PRIO_HIGH}

# Job log entry types
ELOG_MESSAGE = "message"
ELOG_REMOTE_IMPORT = "remote-import"
ELOG_JQUEUE_TEST = "jqueue-test"
ELOG_DELAY_TEST = "delay-test"
ELOG_MESSAGE_LIST = "message-list"

JOB_QUEUE_SIZE_HARD_LIMIT = 5000
JOB_QUEUE_ARCHIVE_DIR_SIZE = 10000
JOB_QUEUE_FILES_PERMS = 0o640
LUXI_WFJC_TIMEOUT = 89
DEFAULT_MAX_RUNNING_JOBS = 20
DEFAULT_MAX_TRACKED_JOBS = 25

# Error classification codes (second argument of OpPrereqError)
ERRORS_ECODE_RESOLVER = "resolver_error"
ERRORS_ECODE_NORES = "insufficient_resources"
ERRORS_ECODE_TEMP_NORES = "temp_insufficient_resources"
ERRORS_ECODE_INVAL = "wrong_input"
ERRORS_ECODE_STATE = "wrong_state"
ERRORS_ECODE_NOENT = "unknown_entity"
ERRORS_ECODE_EXISTS = "already_exists"
ERRORS_ECODE_NOTUNIQUE = "resource_not_unique"
ERRORS_ECODE_FAULT = "internal_error"
ERRORS_ECODE_ENVIRON = "environment_error"

# Locking levels, in acquisition order
LOCKS_CLUSTER = "cluster"
LOCKS_INSTANCE = "instance"
LOCKS_NODEGROUP = "nodegroup"
LOCKS_NODE = "node"
LOCKS_NODE_RES = "node-res"
LOCKS_NETWORK = "network"
LOCK_LEVELS = (LOCKS_CLUSTER, LOCKS_INSTANCE, LOCKS_NODEGROUP, LOCKS_NODE,
               LOCKS_NODE_RES, LOCKS_NETWORK)
LOCKS_ALL = None  # marker: all locks at a level
BGL = "BGL"

# Tags
TAG_CLUSTER = "cluster"
TAG_NODEGROUP = "nodegroup"
TAG_NODE = "node"
TAG_INSTANCE = "instance"
TAG_NETWORK = "network"
VALID_TAG_TYPES = frozenset([TAG_CLUSTER, TAG_NODEGROUP, TAG_NODE,
                             TAG_INSTANCE, TAG_NETWORK])
MAX_TAG_LEN = 128
MAX_TAGS_PER_OBJ = 4096

# Hypervisors
HT_XEN_PVM = "xen-pvm"
HT_XEN_HVM = "xen-hvm"
HT_KVM = "kvm"
HT_LXC = "lxc"
HT_FAKE = "fake"
HT_CHROOT = "chroot"
HYPER_TYPES = (HT_XEN_PVM, HT_KVM, HT_XEN_HVM, HT_LXC, HT_FAKE, HT_CHROOT)
DEFAULT_ENABLED_HYPERVISOR = HT_XEN_PVM

# Disk templates
DT_DISKLESS = "diskless"
DT_FILE = "file"
DT_SHARED_FILE = "sharedfile"
DT_PLAIN = "plain"
DT_DRBD8 = "drbd"
DT_BLOCK = "blockdev"
DT_RBD = "rbd"
DT_EXT = "ext"
DT_GLUSTER = "gluster"
DISK_TEMPLATES = (DT_DISKLESS, DT_FILE, DT_SHARED_FILE, DT_PLAIN, DT_DRBD8,
                  DT_BLOCK, DT_RBD, DT_EXT, DT_GLUSTER)
DEFAULT_ENABLED_DISK_TEMPLATES = [DT_DRBD8, DT_PLAIN]
DTS_FILEBASED = frozenset([DT_FILE, DT_SHARED_FILE, DT_GLUSTER])
# disks reachable from every node / mirrored by Ganeti between two nodes
DTS_EXT_MIRROR = frozenset([DT_DISKLESS, DT_SHARED_FILE, DT_BLOCK, DT_RBD,
                            DT_EXT, DT_GLUSTER])
DTS_INT_MIRROR = frozenset([DT_DRBD8])
DTS_MIRRORED = DTS_EXT_MIRROR | DTS_INT_MIRROR

DEFAULT_MAC_PREFIX = "aa:00:00"
DEFAULT_BRIDGE = "xen-br0"
DEFAULT_VG = "xenvg"
DEFAULT_MASTER_NETDEV = "xen-br0"
DEFAULT_DRBD_HELPER = "/bin/true"
MASTER_POOL_SIZE_DEFAULT = 10
IP4_ADDRESS_ANY = "0.0.0.0"
IP4_FAMILY = 2
IP6_FAMILY = 10

NIC_MODE_BRIDGED = "bridged"
NIC_MODE_ROUTED = "routed"
NIC_MODE_OVS = "openvswitch"
NIC_VALID_MODES = frozenset([NIC_MODE_BRIDGED, NIC_MODE_ROUTED, NIC_MODE_OVS])

ADMINST_UP = "up"
ADMINST_DOWN = "down"
ADMINST_OFFLINE = "offline"
ADMIN_SOURCE = "admin"
USER_SOURCE = "user"

# Hypervisor parameter defaults (3.0.2)
HVC_DEFAULTS = {
    HT_KVM: {
        "acpi": True, "boot_order": "disk", "cdrom2_image_path": "",
        "cdrom_disk_type": "", "cdrom_image_path": "", "cpu_cores": 0,
        "cpu_mask": "all", "cpu_sockets": 0, "cpu_threads": 0,
        "cpu_type": "", "disk_aio": "threads", "disk_cache": "default",
        "disk_discard": "default", "disk_type": "paravirtual",
        "floppy_image_path": "", "initrd_path": "", "kernel_args": "ro",
        "kernel_path": "/boot/vmlinuz-3-kvmU", "keymap": "", "kvm_extra": "",
        "kvm_flag": "", "kvm_path": "/usr/bin/kvm",
        "kvm_pci_reservations": 12, "machine_version": "", "mem_path": "",
        "migration_bandwidth": 32, "migration_caps": "",
        "migration_downtime": 30, "migration_mode": "live",
        "migration_port": DEFAULT_MIGRATION_PORT, "nic_type": "paravirtual",
        "reboot_behavior": "reboot", "root_path": "/dev/vda1",
        "scsi_controller_type": "lsi", "security_domain": "",
        "security_model": "none", "serial_console": True,
        "serial_speed": 38400, "soundhw": "", "spice_bind": "",
        "spice_image_compression": "", "spice_ip_version": 0,
        "spice_jpeg_wan_compression": "", "spice_password_file": "",
        "spice_playback_compression": True, "spice_streaming_video": "",
        "spice_tls_ciphers": "HIGH:-DES:-3DES:-EXPORT:-DH",
        "spice_use_tls": False, "spice_use_vdagent": True,
        "spice_zlib_glz_wan_compression": "", "usb_devices": "",
        "usb_mouse": "", "use_chroot": False, "use_guest_agent": False,
        "use_localtime": False, "user_shutdown": False, "vga": "",
        "vhost_net": False, "virtio_net_queues": 1, "vnc_bind_address": "",
        "vnc_password_file": "", "vnc_tls": False, "vnc_x509_path": "",
        "vnc_x509_verify": False, "vnet_hdr": True,
    },
    HT_XEN_PVM: {
        "blockdev_prefix": "sd", "bootloader_args": "", "bootloader_path": "",
        "cpu_cap": 0, "cpu_mask": "all", "cpu_weight": 256, "cpuid": "",
        "initrd_path": "", "kernel_args": "ro",
        "kernel_path": "/boot/vmlinuz-3-xenU", "migration_mode": "live",
        "migration_port": 8002, "reboot_behavior": "reboot",
        "root_path": "/dev/xvda1", "soundhw": "", "use_bootloader": False,
        "vif_script": "", "xen_cmd": "xm",
    },
    HT_XEN_HVM: {
        "acpi": True, "blockdev_prefix": "hd", "boot_order": "cd",
        "cdrom_image_path": "", "cpu_cap": 0, "cpu_mask": "all",
        "cpu_weight": 256, "cpuid": "",
        "device_model": "/usr/lib/xen/bin/qemu-dm",
        "disk_type": "paravirtual",
        "kernel_path": "/usr/lib/xen/boot/hvmloader",
        "migration_mode": "non-live", "migration_port": 8002,
        "nic_type": "rtl8139", "pae": True, "pci_pass": "",
        "reboot_behavior": "reboot", "soundhw": "", "use_localtime": False,
        "vif_script": "", "vif_type": "ioemu", "viridian": False,
        "vnc_bind_address": "0.0.0.0",
        "vnc_password_file": "/etc/ganeti/vnc-cluster-password",
        "xen_cmd": "xm",
    },
    HT_LXC: {
        "cpu_mask": "",
        "devices": ("c 1:3 rw,c 1:5 rw,c 1:7 rw,c 1:8 rw,c 1:9 rw,"
                    "c 1:10 rw,c 5:0 rw,c 5:1 rw,c 5:2 rw,c 136:* rw"),
        "drop_capabilities": ("mac_override,sys_boot,sys_module,sys_time,"
                              "sys_admin"),
        "extra_cgroups": "", "extra_config": "", "num_ttys": 6,
        "startup_timeout": 30,
    },
    HT_FAKE: {"migration_mode": "live"},
    HT_CHROOT: {"init_script": "/ganeti-chroot"},
}
HVC_GLOBALS = frozenset(["migration_port", "migration_bandwidth",
                         "migration_mode", "xen_cmd"])

BE_MEMORY = "memory"
BE_MAXMEM = "maxmem"
BE_MINMEM = "minmem"
BE_VCPUS = "vcpus"
BE_AUTO_BALANCE = "auto_balance"
BE_ALWAYS_FAILOVER = "always_failover"
BE_SPINDLE_USE = "spindle_use"
BEC_DEFAULTS = {
    BE_MINMEM: 128, BE_MAXMEM: 128, BE_VCPUS: 1, BE_AUTO_BALANCE: True,
    BE_ALWAYS_FAILOVER: False, BE_SPINDLE_USE: 1,
}
BES_PARAMETER_TYPES = {
    BE_MINMEM: "size", BE_MAXMEM: "size", BE_VCPUS: "int",
    BE_AUTO_BALANCE: "bool", BE_ALWAYS_FAILOVER: "bool",
    BE_SPINDLE_USE: "int",
}

NIC_MODE = "mode"
NIC_LINK = "link"
NIC_VLAN = "vlan"
NICC_DEFAULTS = {NIC_MODE: NIC_MODE_BRIDGED, NIC_LINK: DEFAULT_BRIDGE,
                 NIC_VLAN: ""}

NDC_DEFAULTS = {
    "oob_program": "", "spindle_count": 1, "exclusive_storage": False,
    "ovs": False, "ovs_name": "switch1", "ovs_link": "", "ssh_port": 22,
    "cpu_speed": 1,
}
NDS_PARAMETER_TYPES = {
    "oob_program": "string", "spindle_count": "int",
    "exclusive_storage": "bool", "ovs": "bool", "ovs_name": "string",
    "ovs_link": "string", "ssh_port": "int", "cpu_speed": "float",
}

DISK_DT_DEFAULTS = {
    DT_PLAIN: {"stripes": 1},
    DT_DRBD8: {
        "resync-rate": 61440, "data-stripes": 1, "meta-stripes": 1,
        "disk-barriers": "n", "meta-barriers": False, "metavg": DEFAULT_VG,
        "disk-custom": "", "net-custom": "", "protocol": "C",
        "dynamic-resync": False, "c-plan-ahead": 20, "c-fill-target": 0,
        "c-delay-target": 1, "c-max-rate": 61440, "c-min-rate": 4096,
    },
    DT_DISKLESS: {}, DT_FILE: {}, DT_SHARED_FILE: {}, DT_BLOCK: {},
    DT_RBD: {"pool": "rbd", "access": "kernelspace"},
    DT_EXT: {"access": "kernelspace"},
    DT_GLUSTER: {"host": "127.0.0.1", "port": 24007, "volume": "gv0",
                 "access": "kernelspace"},
}

ISPEC_MEM_SIZE = "memory-size"
ISPEC_CPU_COUNT = "cpu-count"
ISPEC_DISK_COUNT = "disk-count"
ISPEC_DISK_SIZE = "disk-size"
ISPEC_NIC_COUNT = "nic-count"
ISPEC_SPINDLE_USE = "spindle-use"
ISPECS_MIN_DEFAULTS = {ISPEC_MEM_SIZE: 128, ISPEC_CPU_COUNT: 1,
                       ISPEC_DISK_COUNT: 1, ISPEC_DISK_SIZE: 1024,
                       ISPEC_NIC_COUNT: 1, ISPEC_SPINDLE_USE: 1}
ISPECS_MAX_DEFAULTS = {ISPEC_MEM_SIZE: 32768, ISPEC_CPU_COUNT: 8,
                       ISPEC_DISK_COUNT: 16, ISPEC_DISK_SIZE: 1048576,
                       ISPEC_NIC_COUNT: 8, ISPEC_SPINDLE_USE: 12}
IPOLICY_DEFAULTS = {
    "minmax": [{"min": dict(ISPECS_MIN_DEFAULTS),
                "max": dict(ISPECS_MAX_DEFAULTS)}],
    "std": dict(ISPECS_MIN_DEFAULTS),
    "disk-templates": list(DISK_TEMPLATES),
    "vcpu-ratio": 4.0,
    "spindle-ratio": 32.0,
}

DATA_COLLECTOR_NAMES = ("cpu-avg-load", "diskstats", "drbd",
                        "inst-status-xen", "lv", "xen-cpu-avg-load")
DATA_COLLECTOR_INTERVAL = 5000000  # microseconds
COMPRESSION_TOOLS_DEFAULT = ["gzip", "gzip-fast", "gzip-slow"]
SSHK_RSA = "rsa"
SSH_DEFAULT_KEY_BITS = 2048

# RPC
RPC_TMO_URGENT = 60
RPC_TMO_FAST = 300
RPC_TMO_NORMAL = 900
RPC_TMO_SLOW = 3600
RPC_CONNECT_TIMEOUT = 5
RPC_ENCODING_NONE = 0
RPC_ENCODING_ZLIB_BASE64 = 1

# Query result status
RS_NORMAL = 0
RS_UNKNOWN = 1
RS_NODATA = 2
RS_UNAVAIL = 3
RS_OFFLINE = 4

QR_CLUSTER = "cluster"
QR_INSTANCE = "instance"
QR_NODE = "node"
QR_LOCK = "lock"
QR_GROUP = "group"
QR_OS = "os"
QR_JOB = "job"
QR_EXPORT = "export"
QR_NETWORK = "network"
QR_EXTSTORAGE = "extstorage"
QR_FILTER = "filter"
QR_VIA_LUXI = frozenset([QR_INSTANCE, QR_NODE, QR_GROUP, QR_JOB, QR_EXPORT,
                         QR_LOCK, QR_NETWORK, QR_FILTER])

QFT_UNKNOWN = "unknown"
QFT_TEXT = "text"
QFT_BOOL = "bool"
QFT_NUMBER = "number"
QFT_NUMBER_FLOAT = "float"
QFT_UNIT = "unit"
QFT_TIMESTAMP = "timestamp"
QFT_OTHER = "other"

# SSconf keys
SS_CLUSTER_NAME = "cluster_name"
SS_CLUSTER_TAGS = "cluster_tags"
SS_FILE_STORAGE_DIR = "file_storage_dir"
SS_SHARED_FILE_STORAGE_DIR = "shared_file_storage_dir"
SS_GLUSTER_STORAGE_DIR = "gluster_storage_dir"
SS_MASTER_CANDIDATES = "master_candidates"
SS_MASTER_CANDIDATES_IPS = "master_candidates_ips"
SS_MASTER_CANDIDATES_CERTS = "master_candidates_certs"
SS_MASTER_IP = "master_ip"
SS_MASTER_NETDEV = "master_netdev"
SS_MASTER_NETMASK = "master_netmask"
SS_MASTER_NODE = "master_node"
SS_NODE_LIST = "node_list"
SS_NODE_PRIMARY_IPS = "node_primary_ips"
SS_NODE_SECONDARY_IPS = "node_secondary_ips"
SS_NODE_VM_CAPABLE = "node_vm_capable"
SS_OFFLINE_NODES = "offline_nodes"
SS_ONLINE_NODES = "online_nodes"
SS_PRIMARY_IP_FAMILY = "primary_ip_family"
SS_INSTANCE_LIST = "instance_list"
SS_RELEASE_VERSION = "release_version"
SS_HYPERVISOR_LIST = "hypervisor_list"
SS_MAINTAIN_NODE_HEALTH = "maintain_node_health"
SS_UID_POOL = "uid_pool"
SS_NODEGROUPS = "nodegroups"
SS_NETWORKS = "networks"
SS_ENABLED_USER_SHUTDOWN = "enabled_user_shutdown"
SS_SSH_PORTS = "ssh_ports"
SS_HVPARAMS_PREF = "hvparams_"
SSCONF_MAX_SIZE = 131072

INITIAL_NODE_GROUP_NAME = "default"
ALLOC_POLICY_PREFERRED = "preferred"
ALLOC_POLICY_LAST_RESORT = "last_resort"
ALLOC_POLICY_UNALLOCABLE = "unallocable"
VALID_ALLOC_POLICIES = (ALLOC_POLICY_PREFERRED, ALLOC_POLICY_LAST_RESORT,
                        ALLOC_POLICY_UNALLOCABLE)

# Node roles (query field "role")
NR_MASTER = "M"
NR_MCANDIDATE = "C"
NR_REGULAR = "R"
NR_DRAINED = "D"
NR_OFFLINE = "O"

X509_CERT_CN = "ganeti.example.com"
X509_CERT_DEFAULT_VALIDITY = 5 * 365
RSA_KEY_BITS = 2048

WATCHER_PAUSE_FILE_NAME = "watcher.pause"

# Storage units of nodes (gnt-node list-storage/modify-storage/repair-storage)
ST_FILE = "file"
ST_SHARED_FILE = "sharedfile"
ST_GLUSTER = "gluster"
ST_LVM_PV = "lvm-pv"
ST_LVM_VG = "lvm-vg"
ST_DISKLESS = "diskless"
ST_BLOCK = "blockdev"
ST_RADOS = "rados"
ST_EXT = "ext"
STORAGE_TYPES = frozenset([ST_FILE, ST_SHARED_FILE, ST_GLUSTER, ST_LVM_PV,
                           ST_LVM_VG, ST_DISKLESS, ST_BLOCK, ST_RADOS,
                           ST_EXT])
# The types whose units nodes can list (storage_list)
STS_REPORT_NODE_STORAGE = (ST_FILE, ST_SHARED_FILE, ST_LVM_PV, ST_LVM_VG)
MAP_DISK_TEMPLATE_STORAGE_TYPE = {
    DT_BLOCK: ST_BLOCK, DT_DISKLESS: ST_DISKLESS, DT_DRBD8: ST_LVM_VG,
    DT_EXT: ST_EXT, DT_FILE: ST_FILE, DT_PLAIN: ST_LVM_VG,
    DT_RBD: ST_RADOS, DT_SHARED_FILE: ST_SHARED_FILE,
    DT_GLUSTER: ST_GLUSTER,
}
SF_NODE = "node"
SF_TYPE = "type"
SF_NAME = "name"
SF_SIZE = "size"
SF_FREE = "free"
SF_USED = "used"
SF_ALLOCATABLE = "allocatable"
VALID_STORAGE_FIELDS = frozenset([SF_NODE, SF_TYPE, SF_NAME, SF_SIZE,
                                  SF_FREE, SF_USED, SF_ALLOCATABLE])
MODIFIABLE_STORAGE_FIELDS = {ST_LVM_PV: frozenset([SF_ALLOCATABLE])}
SO_FIX_CONSISTENCY = "fix-consistency"
VALID_STORAGE_OPERATIONS = {ST_LVM_VG: frozenset([SO_FIX_CONSISTENCY])}
# gnt-node volumes (node_volumes) fields
VF_NODE = "node"
VF_PHYS = "phys"
VF_VG = "vg"
VF_NAME = "name"
VF_SIZE = "size"
VF_INSTANCE = "instance"
VF_DEV = "dev"

# Out-of-band management (ndparam oob_program)
OOB_POWER_ON = "power-on"
OOB_POWER_OFF = "power-off"
OOB_POWER_CYCLE = "power-cycle"
OOB_POWER_STATUS = "power-status"
OOB_HEALTH = "health"
OOB_COMMANDS = frozenset([OOB_POWER_ON, OOB_POWER_OFF, OOB_POWER_CYCLE,
                          OOB_POWER_STATUS, OOB_HEALTH])
OOB_POWER_STATUS_POWERED = "powered"
OOB_TIMEOUT = 60
OOB_POWER_DELAY = 2.0
OOB_STATUS_OK = "OK"
OOB_STATUS_WARNING = "WARNING"
OOB_STATUS_CRITICAL = "CRITICAL"
OOB_STATUS_UNKNOWN = "UNKNOWN"
OOB_STATUSES = frozenset([OOB_STATUS_OK, OOB_STATUS_WARNING,
                          OOB_STATUS_CRITICAL, OOB_STATUS_UNKNOWN])

# Hypervisor and disk state (hv_state/disk_state of nodes and groups)
HVSTS_PARAMETER_TYPES = {"mem_total": "int", "mem_node": "int",
                         "mem_hv": "int", "cpu_total": "int",
                         "cpu_node": "int"}
DSS_PARAMETER_TYPES = {"disk_total": "int", "disk_reserved": "int",
                       "disk_overhead": "int"}
DS_VALID_TYPES = frozenset([DT_PLAIN])
