#ifndef C_RDKAFKA_SHIM_H
#define C_RDKAFKA_SHIM_H
/* librdkafka's public API and its in-process mock cluster (librdkafka-dev). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
