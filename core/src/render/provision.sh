#!/bin/sh
# dsvmpool-provision: create the team's users with their fixed uid/gid, mount the shared
# workspace persistently (fstab, nofail, automount: never blocks boot) and give every user
# <mount>/notebooks/<user>, linked as ~/notebooks/remote.
# Idempotent: it runs at every boot and may run any number of times.
# Settings: /etc/dsvmpool/pool.env; users: /etc/dsvmpool/users (name:uid:gid:admin);
# SSH keys: /etc/dsvmpool/authorized_keys/<user>. Logs: journalctl -u dsvmpool-provision.
set -eu
umask 022

# shellcheck source=/dev/null
. /etc/dsvmpool/pool.env

log() { printf 'dsvmpool-provision: %s\n' "$*" >&2; }

json_field() { # FIELD: print a top-level string field of the JSON document on stdin
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

imds_token() { # RESOURCE: an access token of the instance's managed identity
    curl -sS --fail --max-time 20 -H 'Metadata: true' \
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$1" |
        json_field access_token
}

bearer_get() { # TOKEN URL [curl args...]: the token goes through stdin, never a command line
    token=$1 url=$2
    shift 2
    printf 'Authorization: Bearer %s\n' "$token" |
        curl -sS --fail --max-time 30 -H @- "$@" "$url"
}

write_credentials() { # reads the key on stdin; writes the root-only SMB credentials file
    key=$(cat)
    [ -n "$key" ] || return 1
    install -d -m 0700 -o root -g root "$(dirname "$SMB_CREDENTIALS")"
    tmp=$(mktemp "$SMB_CREDENTIALS.XXXXXX")
    chmod 0600 "$tmp"
    printf 'username=%s\npassword=%s\n' "$STORAGE_ACCOUNT" "$key" >"$tmp"
    mv -f "$tmp" "$SMB_CREDENTIALS"
}

fetch_smb_key() { # managed identity: from Key Vault when configured, else from the account via ARM
    if [ -n "${KEY_VAULT_SECRET_URL:-}" ]; then
        token=$(imds_token "$KEY_VAULT_RESOURCE") || return 1
        bearer_get "$token" "$KEY_VAULT_SECRET_URL?api-version=7.4" | json_field value | write_credentials
    else
        sub=${SUBSCRIPTION_ID:-}
        if [ -z "$sub" ]; then
            sub=$(curl -sS --fail --max-time 20 -H 'Metadata: true' \
                'http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01' |
                json_field subscriptionId) || return 1
        fi
        token=$(imds_token "$ARM_ENDPOINT/") || return 1
        bearer_get "$token" "$ARM_ENDPOINT/subscriptions/$sub/resourceGroups/$STORAGE_RESOURCE_GROUP/providers/Microsoft.Storage/storageAccounts/$STORAGE_ACCOUNT/listKeys?api-version=2023-05-01" \
            -X POST -d '' | python3 -c 'import json, sys; print(json.load(sys.stdin)["keys"][0]["value"])' |
            write_credentials
    fi
}

all_users() { # the team's users and the admin (created by Azure), as name:uid:gid:admin
    cat /etc/dsvmpool/users
    if entry=$(getent passwd "$ADMIN_USER"); then
        printf '%s:%s:%s:1\n' "$ADMIN_USER" "$(echo "$entry" | cut -d: -f3)" "$(echo "$entry" | cut -d: -f4)"
    fi
}

ensure_user() { # NAME UID GID ADMIN
    name=$1 uid=$2 gid=$3 admin=$4
    getent group "$gid" >/dev/null || groupadd --gid "$gid" "$name"
    if getent passwd "$name" >/dev/null; then
        usermod --append --groups "$TEAM_GROUP" "$name"
    else
        useradd --create-home --uid "$uid" --gid "$gid" --groups "$TEAM_GROUP" --shell /bin/bash "$name"
    fi
    if [ "$admin" = 1 ]; then usermod --append --groups sudo "$name"; fi
    keys=/etc/dsvmpool/authorized_keys/$name
    if [ -f "$keys" ]; then
        home=$(getent passwd "$name" | cut -d: -f6)
        install -d -m 0700 -o "$name" -g "$gid" "$home/.ssh"
        touch "$home/.ssh/authorized_keys"
        while IFS= read -r k; do
            [ -n "$k" ] || continue
            grep -qxF -- "$k" "$home/.ssh/authorized_keys" || printf '%s\n' "$k" >>"$home/.ssh/authorized_keys"
        done <"$keys"
        chown "$name:$gid" "$home/.ssh/authorized_keys"
        chmod 0600 "$home/.ssh/authorized_keys"
    fi
}

fstab_block() { # the lines dsvmpool owns in /etc/fstab
    common="nofail,_netdev,x-systemd.automount,x-systemd.mount-timeout=30,x-systemd.idle-timeout=0"
    case "$STORAGE_KIND" in
    smb)
        smb="vers=3.1.1,credentials=$SMB_CREDENTIALS,serverino,nosharesock,actimeo=30,mfsymlinks"
        if [ "$SHARING" = team ]; then
            printf '%s %s cifs %s,uid=0,gid=%s,file_mode=0660,dir_mode=0770,%s 0 0\n' \
                "$SHARE_SOURCE" "$MOUNT_PATH" "$smb" "$TEAM_GID" "$common"
        else
            # The share root is root's; each user's folder is its own mount, owned by that user.
            printf '%s %s cifs %s,uid=0,gid=%s,file_mode=0640,dir_mode=0750,%s 0 0\n' \
                "$SHARE_SOURCE" "$MOUNT_PATH" "$smb" "$TEAM_GID" "$common"
            while IFS=: read -r name uid gid _admin; do
                [ -n "$name" ] || continue
                printf '%s/notebooks/%s %s/notebooks/%s cifs %s,uid=%s,gid=%s,file_mode=0600,dir_mode=0700,x-systemd.requires-mounts-for=%s,%s 0 0\n' \
                    "$SHARE_SOURCE" "$name" "$MOUNT_PATH" "$name" "$smb" "$uid" "$gid" "$MOUNT_PATH" "$common"
            done <<USERS
$(all_users)
USERS
        fi
        ;;
    nfs)
        printf '%s %s nfs %s,%s 0 0\n' "$SHARE_SOURCE" "$MOUNT_PATH" "$NFS_OPTIONS" "$common"
        ;;
    esac
}

install_fstab() { # replace dsvmpool's block in /etc/fstab when it changed
    tmp=$(mktemp /etc/fstab.dsvmpool.XXXXXX)
    awk '/^# BEGIN dsvmpool$/ {skip = 1} !skip {print} /^# END dsvmpool$/ {skip = 0}' /etc/fstab >"$tmp"
    {
        echo '# BEGIN dsvmpool'
        fstab_block
        echo '# END dsvmpool'
    } >>"$tmp"
    if cmp -s "$tmp" /etc/fstab; then
        rm -f "$tmp"
        return 0
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" /etc/fstab
    systemctl daemon-reload
    systemctl restart remote-fs.target || true
}

link_notebooks() { # NAME UID GID: <mount>/notebooks/NAME exists, is NAME's, linked from ~/notebooks/remote
    name=$1 uid=$2 gid=$3
    dir=$MOUNT_PATH/notebooks/$name
    [ -d "$dir" ] || mkdir "$dir"
    if [ "$STORAGE_KIND" = nfs ]; then
        if [ "$SHARING" = team ]; then
            chown "$uid:$TEAM_GID" "$dir"
            chmod 2770 "$dir"
        else
            chown "$uid:$gid" "$dir"
            chmod 0700 "$dir"
        fi
    fi
    home=$(getent passwd "$name" | cut -d: -f6)
    install -d -m 0755 -o "$uid" -g "$gid" "$home/notebooks"
    link=$home/notebooks/remote
    if [ -L "$link" ] || [ ! -e "$link" ]; then
        [ "$(readlink "$link" 2>/dev/null || true)" = "$dir" ] || ln -sfn "$dir" "$link"
        chown -h "$uid:$gid" "$link"
    else
        log "$link exists and is not a link; left as it is"
    fi
}

# 1. Users and the team group, with the same ids on every instance.
getent group "$TEAM_GROUP" >/dev/null || groupadd --gid "$TEAM_GID" "$TEAM_GROUP"
if getent passwd "$ADMIN_USER" >/dev/null; then usermod --append --groups "$TEAM_GROUP" "$ADMIN_USER"; fi
status=0
while IFS=: read -r name uid gid admin; do
    [ -n "$name" ] || continue
    ensure_user "$name" "$uid" "$gid" "$admin" </dev/null || {
        log "could not create user $name (uid $uid)"
        status=1
    }
done </etc/dsvmpool/users

# 2. The credential (SMB), then the mounts.
if [ "$STORAGE_KIND" = smb ] && [ "$CREDENTIAL" = managed_identity ]; then
    fetch_smb_key || {
        log "could not fetch the storage key yet (the role assignment may still be propagating)"
        exit 1
    }
fi
if [ "$STORAGE_KIND" = smb ] && [ ! -s "$SMB_CREDENTIALS" ]; then
    log "no SMB credentials yet ($SMB_CREDENTIALS)"
    exit 1
fi
install -d -m 0755 "$MOUNT_PATH"
install_fstab
if ! mkdir -p "$MOUNT_PATH/notebooks"; then
    log "the share is not reachable at $MOUNT_PATH yet"
    exit 1
fi
chmod 0755 "$MOUNT_PATH/notebooks" 2>/dev/null || true

# 3. Each user's notebooks.
while IFS=: read -r name uid gid _admin; do
    [ -n "$name" ] || continue
    getent passwd "$name" >/dev/null || continue
    link_notebooks "$name" "$uid" "$gid" </dev/null || {
        log "could not prepare the notebooks of $name"
        status=1
    }
done <<USERS
$(all_users)
USERS
if [ "$STORAGE_KIND" = smb ] && [ "$SHARING" != team ]; then
    # The folders now exist on the share: (re)generate the per-user mounts.
    systemctl daemon-reload
    systemctl restart remote-fs.target || true
fi
exit "$status"
