"""Tags on the cluster, node groups, nodes, instances and networks.

Tags are free-form labels, so the only rules are Ganeti's syntactic ones
(length, character set, count per object); the texts of TagError are
Ganeti's because scripts match on them.
"""

import re

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu

_VALID_TAG_RE = re.compile(r"^[\w.+*/:@-]+$")

# kind -> (lock level or None, path prefix used by OP_TAGS_SEARCH)
_KINDS = {
    constants.TAG_CLUSTER: (None, "/cluster"),
    constants.TAG_NODE: (constants.LOCKS_NODE, "/nodes/%s"),
    constants.TAG_INSTANCE: (constants.LOCKS_INSTANCE, "/instances/%s"),
    constants.TAG_NODEGROUP: (constants.LOCKS_NODEGROUP, "/nodegroup/%s"),
    constants.TAG_NETWORK: (constants.LOCKS_NETWORK, None),
}


def validate_tag(tag):
    """Raise TagError unless ``tag`` is a syntactically valid tag."""
    if not isinstance(tag, str):
        raise errors.TagError("Invalid tag type (not a string)")
    if len(tag) > constants.MAX_TAG_LEN:
        raise errors.TagError("Tag too long (>%d characters)" %
                              constants.MAX_TAG_LEN)
    if not tag:
        raise errors.TagError("Tags cannot be empty")
    if not _VALID_TAG_RE.match(tag):
        raise errors.TagError("Tag contains invalid characters")


def add_tags(current, new_tags):
    """The tag list after adding ``new_tags`` (validated, no duplicates)."""
    result = list(current or [])
    for tag in new_tags:
        validate_tag(tag)
        if tag in result:
            continue
        if len(result) >= constants.MAX_TAGS_PER_OBJ:
            # Ganeti's text; the LU turns it into an OpExecError
            raise errors.TagError("Too many tags")
        result.append(tag)
    return result


def _find_in_config(cfg, kind, name):
    """(uuid, object) of the tagged object; OpPrereqError if unknown."""
    if kind == constants.TAG_CLUSTER:
        return None, cfg.get_cluster_info()
    if kind == constants.TAG_NODE:
        uuid, _ = node_lu.expand_node_name(cfg, name)
        return uuid, cfg.get_node_info(uuid)
    if kind == constants.TAG_INSTANCE:
        uuid, _ = cfg.expand_instance_name(name)
        if uuid is None:
            raise errors.OpPrereqError("Instance '%s' not known" % name,
                                       errors.ECODE_NOENT)
        return uuid, cfg.get_instance_info(uuid)
    if kind == constants.TAG_NODEGROUP:
        uuid = cfg.lookup_node_group(name)
        return uuid, cfg.get_node_group(uuid)
    if kind == constants.TAG_NETWORK:
        uuid = cfg.lookup_network(name)
        return uuid, cfg.get_network(uuid)
    raise errors.OpPrereqError("Wrong tag type requested (%s)" % kind,
                               errors.ECODE_INVAL)


class _TagsLU(base.NoHooksLU):
    """Common part: resolve (kind, name) and lock that one object."""

    def expand_names(self):
        kind = self.op.kind
        if kind not in _KINDS:
            raise errors.OpPrereqError("Wrong tag type requested (%s)" %
                                       kind, errors.ECODE_INVAL)
        if kind != constants.TAG_CLUSTER and not self.op.name:
            raise errors.OpPrereqError("Missing name for tag kind '%s'" %
                                       kind, errors.ECODE_INVAL)
        self.target_uuid, _ = _find_in_config(self.cfg, kind, self.op.name)
        level = _KINDS[kind][0]
        if level is not None:
            self.needed_locks[level] = [self.target_uuid]
        if not getattr(self.op, "use_locking", True):
            self.needed_locks = {}

    def _target(self):
        """A fresh copy of the tagged object (after locks are held)."""
        return _find_in_config(self.cfg, self.op.kind, self.op.name)[1]


class LUTagsGet(_TagsLU):
    """The tags of one object, sorted."""

    def expand_names(self):
        _TagsLU.expand_names(self)
        for level in self.needed_locks:
            self.share_locks[level] = 1

    def exec_(self, feedback_fn):
        return sorted(self._target().tags or [])


class LUTagsSet(_TagsLU):
    """Add tags to one object."""

    def check_prereq(self):
        self.target = self._target()
        for tag in self.op.tags:
            validate_tag(tag)

    def exec_(self, feedback_fn):
        try:
            self.target.tags = add_tags(self.target.tags, self.op.tags)
        except errors.TagError as err:
            raise errors.OpExecError("Error while setting tag: %s" % err)
        self.cfg.update(self.target)


class LUTagsDel(_TagsLU):
    """Remove tags from one object; every tag must be present."""

    def check_prereq(self):
        self.target = self._target()
        for tag in self.op.tags:
            validate_tag(tag)
        current = set(self.target.tags or [])
        missing = set(self.op.tags) - current
        if missing:
            names = ", ".join("'%s'" % tag for tag in sorted(missing))
            raise errors.OpPrereqError("Tag(s) %s not found" % names,
                                       errors.ECODE_NOENT)

    def exec_(self, feedback_fn):
        remove = set(self.op.tags)
        self.target.tags = [t for t in self.target.tags if t not in remove]
        self.cfg.update(self.target)


class LUTagsSearch(base.NoHooksLU):
    """(path, tag) for every tag matching a regular expression."""

    def check_prereq(self):
        try:
            self.regex = re.compile(self.op.pattern)
        except re.error as err:
            raise errors.OpPrereqError("Invalid search pattern '%s': %s" %
                                       (self.op.pattern, err),
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        cfg = self.cfg
        targets = [("/cluster", cfg.get_cluster_info())]
        # Ganeti searches neither networks nor anything else
        for getter, kind in (("get_all_instances_info",
                              constants.TAG_INSTANCE),
                             ("get_all_nodes_info", constants.TAG_NODE),
                             ("get_all_node_groups_info",
                              constants.TAG_NODEGROUP)):
            prefix = _KINDS[kind][1]
            objs = sorted(getattr(cfg, getter)().values(),
                          key=lambda o: o.name)
            targets.extend((prefix % obj.name, obj) for obj in objs)
        results = []
        for path, obj in targets:
            for tag in sorted(obj.tags or []):
                if self.regex.search(tag):
                    results.append((path, tag))
        return results
