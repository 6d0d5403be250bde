"""Moving the master role to this node (``gnt-cluster master-failover``).

Run on the master candidate that is to become the master. Ganeti's
procedure, in the order that keeps two masters from writing at once:

1. checks: this node is not the master and is a master candidate; unless
   ``--no-voting``, the nodes that answer must name the same master as
   our ssconf (else our configuration is stale and we must not use it);
2. the old master is told to drop the master IP and stop its master
   daemons -- before we write anything, so that it cannot overwrite the
   new configuration afterwards. It may be dead: that is only a warning;
3. we wait until nothing answers on the master IP any more;
4. ``cluster.master_node`` is changed in our replica of ``config.data``,
   which is written locally and sent to the other candidates; ssconf
   (``master_node``) is written here and on every reachable node;
5. masterd is started here (it votes again, unless ``--no-voting``), then
   the master IP is configured here and announced (gratuitous ARP) and we
   wait until it answers.

A node that was unreachable keeps its old ssconf until the next
distribution (``gnt-cluster redist-conf``); if it is the old master, its
masterd refuses to start because the other nodes vote for the new one.
An old master that was only cut off still runs masterd when it comes
back: ``watch_master_role`` (a thread of masterd) notices that a majority
of the nodes names another master, drops the master IP and stops masterd.

Voting is a confirmation, not an election: every node answers
``master_node_name`` from its own ssconf. ``check_majority`` is the
CLI's precondition (more than half of the nodes must answer at all);
``failover`` then requires the most-named master to be the one our
ssconf names.
"""

import logging
import threading
import time

from ganeti import constants
from ganeti import errors
from ganeti import pathutils

# Seconds to wait for the master IP to go away / come up (as Ganeti).
IP_WAIT_TIMEOUT = 30.0
# Delay between master IP probes: start, growth factor, maximum.
IP_WAIT_DELAYS = (1.0, 1.5, 5.0)
# A probe of the master IP waits this long for an answer.
IP_PROBE_TIMEOUT = 1.0
_UNREACHABLE = "Node is unreachable"
# Seconds between masterd's checks that it is still the master.
ROLE_CHECK_INTERVAL = 15.0


class Votes:
    """Who the nodes name as master (``master_node_name`` answers).

    ``answers`` maps each node that answered to the master it names;
    ``failures`` maps each node that did not to the reason.
    """

    def __init__(self, answers=None, failures=None):
        self.answers = dict(answers or {})
        self.failures = dict(failures or {})

    def ranking(self):
        """``[(master name, votes)]``, most votes first (ties by name)."""
        counts = {}
        for master in self.answers.values():
            counts[master] = counts.get(master, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def winner(self):
        """The most-named master, or None if no node answered."""
        ranking = self.ranking()
        return ranking[0][0] if ranking else None

    def __repr__(self):
        return "<Votes %s, no answer from %s>" % (self.ranking(),
                                                   sorted(self.failures))


def gather_votes(node_names, rpc):
    """Ask ``node_names`` (in parallel) who the master is."""
    votes = Votes()
    if not node_names:
        return votes
    results = rpc.call("master_node_name", list(node_names), [])
    for name in node_names:
        result = results.get(name)
        if result is None:
            votes.failures[name] = "no result"
        elif result.fail_msg:
            votes.failures[name] = result.fail_msg
        elif not result.payload or not isinstance(result.payload, str):
            votes.failures[name] = "no master name in the answer"
        else:
            votes.answers[name] = result.payload
    if votes.failures:
        logging.info("No master vote from: %s", ", ".join(
            "%s (%s)" % item for item in sorted(votes.failures.items())))
    return votes


def majority_answered(votes, node_names):
    """``(healthy, unhealthy nodes)``: did more than half of
    ``node_names`` answer? (Ganeti's MajorityHealthy.)"""
    answered = [name for name in node_names if name in votes.answers]
    unhealthy = [name for name in node_names if name not in votes.answers]
    return 2 * len(answered) > len(node_names), unhealthy


def _ssconf_rpc():
    from ganeti.rpc import client as rpc_client
    return rpc_client.RpcRunner(rpc_client.ssconf_resolver())


def check_majority(ignore_offline_nodes=False, ss=None, rpc=None):
    """The CLI's precondition for a failover with voting.

    Returns ``(healthy, unhealthy node names, votes)``; the votes can be
    handed to ``failover`` so that the nodes are asked only once.
    """
    from ganeti import ssconf
    ss = ss or ssconf.SimpleStore()
    if ignore_offline_nodes:
        node_names = ss.get_online_nodes()
    else:
        node_names = ss.get_node_list()
    votes = gather_votes(node_names, rpc or _ssconf_rpc())
    healthy, unhealthy = majority_answered(votes, node_names)
    logging.info("Total %d nodes, %d answered: %s", len(node_names),
                 len(votes.answers), votes.ranking())
    return healthy, unhealthy, votes


def check_prerequisites(old_master, new_master, candidates, votes):
    """Raise OpPrereqError (Ganeti's texts) unless ``new_master`` may
    take over from ``old_master``; ``votes`` is None with --no-voting."""
    if old_master == new_master:
        raise errors.OpPrereqError(
            "This commands must be run on the node where you want the new"
            " master to be. %s is already the master" % old_master,
            errors.ECODE_INVAL)
    if new_master not in candidates:
        others = [name for name in candidates if name != old_master]
        raise errors.OpPrereqError(
            "This node is not among the nodes marked as master candidates."
            " Only these nodes can become masters. Current list of master"
            " candidates is:\n%s" % "\n".join(others), errors.ECODE_STATE)
    if votes is not None:
        voted = votes.winner()
        if voted is not None and voted != old_master:
            raise errors.OpPrereqError(
                "I have a wrong configuration, I believe the master is %s"
                " but the other nodes voted %s. Please resync the"
                " configuration of this node." % (old_master, voted),
                errors.ECODE_STATE)


def wait_for_ip(address, reachable, timeout=IP_WAIT_TIMEOUT,
                delays=IP_WAIT_DELAYS, port=constants.DEFAULT_NODED_PORT,
                probe=None):
    """Probe ``address`` until it answers (``reachable``) or stops
    answering; True if that happened within ``timeout`` seconds."""
    if probe is None:
        from ganeti import bootstrap

        def probe():
            return bootstrap.tcp_ping(address, port,
                                      timeout=IP_PROBE_TIMEOUT)
    deadline = time.monotonic() + timeout
    delay, factor, limit = delays
    while True:
        if probe() == reachable:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * factor, limit)


class _Failover:
    """One run of the procedure; collects the warnings and exit code."""

    def __init__(self, no_voting, ss, rpc_factory, cfg_file):
        self.no_voting = no_voting
        self.ss = ss
        self.rpc_factory = rpc_factory
        self.cfg_file = cfg_file or pathutils.CLUSTER_CONF_FILE
        self.rcode = constants.EXIT_SUCCESS
        self.warnings = []
        self.old_master = self.new_master = None
        self.cfg = self.rpc = None
        # node -> message: nodes we could not connect to during this run
        # are not waited for again (each try costs the connect timeout)
        self.unreachable = {}

    def note_votes(self, votes):
        for name, msg in votes.failures.items():
            if msg.startswith(_UNREACHABLE):
                self.unreachable[name] = msg

    def call(self, procedure, node_names, args):
        """``{node: fail_msg or None}``; skips nodes found unreachable."""
        outcome = dict((name, self.unreachable[name]) for name in node_names
                       if name in self.unreachable)
        todo = [name for name in node_names if name not in outcome]
        if todo:
            results = self.rpc.call(procedure, todo, args)
            for name in todo:
                result = results.get(name)
                msg = result.fail_msg if result is not None else "no result"
                outcome[name] = msg
                if msg and msg.startswith(_UNREACHABLE):
                    self.unreachable[name] = msg
        return outcome

    def warn(self, text, failed=False):
        logging.warning("%s", text)
        self.warnings.append(text)
        if failed:
            self.rcode = constants.EXIT_FAILURE

    # --- step 1
    def check(self, votes):
        from ganeti import ssconf
        self.old_master, self.new_master = \
            ssconf.get_master_and_my_name(self.ss)
        candidates = self.ss.get_master_candidates()
        if not self.no_voting and votes is None and \
                self.old_master != self.new_master and \
                self.new_master in candidates:
            votes = gather_votes(self.ss.get_node_list(), _ssconf_rpc())
        if votes is not None:
            self.note_votes(votes)
        check_prerequisites(self.old_master, self.new_master, candidates,
                            None if self.no_voting else votes)
        logging.info("Setting master to %s, old master: %s",
                     self.new_master, self.old_master)

    def load_config(self):
        from ganeti import config
        self.cfg = config.ConfigWriter(cfg_file=self.cfg_file)
        for name in (self.old_master, self.new_master):
            if self.cfg.get_node_info_by_name(name) is None:
                which = "old" if name == self.old_master else "new"
                raise errors.OpPrereqError(
                    "Could not find %s master node '%s' in cluster"
                    " configuration." % (which, name), errors.ECODE_NOENT)
        self.rpc = self.rpc_factory(self.cfg)

    def _master_params(self, master_name):
        """node_*_master_ip's argument, naming ``master_name``."""
        cluster = self.cfg.get_cluster_info()
        node = self.cfg.get_node_info_by_name(master_name)
        return {"uuid": node.uuid, "name": node.name,
                "ip": cluster.master_ip, "netmask": cluster.master_netmask,
                "netdev": cluster.master_netdev,
                "ip_family": cluster.primary_ip_family or
                constants.IP4_FAMILY}

    # --- step 2
    def stop_old_master(self):
        old = self.old_master
        logging.info("Stopping the master daemon on node %s", old)
        ems = bool(self.cfg.get_use_external_mip_script())
        msg = self.call("node_deactivate_master_ip", [old],
                        [self._master_params(old), ems])[old]
        if msg:
            self.warn("Could not disable the master IP: %s" % msg)
        msg = self.call("node_stop_master", [old], [])[old]
        if msg:
            self.warn("Could not disable the master role on the old master"
                      " %s, please disable manually: %s" % (old, msg))

    # --- step 3
    def wait_for_ip_gone(self):
        from ganeti import bootstrap
        logging.info("Checking master IP non-reachability...")
        master_ip = self.cfg.get_master_ip()
        if bootstrap.owns_address(master_ip):
            return  # a leftover here: ours to keep
        if not wait_for_ip(master_ip, False):
            self.warn("The master IP is still reachable after %d seconds,"
                      " continuing but activating the master IP on the"
                      " current node will probably fail" % IP_WAIT_TIMEOUT,
                      failed=True)

    # --- step 4
    def switch_config(self):
        from ganeti.backend import files as backend_files
        cluster = self.cfg.get_cluster_info()
        cluster.master_node = \
            self.cfg.get_node_info_by_name(self.new_master).uuid
        self.cfg.update(cluster)
        values = self.cfg.get_ssconf_values()
        backend_files.write_ssconf_files(values)
        self.distribute(values)

    def distribute(self, ssconf_values):
        """config.data to the other candidates, ssconf to every other
        online node; nodes that miss it are named in the warnings."""
        from ganeti.rpc import client as rpc_client
        others = [node for node in self.cfg.get_all_nodes_info().values()
                  if node.name != self.new_master and not node.offline]
        candidates = sorted(node.name for node in others
                            if node.master_candidate)
        missed = {}
        if candidates:
            outcome = self.call("upload_file", candidates,
                                rpc_client.upload_file_args(self.cfg_file))
            missed.update((name, msg) for name, msg in outcome.items()
                          if msg)
        names = sorted(node.name for node in others)
        if names:
            outcome = self.call("write_ssconf_files", names,
                                [ssconf_values])
            for name, msg in outcome.items():
                if msg:
                    missed.setdefault(name, msg)
        for name in sorted(missed):
            self.warn("Could not update the configuration of node %s (run"
                      " 'gnt-cluster redist-conf' once it is back): %s" %
                      (name, missed[name]))

    # --- step 5
    def start_master(self):
        from ganeti.jqueue import store as jq_store
        queue = jq_store.QueueStore()
        if queue.is_drained():
            logging.info("Undraining job queue")
            queue.set_drained(False)
        logging.info("Starting the master daemons on the new master")
        new = self.new_master
        msg = self.call("node_start_master_daemons", [new],
                        [self.no_voting])[new]
        if msg:
            self.warn("Could not start the master role on the new master"
                      " %s, please check: %s" % (new, msg), failed=True)
            return False
        # the master daemon brings up the master IP itself when it starts
        return True

    def wait_for_ip_up(self):
        master_ip = self.cfg.get_master_ip()
        if wait_for_ip(master_ip, True, timeout=IP_WAIT_TIMEOUT / 3):
            return
        # the new master daemon raises the IP when it starts; if that has
        # not happened (yet), raise it from here (idempotent)
        new = self.new_master
        ems = bool(self.cfg.get_use_external_mip_script())
        msg = self.call("node_activate_master_ip", [new],
                        [self._master_params(new), ems])[new]
        if msg:
            self.warn("Could not activate the master IP: %s" % msg)
        if not wait_for_ip(master_ip, True):
            self.warn("The master IP did not come up within %d seconds; the"
                      " cluster should still be working and reachable via"
                      " %s, but not via the master IP address" %
                      (IP_WAIT_TIMEOUT, self.new_master), failed=True)


def _config_rpc(cfg):
    from ganeti.rpc import client as rpc_client
    return rpc_client.RpcRunner(rpc_client.config_resolver(cfg))


def failover(no_voting=False, votes=None, ss=None, rpc_factory=None,
             cfg_file=None):
    """Make this node the master; returns ``(exit code, warnings)``.

    ``votes`` (from ``check_majority``) saves asking the nodes again;
    ``rpc_factory(cfg)`` builds the runner used once the configuration
    is loaded. Failed preconditions raise OpPrereqError before anything
    changes.
    """
    from ganeti import ssconf
    run = _Failover(no_voting, ss or ssconf.SimpleStore(),
                    rpc_factory or _config_rpc, cfg_file)
    started = time.monotonic()
    run.check(votes)
    try:
        run.load_config()
    except errors.ConfigurationError as err:
        run.warn("Error while trying to set the new master: %s" % err,
                 failed=True)
        return run.rcode, run.warnings
    run.stop_old_master()
    run.wait_for_ip_gone()
    try:
        run.switch_config()
    except errors.ConfigurationError as err:
        run.warn("Error while trying to set the new master: %s" % err,
                 failed=True)
        return run.rcode, run.warnings
    if run.start_master():
        run.wait_for_ip_up()
    logging.info("Master failed over from %s to %s in %.1f s",
                 run.old_master, run.new_master,
                 time.monotonic() - started)
    return run.rcode, run.warnings


# --- masterd: stepping down after a failover elsewhere ---

def other_master(cfg, rpc, myself, ss=None, voting=True):
    """The node that replaced ``myself`` as master, or None.

    Our own ssconf naming another node means the new master reached us;
    otherwise (with ``voting``) a strict majority of all nodes must name
    the same other node (unreachable nodes decide nothing, so a master
    cut off from everybody keeps its role, as Ganeti's).
    """
    from ganeti import ssconf
    ss = ss or ssconf.SimpleStore()
    try:
        named = ss.get_master_node()
    except errors.ConfigurationError:
        named = None
    if named and named != myself:
        return named
    if not voting:
        return None
    nodes = cfg.get_all_nodes_info().values()
    others = sorted(node.name for node in nodes
                    if node.name != myself and not node.offline)
    votes = gather_votes(others, rpc)
    winner = votes.winner()
    if winner is None or winner == myself:
        return None
    count = dict(votes.ranking())[winner]
    if 2 * count > len(nodes):
        return winner
    return None


def watch_master_role(cfg, rpc, stop_event, myself=None, voting=True,
                      interval=ROLE_CHECK_INTERVAL):
    """Start masterd's thread that steps down when another node has
    become the master: it removes the master IP here and sets
    ``stop_event`` (masterd then shuts down as on SIGTERM).

    A masterd started with ``--no-voting`` (``voting`` False) overruled
    the majority on purpose; nodes that come back still naming the old
    master must not make it step down, only its own ssconf can (until
    ``gnt-cluster redist-conf`` has told everybody).
    """
    myself = myself or pathutils.get_hostname()

    def loop():
        while not stop_event.wait(interval):
            try:
                new_master = other_master(cfg, rpc, myself, voting=voting)
            except Exception:  # pylint: disable=broad-except
                logging.exception("Can't check the master role")
                continue
            if new_master is None:
                continue
            logging.critical("The nodes name %s as the master: this node is"
                             " no longer the master, stopping the master"
                             " daemon", new_master)
            _drop_master_ip(cfg, rpc, myself)
            stop_event.set()
            return

    thread = threading.Thread(target=loop, name="master-role-watch",
                              daemon=True)
    thread.start()
    return thread


def _drop_master_ip(cfg, rpc, myself):
    cluster = cfg.get_cluster_info()
    params = {"uuid": None, "name": myself, "ip": cluster.master_ip,
              "netmask": cluster.master_netmask,
              "netdev": cluster.master_netdev,
              "ip_family": cluster.primary_ip_family or constants.IP4_FAMILY}
    node = cfg.get_node_info_by_name(myself)
    if node is not None:
        params["uuid"] = node.uuid
    result = rpc.call("node_deactivate_master_ip", [myself],
                      [params, bool(cluster.use_external_mip_script)])
    msg = result[myself].fail_msg
    if msg:
        logging.error("Could not disable the master IP: %s", msg)
