"""Query fields of the cluster (``OP_QUERY`` with ``what=cluster``).

The single row describes the cluster: names and versions, the queue drain
flag and the watcher pause (both read from their files at query time).
"""

import os
import platform
import struct
import time

from ganeti import constants
from ganeti import pathutils
from ganeti.config import derived
from ganeti.query import common
from ganeti.query.common import simple

NAME_FIELD = "name"
HOSTNAME_FIELDS = frozenset()

_T = constants


def architecture():
    """``[bits, machine]`` of this node, e.g. ``["64bits", "x86_64"]``
    (Ganeti 3.0 spells the word size "64bits")."""
    return ["%dbits" % (struct.calcsize("P") * 8), platform.machine()]


def drain_flag():
    return os.path.exists(pathutils.JOB_QUEUE_DRAIN_FILE)


def watcher_pause(now=None):
    """Epoch until which the watcher is paused, or None (not paused)."""
    try:
        with open(pathutils.WATCHER_PAUSEFILE) as fh:
            value = int(fh.read().strip())
    except (EnvironmentError, ValueError):
        return None
    if now is None:
        now = time.time()
    return value if value > now else None


class ClusterQueryData(common.QueryData):
    pass


def prepare(context, field_names):
    return ClusterQueryData(context, field_names)


def select_items(qdata, wanted):
    return [qdata.cluster]


def fetch_live(qdata, items, field_names):
    """The cluster has no live fields."""


def _master_name(qdata, cluster):
    name = derived.master_node_name(qdata.data)
    return common.NODATA if name is None else name


FIELDS = common.field_table([
    simple("architecture", "ArchInfo", _T.QFT_OTHER,
           "Architecture information", lambda q, c: architecture()),
    simple("cluster_name", "Name", _T.QFT_TEXT, "Cluster name",
           lambda q, c: c.cluster_name),
    simple("name", "Name", _T.QFT_TEXT, "Cluster name",
           lambda q, c: c.cluster_name),
    simple("config_version", "ConfigVersion", _T.QFT_NUMBER,
           "Configuration format version",
           lambda q, c: _T.CONFIG_VERSION),
    simple("export_version", "ExportVersion", _T.QFT_NUMBER,
           "Import/export file format version",
           lambda q, c: _T.EXPORT_VERSION),
    simple("os_api_version", "OsApiVersion", _T.QFT_NUMBER,
           "Operating system API version",
           lambda q, c: max(_T.OS_API_VERSIONS)),
    simple("protocol_version", "ProtocolVersion", _T.QFT_NUMBER,
           "RPC protocol version", lambda q, c: _T.PROTOCOL_VERSION),
    simple("software_version", "SoftwareVersion", _T.QFT_TEXT,
           "Software version", lambda q, c: _T.RELEASE_VERSION),
    simple("vcs_version", "VCSVersion", _T.QFT_TEXT,
           "VCS version", lambda q, c: _T.VCS_VERSION),
    simple("drain_flag", "QueueDrained", _T.QFT_BOOL,
           "Whether job queue is drained", lambda q, c: drain_flag()),
    simple("watcher_pause", "WatcherPause", _T.QFT_TIMESTAMP,
           "Until when watcher is paused", lambda q, c: watcher_pause()),
    simple("master_node", "Master", _T.QFT_TEXT, "Master node name",
           _master_name),
    simple("volume_group_name", "VgName", _T.QFT_TEXT,
           "LVM volume group name", lambda q, c: c.volume_group_name),
] + common.timestamp_fields() + common.tags_fields())
