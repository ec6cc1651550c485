package io.egosecure.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.examples.agent.DemoAgent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five-minute walkthrough with the demo agent: a tenant, a policy for all staff,
 * publish, two agents enrolled with one token, a change that reaches both within a second by
 * push, the compliance view, and a server restart the agents ride out.
 */
class DemoAgentWalkthroughIT {
  @TempDir Path temp;
  private Terminal terminal;
  private DemoAgent.Fleet fleet;
  private final ByteArrayOutputStream agentOutput = new ByteArrayOutputStream();

  @AfterEach
  void stopAll() {
    if (fleet != null) {
      fleet.close();
    }
    if (terminal != null) {
      terminal.close();
    }
  }

  @Test
  void twoDemoAgentsFollowTheConsole() throws Exception {
    terminal = new Terminal(temp.resolve("egosecure-data"));
    terminal.startServer();
    Path operator = terminal.operatorKey();

    String tenant = terminal.json(operator, "tenants", "create", "Acme").path("id").asText();
    String policy = terminal.json(operator, "policies", "create", "-t", tenant, "--name", "Block USB",
        "--kind", "device-control", "--settings", "{\"usb\": \"block\"}", "--all").path("id").asText();
    terminal.json(operator, "publish", "-t", tenant, "--comment", "block USB for all staff");
    String token = terminal.json(operator, "enrollment-tokens", "create", "-t", tenant, "--max-uses", "2")
        .path("token").asText();

    DemoAgent.Launch launch = DemoAgent.start(new PrintStream(agentOutput, true, StandardCharsets.UTF_8), System.err,
        "--server", terminal.url.toString(), "--ca", terminal.certificate().toString(), "--token", token,
        "--state-dir", temp.resolve("agents").toString(), "--count", "2", "--name", "laptop");
    fleet = launch.fleet().orElseThrow();
    awaitLine("[laptop-1] applied revision 1: Block USB", Duration.ofSeconds(15));
    awaitLine("[laptop-2] applied revision 1: Block USB", Duration.ofSeconds(15));
    awaitCompliance(operator, tenant, 1, 2);

    // A change reaches both within a second: push, not the 60 s poll interval.
    Thread.sleep(1_000); // the push sockets open right after the first poll
    terminal.json(operator, "policies", "update", policy, "-t", tenant, "--settings", "{\"usb\": \"read-only\"}");
    long published = System.nanoTime();
    terminal.json(operator, "publish", "-t", tenant, "-m", "read-only USB");
    awaitLine("[laptop-1] applied revision 2: Block USB", Duration.ofSeconds(5));
    awaitLine("[laptop-2] applied revision 2: Block USB", Duration.ofSeconds(5));
    assertThat(Duration.ofNanos(System.nanoTime() - published)).isLessThan(Duration.ofSeconds(1));
    JsonNode compliance = awaitCompliance(operator, tenant, 2, 2);
    assertThat(compliance.path("failed").asLong()).isZero();
    assertThat(terminal.console(operator, "agents", "list", "-t", tenant).out())
        .contains("laptop-1", "laptop-2", "up to date");

    // The server restarts on the same data dir and port; the agents keep their credentials,
    // reconnect their push sockets with backoff, and carry on.
    int port = terminal.url.getPort();
    terminal.stopServer();
    terminal.startServer(port);
    terminal.json(operator, "policies", "update", policy, "-t", tenant, "--settings", "{\"usb\": \"allow\"}");
    terminal.json(operator, "publish", "-t", tenant, "-m", "allow USB");
    awaitLine("[laptop-1] applied revision 3: Block USB", Duration.ofSeconds(30));
    awaitLine("[laptop-2] applied revision 3: Block USB", Duration.ofSeconds(30));
    assertThat(agentOutput.toString(StandardCharsets.UTF_8)).containsOnlyOnce("[laptop-1] enrolled as ")
        .doesNotContain("rejected");
  }

  private void awaitLine(String line, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!agentOutput.toString(StandardCharsets.UTF_8).contains(line)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no '" + line + "' in:\n" + agentOutput.toString(StandardCharsets.UTF_8));
      }
      Thread.sleep(10);
    }
  }

  /** Waits until the console's compliance view counts {@code applied} agents on {@code revision}. */
  private JsonNode awaitCompliance(Path key, String tenant, long revision, long applied) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    JsonNode compliance;
    do {
      compliance = terminal.json(key, "compliance", "-t", tenant);
      if (compliance.path("revision").asLong() == revision && compliance.path("applied").asLong() == applied) {
        return compliance;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("compliance never showed " + applied + " agents on revision " + revision + ": " + compliance);
  }
}
