"""The relay's pure decisions: whose fault a failure is, when it counts toward parking, backoff."""

from typing import Any

import pytest
from aiokafka import errors as kafka_errors
from jg_messaging.relay import (
    Attempt,
    Failure,
    KafkaUnreachableError,
    classify,
    counts_against_row,
    describe,
    first_failures,
    judge,
    needs_isolation,
    retry_delay,
)

pytestmark = pytest.mark.unit

TOO_LARGE = kafka_errors.MessageSizeTooLargeError(
    "The message is 1500000 bytes when serialized which is larger than the maximum request size"
)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        # the row's own problem: no retry makes it go
        (TOO_LARGE, Failure.ROW),
        (kafka_errors.RecordTooLargeError(), Failure.ROW),
        (kafka_errors.TopicAuthorizationFailedError("jg.payment.payments"), Failure.ROW),
        (kafka_errors.InvalidTopicError(), Failure.ROW),
        (kafka_errors.CorruptRecordException(), Failure.ROW),
        (ValueError("headers are not a JSON object"), Failure.ROW),
        # the partition or the cluster, for now
        (kafka_errors.KafkaConnectionError("Unable to bootstrap"), Failure.RETRIABLE),
        (kafka_errors.KafkaTimeoutError(), Failure.RETRIABLE),
        (kafka_errors.RequestTimedOutError(), Failure.RETRIABLE),
        (kafka_errors.NotLeaderForPartitionError(), Failure.RETRIABLE),
        (kafka_errors.LeaderNotAvailableError(), Failure.RETRIABLE),
        (kafka_errors.UnknownTopicOrPartitionError(), Failure.RETRIABLE),
        (kafka_errors.NotEnoughReplicasError(), Failure.RETRIABLE),
        (kafka_errors.NodeNotReadyError(), Failure.RETRIABLE),
        (TimeoutError(), Failure.RETRIABLE),
        (ConnectionRefusedError(), Failure.RETRIABLE),
        # Kafka refuses this client as a whole
        (kafka_errors.SaslAuthenticationFailed(), Failure.CLUSTER),
        (kafka_errors.ClusterAuthorizationFailedError(), Failure.CLUSTER),
        (kafka_errors.UnsupportedVersionError(), Failure.CLUSTER),
        (KafkaUnreachableError("the producer cannot connect"), Failure.CLUSTER),
        # the producer's own state
        (kafka_errors.OutOfOrderSequenceNumber(), Failure.PRODUCER),
        (kafka_errors.ProducerFenced(), Failure.PRODUCER),
        (kafka_errors.ProducerClosed(), Failure.PRODUCER),
        (kafka_errors.KafkaError("Unexpected error during batch delivery"), Failure.PRODUCER),
    ],
)
def test_classify(error: BaseException, failure: Failure) -> None:
    assert classify(error) is failure


def test_only_row_failures_and_retriable_ones_while_kafka_accepts_writes_count() -> None:
    assert counts_against_row(Failure.ROW, cluster_accepts_writes=False)
    assert counts_against_row(Failure.ROW, cluster_accepts_writes=True)
    assert counts_against_row(Failure.RETRIABLE, cluster_accepts_writes=True)
    assert not counts_against_row(Failure.RETRIABLE, cluster_accepts_writes=False)
    # Kafka answers metadata requests but knows no partition of the row's topic.
    assert counts_against_row(Failure.RETRIABLE, cluster_accepts_writes=False, topic_missing=True)
    for failure in (Failure.CLUSTER, Failure.PRODUCER):
        assert not counts_against_row(failure, cluster_accepts_writes=True, topic_missing=True)
        assert not counts_against_row(failure, cluster_accepts_writes=False)


def test_retry_delay_doubles_up_to_its_cap() -> None:
    delays = [retry_delay(n, base=1.0, cap=300.0) for n in range(1, 13)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert retry_delay(0, base=1.0, cap=300.0) == 0
    assert retry_delay(10_000, base=1.0, cap=300.0) == 300  # no overflow


def test_describe_names_the_error_once() -> None:
    assert describe(TOO_LARGE).count("MessageSizeTooLargeError") == 1
    assert describe(TimeoutError()) == "TimeoutError"
    assert describe(ValueError("bad")) == "ValueError: bad"
    assert len(describe(ValueError("x" * 10_000))) == 2000


def row(row_id: int, key: str) -> dict[str, Any]:
    return {"id": row_id, "message_key": key, "attempts": 0}


SENT = Attempt(None)


def ids(pairs: list[tuple[Any, BaseException]]) -> list[int]:
    return [r["id"] for r, _ in pairs]


def test_a_row_too_large_counts_against_it_while_its_batch_is_sent() -> None:
    rows = [row(1, "B"), row(2, "A"), row(3, "B"), row(4, "C")]
    outcome = {1: SENT, 2: Attempt(TOO_LARGE, at_send=True), 3: SENT, 4: SENT}
    verdict = judge(rows, outcome)
    assert verdict.sent == [1, 3, 4]
    assert ids(verdict.charged) == [2]
    assert verdict.uncharged == []


def test_a_row_too_large_counts_even_when_nothing_else_went() -> None:
    verdict = judge([row(1, "A")], {1: Attempt(TOO_LARGE, at_send=True)})
    assert ids(verdict.charged) == [1]


def test_an_outage_counts_against_no_row() -> None:
    rows = [row(1, "A"), row(2, "B"), row(3, "A")]
    timeout = kafka_errors.KafkaTimeoutError("not acknowledged within 15 s")
    outcome = {1: Attempt(timeout), 2: Attempt(timeout), 3: Attempt(timeout)}
    verdict = judge(rows, outcome)
    assert verdict.sent == []
    assert verdict.charged == []
    assert ids(verdict.uncharged) == [1, 2]  # row 3 waits behind row 1


def test_a_row_for_a_topic_kafka_does_not_know_counts_only_if_kafka_answers() -> None:
    rows = [row(1, "A")]
    outcome = {1: Attempt(TimeoutError(), at_send=True, topic_unknown=True)}
    assert ids(judge(rows, outcome, cluster_answers=True).charged) == [1]
    assert ids(judge(rows, outcome, cluster_answers=False).uncharged) == [1]  # Kafka is down
    known = {1: Attempt(kafka_errors.KafkaTimeoutError(), at_send=True)}  # buffer not draining
    assert ids(judge(rows, known, cluster_answers=True).uncharged) == [1]


def test_a_timeout_counts_when_kafka_acknowledged_other_rows() -> None:
    rows = [row(1, "A"), row(2, "B")]
    outcome = {1: Attempt(kafka_errors.UnknownTopicOrPartitionError(), at_send=True), 2: SENT}
    verdict = judge(rows, outcome)
    assert verdict.sent == [2]
    assert ids(verdict.charged) == [1]


def test_rows_behind_a_failed_row_of_their_key_are_not_judged_but_an_acknowledged_one_is_sent() -> (
    None
):
    rows = [row(1, "A"), row(2, "A"), row(3, "A"), row(4, "B")]
    outcome = {
        1: Attempt(TOO_LARGE),
        2: Attempt(kafka_errors.OutOfOrderSequenceNumber()),
        3: SENT,  # cannot happen with one producer, but if Kafka has it, it is sent
        4: SENT,
    }
    assert [r["id"] for r in first_failures(rows, outcome)] == [1]
    verdict = judge(rows, outcome)
    assert verdict.sent == [3, 4]
    assert ids(verdict.charged) == [1]


def test_failures_kafka_reported_after_accepting_the_record_are_isolated_first() -> None:
    assert needs_isolation(Attempt(TOO_LARGE))  # the whole produce batch failed with it
    assert not needs_isolation(Attempt(TOO_LARGE, at_send=True))  # this record alone
    assert needs_isolation(Attempt(kafka_errors.OutOfOrderSequenceNumber()))
    assert not needs_isolation(Attempt(kafka_errors.KafkaTimeoutError()))
    assert not needs_isolation(SENT)


def test_a_failure_that_could_not_be_isolated_counts_against_no_row() -> None:
    rows = [row(1, "A"), row(2, "B"), row(3, "C")]
    outcome = {1: Attempt(TOO_LARGE), 2: Attempt(TOO_LARGE), 3: SENT}
    verdict = judge(rows, outcome, not_isolated={1, 2})
    assert verdict.charged == []
    assert ids(verdict.uncharged) == [1, 2]


def test_rows_behind_a_row_sent_again_alone_wait_for_the_next_round() -> None:
    rows = [row(1, "A"), row(2, "A")]
    first_pass = {1: Attempt(TOO_LARGE), 2: Attempt(TOO_LARGE)}
    failures = first_failures(rows, first_pass)
    after_isolation = {**first_pass, 1: SENT}
    verdict = judge(rows, after_isolation, failures=failures)
    assert verdict.sent == [1]
    assert verdict.charged == verdict.uncharged == []  # row 2 is neither blamed nor sent
