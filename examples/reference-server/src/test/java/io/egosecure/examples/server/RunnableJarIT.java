package io.egosecure.examples.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as an operator runs it: {@code java -jar}, then SIGTERM. Proves the shaded
 * jar carries what Flyway, Jetty and SLF4J find through ServiceLoader, and that the shutdown
 * hook stops the server cleanly.
 */
class RunnableJarIT {
  @TempDir Path temp;

  private static String firstLine(Path file, Process process) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      if (text.contains("\n")) {
        return text.substring(0, text.indexOf('\n'));
      }
      assertThat(process.isAlive()).as("the server exited before it was ready").isTrue();
      Thread.sleep(50);
    }
    throw new AssertionError("no ready line within 60 s");
  }

  @Test
  void runsFromTheJarAndStopsCleanlyOnSigterm() throws Exception {
    Path jar = Path.of("target", "egosecure-reference-server.jar");
    assertThat(jar).exists();
    Path dataDir = temp.resolve("data");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process process = new ProcessBuilder(java, "-jar", jar.toString(),
        "--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0")
        .redirectOutput(temp.resolve("stdout.txt").toFile())
        .redirectError(temp.resolve("stderr.txt").toFile())
        .start();
    String ready;
    try {
      ready = firstLine(temp.resolve("stdout.txt"), process);
      assertThat(ready).matches("EgoSecure server ready at https://127\\.0\\.0\\.1:\\d+/");
      URI url = URI.create(ready.substring(ready.lastIndexOf(' ') + 1));
      assertThat(Files.readString(dataDir.resolve("server.url")).strip()).isEqualTo(url.toString());
      assertThat(Https.get(Https.trusting(dataDir.resolve("server.crt")), url.resolve("/health/ready"), null)
          .statusCode()).isEqualTo(200);

      process.destroy(); // SIGTERM
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(dataDir.resolve("server.url")).as("removed by the shutdown hook").doesNotExist();
    assertThat(Files.readString(temp.resolve("stdout.txt"))).as("nothing but the ready line").isEqualTo(ready + "\n");
    String stderr = Files.readString(temp.resolve("stderr.txt"));
    assertThat(stderr).doesNotContain("Exception").doesNotContain("WARN").doesNotContain("ERROR");
    assertThat(stderr.lines().count()).isEqualTo(1);
  }
}
