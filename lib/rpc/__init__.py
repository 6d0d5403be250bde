"""Node RPC: the procedure table (``defs``) and the parallel ``client``.

The node side lives in ``ganeti.backend`` and ``ganeti.server.noded``.
"""
