"""Running an instance allocator (``iallocator_runner``) on the master.

An allocator is an executable named like the ``-I NAME`` the user gave,
found in the first directory of the iallocator search path that has it
(``pathutils.IALLOCATOR_SEARCH_PATH``). The master's request is written
to a temporary file whose name is the allocator's last argument, after
one ``--key=value`` (or ``--key`` for a None value) per allocator
parameter. A zero exit status means stdout is the response, which is
returned unparsed: the master validates it, so that a broken allocator
is reported with the master's texts.
"""

import os
import tempfile

from ganeti import pathutils
from ganeti.backend.common import fail
from ganeti.utils import io as io_utils
from ganeti.utils import process

# hail answers in well under a second on large clusters; this only stops
# a hung allocator from holding the master's job forever.
IALLOCATOR_TIMEOUT = 600


def find_allocator(name, search_path=None):
    """The path of allocator ``name`` or None.

    Only plain names are accepted: a name with a slash (or "." and "..")
    could point anywhere on the master.
    """
    if not isinstance(name, str) or not name or "/" in name or \
            name in (".", ".."):
        return None
    if search_path is None:
        search_path = pathutils.IALLOCATOR_SEARCH_PATH
    return io_utils.find_in_search_path(name, search_path)


def allocator_args(params):
    """``--key=value`` (``--key`` when the value is None), sorted by key so
    that runs are reproducible."""
    args = []
    for key, value in sorted((params or {}).items()):
        if value is None:
            args.append("--%s" % key)
        else:
            args.append("--%s=%s" % (key, value))
    return args


def iallocator_runner(name, idata, params):
    """Run allocator ``name`` on the request text ``idata``; its stdout."""
    path = find_allocator(name)
    if path is None:
        fail("iallocator module '%s' not found in the search path", name)
    fd, input_file = tempfile.mkstemp(prefix="ganeti-iallocator.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(idata)
        result = process.run_cmd([path] + allocator_args(params) +
                                 [input_file], timeout=IALLOCATOR_TIMEOUT)
    finally:
        os.unlink(input_file)
    if result.failed:
        fail("iallocator module '%s' failed: %s, output '%s'", name,
             result.fail_reason, result.output)
    return result.stdout


RPC_FUNCTIONS = {
    "iallocator_runner": iallocator_runner,
}
