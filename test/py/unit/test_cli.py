"""The gnt-* command line: parsing, error texts, tables, job polling and
the output formats pinned against outputs recorded from Ganeti 3.0.2.

Commands run against a small fake master (a real Unix socket speaking
LUXI framing, scripted answers) so that what the CLI sends and prints is
checked without the real daemon, which has its own tests.
"""

import json
import os
import socketserver
import subprocess
import sys
import threading
import time

import pytest

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants
from ganeti import errors
from ganeti import luxi
from ganeti import pathutils
from ganeti.client import gnt_backup
from ganeti.client import gnt_cluster
from ganeti.client import gnt_debug
from ganeti.client import gnt_group
from ganeti.client import gnt_instance
from ganeti.client import gnt_job
from ganeti.client import gnt_network
from ganeti.client import gnt_node
from ganeti.client import gnt_os
from ganeti.client import gnt_storage

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
DATA = os.path.join(TOP, "test", "data", "cli")
SCRIPTS = os.path.join(TOP, "scripts")

CLIENTS = {
    "gnt-backup": gnt_backup, "gnt-cluster": gnt_cluster,
    "gnt-debug": gnt_debug, "gnt-group": gnt_group,
    "gnt-instance": gnt_instance, "gnt-job": gnt_job,
    "gnt-network": gnt_network, "gnt-node": gnt_node, "gnt-os": gnt_os,
    "gnt-storage": gnt_storage,
}


def _data(name):
    with open(os.path.join(DATA, name)) as handle:
        return handle.read()


def _json(name):
    return json.loads(_data(name))


# ---------------------------------------------------------------------------
# A scripted LUXI master

class FakeMaster:
    """Answers LUXI calls from ``handlers`` (method -> fn(*args)) and
    records every call in ``calls``; jobs follow scripted updates."""

    def __init__(self, path):
        self.path = path
        self.calls = []
        self.handlers = {}
        self.jobs = {}
        self.next_job_id = 17
        self.handlers.update({
            "SubmitJob": self._submit_job,
            "SubmitManyJobs": self._submit_many,
            "WaitForJobChange": self._wait_for_job_change,
            "QueryJobs": self._query_jobs,
        })
        master = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                buf = b""
                while True:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                    while b"\x03" in buf:
                        msg, buf = buf.split(b"\x03", 1)
                        self.request.sendall(master._answer(msg))

        self.server = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, msg):
        method, args, _ = luxi.parse_request(msg)
        self.calls.append((method, args))
        try:
            handler = self.handlers[method]
        except KeyError:
            return luxi.format_response(False, ["GenericError",
                                                ["no " + method]])
        try:
            return luxi.format_response(True, handler(*args))
        except errors.GenericError as err:
            return luxi.format_response(False, errors.encode_exception(err))

    def add_job(self, job_id, updates, status="success", results=(True,),
                opstatus=None):
        """``updates``: WaitForJobChange answers, each ``(status, logs)``
        or "nochange"; then the final status/results for QueryJobs."""
        self.jobs[job_id] = {
            "updates": list(updates), "status": status,
            "opresult": list(results),
            "opstatus": opstatus or [status] * len(results),
        }

    def calls_of(self, method):
        return [args for (name, args) in self.calls if name == method]

    def _submit_job(self, ops):
        job_id = self.next_job_id
        self.next_job_id += 1
        if job_id not in self.jobs:
            self.add_job(job_id, [("success", [])])
        return job_id

    def _submit_many(self, jobs):
        return [[True, self._submit_job(ops)] for ops in jobs]

    def _wait_for_job_change(self, job_id, fields, prev_info, prev_serial,
                             timeout):
        job = self.jobs.get(job_id)
        if job is None:
            return None
        if not job["updates"]:
            return [[job["status"]], []]
        update = job["updates"].pop(0)
        if update == "nochange":
            return update
        status, logs = update
        return [[status], logs]

    def _query_jobs(self, job_ids, fields):
        result = []
        for job_id in job_ids:
            job = self.jobs.get(job_id)
            result.append(None if job is None else
                          [job[f] for f in fields])
        return result


def query_response(spec, fields=None, rows=None):
    """A LUXI Query answer from a {"fields": {name: fdef}, "rows": [...]}."""
    fields = fields or list(spec["fields"])
    fdefs = [spec["fields"].get(f, {"name": f, "title": f, "kind": "unknown",
                                    "doc": "Unknown field '%s'" % f})
             for f in fields]
    data = []
    for row in (rows if rows is not None else spec["rows"]):
        data.append([[constants.RS_NORMAL, row[f]] if f in row else
                     [constants.RS_UNKNOWN, None] for f in fields])
    return {"fields": fdefs, "data": data}


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def master(tmp_path, monkeypatch, utc):
    path = str(tmp_path / "master.sock")
    fake = FakeMaster(path)
    monkeypatch.setenv("FORCE_LUXI_SOCKET", path)
    monkeypatch.setattr(pathutils, "LOG_COMMANDS",
                        str(tmp_path / "commands.log"))
    yield fake
    fake.stop()


def run(binary, *args, monkeypatch=None):
    """Run a client's main() in-process; returns its exit code."""
    old = sys.argv
    sys.argv = [binary] + list(args)
    try:
        return CLIENTS[binary].main()
    finally:
        sys.argv = old


def run_script(binary, *args, env=None, tmp_path=None):
    """Run scripts/<binary> in a subprocess: (rc, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = TOP
    full_env.pop("FORCE_LUXI_SOCKET", None)
    full_env["GANETI_ROOTDIR"] = str(tmp_path) if tmp_path else "/nonexistent"
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, binary)] +
                          list(args), env=full_env, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------------------
# key=value parsing and options

@pytest.mark.parametrize("text,expected", [
    ("a,b", ["a", "b"]),
    ("a\\,b,c", ["a,b", "c"]),
    ("a\\\\,b", ["a\\", "b"]),
    ("a\\\\\\,b", ["a\\,b"]),
    ("", [""]),
    ("x=1", ["x=1"]),
])
def test_unescape_and_split(text, expected):
    assert cli_opts.unescape_and_split(text) == expected


def test_key_val_prefixes_and_escapes():
    result = cli_opts.split_key_val("-B", "maxmem=512,auto_balance,"
                                    "no_always_failover,-vcpus,x=a\\,b")
    assert result == {"maxmem": "512", "auto_balance": True,
                      "always_failover": False, "vcpus": None, "x": "a,b"}
    assert cli_opts.split_key_val("-B", "") == {}


def test_key_val_errors():
    with pytest.raises(errors.ParameterError) as err:
        cli_opts.split_key_val("-B", "a=1,a=2")
    assert str(err.value) == "Key 'a' is duplicated in option -B"
    with pytest.raises(errors.ParameterError) as err:
        cli_opts.split_key_val("-B", "a", parse_prefixes=False)
    assert str(err.value) == "Missing value for key 'a' in option -B"


def test_ident_key_val():
    split = cli_opts.split_ident_key_val
    assert split("-H", "kvm:kernel_path=/x,acpi") == \
        ("kvm", {"kernel_path": "/x", "acpi": True})
    assert split("-H", "fake") == ("fake", {})
    assert split("-H", "no_kvm") == ("kvm", False)
    assert split("-H", "-kvm") == ("kvm", None)
    # "-1:..." is an index (e.g. --disk -1:size=1G), not a removal
    assert split("--disk", "-1:size=1G") == ("-1", {"size": "1G"})
    with pytest.raises(errors.ParameterError):
        split("-H", "no_kvm:acpi=1")


def test_bool_option_values():
    assert cli_opts.parse_bool("-C", "yes") is True
    assert cli_opts.parse_bool("-C", "FALSE") is False
    with pytest.raises(errors.ParameterError):
        cli_opts.parse_bool("-C", "maybe")


def _parser(names):
    return cli_opts.Parser("gnt-test", "cmd [args]", "",
                           cli_opts.make_option_list(names))


def test_parser_stops_at_first_argument():
    opts, args = _parser(cli.LIST_OPTS).parse(
        ["-o", "name", "node1", "--no-headers"])
    assert opts.output == "name"
    assert opts.no_headers is False
    assert args == ["node1", "--no-headers"]


def test_parser_forms():
    opts, args = _parser(cli.LIST_OPTS + ["priority", "hvparams"]).parse(
        ["--separator=,", "--no-head", "-vF", "-ofoo", "--priority", "high",
         "-H", "kvm:acpi=no", "-H", "fake", "--", "-x"])
    assert opts.separator == ","
    assert opts.no_headers and opts.verbose and opts.force_filter
    assert opts.output == "foo"
    assert opts.priority == constants.OP_PRIO_HIGH
    assert opts.hvparams == [("kvm", {"acpi": "no"}), ("fake", {})]
    assert args == ["-x"]
    assert opts.debug == 0 and opts.reason is None


def test_parser_defaults_are_not_shared():
    parser = _parser(["hvparams", "beparams"])
    first, _ = parser.parse(["-H", "kvm"])
    second, _ = parser.parse([])
    assert second.hvparams == [] and second.beparams == {}
    assert first.hvparams == [("kvm", {})]


@pytest.mark.parametrize("argv,message", [
    (["--bogus"], "no such option: --bogus"),
    (["-o"], "-o option requires 1 argument"),
    (["--no-headers=1"], "--no-headers option does not take a value"),
    (["--priority", "urgent"], "option --priority: invalid choice:"),
    (["--units", "k"], "option --units: invalid choice: 'k'"),
])
def test_parser_errors(capsys, argv, message):
    with pytest.raises(cli_opts.ParserExit) as err:
        _parser(cli.LIST_OPTS + ["priority"]).parse(argv)
    assert err.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("Usage\n=====\n  gnt-test cmd [args]\n\n")
    assert "gnt-test: error: " + message in stderr


def test_every_command_table_is_consistent():
    """Options exist, flags do not collide within a command, arguments
    and help are declared."""
    for binary, module in CLIENTS.items():
        assert module.COMMANDS, binary
        for name, row in module.COMMANDS.items():
            func, args_def, opt_names, usage, help_text = row
            assert callable(func) and isinstance(usage, str) and help_text
            assert args_def is None or isinstance(args_def, list)
            flags = []
            for opt in cli_opts.make_option_list(opt_names):
                flags.extend(opt.flags)
            assert len(flags) == len(set(flags)), (binary, name, flags)
        for alias, target in module.ALIASES.items():
            assert target in module.COMMANDS and alias not in module.COMMANDS


# ---------------------------------------------------------------------------
# Tables

def test_generate_table_alignment():
    lines = cli.generate_table(
        {"name": "Name", "size": "Size", "cnt": "Count", "tag": "Tag"},
        ["name", "size", "cnt", "tag"], None,
        [["node1", 512, 2, "a"], ["node10.example.com", 2048 * 1024, 10,
                                  "bb"]],
        numfields=["cnt"], unitfields=["size"])
    assert lines == [
        "Name               Size Count Tag",
        "node1              512M     2 a",
        "node10.example.com 2.0T    10 bb",
    ]


def test_generate_table_separator_units_and_no_header():
    data = [["node1", 1536, 3]]
    assert cli.generate_table(None, ["name", "size", "cnt"], "|", data,
                              numfields=["cnt"], unitfields=["size"]) == \
        ["node1|1536|3"]
    assert cli.generate_table({"name": "N", "size": "S", "cnt": "C"},
                              ["name", "size", "cnt"], ",", data,
                              unitfields=["size"], units="g") == \
        ["N,S,C", "node1,1.5,3"]
    # right-aligned last column is padded, left-aligned is not
    assert cli.generate_table(None, ["a", "b"], None, [["x", "1"],
                                                       ["yy", "22"]],
                              numfields=["b"]) == ["x   1", "yy 22"]


def test_format_query_result_special_values():
    result = {
        "fields": [{"name": "name", "title": "Node", "kind": "text"},
                   {"name": "mfree", "title": "MFree", "kind": "unit"},
                   {"name": "x", "title": "x", "kind": "unknown"}],
        "data": [[[0, "n1"], [2, None], [1, None]],
                 [[0, "n2"], [4, None], [3, None]]],
    }
    status, lines = cli.format_query_result(result, header=True)
    assert status == cli.QR_UNKNOWN
    assert lines == ["Node MFree x", "n1       ? ??", "n2       * -"]
    status, lines = cli.format_query_result(result, verbose=True,
                                            separator=":")
    assert lines == ["n1:(nodata):(unknown)", "n2:(offline):(unavail)"]


def test_format_query_result_kinds():
    result = {
        "fields": [{"name": "b", "title": "B", "kind": "bool"},
                   {"name": "l", "title": "L", "kind": "other"},
                   {"name": "t", "title": "T", "kind": "timestamp"},
                   {"name": "f", "title": "F", "kind": "float"}],
        "data": [[[0, True], [0, ["a", "b"]], [0, 0], [0, 1.0]],
                 [[0, False], [0, {"k": 1}], [0, 86400.5], [0, 0.5]]],
    }
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        status, lines = cli.format_query_result(result)
    finally:
        del os.environ["TZ"]
        time.tzset()
    assert status == cli.QR_NORMAL
    assert lines == ["Y a,b 1970-01-01 00:00:00   1",
                     "N k=1 1970-01-02 00:00:00 0.5"]


def test_generic_info_layout():
    data = [[("Name", "x"), ("empty", {}), ("list", ["a", "b"]),
             ("nested", {"b": {"c": 1.0}, "a": []}),
             ("pairs", [[("min/0", {"k": 1}), ("max/0", {"k": 2})]])]]
    assert cli.format_generic_info(data) == (
        "- Name: x\n"
        "  empty: \n"
        "  list: \n"
        "    - a\n"
        "    - b\n"
        "  nested: \n"
        "    a: \n"
        "    b: \n"
        "      c: 1\n"
        "  pairs: \n"
        "    - min/0: \n"
        "        k: 1\n"
        "      max/0: \n"
        "        k: 2\n")


def test_roman_and_unit_helpers():
    assert cli.to_roman(1994) == "MCMXCIV"
    assert cli.to_roman(0) == 0 and cli.to_roman(True) is True
    assert cli.to_roman(5, convert=False) == 5
    assert cli.parse_uid_pool("1000-1010, 3000,2000-2001") == \
        [(1000, 1010), (2000, 2001), (3000, 3000)]
    assert cli.format_uid_pool([(1, 1), (5, 9)]) == "1, 5-9"
    with pytest.raises(errors.OpPrereqError):
        cli.parse_uid_pool("1-2-3")


def test_force_dict_type():
    params = {"maxmem": "1G", "vcpus": "2", "auto_balance": "false",
              "always_failover": True, "spindle_use": "default"}
    cli.force_dict_type(params, cli.BES_PARAMETER_COMPAT)
    assert params == {"maxmem": 1024, "vcpus": 2, "auto_balance": False,
                      "always_failover": True, "spindle_use": "default"}
    with pytest.raises(errors.TypeEnforcementError) as err:
        cli.force_dict_type({"vcpus": "x"}, cli.BES_PARAMETER_COMPAT)
    assert str(err.value) == "'vcpus' (value x) is not a valid integer"
    with pytest.raises(errors.TypeEnforcementError):
        cli.force_dict_type({"nosuch": 1}, cli.BES_PARAMETER_COMPAT)


def test_ipolicy_from_options():
    opts = cli_opts.Values({})
    for name in ("ipolicy_bounds_specs", "ipolicy_std_specs",
                 "ipolicy_disk_templates", "ipolicy_vcpu_ratio",
                 "ipolicy_spindle_ratio"):
        setattr(opts, name, None)
    for name, _ in cli_opts._ISPEC_OPTS:
        setattr(opts, name, {})
    assert cli.create_ipolicy_from_opts(opts) == {}
    opts.ispecs_mem_size = {"max": "1G", "std": "256"}
    opts.ipolicy_vcpu_ratio = 2.0
    policy = cli.create_ipolicy_from_opts(opts, fill_all=True)
    assert policy["minmax"][0]["max"]["memory-size"] == 1024
    assert policy["minmax"][0]["min"]["memory-size"] == 128
    assert policy["std"]["memory-size"] == 256
    assert policy["vcpu-ratio"] == 2.0
    assert policy["spindle-ratio"] == 32.0


def test_simple_filters():
    assert cli.make_simple_filter("name", ["a", "b"]) == \
        ["|", ["==", "name", "a"], ["==", "name", "b"]]
    assert cli.make_simple_filter("name", ["web*.example.com"]) == \
        ["|", ["=~", "name", "^web[^.]*\\.example\\.com(\\..*)?$"]]
    assert cli.make_simple_filter("id", ["3"], isnumeric=True) == \
        ["|", ["==", "id", 3]]
    assert cli.make_simple_filter("name", []) is None
    assert cli.make_filter(None, False) is None
    assert cli.parse_fields(None, ["a"]) == ["a"]
    assert cli.parse_fields("+b,c", ["a"]) == ["a", "b", "c"]
    assert cli.parse_fields("b", ["a"]) == ["b"]


# ---------------------------------------------------------------------------
# Error texts

_ERRORS = [
    (errors.ConfigurationError("bad"), 2,
     "Corrupt configuration file: bad\nAborting."),
    (errors.HooksAbort([("node1", "10-x", "oops"), ("node2", "20-y", "")]),
     1, "Failure: hooks execution failed:\n"
        "  node: node1, script: 10-x, output: oops\n"
        "  node: node2, script: 20-y (no output)"),
    (errors.HooksFailure("boom"), 1, "Failure: hooks general failure: boom"),
    (errors.ResolverError("elsewhere.invalid", 1, "x"), 1,
     "Failure: can't resolve hostname 'elsewhere.invalid'"),
    (errors.OpPrereqError("Instance 'x' not known", "unknown_entity"), 1,
     "Failure: prerequisites not met for this operation:\n"
     "error type: unknown_entity, error details:\nInstance 'x' not known"),
    (errors.OpPrereqError("Duration must be greater than zero"), 1,
     "Failure: prerequisites not met for this operation:\n"
     "Duration must be greater than zero"),
    (errors.OpExecError("disk failed"), 1,
     "Failure: command execution error:\ndisk failed"),
    (errors.TagError("Tag too long"), 1,
     "Failure: invalid tag(s) given:\nTag too long"),
    (errors.JobQueueDrainError("x"), 1,
     "Failure: the job queue is marked for drain and doesn't accept new"
     " requests"),
    (errors.JobQueueFull("x"), 1,
     "Failure: the job queue is full and doesn't accept new job"
     " submissions until old jobs are archived"),
    (errors.TypeEnforcementError("'a' is bad"), 1,
     "Parameter Error: 'a' is bad"),
    (errors.ParameterError("foo"), 1,
     "Failure: unknown/wrong parameter name 'foo'"),
    (luxi.NoMasterError("/x"), 1,
     "Cannot communicate with the master daemon.\nIs the process running"
     " and listening for connections?"),
    (luxi.TimeoutError("Receive timeout"), 1,
     "Timeout while talking to the master daemon. Jobs might have been"
     " submitted and will continue to run even if the call timed out."
     " Useful commands in this situation are \"gnt-job list\", \"gnt-job"
     " cancel\" and \"gnt-job watch\". Error:\nReceive timeout"),
    (luxi.PermissionError("/x"), 1,
     "It seems you don't have permissions to connect to the master"
     " daemon.\nPlease retry as a different user."),
    (luxi.ProtocolError("garbage"), 1,
     "Unhandled protocol error while talking to the master daemon:\n"
     "garbage"),
    (errors.JobLost("Job with id 5 lost"), 1,
     "Error checking job status: Job with id 5 lost"),
    (errors.QueryFilterParseError("Bad filter", "name ==", "       ^"), 1,
     "Error while parsing query filter: Bad filter\nname ==\n       ^"),
    (errors.JobCanceled("Job was canceled"), 1,
     "Unhandled Ganeti error: Job was canceled"),
    (errors.GenericError("strange"), 1, "Unhandled Ganeti error: strange"),
    (cli.JobSubmittedException(42), 0, "JobID: 42"),
    (ValueError("could not convert"), 1,
     "Unhandled exception: could not convert"),
]


@pytest.mark.parametrize("err,code,text", _ERRORS,
                         ids=[type(e[0]).__name__ for e in _ERRORS])
def test_format_error(err, code, text):
    assert cli.format_error(err) == (code, text)


# ---------------------------------------------------------------------------
# Usage, version, argument counts (real scripts in a subprocess)

def test_version_option(tmp_path):
    rc, out, err = run_script("gnt-job", "--version", tmp_path=tmp_path)
    assert (rc, err) == (0, "")
    assert out == "gnt-job (ganeti %s) %s\n" % (constants.VCS_VERSION,
                                                constants.RELEASE_VERSION)


def test_usage_texts(tmp_path):
    rc, out, err = run_script("gnt-job", "--help", tmp_path=tmp_path)
    assert rc == 0
    lines = out.splitlines()
    assert lines[:4] == [
        "Usage: gnt-job {command} [options...] [argument...]",
        "gnt-job <command> --help to see details, or man gnt-job",
        "", "Commands:"]
    # names padded to the longest name's width, counting the leading space
    assert lines[4] == " archive        - Archive specified jobs"
    assert " change-priority - Change the priority of jobs" in lines
    assert lines[-1] == ""
    assert all(len(line) <= 79 for line in lines)
    commands = [line.split()[0] for line in lines[4:]
                if line.startswith(" ") and not line.startswith("  ")]
    assert commands == sorted(gnt_job.COMMANDS)
    for argv in ([], ["nosuch"]):
        rc2, out2, _ = run_script("gnt-job", *argv, tmp_path=tmp_path)
        assert (rc2, out2) == (1, out)


def test_command_help(tmp_path):
    rc, out, _ = run_script("gnt-node", "list", "--help", tmp_path=tmp_path)
    assert rc == 0
    assert out.startswith("Usage\n=====\n  gnt-node list [<node-name>...]")
    assert "--no-headers" in out and "--reason=TEXT" in out


@pytest.mark.parametrize("argv,text", [
    (["gnt-cluster", "version", "x"],
     "Error: Command version expects no arguments"),
    (["gnt-job", "watch"], "Error: Command watch expects 1 argument(s)"),
    (["gnt-job", "info"], "Error: Command info expects at least 1"
                          " argument(s)"),
    (["gnt-cluster", "watcher", "pause", "1h", "x"],
     "Error: Command watcher expects only 2 argument(s)"),
])
def test_argument_count_errors(tmp_path, argv, text):
    rc, out, err = run_script(*argv, tmp_path=tmp_path)
    assert (rc, out, err) == (1, "", text + "\n")


def test_cluster_version_matches_sample(tmp_path):
    rc, out, err = run_script("gnt-cluster", "version", tmp_path=tmp_path)
    assert (rc, err) == (0, "")
    expected = _data("cluster-version.out").replace(
        "(ganeti) version 3.0.2-3", constants.VCS_VERSION)
    assert out == expected


def test_no_master_daemon(tmp_path):
    rc, out, err = run_script(
        "gnt-job", "list", tmp_path=tmp_path,
        env={"FORCE_LUXI_SOCKET": str(tmp_path / "missing.sock")})
    assert (rc, out) == (1, "")
    assert err == ("Cannot communicate with the master daemon.\nIs the"
                   " process running and listening for connections?\n")


def test_not_part_of_a_cluster(tmp_path):
    rc, out, err = run_script("gnt-job", "list", tmp_path=tmp_path)
    assert rc == 1
    assert err == ("Failure: prerequisites not met for this operation:\n"
                   "error type: wrong_input, error details:\n"
                   "Cluster not initialized or this machine is not part of"
                   " a cluster\n")


def test_version_imports_stay_light(tmp_path):
    """``gnt-cluster version`` must not pay for LUXI, opcodes or ssl."""
    code = ("import sys; sys.argv = ['gnt-cluster', 'version'];"
            "from ganeti.client import gnt_cluster; gnt_cluster.main();"
            "heavy = sorted(m for m in sys.modules if m in ('ganeti.luxi',"
            " 'ganeti.opcodes', 'ganeti.ssconf', 'ganeti.bootstrap',"
            " 'socket', 'ssl', 'json', 'optparse', 'argparse', 'logging'));"
            "print('HEAVY', heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=TOP,
                                              GANETI_ROOTDIR=str(tmp_path)))
    assert proc.stdout.splitlines()[-1] == "HEAVY []", proc.stderr


def test_scripts_are_thin_launchers():
    for binary, module in CLIENTS.items():
        path = os.path.join(SCRIPTS, binary)
        assert os.access(path, os.X_OK), path
        with open(path) as handle:
            lines = handle.read().splitlines()
        name = module.__name__.rsplit(".", 1)[1]
        assert lines == ["#!/usr/bin/env python3",
                         "from ganeti.client import %s" % name,
                         "raise SystemExit(%s.main())" % name]


# ---------------------------------------------------------------------------
# Jobs: submission, polling, --submit, errors (fake master)

_LOG = [[1, [1795472862, 841044], "message", "* creating instance disks..."],
        [2, [1795472863, 615458], "message", "* starting instance..."]]


def test_submit_and_poll_prints_log(master, capsys):
    master.add_job(17, [("running", _LOG[:1]), ("running", _LOG[1:]),
                        ("success", [])], results=[True])
    assert run("gnt-debug", "delay", "--reason", "testing", "-n", "node2",
               "0.5") == 0
    out, err = capsys.readouterr()
    assert out == ("Mon Nov 23 22:27:42 2026 * creating instance disks...\n"
                   "Mon Nov 23 22:27:43 2026 * starting instance...\n")
    assert err == ""
    (ops,), = master.calls_of("SubmitJob")
    op = ops[0]
    assert op["OP_ID"] == "OP_TEST_DELAY"
    assert (op["duration"], op["on_master"], op["on_nodes"], op["repeat"],
            op["no_locks"]) == (0.5, True, ["node2"], 0, False)
    assert [entry[:2] for entry in op["reason"]] == [
        ["gnt:user", "testing"], ["gnt:client:gnt-debug", "delay"]]
    assert abs(op["reason"][1][2] / 1e9 - time.time()) < 60
    waits = master.calls_of("WaitForJobChange")
    assert waits[0][:4] == [17, ["status"], None, None]
    assert waits[1][:4] == [17, ["status"], ["running"], 1]
    assert waits[2][:4] == [17, ["status"], ["running"], 2]
    assert master.calls_of("QueryJobs") == [[[17], ["status", "opstatus",
                                                    "opresult"]]]


def test_queue_notices_printed_once(master, capsys):
    master.add_job(17, [("queued", []), "nochange", "nochange",
                        ("waiting", []), "nochange", "nochange",
                        ("success", [])])
    assert run("gnt-debug", "delay", "1") == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("Job 17 is waiting in queue\n"
                   "Job 17 is trying to acquire all necessary locks\n")


def test_submit_only_prints_job_id(master, capsys):
    assert run("gnt-debug", "delay", "--submit", "1") == 0
    assert capsys.readouterr() == ("", "JobID: 17\n")
    assert master.calls_of("WaitForJobChange") == []
    assert run("gnt-debug", "delay", "--submit", "--print-jobid",
               "--priority", "low", "1") == 0
    assert capsys.readouterr() == ("18\n", "JobID: 18\n")
    assert master.calls_of("SubmitJob")[1][0][0]["priority"] == 10


def test_print_jobid_then_wait(master, capsys):
    assert run("gnt-debug", "delay", "--print-jobid", "1") == 0
    assert capsys.readouterr() == ("17\n", "")


def test_job_failure_text(master, capsys):
    master.add_job(17, [("error", [])], status="error",
                   results=[["OpPrereqError",
                             ["Duration must be greater than zero"]]])
    assert run("gnt-debug", "delay", "0") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == _data("debug-delay-zero.err")


def test_partial_failure_and_cancel(master):
    cl = cli.get_client()
    master.add_job(17, [("error", [])], status="error",
                   results=[True, "disk went away"],
                   opstatus=["success", "error"])
    with pytest.raises(errors.OpExecError) as err:
        cli.poll_job(17, cl=cl)
    assert str(err.value) == "partial failure (opcode 1): disk went away"
    master.add_job(18, [("canceled", [])], status="canceled",
                   results=[None])
    with pytest.raises(errors.JobCanceled) as err:
        cli.poll_job(18, cl=cl)
    assert str(err.value) == "Job was canceled"
    with pytest.raises(errors.JobLost):
        cli.poll_job(99, cl=cl)


def test_server_side_errors_are_formatted(master, capsys):
    def drained(ops):
        raise errors.JobQueueDrainError("drained")
    master.handlers["SubmitJob"] = drained
    assert run("gnt-debug", "delay", "1") == 1
    assert capsys.readouterr().err == (
        "Failure: the job queue is marked for drain and doesn't accept new"
        " requests\n")


def test_submit_job_files(master, capsys, tmp_path):
    jobfile = tmp_path / "ops.json"
    jobfile.write_text(json.dumps([{"OP_ID": "OP_TEST_DELAY",
                                    "duration": 0.1}]))
    assert run("gnt-debug", "submit-job", "--verbose", "--job-repeat", "2",
               "--op-repeat", "3", str(jobfile)) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        "Submitted jobs 17, 18",
        "Waiting for job 17 for file %s/0 ..." % jobfile,
        "Waiting for job 18 for file %s/1 ..." % jobfile]
    (jobs,), = master.calls_of("SubmitManyJobs")
    assert [len(ops) for ops in jobs] == [3, 3]
    assert run("gnt-debug", "submit-job", "--each", "--timing-stats",
               str(jobfile)) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[:4] == ["Loading...", "Submitting...",
                                    "Executing...",
                                    "Waiting for job 19 for file %s/0 ..."
                                    % jobfile]
    assert out.splitlines()[4:6] == ["C:op        1", "C:job       1"]


def test_cluster_verify_waits_for_each_job(master, capsys):
    master.add_job(4, [("success", [])],
                   results=[{"jobs": [[True, 5], [True, 6]]}])
    verify_log = [
        [1, [1795472868, 0], "message", "* Verifying cluster config"],
        [1, [1795472869, 0], "message", "* Verifying group 'default'"],
        [2, [1795472869, 1], "message",
         "  - ERROR: node node1.rg.test: node setup error: The procfs"
         " filesystem doesn't seem to be mounted under /proc, missing"
         " required directory /proc/sys and the file /proc/sysrq-trigger"],
    ]
    master.add_job(5, [("running", verify_log[:1]), ("success", [])],
                   results=[True])
    master.add_job(6, [("running", verify_log[1:]), ("success", [])],
                   results=[False])
    master.next_job_id = 4
    assert run("gnt-cluster", "verify") == 1
    out, err = capsys.readouterr()
    expected = _data("cluster-verify.out").splitlines()
    wanted = [expected[0], expected[1], expected[2], expected[6],
              expected[7], expected[13]]
    assert out.splitlines() == wanted
    assert err == ""
    (ops,), = master.calls_of("SubmitJob")
    assert ops[0]["OP_ID"] == "OP_CLUSTER_VERIFY"
    assert ops[0]["skip_checks"] == []
    master.next_job_id = 20
    master.add_job(20, [("success", [])], results=[{"jobs": []}])
    assert run("gnt-cluster", "verify", "--no-nplus1-mem", "-I",
               "ENODEVERSION", "--error-codes") == 0
    ops = master.calls_of("SubmitJob")[1][0]
    assert ops[0]["skip_checks"] == ["nplusone_mem"]
    assert ops[0]["ignore_errors"] == ["ENODEVERSION"]
    assert ops[0]["error_codes"] is True


def test_failed_verify_job_is_reported(master, capsys):
    master.add_job(4, [("success", [])],
                   results=[{"jobs": [[True, 5], [False, "queue full"]]}])
    master.add_job(5, [("error", [])], status="error",
                   results=[["OpExecError", ["node down"]]])
    master.next_job_id = 4
    assert run("gnt-cluster", "verify") == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Submitted jobs 5", "Waiting for job 5 ...",
        "2 job(s) failed while verifying the cluster."]
    assert err.splitlines() == [
        "Failed to submit job: queue full",
        "Job 5 has failed: Failure: command execution error:",
        "node down"]


# ---------------------------------------------------------------------------
# Query commands against recorded outputs

def _serve_query(master, spec_file, resource):
    spec = _json(spec_file)

    def query(what, fields, qfilter):
        assert what == resource
        return query_response(spec, fields)

    def query_fields(what, fields):
        return {"fields": query_response(spec, fields, rows=[])["fields"]}
    master.handlers["Query"] = query
    master.handlers["QueryFields"] = query_fields
    return spec


@pytest.mark.parametrize("binary,argv,spec,resource,expected", [
    ("gnt-node", [], "node-query.json", "node", "node-list.out"),
    ("gnt-node", ["-o", "name,pinst_cnt,sinst_cnt,master_candidate,drained,"
                  "offline,role"], "node-query.json", "node",
     "node-list-fields.out"),
    ("gnt-group", [], "group-query.json", "group", "group-list.out"),
    ("gnt-job", [], "job-query.json", "job", "job-list.out"),
    ("gnt-job", ["-o", "+priority"], "job-query.json", "job",
     "job-list-fields.out"),
    ("gnt-instance", ["-o", "name,pnode,snodes,status,oper_state,"
                      "admin_state,disk_template,os,be/memory,nic.count"],
     "instance-query.json", "instance", "instance-list-fields.out"),
])
def test_list_outputs(master, capsys, binary, argv, spec, resource,
                      expected):
    _serve_query(master, spec, resource)
    assert run(binary, "list", *argv) == 0
    assert capsys.readouterr() == (_data(expected), "")


def test_list_filters_and_separator(master, capsys, monkeypatch):
    _serve_query(master, "node-query.json", "node")
    monkeypatch.setenv("GNT_NODE_LIST", "--separator=: --no-headers")
    assert run("gnt-node", "list", "-o", "name,mfree,pinst_cnt",
               "node1.rg.test", "node2*") == 0
    assert capsys.readouterr().out == "node1.rg.test:23347:2\n"
    (what, fields, qfilter), = master.calls_of("Query")
    assert fields == ["name", "mfree", "pinst_cnt"]
    assert qfilter == ["|", ["==", "name", "node1.rg.test"],
                       ["=~", "name", "^node2[^.]*(\\..*)?$"]]
    _serve_query(master, "job-query.json", "job")
    assert run("gnt-job", "list", "--running", "3", "4") == 0
    qfilter = master.calls_of("Query")[-1][2]
    assert qfilter == ["&", ["|", ["==", "id", 3], ["==", "id", 4]],
                       ["|", ["==", "status", "running"]]]


def test_unknown_fields_exit_14(master, capsys):
    _serve_query(master, "node-query.json", "node")
    assert run("gnt-node", "list", "-o", "name,bogus") == \
        constants.EXIT_UNKNOWN_FIELD
    out, err = capsys.readouterr()
    assert err == "Warning: Queried for unknown fields bogus\n"
    assert out == "Node          bogus\nnode1.rg.test ??\n"
    assert run("gnt-node", "list-fields", "name", "bogus") == \
        constants.EXIT_UNKNOWN_FIELD
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Name  Type    Title Description",
        "name  Text    Node  ",
        "bogus Unknown bogus Unknown field 'bogus'"]


def test_job_info_format_matches_samples(utc):
    for job_id in (13, 2):
        job = _json("job-%d.json" % job_id)
        row = [job[f] for f in gnt_job._INFO_FIELDS]
        text = cli.format_generic_info([gnt_job.format_job_info(row)])
        assert text == _data("job-info-%d.out" % job_id)


def test_job_info_command(master, capsys):
    job = _json("job-13.json")

    def query(what, fields, qfilter):
        assert (what, fields) == ("job", gnt_job._INFO_FIELDS)
        assert qfilter == ["|", ["==", "id", 13], ["==", "id", 99]]
        return {"fields": [], "data": [[[0, job[f]] for f in fields]]}
    master.handlers["Query"] = query
    assert run("gnt-job", "info", "13", "99") == 0
    out, err = capsys.readouterr()
    assert out == _data("job-info-13.out") + "- Job ID 99 not found\n"
    assert run("gnt-job", "info", "x") == 1
    assert "Invalid job ID passed" in capsys.readouterr().err


def test_cluster_info_matches_sample(master, capsys, monkeypatch):
    monkeypatch.setattr(pathutils, "OS_SEARCH_PATH", [
        "/srv/ganeti/os", "/usr/local/lib/ganeti/os", "/usr/lib/ganeti/os",
        "/usr/share/ganeti/os"])
    monkeypatch.setattr(pathutils, "ES_SEARCH_PATH", [
        "/srv/ganeti/extstorage", "/usr/local/lib/ganeti/extstorage",
        "/usr/lib/ganeti/extstorage", "/usr/share/ganeti/extstorage"])
    master.handlers["QueryClusterInfo"] = lambda: _json("cluster-info.json")
    assert run("gnt-cluster", "info") == 0
    assert capsys.readouterr() == (_data("cluster-info.out"), "")
    assert run("gnt-cluster", "show", "--roman") == 0
    out = capsys.readouterr().out
    assert "  candidate pool size: X\n" in out
    assert "  primary ip version: IV\n" in out


def test_node_info_matches_sample(master, capsys):
    node = _json("node-info.json")

    def query(what, fields, qfilter):
        assert qfilter == ["|", ["==", "name", "node1.rg.test"]]
        return {"fields": [],
                "data": [[[0, node[f]] if node[f] is not None else [3, None]
                          for f in fields]]}
    master.handlers["Query"] = query
    assert run("gnt-node", "info", "node1.rg.test") == 0
    assert capsys.readouterr() == (_data("node-info.out"), "")


def test_group_info_shows_inherited_values(master, capsys):
    def query(what, fields, qfilter):
        values = {"name": "default", "ndparams": {"ssh_port": 22},
                  "custom_ndparams": {}, "diskparams": {"plain":
                                                        {"stripes": 1}},
                  "custom_diskparams": {"plain": {"stripes": 2}},
                  "ipolicy": constants.IPOLICY_DEFAULTS,
                  "custom_ipolicy": {"vcpu-ratio": 2.0}}
        return {"fields": [], "data": [[[0, values[f]] for f in fields]]}
    master.handlers["Query"] = query
    assert run("gnt-group", "info") == 0
    out = capsys.readouterr().out
    assert out.startswith("- Node group: default\n  Node parameters: \n"
                          "    ssh_port: default (22)\n  Disk parameters: \n"
                          "    plain: \n      stripes: 2\n")
    assert ("    bounds specs: \n      - min/0: \n"
            "          cpu-count: default (1)\n") in out
    assert out.endswith("    vcpu-ratio: 2\n    spindle-ratio: default (32)"
                        "\n")


def test_os_commands(master, capsys):
    master.add_job(17, [("success", [])], results=[[["noop", []]]])
    assert run("gnt-os", "list") == 0
    assert capsys.readouterr().out == _data("os-list.out")
    master.add_job(18, [("success", [])], results=[[[
        "noop", True, [], [], [20], False, False, {}, {}, True]]])
    assert run("gnt-os", "info") == 0
    assert capsys.readouterr().out == _data("os-info.out")


# ---------------------------------------------------------------------------
# Other commands

def test_queue_and_watcher(master, capsys):
    state = {"drain": False, "pause": None}
    master.handlers["SetDrainFlag"] = \
        lambda flag: state.update(drain=flag) or True
    master.handlers["QueryConfigValues"] = lambda fields: [
        state["drain"] if f == "drain_flag" else state["pause"]
        for f in fields]
    master.handlers["SetWatcherPause"] = \
        lambda until: state.update(pause=until) or until
    assert run("gnt-cluster", "queue", "drain") == 0
    assert run("gnt-cluster", "queue", "info") == 0
    assert run("gnt-cluster", "queue", "undrain") == 0
    assert run("gnt-cluster", "queue", "info") == 0
    assert capsys.readouterr().out == ("The drain flag is set\n"
                                       "The drain flag is unset\n")
    assert run("gnt-cluster", "watcher", "pause", "1h") == 0
    out = capsys.readouterr().out
    assert out.startswith("The watcher is paused until ")
    assert abs(state["pause"] - time.time() - 3600) < 60
    assert run("gnt-cluster", "watcher", "continue") == 0
    assert run("gnt-cluster", "watcher", "info") == 0
    assert capsys.readouterr().out == ("The watcher is no longer paused.\n"
                                       "The watcher is not paused.\n")
    assert run("gnt-cluster", "queue", "bogus") == 1
    assert "Command 'bogus' is not valid." in capsys.readouterr().err


def test_destroy_needs_confirmation(master, capsys):
    assert run("gnt-cluster", "destroy") == 1
    assert capsys.readouterr() == (
        "", "Destroying a cluster is irreversible. If you really want"
            " destroy this cluster, supply the --yes-do-it option.\n")
    assert master.calls == []


def test_master_ping(master, tmp_path):
    master.handlers["QueryClusterInfo"] = lambda: {}
    assert run("gnt-cluster", "master-ping") == 0
    master.stop()
    assert run("gnt-cluster", "master-ping") == 1


def test_tags(master, capsys, tmp_path):
    master.handlers["QueryTags"] = lambda kind, name: ["b", "a"]
    assert run("gnt-cluster", "list-tags") == 0
    assert capsys.readouterr().out == "a\nb\n"
    assert master.calls_of("QueryTags") == [["cluster", None]]
    tagfile = tmp_path / "tags"
    tagfile.write_text("t2\nt3\n")
    assert run("gnt-node", "add-tags", "--from", str(tagfile), "node1",
               "t1") == 0
    op = master.calls_of("SubmitJob")[0][0][0]
    assert (op["OP_ID"], op["kind"], op["name"], op["tags"]) == \
        ("OP_TAGS_SET", "node", "node1", ["t1", "t2", "t3"])
    assert run("gnt-instance", "remove-tags", "inst1", "t1") == 0
    op = master.calls_of("SubmitJob")[1][0][0]
    assert (op["OP_ID"], op["kind"], op["name"]) == \
        ("OP_TAGS_DEL", "instance", "inst1")
    assert run("gnt-cluster", "add-tags") == 1
    assert "No tags to be added" in capsys.readouterr().err
    master.add_job(19, [("success", [])],
                   results=[[["/cluster", "a"], ["/instances/x", "a1"]]])
    assert run("gnt-cluster", "search-tags", "a") == 0
    assert capsys.readouterr().out == "/cluster a\n/instances/x a1\n"


def test_node_modify_prints_changes(master, capsys):
    master.add_job(17, [("success", [])],
                   results=[[["master_candidate", False],
                             ["drained", True]]])
    assert run("gnt-node", "modify", "-C", "no", "-D", "yes",
               "node2.rg.test") == 0
    assert capsys.readouterr().out == ("Modified node node2.rg.test\n"
                                       " - master_candidate -> False\n"
                                       " - drained -> True\n")
    op = master.calls_of("SubmitJob")[0][0][0]
    assert (op["OP_ID"], op["master_candidate"], op["drained"],
            op["offline"]) == ("OP_NODE_SET_PARAMS", False, True, None)
    assert run("gnt-node", "modify", "node2.rg.test") == 1
    assert capsys.readouterr().err == \
        "Please give at least one of the parameters.\n"


def test_node_add_and_remove(master, capsys):
    master.handlers["Query"] = lambda what, fields, qfilter: {
        "fields": [], "data": []}
    assert run("gnt-node", "add", "-s", "198.51.100.12", "--vm-capable",
               "no", "node2.rg.test") == 0
    op = master.calls_of("SubmitJob")[0][0][0]
    assert (op["OP_ID"], op["node_name"], op["secondary_ip"],
            op["vm_capable"], op["node_setup"], op["readd"]) == \
        ("OP_NODE_ADD", "node2.rg.test", "198.51.100.12", False, True, False)
    assert run("gnt-node", "add", "--readd", "node3") == 1
    assert capsys.readouterr().err == (
        "Node node3 not in the cluster - please retry without '--readd'\n")
    assert run("gnt-node", "remove", "--dry-run", "node2.rg.test") == 0
    op = master.calls_of("SubmitJob")[1][0][0]
    assert (op["OP_ID"], op["node_name"], op["dry_run"]) == \
        ("OP_NODE_REMOVE", "node2.rg.test", True)


def test_cluster_modify_builds_opcode(master, capsys):
    assert run("gnt-cluster", "modify") == 1
    assert capsys.readouterr().err == \
        "Please give at least one of the parameters.\n"
    assert run("gnt-cluster", "modify", "-B", "maxmem=1G,vcpus=2",
               "-H", "kvm:acpi=false", "--vg-name=", "-C", "5",
               "--max-running-jobs", "7", "--reserved-lvs", "a,b\\,c",
               "--enabled-hypervisors", "kvm,fake",
               "--enabled-data-collectors", "lv=false",
               "--data-collector-interval", "lv=2.5") == 0
    op = master.calls_of("SubmitJob")[0][0][0]
    assert op["OP_ID"] == "OP_CLUSTER_SET_PARAMS"
    assert op["beparams"] == {"maxmem": 1024, "vcpus": 2}
    assert op["hvparams"] == {"kvm": {"acpi": False}}
    assert op["vg_name"] == ""
    assert (op["candidate_pool_size"], op["max_running_jobs"]) == (5, 7)
    assert op["reserved_lvs"] == ["a", "b,c"]
    assert op["enabled_hypervisors"] == ["kvm", "fake"]
    assert op["enabled_data_collectors"] == {"lv": False}
    assert op["data_collector_interval"] == {"lv": 2500000}
    assert op["nicparams"] is None and op["ipolicy"] is None


def test_cluster_init_calls_bootstrap(master, capsys, monkeypatch):
    import types
    calls = []
    fake = types.ModuleType("ganeti.bootstrap")
    fake.init_cluster = lambda name, **kw: calls.append((name, kw))
    monkeypatch.setitem(sys.modules, "ganeti.bootstrap", fake)
    import ganeti
    monkeypatch.setattr(ganeti, "bootstrap", fake, raising=False)
    assert run("gnt-cluster", "init", "--enabled-hypervisors", "fake",
               "--enabled-disk-templates", "file,diskless", "-H",
               "fake:migration_mode=non-live", "-B", "maxmem=256",
               "--master-netdev", "br0", "--no-etc-hosts", "-N",
               "link=br0", "--specs-mem-size", "max=4096",
               "cluster.rg.test") == 0
    (name, kw), = calls
    assert name == "cluster.rg.test"
    assert kw["enabled_hypervisors"] == ["fake"]
    assert kw["enabled_disk_templates"] == ["file", "diskless"]
    assert kw["hvparams"]["fake"] == {"migration_mode": "non-live"}
    assert kw["hvparams"]["kvm"]["acpi"] is True
    assert kw["beparams"]["maxmem"] == 256 and kw["beparams"]["vcpus"] == 1
    assert kw["nicparams"] == {"mode": "bridged", "link": "br0", "vlan": ""}
    assert kw["modify_etc_hosts"] is False and kw["modify_ssh_setup"] is True
    assert kw["vg_name"] is None and kw["drbd_helper"] is None
    assert kw["ipolicy"]["minmax"][0]["max"]["memory-size"] == 4096
    assert kw["candidate_pool_size"] == 10
    assert kw["mac_prefix"] == "aa:00:00"
    assert (kw["ssh_key_type"], kw["ssh_key_bits"]) == ("rsa", 2048)
    assert callable(kw["feedback_fn"])
    (ops,), = master.calls_of("SubmitJob")
    assert ops[0]["OP_ID"] == "OP_CLUSTER_POST_INIT"


def test_job_cancel_archive_autoarchive(master, capsys):
    master.handlers["CancelJob"] = lambda job_id, kill: \
        [job_id != 3, "Job %s canceled" % job_id]
    assert run("gnt-job", "cancel", "5", "3") == 1
    assert capsys.readouterr().out == "Job 5 canceled\nJob 3 canceled\n"
    assert master.calls_of("CancelJob") == [[5, False], [3, False]]
    assert run("gnt-job", "cancel", "--kill", "5") == 1
    assert "--kill option must be confirmed" in capsys.readouterr().err
    assert run("gnt-job", "cancel") == 1
    assert "Either a status filter or job ID(s)" in capsys.readouterr().err
    master.handlers["Query"] = lambda what, fields, qfilter: {
        "fields": [], "data": []}
    assert run("gnt-job", "cancel", "--pending") == 0
    assert capsys.readouterr().out == \
        "No jobs with the requested status have been found.\n"
    master.handlers["ArchiveJob"] = lambda job_id: job_id == 5
    assert run("gnt-job", "archive", "5", "6") == 1
    assert capsys.readouterr().err == \
        "Failed to archive job with ID '6'\n"
    master.handlers["AutoArchiveJobs"] = lambda age, timeout: [3, 1]
    assert run("gnt-job", "autoarchive", "1d") == 0
    assert run("gnt-job", "autoarchive", "all") == 0
    assert capsys.readouterr().out == ("Archived 3 jobs, 1 unchecked left\n"
                                       * 2)
    assert [a[0] for a in master.calls_of("AutoArchiveJobs")] == [86400, -1]
    master.handlers["ChangeJobPriority"] = lambda job_id, prio: \
        [True, "Job %s priority changed" % job_id]
    assert run("gnt-job", "change-priority", "5") == 1
    assert run("gnt-job", "change-priority", "--priority", "high", "5") == 0
    assert master.calls_of("ChangeJobPriority") == [[5, -10]]


def test_job_watch_and_wait(master, capsys):
    master.add_job(7, [("running", _LOG), ("success", [])])
    assert run("gnt-job", "watch", "7") == 0
    assert capsys.readouterr().out == (
        "Output from job 7 follows\n-------------------------\n"
        "Mon Nov 23 22:27:42 2026 * creating instance disks...\n"
        "Mon Nov 23 22:27:43 2026 * starting instance...\n")
    master.add_job(8, [("running", _LOG), ("error", [])], status="error",
                   results=[["OpExecError", ["boom"]]])
    assert run("gnt-job", "wait", "8") == 1
    assert capsys.readouterr() == (
        "", "Job 8 failed: Failure: command execution error:\nboom\n")


def test_commands_log(master, tmp_path):
    master.handlers["QueryTags"] = lambda kind, name: []
    run("gnt-cluster", "list-tags")
    with open(pathutils.LOG_COMMANDS) as handle:
        text = handle.read()
    assert "gnt-cluster pid=%d INFO Command line: gnt-cluster list-tags" % \
        os.getpid() in text


# ---------------------------------------------------------------------------
# Man pages

@pytest.mark.parametrize("binary", ["gnt-cluster", "gnt-node", "gnt-job",
                                    "gnt-debug"])
def test_man_page_lists_every_command(binary):
    path = os.path.join(TOP, "man", binary + ".rst")
    with open(path) as handle:
        text = handle.read()
    for command, row in CLIENTS[binary].COMMANDS.items():
        assert "\n%s\n" % command in text or \
            "\n**%s**" % command in text, (binary, command)
        for opt in cli_opts.make_option_list(row[2]):
            for flag in opt.flags:
                assert flag in text, (binary, command, flag)


_MAN_PAGES = [os.path.join(TOP, "man", b + ".rst")
              for b in ("gnt-cluster", "gnt-node", "gnt-job", "gnt-debug",
                        "gnt-group")]


def test_man_pages_match_command_tables():
    """tools/gen-man-commands --check: synopses/options have not drifted."""
    proc = subprocess.run([sys.executable,
                           os.path.join(TOP, "tools", "gen-man-commands"),
                           "--check"] + _MAN_PAGES, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=TOP))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", _MAN_PAGES)
def test_man_pages_are_valid_rst(path):
    core = pytest.importorskip("docutils.core")
    with open(path) as handle:
        text = handle.read()
    warnings = []

    class Stream:
        def write(self, data):
            warnings.append(data)
    from docutils.writers import manpage
    core.publish_string(text, writer=manpage.Writer(),
                        settings_overrides={"report_level": 2,
                                            "halt_level": 5,
                                            "warning_stream": Stream()})
    assert warnings == []


class _FakeRunner:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def run(self, host, cmd, stdin=None, address=None, port=22):
        self.calls.append((host, cmd, stdin, address, port))
        return self.answers[host]


def _serve_nodes(master, nodes):
    """Query answers for name/offline/sip and ndp/ssh_port."""
    def query(what, fields, qfilter):
        values = {"name": None, "offline": False, "sip": None,
                  "ndp/ssh_port": 22}
        rows = []
        for name, offline in nodes:
            values.update(name=name, offline=offline, sip="s-" + name)
            rows.append([[0, values[f]] for f in fields])
        return {"fields": [], "data": rows}
    master.handlers["Query"] = query
    master.handlers["QueryConfigValues"] = lambda fields: [
        {"cluster_name": "cluster.rg.test",
         "master_node": "node1"}[f] for f in fields]


def test_cluster_command(master, capsys, monkeypatch):
    _serve_nodes(master, [("node1", False), ("node2", False),
                          ("node3", True)])
    runner = _FakeRunner({"node1": (0, "up 1 day\n", ""),
                          "node2": (1, "", "failed\n")})
    monkeypatch.setattr(gnt_cluster, "_ssh_runner", lambda name: runner)
    assert run("gnt-cluster", "command", "uptime", "-p") == 0
    out, err = capsys.readouterr()
    sep = "-" * 48
    assert out == (sep + "\nnode: node2\nfailed\n\nreturn code = 1\n" +
                   sep + "\nnode: node1\nup 1 day\n\nreturn code = 0\n")
    assert err == "Note: skipping offline node(s): node3\n"
    assert [c[:2] for c in runner.calls] == [("node2", "uptime -p"),
                                             ("node1", "uptime -p")]
    assert run("gnt-cluster", "command", "-M", "--failure-only",
               "uptime") == 0
    assert capsys.readouterr().out == sep + "\nnode2: failed\n" \
        "return code = 1\n"


def test_cluster_copyfile(master, capsys, monkeypatch, tmp_path):
    _serve_nodes(master, [("node2", False)])
    runner = _FakeRunner({"node2": (1, "", "no space")})
    monkeypatch.setattr(gnt_cluster, "_ssh_runner", lambda name: runner)
    path = tmp_path / "file.txt"
    path.write_bytes(b"data\n")
    os.chmod(str(path), 0o640)
    assert run("gnt-cluster", "copyfile", str(path)) == 0
    assert capsys.readouterr().err == \
        "Copy of file %s to node node2:22 failed\n" % path
    (host, cmd, stdin, address, port), = runner.calls
    assert (host, stdin, address, port) == ("node2", b"data\n", "node2", 22)
    assert "chmod 640 " in cmd and cmd.endswith(" %s" % path)
    qfilter = master.calls_of("Query")[0][2]
    assert qfilter == ["!", ["?", "master"]]
    assert run("gnt-cluster", "copyfile", str(tmp_path / "nosuch")) == 1


def test_getmaster_reads_ssconf(tmp_path):
    rc, out, err = run_script("gnt-cluster", "getmaster", tmp_path=tmp_path)
    assert (rc, out) == (1, "")
    assert err.endswith("Cluster not initialized or this machine is not"
                        " part of a cluster\n")
    ssconf_dir = tmp_path / "var" / "lib" / "ganeti"
    ssconf_dir.mkdir(parents=True)
    (ssconf_dir / "ssconf_master_node").write_text("node1.rg.test\n")
    rc, out, err = run_script("gnt-cluster", "getmaster", tmp_path=tmp_path)
    assert (rc, out, err) == (0, _data("cluster-getmaster.out"), "")
