"""Query fields of jobs (``gnt-job list``, RAPI ``/2/jobs``).

Rows come from the job queue (``jqueue.get_jobs_data``), one dict per job
with every field; a plain id filter loads only those jobs (archived ones
included), otherwise all live jobs, plus archived ones when the
``archived`` field is requested.
"""

from ganeti import constants
from ganeti import errors
from ganeti.query import common
from ganeti.query.common import simple

NAME_FIELD = "id"
HOSTNAME_FIELDS = frozenset()
NUMERIC_FIELDS = frozenset(["id"])

_T = constants


class JobQueryData:
    def __init__(self, context, field_names):
        self.context = context
        self.field_names = frozenset(field_names)


def prepare(context, field_names):
    return JobQueryData(context, field_names)


def _job_id(value):
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(value)
    except (TypeError, ValueError):
        raise errors.OpPrereqError("Invalid job ID '%s'" % (value,),
                                   errors.ECODE_INVAL)


def select_items(qdata, wanted):
    jqueue = qdata.context.jqueue
    if jqueue is None:
        return []
    if wanted is not None:
        ids = []
        for value in wanted:
            job_id = _job_id(value)
            if job_id not in ids:
                ids.append(job_id)
        return jqueue.get_jobs_data(ids, include_archived=True)
    rows = jqueue.get_jobs_data(
        None, include_archived="archived" in qdata.field_names)
    return sorted(rows, key=lambda job: job["id"])


def fetch_live(qdata, items, field_names):
    """Job data is read in select_items already."""


def _key(name):
    def getter(qdata, job):
        return job.get(name)
    return getter


_DEFS = [
    ("archived", "Archived", _T.QFT_BOOL, "Whether job is archived"),
    ("end_ts", "End", _T.QFT_OTHER, "Timestamp of job end"),
    ("id", "ID", _T.QFT_NUMBER, "Job ID"),
    ("opend", "OpCode_end", _T.QFT_OTHER,
     "List of opcode end timestamps (after execution)"),
    ("opexec", "OpCode_exec", _T.QFT_OTHER,
     "List of opcode execution start timestamps (after acquiring locks)"),
    ("oplog", "OpCode_log", _T.QFT_OTHER, "List of opcode output logs"),
    ("oppriority", "OpCode_prio", _T.QFT_OTHER,
     "List of opcode priorities"),
    ("opresult", "OpCode_result", _T.QFT_OTHER, "List of opcodes results"),
    ("ops", "OpCodes", _T.QFT_OTHER, "List of all opcodes"),
    ("opstart", "OpCode_start", _T.QFT_OTHER,
     "List of opcode start timestamps (before acquiring locks)"),
    ("opstatus", "OpCode_status", _T.QFT_OTHER,
     "List of opcodes status"),
    ("priority", "Priority", _T.QFT_NUMBER,
     "Current job priority (lower is more urgent)"),
    ("received_ts", "Received", _T.QFT_OTHER,
     "Timestamp of when job was received"),
    ("start_ts", "Start", _T.QFT_OTHER, "Timestamp of job start"),
    ("status", "Status", _T.QFT_TEXT, "Job status"),
    ("summary", "Summary", _T.QFT_OTHER,
     "List of per-opcode summaries"),
]

FIELDS = common.field_table([simple(name, title, kind, doc, _key(name))
                             for name, title, kind, doc in _DEFS])
