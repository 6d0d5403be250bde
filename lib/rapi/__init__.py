"""The Remote API (RAPI), version 2.

``resources`` declares every resource once (path, methods, opcode, access,
argument mapping, result shape); ``handlers`` is the generic machinery that
serves that table over ``ganeti.http.server``; ``auth`` holds the users
file and HTTP Basic authentication; ``openapi`` derives an OpenAPI 3
description from the same table. The daemon is ``ganeti.server.rapi``.
"""

RAPI_VERSION = 2
