"""Storage units of this node: listing, modifying and repairing them.

``storage_list(su_name, su_args, name, fields)`` answers ``gnt-node
list-storage`` for one storage type: ``file``/``sharedfile`` report the
configured directories (filesystem size and free space, space used by the
files below), ``lvm-pv``/``lvm-vg`` run ``pvs``/``vgs`` with Ganeti's exact
arguments and map their columns to the storage fields. ``su_args`` are the
type's constructor arguments as the master sends them (for file storage a
list holding the list of paths). ``node_volumes`` lists logical volumes
(``gnt-node volumes``).

Each storage type is a small class with ``list``/``modify``/``execute``;
``_STORAGE_TYPES`` maps type names to classes, so a new type is one class
and one row.
"""

import logging
import os

from ganeti import constants
from ganeti.backend.common import fail
from ganeti.utils import process

_MIB = 1024 * 1024
LVM_TIMEOUT = 120
# Separator asked from the LVM tools; never part of a name or number.
LVM_SEP = "|"


def bytes_to_mib(value):
    return int(round(value / float(_MIB)))


def parse_size(value):
    """Integer MiB from an LVM size column (``--units=m --nosuffix``)."""
    return int(round(float(value), 0))


class _Base:
    """A storage type: lists its units, changes and repairs them."""

    def list(self, name, fields):
        """Rows (one list of values per unit, in ``fields`` order)."""
        raise NotImplementedError

    def modify(self, name, changes):
        if changes:
            fail("Unable to modify the following fields: %r",
                 sorted(changes))

    def execute(self, name, op):
        fail("Operation '%s' is not supported on storage unit '%s'", op,
             name)


class FileStorage(_Base):
    """Directories holding file-based disks (file, sharedfile)."""

    def __init__(self, paths):
        if isinstance(paths, str):
            paths = [paths]
        self._paths = list(paths or [])

    def list(self, name, fields):
        paths = self._paths if name is None else [name]
        return [self._row(path, fields) for path in paths]

    @staticmethod
    def _row(path, fields):
        used = stats = None
        if constants.SF_USED in fields:
            used = directory_size_mib(path)
        if constants.SF_FREE in fields or constants.SF_SIZE in fields:
            stats = filesystem_stats(path)
        row = []
        for field in fields:
            if field == constants.SF_NAME:
                row.append(path)
            elif field == constants.SF_USED:
                row.append(used)
            elif field == constants.SF_FREE:
                row.append(stats[1])
            elif field == constants.SF_SIZE:
                row.append(stats[0])
            elif field == constants.SF_ALLOCATABLE:
                row.append(True)
            else:
                fail("Unknown field: %r", field)
        return row


def filesystem_stats(path):
    """(total MiB, free MiB) of the filesystem holding ``path``."""
    try:
        st = os.statvfs(path)
    except OSError as err:
        fail("Can't get filesystem information for '%s': %s", path,
             err.strerror)
    return (bytes_to_mib(st.f_blocks * st.f_frsize),
            bytes_to_mib(st.f_bavail * st.f_frsize))


def directory_size_mib(path):
    """MiB used by the regular files below ``path`` (not following links)."""
    if not os.path.isdir(path):
        fail("Can't compute the size of '%s': not a directory", path)
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue  # removed while we walked
            total += st.st_size
    return bytes_to_mib(total)


# --- LVM ---

def build_lvm_list_command(command, lvm_fields, name=None):
    """The command line Ganeti runs to list PVs/VGs."""
    args = [command, "--noheadings", "--units=m", "--nosuffix",
            "--separator", LVM_SEP, "--options", ",".join(lvm_fields)]
    if name is not None:
        args.append(name)
    return args


def split_lvm_output(output, fieldcount, sep=LVM_SEP):
    """Rows of columns from an LVM listing; malformed lines are skipped."""
    rows = []
    for line in output.splitlines():
        if not line.strip():
            continue
        columns = line.strip().split(sep)
        if len(columns) != fieldcount:
            logging.warning("Invalid line returned from lvm command: %s",
                            line)
            continue
        rows.append(columns)
    return rows


def _pv_allocatable(attr):
    """Whether a PV's attribute string (``a--``) says allocatable."""
    if attr:
        return attr[0] == "a"
    logging.warning("Invalid PV attribute: %r", attr)
    return False


class _LvmStorage(_Base):
    """Common part of lvm-pv and lvm-vg.

    ``LIST_FIELDS``: (storage field, [LVM columns], mapper) where mapper is
    a function of the columns' values, None (one column, passed as is) or
    a constant (no column).
    """

    LIST_COMMAND = None
    LIST_FIELDS = ()

    def __init__(self, *args):
        # the master sends no arguments for LVM types
        del args

    @classmethod
    def lvm_fields(cls, fields):
        """The LVM columns needed for ``fields``, each once, in order."""
        table = dict((f[0], f[1]) for f in cls.LIST_FIELDS)
        result = []
        for field in fields:
            if field not in table:
                fail("Unknown field: %r", field)
            for column in table[field]:
                if column not in result:
                    result.append(column)
        return result

    @classmethod
    def build_rows(cls, output, fields):
        """Rows of ``fields`` from the output of the list command."""
        columns = cls.lvm_fields(fields)
        index = dict((column, idx) for idx, column in enumerate(columns))
        table = dict((f[0], f) for f in cls.LIST_FIELDS)
        rows = []
        for raw in split_lvm_output(output, len(columns)):
            row = []
            for field in fields:
                _, needed, mapper = table[field]
                values = [raw[index[column]].strip() for column in needed]
                if callable(mapper):
                    row.append(mapper(*values))
                elif len(values) == 1:
                    row.append(values[0])
                else:
                    row.append(mapper)
            rows.append(row)
        return rows

    def list(self, name, fields):
        cmd = build_lvm_list_command(self.LIST_COMMAND,
                                     self.lvm_fields(fields), name)
        result = process.run_cmd(cmd, reset_env=True, timeout=LVM_TIMEOUT)
        if result.failed:
            fail("Failed to run %r, command output: %s", cmd[0],
                 result.output.strip() or result.fail_reason)
        return self.build_rows(result.stdout, fields)


class LvmPvStorage(_LvmStorage):
    LIST_COMMAND = "pvs"
    LIST_FIELDS = (
        (constants.SF_NAME, ["pv_name"], None),
        (constants.SF_SIZE, ["pv_size"], parse_size),
        (constants.SF_USED, ["pv_used"], parse_size),
        (constants.SF_FREE, ["pv_free"], parse_size),
        (constants.SF_ALLOCATABLE, ["pv_attr"], _pv_allocatable),
    )

    def modify(self, name, changes):
        changes = dict(changes or {})
        if constants.SF_ALLOCATABLE in changes:
            flag = "y" if changes.pop(constants.SF_ALLOCATABLE) else "n"
            result = process.run_cmd(["pvchange", "--allocatable", flag,
                                      name], reset_env=True,
                                     timeout=LVM_TIMEOUT)
            if result.failed:
                fail("Failed to modify physical volume, pvchange output:"
                     " %s", result.output.strip() or result.fail_reason)
        _LvmStorage.modify(self, name, changes)


class LvmVgStorage(_LvmStorage):
    LIST_COMMAND = "vgs"
    LIST_FIELDS = (
        (constants.SF_NAME, ["vg_name"], None),
        (constants.SF_SIZE, ["vg_size"], parse_size),
        (constants.SF_FREE, ["vg_free"], parse_size),
        (constants.SF_USED, ["vg_size", "vg_free"],
         lambda size, free: parse_size(size) - parse_size(free)),
        (constants.SF_ALLOCATABLE, [], True),
    )

    def execute(self, name, op):
        if op == constants.SO_FIX_CONSISTENCY:
            return remove_missing_pvs(name)
        return _LvmStorage.execute(self, name, op)


def remove_missing_pvs(vg_name, run=None):
    """``vgreduce --removemissing`` (with ``--force`` when LVM asks for
    it), then check with ``vgs`` that the volume group is consistent."""
    run = run or (lambda cmd: process.run_cmd(cmd, reset_env=True,
                                              timeout=LVM_TIMEOUT))
    # vgreduce's exit code is not reliable across LVM versions: only the
    # final vgs check decides.
    result = run(["vgreduce", "--removemissing", vg_name])
    output = result.output
    if ("Wrote out consistent volume group" not in output or
            "vgreduce --removemissing --force" in output):
        result = run(["vgreduce", "--removemissing", "--force", vg_name])
        output += "\n" + result.output
    check = run(["vgs", "--noheadings", "--nosuffix", vg_name])
    if check.failed or "Couldn't find device with uuid" in check.output:
        fail("Volume group '%s' still not consistent, 'vgreduce' output:"
             " %r, 'vgs' output: %r", vg_name, output, check.output)
    return None


_STORAGE_TYPES = {
    constants.ST_FILE: FileStorage,
    constants.ST_SHARED_FILE: FileStorage,
    constants.ST_LVM_PV: LvmPvStorage,
    constants.ST_LVM_VG: LvmVgStorage,
}


def get_storage(su_name, su_args):
    cls = _STORAGE_TYPES.get(su_name)
    if cls is None:
        fail("Unknown storage type: %r", su_name)
    return cls(*(su_args or []))


# --- RPC procedures ---

def storage_list(su_name, su_args, name, fields):
    """Rows of ``fields`` for the units of type ``su_name`` (all, or the
    one called ``name``)."""
    return get_storage(su_name, su_args).list(name, list(fields))


def storage_modify(su_name, su_args, name, changes):
    return get_storage(su_name, su_args).modify(name, dict(changes or {}))


def storage_execute(su_name, su_args, name, op):
    return get_storage(su_name, su_args).execute(name, op)


LVS_VOLUMES_CMD = ["lvs", "--noheadings", "--units=m", "--nosuffix",
                   "--separator=|",
                   "--options=lv_name,lv_size,devices,vg_name"]


def parse_lvs_volumes(output):
    """``[{name, size, dev, vg}]`` (one entry per device of each LV)."""
    volumes = []
    for line in output.splitlines():
        if line.count("|") < 3:
            if line.strip():
                logging.warning("Strange line in the output from lvs: '%s'",
                                line)
            continue
        name, size, devices, vg_name = [v.strip() for v in
                                        line.split("|")[:4]]
        for dev in devices.split(","):
            volumes.append({constants.VF_NAME: name,
                            constants.VF_SIZE: size,
                            constants.VF_DEV: dev.split("(")[0],
                            constants.VF_VG: vg_name})
    return volumes


def node_volumes():
    """The logical volumes of this node (``gnt-node volumes``)."""
    result = process.run_cmd(LVS_VOLUMES_CMD, reset_env=True,
                             timeout=LVM_TIMEOUT)
    if result.failed:
        fail("Failed to list logical volumes, lvs output: %s",
             result.output.strip() or result.fail_reason)
    return parse_lvs_volumes(result.stdout)


RPC_FUNCTIONS = {
    "storage_list": storage_list,
    "storage_modify": storage_modify,
    "storage_execute": storage_execute,
    "node_volumes": node_volumes,
}
