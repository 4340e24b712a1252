#!/bin/sh
# What `docker run … <vsftpd image> vsftpd /etc/vsftpd/vsftpd.conf -opasv_address=…` of
# vsftpd.service does, without Docker, for the real-server test. Run as root inside the
# node's network namespace with a private mount namespace
# (ip netns exec NS unshare --mount --propagation private sh THIS …):
#
#   ftp-container.sh WORK_DIR CONF_DIR WWW_DIR PASV_ADDRESS
#
# The unit's volumes appear at the very paths the rendered files name, so no rendered byte
# is changed: CONF_DIR (the share's conf dir) on /etc/vsftpd read-only, its
# vsftpd-virtual.pam on /etc/pam.d/vsftpd-virtual read-only, WWW_DIR (the share's www) on
# /srv/www. /etc and /srv get an overlay (upper layer in WORK_DIR) first, so that the mount
# points can be created in this mount namespace only; /var/log is WORK_DIR/log (vsftpd's
# transfer log). Then vsftpd runs in the foreground with the unit's arguments.
set -eu
work=$1 conf=$2 www=$3 pasv=$4
mkdir -p "$work/etc-upper" "$work/etc-work" "$work/srv-upper" "$work/srv-work" "$work/log"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$work/etc-upper,workdir=$work/etc-work" /etc
mount -t overlay overlay -o "lowerdir=/srv,upperdir=$work/srv-upper,workdir=$work/srv-work" /srv
mkdir -p /etc/vsftpd /srv/www
: >/etc/pam.d/vsftpd-virtual
ro_bind() { mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"; }
ro_bind "$conf" /etc/vsftpd
ro_bind "$conf/vsftpd-virtual.pam" /etc/pam.d/vsftpd-virtual
mount --bind "$www" /srv/www
mount --bind "$work/log" /var/log
# secure_chroot_dir (the package's tmpfiles.d creates it at boot; the image has it).
if [ ! -d /var/run/vsftpd/empty ]; then
    mkdir -p "$work/run-upper" "$work/run-work"
    mount -t overlay overlay -o "lowerdir=/run,upperdir=$work/run-upper,workdir=$work/run-work" /run
    mkdir -p /run/vsftpd/empty
fi
exec vsftpd /etc/vsftpd/vsftpd.conf "-opasv_address=$pasv"
