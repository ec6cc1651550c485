package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hundred agents restarted together (a power cut in an office) enforce their saved sets at
 * once, and spread their first polls over the server's jitter window instead of polling together.
 */
class FleetJitterIT {
  private static final int AGENTS = 100;
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final int JITTER_PERCENT = 50; // first polls spread over 0..5 s

  @TempDir Path temp;
  private LiveServer server;
  private final List<PolicyAgent> agents = new ArrayList<>();

  @AfterEach
  void closeAll() {
    agents.forEach(PolicyAgent::close);
    if (server != null) {
      server.close();
    }
  }

  @Test
  void restartedAgentsSpreadTheirFirstPollsOverTheJitterWindow() throws Exception {
    server = new LiveServer(temp.resolve("server"), INTERVAL, JITTER_PERCENT);
    long revision = server.publish("usb", "{\"block\": true}");
    String token = server.enrollmentToken();
    List<RecordingListener> enrolled = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      RecordingListener listener = new RecordingListener();
      enrolled.add(listener);
      agents.add(start(i, listener, token));
    }
    for (RecordingListener listener : enrolled) {
      listener.awaitApplied(revision, Duration.ofSeconds(30));
    }
    agents.forEach(PolicyAgent::close);
    agents.clear();

    List<RecordingListener> restarted = new ArrayList<>();
    long[] started = new long[AGENTS];
    for (int i = 0; i < AGENTS; i++) {
      RecordingListener listener = new RecordingListener();
      restarted.add(listener);
      started[i] = System.nanoTime();
      agents.add(start(i, listener, token));
    }
    List<Double> firstPolls = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      restarted.get(i).awaitApplied(revision, Duration.ofSeconds(5)); // from disk, before any poll
      RecordingListener.Event ready = restarted.get(i).await("ready", Duration.ofSeconds(15));
      firstPolls.add((ready.nanos() - started[i]) / 1e9);
    }
    Collections.sort(firstPolls);

    double window = INTERVAL.toSeconds() * JITTER_PERCENT / 100.0;
    assertThat(firstPolls.get(AGENTS / 10)).as("10th percentile (s)").isLessThan(window * 0.4);
    assertThat(firstPolls.get(AGENTS * 9 / 10)).as("90th percentile (s)").isGreaterThan(window * 0.6);
    int[] perHalfSecond = new int[64];
    firstPolls.forEach(seconds -> perHalfSecond[(int) Math.min(63, seconds * 2)]++);
    // Uniform over 5 s is 10 per half second; a herd would put most of the fleet in one.
    assertThat(java.util.Arrays.stream(perHalfSecond).max().orElseThrow()).as("most first polls in one half second")
        .isLessThanOrEqualTo(25);
  }

  private PolicyAgent start(int i, RecordingListener listener, String token) {
    PolicyAgent agent = PolicyAgent.builder()
        .server(server.uri())
        .trustCertificates(server.certificate.pem())
        .enrollmentToken(token)
        .agentName("host-" + i)
        .stateDirectory(temp.resolve("agent-" + i))
        .listener(listener)
        .push(false)
        .applier(set -> ApplyResult.success())
        .build();
    agent.start();
    return agent;
  }
}
