#!/bin/sh
# mkconf.sh SPOOL STATE < docs/beiand.conf.example: the configuration that
# `make install` and the Debian package put in /etc/beiand/beiand.conf.
# The example's paths become SPOOL and STATE, and its example bureau and
# provider are commented out: an installed beiand serves no province and
# no provider until the administrator adds them (their folders and SFTP
# accounts do not exist yet), and `beiand -n` passes as installed.
set -eu
spool=${1:?usage: mkconf.sh SPOOL STATE}
state=${2:?usage: mkconf.sh SPOOL STATE}
awk -v spool="$spool" -v state="$state" '
/^spool_dir[ \t]*=/ { sub(/= spool  */, "= " spool " ") }
/^state_dir[ \t]*=/ { sub(/= var  */, "= " state " ") }
/^; One \[bureau\.NN\] section/ {
	print "; Nothing is served yet.  Add one [bureau.NN] section per province"
	print "; served, NN a province code (FORMAT.md 4), e.g. the example below,"
	print "; and one [provider.CODE] section per provider: as root,"
	print ";   beianctl provider add CODE"
	print "; makes the provider'"'"'s SFTP account and spool folders and prints the"
	print "; section to paste here (and the sshd Match block).  Then"
	print ";   beiand -n && systemctl reload beiand"
	print ";"
}
/^\[(bureau|provider)\./ { ex = 1 }
/^$/ { ex = 0 }
ex { print "; " $0; next }
{ print }' 
