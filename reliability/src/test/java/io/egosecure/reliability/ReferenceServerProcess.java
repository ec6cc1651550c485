package io.egosecure.reliability;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The packaged reference server as an operator runs it: {@code java -jar}, a separate process, so
 * a {@code kill -9} loses exactly what a crash loses. Each start after the first reuses the data
 * dir and the port, so agents keep their URL across restarts.
 */
final class ReferenceServerProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReferenceServerProcess.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

  private final Path dataDir;
  private final List<String> extraArguments;
  private final Map<String, String> environment;
  private Process process;
  private int port;
  private URI uri;
  private int starts;

  private ReferenceServerProcess(Path dataDir, List<String> extraArguments, Map<String, String> environment) {
    this.dataDir = dataDir;
    this.extraArguments = List.copyOf(extraArguments);
    this.environment = Map.copyOf(environment);
  }

  /** Starts a server on {@code dataDir} (SQLite there unless {@code extraArguments} name a database). */
  static ReferenceServerProcess start(Path dataDir, List<String> extraArguments, Map<String, String> environment)
      throws IOException, InterruptedException {
    ReferenceServerProcess server = new ReferenceServerProcess(dataDir, extraArguments, environment);
    server.start();
    return server;
  }

  static Path jar() {
    String configured = System.getProperty("reliability.serverJar");
    Path jar = Path.of(configured != null ? configured : "../examples/reference-server/target/egosecure-reference-server.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar.toAbsolutePath() + " is missing: build the reactor first (mvn install -DskipTests -DskipITs)");
    }
    return jar;
  }

  /** Starts it (again) on the same data dir and, after the first start, the same port. */
  void start() throws IOException, InterruptedException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("already running as pid " + process.pid());
    }
    Path url = dataDir.resolve("server.url");
    // A killed server leaves its server.url behind: only a fresh one says the new process is ready.
    Files.deleteIfExists(url);
    // A port just released by a killed process can be refused for a moment; a few tries, bounded.
    for (int attempt = 1; ; attempt++) {
      starts++;
      List<String> command = new ArrayList<>(List.of(
          ProcessHandle.current().info().command().orElse("java"),
          "-Xmx256m",
          "-jar", jar().toString(),
          "--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port)));
      command.addAll(extraArguments);
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(dataDir.getFileName() + ".out").toFile()))
          .redirectError(ProcessBuilder.Redirect.appendTo(stderrFile().toFile()));
      builder.environment().putAll(environment);
      process = builder.start();
      long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline && process.isAlive()) {
        if (Files.exists(url)) {
          String text = Files.readString(url, StandardCharsets.UTF_8);
          if (text.endsWith("\n")) {
            uri = URI.create(text.strip());
            port = uri.getPort();
            log.debug("server pid {} ready at {} (start {})", process.pid(), uri, starts);
            return;
          }
        }
        Thread.sleep(20);
      }
      if (process.isAlive()) {
        process.destroyForcibly().waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        throw new IllegalStateException("the reference server was not ready within " + READY_TIMEOUT + "; " + stderrTail());
      }
      if (attempt == 5 || port == 0) {
        throw new IllegalStateException("the reference server exited with " + process.exitValue() + ": " + stderrTail());
      }
      Thread.sleep(500);
    }
  }

  /** {@code kill -9}: no shutdown hook runs, nothing is flushed. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException("pid " + process.pid() + " survived SIGKILL for " + EXIT_TIMEOUT);
    }
  }

  /** SIGTERM: the shutdown hook answers parked polls and closes the store. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      throw new IllegalStateException("pid " + process.pid() + " did not stop within " + EXIT_TIMEOUT + " of SIGTERM");
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  URI uri() {
    return uri;
  }

  Path certificate() {
    return dataDir.resolve("server.crt");
  }

  String operatorKey() throws IOException {
    return Files.readString(dataDir.resolve("operator.key"), StandardCharsets.UTF_8).strip();
  }

  HttpClient httpClient() throws IOException {
    return Https.trusting(certificate());
  }

  Path stderrFile() {
    return dataDir.resolveSibling(dataDir.getFileName() + ".err");
  }

  /** What the server said on stderr over all its starts. */
  String stderr() throws IOException {
    Path file = stderrFile();
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }

  private String stderrTail() throws IOException {
    String all = stderr();
    return all.length() <= 2_000 ? all : all.substring(all.length() - 2_000);
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly().waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
  }
}
