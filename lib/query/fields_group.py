"""Query fields of node groups (``gnt-group list``, RAPI ``/2/groups``).

Everything comes from the configuration; the member and instance lists
are computed once per query.
"""

from ganeti import constants
from ganeti.config import derived
from ganeti.query import common
from ganeti.query.common import simple, attr
from ganeti.utils import text as text_utils

NAME_FIELD = "name"
HOSTNAME_FIELDS = frozenset()

_T = constants


class GroupQueryData(common.QueryData):
    def members(self):
        """``{group uuid: ([node names], [primary instance names])}``."""
        def compute():
            data = self.data
            result = dict((uuid, ([], [])) for uuid in data.nodegroups)
            for node in data.nodes.values():
                result.setdefault(node.group, ([], []))[0].append(node.name)
            for inst in data.instances.values():
                node = data.nodes.get(inst.primary_node)
                if node is not None and inst.name:
                    result.setdefault(node.group, ([], []))[1].append(
                        inst.name)
            for nodes, insts in result.values():
                nodes[:] = text_utils.nice_sort(nodes)
                insts[:] = text_utils.nice_sort(insts)
            return result
        return self.cached("members", compute)

    def ndparams(self, group):
        return self.cached(("ndp", group.uuid),
                           lambda: derived.filled_group_ndparams(self.cluster,
                                                                 group))


def prepare(context, field_names):
    return GroupQueryData(context, field_names)


def select_items(qdata, wanted):
    return common.select_by_names(qdata.data.nodegroups, wanted, "NodeGroup",
                                  lambda group: group.name)


def fetch_live(qdata, items, field_names):
    """Groups have no live data."""


def _member(index, count):
    def getter(qdata, group):
        values = qdata.members().get(group.uuid, ([], []))[index]
        return len(values) if count else list(values)
    return getter


FIELDS = common.field_table([
    attr("name", "Group", _T.QFT_TEXT, "Group name"),
    attr("alloc_policy", "AllocPolicy", _T.QFT_TEXT,
         "Allocation policy for group"),
    simple("node_cnt", "Nodes", _T.QFT_NUMBER, "Number of nodes",
           _member(0, True)),
    simple("node_list", "NodeList", _T.QFT_OTHER, "List of nodes",
           _member(0, False)),
    simple("pinst_cnt", "Instances", _T.QFT_NUMBER,
           "Number of primary instances", _member(1, True)),
    simple("pinst_list", "InstanceList", _T.QFT_OTHER,
           "List of primary instances", _member(1, False)),
    simple("ndparams", "NDParams", _T.QFT_OTHER, "Node parameters",
           lambda q, g: dict(q.ndparams(g))),
    simple("custom_ndparams", "CustomNDParams", _T.QFT_OTHER,
           "Custom node parameters",
           lambda q, g: common.dict_copy(g.ndparams)),
    simple("ipolicy", "InstancePolicy", _T.QFT_OTHER,
           "Instance policy limitations (merged)",
           lambda q, g: q.cluster.fill_ipolicy(g)),
    simple("custom_ipolicy", "CustomInstancePolicy", _T.QFT_OTHER,
           "Custom instance policy limitations",
           lambda q, g: common.dict_copy(g.ipolicy)),
    simple("diskparams", "DiskParameters", _T.QFT_OTHER,
           "Disk parameters (merged)",
           lambda q, g: derived.filled_group_diskparams(q.cluster, g)),
    simple("custom_diskparams", "CustomDiskParameters", _T.QFT_OTHER,
           "Custom disk parameters",
           lambda q, g: common.dict_copy(g.diskparams)),
] + common.ndparam_fields(lambda q, g: q.ndparams(g)) +
    common.timestamp_fields() + common.uuid_fields("Group") +
    common.serial_fields("Group") + common.tags_fields())
