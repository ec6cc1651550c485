package io.egosecure.examples.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.agent.testkit.FakePolicyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo agent's command line and its lines, against the test kit's fake server. */
class DemoAgentIT {
  @TempDir Path temp;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private DemoAgent.Launch start(String... args) {
    return DemoAgent.start(temp, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
  }

  private String awaitOutput(String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      String text = out.toString(StandardCharsets.UTF_8);
      if (text.contains(expected)) {
        return text;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no '" + expected + "' in:\n" + out.toString(StandardCharsets.UTF_8) + err);
  }

  @Test
  void printsOneLinePerEventForEachAgentOfASmallFleet() throws Exception {
    try (FakePolicyServer server = FakePolicyServer.start()) {
      server.pollInterval(Duration.ofSeconds(1), 0);
      server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"),
          FakePolicyServer.policy("wifi", "network", "{\"open\":false}"));
      Path ca = server.writeCertificate(temp.resolve("ca.pem"));

      DemoAgent.Launch launch = start("--server", server.uri().toString(), "--ca", ca.toString(),
          "--token", server.enrollmentToken(2), "--state-dir", "fleet", "--count", "2", "--name", "laptop", "--no-push");
      try (DemoAgent.Fleet fleet = launch.fleet().orElseThrow()) {
        awaitOutput("[laptop-1] applied revision 1: usb, wifi");
        awaitOutput("[laptop-2] applied revision 1: usb, wifi");
        String text = awaitOutput("[laptop-2] enrolled as ");
        assertThat(text).contains("[laptop-1] enrolled as ").contains(" in tenant " + server.tenantId());
        assertThat(fleet.agents()).hasSize(2);

        long next = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}"));
        awaitOutput("[laptop-1] applied revision " + next + ": usb");
      }
      assertThat(temp.resolve("fleet/laptop-1/identity.json")).exists();
      assertThat(temp.resolve("fleet/laptop-2/identity.json")).exists();
    }
  }

  @Test
  void aRestartNeedsNoTokenAndEnforcesTheSavedSetAtOnce() throws Exception {
    try (FakePolicyServer server = FakePolicyServer.start()) {
      server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
      Path ca = server.writeCertificate(temp.resolve("ca.pem"));
      try (DemoAgent.Fleet fleet = start("--server", server.uri().toString(), "--ca", ca.toString(),
          "--token", server.enrollmentToken(), "--no-push").fleet().orElseThrow()) {
        awaitOutput("[agent] applied revision 1: usb");
      }
      out.reset();
      try (DemoAgent.Fleet fleet = start("--server", server.uri().toString(), "--ca", ca.toString(), "--no-push")
          .fleet().orElseThrow()) {
        assertThat(awaitOutput("[agent] applied revision 1: usb")).doesNotContain("enrolled");
      }
    }
  }

  @Test
  void findsTheLocalReferenceServersFiles() throws Exception {
    try (FakePolicyServer server = FakePolicyServer.start()) {
      server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
      Path data = Files.createDirectories(temp.resolve(DemoAgent.LOCAL_DATA_DIR));
      Files.writeString(data.resolve("server.url"), server.uri() + "\n");
      server.writeCertificate(data.resolve("server.crt"));

      try (DemoAgent.Fleet fleet = start("--token", server.enrollmentToken(), "--no-push").fleet().orElseThrow()) {
        awaitOutput("[agent] applied revision 1: usb");
      }
    }
  }

  @Test
  void aRefusedTokenIsOneLine() throws Exception {
    try (FakePolicyServer server = FakePolicyServer.start()) {
      Path ca = server.writeCertificate(temp.resolve("ca.pem"));
      try (DemoAgent.Fleet fleet = start("--server", server.uri().toString(), "--ca", ca.toString(),
          "--token", "est.wrong.token.value", "--no-push").fleet().orElseThrow()) {
        assertThat(awaitOutput("[agent] error: the server refused the enrollment: 401"))
            .doesNotContain("Exception");
      }
    }
  }

  @Test
  void usageErrorsAreOneLineAndNonZero() {
    DemoAgent.Launch launch = start("--count", "0", "--server", "https://127.0.0.1:1/");
    assertThat(launch.exitStatus()).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("egosecure-demo-agent: --count is 1 to 100, not 0\n");

    err.reset();
    assertThat(start().exitStatus()).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("egosecure-demo-agent: give --server URL").hasLineCount(1);

    err.reset();
    assertThat(start("--bogus").exitStatus()).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--bogus").hasLineCount(1);

    err.reset();
    assertThat(start("--server", "https://127.0.0.1:1/", "--ca", temp.resolve("missing.pem").toString()).exitStatus())
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("missing.pem").hasLineCount(1);
  }

  @Test
  void helpListsTheOptionsWithDefaults() {
    assertThat(start("--help").exitStatus()).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--server", "--ca", "--token", "--state-dir", "--count", "--no-push", "--long-poll")
        .contains("Default: agent-state");
  }
}
