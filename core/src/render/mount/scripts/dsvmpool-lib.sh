# shellcheck shell=bash
# dsvmpool-lib.sh: shared helpers of the dsvmpool provisioning scripts (sourced, not run).
# Everything logs to the journal with the tag `dsvmpool` (see `journalctl -t dsvmpool`).

#
# The scripts run as root, some from a login (PAM) whose environment a user may influence:
# nothing in the environment chooses a path or a setting. PATH is fixed, every DSVMPOOL_
# variable is dropped and then read from the root-owned configuration file at its fixed path
# (the scripts start with `bash -p`: no BASH_ENV, no functions imported from the environment).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
unset "${!DSVMPOOL_@}"
# shellcheck disable=SC2034 # DSVMPOOL_USERS: used by the scripts that source this
readonly DSVMPOOL_CONF=/etc/dsvmpool/pool.conf DSVMPOOL_USERS=/etc/dsvmpool/users
# shellcheck source=/dev/null
. "$DSVMPOOL_CONF" || { echo "dsvmpool: cannot read $DSVMPOOL_CONF" >&2; exit 1; }

# Exit statuses shared by the scripts.
# shellcheck disable=SC2034
readonly E_OK=0 E_CONFIG=1 E_PACKAGE=2 E_CREDENTIAL=3 E_UNREACHABLE=4 E_USERS=5

log() {
  if [ -n "${JOURNAL_STREAM:-}" ]; then
    # a systemd service: standard error already goes to the journal
    printf '%s: %s\n' "${0##*/}" "$*" >&2
  else
    printf 'dsvmpool[%s]: %s\n' "${0##*/}" "$*" >&2
    logger -t dsvmpool -- "${0##*/}: $*" 2>/dev/null || true
  fi
}

# The systemd unit name of the mount point, e.g. shared-workspace.mount.
mount_unit() { systemd-escape --path --suffix=mount "$DSVMPOOL_MOUNT"; }
automount_unit() { systemd-escape --path --suffix=automount "$DSVMPOOL_MOUNT"; }

# Whether the share itself (not just the automount trap) is mounted. Reads the mount table
# only, so it never triggers the automount or blocks on an unreachable server.
share_mounted() {
  findmnt -n -t "$DSVMPOOL_FSTYPE" --mountpoint "$DSVMPOOL_MOUNT" >/dev/null 2>&1
}

uid_min() {
  local m
  m=$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null)
  printf '%s\n' "${m:-1000}"
}
