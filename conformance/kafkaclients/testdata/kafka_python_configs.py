"""kafka-python's KafkaAdminClient alter_configs + describe_configs against a kafkaserver.

Usage: kafka_python_configs.py BOOTSTRAP. Prints one "ok <step>" line per step; any failure raises (exit 1).
"""
import sys
import time

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

BOOTSTRAP = sys.argv[1]
TOPIC = "kpy-configs"

# ConfigSource ids of DescribeConfigs v1+.
DYNAMIC_TOPIC_CONFIG = 1
DYNAMIC_BROKER_CONFIG = 2
DEFAULT_CONFIG = 5


def step(name):
    print("ok", name, flush=True)


def entries(resp):
    """Maps config name -> entry tuple of the single resource in a DescribeConfigs response."""
    assert len(resp) == 1, resp
    res = resp[0].resources
    assert len(res) == 1, res
    error_code, error_message, _rtype, _rname, configs = res[0]
    assert error_code == 0, (error_code, error_message)
    return {c[0]: c for c in configs}


def alter(resource):
    resp = admin.alter_configs([resource])
    for r in resp.resources:
        assert r[0] == 0, ("alter_configs", r)


admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kpy-configs", request_timeout_ms=15000)
admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)], timeout_ms=10000)
deadline = time.time() + 15
while TOPIC not in admin.list_topics():
    assert time.time() < deadline, "created topic never listed"
    time.sleep(0.1)

topic = ConfigResource(ConfigResourceType.TOPIC, TOPIC)
before = entries(admin.describe_configs([topic]))
assert before["retention.ms"][1] == "604800000", before["retention.ms"]
step("describe defaults")

# AlterConfigs (not incremental) replaces the whole override set.
alter(ConfigResource(ConfigResourceType.TOPIC, TOPIC,
                     configs={"retention.ms": "3600000", "cleanup.policy": "compact"}))
after = entries(admin.describe_configs([topic], include_synonyms=True))
assert after["retention.ms"][1] == "3600000", after["retention.ms"]
assert after["cleanup.policy"][1] == "compact", after["cleanup.policy"]
# v1+ entries: name, value, read_only, config_source, is_sensitive, synonyms.
assert after["retention.ms"][3] == DYNAMIC_TOPIC_CONFIG, after["retention.ms"]
assert after["segment.bytes"][3] == DEFAULT_CONFIG, after["segment.bytes"]
step("alter + describe topic")

alter(ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": "7200000"}))
again = entries(admin.describe_configs([topic], include_synonyms=True))
assert again["retention.ms"][1] == "7200000", again["retention.ms"]
assert again["cleanup.policy"][1] == "delete" and again["cleanup.policy"][3] == DEFAULT_CONFIG, again["cleanup.policy"]
step("alter replaces the override set")

# A filtered describe returns just the asked names.
only = entries(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": None})]))
assert list(only) == ["retention.ms"], list(only)
step("describe selected names")

# An unknown topic config is refused; the topic keeps its overrides.
bad = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"no.such.config": "1"})])
assert bad.resources[0][0] != 0, bad
assert entries(admin.describe_configs([topic]))["retention.ms"][1] == "7200000"
step("invalid alter refused")

# Broker resource: a dynamic per-broker config, then back to none.
broker = ConfigResource(ConfigResourceType.BROKER, "0")
alter(ConfigResource(ConfigResourceType.BROKER, "0", configs={"log.cleaner.threads": "2"}))
deadline = time.time() + 15
while True:
    b = entries(admin.describe_configs([broker], include_synonyms=True))
    if b["log.cleaner.threads"][1] == "2":
        break
    assert time.time() < deadline, b["log.cleaner.threads"]
    time.sleep(0.1)
assert b["log.cleaner.threads"][3] == DYNAMIC_BROKER_CONFIG, b["log.cleaner.threads"]
assert b["broker.id"][2] is True, b["broker.id"]  # read-only
alter(ConfigResource(ConfigResourceType.BROKER, "0", configs={}))
deadline = time.time() + 15
while entries(admin.describe_configs([broker]))["log.cleaner.threads"][1] != "1":
    assert time.time() < deadline, "broker config never reset"
    time.sleep(0.1)
step("alter + describe broker")
admin.close()
