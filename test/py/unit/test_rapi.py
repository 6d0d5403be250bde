"""RAPI: users file and auth, the resource table, argument mapping, errors.

The end-to-end tests run the real pieces: the RAPI dispatcher behind the
real HTTPS server, talking LUXI over a real socket to masterd's LUXI
server and job queue. Only the opcode processor is the test's own (it
records the opcodes it is given), because which logical units exist is
exactly what the 501 logic asks ``cmdlib.LU_TABLE`` about.
"""

import base64
import http.client
import json
import os
import socket
import ssl
import threading
import time

import pytest

from ganeti import cmdlib
from ganeti import constants
from ganeti import crypto
from ganeti import http as ghttp
from ganeti import luxi
from ganeti.http import server as http_server
from ganeti.jqueue import JobQueue
from ganeti.jqueue.store import QueueStore
from ganeti.rapi import auth
from ganeti.rapi import handlers
from ganeti.rapi import openapi
from ganeti.rapi import resources
from ganeti.server import masterd

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "data", "rapi")


def _sample(name):
    """(body bytes, {header: value}) of a recorded Ganeti 3.0.2 answer."""
    with open(os.path.join(DATA, name + ".json"), "rb") as handle:
        body = handle.read()
    headers = {}
    with open(os.path.join(DATA, name + ".headers")) as handle:
        lines = handle.read().splitlines()
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
    return lines[0].strip(), body, headers


# --- users file and passwords ---------------------------------------------

USERS_TEXT = """\
# comment line

jack {HA1}54c12257ee9be413f2f3182435514aae write
plain secret read
clear {CLEARTEXT}{braces}pw write,read
upper {cleartext}pw2
weird {SHA9}abc write
nopassword
"""


def test_parse_users_file():
    users = auth.parse_users(USERS_TEXT)
    assert sorted(users) == ["clear", "jack", "plain", "upper", "weird"]
    assert users["jack"].options == frozenset(["write"])
    assert users["plain"].options == frozenset(["read"])
    assert users["clear"].options == frozenset(["write", "read"])
    assert users["upper"].options == frozenset()


def test_ha1_is_md5_of_user_realm_password():
    # MD5("jack:Ganeti Remote API:abc123"), the {HA1} form of Ganeti's docs
    assert auth.ha1_hash("jack", "abc123") == \
        "54c12257ee9be413f2f3182435514aae"


@pytest.mark.parametrize("name,password,ok", [
    ("jack", "abc123", True),
    ("jack", "abc124", False),
    ("jack", "54c12257ee9be413f2f3182435514aae", False),
    ("plain", "secret", True),
    ("plain", "Secret", False),
    ("clear", "{braces}pw", True),
    ("upper", "pw2", True),
    ("upper", "{cleartext}pw2", False),
    ("weird", "abc", False),
])
def test_password_schemes(name, password, ok):
    users = auth.parse_users(USERS_TEXT)
    assert auth.check_password(users[name], password) is ok


def test_ha1_hash_case_insensitive():
    user = auth.User("jack", "{ha1}54C12257EE9BE413F2F3182435514AAE")
    assert auth.check_password(user, "abc123")


def _basic(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


@pytest.mark.parametrize("header", [None, "", "Basic", "Digest abc",
                                    "Basic !!!notbase64",
                                    "Basic " + base64.b64encode(
                                        b"nocolon").decode()])
def test_malformed_authorization_is_no_credentials(header):
    assert auth.parse_basic_auth(header) is None


def test_access_matrix():
    users = auth.parse_users(USERS_TEXT)
    write = (auth.ACCESS_WRITE,)
    check = auth.check_access
    ok, unauth, forbid = (auth.ACCESS_OK, auth.ACCESS_UNAUTHORIZED,
                          auth.ACCESS_FORBIDDEN)
    # open resource: credentials are not even looked at
    assert check(users, None, (), False) == ok
    assert check(users, _basic("jack", "wrong"), (), False) == ok
    # --require-authentication: any valid user, whatever its options
    assert check(users, None, (), True) == unauth
    assert check(users, _basic("upper", "pw2"), (), True) == ok
    assert check(users, _basic("upper", "bad"), (), True) == unauth
    # write access
    assert check(users, None, write, False) == unauth
    assert check(users, _basic("jack", "abc123"), write, False) == ok
    assert check(users, _basic("jack", "nope"), write, False) == unauth
    assert check(users, _basic("nobody", "x"), write, False) == unauth
    assert check(users, _basic("plain", "secret"), write, False) == forbid
    assert check(users, _basic("upper", "pw2"), write, False) == forbid
    # read or write
    assert check(users, _basic("plain", "secret"), auth.ACCESS_ALL,
                 False) == ok
    assert check(users, _basic("jack", "abc123"), auth.ACCESS_ALL,
                 False) == ok
    assert check(users, _basic("upper", "pw2"), auth.ACCESS_ALL,
                 False) == forbid


def _wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_users_file_reloaded_by_inotify(tmp_path):
    path = tmp_path / "rapi" / "users"
    users = auth.UsersFile(str(path))
    assert users.get("jack") is None
    assert users.start_watching()
    try:
        path.write_text("jack pw1 write\n")
        assert _wait_for(lambda: users.get("jack") is not None)
        # replaced atomically (rename), as editors and config sync do
        tmp = tmp_path / "rapi" / "users.new"
        tmp.write_text("jill pw2 read\n")
        os.rename(str(tmp), str(path))
        assert _wait_for(lambda: users.get("jack") is None)
        assert users.get("jill").options == frozenset(["read"])
        path.unlink()
        assert _wait_for(lambda: users.get("jill") is None)
    finally:
        users.stop_watching()


def test_users_file_reloaded_without_inotify(tmp_path):
    path = tmp_path / "users"
    path.write_text("jack pw1 write\n")
    users = auth.UsersFile(str(path))
    users.STAT_INTERVAL = 0
    assert users.get("jack").password == "pw1"
    path.write_text("jack pw2longer write\n")
    assert users.get("jack").password == "pw2longer"


# --- the table ---------------------------------------------------------------

# Every path of interfaces.md section 3.2 with upstream's methods.
EXPECTED = {
    "/": "GET", "/2": "GET", "/version": "GET", "/2/info": "GET",
    "/2/features": "GET", "/2/os": "GET", "/2/redistribute-config": "PUT",
    "/2/modify": "PUT", "/2/tags": "GET PUT DELETE",
    "/2/instances": "GET POST", "/2/instances-multi-alloc": "POST",
    "/2/instances/[instance]": "GET DELETE",
    "/2/instances/[instance]/info": "GET",
    "/2/instances/[instance]/reboot": "POST",
    "/2/instances/[instance]/shutdown": "PUT",
    "/2/instances/[instance]/startup": "PUT",
    "/2/instances/[instance]/reinstall": "POST",
    "/2/instances/[instance]/replace-disks": "POST",
    "/2/instances/[instance]/activate-disks": "PUT",
    "/2/instances/[instance]/deactivate-disks": "PUT",
    "/2/instances/[instance]/recreate-disks": "POST",
    "/2/instances/[instance]/disk/[disk]/grow": "POST",
    "/2/instances/[instance]/prepare-export": "PUT",
    "/2/instances/[instance]/export": "PUT",
    "/2/instances/[instance]/migrate": "PUT",
    "/2/instances/[instance]/failover": "PUT",
    "/2/instances/[instance]/rename": "PUT",
    "/2/instances/[instance]/modify": "PUT",
    "/2/instances/[instance]/console": "GET",
    "/2/instances/[instance]/tags": "GET PUT DELETE",
    "/2/nodes": "GET", "/2/nodes/[node]": "GET",
    "/2/nodes/[node]/role": "GET PUT", "/2/nodes/[node]/evacuate": "POST",
    "/2/nodes/[node]/migrate": "POST", "/2/nodes/[node]/powercycle": "POST",
    "/2/nodes/[node]/modify": "POST", "/2/nodes/[node]/storage": "GET",
    "/2/nodes/[node]/storage/modify": "PUT",
    "/2/nodes/[node]/storage/repair": "PUT",
    "/2/nodes/[node]/tags": "GET PUT DELETE",
    "/2/groups": "GET POST", "/2/groups/[group]": "GET DELETE",
    "/2/groups/[group]/modify": "PUT", "/2/groups/[group]/rename": "PUT",
    "/2/groups/[group]/assign-nodes": "PUT",
    "/2/groups/[group]/tags": "GET PUT DELETE",
    "/2/networks": "GET POST", "/2/networks/[network]": "GET DELETE",
    "/2/networks/[network]/modify": "PUT",
    "/2/networks/[network]/connect": "PUT",
    "/2/networks/[network]/disconnect": "PUT",
    "/2/networks/[network]/rename": "PUT",
    "/2/networks/[network]/tags": "GET PUT DELETE",
    "/2/jobs": "GET", "/2/jobs/[job_id]": "GET DELETE",
    "/2/jobs/[job_id]/wait": "GET",
    "/2/query/[resource]": "GET PUT", "/2/query/[resource]/fields": "GET",
    "/2/filters": "GET POST", "/2/filters/[filter_uuid]": "GET PUT DELETE",
    "/2/openapi.json": "GET",
}


def test_table_has_every_path_of_the_interface():
    table = dict((r.path, sorted(r.methods)) for r in resources.TABLE)
    expected = dict((path, sorted(methods.split()))
                    for path, methods in EXPECTED.items())
    assert table == expected


def test_access_per_method():
    write, both = [auth.ACCESS_WRITE], sorted(auth.ACCESS_ALL)
    special = {
        ("/2/jobs/[job_id]/wait", "GET"): write,
        ("/2/nodes/[node]/storage", "GET"): write,
        ("/2/instances/[instance]/console", "GET"): both,
        ("/2/query/[resource]", "GET"): both,
        ("/2/query/[resource]", "PUT"): both,
    }
    for resource in resources.TABLE:
        for method, spec in resource.methods.items():
            default = [] if method == "GET" else write
            assert sorted(spec.access) == special.get(
                (resource.path, method), default), (resource.path, method)


@pytest.mark.parametrize("path,expected", [
    ("/2/instances/inst1.example.com/reboot",
     ("/2/instances/[instance]/reboot", {"instance": "inst1.example.com"})),
    ("/2/instances/web_1-a/disk/3/grow",
     ("/2/instances/[instance]/disk/[disk]/grow",
      {"instance": "web_1-a", "disk": 3})),
    ("/2/jobs/42/wait", ("/2/jobs/[job_id]/wait", {"job_id": 42})),
    ("/2/query/node/fields", ("/2/query/[resource]/fields",
                              {"resource": "node"})),
    ("/2/query/bogus", None),
    ("/2/jobs/x", None),
    ("/2/instances/a b", None),
    ("/3/info", None),
])
def test_path_matching(path, expected):
    found = None
    for resource in resources.TABLE:
        items = resource.match(path)
        if items is not None:
            found = (resource.path, items)
            break
    assert found == expected


def test_reason_source_names():
    names = dict((r.path, next(iter(r.methods.values())).reason_name)
                 for r in resources.TABLE)
    assert names["/2/tags"] == "tags"
    assert names["/2/instances/[instance]/reboot"] == "instances_name_reboot"
    assert names["/2/nodes/[node]/storage/modify"] == \
        "nodes_name_storage_modify"


def test_openapi_document_covers_the_table():
    doc = openapi.document()
    json.dumps(doc)  # serialisable
    assert doc["openapi"].startswith("3.")
    assert len(doc["paths"]) == len(resources.TABLE)
    reboot = doc["paths"]["/2/instances/{instance}/reboot"]
    assert reboot["parameters"][0]["name"] == "instance"
    post = reboot["post"]
    assert post["x-ganeti-opcodes"] == ["OP_INSTANCE_REBOOT"]
    assert post["security"] == [{"basicAuth": []}]
    query_names = [p["name"] for p in post["parameters"]]
    assert query_names == ["type", "ignore_secondaries", "reason", "dry-run"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    # path and query parameters are not body parameters
    assert "instance_name" not in body["properties"]
    assert "reboot_type" not in body["properties"]
    assert body["properties"]["shutdown_timeout"]["type"] == "integer"
    create = doc["paths"]["/2/instances"]["post"]["requestBody"]
    schema = create["content"]["application/json"]["schema"]
    assert "name" in schema["properties"] and "os" in schema["properties"]
    assert "__version__" in schema["required"]
    ids = [op["operationId"] for entry in doc["paths"].values()
           for key, op in entry.items() if isinstance(op, dict) and
           "operationId" in op]
    assert len(ids) == len(set(ids))
    assert doc["paths"]["/2/info"]["get"]["security"] == \
        [{}, {"basicAuth": []}]


# --- end to end: HTTPS -> dispatcher -> LUXI -> job queue --------------------

class Recorder:
    """The job queue's processor: records opcodes, succeeds."""

    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()

    def __call__(self, op, callbacks):
        callbacks.notify_start()
        callbacks.feedback("running %s" % op.OP_ID)
        with self.lock:
            self.ops.append(op.to_dict())
        return None


_CERT = []


def _certificate():
    """One rapi.pem for the whole module (RSA key generation is slow)."""
    if not _CERT:
        import tempfile
        path = os.path.join(tempfile.mkdtemp(prefix="test-rapi-"),
                            "rapi.pem")
        crypto.write_cert_and_key(path)
        _CERT.append(path)
    return _CERT[0]


class Rapi:
    """A real RAPI stack in a temporary directory."""

    def __init__(self, tmp_path, require_auth=False, max_body=65536):
        self.recorder = Recorder()
        self.queue = JobQueue(QueueStore(str(tmp_path / "queue")),
                              self.recorder, workers=2)
        self.queue.open()
        self.queue.start()
        services = masterd.MasterServices(None, self.queue, None)
        self.luxi_address = str(tmp_path / "luxi.sock")
        self.luxi_server = masterd.LuxiServer(self.luxi_address,
                                              masterd._methods(services))
        self.stop = threading.Event()
        threading.Thread(target=self.luxi_server.serve, args=(self.stop,),
                         daemon=True).start()
        users_path = tmp_path / "users"
        users_path.write_text(
            "admin {HA1}%s write\nviewer viewpw read\n" %
            auth.ha1_hash("admin", "adminpw"))
        self.users = auth.UsersFile(str(users_path))
        self.pool = handlers.ClientPool(
            lambda: luxi.Client(self.luxi_address))
        dispatcher = handlers.Dispatcher(self.users, self.pool,
                                         require_auth=require_auth)
        pem = _certificate()
        self.server = http_server.HttpServer(
            "127.0.0.1", 0, dispatcher,
            ssl_params=ghttp.SslParams(pem, pem), max_body=max_body,
            server_version="Ganeti %s" % constants.RELEASE_VERSION,
            error_fn=handlers.transport_error, length_required=False)
        self.server.serve_in_thread()
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def close(self):
        self.server.shutdown()
        self.pool.close()
        self.stop.set()
        self.queue.stop()

    def request(self, method, path, body=None, user=None,
                content_type="application/json", raw=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                           context=self.ctx, timeout=30)
        hdrs = dict(headers or {})
        if user:
            hdrs["Authorization"] = _basic(*user)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        decoded = json.loads(out) if out else None
        return resp.status, resp, decoded

    def write(self, method, path, body=None, **kwargs):
        return self.request(method, path, body,
                            user=("admin", "adminpw"), **kwargs)

    def job_ops(self, job_id):
        """The opcodes of a finished job, as the processor received them."""
        client = luxi.Client(self.luxi_address)
        try:
            assert client.wait_for_job_change(
                job_id, ["status"], None, None) is not None
            while True:
                status = client.query_jobs([job_id], ["status"])[0][0]
                if status in constants.JOBS_FINALIZED:
                    break
                time.sleep(0.01)
            return client.query_jobs([job_id], ["ops"])[0][0]
        finally:
            client.close()


@pytest.fixture(scope="module")
def rapi(tmp_path_factory):
    """One stack for the module's tests (a server takes 0.2 s to stop)."""
    stack = Rapi(tmp_path_factory.mktemp("rapi"))
    yield stack
    stack.close()


@pytest.fixture
def with_lus(monkeypatch):
    """Pretend the named opcodes have logical units (the processor here
    runs any opcode, so only the 501 check needs to know)."""
    def add(*op_ids):
        for op_id in op_ids:
            monkeypatch.setitem(cmdlib.LU_TABLE, op_id, "misc:Nothing")
    return add


def _error(status, message, explain):
    return {"code": status, "message": message, "explain": explain}


def test_static_answers_and_headers(rapi):
    status, resp, data = rapi.request("GET", "/version")
    assert (status, data) == (200, 2)
    assert resp.getheader("Content-Type") == "application/json"
    assert resp.getheader("Server") == "Ganeti %s" % \
        constants.RELEASE_VERSION
    assert rapi.request("GET", "/")[2] is None
    assert rapi.request("GET", "/2/features")[2] == [
        "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1",
        "instance-create-reqv1"]
    status, resp, data = rapi.request("HEAD", "/version")
    assert status == 200 and data is None


def test_unknown_path_404(rapi):
    status, _, data = rapi.request("GET", "/2/nosuch")
    assert status == 404
    assert data == _error(404, "Not Found", "Nothing matches the given URI")
    assert rapi.request("GET", "/2/jobs/abc")[0] == 404


def test_wrong_method_405_with_allow(rapi):
    status, resp, data = rapi.request("DELETE", "/2/info")
    assert status == 405
    assert resp.getheader("Allow") == "GET, HEAD"
    assert data["code"] == 405 and "DELETE" in data["explain"]
    status, resp, _ = rapi.request("POST", "/2/tags")
    assert resp.getheader("Allow") == "DELETE, GET, PUT, HEAD"
    # GETs that submit a job have no HEAD
    status, resp, _ = rapi.request("HEAD", "/2/instances/x/info")
    assert (status, resp.getheader("Allow")) == (405, "GET")


def test_anonymous_write_401_and_wrong_password(rapi):
    before = len(rapi.recorder.ops)
    for user in (None, ("admin", "wrong"), ("ghost", "adminpw")):
        status, resp, data = rapi.request("PUT", "/2/tags?tag=x", user=user)
        assert status == 401
        assert resp.getheader("WWW-Authenticate") == \
            'Basic realm="Ganeti Remote API"'
        assert data == _error(401, "Unauthorized",
                              "No permission -- see authorization schemes")
    assert len(rapi.recorder.ops) == before


def test_read_only_user_write_403(rapi):
    status, _, data = rapi.request("PUT", "/2/tags?tag=x",
                                   user=("viewer", "viewpw"))
    assert status == 403
    assert data == _error(403, "Forbidden",
                          "Request forbidden -- authorization will not help")


def test_require_authentication(tmp_path):
    stack = Rapi(tmp_path, require_auth=True)
    try:
        status, resp, _ = stack.request("GET", "/version")
        assert status == 401
        assert stack.request("GET", "/version",
                             user=("viewer", "viewpw"))[2] == 2
    finally:
        stack.close()


def test_tags_put_submits_job_with_query_tags(rapi):
    status, _, job_id = rapi.write("PUT", "/2/tags?tag=a&tag=b&dry-run=1",
                                   raw=b"")
    assert status == 200 and isinstance(job_id, int)
    (op,) = rapi.job_ops(job_id)
    assert op["OP_ID"] == "OP_TAGS_SET"
    assert (op["kind"], op["tags"], op["dry_run"]) == ("cluster", ["a", "b"],
                                                       True)
    assert op["reason"][0][:2] == ["gnt:library:rlib2:tags", ""]
    status, _, data = rapi.write("PUT", "/2/tags")
    assert status == 400
    assert "'tag' parameter" in data["explain"]


def test_put_without_content_length_is_an_empty_body(rapi):
    """``curl -X PUT URL`` sends neither a body nor Content-Length."""
    data = _raw_exchange(rapi, b"PUT /2/tags?tag=c HTTP/1.1\r\nHost: x"
                         b"\r\nAuthorization: " +
                         _basic("admin", "adminpw").encode() +
                         b"\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200")
    job_id = int(data.split(b"\r\n\r\n", 1)[1])
    assert rapi.job_ops(job_id)[0]["tags"] == ["c"]


def test_node_tags_and_reason_query(rapi):
    status, _, job_id = rapi.write("DELETE", "/2/nodes/node1/tags?tag=t1"
                                   "&reason=maintenance")
    assert status == 200
    (op,) = rapi.job_ops(job_id)
    assert (op["OP_ID"], op["kind"], op["name"], op["tags"]) == \
        ("OP_TAGS_DEL", "node", "node1", ["t1"])
    assert op["reason"][0][:2] == ["gnt:user", "maintenance"]
    assert op["reason"][1][0] == "gnt:library:rlib2:nodes_name_tags"


@pytest.mark.parametrize("path,body,explain", [
    ("/2/modify", {"nosuch": 1}, "Invalid body parameters: Parameter(s)"
     " nosuch not valid for opcode OP_CLUSTER_SET_PARAMS"),
    ("/2/modify", {"candidate_pool_size": "ten"},
     "Invalid body parameters: Parameter"
     " 'OP_CLUSTER_SET_PARAMS.candidate_pool_size' fails validation"),
    ("/2/modify", {"compression_tools": ["gzip"]}, "Parameter"
     " 'compression_tools' can't be changed through the remote API"),
    ("/2/modify", [1, 2], "Body contents must be a JSON object"),
    ("/2/tags?tag=a&bulk=1", None, "Unknown query parameter(s) bulk"),
    ("/2/tags?tag=a&dry-run=true", None, "Parameter 'dry-run' is not an"
     " integer"),
    ("/2/tags?tag=a&dry-run=1&dry-run=0", None, "Parameter 'dry-run' is"
     " specified multiple times"),
])
def test_bad_input_400(rapi, path, body, explain):
    before = len(rapi.recorder.ops)
    status, _, data = rapi.write("PUT", path, body)
    assert status == 400, data
    assert data["message"] == "Bad Request"
    assert data["explain"].startswith(explain)
    assert len(rapi.recorder.ops) == before


def test_malformed_json_400_and_media_type_415(rapi):
    status, _, data = rapi.write("PUT", "/2/modify", raw=b'{"a": ')
    assert status == 400
    assert data["explain"].startswith("Request body is not valid JSON")
    status, _, data = rapi.write("PUT", "/2/modify", raw=b"a=b",
                                 content_type="application/"
                                 "x-www-form-urlencoded")
    assert status == 415
    assert data["message"] == "Unsupported Media Type"
    assert rapi.write("PUT", "/2/modify", raw=b'{"max_running_jobs": 3}',
                      content_type="application/json; charset=utf-8"
                      )[0] == 200


def _complete(reply):
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _raw_exchange(stack, data):
    """Send raw bytes over TLS; the server's answer (one response)."""
    sock = socket.create_connection(("127.0.0.1", stack.server.port),
                                    timeout=10)
    conn = stack.ctx.wrap_socket(sock)
    conn.sendall(data)
    reply = b""
    try:
        while not _complete(reply):
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    conn.close()
    return reply


def test_huge_body_413_and_chunked_411(tmp_path):
    stack = Rapi(tmp_path, max_body=1000)
    try:
        reply = _raw_exchange(stack, b"PUT /2/modify HTTP/1.1\r\nHost: x"
                              b"\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 100000000\r\n\r\n{")
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        assert b"Content-Type: application/json" in head
        assert json.loads(body)["code"] == 413
        reply = _raw_exchange(stack, b"PUT /2/modify HTTP/1.1\r\nHost: x"
                              b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 411")
        # announced with "Expect: 100-continue": refused before sending
        reply = _raw_exchange(stack, b"PUT /2/modify HTTP/1.1\r\nHost: x"
                              b"\r\nExpect: 100-continue\r\n"
                              b"Content-Length: 5000\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 413")
        # a client that sends its whole (too large) body still gets the
        # answer instead of a connection reset
        conn = http.client.HTTPSConnection("127.0.0.1", stack.server.port,
                                           context=stack.ctx, timeout=10)
        conn.request("PUT", "/2/modify", body=b"{" + b" " * 200000 + b"}",
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())["code"]) == (413, 413)
        conn.close()
        # still serving
        assert stack.request("GET", "/version")[2] == 2
    finally:
        stack.close()


def test_missing_logical_unit_is_501_then_works(rapi, with_lus,
                                                monkeypatch):
    monkeypatch.delitem(cmdlib.LU_TABLE, "OP_INSTANCE_REBOOT",
                        raising=False)
    path = "/2/instances/web1/reboot?type=soft&ignore_secondaries=1"
    status, _, data = rapi.write("POST", path, {"shutdown_timeout": 30})
    assert status == 501
    assert data["explain"] == ("POST /2/instances/[instance]/reboot needs"
                               " opcode OP_INSTANCE_REBOOT, which this"
                               " cluster does not implement yet")
    with_lus("OP_INSTANCE_REBOOT")
    status, _, job_id = rapi.write("POST", path, {"shutdown_timeout": 30})
    assert status == 200
    (op,) = rapi.job_ops(job_id)
    assert (op["OP_ID"], op["instance_name"], op["reboot_type"],
            op["ignore_secondaries"], op["shutdown_timeout"]) == \
        ("OP_INSTANCE_REBOOT", "web1", "soft", True, 30)


def test_reboot_defaults_and_static_override(rapi, with_lus):
    with_lus("OP_INSTANCE_REBOOT")
    (op,) = rapi.job_ops(rapi.write("POST", "/2/instances/web1/reboot")[2])
    assert (op["reboot_type"], op["ignore_secondaries"]) == ("hard", False)
    status, _, data = rapi.write("POST", "/2/instances/web1/reboot",
                                 {"instance_name": "other"})
    assert status == 400
    assert data["explain"] == "Can't overwrite static parameters" \
        " instance_name"


def test_instance_create_version_and_aliases(rapi, with_lus):
    with_lus("OP_INSTANCE_CREATE")
    body = {"mode": "create", "name": "web1", "os": "debootstrap",
            "disk_template": "diskless", "disks": [], "nics": [{}],
            "pnode": "node1", "beparams": {"memory": 256}}
    status, _, data = rapi.write("POST", "/2/instances", body)
    assert status == 400
    assert data["explain"] == "Instance creation request version 0 is no" \
        " longer supported"
    status, _, data = rapi.write("POST", "/2/instances",
                                 dict(body, __version__=2))
    assert data["explain"] == "Unsupported request data version 2"
    status, _, data = rapi.write("POST", "/2/instances",
                                 dict(body, __version__=1,
                                      instance_name="x"))
    assert status == 400 and "renamed" in data["explain"]
    status, _, job_id = rapi.write("POST", "/2/instances?dry-run=1",
                                   dict(body, __version__=1))
    assert status == 200
    (op,) = rapi.job_ops(job_id)
    assert (op["instance_name"], op["os_type"], op["mode"], op["dry_run"],
            op["pnode"]) == ("web1", "debootstrap", "create", True, "node1")
    assert "name" not in op and "__version__" not in op


def test_null_body_values_take_the_defaults(rapi, with_lus):
    with_lus("OP_GROUP_ADD")
    status, _, job_id = rapi.write("POST", "/2/groups",
                                   {"name": "g2", "alloc_policy": None})
    assert status == 200
    (op,) = rapi.job_ops(job_id)
    assert (op["OP_ID"], op["group_name"]) == ("OP_GROUP_ADD", "g2")


def test_reinstall_is_one_job_of_several_opcodes(rapi, with_lus):
    with_lus("OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL",
             "OP_INSTANCE_STARTUP")
    job_id = rapi.write("POST", "/2/instances/web1/reinstall",
                        {"os": "noop", "osparams": {"a": "b"}})[2]
    ops = rapi.job_ops(job_id)
    assert [op["OP_ID"] for op in ops] == [
        "OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_STARTUP"]
    assert (ops[1]["os_type"], ops[1]["osparams"]) == ("noop", {"a": "b"})
    job_id = rapi.write("POST", "/2/instances/web1/reinstall?os=noop"
                        "&nostartup=1")[2]
    assert [op["OP_ID"] for op in rapi.job_ops(job_id)] == [
        "OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL"]
    status, _, data = rapi.write("POST", "/2/instances/web1/reinstall?os=x",
                                 {"os": "noop"})
    assert status == 400


def test_replace_disks_index_parsing(rapi, with_lus):
    with_lus("OP_INSTANCE_REPLACE_DISKS")
    job_id = rapi.write("POST", "/2/instances/web1/replace-disks?mode="
                        "replace_auto&disks=0,2&early_release=1")[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["mode"], op["disks"], op["early_release"]) == \
        ("replace_auto", [0, 2], True)
    job_id = rapi.write("POST", "/2/instances/web1/replace-disks",
                        {"mode": "replace_on_secondary", "disks": [1]})[2]
    assert rapi.job_ops(job_id)[0]["disks"] == [1]
    status, _, data = rapi.write("POST", "/2/instances/web1/replace-disks"
                                 "?mode=replace_auto&disks=a")
    assert status == 400
    assert data["explain"].startswith("Invalid disk index passed")


def test_grow_disk_index_from_path(rapi, with_lus):
    with_lus("OP_INSTANCE_GROW_DISK")
    job_id = rapi.write("POST", "/2/instances/web1/disk/1/grow",
                        {"amount": 1024, "wait_for_sync": False})[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["disk"], op["amount"], op["wait_for_sync"]) == \
        (1, 1024, False)


def test_node_role_put(rapi):
    job_id = rapi.write("PUT", "/2/nodes/node2/role?force=1",
                        "master-candidate")[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["OP_ID"], op["node_name"], op["master_candidate"],
            op["offline"], op["force"], op["auto_promote"]) == \
        ("OP_NODE_SET_PARAMS", "node2", True, None, True, False)
    job_id = rapi.write("PUT", "/2/nodes/node2/role?auto-promote=1",
                        "regular")[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["master_candidate"], op["offline"], op["drained"],
            op["auto_promote"]) == (False, False, False, True)
    status, _, data = rapi.write("PUT", "/2/nodes/node2/role", "master")
    assert (status, data["explain"]) == (400, "Can't set 'master' role")
    status, _, data = rapi.write("PUT", "/2/nodes/node2/role", {"a": 1})
    assert (status, data["explain"]) == (
        400, "Invalid body contents, not a string")


def test_storage_arguments(rapi, with_lus):
    with_lus("OP_NODE_MODIFY_STORAGE", "OP_NODE_QUERY_STORAGE")
    status, _, data = rapi.write("PUT", "/2/nodes/node1/storage/modify"
                                 "?storage_type=lvm-pv")
    assert (status, data["explain"]) == (
        400, "Missing the required 'name' parameter")
    job_id = rapi.write("PUT", "/2/nodes/node1/storage/modify?storage_type="
                        "lvm-pv&name=/dev/sda&allocatable=0")[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["node_name"], op["storage_type"], op["name"],
            op["changes"]) == ("node1", "lvm-pv", "/dev/sda",
                               {"allocatable": False})
    # reading storage needs write access and submits a job
    assert rapi.request("GET", "/2/nodes/node1/storage?storage_type=lvm-vg"
                        "&output_fields=name,size")[0] == 401
    job_id = rapi.write("GET", "/2/nodes/node1/storage?storage_type=lvm-vg"
                        "&output_fields=name,size")[2]
    (op,) = rapi.job_ops(job_id)
    assert (op["nodes"], op["output_fields"]) == (["node1"],
                                                  ["name", "size"])


def test_jobs_wait_and_cancel(rapi):
    job_id = rapi.write("PUT", "/2/tags?tag=w")[2]
    rapi.job_ops(job_id)
    assert rapi.request("GET", "/2/jobs/%d/wait" % job_id,
                        {"fields": ["status"]})[0] == 401
    status, _, data = rapi.write("GET", "/2/jobs/%d/wait" % job_id,
                                 {"fields": ["status"],
                                  "previous_job_info": None,
                                  "previous_log_serial": None})
    assert status == 200
    assert data["job_info"] == ["success"]
    assert data["log_entries"][0][2:] == ["message",
                                          "running OP_TAGS_SET"]
    status, _, data = rapi.write("GET", "/2/jobs/%d/wait" % job_id,
                                 {"fields": "status"})
    assert (status, data["explain"]) == (
        400, "The 'fields' parameter should be a list")
    assert rapi.write("GET", "/2/jobs/999/wait",
                      {"fields": ["status"]})[0] == 404
    status, _, data = rapi.request("GET", "/2/jobs/%d" % job_id)
    assert list(data) == resources.JOB_FIELDS
    assert data["status"] == "success"
    assert rapi.request("GET", "/2/jobs/999")[0] == 404
    assert rapi.request("GET", "/2/jobs")[2][-1] == {
        "id": job_id, "uri": "/2/jobs/%d" % job_id}
    status, _, data = rapi.write("DELETE", "/2/jobs/%d" % job_id)
    assert status == 200
    assert data == [False, "Job %d is no longer waiting in the queue" %
                    job_id]


def test_unimplemented_query_resources_are_501(rapi):
    status, _, data = rapi.request("GET", "/2/networks")
    assert status == 501
    assert "network" in data["explain"]
    assert rapi.write("POST", "/2/filters", {})[0] == 501


def test_master_daemon_down_is_502(tmp_path):
    stack = Rapi(tmp_path)
    try:
        stack.stop.set()
        stack.pool.close()
        deadline = time.time() + 5
        while os.path.exists(stack.luxi_address) and time.time() < deadline:
            time.sleep(0.05)
        status, _, data = stack.request("GET", "/2/jobs")
        assert status == 502
        assert data["explain"].startswith("Can't connect to the master"
                                          " daemon")
    finally:
        stack.close()


def _raw_get(stack, path, user=None):
    conn = http.client.HTTPSConnection("127.0.0.1", stack.server.port,
                                       context=stack.ctx, timeout=30)
    headers = {"Authorization": _basic(*user)} if user else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return "HTTP/1.1 %d %s" % (resp.status, resp.reason), body, resp


@pytest.mark.parametrize("sample,path", [
    ("rapi-version", "/version"),
    ("rapi-2-features", "/2/features"),
    ("rapi-2-instance-404", "/2/no/such/thing"),
])
def test_bodies_and_headers_match_ganeti(rapi, sample, path):
    status, body, headers = _sample(sample)
    got_status, got_body, resp = _raw_get(rapi, path)
    assert (got_status, got_body) == (status, body)
    assert resp.getheader("Content-Type") == headers["Content-Type"]
    assert resp.getheader("Content-Length") == headers["Content-Length"]
    assert resp.getheader("Server").split()[0] == \
        headers["Server"].split()[0]


def test_unauthorized_matches_ganeti(tmp_path):
    stack = Rapi(tmp_path, require_auth=True)
    try:
        for sample, path, user in [
                ("rapi-2-info-noauth", "/2/info", None),
                ("rapi-badpw-put", "/2/tags?tag=x", ("admin", "wrongpw"))]:
            status, body, headers = _sample(sample)
            got_status, got_body, resp = _raw_get(stack, path, user)
            assert (got_status, got_body) == (status, body)
            assert resp.getheader("WWW-Authenticate") == \
                headers["WWW-Authenticate"]
    finally:
        stack.close()


def test_job_answers_have_ganeti_shapes(rapi):
    status, body, _ = _sample("rapi-2-tags-put")
    job_id = rapi.write("PUT", "/2/tags?tag=rgtag")[2]
    assert isinstance(job_id, int) and body.strip().isdigit()
    _, sample_job, _ = _sample("rapi-2-job-put")
    job = _raw_get(rapi, "/2/jobs/%d" % job_id)[1]
    job, sample_job = json.loads(job), json.loads(sample_job)
    assert list(job) == list(sample_job)
    assert job["ops"][0]["reason"][0][:2] == \
        sample_job["ops"][0]["reason"][0][:2]
    _, sample_jobs, _ = _sample("rapi-2-jobs")
    listed = json.loads(_raw_get(rapi, "/2/jobs")[1])
    assert set(listed[0]) == set(json.loads(sample_jobs)[0])
