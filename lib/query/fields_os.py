"""Query fields of OS definitions (``gnt-os``, ``OP_OS_DIAGNOSE``, RAPI
``/2/os``).

OS definitions live on the nodes, not in the configuration: every query
asks all online vm_capable nodes (``os_diagnose``) and merges the
answers. An OS is valid only if its first definition in the search path
is valid on every node that answered; its variants, parameters and API
versions are those all these nodes agree on. Nodes whose RPC failed are
left out, so one dead node daemon does not make every OS invalid.
"""

from ganeti import constants
from ganeti import osapi
from ganeti.query import common
from ganeti.query.common import simple
from ganeti.utils import text as text_utils

NAME_FIELD = "name"
HOSTNAME_FIELDS = frozenset()

_T = constants


class OsInfo:
    """One OS as the cluster sees it."""

    def __init__(self, name):
        self.name = name
        self.valid = True
        self.hidden = False
        self.blacklisted = False
        self.variants = []
        self.parameters = []
        self.api_versions = []
        self.trusted = True
        # node name -> [[path, status, diagnose, variants, parameters,
        #               api_versions, trusted], ...] (search path order)
        self.node_status = {}
        self.os_hvp = {}
        self.osparams = {}


def merge_diagnoses(node_payloads, cluster):
    """``{os name: OsInfo}`` from ``{node name: os_diagnose payload}``."""
    per_os = {}
    nodes = sorted(node_payloads)
    for node in nodes:
        for row in node_payloads[node] or []:
            (name, path, status, diag, variants, params, api_versions,
             trusted) = row
            entry = per_os.setdefault(name, dict((n, []) for n in nodes))
            entry[node].append([path, status, diag, variants,
                                [list(p) for p in params], api_versions,
                                trusted])
    result = {}
    for name, status in per_os.items():
        info = OsInfo(name)
        info.node_status = status
        info.hidden = name in (cluster.hidden_os or [])
        info.blacklisted = name in (cluster.blacklisted_os or [])
        variants = params = apis = None
        for node in nodes:
            entries = status[node]
            if not entries or not entries[0][1]:
                info.valid = False
                break
            (_, _, _, n_variants, n_params, n_apis, n_trusted) = entries[0]
            n_params = set(tuple(p) for p in n_params)
            if variants is None:
                variants, params, apis = (set(n_variants), n_params,
                                          set(n_apis))
            else:
                variants &= set(n_variants)
                params &= n_params
                apis &= set(n_apis)
            if not n_trusted:
                info.trusted = False
        if info.valid:
            info.variants = text_utils.nice_sort(variants or [])
            info.parameters = [list(p) for p in
                               sorted(params or [], key=lambda p: p[0])]
            info.api_versions = sorted(apis or [])
        for os_name in [name] + osapi.calculate_os_names(name,
                                                         info.variants):
            if os_name in (cluster.os_hvp or {}):
                info.os_hvp[os_name] = cluster.os_hvp[os_name]
            if os_name in (cluster.osparams or {}):
                info.osparams[os_name] = cluster.osparams[os_name]
        result[name] = info
    return result


class OsQueryData(common.QueryData):
    def __init__(self, context, field_names):
        common.QueryData.__init__(self, context, field_names)
        nodes = sorted(node.name for node in self.data.nodes.values()
                       if not node.offline and node.vm_capable)
        payloads = {}
        if nodes and context.rpc is not None:
            results = context.rpc.call("os_diagnose", nodes, [])
            for name, result in results.items():
                if not result.fail_msg and not result.offline:
                    payloads[name] = result.payload or []
        self.oses = merge_diagnoses(payloads, self.cluster)


def prepare(context, field_names):
    return OsQueryData(context, field_names)


def select_items(qdata, wanted):
    """OSes by name (unknown names are simply absent), or all sorted."""
    if wanted is None:
        return [qdata.oses[n] for n in text_utils.nice_sort(qdata.oses)]
    result = []
    for name in wanted:
        info = qdata.oses.get(str(name))
        if info is not None and info not in result:
            result.append(info)
    return result


def fetch_live(qdata, items, field_names):
    """Everything was fetched from the nodes in ``prepare``."""


def _attr(name, title, kind, doc, convert=None):
    def getter(qdata, item):
        value = getattr(item, name)
        return convert(value) if convert else value
    return simple(name, title, kind, doc, getter)


FIELDS = common.field_table([
    _attr("name", "Name", _T.QFT_TEXT, "Operating system name"),
    _attr("valid", "Valid", _T.QFT_BOOL,
          "Whether the definition is valid on all nodes"),
    _attr("hidden", "Hidden", _T.QFT_BOOL,
          "Whether the operating system is hidden"),
    _attr("blacklisted", "Blacklisted", _T.QFT_BOOL,
          "Whether the operating system is blacklisted"),
    _attr("variants", "Variants", _T.QFT_OTHER,
          "Operating system variants", list),
    _attr("api_versions", "ApiVersions", _T.QFT_OTHER,
          "Operating system API versions", list),
    _attr("parameters", "Parameters", _T.QFT_OTHER,
          "Operating system parameters ([name, description])",
          lambda v: [list(p) for p in v]),
    _attr("node_status", "NodeStatus", _T.QFT_OTHER,
          "Per-node status of the definition", common.dict_copy),
    _attr("os_hvp", "OsHypervisorParams", _T.QFT_OTHER,
          "Operating system specific hypervisor parameters",
          common.dict_copy),
    _attr("osparams", "OsParameters", _T.QFT_OTHER,
          "Operating system specific parameters", common.dict_copy),
    _attr("trusted", "Trusted", _T.QFT_BOOL,
          "Whether the operating system is trusted"),
])
