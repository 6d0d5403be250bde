"""In-memory job and opcode records, their status rules and wire form.

The job file format is Ganeti 3.0's: ``id`` (int), ``ops`` (each with
``input``, ``status``, ``result``, ``log``, ``priority`` and timestamps as
``[sec, usec]``), ``received_timestamp``, ``start_timestamp``,
``end_timestamp``.
"""

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti import serializer
from ganeti.utils import text as text_utils

_FINAL = constants.OPS_FINALIZED


# keys of an opcode in a job file, in the file's (sorted) order
_OP_KEYS = ("end_timestamp", "exec_timestamp", "input", "log", "priority",
            "result", "start_timestamp", "status")


class QueuedOpCode:
    """One opcode of a job, with its execution state."""

    __slots__ = ("input", "input_dict", "input_json", "status", "result",
                 "log", "priority", "start_timestamp", "exec_timestamp",
                 "end_timestamp")

    def __init__(self, op):
        self.input = op
        # opcodes do not change once submitted: serialise them once
        self.input_dict = op.to_dict()
        self.input_json = None
        self.status = constants.OP_STATUS_QUEUED
        self.result = None
        self.log = []
        self.priority = getattr(op, "priority", constants.OP_PRIO_DEFAULT)
        self.start_timestamp = None
        self.exec_timestamp = None
        self.end_timestamp = None

    def to_dict(self):
        return {
            "input": self.input_dict,
            "status": self.status,
            "result": self.result,
            "log": self.log,
            "priority": self.priority,
            "start_timestamp": self.start_timestamp,
            "exec_timestamp": self.exec_timestamp,
            "end_timestamp": self.end_timestamp,
        }

    def to_json(self):
        """``dump_json(self.to_dict())``, with the input's text encoded
        once: a job file is rewritten on every status change of every
        opcode, and the inputs were most of each rewrite."""
        if self.input_json is None:
            self.input_json = serializer.dump_json(self.input_dict)
        return "{%s}" % ",".join(
            '"%s":%s' % (key, self.input_json if key == "input" else
                         serializer.dump_json(getattr(self, key)))
            for key in _OP_KEYS)

    @classmethod
    def from_dict(cls, data):
        obj = cls.__new__(cls)
        try:
            obj.input = opcodes.OpCode.from_dict(data["input"])
        except errors.GenericError:
            obj.input = _UnknownOpCode(data["input"])
        obj.input_dict = data["input"]
        obj.input_json = None
        obj.status = data["status"]
        obj.result = data.get("result")
        obj.log = [list(entry) for entry in data.get("log", [])]
        obj.priority = data.get("priority", constants.OP_PRIO_DEFAULT)
        obj.start_timestamp = data.get("start_timestamp")
        obj.exec_timestamp = data.get("exec_timestamp")
        obj.end_timestamp = data.get("end_timestamp")
        return obj


class _UnknownOpCode:
    """Placeholder for an opcode a newer/older version wrote."""

    OP_ID = None

    def __init__(self, data):
        self._data = data
        self.OP_ID = data.get("OP_ID") if isinstance(data, dict) else None
        self.priority = constants.OP_PRIO_DEFAULT

    def to_dict(self):
        return self._data

    def summary(self):
        return str(self.OP_ID or "<unknown>")[3:]


def compute_job_status(op_statuses):
    """Ganeti's rule: derive the job status from its opcodes' statuses."""
    status = constants.JOB_STATUS_QUEUED
    all_success = True
    for op_status in op_statuses:
        if op_status == constants.OP_STATUS_SUCCESS:
            continue
        all_success = False
        if op_status == constants.OP_STATUS_QUEUED:
            continue
        if op_status == constants.OP_STATUS_WAITING:
            status = constants.JOB_STATUS_WAITING
        elif op_status == constants.OP_STATUS_RUNNING:
            status = constants.JOB_STATUS_RUNNING
        elif op_status == constants.OP_STATUS_CANCELING:
            status = constants.JOB_STATUS_CANCELING
            break
        elif op_status == constants.OP_STATUS_ERROR:
            status = constants.JOB_STATUS_ERROR
            break
        elif op_status == constants.OP_STATUS_CANCELED:
            status = constants.JOB_STATUS_CANCELED
            break
    if all_success:
        status = constants.JOB_STATUS_SUCCESS
    return status


class QueuedJob:
    """A job: ordered opcodes plus timestamps and a per-job log serial."""

    def __init__(self, job_id, ops, archived=False):
        if not ops:
            raise errors.GenericError("A job needs at least one opcode")
        self.id = int(job_id)
        self.ops = [QueuedOpCode(op) for op in ops]
        self.received_timestamp = text_utils.timestamp_now()
        self.start_timestamp = None
        self.end_timestamp = None
        self.log_serial = 0
        self.archived = archived
        self.cancel_requested = False
        # set by the queue: when the job waits on other jobs
        self.blocked_on = None

    # Status
    def calc_status(self):
        return compute_job_status(op.status for op in self.ops)

    def calc_priority(self):
        prios = [op.priority for op in self.ops if op.status not in _FINAL]
        return min(prios) if prios else constants.OP_PRIO_DEFAULT

    def is_finalized(self):
        return self.calc_status() in constants.JOBS_FINALIZED

    def current_op_index(self):
        """Index of the first unfinished opcode, or None."""
        for idx, op in enumerate(self.ops):
            if op.status not in _FINAL:
                return idx
        return None

    def mark_unfinished_ops(self, status, result):
        """Set every unfinished opcode to ``status``/``result`` and end it."""
        now = text_utils.timestamp_now()
        for op in self.ops:
            if op.status in _FINAL:
                continue
            op.status = status
            op.result = result
            op.end_timestamp = now
        if self.end_timestamp is None:
            self.end_timestamp = now

    def add_log(self, op_index, log_type, message):
        self.log_serial += 1
        entry = [self.log_serial, text_utils.timestamp_now(), log_type,
                 message]
        self.ops[op_index].log.append(entry)
        return entry

    def log_entries_after(self, serial):
        return [entry for op in self.ops for entry in op.log
                if entry[0] > serial]

    def summary(self):
        return [op.input.summary() for op in self.ops]

    # Fields (QueryJobs / WaitForJobChange)
    def get_field(self, name):
        if name == "id":
            return self.id
        if name == "status":
            return self.calc_status()
        if name == "priority":
            return self.calc_priority()
        if name == "ops":
            return [op.input_dict for op in self.ops]
        if name == "opresult":
            return [op.result for op in self.ops]
        if name == "opstatus":
            return [op.status for op in self.ops]
        if name == "oplog":
            return [op.log for op in self.ops]
        if name == "opstart":
            return [op.start_timestamp for op in self.ops]
        if name == "opexec":
            return [op.exec_timestamp for op in self.ops]
        if name == "opend":
            return [op.end_timestamp for op in self.ops]
        if name == "oppriority":
            return [op.priority for op in self.ops]
        if name == "received_ts":
            return self.received_timestamp
        if name == "start_ts":
            return self.start_timestamp
        if name == "end_ts":
            return self.end_timestamp
        if name == "summary":
            return self.summary()
        if name == "archived":
            return self.archived
        raise errors.OpPrereqError("Unknown job field '%s'" % name,
                                   errors.ECODE_INVAL)

    def get_info(self, fields):
        return [self.get_field(name) for name in fields]

    def to_query_dict(self):
        """Every job field, for the query engine."""
        return dict((name, self.get_field(name)) for name in JOB_FIELDS)

    # Persistence
    def to_dict(self):
        return {
            "id": self.id,
            "ops": [op.to_dict() for op in self.ops],
            "received_timestamp": self.received_timestamp,
            "start_timestamp": self.start_timestamp,
            "end_timestamp": self.end_timestamp,
        }

    def to_json(self):
        """The job file's text: ``dump_json(self.to_dict())``, built from
        the opcodes' own ``to_json``."""
        fields = self.to_dict()
        fields["ops"] = None
        parts = []
        for key in sorted(fields):
            if key == "ops":
                text = "[%s]" % ",".join(op.to_json() for op in self.ops)
            else:
                text = serializer.dump_json(fields[key])
            parts.append('"%s":%s' % (key, text))
        return "{%s}" % ",".join(parts)

    @classmethod
    def from_dict(cls, data, archived=False):
        obj = cls.__new__(cls)
        obj.id = int(data["id"])
        obj.ops = [QueuedOpCode.from_dict(op) for op in data["ops"]]
        obj.received_timestamp = data.get("received_timestamp")
        obj.start_timestamp = data.get("start_timestamp")
        obj.end_timestamp = data.get("end_timestamp")
        obj.log_serial = max([entry[0] for op in obj.ops for entry in op.log]
                             or [0])
        obj.archived = archived
        obj.cancel_requested = False
        obj.blocked_on = None
        return obj


JOB_FIELDS = ("id", "status", "priority", "ops", "opresult", "opstatus",
              "oplog", "opstart", "opexec", "opend", "oppriority",
              "received_ts", "start_ts", "end_ts", "summary", "archived")
