#!/bin/bash
# Creates the platform's topics (TOPICS: "name:partitions" separated by spaces) once Kafka
# answers; the services start after it has succeeded. Existing topics are left as they are.
set -euo pipefail
bootstrap="${BOOTSTRAP:-kafka:9092}"
for spec in ${TOPICS}; do
    name="${spec%%:*}"
    partitions="${spec##*:}"
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${bootstrap}" --create --if-not-exists \
        --topic "${name}" --partitions "${partitions}" --replication-factor 1
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "${bootstrap}" --list
