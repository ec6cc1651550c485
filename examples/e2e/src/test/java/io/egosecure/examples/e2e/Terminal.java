package io.egosecure.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Console;
import io.egosecure.examples.server.ReferenceServer;
import io.egosecure.examples.server.RunningServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a user has at a terminal in the walkthrough: the reference server started from its entry
 * point on a data dir (port 0), and console commands run in process against it.
 */
final class Terminal implements AutoCloseable {
  final Path dataDir;
  RunningServer server;
  URI url;

  record Run(int status, String out, String err) {
    JsonNode json() {
      return Json.readTree(out.getBytes(StandardCharsets.UTF_8));
    }
  }

  Terminal(Path dataDir) {
    this.dataDir = dataDir;
  }

  /** Starts the server on the data dir and an ephemeral port, and checks its one ready line. */
  void startServer() throws Exception {
    startServer(0);
  }

  /** Starts the server (again) on the data dir and {@code port}, and checks its one ready line. */
  void startServer(int port) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ReferenceServer.Launch launch = ReferenceServer.start(
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        "--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port));
    server = launch.server().orElseThrow(() -> new AssertionError(err.toString(StandardCharsets.UTF_8)));
    url = URI.create(Files.readString(dataDir.resolve("server.url")).strip());
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("EgoSecure server ready at " + url + "\n");
  }

  void stopServer() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  Path operatorKey() {
    return dataDir.resolve("operator.key");
  }

  Path certificate() {
    return dataDir.resolve("server.crt");
  }

  /** A console command as an operator types it, with the server's URL, CA and a key file. */
  Run console(Path keyFile, String... args) {
    List<String> all = new ArrayList<>(List.of(
        "--server", url.toString(), "--ca", certificate().toString(), "--key-file", keyFile.toString()));
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Console.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), all.toArray(String[]::new));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A console command with {@code --json} that must succeed; its JSON, or null for none. */
  JsonNode json(Path keyFile, String... args) {
    List<String> all = new ArrayList<>(List.of("--json"));
    all.addAll(List.of(args));
    Run run = console(keyFile, all.toArray(String[]::new));
    assertThat(run.status()).as(String.join(" ", args) + ": " + run.err()).isZero();
    return run.out().isBlank() ? null : run.json();
  }

  @Override
  public void close() {
    stopServer();
  }
}
