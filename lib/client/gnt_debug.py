"""gnt-debug: test opcodes for exercising the job queue and the nodes."""

import time

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants
from ganeti import errors
from ganeti import iallocator


# --- options of "iallocator" (registered once, keyed "dbg_*") ----------

def _opt(name, *flags, **kwargs):
    kwargs.setdefault("dest", name)
    cli_opts.OPTIONS["dbg_" + name] = cli_opts.Option(flags, **kwargs)


_opt("direction", "--dir", default=iallocator.DIR_IN,
     choices=iallocator.DIRECTIONS, metavar="in|out",
     help="Show allocator input (in) or allocator results (out)")
_opt("iallocator", "-I", "--iallocator", metavar="<NAME>",
     help="Select nodes for the instance automatically using the <NAME>"
     " iallocator plugin")
_opt("mode", "-m", "--mode", default=iallocator.MODE_RELOC,
     choices=iallocator.MODES, metavar="MODE",
     help="Request mode (one of %s)" % ", ".join(iallocator.MODES))
_opt("memory", "--memory", default=128, type=cli_opts.T_UNIT,
     metavar="SIZE", help="Memory size for the instance (MiB)")
_opt("disks", "--disks", default="4096,4096", metavar="SIZES",
     help="Comma separated list of disk sizes (MiB)")
_opt("disk_template", "-t", "--disk-template", metavar="TEMPL",
     help="Custom disk setup (%s)" % "|".join(constants.DISK_TEMPLATES))
_opt("nics", "--nics", default="00:11:22:33:44:55", metavar="NICS",
     help="Comma separated list of nics, each nic definition is of form"
     " mac/ip/bridge, if missing values are replace by None")
_opt("os", "-o", "--os-type", metavar="<os>", help="What OS to run")
_opt("vcpus", "-p", "--vcpus", default=1, type=cli_opts.T_INT, metavar="N",
     help="Select number of VCPUs for the instance")
_opt("tags", "--tags", metavar="TAGS", help="Comma separated list of tags")
_opt("evac_mode", "--evac-mode", default=iallocator.NODE_EVAC_ALL,
     choices=iallocator.NODE_EVAC_MODES, metavar="MODE",
     help="Node evacuation mode (one of %s)" %
     ", ".join(iallocator.NODE_EVAC_MODES))
_opt("target_groups", "--target-groups", action="append", default=[],
     metavar="GROUP", help="Target groups for relocation")
_opt("spindle_use", "--spindle-use", default=1, type=cli_opts.T_INT,
     metavar="N", help="How many spindles to use")
_opt("count", "--count", default=1, type=cli_opts.T_INT, metavar="N",
     help="How many copies of the instance to allocate")


def delay(opts, args):
    """Submit OP_TEST_DELAY: sleep on the master and/or nodes."""
    from ganeti import opcodes
    op = opcodes.OpTestDelay(duration=float(args[0]),
                             on_master=opts.on_master,
                             on_nodes=opts.on_nodes,
                             repeat=opts.repeat,
                             interruptible=opts.interruptible,
                             no_locks=opts.no_locks)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def submit_job(opts, args):
    """Submit jobs whose opcodes are read from JSON files.

    Each file holds a list of serialized opcodes (one job); the job is
    repeated ``--job-repeat`` times, its opcodes ``--op-repeat`` times.
    """
    from ganeti import opcodes
    from ganeti import serializer
    cl = cli.get_client()
    jex = cli.JobExecutor(cl=cl, verbose=opts.verbose, opts=opts)
    job_cnt = 0
    op_cnt = 0
    if opts.timing_stats:
        cli.to_stdout("Loading...")
    for job_idx in range(opts.rep_job):
        for fname in args:
            with open(fname) as handle:
                op_data = serializer.load_json(handle.read())
            op_list = [opcodes.OpCode.from_dict(val) for val in op_data]
            op_list = op_list * opts.rep_op
            jex.queue_job("file %s/%d" % (fname, job_idx), *op_list)
            op_cnt += len(op_list)
            job_cnt += 1
    if opts.timing_stats:
        start = time.time()
        cli.to_stdout("Submitting...")
    jex.submit_pending(each=opts.each)
    if opts.timing_stats:
        submitted = time.time()
        cli.to_stdout("Executing...")
    jex.get_results()
    if opts.timing_stats:
        done = time.time()
        cli.to_stdout("C:op     %4d", op_cnt)
        cli.to_stdout("C:job    %4d", job_cnt)
        cli.to_stdout("T:submit %4.4f", submitted - start)
        cli.to_stdout("T:exec   %4.4f", done - submitted)
        cli.to_stdout("T:total  %4.4f", done - start)
    # Failed jobs are reported on stderr; like Ganeti the exit code stays 0.
    return constants.EXIT_SUCCESS


def _parse_nics(text):
    """``mac/ip/bridge,...``: missing or empty parts are None."""
    nics = []
    for spec in text.split(","):
        parts = [part or None for part in spec.split("/")]
        parts += [None] * (3 - len(parts))
        nics.append({"mac": parts[0], "ip": parts[1], "bridge": parts[2]})
    return nics


def test_allocator(opts, args):
    """Submit OP_TEST_ALLOCATOR and print the allocator's input (--dir
    in) or its answer (--dir out)."""
    from ganeti import opcodes
    from ganeti.utils import text
    try:
        disks = [{"size": text.parse_unit(val), "mode": "rw"}
                 for val in opts.disks.split(",") if val]
    except errors.UnitParseError as err:
        cli.to_stderr("Invalid disks parameter '%s': %s", opts.disks, err)
        return constants.EXIT_FAILURE
    op = opcodes.OpTestAllocator(
        mode=opts.mode, name=args[0], instances=args, memory=opts.memory,
        disks=disks, disk_template=opts.disk_template,
        nics=_parse_nics(opts.nics), os=opts.os, vcpus=opts.vcpus,
        tags=opts.tags.split(",") if opts.tags else [],
        direction=opts.direction, iallocator=opts.iallocator,
        evac_mode=opts.evac_mode, target_groups=opts.target_groups,
        spindle_use=opts.spindle_use, count=opts.count)
    result = cli.submit_opcode(op, opts=opts)
    cli.to_stdout("%s", result)
    return constants.EXIT_SUCCESS


COMMANDS = {
    "delay": (
        delay, [cli.Arg("duration", min=1, max=1)],
        ["on_master", "on_nodes", "repeat", "interruptible", "no_locks"] +
        cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "[<opts>...] <duration>", "Executes a TestDelay OpCode"),
    "submit-job": (
        submit_job, [cli.Arg("file", min=1)],
        ["verbose", "rep_op", "rep_job", "timing_stats", "each"] +
        cli.JOB_OPTS,
        "<op-list-file>...", "Submits jobs built from json files"
        " containing a list of serialized opcodes"),
    "iallocator": (
        test_allocator, [cli.Arg("instance", min=1)],
        ["dbg_direction", "dbg_iallocator", "dbg_mode", "dbg_memory",
         "dbg_disks", "dbg_disk_template", "dbg_nics", "dbg_os",
         "dbg_vcpus", "dbg_tags", "dbg_evac_mode", "dbg_target_groups",
         "dbg_spindle_use", "dbg_count"] + cli.JOB_OPTS,
        "{<opts>...} <instance-name>", "Executes a TestAllocator OpCode"),
}

ALIASES = {"allocator": "iallocator"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-debug")
