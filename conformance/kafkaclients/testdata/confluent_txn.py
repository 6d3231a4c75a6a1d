"""Transactions through librdkafka (confluent-kafka-python): commit, abort, read_committed and read_uncommitted
consumers, the consume-transform-produce loop with offsets sent to the transaction, and fencing by a second
producer with the same transactional id. Usage: confluent_txn.py <bootstrap>."""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOT = sys.argv[1]
RUN = str(int(time.time() * 1000))
TOPIC, OUT, GROUP = "cftx-" + RUN, "cfout-" + RUN, "cfgroup-" + RUN


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def create(*names):
    admin = AdminClient({"bootstrap.servers": BOOT})
    for name, f in admin.create_topics([NewTopic(n, 1, 1) for n in names]).items():
        f.result(30)


def producer(txn_id):
    p = Producer({"bootstrap.servers": BOOT, "transactional.id": txn_id, "transaction.timeout.ms": 30000})
    p.init_transactions(30)
    return p


def txn(p, topic, values, commit):
    p.begin_transaction()
    for v in values:
        p.produce(topic, v.encode())
    p.flush(30)
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)


def consume(topic, isolation, n, wait=15.0, group=None):
    conf = {"bootstrap.servers": BOOT, "group.id": group or ("read-" + isolation + RUN), "auto.offset.reset": "earliest",
            "isolation.level": isolation, "enable.auto.commit": False}
    c = Consumer(conf)
    c.subscribe([topic])
    out, deadline = [], time.time() + wait
    while len(out) < n and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                continue
            raise KafkaException(m.error())
        out.append(m.value().decode())
    c.close()
    return out


create(TOPIC, OUT)
p = producer("cf-" + RUN)
txn(p, TOPIC, ["a1", "a2", "a3"], True)
txn(p, TOPIC, ["b1", "b2"], False)
txn(p, TOPIC, ["c1"], True)
got = consume(TOPIC, "read_committed", 4)
check(got == ["a1", "a2", "a3", "c1"], "read_committed sees committed records only: %s" % got)
got = consume(TOPIC, "read_uncommitted", 6)
check(got == ["a1", "a2", "a3", "b1", "b2", "c1"], "read_uncommitted sees every record: %s" % got)

# Consume-transform-produce: the consumer's position goes into the same transaction as the output.
src = Consumer({"bootstrap.servers": BOOT, "group.id": GROUP, "auto.offset.reset": "earliest",
                "isolation.level": "read_committed", "enable.auto.commit": False})
src.subscribe([TOPIC])
seen, deadline = [], time.time() + 20
while len(seen) < 4 and time.time() < deadline:
    m = src.poll(0.5)
    if m is not None and not m.error():
        seen.append(m.value().decode())
check(len(seen) == 4, "the transform's input: %s" % seen)
p.begin_transaction()
for v in seen:
    p.produce(OUT, ("x" + v).encode())
pos = src.position(src.assignment())
p.send_offsets_to_transaction(pos, src.consumer_group_metadata(), 30)
p.commit_transaction(30)
src.close()
check(consume(OUT, "read_committed", 4) == ["xa1", "xa2", "xa3", "xc1"], "the transform's committed output")
chk = Consumer({"bootstrap.servers": BOOT, "group.id": GROUP})
committed = chk.committed([TopicPartition(TOPIC, 0)], 30)
chk.close()
# librdkafka's position is past the last record consumed (c1 at 7), before the commit marker at 8.
check(committed[0].offset == pos[0].offset == 8, "offsets committed in the transaction: %s" % committed[0].offset)

# A second instance with the same transactional id fences the first.
p2 = producer("cf-" + RUN)
p.begin_transaction()
p.produce(TOPIC, b"zombie")
try:
    p.flush(10)
    p.commit_transaction(10)
    raise SystemExit("FAIL: the fenced producer committed")
except KafkaException as e:
    err = e.args[0]
    check(err.fatal() or "fenced" in err.str().lower() or "epoch" in err.str().lower(), "fenced producer: %s" % err.str())
txn(p2, TOPIC, ["d1"], True)
got = consume(TOPIC, "read_committed", 5)
check(got == ["a1", "a2", "a3", "c1", "d1"], "after the fence: %s" % got)
print("PASS")
