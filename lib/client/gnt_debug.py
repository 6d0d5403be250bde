"""gnt-debug: test opcodes for exercising the job queue and the nodes."""

import time

from ganeti import cli
from ganeti import constants


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
}

ALIASES = {}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-debug")
