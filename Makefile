# zkafka developer entry points. CI runs `make test` through .ci/run.
GO           ?= go
TEST_TIMEOUT ?= 20m
FUZZTIME     ?= 60s
# make randdiff: the seeds of conformance/diff's random scenarios ("N" = 1-N, or "A-B").
RANDOM_SEEDS ?= 1-300
# make randdiff: the seeds of the random Kafka 0.9 wire steps (conformance/kafka09 TestWireAgainstKafka09).
KAFKA_SEEDS  ?= 1-200
# make randdiff: the seeds of the quorum random scenarios (conformance/ensemble TestQuorumRandomDiff, three-server
# ensembles; QUORUM_MIXED=1 adds ensembles of two Apache servers and ours, following and leading).
QUORUM_SEEDS ?= 1-60
QUORUM_MIXED ?= 1
# make sim: the seeds of the ZAB ensemble simulations (zkserver/quorum/zab TestEnsembleSimulation and its variant with
# dynamic reconfiguration, TestEnsembleSimulationReconfig; make test runs 200 and 100).
SIM_SEEDS    ?= 1-20000
# make soak: how long each server's soak runs.
SOAK_DURATION ?= 10m
# Every command under cmd/ is built into bin/.
CMDS         := $(notdir $(wildcard cmd/*))
# `make run` without cmd/zkafka: a standalone server with data under ./data.
RUN_DIR      ?= data
RUN_PORT     ?= 2181

.PHONY: all build deps fmt-check vet test run bench-zk bench-kafka fuzz randdiff sim soak clean

all: build

build:
	@mkdir -p bin
	@set -e; for c in $(CMDS); do \
		echo "go build -o bin/$$c ./cmd/$$c"; \
		$(GO) build -o bin/$$c ./cmd/$$c; \
	done

deps:
	@bash .ci/deps

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './data/*' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags soak ./cmd/zkserver ./cmd/kafkaserver

# The conformance tests (conformance/...) need bin/zkserver, hence build first.
test: deps build fmt-check vet
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

run: build
	@if [ -x bin/zkafka ] && ./bin/zkafka help dev >/dev/null 2>&1; then \
		exec ./bin/zkafka dev; \
	fi; \
	mkdir -p $(RUN_DIR); \
	if [ ! -f $(RUN_DIR)/zoo.cfg ]; then \
		printf '%s\n' \
			'# written by `make run`; edit freely' \
			'tickTime=2000' \
			'initLimit=10' \
			'syncLimit=5' \
			"dataDir=$(abspath $(RUN_DIR))" \
			'clientPort=$(RUN_PORT)' \
			'clientPortAddress=127.0.0.1' \
			'admin.enableServer=false' \
			'4lw.commands.whitelist=*' \
			'extendedTypesEnabled=true' > $(RUN_DIR)/zoo.cfg; \
		echo "wrote $(RUN_DIR)/zoo.cfg"; \
	fi; \
	exec ./bin/zkserver start-foreground $(RUN_DIR)/zoo.cfg

bench-zk: build
	@if [ -x .ci/bench-zk ]; then exec .ci/bench-zk; \
	else echo "bench-zk: .ci/bench-zk is not there yet" >&2; exit 1; fi

bench-kafka: build
	@exec .ci/bench-kafka

fuzz: build
	$(GO) test -run '^$$' -fuzz=FuzzDecodeRequest -fuzztime=$(FUZZTIME) ./jute
	$(GO) test -run '^$$' -fuzz=FuzzServerFrames -fuzztime=$(FUZZTIME) ./zkserver
	$(GO) test -run '^$$' -fuzz=FuzzLoadStores -fuzztime=$(FUZZTIME) ./compat/keystore
	$(GO) test -run '^$$' -fuzz=FuzzDecryptPKCS8 -fuzztime=$(FUZZTIME) ./compat/keystore
	$(GO) test -run '^$$' -fuzz=FuzzAppendAsLeader -fuzztime=$(FUZZTIME) ./kafkaserver/log
	$(GO) test -run '^$$' -fuzz=FuzzDownConvert -fuzztime=$(FUZZTIME) ./kafkaserver/log
	$(GO) test -run '^$$' -fuzz=FuzzRecoverSegment -fuzztime=$(FUZZTIME) ./kafkaserver/log
	ZKSERVER_BIN=$(CURDIR)/bin/zkserver $(GO) test -run '^$$' -fuzz=FuzzBrokerFrames -fuzztime=$(FUZZTIME) ./kafkaserver/broker
	$(GO) test -run '^$$' -fuzz=FuzzNotifications -fuzztime=$(FUZZTIME) ./zkserver/quorum/election
	$(GO) test -run '^$$' -fuzz=FuzzHandshake -fuzztime=$(FUZZTIME) ./zkserver/quorum/electionnet
	$(GO) test -run '^$$' -fuzz=FuzzLearnerStream -fuzztime=$(FUZZTIME) ./zkserver/quorum/zab
	$(GO) test -run '^$$' -fuzz=FuzzLeaderStream -fuzztime=$(FUZZTIME) ./zkserver/quorum/zab
	$(GO) test -run '^$$' -fuzz=FuzzSnapshotStream -fuzztime=$(FUZZTIME) ./zkserver/quorum/zab
	$(GO) test -run '^$$' -fuzz=FuzzTxnLog -fuzztime=$(FUZZTIME) ./zkserver/storage
	$(GO) test -run '^$$' -fuzz=FuzzSnapshotFile -fuzztime=$(FUZZTIME) ./zkserver/storage
	$(GO) test -run '^$$' -fuzz=FuzzDigestMD5 -fuzztime=$(FUZZTIME) ./zkserver/sasl
	$(GO) test -run '^$$' -fuzz=FuzzOffsetsRecord -fuzztime=$(FUZZTIME) ./kafkaserver/group
	$(GO) test -run '^$$' -fuzz=FuzzTxnStateRecord -fuzztime=$(FUZZTIME) ./kafkaserver/txn
	$(GO) test -run '^$$' -fuzz=FuzzZNodeJSON -fuzztime=$(FUZZTIME) ./kafkaserver/zkmeta
	$(GO) test -run '^$$' -fuzz=FuzzServerTokens -fuzztime=$(FUZZTIME) ./kafkaserver/sasl

# Many seeded random differential scenarios against Apache ZooKeeper 3.8 (about 1 s a seed), standalone, then in
# ensembles (a few seconds a seed), then random Kafka 0.9 wire steps against Kafka 0.9.0.1's broker (about 1 s a
# seed).
randdiff: build
	ZKCONF_RUN='^random-' ZKCONF_RANDOM_SEEDS=$(RANDOM_SEEDS) $(GO) test -run TestConformance -count=1 -timeout 3h ./conformance/diff
	ZKCONF_QUORUM_SEEDS=$(QUORUM_SEEDS) ZKCONF_QUORUM_MIXED=$(QUORUM_MIXED) $(GO) test -run TestQuorumRandomDiff -count=1 -timeout 3h ./conformance/ensemble
	ZKCONF_KAFKA_SEEDS=$(KAFKA_SEEDS) $(GO) test -run TestWireAgainstKafka09 -count=1 -timeout 3h ./conformance/kafka09

# Seeded crash, restart and partition schedules of whole ZooKeeper ensembles' election and ZAB cores (about 50 seeds
# a second).
sim:
	ZAB_SIM_SEEDS=$(SIM_SEEDS) $(GO) test -run TestEnsembleSimulation -count=1 -v -timeout 3h ./zkserver/quorum/zab

# One server's soak at a time: each wants both cores. Then the linearizability check of ensembles under faults, for
# SOAK_DURATION on each of its four ensembles.
soak: build
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -tags soak -run Soak -p 1 -v -timeout 2h ./cmd/zkserver ./cmd/kafkaserver
	ZKCONF_LIN_DURATION=$(SOAK_DURATION) ZKCONF_LIN_MIXED=1 $(GO) test -run TestLinearizableUnderFaults -count=1 -v \
		-timeout 4h ./conformance/ensemble

clean:
	rm -rf bin
	$(GO) clean -testcache
