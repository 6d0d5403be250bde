"""Opcodes: the unit of work submitted in jobs.

Classes are built from ``opcodes_table``: ``OpTestDelay`` <-> ``OP_TEST_DELAY``.
An opcode's wire form is a dict with ``OP_ID`` plus its parameters; unknown
parameters and wrong types are rejected with ``OpPrereqError`` (wrong_input).
"""

import copy

from ganeti import errors
from ganeti import ht
from ganeti import opcodes_table as table

REQ = table.REQ


class Param:
    __slots__ = ("name", "default", "check", "required")

    def __init__(self, name, default, check):
        self.name = name
        self.required = default is REQ
        self.default = None if self.required else default
        self.check = check


def _class_name(op_id):
    return "Op" + "".join(part.capitalize() for part in op_id[3:].split("_"))


def haskell_show_double(value):
    """Render a float like Haskell's ``show`` (job summaries use it)."""
    value = float(value)
    if value == 0:
        return "0.0"
    if 0.1 <= abs(value) < 10 ** 7:
        return repr(value)
    import decimal
    _, digits, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    text = "".join(str(d) for d in digits).rstrip("0") or "0"
    sci_exp = len(digits) + exponent - 1
    sign = "-" if value < 0 else ""
    return "%s%s.%se%d" % (sign, text[0], text[1:] or "0", sci_exp)


def _summary_value(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return haskell_show_double(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_summary_value(v) for v in value)
    return str(value)


def _validate_nested(op_id, name, nested_id, items):
    """Each element of ``items`` must be a valid ``nested_id`` opcode
    (wire dict or object); its own validation errors are raised."""
    for item in items:
        op = OpCode.from_dict(item) if isinstance(item, dict) else item
        if getattr(op, "OP_ID", None) != nested_id:
            raise errors.OpPrereqError(
                "Parameter '%s.%s' fails validation: expected a list of %s"
                " opcodes, got %r" % (op_id, name, nested_id, item),
                errors.ECODE_INVAL)
        op.validate()


class OpCode:
    """Base class; subclasses carry OP_ID, PARAMS and OP_DSC_FIELD."""

    OP_ID = None
    PARAMS = ()
    OP_DSC_FIELD = None
    _PARAM_MAP = {}

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self._PARAM_MAP)
        if unknown:
            raise errors.OpPrereqError(
                "Parameter(s) %s not valid for opcode %s" %
                (", ".join(sorted(unknown)), self.OP_ID), errors.ECODE_INVAL)
        for param in self.PARAMS:
            if param.name in kwargs:
                setattr(self, param.name, kwargs[param.name])
            else:
                setattr(self, param.name, copy.deepcopy(param.default))

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.summary())

    def validate(self):
        """Check required parameters and types (after defaults)."""
        for param in self.PARAMS:
            value = getattr(self, param.name)
            if param.required and value is None:
                raise errors.OpPrereqError(
                    "Required parameter '%s.%s' missing" %
                    (self.OP_ID, param.name), errors.ECODE_INVAL)
            if value is None and not param.required:
                continue
            if not param.check(value):
                raise errors.OpPrereqError(
                    "Parameter '%s.%s' fails validation: expected %s, got"
                    " %r" % (self.OP_ID, param.name, param.check.desc, value),
                    errors.ECODE_INVAL)
            nested = table.NESTED_OPCODES.get((self.OP_ID, param.name))
            if nested is not None:
                _validate_nested(self.OP_ID, param.name, nested, value)

    def to_dict(self):
        data = {"OP_ID": self.OP_ID}
        for param in self.PARAMS:
            data[param.name] = copy.deepcopy(getattr(self, param.name))
        return data

    @staticmethod
    def from_dict(data):
        """Build the opcode named by ``data["OP_ID"]``."""
        if not isinstance(data, dict):
            raise errors.OpPrereqError("Invalid data to LoadOpcode (%s)" %
                                       type(data).__name__,
                                       errors.ECODE_INVAL)
        op_id = data.get("OP_ID")
        cls = OP_MAPPING.get(op_id)
        if cls is None:
            raise errors.OpPrereqError("Unknown opcode '%s'" % (op_id,),
                                       errors.ECODE_INVAL)
        kwargs = dict(data)
        del kwargs["OP_ID"]
        return cls(**kwargs)

    def summary(self):
        text = self.OP_ID[3:]
        field = self.OP_DSC_FIELD
        if field is not None:
            value = getattr(self, field, None)
            if value is not None:
                text += "(%s)" % _summary_value(value)
        return text

    def get_priority(self):
        return self.priority


def _make_class(op_id, params):
    all_params = []
    seen = set()
    for name, default in params:
        all_params.append(Param(name, default,
                                table.param_type(op_id, name, default)))
        seen.add(name)
        companion = table.UUID_COMPANIONS.get(name)
        if companion and companion not in seen:
            all_params.append(Param(companion, None, ht.TAny))
            seen.add(companion)
    for name, default, check in table.COMMON_PARAMS:
        all_params.append(Param(name, default, check))
    attrs = {
        "OP_ID": op_id,
        "PARAMS": tuple(all_params),
        "OP_DSC_FIELD": table.DSC_FIELDS.get(op_id),
        "_PARAM_MAP": dict((p.name, p) for p in all_params),
        "__doc__": "Opcode %s." % op_id,
    }
    return type(_class_name(op_id), (OpCode,), attrs)


OP_MAPPING = {}
for _op_id, _params in table.OP_TABLE.items():
    _cls = _make_class(_op_id, _params)
    OP_MAPPING[_op_id] = _cls
    globals()[_cls.__name__] = _cls


def load_opcode(data):
    """Opcode object from its wire dict (validated)."""
    op = OpCode.from_dict(data)
    op.validate()
    return op
