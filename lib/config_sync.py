"""Keeping the nodes' copies of cluster files in step with the master.

Two paths, as in Ganeti:

* after every configuration write the ConfigWriter calls the distributor
  made by ``make_distributor``: ``config.data`` goes to the master
  candidates, the ssconf values (when they changed) to every online node;
* ``redistribute_files`` pushes the other cluster files (known_hosts,
  RAPI certificate and users, HMAC key, domain secret) to the nodes, on
  ``gnt-cluster redist-conf`` and when a node is added.

``ancillary_files`` is the single list of those files, shared with
cluster verify, which checks that the nodes' copies are identical.
"""

import logging
import os

from ganeti import constants
from ganeti import pathutils
from ganeti import serializer
from ganeti.rpc import defs as rpc_defs
from ganeti.rpc.backoff import NodeBackoff


def ancillary_files(cluster, redist):
    """``(files_all, files_opt, files_mc, files_vm)`` for ``cluster``.

    files_all: on every node; files_opt: may be absent, but then on all
    nodes of their category; files_mc: master candidates only; files_vm:
    VM-capable nodes only. With ``redist`` the list is what the master may
    push (no node certificate, no config.data, which have their own paths).
    """
    files_all = set([
        pathutils.SSH_KNOWN_HOSTS_FILE,
        pathutils.CONFD_HMAC_KEY,
        pathutils.CLUSTER_DOMAIN_SECRET_FILE,
        pathutils.RAPI_USERS_FILE,
        pathutils.RAPI_CERT_FILE,
    ])
    files_opt = set([pathutils.RAPI_USERS_FILE])
    files_mc = set()
    files_vm = set()
    if not redist:
        files_all.add(pathutils.NODED_CERT_FILE)
        files_mc.add(pathutils.CLUSTER_CONF_FILE)
        if cluster.use_external_mip_script:
            files_all.add(pathutils.EXTERNAL_MASTER_SETUP_SCRIPT)
        enabled = set(cluster.enabled_disk_templates or [])
        if enabled & set([constants.DT_FILE, constants.DT_SHARED_FILE]):
            files_all.add(pathutils.FILE_STORAGE_PATHS_FILE)
            files_opt.add(pathutils.FILE_STORAGE_PATHS_FILE)
    return files_all, files_opt, files_mc, files_vm


def _nodes_from_data(data):
    """(master uuid, {uuid: node dict}) from serialized config.data."""
    doc = serializer.load_json(data)
    return doc["cluster"]["master_node"], doc.get("nodes", {})


def _warn_failures(results, what, feedback_fn=None):
    """Log (and report) every failed per-node result; returns the count."""
    failed = 0
    for name in sorted(results):
        msg = results[name].fail_msg
        if msg and not results[name].offline:
            failed += 1
            text = "Copy of file %s to node %s failed: %s" % (what, name, msg)
            logging.warning(text)
            if feedback_fn is not None:
                feedback_fn(" - WARNING: %s" % text)
    return failed


def make_distributor(rpc, cfg_getter=None, backoff=None):
    """The ConfigWriter's after-write callback.

    ``distribute(data, ssconf_values, snapshot)``: ``data`` is the
    serialized config.data just written, ``ssconf_values`` the new ssconf
    values or None when they did not change, ``snapshot`` the read-only
    ConfigData ``data`` was made from. The node lists come from the
    snapshot (or, without one, from parsing ``data``), so the callback
    never calls back into the ConfigWriter (which may still hold its lock)
    and always matches what was written; ``cfg_getter`` is only used if
    ``data`` cannot be parsed.
    """
    if backoff is None:
        backoff = NodeBackoff()
    state = {"ssconf": None, "stale": set()}

    def distribute(data, ssconf_values, snapshot=None):
        if snapshot is not None:   # the state ``data`` was made from
            master_uuid = snapshot.cluster.master_node
            nodes = dict((uuid, {"name": node.name,
                                 "master_candidate": node.master_candidate,
                                 "offline": node.offline})
                         for uuid, node in snapshot.nodes.items())
        else:
            try:
                master_uuid, nodes = _nodes_from_data(data)
            except (ValueError, KeyError, TypeError) as err:
                if cfg_getter is None:
                    logging.error("Can't distribute the configuration: %s",
                                  err)
                    return
                cfg = cfg_getter()
                master_uuid = cfg.get_master_node()
                nodes = dict((uuid, node.to_dict()) for uuid, node in
                             cfg.get_all_nodes_info().items())
        candidates = sorted(
            node["name"] for uuid, node in nodes.items()
            if uuid != master_uuid and node.get("master_candidate") and
            not node.get("offline"))
        # nodes that failed lately are skipped (their connect timeout would
        # delay every write) and marked stale until they answer again
        candidates, skipped = backoff.split(candidates)
        state["stale"].update(skipped)
        if candidates:
            content = rpc_defs.encode_content(data)
            results = rpc.call("upload_file", candidates,
                               [pathutils.CLUSTER_CONF_FILE, content,
                                0o600, None, None, None, None])
            state["stale"].update(backoff.record(results))
            _warn_failures(results, pathutils.CLUSTER_CONF_FILE)
        if ssconf_values is not None:
            state["ssconf"] = dict(ssconf_values)
        online = sorted(node["name"] for node in nodes.values()
                        if not node.get("offline"))
        if ssconf_values is not None:
            targets = online
        else:  # unchanged values: only nodes that missed an earlier push
            targets = [n for n in online if n in state["stale"]]
        targets, skipped = backoff.split(targets)
        if targets and state["ssconf"] is not None:
            results = rpc.call("write_ssconf_files", targets,
                               [state["ssconf"]])
            failed = set(backoff.record(results))
            state["stale"].difference_update(set(targets) - failed)
            state["stale"].update(failed)
            for name in sorted(failed):
                logging.warning("Can't write ssconf files on node %s: %s",
                                name, results[name].fail_msg)
        state["stale"].update(skipped)
    return distribute


def _upload(rpc, node_names, path, feedback_fn):
    """Copy local ``path`` to ``node_names`` if it exists here."""
    if not node_names or not os.path.exists(path):
        return 0
    from ganeti.rpc import client as rpc_client
    results = rpc.call("upload_file", node_names,
                       rpc_client.upload_file_args(path))
    return _warn_failures(results, path, feedback_fn)


def redistribute_files(cfg, rpc, node_names=None, feedback_fn=None,
                       with_config=True):
    """Push the cluster's files from the master to other nodes.

    Targets are ``node_names`` or every online node but the master;
    config.data (with ``with_config``) goes only to the master candidates
    among them. Returns the number of failed copies; each is logged and
    reported through ``feedback_fn``.
    """
    master_uuid = cfg.get_master_node()
    nodes = cfg.get_all_nodes_info()
    targets = [node for uuid, node in nodes.items()
               if uuid != master_uuid and not node.offline]
    if node_names is not None:
        wanted = set(node_names)
        targets = [node for node in targets if node.name in wanted]
    all_names = sorted(node.name for node in targets)
    vm_names = sorted(node.name for node in targets if node.vm_capable)
    mc_names = sorted(node.name for node in targets if node.master_candidate)
    files_all, _, _, files_vm = ancillary_files(cfg.get_cluster_info(), True)
    failed = 0
    for path in sorted(files_all):
        failed += _upload(rpc, all_names, path, feedback_fn)
    for path in sorted(files_vm):
        failed += _upload(rpc, vm_names, path, feedback_fn)
    if with_config:
        failed += _upload(rpc, mc_names, pathutils.CLUSTER_CONF_FILE,
                          feedback_fn)
    return failed
