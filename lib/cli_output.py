"""Output formatting of the gnt-* programs: tables, query results, and the
YAML-like ``info`` layout.

Everything here is pure (data in, lines out) so the formats can be pinned
by unit tests against recorded outputs of Ganeti.
"""

import time

from ganeti import constants

# Overall status of a formatted query result
QR_NORMAL = 0
QR_UNKNOWN = 1
QR_INCOMPLETE = 2

# Terse and verbose texts of non-normal result statuses
RSS_DESCRIPTION = {
    constants.RS_UNKNOWN: ("??", "(unknown)"),
    constants.RS_NODATA: ("?", "(nodata)"),
    constants.RS_UNAVAIL: ("-", "(unavail)"),
    constants.RS_OFFLINE: ("*", "(offline)"),
}

# Names of field kinds in ``list-fields``
QFT_NAMES = {
    constants.QFT_UNKNOWN: "Unknown",
    constants.QFT_TEXT: "Text",
    constants.QFT_BOOL: "Boolean",
    constants.QFT_NUMBER: "Number",
    constants.QFT_NUMBER_FLOAT: "Floating-point number",
    constants.QFT_UNIT: "Storage size",
    constants.QFT_TIMESTAMP: "Timestamp",
    constants.QFT_OTHER: "Custom",
}


def scalar_text(value):
    """``str`` of a value, integral floats without ``.0``.

    Ganeti's query daemon encodes doubles through Haskell's JSON library,
    which writes 1.0 as ``1``; users (and our samples) see ``cpu_speed: 1``
    and ``vcpu-ratio: 4``, so we print them the same way.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def format_unit(value, units, roman=False):
    from ganeti.utils import text
    return text.format_unit(value, units, roman)


def format_time(value):
    """Local time ``YYYY-mm-dd HH:MM:SS`` of an epoch or (sec, usec) pair."""
    if value is None:
        return "N/A"
    if isinstance(value, (list, tuple)):
        value = value[0] + value[1] / 1000000.0
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


def format_timestamp(ts):
    """``YYYY-mm-dd HH:MM:SS.ffffff`` of a (sec, usec) pair (job files)."""
    if not isinstance(ts, (list, tuple)) or len(ts) != 2:
        return "?"
    sec, usec = ts
    return "%s.%06d" % (time.strftime("%Y-%m-%d %H:%M:%S",
                                      time.localtime(sec)), usec)


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"),
          (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
          (4, "IV"), (1, "I"))


def to_roman(value, convert=True):
    """Roman numeral of a positive int below 4000 (``--roman``), else the
    value unchanged."""
    if (not convert or isinstance(value, bool) or not isinstance(value, int)
            or not 0 < value < 4000):
        return value
    out = []
    for amount, letters in _ROMAN:
        while value >= amount:
            out.append(letters)
            value -= amount
    return "".join(out)


def format_uid_pool(uid_pool, roman=False):
    parts = []
    for lower, higher in uid_pool or []:
        if lower == higher:
            parts.append(str(to_roman(lower, roman)))
        else:
            parts.append("%s-%s" % (to_roman(lower, roman),
                                    to_roman(higher, roman)))
    return ", ".join(parts)


def format_other(value):
    """Default text of a custom-kind cell: lists comma-joined, dicts k=v."""
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, format_other(v))
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(format_other(v) for v in value)
    return scalar_text(value)


def format_bool(value):
    return "Y" if value else "N"


# ---------------------------------------------------------------------------
# Tables

def generate_table(headers, fields, separator, data, numfields=None,
                   unitfields=None, units=None):
    """Lines of a table of ``data`` rows (lists of values, one per field).

    ``headers`` maps field -> title (None: no header line); numbers (and
    sizes in ``unitfields``, formatted with ``units``) are right-aligned,
    text left-aligned; without a separator columns are padded to the
    widest cell and joined with one space, the last left-aligned column is
    not padded. Units default to ``h`` without and ``m`` with a separator.
    """
    if units is None:
        units = "m" if separator else "h"
    numfields = frozenset(numfields or ())
    unitfields = frozenset(unitfields or ())
    right = [f in numfields or f in unitfields for f in fields]
    rows = []
    for row in data:
        if row is None:
            rows.append(["-" for _ in fields])
            continue
        cells = []
        for field, val in zip(fields, row):
            if field in unitfields:
                try:
                    val = format_unit(int(val), units)
                except (TypeError, ValueError):
                    pass
            cells.append(scalar_text(val))
        rows.append(cells)
    if headers:
        rows.insert(0, [headers.get(f, f) for f in fields])
    return _layout(rows, right, separator)


def _layout(rows, right, separator):
    if separator is not None:
        return [separator.join(row) for row in rows]
    if not rows:
        return []
    widths = [max(map(len, column)) for column in zip(*rows)]
    if right and not right[-1]:
        widths[-1] = 0       # no trailing blanks after a left-aligned end
    # one format per table: listing 10,000 rows stays a single pass
    fmt = " ".join(("%%%ds" if align_right else "%%-%ds") % width
                   for width, align_right in zip(widths, right))
    return [fmt % tuple(row) for row in rows]


class TableColumn:
    """A column of a query table: title, value formatter, alignment."""

    def __init__(self, title, fn, align_right):
        self.title = title
        self.format = fn
        self.align_right = align_right


def format_table(rows, columns, header, separator):
    """Lines of a table; ``rows`` hold raw values for the column formatters."""
    data = [[col.format(value) for value, col in zip(row, columns)]
            for row in rows]
    if header:
        data.insert(0, [col.title for col in columns])
    return _layout(data, [bool(c.align_right) for c in columns], separator)


def format_result_error(status, verbose):
    """Text of a cell whose result status is not normal."""
    terse, long_text = RSS_DESCRIPTION.get(status, ("??", "(unknown)"))
    return long_text if verbose else terse


def _column_formatter(fdef, unit):
    kind = fdef.get("kind")
    if kind == constants.QFT_BOOL:
        return format_bool, False
    if kind in (constants.QFT_NUMBER, constants.QFT_NUMBER_FLOAT):
        return scalar_text, True
    if kind == constants.QFT_UNIT:
        def fmt(value):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return format_unit(value, unit)
            return scalar_text(value)
        return fmt, True
    if kind == constants.QFT_TIMESTAMP:
        return format_time, False
    if kind == constants.QFT_OTHER:
        return format_other, False
    return scalar_text, False


def unknown_fields(fdefs):
    """Field definitions of kind ``unknown``."""
    return [f for f in fdefs if f.get("kind") == constants.QFT_UNKNOWN]


def format_query_result(result, unit=None, format_override=None,
                        separator=None, header=False, verbose=False):
    """(status, lines) of a LUXI ``Query`` result.

    ``format_override`` maps a field name to ``(fn, align_right)``; status
    is QR_UNKNOWN when unknown fields were asked for, QR_INCOMPLETE when
    some cell had no data.
    """
    if unit is None:
        unit = "m" if separator else "h"
    format_override = format_override or {}
    stats = {}

    def wrap(fn):
        def cell(data):
            status, value = data
            stats[status] = stats.get(status, 0) + 1
            if status == constants.RS_NORMAL:
                return fn(value)
            return format_result_error(status, verbose)
        return cell

    columns = []
    for fdef in result["fields"]:
        if fdef["name"] in format_override:
            fn, align_right = format_override[fdef["name"]]
        else:
            fn, align_right = _column_formatter(fdef, unit)
        columns.append(TableColumn(fdef["title"], wrap(fn), align_right))
    lines = format_table(result["data"], columns, header, separator)
    if (stats.get(constants.RS_UNKNOWN) or
            (not result["data"] and unknown_fields(result["fields"]))):
        status = QR_UNKNOWN
    elif any(count for key, count in stats.items()
             if key != constants.RS_NORMAL):
        status = QR_INCOMPLETE
    else:
        status = QR_NORMAL
    return status, lines


# ---------------------------------------------------------------------------
# YAML-like "info" output

_INDENT = "  "


def _is_ordered(data):
    """A non-empty list of (key, value) tuples: an ordered mapping."""
    return (isinstance(data, list) and data and isinstance(data[0], tuple))


def _serialize(out, data, level, afterkey):
    if isinstance(data, dict) or _is_ordered(data):
        items = sorted(data.items()) if isinstance(data, dict) else data
        if not items:
            out.append("\n")
            return
        indent_first = afterkey
        if afterkey:
            out.append("\n")
        for idx, (key, value) in enumerate(items):
            if idx or indent_first:
                out.append(_INDENT * level)
            out.append("%s: " % key)
            _serialize(out, value, level + 1, True)
    elif isinstance(data, (list, tuple)):
        if not data:
            out.append("\n")
            return
        if afterkey:
            out.append("\n")
        for idx, item in enumerate(data):
            if idx or afterkey:
                out.append(_INDENT * level)
            out.append("- ")
            _serialize(out, item, level + 1, False)
    else:
        out.append(scalar_text(data))
        out.append("\n")


def format_generic_info(data):
    """Text of ``data`` in Ganeti's YAML-like info layout.

    Dicts print sorted by key, lists of (key, value) tuples in their order,
    lists as ``- item`` entries; nesting indents by two spaces.
    """
    out = []
    _serialize(out, data, 0, False)
    return "".join(out)


def print_generic_info(data):
    import sys
    sys.stdout.write(format_generic_info(data))


def format_params_dict_info(param_dict, actual, roman=False):
    """Effective parameters with inherited values as ``default (X)``."""
    result = {}
    for key, data in actual.items():
        if isinstance(data, dict) and data:
            result[key] = format_params_dict_info(param_dict.get(key, {}),
                                                  data, roman)
        elif key in param_dict:
            result[key] = scalar_text(to_roman(param_dict[key], roman))
        else:
            result[key] = "default (%s)" % scalar_text(to_roman(data, roman))
    return result


def format_list_info(values):
    return ", ".join(str(v) for v in values)


def format_policy_info(custom_ipolicy, eff_ipolicy, iscluster, roman=False):
    """Ordered (key, value) list describing an instance policy."""
    minmax_out = []
    custom_minmax = custom_ipolicy.get("minmax")
    if custom_minmax:
        for idx, minmax in enumerate(custom_minmax):
            minmax_out.append([
                ("%s/%s" % (key, idx),
                 format_params_dict_info(minmax[key], minmax[key], roman))
                for key in ("min", "max")])
    elif eff_ipolicy:
        for idx, minmax in enumerate(eff_ipolicy.get("minmax", [])):
            minmax_out.append([
                ("%s/%s" % (key, idx),
                 format_params_dict_info({}, minmax[key], roman))
                for key in ("min", "max")])
    result = [("bounds specs", minmax_out)]
    if iscluster:
        std = custom_ipolicy.get("std", {})
        result.append(("std", format_params_dict_info(std, std, roman)))
    templates = custom_ipolicy.get("disk-templates")
    if templates is None and eff_ipolicy:
        templates = eff_ipolicy.get("disk-templates", [])
    result.append(("allowed disk templates",
                   format_list_info(templates or [])))
    for key in ("vcpu-ratio", "spindle-ratio"):
        if key in custom_ipolicy:
            text = scalar_text(to_roman(custom_ipolicy[key], roman))
        else:
            text = "default (%s)" % scalar_text(
                to_roman((eff_ipolicy or {}).get(key), roman))
        result.append((key, text))
    return result
