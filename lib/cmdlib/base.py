"""Logical units: the code behind each opcode.

Lifecycle, driven by ``mcpu.Processor``::

    lu = LUClass(context, op, feedback)
    lu.check_arguments()           # static checks, no locks held
    lu.expand_names()              # resolve names, fill needed_locks
    for level in LOCK_LEVELS:      # processor acquires, sorted, in order
        lu.declare_locks(level)    # may add locks computed from upper levels
    lu.check_prereq()              # with locks held; nothing changed yet
    pre hooks -> lu.exec_() -> post hooks

An LU never acquires locks itself; it only declares them.
"""

from ganeti import constants
from ganeti import errors

LEVELS = constants.LOCK_LEVELS
ALL_SET = constants.LOCKS_ALL


class MasterContext:
    """What an LU may use: config, node RPC, the job queue, hooks runner."""

    def __init__(self, cfg, rpc, jqueue=None, hooks=None, master_name=None,
                 node_backoff=None):
        self.cfg = cfg
        self.rpc = rpc
        self.jqueue = jqueue
        self.hooks = hooks
        self.master_name = master_name
        # nodes the background pushes skip for a while (rpc.backoff)
        self.node_backoff = node_backoff


class LogicalUnit:
    """Base of all LUs; subclasses override the lifecycle steps they need.

    ``needed_locks``: level -> list of names, or ``ALL_SET`` (every lock of
    that level); absent level = no locks. ``share_locks``: level -> 1 for
    shared acquisition.
    """

    HPATH = None       # hooks directory prefix, e.g. "cluster-verify"
    HTYPE = None       # "CLUSTER", "NODE", "INSTANCE", "GROUP", "NETWORK"
    REQ_BGL = False    # True: take the cluster lock exclusively

    def __init__(self, context, op, feedback_fn, job_id=None):
        self.context = context
        self.cfg = context.cfg
        self.rpc = context.rpc
        self.op = op
        self.feedback_fn = feedback_fn
        self.job_id = job_id
        self.needed_locks = {}
        self.share_locks = dict.fromkeys(LEVELS, 0)
        self.owned_locks = {}
        self.dry_run_result = None

    # Lifecycle
    def check_arguments(self):
        """Checks that need no config or locks."""

    def expand_names(self):
        """Resolve names to config objects and declare ``needed_locks``."""

    def declare_locks(self, level):
        """Add locks for ``level`` computed from the levels above it."""

    def check_prereq(self):
        """Verify the operation can run; must not change anything."""

    def exec_(self, feedback_fn):
        raise NotImplementedError

    # Hooks
    def build_hooks_env(self):
        return {}

    def build_hooks_nodes(self):
        """(pre_nodes, post_nodes) names where hooks run; None = no hooks."""
        return None

    def hooks_callback(self, phase, results, feedback_fn, lu_result):
        return lu_result

    # Helpers
    def log_info(self, msg, *args):
        self.feedback_fn(" - INFO: %s" % (msg % args if args else msg))

    def log_warning(self, msg, *args, hint=None):
        text = msg % args if args else msg
        self.feedback_fn(" - WARNING: %s" % text)
        if hint:
            self.feedback_fn("      Hint: %s" % hint)

    def log_step(self, msg):
        self.feedback_fn("* %s" % msg)

    def owned(self, level):
        return self.owned_locks.get(level, [])


class NoHooksLU(LogicalUnit):
    """An LU that never runs hooks."""

    HPATH = None
    HTYPE = None


class ResultWithJobs:
    """Returned by an LU that submits follow-up jobs (e.g. cluster verify).

    ``jobs`` is a list of jobs, each a list of opcodes; the processor submits
    them and the opcode result becomes ``{"jobs": [[ok, id_or_msg], ...]}``
    merged with ``other``.
    """

    def __init__(self, jobs, **other):
        self.jobs = jobs
        self.other = other


def expand_node_name(cfg, name):
    """(uuid, full name) of node ``name``; OpPrereqError if unknown."""
    uuid, full_name = cfg.expand_node_name(name)
    if uuid is None:
        raise errors.OpPrereqError("Node '%s' not known" % name,
                                   errors.ECODE_NOENT)
    return uuid, full_name


def check_node_online(lu, node_uuid, msg=None):
    node = lu.cfg.get_node_info(node_uuid)
    if node.offline:
        raise errors.OpPrereqError(msg or "Can't use offline node %s" %
                                   node.name, errors.ECODE_STATE)
