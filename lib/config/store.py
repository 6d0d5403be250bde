"""Reading and writing ``config.data``.

Loading checks the version first (a different version is a
``ConfigVersionMismatch``, to be handled by ``cfgupgrade``), then the
structure; every failure names the file and what is wrong with it, because
the CLI prints it as ``Corrupt configuration file: ...``.
"""

import threading
import weakref
import logging

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import serializer
from ganeti.utils import io as io_utils

CONFIG_FILE_MODE = 0o600

# Top-level collections: key -> required (dicts keyed by UUID)
_COLLECTIONS = (("nodes", True), ("nodegroups", True), ("instances", True),
                ("networks", False), ("disks", False), ("filters", False))


def _check_structure(data, path):
    """Shape checks that give a readable message instead of a TypeError."""
    if not isinstance(data, dict):
        raise errors.ConfigurationError(
            "Invalid configuration file %s: top level is %s, not an object" %
            (path, type(data).__name__))
    if "version" not in data:
        raise errors.ConfigurationError(
            "Invalid configuration file %s: no 'version' key" % path)
    if data["version"] != constants.CONFIG_VERSION:
        raise errors.ConfigVersionMismatch(
            "Cluster configuration version mismatch, got %s instead of %s"
            " (file %s)" % (data["version"], constants.CONFIG_VERSION, path))
    if not isinstance(data.get("cluster"), dict):
        raise errors.ConfigurationError(
            "Invalid configuration file %s: missing or invalid 'cluster'"
            " section" % path)
    for name, required in _COLLECTIONS:
        value = data.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, dict):
            raise errors.ConfigurationError(
                "Invalid configuration file %s: '%s' must be an object keyed"
                " by UUID" % (path, name))
        for key, item in value.items():
            if not isinstance(item, dict):
                raise errors.ConfigurationError(
                    "Invalid configuration file %s: %s entry '%s' is not an"
                    " object" % (path, name, key))


_OBJECT_CLASSES = {
    "nodes": objects.Node, "nodegroups": objects.NodeGroup,
    "instances": objects.Instance, "networks": objects.Network,
    "disks": objects.Disk, "filters": objects.Filter,
}


def unknown_keys(data):
    """``["cluster.foo", "nodes[<uuid>].bar", ...]``: keys our objects do
    not know (they would be lost when the file is rewritten)."""
    result = ["%s" % key for key in sorted(data)
              if key not in objects.ConfigData.FIELDS]
    result.extend("cluster.%s" % key for key in sorted(data["cluster"])
                  if key not in objects.Cluster.FIELDS)
    for name, cls in _OBJECT_CLASSES.items():
        for uuid, item in sorted((data.get(name) or {}).items()):
            result.extend("%s[%s].%s" % (name, uuid, key)
                          for key in sorted(item) if key not in cls.FIELDS)
    return result


def parse_config(text, path="<string>"):
    """``ConfigData`` from the JSON text of a config file."""
    try:
        data = serializer.load_json(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise errors.ConfigurationError(
            "Can't parse configuration file %s: %s" % (path, err))
    _check_structure(data, path)
    unknown = unknown_keys(data)
    if unknown:
        logging.warning("Configuration file %s has unknown keys, dropped on"
                        " the next write: %s", path, ", ".join(unknown))
    try:
        return objects.ConfigData.from_dict(data)
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        raise errors.ConfigurationError(
            "Invalid configuration file %s: %s" % (path, err))


def load_config_file(path):
    """Read and parse ``path``."""
    try:
        raw = io_utils.read_file(path, binary=True)
    except EnvironmentError as err:
        raise errors.ConfigurationError(
            "Can't read configuration file %s: %s" % (path, err))
    return parse_config(raw, path)


# Fields that objects carry for convenience but never store
_NOT_STORED = frozenset(["secondary_nodes"])


def _plain(obj):
    """The dict form of a config object *without copying* plain values.

    Same result as ``to_dict()`` (pinned by a test) but without its deep
    copies: the writer serialises an immutable snapshot, so sharing is
    safe and a 500-instance config encodes several times faster. Only
    fields declared as nested (plus disk children) can hold objects.
    """
    cls = type(obj)
    nested = cls.NESTED
    result = {}
    for name in cls.FIELDS:
        item = getattr(obj, name)
        if item is None or name in _NOT_STORED:
            continue
        if name in nested or name == "children":
            if isinstance(item, dict):
                item = dict((key, _plain_any(value))
                            for key, value in item.items())
            elif isinstance(item, list):
                item = [_plain_any(value) for value in item]
            else:
                item = _plain_any(item)
        result[name] = item
    return result


def _plain_any(value):
    if isinstance(value, objects.ConfigObject):
        return _plain(value)
    return value


def config_to_plain(config_data):
    return _plain(config_data)


# Members of these collections are never changed in place (a change stores
# a modified copy), so each object's JSON text can be computed once and
# reused by every later write: a write then costs a join, not a full
# encode of thousands of instances.
_IMMUTABLE_MEMBERS = frozenset(["nodes", "nodegroups", "instances",
                                "networks", "disks", "filters"])
_fragments = weakref.WeakKeyDictionary()
_fragments_lock = threading.Lock()


def _member_text(key, obj):
    """``"key":{...}`` for one collection member, cached per object; call
    with ``_fragments_lock`` held."""
    cached = _fragments.get(obj)
    if cached is not None and cached[0] == key:
        return cached[1]
    text = "%s:%s" % (serializer.dump_json(key),
                      serializer.dump_json(_plain(obj)))
    _fragments[obj] = (key, text)
    return text


def serialize_config(config_data):
    """Bytes written to disk (compact JSON, sorted keys).

    The same text as ``dump_json(to_dict())`` (pinned by a test), built
    from cached per-object fragments.
    """
    try:
        parts = []
        for name in sorted(config_data.FIELDS):
            value = getattr(config_data, name)
            if value is None:
                continue
            if name in _IMMUTABLE_MEMBERS:
                with _fragments_lock:
                    text = "{%s}" % ",".join(
                        _member_text(key, value[key])
                        for key in sorted(value))
            else:
                text = serializer.dump_json(_plain_any(value))
            parts.append("%s:%s" % (serializer.dump_json(name), text))
        text = "{%s}" % ",".join(parts)
    except (TypeError, ValueError) as err:
        raise errors.ConfigurationError("Can't serialize configuration: %s" %
                                        err)
    return text.encode("utf-8")


def write_config_file(path, payload):
    """Atomically replace ``path`` with ``payload`` (fsync, mode 0600)."""
    try:
        io_utils.write_file(path, payload, mode=CONFIG_FILE_MODE, fsync=True,
                            dir_fsync=True)
    except EnvironmentError as err:
        raise errors.ConfigurationError("Can't write configuration file %s:"
                                        " %s" % (path, err))

