"""kafka-python against a kafkaserver: admin client, producer, group consumer with commits.

Usage: kafka_python_scenario.py BOOTSTRAP. Prints one "ok <step>" line per step; any failure raises (exit 1).
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

BOOTSTRAP = sys.argv[1]
TOPIC = "kpy-topic"
GROUP = "kpy-group"
N = 30


def step(name):
    print("ok", name, flush=True)


admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kpy-admin", request_timeout_ms=15000)
admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)], timeout_ms=10000)
deadline = time.time() + 15
while TOPIC not in admin.list_topics():
    assert time.time() < deadline, "created topic never listed"
    time.sleep(0.1)
desc = admin.describe_topics([TOPIC])
assert len(desc) == 1 and desc[0]["error_code"] == 0 and len(desc[0]["partitions"]) == 3, desc
cfg = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
assert cfg and cfg[0].resources[0][0] == 0, cfg
step("admin create/list/describe")

producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=5, compression_type="gzip")
futures = [producer.send(TOPIC, key=b"k%03d" % i, value=b"v%03d" % i) for i in range(N)]
producer.flush(timeout=20)
metas = [f.get(timeout=20) for f in futures]
assert all(m.topic == TOPIC and m.offset >= 0 for m in metas), metas
producer.close()
step("producer %d records" % N)

consumer = KafkaConsumer(
    TOPIC,
    bootstrap_servers=BOOTSTRAP,
    group_id=GROUP,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
)
got = {}
deadline = time.time() + 30
while len(got) < N:
    assert time.time() < deadline, "consumed %d of %d" % (len(got), N)
    for tp, records in consumer.poll(timeout_ms=500).items():
        for r in records:
            got[r.key] = r.value
assert all(got[b"k%03d" % i] == b"v%03d" % i for i in range(N)), got
assert len(consumer.assignment()) == 3, consumer.assignment()
consumer.commit()
committed = sum(consumer.committed(TopicPartition(TOPIC, p)) or 0 for p in range(3))
assert committed == N, committed
consumer.close()
step("group consumer read %d and committed" % N)

offsets = admin.list_consumer_group_offsets(GROUP)
assert sum(o.offset for tp, o in offsets.items() if tp.topic == TOPIC) == N, offsets
groups = [g[0] for g in admin.list_consumer_groups()]
assert GROUP in groups, groups
step("admin group offsets")

again = KafkaConsumer(TOPIC, bootstrap_servers=BOOTSTRAP, group_id=GROUP, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
rest = list(again)
assert rest == [], rest
assigned = again.assignment()
assert len(assigned) == 3, assigned
assert sum(again.position(tp) for tp in assigned) == N
again.close()
step("group resumes at committed offsets")

admin.create_partitions({TOPIC: NewPartitions(total_count=5)}, timeout_ms=10000)
desc = admin.describe_topics([TOPIC])
assert len(desc[0]["partitions"]) == 5 and all(p["leader"] == 0 for p in desc[0]["partitions"]), desc
producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
meta = producer.send(TOPIC, value=b"new", partition=4).get(timeout=20)
assert meta.partition == 4 and meta.offset == 0, meta
producer.close()
step("admin create partitions")

admin.delete_topics([TOPIC], timeout_ms=10000)
deadline = time.time() + 15
while TOPIC in admin.list_topics():
    assert time.time() < deadline, "deleted topic still listed"
    time.sleep(0.1)
admin.close()
step("admin delete topic")
