"""Crash-safe file handling: write to a temporary file, fsync, rename."""

import errno
import os
import tempfile


def write_file(path, data, mode=0o644, fsync=True, dir_fsync=False,
               uid=-1, gid=-1, mtime=None):
    """Atomically replace ``path`` with ``data`` (str or bytes).

    The new content is written to a temporary file in the same directory,
    fsynced, and renamed over the target, so readers see either the old or
    the new file, never a torn one.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    dirname, basename = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix="." + basename + ".", suffix=".new",
                               dir=dirname or ".")
    try:
        os.fchmod(fd, mode)
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = None
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.rename(tmp, path)
        tmp = None
        if dir_fsync:
            fsync_dir(dirname or ".")
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def fsync_dir(path):
    """fsync a directory so that renames in it are durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def find_in_search_path(name, search_path, test=os.path.isfile):
    """The first ``directory/name`` of ``search_path`` that passes
    ``test`` (OS definitions, allocators), or None."""
    for directory in search_path:
        path = os.path.join(directory, name)
        if test(path):
            return path
    return None


def read_file(path, binary=False):
    """The whole content of ``path``."""
    with open(path, "rb" if binary else "r") as fh:
        return fh.read()


def read_one_line(path, default=None):
    """First line of ``path`` without its newline, or ``default`` if absent."""
    try:
        with open(path) as fh:
            return fh.readline().rstrip("\n")
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def remove_file(path):
    """Remove ``path``; a missing file is not an error."""
    try:
        os.unlink(path)
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise


def make_dirs(dirs):
    """Create (path, mode) directories if missing."""
    for path, mode in dirs:
        try:
            os.makedirs(path, mode)
        except FileExistsError:
            pass
        os.chmod(path, mode)


def read_pid_file(path):
    """The pid stored in ``path``, or 0."""
    try:
        return int(read_one_line(path, default="0") or 0)
    except (ValueError, OSError):
        return 0


def is_process_alive(pid):
    """True if process ``pid`` exists (and is not a zombie)."""
    if pid <= 0:
        return False
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        return False
    return True
