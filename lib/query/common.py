"""Building blocks shared by the per-resource field tables.

A field is declared once as a ``FieldSpec(fdef, kind, getter)``: its
public definition (name, title, kind, doc), the kind of data it needs
(``DK_CONFIG`` from the configuration snapshot, ``DK_LIVE`` from the
nodes), and ``getter(qdata, item)`` returning the value, or one of the
status markers ``NODATA``/``UNAVAIL``/``OFFLINE`` when there is none.
"""

import collections
import copy

from ganeti import constants
from ganeti import errors
from ganeti.utils import text as text_utils

DK_CONFIG = "config"
DK_LIVE = "live"


class FieldDef:
    """Public description of a query field (wire form: a dict)."""

    __slots__ = ("name", "title", "kind", "doc")

    def __init__(self, name, title, kind, doc):
        self.name = name
        self.title = title
        self.kind = kind
        self.doc = doc

    def to_dict(self):
        return {"name": self.name, "title": self.title, "kind": self.kind,
                "doc": self.doc}

    def __eq__(self, other):
        return isinstance(other, FieldDef) and \
            self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return "FieldDef(%r, %r, %r)" % (self.name, self.title, self.kind)


FieldSpec = collections.namedtuple("FieldSpec", ["fdef", "kind", "getter"])


class Status:
    """A cell without a value; ``status`` is one of ``constants.RS_*``."""

    __slots__ = ("status",)

    def __init__(self, status):
        self.status = status

    def __repr__(self):
        return "Status(%d)" % self.status


NODATA = Status(constants.RS_NODATA)
UNAVAIL = Status(constants.RS_UNAVAIL)
OFFLINE = Status(constants.RS_OFFLINE)
UNKNOWN = Status(constants.RS_UNKNOWN)


def rpc_payload(result, valid):
    """The payload of a node's RPC result when ``valid(payload)``; else
    the cell status: OFFLINE for an offline node, NODATA for no answer,
    a failure or a payload of the wrong shape."""
    if result is None:
        return NODATA
    if getattr(result, "offline", False):
        return OFFLINE
    if getattr(result, "fail_msg", None):
        return NODATA
    payload = result.payload
    return payload if valid(payload) else NODATA


def unknown_field(name):
    """Spec of a field nobody declared: every cell is RS_UNKNOWN."""
    return FieldSpec(FieldDef(name, name, constants.QFT_UNKNOWN,
                              "Unknown field '%s'" % name),
                     DK_CONFIG, lambda qdata, item: UNKNOWN)


def field_table(specs):
    """``{name: FieldSpec}`` from a list, refusing duplicate names."""
    table = {}
    for spec in specs:
        if spec.fdef.name in table:
            raise errors.ProgrammerError("Duplicate query field '%s'" %
                                         spec.fdef.name)
        table[spec.fdef.name] = spec
    return table


def simple(name, title, kind, doc, getter, data_kind=DK_CONFIG):
    return FieldSpec(FieldDef(name, title, kind, doc), data_kind, getter)


def attr(name, title, kind, doc, attribute=None):
    """A field that is just an attribute of the item (None -> NODATA)."""
    attribute = attribute or name

    def getter(qdata, item):
        value = getattr(item, attribute)
        return NODATA if value is None else value
    return simple(name, title, kind, doc, getter)


def alias(new_name, spec):
    """The same field under another (legacy) name."""
    fdef = spec.fdef
    return FieldSpec(FieldDef(new_name, fdef.title, fdef.kind, fdef.doc),
                     spec.kind, spec.getter)


def list_copy(value):
    return list(value) if value is not None else []


def dict_copy(value):
    """A deep copy: callers in the same process may modify results."""
    return copy.deepcopy(value) if value is not None else {}


def timestamp_fields():
    def get(attribute):
        def getter(qdata, item):
            value = getattr(item, attribute)
            return UNAVAIL if value is None else value
        return getter
    return [
        simple("ctime", "CTime", constants.QFT_TIMESTAMP,
               "Creation timestamp", get("ctime")),
        simple("mtime", "MTime", constants.QFT_TIMESTAMP,
               "Modification timestamp", get("mtime")),
    ]


def uuid_fields(kind_name):
    return [simple("uuid", "UUID", constants.QFT_TEXT, "%s UUID" % kind_name,
                   lambda qdata, item: item.uuid)]


def serial_fields(kind_name):
    return [simple("serial_no", "SerialNo", constants.QFT_NUMBER,
                   "%s object serial number, incremented on each"
                   " modification" % kind_name,
                   lambda qdata, item: item.serial_no or 0)]


def tags_fields():
    return [simple("tags", "Tags", constants.QFT_OTHER, "Tags",
                   lambda qdata, item: list_copy(item.tags))]


# Node parameters: titles and kinds as Ganeti shows them (string
# parameters are "other", cpu_speed a float).
_NDP_TITLES = {
    "exclusive_storage": "ExclusiveStorage",
    "oob_program": "OutOfBandProgram",
    "ovs": "OpenvSwitch",
    "ovs_link": "OpenvSwitchLink",
    "ovs_name": "OpenvSwitchName",
    "spindle_count": "SpindleCount",
}
_PARAM_KINDS = {
    "bool": constants.QFT_BOOL,
    "int": constants.QFT_NUMBER,
    "float": constants.QFT_NUMBER_FLOAT,
    "size": constants.QFT_UNIT,
}


def ndparam_fields(filled_fn):
    """``ndp/<param>`` fields; ``filled_fn(qdata, item)`` gives the filled
    node parameters of the item (or None)."""
    specs = []
    for param in sorted(constants.NDC_DEFAULTS):
        name = "ndp/" + param
        kind = _PARAM_KINDS.get(constants.NDS_PARAMETER_TYPES.get(param),
                                constants.QFT_OTHER)

        def getter(qdata, item, _param=param):
            params = filled_fn(qdata, item)
            if params is None or _param not in params:
                return NODATA
            return params[_param]
        specs.append(simple(name, _NDP_TITLES.get(param, name), kind,
                            "The \"%s\" node parameter" % param, getter))
    return specs


def lookup_item(by_uuid, name, kind_name):
    """The object designated by ``name``: a UUID, an exact name, or a
    unique ``name.`` prefix; raises OpPrereqError like Ganeti's lookups."""
    if name in by_uuid:
        return by_uuid[name]
    items = list(by_uuid.values())
    for item in items:
        if item.name == name:
            return item
    prefix = name.lower() + "."
    matches = [item for item in items
               if item.name and item.name.lower().startswith(prefix)]
    exact = [item for item in matches if item.name.lower() == name.lower()]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise errors.OpPrereqError("%s name %s has multiple matches" %
                                   (kind_name, name), errors.ECODE_NOENT)
    raise errors.OpPrereqError("%s name %s not found" % (kind_name, name),
                               errors.ECODE_NOENT)


def select_by_names(by_uuid, wanted, kind_name, sort_key,
                    sorted_names=None):
    """Items for ``wanted`` names in that order (duplicates once), or all
    items sorted by ``sort_key`` when ``wanted`` is None; ``sorted_names``
    (all names of ``by_uuid``, naturally sorted) saves the sort."""
    if wanted is None:
        if sorted_names is not None and len(sorted_names) == len(by_uuid):
            by_name = dict((item.name, item) for item in by_uuid.values())
            if len(by_name) == len(by_uuid):
                return [by_name[name] for name in sorted_names]
        return text_utils.nice_sort(list(by_uuid.values()), key=sort_key)
    result = []
    seen = set()
    for name in wanted:
        item = lookup_item(by_uuid, str(name), kind_name)
        if item.uuid not in seen:
            seen.add(item.uuid)
            result.append(item)
    return result


class QueryData:
    """Per-query state: the config snapshot and caches filled on demand."""

    def __init__(self, context, field_names):
        self.context = context
        self.field_names = frozenset(field_names)
        self.data = context.cfg.get_config_snapshot()
        self.cluster = self.data.cluster
        self._cache = {}

    def sorted_names(self, collection):
        """Naturally sorted member names of ``collection`` of this query's
        snapshot, or None when the configuration changed since it was
        taken."""
        snap, names = self.context.cfg.get_sorted_names(collection)
        return names if snap is self.data else None

    def cached(self, key, compute_fn):
        """Memoise ``compute_fn()`` under ``key`` for this query."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = compute_fn()
            return value
