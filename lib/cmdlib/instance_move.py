"""gnt-instance move: copy a non-mirrored instance to another node.

Ganeti copies the disks with its import/export daemons (socat over
TLS). Here the master relays the data itself over two SSH sessions (the
cluster's root key, as for ``gnt-node add``): ``dd`` reads the disk on
the source node, every chunk read from that channel is written to a
``dd`` on the target node that writes the new (already created) disk,
skipping runs of zeros (``conv=sparse``) so file disks stay sparse. The
data is streamed chunk by chunk, never held whole in memory; both
``dd`` exit codes must be 0 and the byte count must match the disk size.

Steps as in Ganeti: shut the instance down, create the disks on the
target, copy, switch the primary node (instance and disks), remove the
old disks, start the instance on the target if it was marked up.
"""

import logging
import shlex
import time

from ganeti import constants
from ganeti import errors
from ganeti import ssh
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_migration as im
from ganeti.cmdlib import instance_utils as iu

# Templates whose disks live on one node and can be copied as bytes.
DTS_COPYABLE = frozenset([constants.DT_FILE, constants.DT_PLAIN])
COPY_CHUNK = 1024 * 1024
COPY_TIMEOUT = 3600


def disk_device_path(disk):
    """Where the disk's data is on its node (file path, LV device)."""
    if disk.dev_type in (constants.DT_FILE, constants.DT_SHARED_FILE):
        return disk.logical_id[1]
    if disk.dev_type == constants.DT_PLAIN:
        return "/dev/%s/%s" % tuple(disk.logical_id)
    raise errors.ProgrammerError("Can't copy disks of type %s" %
                                 disk.dev_type)


class _SessionRunner(ssh.SshRunner):
    """An SshRunner that hands the connected client to ``handler`` instead
    of running one command with a fixed input."""

    def __init__(self, cluster_name, handler, **kwargs):
        ssh.SshRunner.__init__(self, cluster_name, **kwargs)
        self._handler = handler

    def _exec(self, client, cmd, stdin, timeout):
        return self._handler(client, cmd, timeout)


def _drain(chan, sink):
    """Collect the stderr of ``chan`` (small, read at the end)."""
    while chan.recv_stderr_ready():
        sink.append(chan.recv_stderr(65536))


def stream_copy(cluster_name, src, dst, src_path, dst_path, size_mib,
                timeout=COPY_TIMEOUT):
    """Copy ``size_mib`` MiB from ``src_path`` on node ``src`` to
    ``dst_path`` on ``dst`` (``(name, address, port)`` tuples); returns
    the number of bytes copied, raises OpExecError on failure."""
    read_cmd = "dd if=%s bs=%d count=%d iflag=fullblock status=none" % (
        shlex.quote(src_path), COPY_CHUNK, size_mib)
    write_cmd = ("dd of=%s bs=%d iflag=fullblock conv=sparse,notrunc"
                 " status=none" % (shlex.quote(dst_path), COPY_CHUNK))
    state = {"bytes": 0, "src_err": [], "dst_err": []}

    def on_target(dst_client, _cmd, _timeout, src_chan):
        out = dst_client.get_transport().open_session(timeout=30)
        out.settimeout(timeout)
        out.exec_command(write_cmd)
        while True:
            chunk = src_chan.recv(COPY_CHUNK)
            if not chunk:
                break
            out.sendall(chunk)
            state["bytes"] += len(chunk)
            _drain(src_chan, state["src_err"])
        out.shutdown_write()
        code = out.recv_exit_status()
        _drain(out, state["dst_err"])
        out.close()
        return code, "", ""

    def on_source(src_client, _cmd, _timeout):
        chan = src_client.get_transport().open_session(timeout=30)
        chan.settimeout(timeout)
        chan.exec_command(read_cmd)
        try:
            runner = _SessionRunner(
                cluster_name,
                lambda c, cmd, t: on_target(c, cmd, t, chan))
            dst_code, _, dst_msg = runner.run(dst[0], write_cmd,
                                              address=dst[1], port=dst[2],
                                              timeout=timeout)
            src_code = chan.recv_exit_status()
            _drain(chan, state["src_err"])
        finally:
            chan.close()
        state["dst_code"] = dst_code
        state["dst_msg"] = dst_msg
        return src_code, "", ""

    runner = _SessionRunner(cluster_name, on_source)
    src_code, _, src_msg = runner.run(src[0], read_cmd, address=src[1],
                                      port=src[2], timeout=timeout)

    def text(chunks):
        return b"".join(chunks).decode("utf-8", "replace").strip()
    if src_code != 0:
        raise errors.OpExecError("Reading %s on node %s failed (exit code"
                                 " %s): %s" % (src_path, src[0], src_code,
                                               text(state["src_err"]) or
                                               src_msg))
    if state.get("dst_code") != 0:
        raise errors.OpExecError("Writing %s on node %s failed (exit code"
                                 " %s): %s" % (dst_path, dst[0],
                                               state.get("dst_code"),
                                               text(state["dst_err"]) or
                                               state.get("dst_msg")))
    if state["bytes"] != size_mib * 1024 * 1024:
        raise errors.OpExecError("Copied %d bytes of %s, expected %d" %
                                 (state["bytes"], src_path,
                                  size_mib * 1024 * 1024))
    return state["bytes"]


class LUInstanceMove(base.LogicalUnit):
    """Move an instance with non-mirrored disks by copying its data."""

    HPATH = "instance-move"
    HTYPE = "INSTANCE"

    def expand_names(self):
        iu.expand_instance(self)
        uuid, self.op.target_node = base.expand_node_name(
            self.cfg, self.op.target_node)
        self.target_uuid = uuid
        nodes = [self.instance.primary_node]
        if uuid not in nodes:
            nodes.append(uuid)
        self.needed_locks[constants.LOCKS_INSTANCE] = [self.instance_uuid]
        self.needed_locks[constants.LOCKS_NODE] = nodes
        self.needed_locks[constants.LOCKS_NODE_RES] = list(nodes)

    def build_hooks_env(self):
        env = iu.hooks_env(self, self.instance)
        env.update({"TARGET_NODE": self.op.target_node,
                    "SHUTDOWN_TIMEOUT": self.op.shutdown_timeout})
        return env

    def build_hooks_nodes(self):
        pre, post = iu.hooks_nodes(self, self.instance)
        if self.op.target_node not in post:
            post = post + [self.op.target_node]
        return pre, post

    def check_prereq(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        self.instance = instance
        template = self.cfg.get_instance_disk_template(instance.uuid)
        if template not in DTS_COPYABLE:
            raise errors.OpPrereqError("Disk template %s not suitable for"
                                       " copying" % template,
                                       errors.ECODE_STATE)
        target = self.cfg.get_node_info(self.target_uuid)
        if self.target_uuid == instance.primary_node:
            raise errors.OpPrereqError("Instance %s is already on the node"
                                       " %s" % (instance.name, target.name),
                                       errors.ECODE_STATE)
        for idx, disk in enumerate(self.cfg.get_instance_disks(
                instance.uuid)):
            if disk.dev_type not in DTS_COPYABLE or disk.children:
                raise errors.OpPrereqError("Instance disk %d has a complex"
                                           " layout, cannot copy" % idx,
                                           errors.ECODE_STATE)
        base.check_node_online(self, self.target_uuid)
        if target.drained:
            raise errors.OpPrereqError("Can't use drained node %s" %
                                       target.name, errors.ECODE_STATE)
        if not target.vm_capable:
            raise errors.OpPrereqError("Can't use non-vm_capable node %s" %
                                       target.name, errors.ECODE_STATE)
        if instance.admin_state == constants.ADMINST_UP:
            bep = iu.filled_beparams(self.cfg, instance)
            iu.check_node_free_memory(
                self, self.target_uuid, "failing over instance %s" %
                instance.name, bep[constants.BE_MAXMEM], instance.hypervisor,
                self.cfg.get_cluster_info().fill_hv(instance.hypervisor))
        else:
            self.log_info("Not checking memory on the secondary node as"
                          " instance will not be started")
        im.check_bridges(self, instance, self.target_uuid)

    def _ssh_target(self, node_uuid):
        node = self.cfg.get_node_info(node_uuid)
        group = self.cfg.get_node_group(node.group)
        ndp = self.cfg.get_cluster_info().fill_nd(node, group)
        return (node.name, node.primary_ip,
                int(ndp.get("ssh_port") or ssh.DEFAULT_PORT))

    def exec_(self, feedback_fn):
        instance = self.instance
        source_uuid = instance.primary_node
        source = self.cfg.get_node_info(source_uuid)
        target = self.cfg.get_node_info(self.target_uuid)
        self.log_info("Shutting down instance %s on source node %s",
                      instance.name, source.name)
        result = iu.shutdown_instance_on_node(self, instance, source_uuid,
                                              self.op.shutdown_timeout)
        if result.fail_msg:
            if self.op.ignore_consistency:
                self.log_warning("Could not shutdown instance %s on node %s."
                                 " Proceeding anyway. Please make sure node"
                                 " %s is down. Error details: %s",
                                 instance.name, source.name, source.name,
                                 result.fail_msg)
            else:
                raise errors.OpExecError("Could not shutdown instance %s on"
                                         " node %s: %s" %
                                         (instance.name, source.name,
                                          result.fail_msg))
        iu.shutdown_disks(self, instance, ignore_primary=True)
        try:
            iu.create_disks(self, instance, target_node=self.target_uuid)
        except errors.OpExecError:
            self.log_warning("Device creation failed")
            raise
        disks = self.cfg.get_instance_disks(instance.uuid)
        errs = []
        cluster_name = self.cfg.get_cluster_name()
        src, dst = self._ssh_target(source_uuid), \
            self._ssh_target(self.target_uuid)
        for idx, disk in enumerate(disks):
            path = disk_device_path(disk)
            feedback_fn("Copying disk/%d (%d MiB) from %s to %s" %
                        (idx, disk.size, source.name, target.name))
            started = time.time()
            try:
                copied = stream_copy(cluster_name, src, dst, path, path,
                                     disk.size)
            except errors.OpExecError as err:
                errs.append("disk/%d: %s" % (idx, err))
                continue
            logging.info("Copied disk/%d of %s: %d bytes in %.2f s", idx,
                         instance.name, copied, time.time() - started)
        if errs:
            self.log_warning("Some disks failed to copy, aborting")
            iu.remove_disks(self, instance, target_node=self.target_uuid)
            raise errors.OpExecError("Errors during disk copy: %s" %
                                     ",".join(errs))
        instance = im.set_primary_node(self, instance, self.target_uuid,
                                       feedback_fn)
        self.instance = instance
        self.log_info("Removing the disks on the original node")
        iu.remove_disks(self, instance, target_node=source_uuid,
                        disks=disks)
        if instance.admin_state == constants.ADMINST_UP:
            self.log_info("Starting instance %s on node %s", instance.name,
                          target.name)
            try:
                iu.start_instance_on_node(self, instance, self.target_uuid)
            except errors.OpExecError as err:
                raise errors.OpExecError("Could not start instance %s on node"
                                         " %s: %s" % (instance.name,
                                                      target.name, err))
