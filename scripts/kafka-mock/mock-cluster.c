/*
 * A Kafka-protocol broker for tests: librdkafka's mock cluster (Debian package librdkafka-dev).
 * Usage: mock-cluster BROKERS [TOPIC:PARTITIONS ...]
 * Prints "bootstrap=<host:port,...>" once ready, then reads commands on stdin, one per line:
 *   topic NAME PARTITIONS   create a topic
 *   down BROKER_ID          take a broker down (connections refused)
 *   up BROKER_ID            bring it back
 * It exits when stdin closes, so it never outlives the test harness that started it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void create_topic(rd_kafka_mock_cluster_t *mc, const char *name, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, 1);
  if (err) fprintf(stderr, "topic %s: %s\n", name, rd_kafka_err2str(err));
  else printf("ok topic %s %d\n", name, partitions);
  fflush(stdout);
}

int main(int argc, char **argv) {
  char errstr[512];
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers < 1 ? 1 : brokers);
  if (!mc) { fprintf(stderr, "could not create the mock cluster\n"); return 1; }
  for (int i = 2; i < argc; i++) {
    char *sep = strchr(argv[i], ':');
    if (!sep) continue;
    *sep = '\0';
    create_topic(mc, argv[i], atoi(sep + 1));
  }
  printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[512], name[256];
  int n;
  while (fgets(line, sizeof(line), stdin)) {
    if (sscanf(line, "topic %255s %d", name, &n) == 2) create_topic(mc, name, n);
    else if (sscanf(line, "down %d", &n) == 1) { rd_kafka_mock_broker_set_down(mc, n); printf("ok down %d\n", n); fflush(stdout); }
    else if (sscanf(line, "up %d", &n) == 1) { rd_kafka_mock_broker_set_up(mc, n); printf("ok up %d\n", n); fflush(stdout); }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
