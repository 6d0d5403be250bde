"""ganeti-masterd: the LUXI server, the job queue and the opcode processor.

LUXI methods are declared once in ``LUXI_METHODS`` (name -> handler and
argument count); each client connection is served by its own thread, so a
blocking ``WaitForJobChange`` never delays other clients. Queries are
answered from the in-memory config and never wait behind jobs.
"""

import gc
import logging
import optparse
import os
import socket
import sys
import threading
import time

from ganeti import constants
from ganeti import errors
from ganeti import luxi
from ganeti import pathutils

MAX_CLIENTS = 256


class LuxiMethod:
    __slots__ = ("handler", "min_args", "max_args")

    def __init__(self, handler, min_args, max_args=None):
        self.handler = handler
        self.min_args = min_args
        self.max_args = min_args if max_args is None else max_args


class MasterServices:
    """Everything the LUXI handlers use; built once at daemon start."""

    def __init__(self, context, jqueue, query_module, helpers_module=None):
        self.context = context
        self.jqueue = jqueue
        self.queries = query_module
        self.helpers = helpers_module

    # Jobs
    def submit_job(self, ops):
        return self.jqueue.submit_job(ops)

    def submit_job_to_drained_queue(self, ops):
        return self.jqueue.submit_job(ops, drained_ok=True)

    def submit_many_jobs(self, jobs):
        if not isinstance(jobs, list):
            raise errors.OpPrereqError("SubmitManyJobs needs a list of jobs",
                                       errors.ECODE_INVAL)
        return self.jqueue.submit_many_jobs(jobs)

    def wait_for_job_change(self, job_id, fields, prev_job_info,
                            prev_log_serial, timeout):
        return self.jqueue.wait_for_job_change(job_id, fields, prev_job_info,
                                               prev_log_serial, timeout)

    def cancel_job(self, job_id, kill=False):
        del kill  # running jobs are threads; they stop at cancel points
        return self.jqueue.cancel_job(job_id)

    def archive_job(self, job_id):
        return self.jqueue.archive_job(job_id)

    def auto_archive_jobs(self, age, timeout):
        return self.jqueue.auto_archive_jobs(int(age), float(timeout))

    def change_job_priority(self, job_id, priority):
        return self.jqueue.change_job_priority(job_id, priority)

    def query_jobs(self, job_ids, fields):
        return self.jqueue.query_jobs(job_ids, fields)

    # Queries
    def _query_context(self):
        return self.queries.QueryContext(self.context.cfg, self.context.rpc,
                                       self.jqueue, self.context.master_name)

    def query(self, what, fields, qfilter):
        return self.queries.query(what, fields, qfilter, self._query_context())

    def query_fields(self, what, fields):
        return self.queries.query_fields(what, fields)

    def _legacy_query(self, what, names, fields):
        qfilter = None
        if names:
            qfilter = ["|"] + [["==", "name", name] for name in names]
        result = self.queries.query(what, ["name"] + list(fields), qfilter,
                                  self._query_context())
        found = [row[0][1] for row in result["data"]]
        for name in names or []:
            if name not in found:
                raise errors.OpPrereqError("%s '%s' not known" %
                                           (what.capitalize(), name),
                                           errors.ECODE_NOENT)
        return [[cell[1] for cell in row[1:]] for row in result["data"]]

    def query_instances(self, names, fields, use_locking=False):
        return self._legacy_query(constants.QR_INSTANCE, names, fields)

    def query_nodes(self, names, fields, use_locking=False):
        return self._legacy_query(constants.QR_NODE, names, fields)

    def query_groups(self, names, fields, use_locking=False):
        return self._legacy_query(constants.QR_GROUP, names, fields)

    def query_cluster_info(self):
        return self.helpers.cluster_info(self._query_context())

    def query_config_values(self, fields):
        return self.helpers.config_values(self._query_context(), fields)

    def query_tags(self, kind, name):
        return self.helpers.tags(self._query_context(), kind, name)

    # Flags
    def set_drain_flag(self, flag):
        return self.jqueue.set_drain_flag(flag)

    def set_watcher_pause(self, until):
        if until is not None and not isinstance(until, (int, float)):
            raise errors.OpPrereqError("Invalid watcher pause value %r" %
                                       (until,), errors.ECODE_INVAL)
        cfg = self.context.cfg
        nodes = [cfg.get_node_name(uuid) for uuid in
                 cfg.get_online_node_list()]
        results = self.context.rpc.call("set_watcher_pause", nodes, [until])
        for node, result in sorted(results.items()):
            if result.fail_msg:
                logging.warning("Can't set watcher pause on %s: %s", node,
                                result.fail_msg)
        return until


def _methods(services):
    s = services
    return {
        luxi.REQ_SUBMIT_JOB: LuxiMethod(s.submit_job, 1),
        luxi.REQ_SUBMIT_JOB_TO_DRAINED_QUEUE:
            LuxiMethod(s.submit_job_to_drained_queue, 1),
        luxi.REQ_SUBMIT_MANY_JOBS: LuxiMethod(s.submit_many_jobs, 1),
        luxi.REQ_WAIT_FOR_JOB_CHANGE: LuxiMethod(s.wait_for_job_change, 5),
        luxi.REQ_CANCEL_JOB: LuxiMethod(s.cancel_job, 1, 2),
        luxi.REQ_ARCHIVE_JOB: LuxiMethod(s.archive_job, 1),
        luxi.REQ_AUTO_ARCHIVE_JOBS: LuxiMethod(s.auto_archive_jobs, 2),
        luxi.REQ_CHANGE_JOB_PRIORITY: LuxiMethod(s.change_job_priority, 2),
        luxi.REQ_QUERY_JOBS: LuxiMethod(s.query_jobs, 2),
        luxi.REQ_QUERY: LuxiMethod(s.query, 3),
        luxi.REQ_QUERY_FIELDS: LuxiMethod(s.query_fields, 2),
        luxi.REQ_QUERY_INSTANCES: LuxiMethod(s.query_instances, 3),
        luxi.REQ_QUERY_NODES: LuxiMethod(s.query_nodes, 3),
        luxi.REQ_QUERY_GROUPS: LuxiMethod(s.query_groups, 3),
        luxi.REQ_QUERY_CLUSTER_INFO: LuxiMethod(s.query_cluster_info, 0),
        luxi.REQ_QUERY_CONFIG_VALUES: LuxiMethod(s.query_config_values, 1),
        luxi.REQ_QUERY_TAGS: LuxiMethod(s.query_tags, 2),
        luxi.REQ_SET_DRAIN_FLAG: LuxiMethod(s.set_drain_flag, 1),
        luxi.REQ_SET_WATCHER_PAUSE: LuxiMethod(s.set_watcher_pause, 1),
    }


class LuxiServer:
    """Unix-socket server; one thread per client connection."""

    def __init__(self, address, methods):
        self.address = address
        self.methods = methods
        self._clients = threading.BoundedSemaphore(MAX_CLIENTS)
        if os.path.exists(address):
            os.unlink(address)
        os.makedirs(os.path.dirname(address), mode=0o750, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        os.chmod(address, 0o660)
        self.sock.listen(128)

    def serve(self, stop_event):
        self.sock.settimeout(0.5)
        while not stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError as err:
                logging.error("Accept failed: %s", err)
                time.sleep(0.1)
                continue
            if not self._clients.acquire(blocking=False):
                logging.warning("Too many LUXI clients, refusing one")
                conn.close()
                continue
            threading.Thread(target=self._serve_client, args=(conn,),
                             name="luxi-client", daemon=True).start()
        self.sock.close()
        try:
            os.unlink(self.address)
        except OSError:
            pass

    def _serve_client(self, conn):
        buf = b""
        try:
            conn.settimeout(None)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if len(buf) > luxi.MAX_MESSAGE_SIZE:
                    self._send(conn, False, errors.encode_exception(
                        errors.LuxiError("Message too large")))
                    return
                while luxi.ETX in buf:
                    message, buf = buf.split(luxi.ETX, 1)
                    if not self._handle(conn, message):
                        return
        except OSError as err:
            logging.debug("LUXI client connection error: %s", err)
        finally:
            conn.close()
            self._clients.release()

    @staticmethod
    def _send(conn, success, result):
        conn.sendall(luxi.format_response(success, result))

    def _handle(self, conn, message):
        """Answer one request; False closes the connection."""
        try:
            method, args, version = luxi.parse_request(message)
        except luxi.ProtocolError as err:
            logging.warning("Bad LUXI request: %s", err)
            self._send(conn, False, errors.encode_exception(
                errors.LuxiError(str(err))))
            return False
        if version is not None and version != constants.LUXI_VERSION:
            self._send(conn, False, errors.encode_exception(errors.LuxiError(
                "LUXI version mismatch, server %s, request %s" %
                (constants.LUXI_VERSION, version))))
            return True
        entry = self.methods.get(method)
        try:
            if entry is None:
                raise errors.LuxiError("Invalid operation '%s'" % method)
            if not entry.min_args <= len(args) <= entry.max_args:
                raise errors.LuxiError(
                    "Method %s takes %s argument(s), got %d" %
                    (method, entry.min_args if entry.min_args ==
                     entry.max_args else "%d-%d" % (entry.min_args,
                                                    entry.max_args),
                     len(args)))
            result = entry.handler(*args)
            success = True
        except errors.GenericError as err:
            success, result = False, errors.encode_exception(err)
        except Exception as err:  # bad input must never kill the daemon
            logging.exception("Error while handling LUXI %s", method)
            success, result = False, errors.encode_exception(
                errors.GenericError("%s: %s" % (type(err).__name__, err)))
        try:
            self._send(conn, success, result)
        except TypeError as err:
            logging.error("Unserializable LUXI result for %s: %s", method,
                          err)
            self._send(conn, False, errors.encode_exception(
                errors.GenericError("Internal error: %s" % err)))
        return True


# Daemon wiring ------------------------------------------------------------

def _check_master(options, args):
    """Refuse to run anywhere but on the master, after the vote."""
    del args
    from ganeti import ssconf
    try:
        store = ssconf.SimpleStore()
        master = store.get_master_node()
    except errors.ConfigurationError as err:
        sys.stderr.write("%s\n" % err)
        sys.exit(constants.EXIT_NOTCLUSTER)
    myself = pathutils.get_hostname()
    if master != myself:
        sys.stderr.write("This is not the master node, please connect to"
                         " node '%s' and rerun the command\n" % master)
        sys.exit(constants.EXIT_NOTMASTER)
    if options.no_voting:
        if not options.yes_do_it:
            sys.stderr.write("The --no-voting option is dangerous; add"
                             " --yes-do-it to confirm\n")
            sys.exit(constants.EXIT_FAILURE)
        return
    from ganeti import bootstrap
    if not bootstrap.check_master_vote(options.no_voting):
        sys.exit(constants.EXIT_FAILURE)


class MasterDaemon:
    """Builds and owns the master's long-lived objects."""

    def __init__(self):
        from ganeti import config
        from ganeti import config_sync
        from ganeti import hooksmaster
        from ganeti import jqueue
        from ganeti import locking
        from ganeti import mcpu
        from ganeti import query
        from ganeti.query import luxi_helpers
        from ganeti.cmdlib import base
        from ganeti.jqueue import replication
        from ganeti.rpc import client as rpc_client
        from ganeti.rpc.backoff import NodeBackoff

        holder = {}
        # one view of unresponsive nodes for all background pushes
        backoff = NodeBackoff()
        self.cfg = config.ConfigWriter(
            distributor=lambda data, ssconf_values, snapshot:
            holder["distribute"](data, ssconf_values, snapshot))
        self.rpc = rpc_client.RpcRunner(rpc_client.config_resolver(self.cfg))
        holder["distribute"] = config_sync.make_distributor(
            self.rpc, lambda: self.cfg, backoff=backoff)
        master_name = self.cfg.get_master_node_name()
        replicator = replication.QueueReplicator(
            self.rpc, self._replication_targets, rpc_client.encode_content,
            backoff=backoff)
        self.context = base.MasterContext(
            self.cfg, self.rpc, master_name=master_name,
            hooks=hooksmaster.HooksRunner(self.rpc), node_backoff=backoff)
        self.processor = mcpu.Processor(self.context, locking.LockManager())
        self.jqueue = jqueue.JobQueue(
            None, self.processor.execute_opcode, replicator=replicator,
            max_running_fn=lambda: self.cfg.get_cluster_info()
            .max_running_jobs,
            workers=constants.DEFAULT_MAX_TRACKED_JOBS)
        self.context.jqueue = self.jqueue
        self.services = MasterServices(self.context, self.jqueue, query,
                                       luxi_helpers)
        self.server = None

    def _replication_targets(self):
        cfg = self.cfg
        master = cfg.get_master_node()
        names = []
        for uuid, node in cfg.get_all_nodes_info().items():
            if uuid != master and node.master_candidate and not node.offline:
                names.append(node.name)
        return sorted(names)

    def start(self):
        self.jqueue.open()
        _tune_garbage_collector()
        self.server = LuxiServer(pathutils.MASTER_SOCKET,
                                 _methods(self.services))
        self.jqueue.start()
        threading.Thread(target=self._activate_master_ip,
                         name="master-ip", daemon=True).start()

    def _activate_master_ip(self):
        """Bring up the master IP, as after a reboot of the master."""
        from ganeti.cmdlib import node as node_lu
        cluster = self.cfg.get_cluster_info()
        result = self.rpc.call_single(
            "node_activate_master_ip", self.cfg.get_master_node_name(),
            [node_lu.master_params(self.cfg),
             cluster.use_external_mip_script])
        if result.fail_msg:
            logging.warning("Could not activate the master IP: %s",
                            result.fail_msg)

    def serve(self, stop_event):
        try:
            self.server.serve(stop_event)
        finally:
            self.jqueue.stop()


# Allocations between young-generation collections (CPython's default is
# 700). The configuration of a big cluster is hundreds of thousands of
# long-lived objects; with the default, listing 10,000 instances spent
# about a third of its time in collections that found nothing to free.
_GC_GEN0_THRESHOLD = 50000


def _tune_garbage_collector():
    """Move what start-up loaded out of the collector's sight and collect
    less often; cycles are still collected."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(_GC_GEN0_THRESHOLD, gen1, gen2)


def _prepare(options, args):
    del options, args
    daemon = MasterDaemon()
    daemon.start()
    return daemon


def _exec(options, args, daemon, stop_event):
    del args
    logging.info("ganeti-masterd %s serving %s", constants.RELEASE_VERSION,
                 pathutils.MASTER_SOCKET)
    from ganeti import master_failover
    # An old master coming back after a failover steps down by itself.
    master_failover.watch_master_role(daemon.cfg, daemon.rpc, stop_event,
                                      voting=not options.no_voting)
    daemon.serve(stop_event)


def main():
    from ganeti import daemon
    parser = optparse.OptionParser(
        description="Ganeti master daemon",
        usage="%prog [-f] [-d] [--no-voting --yes-do-it]",
        version="%%prog (ganeti) %s" % constants.RELEASE_VERSION)
    parser.add_option("--no-voting", dest="no_voting", action="store_true",
                      default=False, help="Do not check that the nodes agree"
                      " on this node being the master")
    parser.add_option("--yes-do-it", dest="yes_do_it", action="store_true",
                      default=False, help="Override interactive check for"
                      " --no-voting")
    daemon.generic_main(constants.MASTERD, parser, _check_master, _prepare,
                        _exec)

