package io.egosecure.examples.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reference server started from its entry point on loopback, port 0, real TLS. */
class ReferenceServerIT {
  private static final Pattern READY = Pattern.compile("EgoSecure server ready at https://127\\.0\\.0\\.1:(\\d+)/\n");
  private static final List<String> OWNER_ONLY_FILES = List.of(
      "server.crt", "server.key", "operator.key", "master.key", "server.url", "egosecure.db");

  @TempDir Path temp;

  private String[] args(Path dataDir, String... more) {
    String[] base = {"--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void firstStartPrintsOneReadyLineWritesTheUrlAndServesTheOperatorKey() throws Exception {
    Path dataDir = temp.resolve("data");
    PrintStream systemErr = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    Launcher launched;
    try {
      launched = Launcher.run(args(dataDir));
    } finally {
      System.setErr(systemErr);
    }
    try (RunningServer server = launched.running()) {
      assertThat(launched.out()).matches(READY);
      assertThat(launched.err()).isEmpty();
      URI url = URI.create(Files.readString(dataDir.resolve("server.url")).strip());
      assertThat(url).isEqualTo(server.uri());
      assertThat(launched.out()).isEqualTo("EgoSecure server ready at " + url + "\n");
      assertThat(url.getPort()).isPositive();

      String operatorFile = Files.readString(dataDir.resolve("operator.key"), StandardCharsets.US_ASCII);
      assertThat(operatorFile).matches("esk\\.[a-z0-9-]+\\.[A-Za-z0-9_-]{43}\n");
      String operatorKey = operatorFile.strip();
      // The log names where the key is, never the key.
      assertThat(log.toString(StandardCharsets.UTF_8))
          .contains(dataDir.resolve("operator.key").toString())
          .doesNotContain(operatorKey)
          .doesNotContain(operatorKey.substring(operatorKey.lastIndexOf('.') + 1));

      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      assertThat(Https.get(client, url.resolve("/health/ready"), null).statusCode()).isEqualTo(200);
      assertThat(Https.get(client, url.resolve("/v1/tenants"), operatorKey).body()).contains("\"items\":[]");
      // The certificate names localhost too: the URL a wildcard listener reports.
      assertThat(Https.get(client, URI.create("https://localhost:" + url.getPort() + "/health/live"), null)
          .statusCode()).isEqualTo(200);
    }
    assertThat(dataDir.resolve("server.url")).doesNotExist();
  }

  @Test
  void everyFileIsOwnerOnly() throws Exception {
    Path dataDir = temp.resolve("data");
    try (RunningServer server = Launcher.run(args(dataDir)).running()) {
      assertThat(server.dataDir()).isEqualTo(dataDir.toAbsolutePath());
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir))).isEqualTo("rwx------");
      try (var files = Files.list(dataDir)) {
        assertThat(files.map(f -> f.getFileName().toString()).toList()).containsAll(OWNER_ONLY_FILES);
      }
      try (var files = Files.list(dataDir)) {
        for (Path file : files.toList()) {
          assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
              .as(file.getFileName().toString()).isEqualTo("rw-------");
        }
      }
    }
  }

  @Test
  void laterStartsReuseCertificateKeysAndDatabase() throws Exception {
    Path dataDir = temp.resolve("data");
    String tenantId;
    try (RunningServer server = Launcher.run(args(dataDir)).running()) {
      String operatorKey = Files.readString(dataDir.resolve("operator.key")).strip();
      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      String created = Https.post(client, server.uri().resolve("/v1/tenants"), operatorKey, "{\"name\":\"Acme\"}").body();
      tenantId = created.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
    }
    Map<String, String> before = contents(dataDir);

    Launcher again = Launcher.run(args(dataDir));
    try (RunningServer server = again.running()) {
      assertThat(again.out()).matches(READY);
      assertThat(contents(dataDir)).isEqualTo(before);
      String operatorKey = Files.readString(dataDir.resolve("operator.key")).strip();
      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      assertThat(Https.get(client, server.uri().resolve("/v1/tenants/" + tenantId), operatorKey).statusCode())
          .isEqualTo(200);
    }
  }

  @Test
  void aNewDatabaseBesideAnOldOperatorKeyReplacesTheKey() throws Exception {
    Path dataDir = temp.resolve("data");
    try (RunningServer server = Launcher.run(args(dataDir)).running()) {
      assertThat(server.uri()).isNotNull();
    }
    String oldKey = Files.readString(dataDir.resolve("operator.key")).strip();
    for (String file : List.of("egosecure.db", "egosecure.db-wal", "egosecure.db-shm", "master.key")) {
      Files.deleteIfExists(dataDir.resolve(file));
    }

    try (RunningServer server = Launcher.run(args(dataDir)).running()) {
      String newKey = Files.readString(dataDir.resolve("operator.key")).strip();
      assertThat(newKey).isNotEqualTo(oldKey);
      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      assertThat(Https.get(client, server.uri().resolve("/v1/tenants"), newKey).statusCode()).isEqualTo(200);
      assertThat(Https.get(client, server.uri().resolve("/v1/tenants"), oldKey).statusCode()).isEqualTo(401);
    }
  }

  private static Map<String, String> contents(Path dataDir) throws Exception {
    Map<String, String> contents = new TreeMap<>();
    for (String name : List.of("server.crt", "server.key", "operator.key", "master.key")) {
      contents.put(name, Files.readString(dataDir.resolve(name)));
    }
    return contents;
  }

  @Test
  void databasePerTenantKeepsEachTenantInItsOwnFile() throws Exception {
    Path dataDir = temp.resolve("data");
    try (RunningServer server = Launcher.run(args(dataDir, "--tenancy", "database-per-tenant")).running()) {
      String operatorKey = Files.readString(dataDir.resolve("operator.key")).strip();
      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      assertThat(Https.post(client, server.uri().resolve("/v1/tenants"), operatorKey, "{\"name\":\"Acme\"}")
          .statusCode()).isEqualTo(201);
      assertThat(dataDir.resolve("catalog.db")).exists();
      try (var tenants = Files.list(dataDir.resolve("tenants"))) {
        assertThat(tenants.filter(f -> f.toString().endsWith(".db")).count()).isEqualTo(1);
      }
    }
  }

  @Test
  void plainHttpOnlyWhenAskedAndWithoutCertificate() throws Exception {
    Path dataDir = temp.resolve("data");
    Launcher launched = Launcher.run(args(dataDir, "--insecure-http"));
    try (RunningServer server = launched.running()) {
      assertThat(launched.out()).matches("EgoSecure server ready at http://127\\.0\\.0\\.1:\\d+/\n");
      assertThat(dataDir.resolve("server.crt")).doesNotExist();
      assertThat(Https.get(HttpClient.newHttpClient(), server.uri().resolve("/health/live"), null).statusCode())
          .isEqualTo(200);
    }
  }
}
