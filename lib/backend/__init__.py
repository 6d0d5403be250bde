"""Node-side implementations of the RPC procedures in ``ganeti.rpc.defs``.

One module per area, each with an ``RPC_FUNCTIONS`` table (procedure name
-> function taking the procedure's arguments in order). Functions return
the payload or raise ``RPCFail`` for expected failures; noded turns both
into its ``[success, payload]`` replies.

To add an area (hypervisors, block devices, OS...): write the module with
its ``RPC_FUNCTIONS`` and list it in ``_MODULES``.
"""

import importlib

from ganeti.backend.common import RPCFail

__all__ = ["RPCFail", "get_rpc_functions"]

_MODULES = (
    "ganeti.backend.node",
    "ganeti.backend.files",
    "ganeti.backend.master",
    "ganeti.backend.hooks",
    "ganeti.backend.storage",
    "ganeti.backend.power",
    "ganeti.backend.instance",
    "ganeti.backend.blockdev",
    "ganeti.backend.os",
    "ganeti.backend.iallocator",
)


def get_rpc_functions():
    """``{procedure: function}`` from every backend module.

    Built on request (noded calls it once at start-up), so importing the
    package stays cheap and tests can build their own tables.
    """
    table = {}
    for modname in _MODULES:
        module = importlib.import_module(modname)
        for name, func in module.RPC_FUNCTIONS.items():
            if name in table:
                raise ValueError("RPC procedure '%s' implemented twice" %
                                 name)
            table[name] = func
    return table
