package io.egosecure.examples.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data dir, database or key the server cannot use: one line on stderr, a non-zero exit, nothing left running. */
class UnusableStartIT {
  @TempDir Path temp;

  private Launcher start(Path dataDir, String... more) {
    String[] base = {"--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    Launcher launched = Launcher.run(all);
    launched.server().ifPresent(RunningServer::close);
    return launched;
  }

  private static void assertOneLineReason(Launcher launched, int status, String... mentions) {
    assertThat(launched.server()).isEmpty();
    assertThat(launched.exitStatus()).isEqualTo(status);
    assertThat(launched.out()).isEmpty();
    assertThat(launched.err()).startsWith("egosecure-reference-server: ").endsWith("\n");
    assertThat(launched.err().strip()).doesNotContain("\n").doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(launched.err()).contains(mentions);
  }

  /** Starts once on a fresh data dir, so there is something to break. */
  private Path initialised(Consumer<Path> breakIt) throws Exception {
    Path dataDir = temp.resolve("data");
    Launcher.run("--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0").running().close();
    breakIt.accept(dataDir);
    return dataDir;
  }

  @Test
  void dataDirThatIsAFile() throws Exception {
    Path file = Files.writeString(temp.resolve("not-a-dir"), "x");
    assertOneLineReason(start(file), 1, file.toString(), "not a directory");
  }

  @Test
  void dataDirUnderAFile() throws Exception {
    Path file = Files.writeString(temp.resolve("file"), "x");
    assertOneLineReason(start(file.resolve("data")), 1, "cannot create data dir");
  }

  @Test
  void corruptDatabase() throws Exception {
    Path dataDir = temp.resolve("data");
    Files.createDirectories(dataDir);
    Files.writeString(dataDir.resolve("egosecure.db"), "this is not an SQLite database, not even close".repeat(100));
    assertOneLineReason(start(dataDir), 1, "egosecure.db");
  }

  @Test
  void corruptMasterKey() throws Exception {
    Path dataDir = initialised(dir -> write(dir.resolve("master.key"), "c2hvcnQ=\n"));
    assertOneLineReason(start(dataDir), 1, "master.key", "32 bytes");
  }

  @Test
  void anotherMasterKeyThanTheDatabaseWasCreatedWith() throws Exception {
    Path dataDir = initialised(dir -> { });
    String operatorKey = Files.readString(dataDir.resolve("operator.key")).strip();
    try (RunningServer server = Launcher.run("--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0").running()) {
      Https.post(Https.trusting(dataDir.resolve("server.crt")), server.uri().resolve("/v1/tenants"), operatorKey,
          "{\"name\":\"Acme\"}");
    }
    write(dataDir.resolve("master.key"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    assertOneLineReason(start(dataDir), 1, "master.key", "not the master key this database was created with");
  }

  @Test
  void missingMasterKeyOfAUsedDatabase() throws Exception {
    Path dataDir = initialised(dir -> delete(dir.resolve("master.key")));
    assertOneLineReason(start(dataDir), 1, "master.key is missing");
  }

  @Test
  void corruptPrivateKey() throws Exception {
    Path dataDir = initialised(dir -> write(dir.resolve("server.key"), "garbage\n"));
    assertOneLineReason(start(dataDir), 1, "server.key");
  }

  @Test
  void certificateWithoutItsKey() throws Exception {
    Path dataDir = initialised(dir -> delete(dir.resolve("server.key")));
    assertOneLineReason(start(dataDir), 1, "server.crt", "without");
  }

  @Test
  void portInUse() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path dataDir = temp.resolve("data");
      Launcher launched = Launcher.run("--data-dir", dataDir.toString(), "--host", "127.0.0.1",
          "--port", String.valueOf(taken.getLocalPort()));
      assertOneLineReason(launched, 1, String.valueOf(taken.getLocalPort()));
    }
  }

  @Test
  void unsupportedDatabaseUrl() {
    assertOneLineReason(start(temp.resolve("data"), "--database", "jdbc:mysql://db/egosecure"), 1, "jdbc:sqlite:");
  }

  @Test
  void badCommandLinesExitWithStatusTwo() {
    assertOneLineReason(start(temp.resolve("a"), "--port", "70000"), 2, "--port");
    assertOneLineReason(start(temp.resolve("b"), "--tenancy", "sometimes"), 2, "shared or database-per-tenant");
    assertOneLineReason(start(temp.resolve("c"), "--poll-interval", "1"), 2, "--poll-interval");
    assertOneLineReason(start(temp.resolve("d"), "--cert", "x.crt"), 2, "--cert and --key");
    assertOneLineReason(start(temp.resolve("e"), "--no-such-option"), 2, "--no-such-option");
    assertThat(temp.resolve("a")).doesNotExist();
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.delete(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
