package io.egosecure.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.wire.Json;
import io.egosecure.reliability.AdminApi.Draft;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8, item 2: SDK agents ride out a server outage. While the reference server is down
 * ({@code kill -9}) every agent keeps enforcing its last-known-good set; its retries back off
 * with jitter; when the server is back on the same port, every agent is in step within one poll
 * interval plus jitter.
 *
 * <p>To time each agent's first successful poll after the restart, the change is published
 * while the agents still cannot reach the server: a second server process on the same data dir,
 * on a port the agents do not know, publishes and stops — an administrator on another node
 * during the agents' outage. The first poll that reaches the restarted server therefore answers
 * with the new revision, and the agent's {@code applied} event marks that poll.
 *
 * <p>{@code -Dreliability.outage.seconds=N} sets the outage (CI: 30 s).
 */
class ServerOutageIT {
  private static final Logger log = LoggerFactory.getLogger(ServerOutageIT.class);
  private static final int AGENTS = 10;
  private static final int INTERVAL_SECONDS = 5;
  private static final int JITTER_PERCENT = 10;
  private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("reliability.outage.seconds", 30));
  /** One interval plus its jitter: the promise after the server returns. */
  private static final Duration ONE_INTERVAL_AND_JITTER =
      Duration.ofMillis(INTERVAL_SECONDS * 1000L * (100 + JITTER_PERCENT) / 100);
  /** TLS handshake, verification and this JVM's scheduling on two busy cores. */
  private static final Duration SLACK = Duration.ofMillis(1500);

  @TempDir Path temp;

  @Test
  void agentsKeepTheirSetThroughAnOutageAndReturnWithinOneIntervalSpread() throws Exception {
    Path dataDir = temp.resolve("data");
    try (ReferenceServerProcess server = ReferenceServerProcess.start(dataDir, List.of(), Map.of())) {
      AdminApi admin = new AdminApi(server.httpClient(), server::uri, server.operatorKey());
      String tenant = admin.createTenant("outage");
      admin.setPolling(tenant, INTERVAL_SECONDS, JITTER_PERCENT);
      Draft draft = admin.createPolicy(tenant, "usb", Json.object().put("usb", "block"));
      long before = admin.publish(tenant, "before the outage").expect(201).json().path("revision").asLong();
      String token = admin.enrollmentToken(tenant, AGENTS);

      List<RecordingAgent> agents = new ArrayList<>();
      try {
        for (int i = 0; i < AGENTS; i++) {
          agents.add(RecordingAgent.start("agent-" + i, server.uri(), server.certificate(), token, temp.resolve("agent-" + i)));
        }
        for (RecordingAgent agent : agents) {
          assertThat(agent.awaitRevision(before, Duration.ofSeconds(30))).as(agent.name + " before the outage").isTrue();
        }

        server.kill();
        long killedAt = System.nanoTime();
        long outageEnds = killedAt + OUTAGE.toNanos();
        long after = publishElsewhere(dataDir, draft, tenant);
        // Last-known-good throughout: sampled every half second until the outage ends.
        int samples = 0;
        while (System.nanoTime() - outageEnds < 0) {
          for (RecordingAgent agent : agents) {
            assertThat(agent.revision()).as("%s enforces revision %d while the server is down", agent.name, before)
                .isEqualTo(before);
          }
          samples++;
          Thread.sleep(Math.min(500, Math.max(1, TimeUnit.NANOSECONDS.toMillis(outageEnds - System.nanoTime()))));
        }

        server.start();
        long restartedAt = System.nanoTime();
        Duration bound = ONE_INTERVAL_AND_JITTER.plus(SLACK);
        for (RecordingAgent agent : agents) {
          assertThat(agent.awaitRevision(after, bound.plusSeconds(30))).as("%s after the outage", agent.name).isTrue();
        }

        List<Long> returnMillis = new ArrayList<>();
        List<Integer> retries = new ArrayList<>();
        List<Long> longestGapMillis = new ArrayList<>();
        for (RecordingAgent agent : agents) {
          long returned = agent.appliedAt(after).orElseThrow();
          returnMillis.add(TimeUnit.NANOSECONDS.toMillis(returned - restartedAt));
          List<Long> errors = agent.errorsSince(killedAt);
          retries.add(errors.size());
          long longest = 0;
          for (int i = 1; i < errors.size(); i++) {
            longest = Math.max(longest, errors.get(i) - errors.get(i - 1));
          }
          longestGapMillis.add(TimeUnit.NANOSECONDS.toMillis(longest));
        }
        List<Long> sorted = returnMillis.stream().sorted().toList();
        log.info("outage {} s, {} agents, interval {} s ± {} %: failed polls per agent {}; longest wait between them (ms) {}",
            OUTAGE.toSeconds(), AGENTS, INTERVAL_SECONDS, JITTER_PERCENT, retries, longestGapMillis);
        log.info("first poll after the restart (ms after ready): min {}, median {}, max {}; all {}",
            sorted.get(0), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), sorted);

        assertThat(samples).as("last-known-good sampled through the outage").isGreaterThan((int) OUTAGE.toSeconds());
        assertThat(sorted.get(sorted.size() - 1)).as("every agent in step within one interval + jitter of the restart")
            .isLessThanOrEqualTo(bound.toMillis());
        assertThat(sorted.get(sorted.size() - 1) - sorted.get(0)).as("returns spread, not a thundering herd")
            .isGreaterThanOrEqualTo(1000);
        for (int i = 0; i < AGENTS; i++) {
          // Backoff: far fewer tries than one a second, but still trying through the outage.
          assertThat(retries.get(i)).as("failed polls of agent-%d during %d s", i, OUTAGE.toSeconds())
              .isBetween(3, (int) (OUTAGE.toSeconds() / 2));
          assertThat(longestGapMillis.get(i)).as("longest wait of agent-%d", i)
              .isLessThanOrEqualTo(bound.toMillis());
        }
      } finally {
        agents.forEach(RecordingAgent::close);
      }
    }
  }

  /** Publishes on a second server process on the same data dir, on a port no agent knows, and stops it. */
  private static long publishElsewhere(Path dataDir, Draft draft, String tenant) throws Exception {
    try (ReferenceServerProcess other = ReferenceServerProcess.start(dataDir, List.of(), Map.of())) {
      AdminApi admin = new AdminApi(other.httpClient(), other::uri, other.operatorKey());
      admin.updatePolicy(tenant, admin.policy(tenant, draft.id()), "usb", Json.object().put("usb", "read-only")).expect(200);
      long revision = admin.publish(tenant, "during the outage").expect(201).json().path("revision").asLong();
      other.stop();
      return revision;
    }
  }
}
