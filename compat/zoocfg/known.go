package zoocfg

import "strings"

// quorumPeerConfigKeys are the zoo.cfg keys QuorumPeerConfig.parseProperties consumes itself (3.8.0); every
// other key becomes the system property "zookeeper."+key. metricsProvider.* is handled by prefix.
var quorumPeerConfigKeys = map[string]bool{
	"dataDir": true, "dataLogDir": true, "clientPort": true, "localSessionsEnabled": true,
	"localSessionsUpgradingEnabled": true, "clientPortAddress": true, "secureClientPort": true,
	"secureClientPortAddress": true, "observerMasterPort": true, "clientPortListenBacklog": true,
	"tickTime": true, "maxClientCnxns": true, "minSessionTimeout": true, "maxSessionTimeout": true,
	"initLimit": true, "syncLimit": true, "connectToLearnerMasterLimit": true, "electionAlg": true,
	"quorumListenOnAllIPs": true, "peerType": true, "syncEnabled": true, "dynamicConfigFile": true,
	"autopurge.snapRetainCount": true, "autopurge.purgeInterval": true, "standaloneEnabled": true,
	"reconfigEnabled": true, "sslQuorum": true, "portUnification": true, "sslQuorumReloadCertFiles": true,
	"quorum.auth.enableSasl": true, "quorum.auth.serverRequireSasl": true, "quorum.auth.learnerRequireSasl": true,
	"quorum.auth.learner.saslLoginContext": true, "quorum.auth.server.saslLoginContext": true,
	"quorum.auth.kerberos.servicePrincipal": true, "quorum.cnxn.threads.size": true,
	"jvm.pause.info-threshold.ms": true, "jvm.pause.warn-threshold.ms": true, "jvm.pause.sleep.time.ms": true,
	"jvm.pause.monitor": true, "metricsProvider.className": true, "multiAddress.enabled": true,
	"multiAddress.reachabilityCheckTimeoutMs": true, "multiAddress.reachabilityCheckEnabled": true,
	"oraclePath": true,
}

// zookeeperSysProps are the "zookeeper."-prefixed system properties the 3.8.0 server and client jars read,
// listed without the prefix: a zoo.cfg line with one of these keys works in Apache, so it is not "unknown".
// Extracted from the string constants of zookeeper-3.8.0.jar.
var zookeeperSysProps = map[string]bool{
	"4lw.commands.whitelist": true, "DigestAuthenticationProvider.digestAlg": true,
	"DigestAuthenticationProvider.enabled": true, "DigestAuthenticationProvider.superDigest": true,
	"SASLAuthenticationProvider.superPassword": true, "X509AuthenticationProvider.superUser": true,
	"admin.commandURL": true, "admin.enableServer": true, "admin.forceHttps": true, "admin.httpVersion": true,
	"admin.idleTimeout": true, "admin.portUnification": true, "admin.serverAddress": true,
	"admin.serverPort": true, "allowSaslFailedClients": true, "audit.enable": true, "audit.impl.class": true,
	"authProvider.x509": true, "bitHashCacheSize": true, "client.portUnification": true, "client.secure": true,
	"clientCnxnSocket": true, "clientPortAddress": true, "clientTcpKeepAlive": true,
	"closeSessionTxn.enabled": true, "cnxTimeout": true, "commitLogCount": true,
	"commitProcessor.maxCommitBatchSize": true, "commitProcessor.maxReadBatchSize": true,
	"commitProcessor.numWorkerThreads": true, "commitProcessor.shutdownTimeout": true, "configuration": true,
	"connection_throttle_decrease_ratio": true, "connection_throttle_drop_decrease": true,
	"connection_throttle_drop_increase": true, "connection_throttle_fill_count": true,
	"connection_throttle_fill_time": true, "connection_throttle_freeze_time": true,
	"connection_throttle_global_session_weight": true, "connection_throttle_local_session_weight": true,
	"connection_throttle_renew_session_weight": true, "connection_throttle_tokens": true,
	"connection_throttle_weight_enabled": true, "controllerPort": true, "datadir.autocreate": true,
	"db.autocreate": true, "digest.enabled": true, "disableAutoWatchReset": true, "electionPortBindRetry": true,
	"emulate353TTLNodes": true, "enableEagerACLCheck": true, "enforce.auth.enabled": true,
	"enforce.auth.schemes": true, "enforceQuota": true, "ensembleAuthName": true, "extendedTypesEnabled": true,
	"fastleader.maxNotificationInterval": true, "fastleader.minNotificationInterval": true, "flushDelay": true,
	"follower.skipLearnerRequestToNextProcessor": true, "forceSnapshotSync": true, "forceSync": true,
	"forward_learner_requests_to_commit_processor_disabled": true, "fsync.warningthresholdms": true,
	"globalOutstandingLimit": true, "intBufferStartingSizeBytes": true, "jmx.log4j.disable": true,
	"jmx.log4j.mbean": true, "jute.maxbuffer.extrasize": true, "kerberos.canonicalizeHostNames": true,
	"kerberos.removeHostFromPrincipal": true, "kerberos.removeRealmFromPrincipal": true, "kinit": true,
	"largeRequestMaxBytes": true, "largeRequestThreshold": true, "leader.ackLoggingFrequency": true,
	"leader.closeSocketAsync": true, "leader.maxConcurrentDiffSyncs": true,
	"leader.maxConcurrentSnapSyncs": true, "leader.maxTimeToWaitForEpoch": true,
	"leaderConnectDelayDuringRetryMs": true, "leaderServes": true, "learner.asyncSending": true,
	"learner.closeSocketAsync": true, "letAnySaslUserDoX": true, "maxBatchSize": true, "maxCnxns": true,
	"maxGetChildrenResponseCacheSize": true, "maxInProcessingDeadWatchers": true, "maxResponseCacheSize": true,
	"maxWriteQueuePollTime": true, "messageTracker.BufferSize": true, "messageTracker.Enabled": true,
	"multiAddress.enabled": true, "multiAddress.reachabilityCheckEnabled": true,
	"multiAddress.reachabilityCheckTimeoutMs": true, "netty.advancedFlowControl.enabled": true,
	"netty.server.earlyDropSecureConnectionHandshakes": true, "netty.server.outstandingHandshake.limit": true,
	"nio.directBufferBytes": true, "nio.numSelectorThreads": true, "nio.numWorkerThreads": true,
	"nio.sessionlessCnxnTimeout": true, "nio.shutdownTimeout": true, "observer.election.DelayMs": true,
	"observer.reconnectDelayMs": true, "observer.syncEnabled": true, "observerMaster.sizeLimit": true,
	"pathStats.delay": true, "pathStats.enabled": true, "pathStats.initialDelay": true,
	"pathStats.maxDepth": true, "pathStats.sampleRate": true, "pathStats.slotCapacity": true,
	"pathStats.slotDuration": true, "pathStats.topPathMax": true, "preAllocSize": true,
	"quorumCnxnTimeoutMs": true, "request.timeout": true, "request_stale_connection_check": true,
	"request_stale_latency_check": true, "request_throttle_drop_stale": true,
	"request_throttle_max_requests": true, "request_throttle_stall_time": true,
	"request_throttler.shutdownTimeout": true, "requireKerberosConfig": true, "sasl.client": true,
	"sasl.client.canonicalize.hostname": true, "sasl.client.username": true, "sasl.clientconfig": true,
	"sasl.serverconfig": true, "security.auth_to_local": true, "server.principal": true, "server.realm": true,
	"serverCnxnFactory": true, "sessionRequireClientSASLAuth": true, "skipACL": true, "snapCount": true,
	"snapSizeLimitInKb": true, "snapshot.compression.method": true, "snapshot.trust.empty": true,
	"snapshotSizeFactor": true, "superUser": true, "tcpKeepAlive": true, "testingonly.initialZxid": true,
	"throttled_op_wait_time": true, "txnLogSizeLimitInKb": true, "version": true, "watchManagerName": true,
	"watcherCleanIntervalInSeconds": true, "watcherCleanThreadsNum": true, "watcherCleanThreshold": true,
}

// sslPropSuffixes are the per-context X509Util settings, read as zookeeper.ssl.<suffix> (client TLS) and
// zookeeper.ssl.quorum.<suffix> (quorum TLS).
var sslPropSuffixes = map[string]bool{
	"keyStore.location": true, "keyStore.password": true, "keyStore.passwordPath": true, "keyStore.type": true,
	"trustStore.location": true, "trustStore.password": true, "trustStore.passwordPath": true,
	"trustStore.type": true, "protocol": true, "enabledProtocols": true, "ciphersuites": true,
	"context.supplier.class": true, "hostnameVerification": true, "crl": true, "ocsp": true, "clientAuth": true,
	"handshakeDetectionTimeoutMillis": true, "authProvider": true,
}

// bareSysProps are system properties Apache reads without the "zookeeper." prefix. In zoo.cfg they turn into
// an unused zookeeper.<key> property, so Apache ignores them there (we honour jute.maxbuffer anyway).
var bareSysProps = map[string]bool{
	"jute.maxbuffer": true, "readonlymode.enabled": true, "znode.container.checkIntervalMs": true,
	"znode.container.maxPerMinute": true, "znode.container.maxNeverUsedIntervalMs": true,
}

// zkafkaKeys are our own options (DESIGN: added keys carry the zkafka. prefix).
var zkafkaKeys = map[string]bool{
	"zkafka.srvrLegacyDateFormat":   true,
	"zkafka.snapshot.writeRateMBps": true,
}

// knownZooKeeperSysProp reports whether Apache reads zookeeper.<key> (key given without the prefix).
func knownZooKeeperSysProp(key string) bool {
	if zookeeperSysProps[key] {
		return true
	}
	if strings.HasPrefix(key, "authProvider.") && len(key) > len("authProvider.") {
		return true
	}
	if rest, ok := strings.CutPrefix(key, "ssl.quorum."); ok && sslPropSuffixes[rest] {
		return true
	}
	if rest, ok := strings.CutPrefix(key, "ssl."); ok && sslPropSuffixes[rest] {
		return true
	}
	return false
}
