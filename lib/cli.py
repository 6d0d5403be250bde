"""Shared machinery of the gnt-* programs.

``generic_main`` dispatches ``argv`` to a client's ``COMMANDS`` table,
parses options (``cli_opts``), runs the command and turns errors into
Ganeti's texts and exit codes (``format_error``). Job helpers submit
opcodes over LUXI and poll them with ``WaitForJobChange``; list helpers
run LUXI ``Query`` and print tables (``cli_output``).

Start-up cost matters (``gnt-cluster version`` < 60 ms): this module
imports only the vocabulary at load time; LUXI, opcodes, ssconf and
friends are imported by the functions that need them.
"""

import os
import sys
import time

from ganeti import cli_opts
from ganeti import cli_output
from ganeti import constants
from ganeti import errors

# Re-exported for the clients
from ganeti.cli_output import (  # noqa: F401
    generate_table, format_table, TableColumn, format_query_result,
    print_generic_info, format_generic_info, format_params_dict_info,
    format_policy_info, format_timestamp, format_time, to_roman,
    scalar_text, format_uid_pool, QR_NORMAL, QR_UNKNOWN, QR_INCOMPLETE)
from ganeti.cli_opts import (  # noqa: F401
    fill_dict, force_dict_type, types_from_defaults, hv_parameter_types,
    disk_parameter_types, parse_uid_pool, create_ipolicy_from_opts,
    BES_PARAMETER_COMPAT, NICS_PARAMETER_TYPES)

REASON_SRC_CLIENT = "gnt:client"
REASON_SRC_USER = "gnt:user"

# Options every job-submitting command accepts (names in cli_opts.OPTIONS)
SUBMIT_OPTS = ["submit_only", "print_jobid"]
JOB_OPTS = ["dry_run", "priority"]
LIST_OPTS = ["no_headers", "separator", "units", "output", "verbose",
             "force_filter"]
LIST_FIELDS_OPTS = ["no_headers", "separator"]
TAG_OPTS = ["tags_source", "priority"] + SUBMIT_OPTS

_ABORT_TEXT = ("Aborted. Note that if the operation created any jobs, they"
               " might have been submitted and will continue to run in the"
               " background.")


class JobSubmittedException(Exception):
    """Raised by ``--submit``: the job is sent, print its id and exit 0."""


class UsageError(Exception):
    """Ends ``generic_main`` with a usage exit code."""


# ---------------------------------------------------------------------------
# Output helpers

def to_stdout(txt, *args):
    _write(sys.stdout, txt, args)


def to_stderr(txt, *args):
    _write(sys.stderr, txt, args)


def _write(stream, txt, args):
    if args:
        txt = txt % args
    try:
        stream.write(txt + "\n")
        stream.flush()
    except BrokenPipeError:
        # The reader went away (``gnt-job list | head``): drop the rest of
        # the output quietly instead of failing again at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass


# ---------------------------------------------------------------------------
# Argument definitions

class Arg:
    """Positional argument spec: how many (min..max, None = unbounded)."""

    def __init__(self, kind="unknown", min=0, max=None, choices=None):
        self.kind = kind
        self.min = min
        self.max = max
        self.choices = choices


ARGS_NONE = []
ARGS_ONE = [Arg(min=1, max=1)]
ARGS_MANY = [Arg()]
ARGS_ATLEAST_ONE = [Arg(min=1)]
ARGS_ONE_NODE = [Arg("node", min=1, max=1)]
ARGS_MANY_NODES = [Arg("node")]
ARGS_ONE_INSTANCE = [Arg("instance", min=1, max=1)]
ARGS_MANY_INSTANCES = [Arg("instance")]
ARGS_ONE_GROUP = [Arg("group", min=1, max=1)]
ARGS_MANY_GROUPS = [Arg("group")]
ARGS_ONE_NETWORK = [Arg("network", min=1, max=1)]
ARGS_MANY_NETWORKS = [Arg("network")]
ARGS_MANY_FIELDS = [Arg("field")]


def check_arguments(cmd, args_def, args):
    """True if ``args`` fits ``args_def``; prints Ganeti's error otherwise."""
    if args_def is None:
        return True
    min_count = sum(a.min for a in args_def)
    if any(a.max is None for a in args_def):
        max_count = None
    else:
        max_count = sum(a.max for a in args_def)
    if max_count == 0 and args:
        to_stderr("Error: Command %s expects no arguments", cmd)
        return False
    if min_count == max_count and len(args) != min_count:
        to_stderr("Error: Command %s expects %d argument(s)", cmd, min_count)
        return False
    if max_count is not None and len(args) > max_count:
        to_stderr("Error: Command %s expects only %d argument(s)", cmd,
                  max_count)
        return False
    if len(args) < min_count:
        to_stderr("Error: Command %s expects at least %d argument(s)", cmd,
                  min_count)
        return False
    return True


# ---------------------------------------------------------------------------
# generic_main

def _usage_lines(binary, commands):
    import textwrap
    lines = ["Usage: %s {command} [options...] [argument...]" % binary,
             "%s <command> --help to see details, or man %s" %
             (binary, binary), "", "Commands:"]
    # The width is that of the longest name, but the padded text is " name":
    # help starts in column width + 3 (one further for the longest name),
    # so that lines end by column 79.
    width = min(60, max([len(c) for c in commands] or [0]))
    for cmd in sorted(commands):
        help_lines = textwrap.wrap(commands[cmd][4], 79 - 3 - width) or [""]
        lines.append("%-*s - %s" % (width, " " + cmd, help_lines[0]))
        lines.extend("%-*s   %s" % (width, "", line)
                     for line in help_lines[1:])
    lines.append("")
    return lines


def version_line(binary):
    return "%s (ganeti %s) %s" % (binary, constants.VCS_VERSION,
                                  constants.RELEASE_VERSION)


def _parse_args(binary, argv, commands, aliases, env_override):
    """(func, options, args) or raises UsageError(exit code)."""
    if len(argv) < 2:
        to_stdout("\n".join(_usage_lines(binary, commands)))
        raise UsageError(constants.EXIT_FAILURE)
    cmd = argv[1]
    if cmd == "--version":
        to_stdout(version_line(binary))
        raise UsageError(constants.EXIT_SUCCESS)
    if cmd == "--help":
        to_stdout("\n".join(_usage_lines(binary, commands)))
        raise UsageError(constants.EXIT_SUCCESS)
    if cmd in aliases:
        cmd = aliases[cmd]
    if cmd not in commands:
        to_stdout("\n".join(_usage_lines(binary, commands)))
        raise UsageError(constants.EXIT_FAILURE)
    args = list(argv[2:])
    if cmd in env_override:
        env_name = ("%s_%s" % (binary.replace("-", "_"), cmd)).upper()
        env_args = os.environ.get(env_name)
        if env_args:
            import shlex
            args = shlex.split(env_args) + args
    func, args_def, opt_names, usage, description = commands[cmd]
    parser = cli_opts.Parser(binary, "%s %s" % (cmd, usage), description,
                             cli_opts.make_option_list(opt_names))
    try:
        options, args = parser.parse(args)
    except cli_opts.ParserExit as err:
        raise UsageError(err.code)
    if not check_arguments(cmd, args_def, args):
        raise UsageError(constants.EXIT_FAILURE)
    options.binary = binary
    options.command = cmd
    return func, options, args


def generic_main(commands, aliases=None, env_override=frozenset(),
                 binary=None, override=None, argv=None):
    """Run one gnt-* program; returns the exit code.

    ``commands`` maps name -> (function, args spec, option names, usage,
    help); ``aliases`` maps alias -> name; ``env_override`` lists the
    commands whose default arguments come from ``GNT_<BIN>_<CMD>``;
    ``override`` sets option attributes (e.g. the tag kind).
    """
    if argv is None:
        argv = sys.argv
    if binary is None:
        binary = os.path.basename(argv[0])
    aliases = aliases or {}
    try:
        func, options, args = _parse_args(binary, argv, commands, aliases,
                                          env_override)
    except UsageError as err:
        return err.args[0]
    except errors.ParameterError as err:
        code, text = format_error(err)
        to_stderr(text)
        return code
    if override:
        for key, value in override.items():
            setattr(options, key, value)
    _log_command(binary, argv)
    try:
        result = func(options, args)
    except KeyboardInterrupt:
        to_stderr(_ABORT_TEXT)
        return constants.EXIT_FAILURE
    except BrokenPipeError:
        return constants.EXIT_FAILURE
    except Exception as err:  # every error ends as text + exit code
        if getattr(options, "debug", 0):
            import traceback
            traceback.print_exc()
        code, text = format_error(err)
        to_stderr(text)
        _log_command(binary, None, "%s%s" % ("Error: " if code else "",
                                             text.replace("\n", " ")))
        return code
    if result is None:
        return constants.EXIT_SUCCESS
    return result


def _log_command(binary, argv, text=None):
    """Append to commands.log if we can; never fail because of logging."""
    from ganeti import pathutils
    if text is None:
        text = "Command line: %s" % " ".join(argv)
    now = time.time()
    line = "%s,%03d: %s pid=%d INFO %s\n" % (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)),
        int(now * 1000) % 1000, binary, os.getpid(), text)
    try:
        fd = os.open(pathutils.LOG_COMMANDS,
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# Errors

def _luxi_error_class(name):
    """A class from ganeti.luxi if that module is loaded (else None)."""
    luxi = sys.modules.get("ganeti.luxi")
    return getattr(luxi, name, None) if luxi is not None else None


def _isinstance(err, cls):
    return cls is not None and isinstance(err, cls)


def format_error(err):
    """(exit code, text) for an exception, with Ganeti's wording."""
    code = constants.EXIT_FAILURE
    msg = str(err)
    if isinstance(err, errors.ConfigurationError):
        text = "Corrupt configuration file: %s\nAborting." % msg
        code = constants.EXIT_CONFIG_CORRUPT
    elif isinstance(err, errors.HooksAbort):
        lines = ["Failure: hooks execution failed:"]
        for node, script, out in (err.args[0] if err.args else []):
            if out:
                lines.append("  node: %s, script: %s, output: %s" %
                             (node, script, out))
            else:
                lines.append("  node: %s, script: %s (no output)" %
                             (node, script))
        text = "\n".join(lines)
    elif isinstance(err, errors.HooksFailure):
        text = "Failure: hooks general failure: %s" % msg
    elif isinstance(err, errors.ResolverError):
        from ganeti import pathutils
        name = err.args[0] if err.args else ""
        if name == pathutils.get_hostname():
            text = "Failure: can't resolve my own hostname ('%s')" % name
        else:
            text = "Failure: can't resolve hostname '%s'" % name
    elif isinstance(err, errors.OpPrereqError):
        if len(err.args) == 2:
            text = ("Failure: prerequisites not met for this operation:\n"
                    "error type: %s, error details:\n%s" %
                    (err.args[1], err.args[0]))
        else:
            text = ("Failure: prerequisites not met for this operation:\n%s"
                    % msg)
    elif isinstance(err, errors.OpExecError):
        text = "Failure: command execution error:\n%s" % msg
    elif isinstance(err, errors.TagError):
        text = "Failure: invalid tag(s) given:\n%s" % msg
    elif isinstance(err, errors.JobQueueDrainError):
        text = ("Failure: the job queue is marked for drain and doesn't"
                " accept new requests")
    elif isinstance(err, errors.JobQueueFull):
        text = ("Failure: the job queue is full and doesn't accept new"
                " job submissions until old jobs are archived")
    elif isinstance(err, errors.TypeEnforcementError):
        text = "Parameter Error: %s" % msg
    elif isinstance(err, errors.ParameterError):
        text = "Failure: unknown/wrong parameter name '%s'" % msg
    elif _isinstance(err, _luxi_error_class("NoMasterError")):
        text = ("Cannot communicate with the master daemon.\nIs the process"
                " running and listening for connections?")
    elif _isinstance(err, _luxi_error_class("TimeoutError")):
        text = ("Timeout while talking to the master daemon. Jobs might have"
                " been submitted and will continue to run even if the call"
                " timed out. Useful commands in this situation are \"gnt-job"
                " list\", \"gnt-job cancel\" and \"gnt-job watch\". Error:\n"
                + msg)
    elif _isinstance(err, _luxi_error_class("PermissionError")):
        text = ("It seems you don't have permissions to connect to the"
                " master daemon.\nPlease retry as a different user.")
    elif _isinstance(err, _luxi_error_class("ProtocolError")):
        text = ("Unhandled protocol error while talking to the master"
                " daemon:\n%s" % msg)
    elif isinstance(err, errors.JobLost):
        text = "Error checking job status: %s" % msg
    elif isinstance(err, errors.QueryFilterParseError):
        lines = ["Error while parsing query filter: %s" % err.args[0]]
        lines.extend(str(d) for d in err.args[1:])
        text = "\n".join(lines)
    elif isinstance(err, errors.GenericError):
        text = "Unhandled Ganeti error: %s" % msg
    elif isinstance(err, JobSubmittedException):
        text = "JobID: %s" % err.args[0]
        code = constants.EXIT_SUCCESS
    else:
        text = "Unhandled exception: %s" % msg
    return code, text.rstrip("\n")


# ---------------------------------------------------------------------------
# LUXI client

def get_client():
    """A LUXI client of the master daemon.

    When the master socket cannot be reached, ssconf tells whether this
    node is a cluster member at all, or not the master (both reported as
    OpPrereqError, as Ganeti does); a socket forced through
    ``FORCE_LUXI_SOCKET`` is reported as is.
    """
    from ganeti import luxi

    class _Client(luxi.Client):
        def call_method(self, method, args):
            try:
                return luxi.Client.call_method(self, method, args)
            except luxi.NoMasterError:
                if not os.environ.get("FORCE_LUXI_SOCKET"):
                    _check_master_location()
                raise

    return _Client()


def _check_master_location():
    try:
        from ganeti import ssconf
        from ganeti import pathutils
    except ImportError:
        return
    store = ssconf.SimpleStore()
    try:
        master = store.get_master_node()
    except errors.ConfigurationError:
        raise errors.OpPrereqError("Cluster not initialized or this machine"
                                   " is not part of a cluster",
                                   errors.ECODE_INVAL)
    if master != pathutils.get_hostname():
        raise errors.OpPrereqError("This is not the master node, please"
                                   " connect to node '%s' and rerun the"
                                   " command" % master, errors.ECODE_INVAL)


# ---------------------------------------------------------------------------
# Jobs

def epoch_ns():
    return time.time_ns()


def set_generic_opcode_opts(ops, opts):
    """Apply debug/dry-run/priority and the reason trail to opcodes."""
    if opts is None:
        return
    for op in ops:
        op.debug_level = getattr(opts, "debug", 0) or 0
        if getattr(opts, "dry_run", None) is not None and \
                hasattr(op, "dry_run"):
            op.dry_run = opts.dry_run
        if getattr(opts, "priority", None) is not None:
            op.priority = opts.priority
        _init_reason_trail(op, opts)


def _init_reason_trail(op, opts):
    trail = []
    if getattr(opts, "reason", None):
        trail.append([REASON_SRC_USER, opts.reason, epoch_ns()])
    binary = getattr(opts, "binary", None) or os.path.basename(sys.argv[0])
    command = getattr(opts, "command", None)
    if command is None:
        command = sys.argv[1] if len(sys.argv) > 1 else ""
    trail.append(["%s:%s" % (REASON_SRC_CLIENT, binary), command,
                  epoch_ns()])
    op.reason = trail


def send_job(ops, cl=None):
    """Submit a job of ``ops``; returns its id."""
    if cl is None:
        cl = get_client()
    return cl.submit_job(ops)


def format_log_message(log_type, log_msg):
    """Printable text of one job log message."""
    from ganeti.utils import text
    if log_type != constants.ELOG_MESSAGE or not isinstance(log_msg, str):
        log_msg = str(log_msg)
    return text.safe_encode(log_msg)


class StdioReporter:
    """Prints job log lines to stdout and queue notices once to stderr."""

    def __init__(self):
        self.notified_queued = False
        self.notified_waitlock = False

    def report_log(self, job_id, serial, timestamp, log_type, log_msg):
        when = time.ctime(timestamp[0] + timestamp[1] / 1000000.0)
        if log_type == constants.ELOG_MESSAGE_LIST and \
                isinstance(log_msg, list):
            for msg in log_msg:
                to_stdout("%s %s", when,
                          format_log_message(constants.ELOG_MESSAGE, msg))
        else:
            to_stdout("%s %s", when, format_log_message(log_type, log_msg))

    def report_not_changed(self, job_id, status):
        if status == constants.JOB_STATUS_QUEUED and \
                not self.notified_queued:
            to_stderr("Job %s is waiting in queue", job_id)
            self.notified_queued = True
        elif status == constants.JOB_STATUS_WAITING and \
                not self.notified_waitlock:
            to_stderr("Job %s is trying to acquire all necessary locks",
                      job_id)
            self.notified_waitlock = True


class FeedbackReporter:
    """Hands log entries to a feedback function; no queue notices."""

    def __init__(self, feedback_fn):
        self.feedback_fn = feedback_fn

    def report_log(self, job_id, serial, timestamp, log_type, log_msg):
        self.feedback_fn((timestamp, log_type, log_msg))

    def report_not_changed(self, job_id, status):
        pass


def poll_job(job_id, cl=None, feedback_fn=None, reporter=None):
    """Wait for a job to finish, reporting its log; returns the opcode
    results or raises the job's error."""
    if cl is None:
        cl = get_client()
    if reporter is None:
        reporter = (FeedbackReporter(feedback_fn) if feedback_fn else
                    StdioReporter())
    prev_info = None
    prev_serial = None
    status = None
    while True:
        result = cl.wait_for_job_change_once(job_id, ["status"], prev_info,
                                             prev_serial)
        if not result:
            raise errors.JobLost("Job with id %s lost" % job_id)
        if result == constants.JOB_NOTCHANGED:
            reporter.report_not_changed(job_id, status)
            continue
        job_info, log_entries = result
        status = job_info[0]
        if log_entries:
            for serial, timestamp, log_type, message in log_entries:
                reporter.report_log(job_id, serial, timestamp, log_type,
                                    message)
                prev_serial = max(prev_serial or 0, serial)
        elif status in (constants.JOB_STATUS_SUCCESS,
                        constants.JOB_STATUS_ERROR,
                        constants.JOB_STATUS_CANCELING,
                        constants.JOB_STATUS_CANCELED):
            break
        prev_info = job_info
    jobs = cl.query_jobs([job_id], ["status", "opstatus", "opresult"])
    if not jobs or jobs[0] is None:
        raise errors.JobLost("Job with id %s lost" % job_id)
    status, opstatus, opresult = jobs[0]
    if status == constants.JOB_STATUS_SUCCESS:
        return opresult
    if status in (constants.JOB_STATUS_CANCELING,
                  constants.JOB_STATUS_CANCELED):
        raise errors.JobCanceled("Job was canceled")
    has_ok = False
    for idx, (op_status, msg) in enumerate(zip(opstatus, opresult)):
        if op_status == constants.OP_STATUS_SUCCESS:
            has_ok = True
        elif op_status == constants.OP_STATUS_ERROR:
            errors.maybe_raise(msg)
            if has_ok:
                raise errors.OpExecError("partial failure (opcode %d): %s" %
                                         (idx, msg))
            raise errors.OpExecError(str(msg))
    raise errors.OpExecError(str(opresult))


def submit_opcode(op, cl=None, opts=None, feedback_fn=None, reporter=None):
    """Submit one opcode as a job, wait for it, return its result."""
    if cl is None:
        cl = get_client()
    set_generic_opcode_opts([op], opts)
    job_id = send_job([op], cl=cl)
    if getattr(opts, "print_jobid", False):
        to_stdout("%d", job_id)
    results = poll_job(job_id, cl=cl, feedback_fn=feedback_fn,
                       reporter=reporter)
    return results[0]


def submit_or_send(op, opts, cl=None, feedback_fn=None):
    """Like submit_opcode, but with ``--submit`` only send the job and
    raise JobSubmittedException (``JobID: N`` on stderr, exit 0)."""
    if opts is not None and getattr(opts, "submit_only", False):
        set_generic_opcode_opts([op], opts)
        job_id = send_job([op], cl=cl)
        if getattr(opts, "print_jobid", False):
            to_stdout("%d", job_id)
        raise JobSubmittedException(job_id)
    return submit_opcode(op, cl=cl, feedback_fn=feedback_fn, opts=opts)


def submit_opcode_to_drained_queue(op, opts=None, cl=None):
    """Submit past a drained queue (``redist-conf --yes-do-it``)."""
    if cl is None:
        cl = get_client()
    set_generic_opcode_opts([op], opts)
    job_id = cl.submit_job_to_drained_queue([op])
    return poll_job(job_id, cl=cl)[0]


class JobExecutor:
    """Submits several jobs and waits for them, printing Ganeti's texts."""

    _CHOOSE_BATCH = 25

    def __init__(self, cl=None, verbose=True, opts=None, feedback_fn=None):
        self.queue = []
        self.cl = cl or get_client()
        self.verbose = verbose
        self.jobs = []
        self.opts = opts
        self.feedback_fn = feedback_fn
        self._counter = 0

    def _next(self):
        self._counter += 1
        return self._counter

    def queue_job(self, name, *ops):
        set_generic_opcode_opts(ops, self.opts)
        self.queue.append((self._next(), name, ops))

    def add_job_id(self, name, status, job_id):
        self.jobs.append((self._next(), status, job_id, name))

    def submit_pending(self, each=False):
        if each:
            results = [[True, self.cl.submit_job(ops)]
                       for (_, _, ops) in self.queue]
        else:
            results = self.cl.submit_many_jobs([ops for (_, _, ops)
                                                in self.queue])
        for (status, data), (idx, name, _) in zip(results, self.queue):
            self.jobs.append((idx, status, data, name))
        self.queue = []

    def _choose_job(self):
        ids = [job[2] for job in self.jobs[:self._CHOOSE_BATCH]]
        result = self.cl.query_jobs(ids, ["status"])
        for job, status in zip(self.jobs, result):
            if (isinstance(status, list) and status and
                    status[0] in constants.JOBS_PENDING):
                continue
            self.jobs.remove(job)
            return job
        return self.jobs.pop(0)

    def get_results(self):
        """Wait for every job; [(success, result or error text), ...]."""
        if not self.jobs:
            self.submit_pending()
        results = []
        if self.verbose:
            ok_jobs = [str(row[2]) for row in self.jobs if row[1]]
            if ok_jobs:
                to_stdout("Submitted jobs %s", ", ".join(ok_jobs))
        failures = [row for row in self.jobs if not row[1]]
        self.jobs = [row for row in self.jobs if row[1]]
        for idx, _, jid, name in failures:
            to_stderr("Failed to submit job%s: %s", _if_name(name, " for %s"),
                      jid)
            results.append((idx, False, jid))
        while self.jobs:
            idx, _, jid, name = self._choose_job()
            to_stdout("Waiting for job %s%s ...", jid,
                      _if_name(name, " for %s"))
            try:
                job_result = poll_job(jid, cl=self.cl,
                                      feedback_fn=self.feedback_fn)
                success = True
            except errors.JobLost as err:
                _, job_result = format_error(err)
                to_stderr("Job %s%s has been archived, cannot check its"
                          " result", jid, _if_name(name, " for %s"))
                success = False
            except errors.GenericError as err:
                _, job_result = format_error(err)
                success = False
                to_stderr("Job %s%s has failed: %s", jid,
                          _if_name(name, " for %s"), job_result)
            results.append((idx, success, job_result))
        results.sort(key=lambda r: r[0])
        return [r[1:] for r in results]

    def wait_or_show(self, wait):
        if wait:
            return self.get_results()
        if not self.jobs:
            self.submit_pending()
        for _, status, result, name in self.jobs:
            if status:
                to_stdout("%s: %s", result, name)
            else:
                to_stderr("Failure for %s: %s", name, result)
        return [row[1:3] for row in self.jobs]


def _if_name(name, fmt):
    return fmt % name if name else ""


# ---------------------------------------------------------------------------
# Queries

def make_simple_filter(namefield, values, isnumeric=False):
    """OR of equality (or DNS-name glob) conditions on ``namefield``."""
    from ganeti import qlang
    return qlang.make_simple_filter(namefield, values, is_numeric=isnumeric)


def make_filter(args, force_filter, namefield=None, isnumeric=False):
    """The qfilter for a list command's positional arguments."""
    from ganeti import qlang
    return qlang.make_filter(args or [], force_filter,
                             namefield=namefield or "name",
                             is_numeric=isnumeric)


def parse_fields(selected, default):
    """Fields from ``-o``: replaces the defaults, or ``+a,b`` appends."""
    if selected is None:
        return list(default)
    if selected.startswith("+"):
        return list(default) + selected[1:].split(",")
    return selected.split(",")


def _warn_unknown_fields(fdefs):
    unknown = cli_output.unknown_fields(fdefs)
    if unknown:
        to_stderr("Warning: Queried for unknown fields %s",
                  ", ".join(f["name"] for f in unknown))
    return bool(unknown)


def generic_list(resource, fields, names, unit, separator, header, cl=None,
                 format_override=None, verbose=False, force_filter=False,
                 namefield=None, qfilter=None, isnumeric=False):
    """Query ``resource`` over LUXI and print a table; exit code."""
    namefilter = make_filter(names or None, force_filter,
                             namefield=namefield, isnumeric=isnumeric)
    if qfilter is None:
        qfilter = namefilter
    elif namefilter is not None:
        qfilter = ["&", namefilter, qfilter]
    if cl is None:
        cl = get_client()
    response = cl.query(resource, fields, qfilter)
    found_unknown = _warn_unknown_fields(response["fields"])
    status, lines = format_query_result(response, unit=unit,
                                        separator=separator, header=header,
                                        format_override=format_override,
                                        verbose=verbose)
    if lines:
        to_stdout("\n".join(lines))
    if status == QR_UNKNOWN or found_unknown:
        return constants.EXIT_UNKNOWN_FIELD
    return constants.EXIT_SUCCESS


def generic_list_fields(resource, fields, separator, header, cl=None):
    """Print the field definitions of ``resource``; exit code."""
    if cl is None:
        cl = get_client()
    response = cl.query_fields(resource, fields or None)
    found_unknown = _warn_unknown_fields(response["fields"])
    columns = [
        TableColumn("Name", str, False),
        TableColumn("Type", lambda k: cli_output.QFT_NAMES.get(k, k), False),
        TableColumn("Title", str, False),
        TableColumn("Description", str, False),
    ]
    rows = [[f["name"], f["kind"], f["title"], f.get("doc", "")]
            for f in response["fields"]]
    for line in format_table(rows, columns, header, separator):
        to_stdout(line)
    if found_unknown:
        return constants.EXIT_UNKNOWN_FIELD
    return constants.EXIT_SUCCESS


def get_online_nodes(nodes, cl=None, nowarn=False, secondary_ips=False,
                     filter_master=False, nodegroup=None):
    """Names (or secondary IPs) of the online nodes among ``nodes`` (all
    if empty), warning about skipped offline ones."""
    if cl is None:
        cl = get_client()
    parts = []
    if nodes:
        parts.append(make_simple_filter("name", nodes))
    if nodegroup is not None:
        parts.append(["|", ["==", "group", nodegroup],
                      ["==", "group.uuid", nodegroup]])
    if filter_master:
        parts.append(["!", ["?", "master"]])
    if len(parts) > 1:
        qfilter = ["&"] + parts
    else:
        qfilter = parts[0] if parts else None
    result = cl.query(constants.QR_NODE, ["name", "offline", "sip"], qfilter)
    offline = [row[0][1] for row in result["data"] if row[1][1]]
    online = [row for row in result["data"] if not row[1][1]]
    if offline and not nowarn:
        to_stderr("Note: skipping offline node(s): %s" % ", ".join(offline))
    col = 2 if secondary_ips else 0
    return [row[col][1] for row in online]


# ---------------------------------------------------------------------------
# Tags

def _extract_tags_object(opts, args):
    kind = opts.tag_type
    if kind == constants.TAG_CLUSTER:
        return kind, None
    if not args:
        raise errors.OpPrereqError("no arguments passed to the command",
                                   errors.ECODE_INVAL)
    return kind, args.pop(0)


def _extend_tags(opts, args):
    fname = getattr(opts, "tags_source", None)
    if fname is None:
        return
    if fname == "-":
        lines = sys.stdin.readlines()
    else:
        with open(fname) as handle:
            lines = handle.readlines()
    args.extend(line.strip() for line in lines)


def list_tags(opts, args):
    """Print the tags of an object, sorted."""
    kind, name = _extract_tags_object(opts, args)
    cl = get_client()
    for tag in sorted(cl.query_tags(kind, name)):
        to_stdout(tag)
    return constants.EXIT_SUCCESS


def add_tags(opts, args):
    """Add tags (arguments and/or ``--from FILE``) to an object."""
    from ganeti import opcodes
    kind, name = _extract_tags_object(opts, args)
    _extend_tags(opts, args)
    if not args:
        raise errors.OpPrereqError("No tags to be added", errors.ECODE_INVAL)
    op = opcodes.OpTagsSet(kind=kind, name=name, tags=args)
    submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def remove_tags(opts, args):
    """Remove tags (arguments and/or ``--from FILE``) from an object."""
    from ganeti import opcodes
    kind, name = _extract_tags_object(opts, args)
    _extend_tags(opts, args)
    if not args:
        raise errors.OpPrereqError("No tags to be removed",
                                   errors.ECODE_INVAL)
    op = opcodes.OpTagsDel(kind=kind, name=name, tags=args)
    submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def tag_commands(argdef, object_usage):
    """The list-tags/add-tags/remove-tags rows of a COMMANDS table."""
    prefix = (object_usage + " ") if object_usage else ""
    return {
        "list-tags": (list_tags, argdef, [], object_usage.strip(),
                      "List the tags of the given object"),
        "add-tags": (add_tags, argdef + [Arg("tag")], TAG_OPTS,
                     prefix + "<tag>...", "Add tags to the given object"),
        "remove-tags": (remove_tags, argdef + [Arg("tag")], TAG_OPTS,
                        prefix + "<tag>...",
                        "Remove tags from the given object"),
    }


# ---------------------------------------------------------------------------
# Confirmation

def ask_user(text, choices=None):
    """Ask a question on the terminal; without one, the last choice.

    ``choices`` is a list of (answer, value, help); default yes/no with
    "no" last (the safe answer when nobody can be asked).
    """
    import textwrap
    if choices is None:
        choices = [("y", True, "Perform the operation"),
                   ("n", False, "Do not perform the operation")]
    answer = choices[-1][1]
    try:
        tty = open("/dev/tty", "a+")
    except OSError:
        return answer
    with tty:
        chars = [c[0] for c in choices]
        chars[-1] = "[%s]" % chars[-1]
        chars.append("?")
        maps = dict((c[0], c[1]) for c in choices)
        prompt = "\n".join(textwrap.wrap(text, 70))
        while True:
            tty.write(prompt)
            tty.write("\n%s " % "/".join(chars))
            tty.flush()
            line = tty.readline(2).strip().lower()
            if line in maps:
                return maps[line]
            if not line:
                return answer
            if line == "?":
                for entry in choices:
                    tty.write(" %s - %s\n" % (entry[0], entry[2]))


def confirm_operation(names, list_type, text, extra=""):
    """Ganeti's ConfirmOperation: ask whether to run ``text`` on
    ``names`` (the list shown, or offered with "v" when it is long); True
    only on "y"."""
    count = len(names)
    msg = ("The %s will operate on %d %s.\n%sDo you want to continue?" %
           (text, count, list_type, extra))
    affected = ("\nAffected %s:\n" % list_type +
                "\n".join("  %s" % name for name in names))
    choices = [("y", True, "Yes, execute the %s" % text),
               ("n", False, "No, abort the %s" % text)]
    if count > 20:
        choices.insert(1, ("v", "v", "View the list of affected %s" %
                           list_type))
        question = msg
    else:
        question = msg + affected
    choice = ask_user(question, choices)
    if choice == "v":
        choices.pop(1)
        choice = ask_user(msg + affected, choices)
    return choice is True


def job_id_list(args):
    """Job ids as ints (OpPrereqError for anything else)."""
    try:
        return [int(a) for a in args]
    except (TypeError, ValueError) as err:
        raise errors.OpPrereqError("Invalid job ID passed: %s" % err,
                                   errors.ECODE_INVAL)
