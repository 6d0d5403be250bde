"""Checks of the build system: configure output and pinned requirements."""

import ast
import os
import re

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# For out-of-tree (VPATH) builds the generated files live in the build tree.
BUILDDIR = os.environ.get("GNT_BUILDDIR") or TOP

AUTOCONF_IN = os.path.join(TOP, "lib", "_autoconf.py.in")
AUTOCONF_OUT = os.path.join(BUILDDIR, "lib", "_autoconf.py")
REQUIREMENTS = os.path.join(TOP, "requirements.txt")
CONFIGURE_AC = os.path.join(TOP, "configure.ac")

PLACEHOLDER_RE = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)@")
ASSIGN_RE = re.compile(r"^([A-Z_][A-Z0-9_]*)\s*=")


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _placeholder_lines(text):
    """Map variable name -> source line for every line using a placeholder."""
    result = {}
    for line in text.splitlines():
        m = ASSIGN_RE.match(line)
        if m and PLACEHOLDER_RE.search(line):
            result[m.group(1)] = line
    return result


@pytest.fixture(scope="module")
def generated():
    if not os.path.exists(AUTOCONF_OUT):
        pytest.skip("tree not configured (%s missing)" % AUTOCONF_OUT)
    return _read(AUTOCONF_OUT)


def test_template_has_placeholders():
    names = PLACEHOLDER_RE.findall(_read(AUTOCONF_IN))
    assert len(set(names)) >= 20, names
    lines = _placeholder_lines(_read(AUTOCONF_IN))
    for var in ("PACKAGE_VERSION", "LOCALSTATEDIR", "SYSCONFDIR", "SBINDIR",
                "PKGLIBDIR", "OS_SEARCH_PATH", "ES_SEARCH_PATH",
                "FILE_STORAGE_DIR", "SHARED_FILE_STORAGE_DIR",
                "GLUSTER_STORAGE_DIR", "KVM_PATH", "SSH_CONFIG_DIR",
                "SSH_LOGIN_USER", "PYTHON"):
        assert var in lines, "%s not set from configure" % var


def test_every_placeholder_substituted(generated):
    leftover = PLACEHOLDER_RE.findall(generated)
    assert not leftover, "unsubstituted placeholders: %s" % leftover
    # No unexpanded shell/make variables either (e.g. "${prefix}/var").
    assert "${" not in generated and "$(" not in generated

    template_lines = _placeholder_lines(_read(AUTOCONF_IN))
    out_vars = {}
    for line in generated.splitlines():
        m = ASSIGN_RE.match(line)
        if m:
            out_vars[m.group(1)] = line
    for var in template_lines:
        assert var in out_vars, "%s missing from generated file" % var


def test_generated_values(generated):
    namespace = {}
    exec(compile(generated, AUTOCONF_OUT, "exec"), namespace)
    ns = namespace

    version = ns["PACKAGE_VERSION"]
    assert version == "%d.%d.%d" % (ns["VERSION_MAJOR"], ns["VERSION_MINOR"],
                                    ns["VERSION_REVISION"])
    ac = _read(CONFIGURE_AC)
    parts = [re.search(r"m4_define\(\[gnt_version_%s\],\s*\[(\d+)\]\)" % p,
                       ac) for p in ("major", "minor", "revision")]
    assert all(parts), "configure.ac lacks gnt_version_* definitions"
    assert version == ".".join(m.group(1) for m in parts)

    for var in ("LOCALSTATEDIR", "SYSCONFDIR", "SBINDIR", "BINDIR", "LIBDIR",
                "PKGLIBDIR", "SHAREDIR", "FILE_STORAGE_DIR",
                "SHARED_FILE_STORAGE_DIR", "GLUSTER_STORAGE_DIR", "KVM_PATH",
                "SSH_CONFIG_DIR", "PYTHON"):
        assert os.path.isabs(ns[var]), "%s=%r is not absolute" % (var, ns[var])
    assert ns["PKGLIBDIR"] == ns["LIBDIR"] + "/ganeti"
    for var in ("OS_SEARCH_PATH", "ES_SEARCH_PATH"):
        assert isinstance(ns[var], str)
        assert all(os.path.isabs(p) for p in ns[var].split(",")), ns[var]
    assert ns["SSH_LOGIN_USER"]


def test_version_matches_package(generated):
    ns = {}
    exec(compile(generated, AUTOCONF_OUT, "exec"), ns)
    version_py = os.path.join(TOP, "lib", "_version.py")
    if not os.path.exists(version_py):
        pytest.skip("lib/_version.py not present")
    tree = ast.parse(_read(version_py))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                getattr(node.targets[0], "id", None) == "RELEASE_VERSION"):
            assert ast.literal_eval(node.value) == ns["PACKAGE_VERSION"]
            return
    pytest.skip("no RELEASE_VERSION in lib/_version.py")


def _requirement_lines():
    lines = []
    for raw in _read(REQUIREMENTS).splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def test_requirements_pinned():
    lines = _requirement_lines()
    assert lines, "requirements.txt lists no package"
    pin_re = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?"
                        r"==[0-9][0-9A-Za-z.+!-]*$")
    unpinned = [line for line in lines if not pin_re.match(line)]
    assert not unpinned, "not pinned with ==: %s" % unpinned

    names = [re.split(r"[\[=]", line, 1)[0].lower().replace("_", "-")
             for line in lines]
    dups = sorted({n for n in names if names.count(n) > 1})
    assert not dups, "listed twice: %s" % dups
    for required in ("pyinotify", "pyopenssl", "cryptography", "pyparsing",
                     "simplejson", "paramiko", "bitarray", "pytest"):
        assert required in names, "%s missing from requirements.txt" % required
