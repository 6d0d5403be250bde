"""Hooks on the master: the environment, the target nodes, the phases.

For an LU with ``HPATH`` set, the processor asks the master's
``HooksRunner`` for a ``HooksMaster`` bound to that LU (after
``check_prereq``). It computes the pre-phase environment and the node
lists once, runs the pre hooks (a failing script aborts the opcode with
``HooksAbort``), and after ``exec_`` the post hooks (failures are only
reported as warnings; the LU's ``hooks_callback`` may turn them into its
own result, as cluster verify does). When the opcode changed the
configuration, the special ``config-update`` post hooks run on the master.

Environment, as Ganeti's hooks version 2: ``PATH`` plus
``GANETI_HOOKS_VERSION``, ``GANETI_OP_CODE``, ``GANETI_DATA_DIR``,
``GANETI_HOOKS_PHASE``, ``GANETI_HOOKS_PATH``, ``GANETI_OBJECT_TYPE``,
``GANETI_CLUSTER``, ``GANETI_MASTER``, and the LU's ``build_hooks_env()``
keys prefixed with ``GANETI_``. The post phase calls ``build_hooks_env()``
again (the object has changed) and adds those values as ``GANETI_POST_*``
next to the unchanged pre-phase ``GANETI_*`` keys.

The scripts themselves run on the nodes through the ``hooks_runner`` RPC
(``backend/hooks.py``), in parallel on every target node.
"""

import logging

from ganeti import errors
from ganeti import pathutils
from ganeti.rpc import defs as rpc_defs

HOOKS_VERSION = 2
HOOKS_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"
HOOKS_NAME_CFGUPDATE = "config-update"
PHASE_PRE = rpc_defs.HOOKS_PHASE_PRE
PHASE_POST = rpc_defs.HOOKS_PHASE_POST
_PREFIXES = {PHASE_PRE: "GANETI_", PHASE_POST: "GANETI_POST_"}


def phase_env(build_env_fn, phase):
    """The LU's own keys for ``phase``, prefixed ``GANETI_``/``GANETI_POST_``.

    The LU gives bare names (``OP_TARGET``, ``NODE_NAME``); a name that
    already carries the prefix would collide with the base keys, which is a
    programming error.
    """
    prefix = _PREFIXES.get(phase)
    if prefix is None:
        raise errors.ProgrammerError("Unknown hooks phase '%s'" % phase)
    env = {}
    for key, value in (build_env_fn() or {}).items():
        if key.upper().startswith(prefix):
            raise errors.ProgrammerError(
                "Hooks environment key '%s' must not carry the %s prefix" %
                (key, prefix))
        env[prefix + key] = value
    return env


def base_env(opcode, hpath, phase, htype=None, cluster_name=None,
             master_name=None):
    """The keys every hook gets, whatever the LU."""
    env = {
        "PATH": HOOKS_PATH,
        "GANETI_HOOKS_VERSION": HOOKS_VERSION,
        "GANETI_OP_CODE": opcode,
        "GANETI_DATA_DIR": pathutils.DATA_DIR,
        "GANETI_HOOKS_PHASE": phase,
        "GANETI_HOOKS_PATH": hpath,
    }
    if htype:
        env["GANETI_OBJECT_TYPE"] = htype
    if cluster_name is not None:
        env["GANETI_CLUSTER"] = cluster_name
    if master_name is not None:
        env["GANETI_MASTER"] = master_name
    return env


def full_env(base, extra):
    """``base`` joined with the phase keys; both must be disjoint.

    Every value becomes a string, as the scripts see them (``None`` ->
    ``"None"``, booleans -> ``"True"``/``"False"``, as Ganeti).
    """
    clash = set(base) & set(extra or {})
    if clash:
        raise errors.ProgrammerError("Hooks environment keys set twice: %s" %
                                     ", ".join(sorted(clash)))
    env = dict(base)
    env.update(extra or {})
    return dict((str(key), str(value)) for key, value in env.items())


class HooksMaster:
    """Runs the hooks of one opcode: pre, post and config-update.

    ``execution_fn(node_names, hpath, phase, env)`` returns
    ``{node_name: RpcResult}`` (payload: ``[[script, status, output]]``);
    ``log_fn(msg, *args)`` reports problems to the job's feedback.
    ``nodes`` is ``(pre_nodes, post_nodes)`` as names; ``None`` (an LU
    without ``HPATH``) means only the config-update hook can run.
    """

    def __init__(self, opcode, hpath, nodes, execution_fn, build_env_fn,
                 log_fn, htype=None, cluster_name=None, master_name=None,
                 prepare_post_nodes_fn=None):
        self.opcode = opcode
        self.hpath = hpath
        self.execution_fn = execution_fn
        self.build_env_fn = build_env_fn
        self.log_fn = log_fn
        self.htype = htype
        self.cluster_name = cluster_name
        self.master_name = master_name
        self.prepare_post_nodes_fn = prepare_post_nodes_fn
        self.pre_nodes, self.post_nodes = nodes or (None, None)
        if hpath is None:
            self.pre_env = {}
        else:
            self.pre_env = phase_env(build_env_fn, PHASE_PRE)

    def build_env(self, phase):
        """The LU part of the environment for ``phase`` (no base keys)."""
        if phase == PHASE_PRE:
            return dict(self.pre_env)
        env = {}
        if self.hpath is not None:
            env = phase_env(self.build_env_fn, PHASE_POST)
        env.update(self.pre_env)
        return env

    def hook_env(self, hpath, phase, env):
        """Everything the scripts of ``hpath``/``phase`` see."""
        return full_env(base_env(self.opcode, hpath, phase, self.htype,
                                 self.cluster_name, self.master_name), env)

    def _run(self, nodes, hpath, phase, env):
        return self.execution_fn(sorted(nodes), hpath, phase,
                                 self.hook_env(hpath, phase, env))

    def run_phase(self, phase):
        """Run ``phase`` on its nodes; the raw results (None: no nodes).

        Pre phase: failed scripts raise ``HooksAbort([(node, script,
        output), ...])``; no answer at all raises ``HooksFailure``. Post
        phase: problems are logged and the results returned all the same.
        Unreachable nodes are logged and skipped, offline ones ignored.
        """
        if self.hpath is None:
            return None
        if phase == PHASE_PRE:
            nodes = self.pre_nodes
        elif phase == PHASE_POST:
            nodes = self.post_nodes
            if nodes is not None and self.prepare_post_nodes_fn is not None:
                nodes = self.prepare_post_nodes_fn(list(nodes))
        else:
            raise errors.ProgrammerError("Unknown hooks phase '%s'" % phase)
        if not nodes:
            return None
        results = self._run(set(nodes), self.hpath, phase,
                            self.build_env(phase))
        if not results:
            if phase == PHASE_PRE:
                raise errors.HooksFailure("Communication Failure")
            self.log_fn("Communication Failure")
            return results
        errs = []
        for node_name in sorted(results):
            res = results[node_name]
            if res.offline:
                continue
            if res.fail_msg:
                self.log_fn("Communication failure to node %s: %s",
                            node_name, res.fail_msg)
                continue
            for script, status, output in res.payload or []:
                if status != rpc_defs.HKR_FAIL:
                    continue
                if phase == PHASE_PRE:
                    errs.append((node_name, script, output))
                else:
                    self.log_fn("On %s script %s failed, output: %s",
                                node_name, script, output or "(no output)")
        if errs:
            raise errors.HooksAbort(errs)
        return results

    def run_config_update(self):
        """The ``config-update`` post hooks, on the master only."""
        if self.master_name is None:
            return None
        return self._run([self.master_name], HOOKS_NAME_CFGUPDATE,
                         PHASE_POST, self.pre_env)


class LuHooks:
    """A HooksMaster bound to one LU: the processor's view.

    The LU's ``hooks_callback`` sees each phase's results; its return
    value after the post phase is the opcode's result.
    """

    def __init__(self, lu, master):
        self.lu = lu
        self.master = master

    def run_pre(self):
        results = self.master.run_phase(PHASE_PRE)
        self.lu.hooks_callback(PHASE_PRE, results, self.lu.feedback_fn, None)
        return results

    def run_post(self, lu_result):
        results = self.master.run_phase(PHASE_POST)
        return self.lu.hooks_callback(PHASE_POST, results,
                                      self.lu.feedback_fn, lu_result)

    def run_config_update(self):
        """Run the config-update hooks; never fails the opcode."""
        try:
            self.master.run_config_update()
        except Exception:  # pylint: disable=broad-except
            logging.exception("Error running the config-update hooks")


def _node_names(cfg, items):
    """Node names for ``items`` (names or UUIDs; unknown ones kept as is,
    e.g. a node being added)."""
    names = []
    for item in items or []:
        name = cfg.get_node_name(item)
        names.append(item if name is None else name)
    return names


class HooksRunner:
    """The master's hooks service (``MasterContext.hooks``).

    ``for_lu(lu)`` builds the hooks of one opcode; the scripts run through
    the ``hooks_runner`` RPC of ``rpc``.
    """

    def __init__(self, rpc):
        self.rpc = rpc

    def execute(self, node_names, hpath, phase, env):
        return self.rpc.call("hooks_runner", list(node_names),
                             [hpath, phase, env])

    def for_lu(self, lu):
        nodes = None
        if lu.HPATH is not None:
            hook_nodes = lu.build_hooks_nodes()
            if hook_nodes is None:
                hook_nodes = ([], [])
            if len(hook_nodes) != 2:
                raise errors.ProgrammerError(
                    "build_hooks_nodes must return (pre_nodes, post_nodes)")
            nodes = (_node_names(lu.cfg, hook_nodes[0]),
                     _node_names(lu.cfg, hook_nodes[1]))
        master = HooksMaster(
            lu.op.OP_ID, lu.HPATH, nodes, self.execute, lu.build_hooks_env,
            lu.log_warning, htype=lu.HTYPE,
            cluster_name=lu.cfg.get_cluster_name(),
            master_name=lu.cfg.get_master_node_name(),
            prepare_post_nodes_fn=getattr(lu, "prepare_post_hook_nodes",
                                          None))
        return LuHooks(lu, master)
