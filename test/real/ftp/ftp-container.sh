#!/bin/sh
# What `docker run … -v … <vsftpd image> vsftpd /etc/vsftpd/vsftpd.conf -opasv_address=…` of
# vsftpd.service does, without Docker, for the real-server test. Run as root inside the
# node's network namespace with a private mount namespace
# (ip netns exec NS unshare --mount --propagation private sh THIS …):
#
#   ftp-container.sh WORK_DIR NODE_CONF_DIR SHARE_WWW_DIR PASV_ADDRESS VOLUME...
#
# NODE_CONF_DIR stands for the node's /etc/xen-coreos/ftp (the files NodeFiles writes) and
# SHARE_WWW_DIR for the share's /mnt/nfs/www: both are bound at those very paths, so the
# unit's volumes and the sites list are used byte for byte. Each VOLUME is one `-v` value of
# the unit's docker run (its own and those systemd expands from $XC_FTP_SITES; the test
# collects them from the rendered unit and vsftpd.env): SOURCE:DEST[:ro].
#
# Mount points as the container runtime makes them: runc (libcontainer/rootfs_linux.go,
# mountToRootfs, case "bind") refuses a bind whose source does not exist (os.Stat(m.Source)),
# and creates a missing destination with createIfNotExists: os.MkdirAll(dest, 0755) as root
# for a directory, an empty file for a file. (The docker CLI's -v would create a missing host
# source folder; here a missing site is an error instead: the homes command makes them.)
# /etc, /srv and /mnt get an overlay (upper layer in WORK_DIR) first, so that the mount points
# can be created in this mount namespace only; /var/log is WORK_DIR/log (vsftpd's transfer
# log). Then vsftpd runs in the foreground with the unit's arguments.
set -eu
work=$1 conf=$2 www=$3 pasv=$4
shift 4
umask 022
mkdir -p "$work/log"
for top in etc srv mnt; do
    mkdir -p "$work/$top-upper" "$work/$top-work"
    mount -t overlay overlay -o "lowerdir=/$top,upperdir=$work/$top-upper,workdir=$work/$top-work" "/$top"
done
mkdir -p /etc/xen-coreos/ftp /mnt/nfs/www
mount --bind "$conf" /etc/xen-coreos/ftp
mount --bind "$www" /mnt/nfs/www
for volume in "$@"; do
    src=${volume%%:*} rest=${volume#*:}
    dest=${rest%%:*} opt=${rest#"$dest"}
    [ -e "$src" ] || { echo "ftp-container.sh: volume source $src does not exist (runc: stat $src: no such file or directory)" >&2; exit 1; }
    if [ -d "$src" ]; then
        [ -e "$dest" ] || { mkdir -p "$dest" && chmod 0755 "$dest"; }
    else
        [ -e "$dest" ] || { mkdir -p "$(dirname "$dest")" && : >"$dest"; }
    fi
    mount --bind "$src" "$dest"
    if [ "$opt" = ":ro" ]; then mount -o remount,bind,ro "$dest"; fi
done
mount --bind "$work/log" /var/log
# secure_chroot_dir (the package's tmpfiles.d creates it at boot; the image has it).
if [ ! -d /var/run/vsftpd/empty ]; then
    mkdir -p "$work/run-upper" "$work/run-work"
    mount -t overlay overlay -o "lowerdir=/run,upperdir=$work/run-upper,workdir=$work/run-work" /run
    mkdir -p /run/vsftpd/empty
fi
exec vsftpd /etc/vsftpd/vsftpd.conf "-opasv_address=$pasv"
