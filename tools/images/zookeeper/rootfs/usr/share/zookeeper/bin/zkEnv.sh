# shellcheck shell=bash
# zkEnv.sh of cdk8s-stateful's zookeeper test image, sourced by zkServer.sh and zkCli.sh (Debian
# replaces upstream's with a fixed file; this one keeps upstream's variables):
#   ZOOCFGDIR (default /conf; also first on the classpath, for log4j.properties), ZOOCFG,
#   ZOO_LOG_DIR (default /logs), JAVA_HOME, ZK_SERVER_HEAP and ZK_CLIENT_HEAP (MiB, default 1000
#   and 256), SERVER_JVMFLAGS, CLIENT_JVMFLAGS, JVMFLAGS, and $ZOOCFGDIR/java.env if it exists.
ZOOCFGDIR="${ZOOCFGDIR:-/conf}"
if [ -f "$ZOOCFGDIR/java.env" ]; then
  # shellcheck source=/dev/null
  . "$ZOOCFGDIR/java.env"
fi
ZOOCFG="${ZOOCFG:-$ZOOCFGDIR/zoo.cfg}"
case "$ZOOCFG" in /*) ;; *) ZOOCFG="$ZOOCFGDIR/$ZOOCFG" ;; esac
ZOO_LOG_DIR="${ZOO_LOG_DIR:-/logs}"
ZOOMAIN="${ZOOMAIN:-org.apache.zookeeper.server.quorum.QuorumPeerMain}"
JMXLOCALONLY="${JMXLOCALONLY:-true}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Debian's zookeeper.jar logs through slf4j: its log4j 1.2 binding and log4j go beside it; the
# Prometheus metrics provider (lib/, as in the official image) needs the servlet API besides
ZK_LIB_JARS="$(for jar in /usr/share/zookeeper/lib/*.jar; do if [ -f "$jar" ]; then printf ':%s' "$jar"; fi; done)"
CLASSPATH="$ZOOCFGDIR:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/servlet-api.jar$ZK_LIB_JARS${CLASSPATH:+:$CLASSPATH}"
SERVER_JVMFLAGS="-Xmx${ZK_SERVER_HEAP:-1000}m ${SERVER_JVMFLAGS:-}"
CLIENT_JVMFLAGS="-Xmx${ZK_CLIENT_HEAP:-256}m ${CLIENT_JVMFLAGS:-}"
export ZOOCFGDIR ZOOCFG ZOO_LOG_DIR JAVA CLASSPATH SERVER_JVMFLAGS CLIENT_JVMFLAGS
