#ifndef C_RDKAFKA_SHIM_H
#define C_RDKAFKA_SHIM_H
/* librdkafka's public API and its in-process mock cluster (librdkafka-dev). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* One message with one header (`kafka.message_id_header`): librdkafka takes headers only through
 * rd_kafka_producev, a variadic function Swift cannot call. Flags, partitioning and the opaque are those
 * of the daemon's rd_kafka_produce call; payload, key and header are copied. */
static inline rd_kafka_resp_err_t kcp_produce_with_header(
    rd_kafka_t *rk, rd_kafka_topic_t *rkt, const void *payload, size_t len, const void *key, size_t keylen,
    const char *header_name, const void *header_value, size_t header_size, void *opaque) {
    return rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)payload, len),
        RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_HEADER(header_name, header_value, (ssize_t)header_size),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}
#endif
