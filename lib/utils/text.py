"""Text helpers: natural sorting, units, timestamps, key=value parsing."""

import bisect
import math
import re
import time

from ganeti import errors

_SORTER_RE = re.compile(r"(\d+|\D+)")


def nice_sort_key(value):
    """Key for a "natural" sort: node10 after node9."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in _SORTER_RE.findall(value)]


def nice_sort(values, key=None):
    """Sort strings naturally."""
    if key is None:
        return sorted(values, key=nice_sort_key)
    return sorted(values, key=lambda v: nice_sort_key(key(v)))


class IncrementalNiceSort:
    """A naturally sorted list of names kept across calls.

    ``update(names)`` returns ``names`` sorted like ``nice_sort``; only the
    names added or removed since the previous call are keyed and moved, so
    re-sorting 10,000 instance names after one addition costs a bisection,
    not a full sort.
    """

    def __init__(self):
        self._names = set()
        self._entries = []     # sorted (nice_sort_key(name), name)

    def update(self, names):
        names = set(names)
        added = names - self._names
        removed = self._names - names
        if len(added) + len(removed) > max(16, len(names) // 4):
            self._entries = sorted((nice_sort_key(n), n) for n in names)
        else:
            for name in removed:
                entry = (nice_sort_key(name), name)
                del self._entries[bisect.bisect_left(self._entries, entry)]
            for name in added:
                bisect.insort(self._entries, (nice_sort_key(name), name))
        self._names = names
        return [name for _, name in self._entries]


def format_unit(value, units, roman=False):
    """Format a MiB amount as Ganeti does (``h`` = human, ``m/g/t``)."""
    del roman
    if units not in ("m", "g", "t", "h"):
        raise errors.ProgrammerError("Invalid unit specified '%s'" % units)
    suffix = ""
    if units == "m" or (units == "h" and value < 1024):
        if units == "h":
            suffix = "M"
        return "%d%s" % (round(value, 0), suffix)
    if units == "g" or (units == "h" and value < 1024 * 1024):
        if units == "h":
            suffix = "G"
        return "%0.1f%s" % (round(float(value) / 1024, 1), suffix)
    if units == "h":
        suffix = "T"
    return "%0.1f%s" % (round(float(value) / 1024 / 1024, 1), suffix)


_UNIT_RE = re.compile(r"^([.\d]+)\s*([a-zA-Z]+)?$")


def parse_unit(text):
    """Parse a size with optional unit into MiB, rounded up to 4 MiB."""
    match = _UNIT_RE.match(str(text).strip())
    if not match:
        raise errors.UnitParseError("Invalid format")
    value = float(match.group(1))
    unit = (match.group(2) or "m").lower()
    if unit in ("m", "mb", "mib"):
        pass
    elif unit in ("g", "gb", "gib"):
        value *= 1024
    elif unit in ("t", "tb", "tib"):
        value *= 1024 * 1024
    else:
        raise errors.UnitParseError("Unknown unit: %s" % match.group(2))
    value = int(math.ceil(value))
    if value % 4:
        value += 4 - value % 4
    return value


def split_time(value):
    """Split a float epoch into ``(seconds, microseconds)``."""
    seconds = int(value)
    micro = int(round((value - seconds) * 1000000))
    if micro >= 1000000:
        seconds += 1
        micro -= 1000000
    return (seconds, micro)


def merge_time(pair):
    """Inverse of ``split_time``."""
    seconds, micro = pair
    return float(seconds) + float(micro) * 0.000001


def timestamp_now():
    return split_time(time.time())


def format_time(value, usecs=False):
    """Local time as ``YYYY-mm-dd HH:MM:SS`` (``.ffffff`` with usecs)."""
    if value is None:
        return "N/A"
    if isinstance(value, (list, tuple)):
        value = merge_time(value)
    text = time.strftime("%F %T", time.localtime(value))
    if usecs:
        text += ".%06d" % (int(round((value - int(value)) * 1000000)) % 1000000)
    return text


_TIMESPEC = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_timespec(text):
    """Seconds in ``text`` (``30``, ``5m``, ``2h``, ``1d``, ``1w``)."""
    text = str(text).strip()
    if not text:
        raise errors.OpPrereqError("Empty time specification passed",
                                   errors.ECODE_INVAL)
    mult = 1
    if text[-1] in _TIMESPEC:
        mult = _TIMESPEC[text[-1]]
        text = text[:-1]
        if not text:
            raise errors.OpPrereqError("Invalid time specification (only"
                                       " suffix passed)", errors.ECODE_INVAL)
    try:
        return int(text) * mult
    except ValueError:
        raise errors.OpPrereqError("Invalid time specification '%s'" % text,
                                   errors.ECODE_INVAL)


def safe_encode(text):
    """Printable form of possibly binary output."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "".join(c if (c.isprintable() or c in "\n\t") else
                   "\\x%02x" % ord(c) for c in text)
