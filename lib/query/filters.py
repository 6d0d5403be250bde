"""Query filters: the nested-list wire format compiled into a predicate.

Wire format (operator first)::

    ["|", f, ...]  ["&", f, ...]  ["!", f]  ["?", field]
    ["==", field, value]  (also "=")  ["!=", field, value]
    ["<" | "<=" | ">" | ">=", field, value]
    ["=~", field, regexp]  ["=[]", field, value]   (value in list field)

Evaluation is three-valued so that filters can run *before* live data is
fetched: a live field not yet known makes a leaf "unknown" (None), ``&``,
``|`` and ``!`` propagate it, and only items that are certainly excluded
are dropped in that first pass. As in Ganeti, a comparison on a cell that
has no data (offline node, RPC failure) lets the item through, and
equality on host-name fields also accepts the short name
(``node1`` matches ``node1.example.com``).

Errors (unknown fields, malformed filters, impossible comparisons) are
``errors.ParameterError``, as Ganeti 3.0 reports them.
"""

import re

from ganeti import errors
from ganeti.qlang import (  # noqa: F401 (the wire operators, one list)
    OP_OR, OP_AND, OP_NOT, OP_TRUE, OP_EQUAL, OP_EQUAL_LEGACY, OP_NOT_EQUAL,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_REGEXP, OP_CONTAINS)
from ganeti.query import common

_MAX_LEVELS = 10
_ORDERING = {
    OP_LT: lambda a, b: a < b,
    OP_LE: lambda a, b: a <= b,
    OP_GT: lambda a, b: a > b,
    OP_GE: lambda a, b: a >= b,
}
_BINARY = frozenset([OP_EQUAL, OP_EQUAL_LEGACY, OP_NOT_EQUAL, OP_REGEXP,
                     OP_CONTAINS]) | frozenset(_ORDERING)

# Returned by a field lookup when the value needs live data not yet fetched.
PENDING = object()


def filter_error(message):
    """The one place choosing the error class of filter problems."""
    return errors.ParameterError(message)


def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "list"
    return "other"


def _hostname_match(value, wanted):
    value = value.lower()
    wanted = wanted.lower()
    return value == wanted or value.startswith(wanted + ".")


def _check_comparable(value, arg):
    """Ordering/equality between a string and a number is a user error."""
    kinds = set([_kind(value), _kind(arg)])
    if kinds == set(["string", "number"]):
        raise filter_error("Invalid types in comparison, trying to compare"
                           " %r with %r" % (value, arg))


class CompiledFilter:
    """A compiled filter; call it with ``lookup(field_name) -> value``."""

    def __init__(self, fn, field_names):
        self._fn = fn
        self.field_names = frozenset(field_names)

    def __call__(self, lookup):
        """True, False, or None (unknown until live data is there)."""
        return self._fn(lookup)


def compile_filter(qfilter, fields, hostname_fields=(), numeric_fields=()):
    """Compile ``qfilter`` against the table ``fields`` (name -> spec);
    None means "no filter" and compiles to None.

    ``hostname_fields`` compare equal to short host names;
    ``numeric_fields`` (job ids) accept numbers written as strings.
    """
    if qfilter is None:
        return None
    used = set()
    fn = _Compiler(fields, frozenset(hostname_fields),
                   frozenset(numeric_fields), used).compile(qfilter, 0)
    return CompiledFilter(fn, used)


class _Compiler:
    def __init__(self, fields, hostname_fields, numeric_fields, used):
        self._fields = fields
        self._hostname_fields = hostname_fields
        self._numeric_fields = numeric_fields
        self._used = used

    def _field(self, name):
        if not isinstance(name, str):
            raise filter_error("Invalid field name %r in filter" % (name,))
        if name not in self._fields:
            raise filter_error("Can't find field named '%s'" % name)
        self._used.add(name)
        return name

    def compile(self, qfilter, level):
        if not isinstance(qfilter, (list, tuple)) or not qfilter:
            raise filter_error("Invalid filter on level %s: expected a"
                               " non-empty list, got %r" % (level, qfilter))
        if level >= _MAX_LEVELS:
            raise filter_error("Only up to %s levels are allowed (filter"
                               " nested too deep)" % _MAX_LEVELS)
        op = qfilter[0]
        operands = list(qfilter[1:])
        if not isinstance(op, str):
            raise filter_error("Invalid operator %r on level %s" %
                               (op, level))
        if op in (OP_OR, OP_AND):
            subs = [self.compile(sub, level + 1) for sub in operands]
            return _make_junction(subs, op == OP_OR)
        if op == OP_NOT:
            if len(operands) != 1:
                raise filter_error("Operator '!' takes exactly one operand,"
                                   " got %d" % len(operands))
            return _make_not(self.compile(operands[0], level + 1))
        if op == OP_TRUE:
            if len(operands) != 1:
                raise filter_error("Operator '?' takes exactly one field"
                                   " name, got %d operands" % len(operands))
            name = self._field(operands[0])
            return _make_leaf(name, bool)
        if op in _BINARY:
            if len(operands) != 2:
                raise filter_error("Operator '%s' takes a field name and a"
                                   " value, got %d operands" %
                                   (op, len(operands)))
            name = self._field(operands[0])
            return self._binary(op, name, operands[1])
        raise filter_error("Unknown operator '%s'" % (op,))

    def _binary(self, op, name, arg):
        if _kind(arg) not in ("bool", "number", "string", "null"):
            raise filter_error("Invalid value %r for operator '%s'" %
                               (arg, op))
        if name in self._numeric_fields and isinstance(arg, str) and \
                arg.strip().isdigit():
            arg = int(arg)
        if op in (OP_EQUAL, OP_EQUAL_LEGACY, OP_NOT_EQUAL):
            hostname = name in self._hostname_fields and \
                isinstance(arg, str)

            def equal(value):
                if hostname and isinstance(value, str):
                    return _hostname_match(value, arg)
                _check_comparable(value, arg)
                return _kind(value) == _kind(arg) and value == arg
            leaf = _make_leaf(name, equal)
            return _make_not(leaf) if op == OP_NOT_EQUAL else leaf
        if op in _ORDERING:
            compare = _ORDERING[op]
            if _kind(arg) not in ("number", "string"):
                raise filter_error("Operator '%s' needs a number or a"
                                   " string, got %r" % (op, arg))

            def ordered(value):
                _check_comparable(value, arg)
                if _kind(value) != _kind(arg):
                    return False
                return compare(value, arg)
            return _make_leaf(name, ordered)
        if op == OP_REGEXP:
            if not isinstance(arg, str):
                raise filter_error("Regular expression must be a string,"
                                   " got %r" % (arg,))
            try:
                regex = re.compile(arg)
            except re.error as err:
                raise filter_error("Invalid regular expression '%s': %s" %
                                   (arg, err))

            def search(value):
                if value is None:
                    return False
                if not isinstance(value, str):
                    raise filter_error("Invalid field value used in regexp"
                                       " matching, expecting string but got"
                                       " %r" % (value,))
                return regex.search(value) is not None
            return _make_leaf(name, search)
        # OP_CONTAINS

        def contains(value):
            if value is None:
                return False
            if not isinstance(value, (list, tuple)):
                raise filter_error("Field used with '=[]' is not a list:"
                                   " %r" % (value,))
            return arg in value
        return _make_leaf(name, contains)


def _make_leaf(name, test):
    def leaf(lookup):
        value = lookup(name)
        if value is PENDING:
            return None
        if isinstance(value, common.Status):
            return True  # no data to judge: keep the item (as Ganeti does)
        return bool(test(value))
    return leaf


def _make_junction(subs, decisive):
    """``|`` (``decisive`` True) or ``&`` (False): the first sub-result
    equal to ``decisive`` decides; else unknown (None) if one was
    unknown, else ``not decisive``."""
    def fn(lookup):
        unknown = False
        for sub in subs:
            result = sub(lookup)
            if result is decisive:
                return decisive
            if result is None:
                unknown = True
        return None if unknown else not decisive
    return fn


def _make_not(sub):
    def fn(lookup):
        result = sub(lookup)
        return None if result is None else not result
    return fn


def requested_names(qfilter, name_field):
    """Names asked for by a plain name filter (``["|", ["==", "name", n],
    ...]`` or a single equality), else None (a general filter)."""
    if qfilter is None or not isinstance(qfilter, (list, tuple)) or \
            not qfilter:
        return None

    def name_of(part):
        if (isinstance(part, (list, tuple)) and len(part) == 3 and
                part[0] in (OP_EQUAL, OP_EQUAL_LEGACY) and
                part[1] == name_field and
                _kind(part[2]) in ("string", "number")):
            return part[2]
        return None

    if qfilter[0] == OP_OR:
        names = []
        for part in qfilter[1:]:
            name = name_of(part)
            if name is None:
                return None
            names.append(name)
        return names or None
    name = name_of(qfilter)
    return [name] if name is not None else None
