"""Files the master distributes: cluster files, ssconf, the job queue copy.

Each procedure accepts only paths inside its own area (a whitelist for
``upload_file``, the queue directory for the ``jobqueue_*`` calls), so a
compromised or buggy caller cannot overwrite arbitrary files on a node.
"""

import fcntl
import grp
import os
import pwd
import re
import shutil

from ganeti import constants
from ganeti import pathutils
from ganeti.backend.common import RPCFail, fail
from ganeti.rpc import defs
from ganeti.utils import io


def upload_targets():
    """The files ``upload_file`` may write (absolute paths)."""
    return frozenset([
        pathutils.CLUSTER_CONF_FILE,
        pathutils.SSH_KNOWN_HOSTS_FILE,
        pathutils.NODED_CERT_FILE,
        pathutils.RAPI_CERT_FILE,
        pathutils.RAPI_USERS_FILE,
        pathutils.CONFD_HMAC_KEY,
        pathutils.CLUSTER_DOMAIN_SECRET_FILE,
        pathutils.SPICE_CERT_FILE,
        pathutils.SPICE_CACERT_FILE,
        pathutils.SSH_PUB_KEYS,
    ])


def _resolve_id(value, kind):
    """A numeric uid/gid from a name, a number or None/-1 (unchanged)."""
    if value is None or value == "" or value == -1:
        return -1
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    try:
        if kind == "user":
            return pwd.getpwnam(value).pw_uid
        return grp.getgrnam(value).gr_gid
    except KeyError:
        fail("Unknown %s '%s'", kind, value)


def _decode(content):
    try:
        return defs.decode_content(content)
    except (ValueError, TypeError) as err:
        fail("Invalid file content: %s", err)


def upload_file(file_name, content, mode, uid, gid, atime, mtime):
    """Write one of the whitelisted cluster files with the master's
    content, permissions, owner and times."""
    if not isinstance(file_name, str) or not os.path.isabs(file_name):
        fail("Filename passed to UploadFile is not absolute: '%s'", file_name)
    path = os.path.normpath(file_name)
    if path not in upload_targets():
        fail("Filename passed to UploadFile not in allowed upload targets:"
             " '%s'", file_name)
    data = _decode(content)
    uid = _resolve_id(uid, "user")
    gid = _resolve_id(gid, "group")
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o750)
    io.write_file(path, data, mode=int(mode) & 0o7777, uid=uid, gid=gid)
    if atime is not None and mtime is not None:
        os.utime(path, (float(atime), float(mtime)))
    return None


# --- ssconf ---

def _valid_ssconf_keys():
    keys = set()
    for name in dir(constants):
        if name.startswith("SS_") and name != "SS_HVPARAMS_PREF":
            value = getattr(constants, name)
            if isinstance(value, str):
                keys.add(value)
    return keys


_SSCONF_KEY_RE = re.compile(r"^[a-z0-9_-]+$")


def _check_ssconf_key(key):
    if not isinstance(key, str) or not _SSCONF_KEY_RE.match(key):
        fail("Invalid ssconf key %r", key)
    if key in _valid_ssconf_keys():
        return
    if key.startswith(constants.SS_HVPARAMS_PREF):
        return
    fail("Unknown ssconf key '%s'", key)


def ssconf_text(value):
    """The file content for an ssconf value: lists one item per line,
    booleans as True/False, always ending in a newline unless empty."""
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value)
    elif value is None:
        value = ""
    else:
        value = str(value)
    if value and not value.endswith("\n"):
        value += "\n"
    return value


def write_ssconf_files(values):
    """Write ``ssconf_<key>`` for every key of ``values`` (mode 0444).

    Writes are atomic per file and serialised by the ssconf lock file, so
    two masters' updates (during failover) cannot interleave.
    """
    if not isinstance(values, dict):
        fail("ssconf values must be a dict, not %s", type(values).__name__)
    texts = {}
    for key, value in values.items():
        _check_ssconf_key(key)
        text = ssconf_text(value)
        if len(text.encode("utf-8")) > constants.SSCONF_MAX_SIZE:
            fail("ssconf value of '%s' is too large (%d bytes)", key,
                 len(text))
        texts[key] = text
    lock_file = pathutils.SSCONF_LOCK_FILE
    os.makedirs(os.path.dirname(lock_file), 0o755, exist_ok=True)
    os.makedirs(pathutils.DATA_DIR, 0o755, exist_ok=True)
    with open(lock_file, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for key, text in sorted(texts.items()):
            io.write_file(pathutils.ssconf_file(key), text, mode=0o444)
    return None


# --- job queue ---

def _queue_path(path):
    """``path`` normalised, if it lies inside the queue directory."""
    if not isinstance(path, str) or not os.path.isabs(path):
        fail("Passed job queue file '%s' is not an absolute path", path)
    norm = os.path.normpath(path)
    queue = os.path.normpath(pathutils.QUEUE_DIR)
    if norm == queue or os.path.commonpath([norm, queue]) != queue:
        fail("Passed job queue file '%s' does not belong to the queue"
             " directory '%s'", path, queue)
    return norm


def jobqueue_update(file_name, content):
    """Write a job queue file (job, serial, archived job) from the master."""
    path = _queue_path(file_name)
    data = _decode(content)
    os.makedirs(os.path.dirname(path), 0o750, exist_ok=True)
    io.write_file(path, data, mode=constants.JOB_QUEUE_FILES_PERMS)
    return None


def jobqueue_rename(rename_list):
    """Rename queue files (archiving), creating target directories."""
    if not isinstance(rename_list, (list, tuple)):
        fail("Invalid rename list")
    pairs = []
    for item in rename_list:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            fail("Invalid rename entry %r", item)
        pairs.append((_queue_path(item[0]), _queue_path(item[1])))
    for old, new in pairs:
        os.makedirs(os.path.dirname(new), 0o750, exist_ok=True)
        try:
            os.rename(old, new)
        except OSError as err:
            fail("Can't rename '%s' to '%s': %s", old, new, err)
    return None


def jobqueue_purge():
    """Remove every job, the serial and the archive (keep the lock file)."""
    queue = pathutils.QUEUE_DIR
    keep = frozenset([os.path.basename(pathutils.JOB_QUEUE_LOCK_FILE)])
    try:
        names = os.listdir(queue)
    except FileNotFoundError:
        return None
    for name in names:
        if name in keep:
            continue
        path = os.path.join(queue, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            io.remove_file(path)
    return None


def jobqueue_set_drain_flag(flag):
    """Create (flag true) or remove the queue's drain file."""
    path = pathutils.JOB_QUEUE_DRAIN_FILE
    if flag:
        os.makedirs(os.path.dirname(path), 0o750, exist_ok=True)
        io.write_file(path, "", mode=0o644)
    else:
        io.remove_file(path)
    return None


def get_file_info(file_path):
    """``{"size", "mode", "mtime", "uid", "gid"}`` of a file, or RPCFail."""
    try:
        st = os.stat(file_path)
    except OSError as err:
        raise RPCFail("Can't stat '%s': %s" % (file_path, err.strerror))
    return {"size": st.st_size, "mode": st.st_mode & 0o7777,
            "mtime": st.st_mtime, "uid": st.st_uid, "gid": st.st_gid}


RPC_FUNCTIONS = {
    "upload_file": upload_file,
    "write_ssconf_files": write_ssconf_files,
    "jobqueue_update": jobqueue_update,
    "jobqueue_rename": jobqueue_rename,
    "jobqueue_purge": jobqueue_purge,
    "jobqueue_set_drain_flag": jobqueue_set_drain_flag,
    "get_file_info": get_file_info,
}
