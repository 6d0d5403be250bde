"""JSON (de)serialisation as Ganeti writes it: compact, sorted keys, ASCII."""

import json


def dump_json(data, pretty=False):
    """Serialise ``data`` to a str; ``pretty`` indents for humans."""
    if pretty:
        return json.dumps(data, sort_keys=True, indent=2) + "\n"
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def load_json(text):
    """Parse JSON text (str or bytes)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text)


dumps = dump_json
loads = load_json
