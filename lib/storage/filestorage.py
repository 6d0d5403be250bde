"""Disks that are plain files: the ``file`` and ``sharedfile`` templates.

The ``logical_id`` is ``[driver, path]`` (driver ``loop``, ``blktap`` or
``blktap2``; KVM opens the file itself whatever the driver). Files are
created sparse with their full size.

Every path is checked against the node's allow-list
``/etc/ganeti/file-storage-paths`` (one absolute directory per line, ``#``
comments; the file is written at cluster init and copied to new nodes):
a path must lie below one of them and not below a system directory. The
check happens on the node, so a master cannot make a node write
elsewhere. Error texts are Ganeti's.
"""

import errno
import logging
import os

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti.storage import base

_MIB = 1024 * 1024

# System directories never used for file storage, whatever the allow-list.
FORBIDDEN_PREFIXES = frozenset(
    ["/boot", "/dev", "/etc", "/home", "/proc", "/root", "/sys"] +
    ["%s/%s" % (prefix, d) for prefix in ("", "/usr", "/usr/local")
     for d in ("bin", "lib", "lib32", "lib64", "sbin")])


def is_below_dir(root, other):
    """Whether ``other`` lies strictly below directory ``root``."""
    root = os.path.normpath(root)
    other = os.path.normpath(other)
    if root == "/":
        return other != "/" and other.startswith("/")
    return other.startswith(root + "/")


def load_allowed_paths(filename=None):
    """The allow-listed directories (empty list if the file is absent)."""
    if filename is None:
        filename = pathutils.FILE_STORAGE_PATHS_FILE
    try:
        with open(filename) as fh:
            contents = fh.read()
    except OSError:
        return []
    return [line.strip() for line in contents.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def wrong_paths(paths):
    """Those of ``paths`` that are relative or in a system directory."""
    result = []
    for path in (os.path.normpath(p) for p in paths):
        if (not os.path.isabs(path) or path in FORBIDDEN_PREFIXES or
                any(is_below_dir(p, path) for p in FORBIDDEN_PREFIXES)):
            result.append(path)
    return sorted(result)


def _check_in_allowed(path, allowed, exact_match_ok):
    if not os.path.isabs(path):
        raise errors.FileStoragePathError("File storage path must be"
                                          " absolute, got '%s'" % path)
    for entry in allowed:
        if not os.path.isabs(entry):
            logging.info("Ignoring relative path '%s' for file storage",
                         entry)
            continue
        if exact_match_ok and \
                os.path.normpath(entry) == os.path.normpath(path):
            return
        if is_below_dir(entry, path):
            return
    raise errors.FileStoragePathError("Path '%s' is not acceptable for file"
                                      " storage" % path)


def check_path_acceptance(path, filename=None, exact_match_ok=False):
    """FileStoragePathError unless ``path`` may hold instance files."""
    if filename is None:
        filename = pathutils.FILE_STORAGE_PATHS_FILE
    allowed = load_allowed_paths(filename)
    if not allowed:
        raise errors.FileStoragePathError("No paths are valid or path file"
                                          " '%s' was not accessible." %
                                          filename)
    if wrong_paths([path]):
        raise errors.FileStoragePathError("Path '%s' uses a forbidden"
                                          " prefix" % path)
    _check_in_allowed(path, allowed, exact_match_ok)


def check_storage_dir(path, filename=None):
    """None if ``path`` is an allowed, existing, writable directory, else
    the reason (for node verify)."""
    try:
        check_path_acceptance(path, filename=filename, exact_match_ok=True)
    except errors.FileStoragePathError as err:
        return str(err)
    if not os.path.isdir(path):
        return "Path '%s' is not existing or not a directory." % path
    if not os.access(path, os.W_OK):
        return "Path '%s' is not writable" % path
    return None


def space_info(path, storage_type=constants.DT_FILE):
    """Free and total MiB of the filesystem holding ``path``."""
    try:
        st = os.statvfs(path)
    except OSError as err:
        raise errors.CommandError("Failed to retrieve file system"
                                  " information about path: %s - %s" %
                                  (path, err.strerror))
    return {"type": storage_type, "name": path,
            "storage_size": st.f_frsize * st.f_blocks // _MIB,
            "storage_free": st.f_frsize * st.f_bavail // _MIB}


class FileStorage(base.BlockDev):
    """A disk image file (``file`` and ``sharedfile`` templates)."""

    def __init__(self, unique_id, children, size, params, dyn_params):
        if children:
            raise errors.BlockDeviceError("Invalid setup for file device")
        base.BlockDev.__init__(self, unique_id, children, size, params,
                               dyn_params)
        if not isinstance(unique_id, (tuple, list)) or len(unique_id) != 2:
            raise ValueError("Invalid configuration data %s" %
                             str(unique_id))
        self.driver = unique_id[0]
        self.dev_path = unique_id[1]
        check_path_acceptance(self.dev_path)
        self.attach()

    @classmethod
    def create(cls, unique_id, children, size, spindles, params, excl_stor,
               dyn_params):
        if excl_stor:
            raise errors.ProgrammerError("FileStorage device requested with"
                                         " exclusive_storage")
        if not isinstance(unique_id, (tuple, list)) or len(unique_id) != 2:
            raise ValueError("Invalid configuration data %s" %
                             str(unique_id))
        path = unique_id[1]
        check_path_acceptance(path)
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, mode=0o750, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                os.ftruncate(fd, int(size) * _MIB)
            finally:
                os.close(fd)
        except OSError as err:
            base.throw_error("%s: can't create: %s", path, err)
        return cls(unique_id, children, size, params, dyn_params)

    def attach(self):
        self.attached = os.path.isfile(self.dev_path)
        return self.attached

    def _assert_exists(self):
        if not os.path.isfile(self.dev_path):
            base.throw_error("%s: No such file", self.dev_path)

    def assemble(self):
        self._assert_exists()

    def remove(self):
        try:
            os.remove(self.dev_path)
            return True
        except OSError as err:
            if err.errno != errno.ENOENT:
                base.throw_error("%s: can't remove: %s", self.dev_path, err)
            return False

    def rename(self, new_id):
        base.throw_error("Rename is not supported for file-based storage")

    def grow(self, amount, dryrun, backingstore, excl_stor):
        self._assert_exists()
        if amount < 0:
            base.throw_error("%s: can't grow by negative amount",
                             self.dev_path)
        if dryrun or not backingstore:
            return
        new_size = self.get_actual_size() + int(amount) * _MIB
        try:
            os.truncate(self.dev_path, new_size)
        except OSError as err:
            base.throw_error("%s: can't grow: %s", self.dev_path, err)

    def get_actual_size(self):
        self._assert_exists()
        try:
            return os.stat(self.dev_path).st_size
        except OSError as err:
            base.throw_error("%s: can't stat: %s", self.dev_path, err)
