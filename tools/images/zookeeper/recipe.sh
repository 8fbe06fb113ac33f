# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# zookeeper (Debian's ZooKeeper jars, its zkServer.sh/zkCli.sh, a headless OpenJDK) as
# docker.io/library/zookeeper:<version>: the zookeeper user is 1000:1000 as in the official image,
# /conf, /data, /datalog and /logs as there, the scripts on PATH. Debian's `zookeeper` package
# depends on the full (X11) default-jre, so only its scripts are taken from it; zkEnv.sh,
# log4j.properties and docker-entrypoint.sh are this project's (rootfs/). The Prometheus metrics
# provider, which the official image ships in its lib/ and Debian does not package, comes from
# Maven Central (mvn, kept in the cache), each jar checked against its sha256 below.
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
  metrics_provider "$root"
}

# provider_jars: the Prometheus metrics provider of the image's ZooKeeper version and the
# Prometheus client jars it needs (its Maven dependencies), each with its sha256
provider_jars() {
  case "$VERSION" in
    3.9.3) echo "org.apache.zookeeper:zookeeper-prometheus-metrics:3.9.3 7e03c5727cff7479c0a7ec9b176eb67cf630ed98bfeec8d7e754996326d0e4a4" ;;
    3.8.0) echo "org.apache.zookeeper:zookeeper-prometheus-metrics:3.8.0 f86020b4e6d76c91d447535504611c2755cdf4352e4a422342183b9e877544f2" ;;
    *) die "zookeeper: no pinned Prometheus metrics provider for ZooKeeper $VERSION: add its jar and sha256 to images/zookeeper/recipe.sh" ;;
  esac
  cat <<'JARS'
io.prometheus:simpleclient:0.9.0 72d6dc49c023a4b3345d8a8a82d947ea24d07b1ad60cf57fee85a6f77b149a19
io.prometheus:simpleclient_common:0.9.0 97d404dca184d2a07817ccae2ef1df9fb34b84526c44cf2367ef0ba8031759c0
io.prometheus:simpleclient_hotspot:0.9.0 927fc7069f9a8ebd1a8420c3bb1675a957bd359b95e50664aa96e387d4b0a256
io.prometheus:simpleclient_servlet:0.9.0 12cf7668b6f4941dbc8dac6dc270db0e579b216be0aee74a6ad98d7d6e8aa228
JARS
}

# metrics_provider ROOT: the provider's jars in /usr/share/zookeeper/lib (zkEnv.sh puts them on
# the classpath), fetched once into the cache
metrics_provider() {
  local root="$1" jars="$CACHE/images/maven-jars" staged gav sum file
  command -v mvn >/dev/null || die "zookeeper: mvn is missing: it fetches the Prometheus metrics provider from Maven Central (apt-get install maven)"
  mkdir -p "$jars"
  staged="$(mktemp -d)"
  while read -r gav sum; do
    file="$(cut -d: -f2 <<<"$gav")-$(cut -d: -f3 <<<"$gav").jar"
    if [ ! -f "$jars/$file" ]; then
      mvn -q -B -Dmaven.repo.local="$CACHE/images/m2" dependency:copy -Dartifact="$gav" -DoutputDirectory="$jars" >&2 ||
        die "zookeeper: mvn could not fetch $gav"
    fi
    sha256sum --check --quiet - <<<"$sum  $jars/$file" || die "zookeeper: $jars/$file is not the pinned $gav (sha256 $sum)"
    install -m 0644 "$jars/$file" "$staged/"
  done < <(provider_jars)
  # readable by the server's user (mktemp made the directory 0700)
  chmod 0755 "$staged"
  copy_into "$root" "$staged" /usr/share/zookeeper/lib
  rm -rf "$staged"
}
