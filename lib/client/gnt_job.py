"""gnt-job: list, inspect, wait for, cancel and archive jobs."""

from ganeti import cli
from ganeti import constants
from ganeti import errors

_LIST_DEF_FIELDS = ["id", "status", "summary"]

_INFO_FIELDS = ["id", "status", "ops", "opresult", "opstatus", "oplog",
                "opstart", "opexec", "opend", "received_ts", "start_ts",
                "end_ts"]


def _format_timestamp_or_na(value):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return cli.format_timestamp(value)
    return "N/A"


_JOB_LIST_FORMAT = {
    "status": (str, False),
    "summary": (lambda value: ",".join(str(item) for item in value), False),
}
_JOB_LIST_FORMAT.update(dict.fromkeys(
    ["opstart", "opexec", "opend"],
    (lambda value: ",".join(_format_timestamp_or_na(v) for v in value),
     False)))
_JOB_LIST_FORMAT.update(dict.fromkeys(
    ["received_ts", "start_ts", "end_ts"], (_format_timestamp_or_na, False)))


def list_jobs(opts, args):
    """Table of jobs (``--pending`` etc. filter on the status)."""
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    if opts.archived and "archived" not in fields:
        fields.append("archived")
    qfilter = cli.make_simple_filter("status", opts.status_filter)
    return cli.generic_list(constants.QR_JOB, fields, args, None,
                            opts.separator, not opts.no_headers,
                            format_override=_JOB_LIST_FORMAT,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter, namefield="id",
                            qfilter=qfilter, isnumeric=True)


def list_job_fields(opts, args):
    return cli.generic_list_fields(constants.QR_JOB, args, opts.separator,
                                   not opts.no_headers)


def archive_jobs(opts, args):
    cl = cli.get_client()
    rcode = constants.EXIT_SUCCESS
    for job_id in cli.job_id_list(args):
        if not cl.archive_job(job_id):
            cli.to_stderr("Failed to archive job with ID '%s'", job_id)
            rcode = constants.EXIT_FAILURE
    return rcode


def auto_archive_jobs(opts, args):
    from ganeti.utils import text
    age = args[0]
    if age == "all":
        age = -1
    else:
        age = text.parse_timespec(age)
    archived, left = cli.get_client().auto_archive_jobs(age)
    cli.to_stdout("Archived %s jobs, %s unchecked left", archived, left)
    return constants.EXIT_SUCCESS


def _multi_job_action(opts, args, question, action_fn):
    """Apply ``action_fn(cl, job_id)`` -> (ok, msg) to the given jobs or to
    those matching the status filter (after confirmation)."""
    cl = cli.get_client()
    if bool(args) == (opts.status_filter is not None):
        raise errors.OpPrereqError("Either a status filter or job ID(s) must"
                                   " be specified", errors.ECODE_INVAL)
    if opts.status_filter is not None:
        response = cl.query(constants.QR_JOB, ["id", "status", "summary"],
                            cli.make_simple_filter("status",
                                                   opts.status_filter))
        jobs = [row[0][1] for row in response["data"]]
        if not jobs:
            cli.to_stdout("No jobs with the requested status have been"
                          " found.")
            return constants.EXIT_SUCCESS
        if not opts.force:
            _, lines = cli.format_query_result(
                response, header=True, format_override=_JOB_LIST_FORMAT)
            for line in lines:
                cli.to_stdout(line)
            if not cli.ask_user(question):
                return constants.EXIT_CONFIRMATION
    else:
        jobs = cli.job_id_list(args)
    result = constants.EXIT_SUCCESS
    for job_id in jobs:
        success, msg = action_fn(cl, job_id)
        if not success:
            result = constants.EXIT_FAILURE
        cli.to_stdout(msg)
    return result


def cancel_jobs(opts, args):
    if opts.kill:
        action = "KILL"
        if not opts.yes_do_it:
            raise errors.OpPrereqError("The --kill option must be confirmed"
                                       " with --yes-do-it",
                                       errors.ECODE_INVAL)
    else:
        action = "Cancel"
    return _multi_job_action(
        opts, args, "%s job(s) listed above?" % action,
        lambda cl, job_id: cl.cancel_job(job_id, kill=opts.kill))


def change_priority(opts, args):
    if opts.priority is None:
        cli.to_stderr("--priority option must be given.")
        return constants.EXIT_FAILURE
    return _multi_job_action(
        opts, args, "Change priority of job(s) listed above?",
        lambda cl, job_id: cl.change_job_priority(job_id, opts.priority))


def _delta(later, earlier):
    return (later[0] - earlier[0]) + (later[1] - earlier[1]) / 1000000.0


def _format_log_entry(entry):
    serial, log_ts, log_type, log_msg = entry
    encoded = cli.format_log_message(log_type, log_msg)
    return [("Time", cli.format_timestamp(log_ts)),
            ("Content", "[%s]" % ", ".join(str(v) for v in
                                          (serial, log_type, encoded)))]


def format_job_info(row):
    """Ordered info structure of one job from a ``Query`` row of
    ``_INFO_FIELDS`` values (already unwrapped)."""
    (job_id, status, ops, opresult, opstatus, oplog, opstart, opexec, opend,
     recv_ts, start_ts, end_ts) = row
    info = [("Job ID", job_id), ("Status", status)]
    if recv_ts is not None:
        info.append(("Received", " " * 8 + cli.format_timestamp(recv_ts)))
    else:
        info.append(("Received", " " * 8 + "unknown (%s)" % recv_ts))
    if start_ts is not None:
        delta = ""
        if recv_ts is not None:
            delta = " (delta %.6fs)" % _delta(start_ts, recv_ts)
        info.append(("Processing start",
                     cli.format_timestamp(start_ts) + delta))
    else:
        info.append(("Processing start", "unknown (%s)" % start_ts))
    if end_ts is not None:
        delta = ""
        if start_ts is not None:
            delta = " (delta %.6fs)" % _delta(end_ts, start_ts)
        info.append(("Processing end",
                     "  " + cli.format_timestamp(end_ts) + delta))
    else:
        info.append(("Processing end", "  unknown (%s)" % end_ts))
    if end_ts is not None and recv_ts is not None:
        info.append(("Total processing time",
                     "%.6f seconds" % _delta(end_ts, recv_ts)))
    else:
        info.append(("Total processing time", "N/A"))
    opcodes = []
    for opcode, result, op_status, log, s_ts, x_ts, e_ts in zip(
            ops, opresult, opstatus, oplog, opstart, opexec, opend):
        opcodes.append([
            ("Opcode", opcode.get("OP_ID")),
            ("Status", op_status),
            ("Processing start", _format_timestamp_or_na(s_ts)),
            ("Execution start", " " + _format_timestamp_or_na(x_ts)),
            ("Processing end", "  " + _format_timestamp_or_na(e_ts)),
            ("Input fields", opcode),
            ("Result", result),
            ("Execution log", [_format_log_entry(e) for e in log]),
        ])
    info.append(("Opcodes", opcodes))
    return info


def show_jobs(opts, args):
    """Detailed, YAML-like description of jobs."""
    job_ids = cli.job_id_list(args)
    cl = cli.get_client()
    response = cl.query(constants.QR_JOB, _INFO_FIELDS,
                        cli.make_simple_filter("id", job_ids))
    rows = {}
    for row in response["data"]:
        id_status, job_id = row[0]
        if row[1][0] == constants.RS_NORMAL and job_id is not None:
            rows[job_id] = [value for (_, value) in row]
    container = []
    for job_id in job_ids:
        if job_id in rows:
            container.append(format_job_info(rows[job_id]))
        else:
            container.append("Job ID %s not found" % job_id)
    cli.print_generic_info(container)
    return constants.EXIT_SUCCESS


def watch_job(opts, args):
    job_id = cli.job_id_list(args)[0]
    msg = "Output from job %s follows" % job_id
    cli.to_stdout(msg)
    cli.to_stdout("-" * len(msg))
    try:
        cli.poll_job(job_id)
    except errors.GenericError as err:
        rcode, text = cli.format_error(err)
        cli.to_stderr("Job %s failed: %s", job_id, text)
        return rcode
    return constants.EXIT_SUCCESS


def wait_job(opts, args):
    job_id = cli.job_id_list(args)[0]
    try:
        cli.poll_job(job_id, feedback_fn=lambda _: None)
    except errors.GenericError as err:
        rcode, text = cli.format_error(err)
        cli.to_stderr("Job %s failed: %s", job_id, text)
        return rcode
    return constants.EXIT_SUCCESS


_STATUS_OPTS = ["status_pending", "status_queued", "status_waiting"]

COMMANDS = {
    "list": (
        list_jobs, [cli.Arg("job")],
        ["no_headers", "separator", "output", "verbose", "force_filter",
         "status_pending", "status_running", "status_error",
                         "status_finished", "archived"],
        "[<job-id>...]",
        "Lists the jobs and their status. The available fields can be shown"
        " using the \"list-fields\" command (see the man page for details)."
        " The default field list is (in order): %s." %
        ", ".join(_LIST_DEF_FIELDS)),
    "list-fields": (
        list_job_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[<fields>...]", "Lists all available fields for jobs"),
    "archive": (
        archive_jobs, [cli.Arg("job", min=1)], [],
        "<job-id> [<job-id>...]", "Archive specified jobs"),
    "autoarchive": (
        auto_archive_jobs, [cli.Arg("age", min=1, max=1)], [], "<age>",
        "Auto archive jobs older than the given age"),
    "cancel": (
        cancel_jobs, [cli.Arg("job")],
        ["force", "kill", "yes_do_it"] + _STATUS_OPTS,
        "{[--force] [--kill --yes-do-it] {--pending | --queued | --waiting}"
        " | <job-id> [<job-id>...]}", "Cancel jobs"),
    "info": (
        show_jobs, [cli.Arg("job", min=1)], [], "<job-id> [<job-id>...]",
        "Show detailed information about the specified jobs"),
    "wait": (
        wait_job, [cli.Arg("job", min=1, max=1)], [], "<job-id>",
        "Wait for a job to finish"),
    "watch": (
        watch_job, [cli.Arg("job", min=1, max=1)], [], "<job-id>",
        "Follows a job and prints its output as it arrives"),
    "change-priority": (
        change_priority, [cli.Arg("job")],
        ["priority", "force"] + _STATUS_OPTS,
        "--priority <priority> {[--force] {--pending | --queued |"
        " --waiting} | <job-id> [<job-id>...]}",
        "Change the priority of jobs"),
}

ALIASES = {"show": "info"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-job")
