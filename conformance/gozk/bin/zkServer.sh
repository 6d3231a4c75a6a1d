#!/usr/bin/env bash
# zkServer.sh shim: go-zookeeper/zk's integration tests start servers with
# "$ZOOKEEPER_BIN_PATH/zkServer.sh start-foreground <zoo.cfg>" and
# SERVER_JVMFLAGS; this runs zkserver the same way. Their readiness probe
# parses srvr with the 3.5/3.6 date format, which zkserver prints on request.
set -eu
: "${ZKSERVER_BIN:?ZKSERVER_BIN must name the zkserver binary}"
export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzkafka.srvrLegacyDateFormat=true"
exec "$ZKSERVER_BIN" "$@"
