"""DRBD 8.4 devices: the drbdsetup/drbdmeta commands Ganeti runs, and
parsers of ``/proc/drbd`` and ``drbdsetup show``.

No DRBD module exists on the machines this is developed on, so nothing
here runs DRBD; the ``DRBD8Dev`` device driver will be built on these
functions. Command lines and parsers are pinned by unit tests, the
parsers against outputs recorded by Ganeti's own test suite (DRBD 8.0,
8.3 and 8.4 formats).

A DRBD disk's ``logical_id`` is ``[node_a, node_b, port, minor_a, minor_b,
secret]``; each minor N is resource ``resource<N>`` and device
``/dev/drbd<N>``; its children are the data LV and a 128 MiB metadata LV.
"""

import re
import shlex

from ganeti import errors
from ganeti.storage import base

PROC_DRBD = "/proc/drbd"
DRBD_HMAC_ALG = "md5"
META_SIZE_MIB = 128
# disk-barriers letters: n = none disabled, b = barriers, d = drain,
# f = flushes
BARRIERS_NONE = "n"
BARRIERS_DISK = "b"
BARRIERS_DRAIN = "d"
BARRIERS_FLUSH = "f"
_BARRIER_OPTIONS = ((BARRIERS_FLUSH, "--disk-flushes=no"),
                    (BARRIERS_DRAIN, "--disk-drain=no"),
                    (BARRIERS_DISK, "--disk-barrier=no"))


def resource(minor):
    """The resource of a minor: one resource per volume, as in Ganeti."""
    return "resource%d" % minor


def device_path(minor):
    return "/dev/drbd%d" % minor


# --- commands (DRBD >= 8.4 syntax) ---

def barrier_args(disk_barriers, meta_barriers):
    """Options disabling what ``disk-barriers`` (letters) and
    ``meta-barriers`` (bool) ask to disable."""
    letters = set(disk_barriers or BARRIERS_NONE)
    if not letters <= set("nbdf") or (BARRIERS_NONE in letters and
                                      len(letters) > 1):
        raise errors.BlockDeviceError("%s is not a valid option set for"
                                      " DRBD barriers" % disk_barriers)
    args = ["--md-flushes=no"] if meta_barriers else []
    args += [opt for letter, opt in _BARRIER_OPTIONS if letter in letters]
    return args


def show_cmd(minor):
    return ["drbdsetup", "show", str(minor)]


def init_meta_cmd(minor, meta_dev):
    return ["drbdmeta", "--force", device_path(minor), "v08", meta_dev,
            "flex-external", "create-md"]


def local_init_cmds(minor, data_dev, meta_dev, size_mib, params):
    """Create the resource and minor, and attach the local disks."""
    attach = ["drbdsetup", "attach", str(minor), data_dev, meta_dev,
              "flexible", "--on-io-error=detach"]
    if size_mib:
        attach += ["--size", "%sm" % size_mib]
    attach += barrier_args(params.get("disk-barriers"),
                           params.get("meta-barriers"))
    if params.get("disk-custom"):
        attach += shlex.split(params["disk-custom"])
    return [
        ["drbdsetup", "new-resource", resource(minor)],
        ["drbdsetup", "new-minor", resource(minor), str(minor), "0"],
        # the activity log must be applied before attaching
        ["drbdmeta", device_path(minor), "v08", meta_dev, "flex-external",
         "apply-al"],
        attach]


def _address(family, host, port):
    if family == "ipv6":
        host = "[%s]" % host.strip("[]")
    return "%s:%s:%s" % (family, host, port)


def net_init_cmd(minor, family, lhost, lport, rhost, rport, protocol,
                 dual_pri, hmac, secret, params):
    """Connect to the peer (``family`` is ipv4 or ipv6)."""
    args = ["drbdsetup", "connect", resource(minor),
            _address(family, lhost, lport), _address(family, rhost, rport),
            "--protocol", protocol,
            "--after-sb-0pri", "discard-zero-changes",
            "--after-sb-1pri", "consensus"]
    if dual_pri:
        args.append("--allow-two-primaries")
    if hmac and secret:
        args += ["--cram-hmac-alg", hmac, "--shared-secret", secret]
    if params.get("net-custom"):
        args += shlex.split(params["net-custom"])
    return args


def sync_params_cmd(minor, params):
    """Resync speed: fixed, or DRBD's dynamic controller."""
    args = ["drbdsetup", "disk-options", str(minor)]
    if params.get("dynamic-resync"):
        if not params.get("c-plan-ahead"):
            raise errors.BlockDeviceError(
                "A value of 0 for c-plan-ahead disables the dynamic sync"
                " speed controller at DRBD level. If you want to disable"
                " it, please set the dynamic-resync disk parameter to"
                " False.")
        for key in ("c-plan-ahead", "c-fill-target", "c-delay-target",
                    "c-max-rate", "c-min-rate"):
            args += ["--" + key, str(params[key])]
    else:
        args += ["--resync-rate", "%d" % params["resync-rate"]]
    return args


def primary_cmd(minor, force=False):
    return ["drbdsetup", "primary", str(minor)] + (["--force"] if force
                                                   else [])


def secondary_cmd(minor):
    return ["drbdsetup", "secondary", str(minor)]


def detach_cmd(minor):
    return ["drbdsetup", "detach", str(minor)]


def disconnect_cmd(family, lhost, lport, rhost, rport):
    return ["drbdsetup", "disconnect", _address(family, lhost, lport),
            _address(family, rhost, rport)]


def down_cmd(minor):
    return ["drbdsetup", "down", resource(minor)]


def resize_cmd(minor, size_mib):
    return ["drbdsetup", "resize", str(minor), "--size", "%dm" % size_mib]


def pause_sync_cmd(minor):
    return ["drbdsetup", "pause-sync", str(minor)]


def resume_sync_cmd(minor):
    return ["drbdsetup", "resume-sync", str(minor)]


# --- /proc/drbd ---

_VERSION_RE = re.compile(r"^version: (\d+)\.(\d+)\.(\d+)(?:\.(\d+))?"
                         r"(?:-(\d+))?"
                         r"(?: \(api:(\d+)/proto:(\d+)(?:-(\d+))?\))?")
_MINOR_RE = re.compile(r"^\s*(\d+):\s")
_UNCONF_RE = re.compile(r"^\s*[0-9]+:\s*cs:Unconfigured$")
_LINE_RE = re.compile(r"^\s*[0-9]+:\s*cs:(\S+)\s+(?:st|ro):([^/]+)/(\S+)"
                      r"\s+ds:([^/]+)/(\S+)\s+.*$")
# "M" or a space before "finish": a kernel bug (2.6.39) glued them.
_SYNC_RE = re.compile(r"^.*\ssync'ed:\s*([0-9.]+)%.*(?:\s|M)"
                      r"finish: ([0-9]+):([0-9]+):([0-9]+)\s.*$")


def parse_version(text):
    """Version facts of /proc/drbd's first line, or None."""
    first = text.splitlines()[0] if text.strip() else ""
    match = _VERSION_RE.match(first)
    if not match:
        return None
    values = match.groups()
    result = {"k_major": int(values[0]), "k_minor": int(values[1]),
              "k_point": int(values[2])}
    for key, value in zip(("k_fix", "k_release", "api", "proto", "proto2"),
                          values[3:]):
        if value is not None:
            result[key] = int(value) if key != "k_fix" else value
    return result


def minor_lines(text):
    """``{minor: one line}``: each minor's status with its continuation
    lines (sync progress) joined by spaces."""
    result = {}
    current = None
    for line in text.splitlines():
        match = _MINOR_RE.match(line)
        if match:
            current = int(match.group(1))
            result[current] = line.strip()
        elif current is not None and line.strip() and \
                line.startswith((" ", "\t")):
            result[current] += " " + line.strip()
        else:
            current = None
    return result


def parse_status(line):
    """The status of one minor (a ``minor_lines`` value) as a dict."""
    if _UNCONF_RE.match(line):
        return {"cstatus": "Unconfigured", "is_unconfigured": True,
                "lrole": None, "rrole": None, "ldisk": None, "rdisk": None,
                "sync_percent": None, "est_time": None, "is_in_resync":
                False, "is_in_use": False}
    match = _LINE_RE.match(line)
    if not match:
        raise errors.BlockDeviceError("Can't parse input data '%s'" % line)
    cstatus, lrole, rrole, ldisk, rdisk = match.groups()
    sync = _SYNC_RE.match(line)
    if sync:
        sync_percent = float(sync.group(1))
        hours, minutes, seconds = [int(x) for x in sync.groups()[1:]]
        est_time = hours * 3600 + minutes * 60 + seconds
    else:
        sync_percent = est_time = None
    in_resync = cstatus in ("SyncSource", "SyncTarget", "PausedSyncS",
                            "PausedSyncT")
    if in_resync and sync_percent is None:
        sync_percent = 0.0  # just started: no progress line yet
    return {
        "cstatus": cstatus, "lrole": lrole, "rrole": rrole, "ldisk": ldisk,
        "rdisk": rdisk, "is_unconfigured": False,
        "is_standalone": cstatus == "StandAlone",
        "is_wfconn": cstatus == "WFConnection",
        "is_connected": cstatus == "Connected",
        "is_primary": lrole == "Primary", "is_secondary": lrole == "Secondary",
        "peer_primary": rrole == "Primary",
        "is_diskless": ldisk == "Diskless",
        "is_disk_uptodate": ldisk == "UpToDate",
        "is_in_resync": in_resync, "is_in_use": True,
        "sync_percent": sync_percent, "est_time": est_time,
    }


def parse_proc_drbd(text):
    """``{minor: status dict}`` of every minor in /proc/drbd."""
    return dict((minor, parse_status(line))
                for minor, line in minor_lines(text).items())


def used_minors(text):
    """Minors that are configured (in use)."""
    return sorted(m for m, s in parse_proc_drbd(text).items()
                  if not s["is_unconfigured"])


def sync_status(minor, status):
    """A base.block_dev_status() dict from a minor's parsed status."""
    if status["is_disk_uptodate"]:
        ldisk = base.LDS_OKAY
    elif status["is_diskless"]:
        ldisk = base.LDS_FAULTY
    elif status["is_in_resync"]:
        ldisk = base.LDS_SYNC
    else:
        ldisk = base.LDS_UNKNOWN
    degraded = not status["is_connected"] or not status["is_disk_uptodate"]
    return base.block_dev_status(device_path(minor), 147, minor,
                                 status["sync_percent"],
                                 status["est_time"], degraded, ldisk)


# --- drbdsetup show ---

_TOKEN_RE = re.compile(r'\s*(?:#[^\n]*|("(?:[^"\\]|\\.)*")|([{};\[\]])|'
                       r'([^\s{};\[\]"#]+))')


def _tokens(text):
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip():
                raise errors.BlockDeviceError("Can't parse drbdsetup show"
                                              " output at %r" %
                                              text[pos:pos + 40])
            return
        pos = match.end()
        quoted, punct, word = match.groups()
        if quoted is not None:
            yield ("str", quoted[1:-1])
        elif punct is not None:
            yield (punct, punct)
        elif word is not None:
            yield ("word", word)


def parse_show_tree(text):
    """The configuration ``drbdsetup show`` prints, as nested lists:
    ``[(words...), [children]]`` for sections and ``(words...)`` for
    statements; ``[ 0 ]`` (a meta-disk index) becomes the word ``[0]``."""
    stack = [[]]
    words = []
    tokens = list(_tokens(text))
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "[":
            inner = []
            i += 1
            while i < len(tokens) and tokens[i][0] != "]":
                inner.append(tokens[i][1])
                i += 1
            words.append("[%s]" % " ".join(inner))
        elif kind == "{":
            section = [tuple(words), []]
            stack[-1].append(section)
            stack.append(section[1])
            words = []
        elif kind == "}":
            if len(stack) == 1:
                raise errors.BlockDeviceError("Unbalanced braces in"
                                              " drbdsetup show output")
            stack.pop()
            words = []
        elif kind == ";":
            stack[-1].append(tuple(words))
            words = []
        else:
            words.append(value)
        i += 1
    if len(stack) != 1:
        raise errors.BlockDeviceError("Unbalanced braces in drbdsetup show"
                                      " output")
    return stack[0]


def _parse_address(words):
    """(family, ip, port) from ``[ipv4|ipv6] host:port``."""
    # the tokenizer splits "[v6addr]:port" after the bracket: rejoin
    if words[0] in ("ipv4", "ipv6"):
        family, addr = words[0], "".join(words[1:])
    else:
        family, addr = "ipv4", "".join(words)
    host, _, port = addr.rpartition(":")
    return family, host.strip("[]"), int(port)


def parse_show(text):
    """What Ganeti needs of ``drbdsetup show``: local_dev, meta_dev,
    meta_index, local_addr and remote_addr ((family, ip, port)), protocol,
    and the net options; keys are absent when not configured. Handles
    the 8.0/8.3 and the 8.4 (resource/volume) layouts."""
    result = {}

    def visit(nodes, where):
        for node in nodes:
            if isinstance(node, list):
                head, children = node
                name = head[0] if head else ""
                if name in ("_this_host", "_remote_host"):
                    visit(children, name)
                elif name == "net":
                    for stmt in children:
                        if isinstance(stmt, tuple) and len(stmt) >= 2:
                            result.setdefault("net", {})[stmt[0]] = stmt[1]
                elif name in ("resource", "volume"):
                    visit(children, where)
                continue
            if not node:
                continue
            key, args = node[0], node[1:]
            if key == "protocol" and args:
                result["protocol"] = args[0]
            elif key == "address" and args and where:
                result["local_addr" if where == "_this_host" else
                       "remote_addr"] = _parse_address(args)
            elif key == "disk" and args and where == "_this_host":
                result["local_dev"] = args[0]
            elif key == "meta-disk" and args and where == "_this_host":
                result["meta_dev"] = args[0]
                if len(args) > 1 and args[1].startswith("["):
                    result["meta_index"] = int(args[1].strip("[]"))
            elif key == "device" and args and where == "_this_host":
                if args[0] == "minor":
                    result["minor"] = int(args[1])
                else:
                    match = re.match(r"^/dev/drbd(\d+)$", args[0])
                    if match:
                        result["minor"] = int(match.group(1))

    visit(parse_show_tree(text), None)
    return result
