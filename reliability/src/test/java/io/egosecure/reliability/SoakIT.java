package io.egosecure.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.wire.Json;
import io.egosecure.reliability.AdminApi.Answer;
import io.egosecure.reliability.AdminApi.Draft;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8, item 8: a simulated fleet of 200 agents polls the reference server process (5 s
 * interval, ETags) while a publish lands every 10 s. No request may fail, every simulated agent
 * ends on the last revision, and the server's live heap (after a full GC, via {@code jcmd}) and
 * thread count stay flat from the end of warm-up to the end.
 *
 * <p>{@code -Dreliability.soak.minutes=N} sets the length (CI: 2; documented: 30).
 */
class SoakIT {
  private static final Logger log = LoggerFactory.getLogger(SoakIT.class);
  private static final Duration LENGTH = Duration.ofMinutes(Long.getLong("reliability.soak.minutes", 2));
  private static final Duration WARM_UP = Duration.ofSeconds(30);
  private static final Duration SAMPLE_EVERY = Duration.ofSeconds(15);
  private static final Duration PUBLISH_EVERY = Duration.ofSeconds(10);
  private static final int FLEET = 200;
  private static final int INTERVAL_SECONDS = 5;
  /** Enrollment is rate-limited per token (burst 20), so the fleet enrolls with several. */
  private static final int AGENTS_PER_TOKEN = 20;
  /** Flat: the live heap may grow by noise (caches warming, TLS sessions), not by the run's length. */
  private static final long HEAP_ALLOWANCE_BYTES = 16L << 20;
  private static final int THREAD_ALLOWANCE = 5;
  private static final Pattern G1_USED = Pattern.compile("garbage-first heap\\s+total \\d+K, used (\\d+)K");
  private static final Pattern GENERATION_USED = Pattern.compile("generation\\s+total \\d+K, used (\\d+)K");

  @TempDir Path temp;

  private record Sample(long atSeconds, long liveHeapBytes, int threads) {}

  @Test
  void aFleetPollingThroughRegularPublishesSeesNoErrorAndTheServerStaysFlat() throws Exception {
    try (ReferenceServerProcess server = ReferenceServerProcess.start(temp.resolve("data"), List.of(), Map.of())) {
      AdminApi admin = new AdminApi(server.httpClient(), server::uri, server.operatorKey());
      String tenant = admin.createTenant("soak");
      admin.setPolling(tenant, INTERVAL_SECONDS, 10);
      Draft draft = admin.createPolicy(tenant, "usb", Json.object().put("publish", 0));
      long revision = admin.publish(tenant, "publish 0").expect(201).json().path("revision").asLong();

      try (FleetLoad fleet = new FleetLoad(server.httpClient(), 4)) {
        String token = null;
        for (int i = 0; i < FLEET; i++) {
          if (i % AGENTS_PER_TOKEN == 0) {
            token = admin.enrollmentToken(tenant, AGENTS_PER_TOKEN);
          }
          fleet.pollers.add(FleetLoad.enroll(server.httpClient(), server.uri(), token, "soak-" + i));
        }
        long started = System.nanoTime();
        long end = started + LENGTH.toNanos();
        fleet.pollEvery(Duration.ofSeconds(INTERVAL_SECONDS));

        List<Sample> samples = new ArrayList<>();
        List<String> publishFailures = new ArrayList<>();
        int publishes = 0;
        long nextPublish = started + PUBLISH_EVERY.toNanos();
        long nextSample = started + WARM_UP.toNanos();
        while (System.nanoTime() - end < 0) {
          long now = System.nanoTime();
          if (now - nextPublish >= 0) {
            publishes++;
            Answer updated = admin.updatePolicy(tenant, draft, "usb", Json.object().put("publish", publishes));
            if (updated.status() == 200) {
              draft = new Draft(draft.id(), updated.json().path("version").asLong());
              Answer published = admin.publish(tenant, "publish " + publishes);
              if (published.status() == 201) {
                revision = published.json().path("revision").asLong();
              } else {
                publishFailures.add("publish " + publishes + ": " + published.status() + " " + published.body());
              }
            } else {
              publishFailures.add("update " + publishes + ": " + updated.status() + " " + updated.body());
            }
            nextPublish += PUBLISH_EVERY.toNanos();
          }
          if (now - nextSample >= 0) {
            samples.add(sample(server.pid(), TimeUnit.NANOSECONDS.toSeconds(now - started)));
            nextSample += SAMPLE_EVERY.toNanos();
          }
          long wake = Math.min(Math.min(nextPublish, nextSample), end);
          Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wake - System.nanoTime())));
        }
        samples.add(sample(server.pid(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)));

        // Every simulated agent on the last revision within one interval and its jitter, plus slack.
        long last = revision;
        long deadline = System.nanoTime() + Duration.ofSeconds(INTERVAL_SECONDS * 2L).toNanos();
        while (System.nanoTime() - deadline < 0 && fleet.pollers.stream().anyMatch(p -> p.revision < last)) {
          Thread.sleep(100);
        }
        long behind = fleet.pollers.stream().filter(p -> p.revision < last).count();
        String serverErrors = serverErrorCounts(admin);
        fleet.close();

        log.info("soak {} min: {} agents every {} s, {} publishes (last revision {}); {}; server 5xx by metrics: {}",
            LENGTH.toMinutes(), FLEET, INTERVAL_SECONDS, publishes, last, fleet.outcomes,
            serverErrors.isEmpty() ? "none" : serverErrors);
        log.info("samples (s, live heap MiB after full GC, threads): {}", samples.stream()
            .map(s -> "(" + s.atSeconds() + ", " + (s.liveHeapBytes() >> 20) + ", " + s.threads() + ")").toList());

        assertThat(fleet.outcomes.violations()).as("failed polls").isEmpty();
        assertThat(fleet.outcomes.count(200) + fleet.outcomes.count(304)).as("polls answered")
            .isGreaterThanOrEqualTo(FLEET * (LENGTH.toSeconds() / INTERVAL_SECONDS) * 9 / 10);
        assertThat(publishFailures).as("failed publishes").isEmpty();
        assertThat(publishes).isGreaterThanOrEqualTo((int) (LENGTH.toSeconds() / PUBLISH_EVERY.toSeconds()) - 1);
        assertThat(serverErrors).as("5xx the server counted").isEmpty();
        assertThat(behind).as("simulated agents behind revision %d", last).isZero();

        Sample first = samples.get(0);
        for (Sample sample : samples) {
          assertThat(sample.liveHeapBytes()).as("live heap at %d s (first %d MiB)", sample.atSeconds(), first.liveHeapBytes() >> 20)
              .isLessThanOrEqualTo(first.liveHeapBytes() + first.liveHeapBytes() / 4 + HEAP_ALLOWANCE_BYTES);
          assertThat(sample.threads()).as("threads at %d s (first %d)", sample.atSeconds(), first.threads())
              .isLessThanOrEqualTo(first.threads() + THREAD_ALLOWANCE);
        }
      }
    }
  }

  /** Live heap after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}) and the thread count. */
  private static Sample sample(long pid, long atSeconds) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String heap = jcmd(pid, "GC.heap_info");
    long usedKib = 0;
    Matcher g1 = G1_USED.matcher(heap);
    if (g1.find()) {
      usedKib = Long.parseLong(g1.group(1));
    } else {
      Matcher generation = GENERATION_USED.matcher(heap);
      while (generation.find()) {
        usedKib += Long.parseLong(generation.group(1));
      }
    }
    assertThat(usedKib).as("heap in jcmd's answer: %s", heap).isPositive();
    int threads = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8).stream()
        .filter(line -> line.startsWith("Threads:"))
        .mapToInt(line -> Integer.parseInt(line.substring("Threads:".length()).strip()))
        .findFirst().orElseThrow();
    return new Sample(atSeconds, usedKib << 10, threads);
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + output);
    }
    return output;
  }

  /** The server's own count of 5xx answers by route, from {@code GET /metrics}; empty if none. */
  private static String serverErrorCounts(AdminApi admin) throws IOException, InterruptedException {
    String metrics = admin.get("/metrics").expect(200).body();
    StringBuilder errors = new StringBuilder();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("egosecure_http_requests_seconds_count") && line.contains("status=\"5")) {
        errors.append(line).append('\n');
      }
    }
    return errors.toString();
  }
}
