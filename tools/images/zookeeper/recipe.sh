# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# zookeeper (Debian's ZooKeeper jars, its zkServer.sh/zkCli.sh, a headless OpenJDK) as
# docker.io/library/zookeeper:<version>: the zookeeper user is 1000:1000 as in the official image,
# /conf, /data, /datalog and /logs as there, the scripts on PATH. Debian's `zookeeper` package
# depends on the full (X11) default-jre, so only its scripts are taken from it; zkEnv.sh,
# log4j.properties and docker-entrypoint.sh are this project's (rootfs/).
# the suite's Java LTS: bookworm has 17, trixie and later 21
case "$SUITE" in bookworm) JDK=17 ;; *) JDK=21 ;; esac
PACKAGES=(libzookeeper-java "openjdk-$JDK-jre-headless")
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["zkServer.sh","start-foreground"],"WorkingDir":"/usr/share/zookeeper","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/share/zookeeper/bin","JAVA_HOME=/usr/lib/jvm/java-'"$JDK"'-openjdk-amd64","ZOO_CONF_DIR=/conf","ZOO_DATA_DIR=/data","ZOO_DATA_LOG_DIR=/datalog","ZOO_LOG_DIR=/logs","ZOO_TICK_TIME=2000","ZOO_INIT_LIMIT=5","ZOO_SYNC_LIMIT=2","ZOO_AUTOPURGE_PURGEINTERVAL=0","ZOO_AUTOPURGE_SNAPRETAINCOUNT=3","ZOO_MAX_CLIENT_CNXNS=60","ZOO_STANDALONE_ENABLED=true","ZOO_ADMINSERVER_ENABLED=true","ZOOCFGDIR=/conf"],"ExposedPorts":{"2181/tcp":{},"2888/tcp":{},"3888/tcp":{},"8080/tcp":{}},"Volumes":{"/data":{},"/datalog":{},"/logs":{}}}'

essential() {
  system_user "$1" zookeeper 1000 /data
  # the JRE's maintainer script links its man pages there, which the image leaves out
  in_root "$1" mkdir -p /usr/share/man/man1
}

customize() {
  local root="$1" pin deb
  # the scripts of Debian's zookeeper package, without the package (and its X11 JRE)
  # the same source package, so the version of libzookeeper-java
  pin="$(pins zookeeper | grep '^libzookeeper-java=')" || die "images/versions.json pins no libzookeeper-java version"
  pin="zookeeper=${pin#*=}"
  deb="$DEBS/zookeeper_${pin#zookeeper=}_all.deb"
  deb="${deb//:/%3a}"
  if [ ! -f "$deb" ]; then
    (cd "$DEBS" && APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download --quiet "$pin" >&2) ||
      die "cannot download $pin"
  fi
  dpkg-deb --fsys-tarfile "$deb" | in_root "$root" tar -x -C / ./usr/share/zookeeper/bin/zkServer.sh \
    ./usr/share/zookeeper/bin/zkCli.sh ./usr/share/zookeeper/bin/zkCleanup.sh
  in_root "$root" install -d -o 1000 -g 1000 -m 0755 /data /datalog /logs /conf
}
