#!/bin/sh
# Generate configure and Makefile.in from configure.ac and Makefile.am.
# Usage: ./autogen.sh && ./configure --prefix=/usr --localstatedir=/var --sysconfdir=/etc
set -e
cd "$(dirname "$0")"

for tool in autoreconf aclocal automake autoconf; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "autogen.sh: '$tool' not found; install autoconf and automake" \
         "(or run tools/setup-deps as root)" >&2
    exit 1
  fi
done

echo "autogen.sh: running autoreconf -fi"
autoreconf -fi
echo "autogen.sh: done; now run ./configure"
