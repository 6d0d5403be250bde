# Shared by the scripts of the ganeti-test-guest OS definition (sourced).
#
# Ganeti runs the scripts as root in this directory with a clean
# environment: only the OS API variables and PATH. See README.

set -e

MARKER_FILE=/ganeti-test-guest
DEFAULT_MARKER=GANETI-TEST-GUEST

die() {
  echo "$SCRIPT: $*" >&2
  exit 1
}

usage_if_asked() {
  case "$1" in
    -h|--help)
      echo "Usage: $SCRIPT"
      echo "ganeti-test-guest OS definition ($SCRIPT script); run by"
      echo "ganeti-noded with the OS API 20 environment."
      echo "$USAGE"
      exit 0 ;;
  esac
}

check_api() {
  [ "$OS_API_VERSION" = 20 ] || \
    die "unsupported OS API version '$OS_API_VERSION'"
  [ -n "$INSTANCE_NAME" ] || die "INSTANCE_NAME is not set"
}

need_disk() {
  [ "${DISK_COUNT:-0}" -ge 1 ] && [ -n "$DISK_0_PATH" ] || \
    die "At least one disk is needed"
}

# Size in bytes of a block device or a regular file.
dev_size() {
  if [ -b "$1" ]; then
    blockdev --getsize64 "$1"
  else
    stat -c %s "$1"
  fi
}

valid_marker() {
  case "$1" in
    "") return 1 ;;
    *[!A-Za-z0-9\ ._:-]*) return 1 ;;
  esac
  [ ${#1} -le 80 ]
}

# The environment as the script received it (for tests and debugging).
dump_env() {
  env | LC_ALL=C sort
}

# Replace a file inside the ext2 filesystem on $1: path $2, content file $3.
debugfs_put() {
  dir=${2%/*}
  base=${2##*/}
  cmds=$(mktemp)
  {
    echo "cd ${dir:-/}"
    echo "rm $base"
    echo "write $3 $base"
  } > "$cmds"
  debugfs -w -f "$cmds" "$1" >/dev/null 2>&1 || true
  rm -f "$cmds"
  debugfs -R "stat $2" "$1" >/dev/null 2>&1 || die "could not write $2"
}
