"""LVM logical volumes (the ``plain`` template, and DRBD's backing
devices): the exact commands Ganeti runs, and parsers of their output.

Device-mapper does not exist on the machines this is developed on, so
nothing here runs LVM; the ``LogicalVolume`` device driver will be built
on these functions. Command lines and parsing are pinned by unit tests,
the parsers against outputs recorded by Ganeti's own test suite.

A logical volume's ``logical_id`` is ``[vg_name, lv_name]``; its device
is ``/dev/<vg>/<lv>``; LV names are ``<disk uuid>.disk<N>`` (``_data`` and
``_meta`` for DRBD's children).
"""

import re

from ganeti import errors
from ganeti.storage import base

# The separator Ganeti asks the LVM tools for.
SEP = "|"
# Names: lvm(8)'s rules, applied to both VGs and LVs.
_VALID_NAME_RE = re.compile(r"^[a-zA-Z0-9+_.-]*$")
_INVALID_NAMES = frozenset([".", "..", "snapshot", "pvmove"])
_INVALID_SUBSTRINGS = ("_mlog", "_mimage")
_PARSE_PV_DEV_RE = re.compile(r"^([^ ()]+)\([0-9]+\)$")
# LV tags may not contain other characters.
_TAG_FIRST_RE = re.compile(r"^[^A-Za-z0-9_+.]")
_TAG_REST_RE = re.compile(r"[^-A-Za-z0-9_+.]")
ALLOC_POLICIES = ("contiguous", "cling", "normal")

# ``lvs`` fields of the node's "lv" data collector, in order; the recorded
# output is lvs_lv.txt (semicolon-separated, sizes in bytes with "B").
LVS_COLLECTOR_FIELDS = (
    "lv_uuid", "lv_name", "lv_attr", "lv_major", "lv_minor",
    "lv_kernel_major", "lv_kernel_minor", "lv_size", "seg_count", "lv_tags",
    "modules", "vg_uuid", "vg_name", "segtype", "seg_start", "seg_start_pe",
    "seg_size", "seg_tags", "seg_pe_ranges", "devices")


def validate_name(name):
    """BlockDeviceError unless ``name`` is a valid VG/LV name."""
    if (not name or not _VALID_NAME_RE.match(name) or
            name in _INVALID_NAMES or
            any(sub in name for sub in _INVALID_SUBSTRINGS)):
        base.throw_error("Invalid LVM name '%s'", name)


def dev_path(vg_name, lv_name):
    return "/dev/%s/%s" % (vg_name, lv_name)


# --- commands ---

def volume_info_cmd(lvm_cmd, fields):
    """``pvs``/``vgs``/``lvs`` listing ``fields`` (sizes in MiB)."""
    if lvm_cmd not in ("pvs", "vgs", "lvs"):
        raise errors.ProgrammerError("Invalid LVM command %r" % lvm_cmd)
    if not fields:
        raise errors.ProgrammerError("No fields specified")
    return [lvm_cmd, "--noheadings", "--nosuffix", "--units=m",
            "--unbuffered", "--separator=%s" % SEP, "-o%s" % ",".join(fields)]


def lvcreate_cmds(vg_name, lv_name, size_mib, stripes, pvs):
    """The lvcreate commands to try in order: ``stripes`` stripes first,
    then fewer, down to a linear volume (free space may be too unevenly
    spread for many stripes)."""
    validate_name(vg_name)
    validate_name(lv_name)
    if any(":" in pv for pv in pvs):
        base.throw_error("Some of your PVs have the invalid character ':' in"
                         " their name, this is not supported - please filter"
                         " them out in lvm.conf using either 'filter' or"
                         " 'preferred_names'")
    cmd = ["lvcreate", "-L%dm" % size_mib, "-n%s" % lv_name]
    return [cmd + ["-i%d" % n, vg_name] + list(pvs)
            for n in range(max(stripes, 1), 0, -1)]


def lvremove_cmd(vg_name, lv_name):
    return ["lvremove", "-f", "%s/%s" % (vg_name, lv_name)]


def lvrename_cmd(vg_name, old_name, new_name):
    validate_name(new_name)
    return ["lvrename", vg_name, old_name, new_name]


def lv_info_cmd(path):
    """``lvs`` describing one LV (attributes, kernel device, extents)."""
    return ["lvs", "--noheadings", "--separator=%s" % SEP, "--units=k",
            "--nosuffix", "-olv_attr,lv_kernel_major,lv_kernel_minor,"
            "vg_extent_size,stripes,devices", path]


def activate_cmd(path):
    return ["lvchange", "-ay", path]


def deactivate_cmd(path):
    return ["lvchange", "-an", path]


def grow_cmds(path, amount_mib, pe_size_kib, stripes, dryrun):
    """lvextend commands (one per allocation policy, best first); the
    amount is rounded up to whole stripes of extents."""
    full_stripe = pe_size_kib * max(stripes, 1)
    amount = int(amount_mib) * 1024
    rest = amount % full_stripe
    if rest:
        amount += full_stripe - rest
    cmd = ["lvextend", "-L", "+%dk" % amount]
    if dryrun:
        cmd.append("--test")
    return [cmd + ["--alloc", policy, path] for policy in ALLOC_POLICIES]


def snapshot_cmd(vg_name, lv_name, snap_name, size_mib):
    return ["lvcreate", "-L%dm" % size_mib, "-s", "-n%s" % snap_name,
            "%s/%s" % (vg_name, lv_name)]


def sanitize_tag(text):
    """An LV tag made of what LVM accepts."""
    return _TAG_REST_RE.sub("_", _TAG_FIRST_RE.sub("_", text))


def addtag_cmd(path, text):
    return ["lvchange", "--addtag", sanitize_tag(text), path]


# --- parsers ---

def parse_volume_info(output, fields, lvm_cmd="lvs"):
    """Rows (lists of strings) of ``volume_info_cmd`` output."""
    rows = []
    for line in output.splitlines():
        if not line.strip():
            continue
        values = line.strip().split(SEP)
        if len(values) != len(fields):
            raise errors.CommandError("Can't parse %s output: line '%s'" %
                                      (lvm_cmd, line))
        rows.append(values)
    return rows


def parse_lv_info_line(line):
    """(attr, major, minor, pe_size KiB, stripes, [pv names]) of one line
    of ``lv_info_cmd`` output."""
    elems = line.strip().rstrip(SEP).split(SEP)
    if len(elems) != 6:
        base.throw_error("Can't parse LVS output, len(%s) != 6", str(elems))
    status, major, minor, pe_size, stripes, pvs = elems
    if len(status) < 6:
        base.throw_error("lvs lv_attr is not at least 6 characters (%s)",
                         status)
    try:
        major, minor = int(major), int(minor)
    except ValueError as err:
        base.throw_error("lvs major/minor cannot be parsed: %s", err)
    try:
        pe_size = int(float(pe_size))
    except ValueError as err:
        base.throw_error("Can't parse vg extent size: %s", err)
    try:
        stripes = int(stripes)
    except ValueError as err:
        base.throw_error("Can't parse the number of stripes: %s", err)
    pv_names = []
    for pv in pvs.split(","):
        match = _PARSE_PV_DEV_RE.match(pv)
        if not match:
            base.throw_error("Can't parse this device list: %s", pvs)
        pv_names.append(match.group(1))
    return status, major, minor, pe_size, stripes, pv_names


def parse_lv_info(output):
    """Merge ``parse_lv_info_line`` over every segment of an LV: the last
    segment's values, with the PVs of all segments."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        base.throw_error("Can't parse LVS output, no lines? Got '%s'",
                         output)
    pv_names = set()
    for line in lines:
        status, major, minor, pe_size, stripes, pvs = \
            parse_lv_info_line(line)
        pv_names.update(pvs)
    return status, major, minor, pe_size, stripes, sorted(pv_names)


def lv_attr_flags(attr):
    """What Ganeti reads from ``lv_attr``: active, open, virtual (no
    backing store), and a degraded mirror/failed volume."""
    return {
        "virtual": attr[0] == "v",
        "active": attr[4] == "a",
        "open": attr[5] == "o",
        # partial volumes (missing PVs) are degraded
        "degraded": len(attr) > 8 and attr[8] == "p" or attr[0] == "m",
    }


def parse_collector_lvs(output):
    """Rows of the "lv" data collector's ``lvs`` output as dicts of
    LVS_COLLECTOR_FIELDS (sizes in bytes, "B" suffix removed)."""
    result = []
    for line in output.splitlines():
        if not line.strip():
            continue
        values = line.strip().split(";")
        if len(values) != len(LVS_COLLECTOR_FIELDS):
            raise errors.CommandError("Can't parse lvs output: line '%s'" %
                                      line)
        row = dict(zip(LVS_COLLECTOR_FIELDS, values))
        for key in ("lv_major", "lv_minor", "lv_kernel_major",
                    "lv_kernel_minor", "seg_count", "seg_start_pe"):
            row[key] = int(row[key])
        for key in ("lv_size", "seg_start", "seg_size"):
            row[key] = int(row[key].rstrip("B"))
        row["devices"] = [_PARSE_PV_DEV_RE.match(d).group(1)
                          for d in row["devices"].split(",") if d]
        result.append(row)
    return result
