package io.egosecure.examples.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 7: no secret is stored or logged in clear. Runs the packaged server as an
 * operator does, on a temporary data dir, with the project's own loggers at TRACE; makes and
 * uses one secret of every kind (operator key, distributor key, tenant admin key, enrollment
 * token, agent credential), rightly and wrongly; then scans the SQLite database with its WAL
 * and shared-memory files, every other file of the data dir but the three that hold a secret by
 * design, and all the server printed, for each secret in every form it could leak in.
 */
class SecretsAtRestIT {
  private static final Pattern READY = Pattern.compile("EgoSecure server ready at (https://\\S+/)");

  @TempDir Path temp;

  @Test
  void noSecretIsInTheDatabaseOrTheLogs() throws Exception {
    Path dataDir = temp.resolve("data");
    Path stdout = temp.resolve("stdout.txt");
    Path stderr = temp.resolve("stderr.txt");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process process = new ProcessBuilder(java, "-Dorg.slf4j.simpleLogger.log.io.egosecure=trace",
        "-jar", Path.of("target", "egosecure-reference-server.jar").toString(),
        "--data-dir", dataDir.toString(), "--host", "127.0.0.1", "--port", "0", "--poll-interval", "5")
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    Map<String, String> secrets = new LinkedHashMap<>();
    try {
      URI url = awaitReady(stdout, process);
      HttpClient client = Https.trusting(dataDir.resolve("server.crt"));
      Api api = new Api(client, url);
      exerciseEverySecret(api, dataDir, secrets);
      // Scanned while running (the WAL holds the latest writes) and after a clean stop.
      List<String> leaks = scan(dataDir, List.of(stdout, stderr), secrets);
      assertThat(leaks).as("secrets found while the server runs").isEmpty();
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(secrets).hasSize(7);
    assertThat(Files.readString(stderr)).as("the server's log, at TRACE for io.egosecure").isNotBlank();
    assertThat(Files.size(dataDir.resolve("egosecure.db"))).isPositive();
    assertThat(scan(dataDir, List.of(stdout, stderr), secrets)).as("secrets found after the server stopped").isEmpty();
  }

  /** Makes one secret of each kind and uses it, rightly and wrongly, so every path may log it. */
  private static void exerciseEverySecret(Api api, Path dataDir, Map<String, String> secrets) throws Exception {
    String operator = Files.readString(dataDir.resolve("operator.key"), StandardCharsets.US_ASCII).strip();
    secrets.put("operator key", operator);
    String distributor = api.json("POST", "/v1/admin-keys", operator, "{\"name\":\"dist\",\"role\":\"DISTRIBUTOR\"}", 201, "key");
    secrets.put("distributor key", distributor);
    String tenant = api.json("POST", "/v1/tenants", distributor, "{\"name\":\"Acme\"}", 201, "id");
    String t = "/v1/tenants/" + tenant;
    String tenantAdmin = api.json("POST", t + "/admin-keys", distributor, "{\"name\":\"ta\",\"role\":\"TENANT_ADMIN\"}", 201, "key");
    secrets.put("tenant admin key", tenantAdmin);
    api.call("POST", t + "/policies", tenantAdmin,
        "{\"name\":\"USB\",\"kind\":\"device-control\",\"settings\":{\"usb\":\"block\"},\"targets\":{\"all\":true}}", 201);
    api.call("POST", t + "/publish", tenantAdmin, "{\"comment\":\"first\"}", 201);
    String token = api.json("POST", t + "/enrollment-tokens", tenantAdmin,
        "{\"expiresInSeconds\":3600,\"maxUses\":1,\"groups\":[\"sales\"]}", 201, "token");
    secrets.put("enrollment token", token);
    String enroll = "{\"token\":\"" + token + "\",\"name\":\"host-01\"}";
    String agentId = api.json("POST", "/v1/agent/enroll", null, enroll, 201, "agentId");
    api.call("POST", "/v1/agent/enroll", null, enroll, 401); // used up: the failure path
    String agent = api.lastCredential;
    secrets.put("agent credential", agent);
    api.call("GET", "/v1/agent/policies", agent, null, 200);
    api.call("POST", "/v1/agent/status", agent, "{\"revision\":1,\"state\":\"APPLIED\",\"message\":\"\"}", 204);
    // Every credential of the wrong kind, where the other kind belongs.
    api.call("GET", "/v1/agent/policies", tenantAdmin, null, 401);
    api.call("GET", "/v1/agent/policies", token, null, 401);
    api.call("GET", t + "/policies", agent, null, 401);
    api.call("GET", "/v1/admin-keys", distributor, null, 403);
    api.call("GET", "/metrics", operator, null, 200);
    // A second operator key, deleted, then used: the revoked path.
    String second = api.json("POST", "/v1/admin-keys", operator, "{\"name\":\"op2\",\"role\":\"OPERATOR\"}", 201, "key");
    secrets.put("deleted operator key", second);
    String secondId = api.lastId;
    api.call("DELETE", "/v1/admin-keys/" + secondId, operator, null, 204);
    api.call("GET", "/v1/tenants", second, null, 401);
    api.call("DELETE", t + "/agents/" + agentId, tenantAdmin, null, 204);
    api.call("GET", "/v1/agent/policies", agent, null, 401);
    // The master key sealing tenants' signing keys must not be in the database either.
    secrets.put("master key", Files.readString(dataDir.resolve("master.key"), StandardCharsets.US_ASCII).strip());
  }

  /** Each secret in every form a careless store or log could hold it in. */
  private static Map<String, byte[]> forms(String secret) {
    Map<String, byte[]> forms = new LinkedHashMap<>();
    byte[] utf8 = secret.getBytes(StandardCharsets.UTF_8);
    forms.put("as is", utf8);
    forms.put("UTF-16LE", secret.getBytes(StandardCharsets.UTF_16LE));
    forms.put("base64", Base64.getEncoder().encode(utf8));
    forms.put("base64url", Base64.getUrlEncoder().withoutPadding().encode(utf8));
    forms.put("hex", HexFormat.of().formatHex(utf8).getBytes(StandardCharsets.US_ASCII));
    // The random part alone is the secret; the prefix, tenant and id before it are ids.
    String random = secret.substring(secret.lastIndexOf('.') + 1);
    forms.put("its random part", random.getBytes(StandardCharsets.US_ASCII));
    byte[] raw = decode(random);
    if (raw != null && raw.length >= 16) {
      forms.put("its random bytes", raw);
      forms.put("its random bytes, base64", Base64.getEncoder().encode(raw));
      forms.put("its random bytes, hex", HexFormat.of().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
      forms.put("its random bytes, HEX", HexFormat.of().withUpperCase().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
    }
    return forms;
  }

  private static byte[] decode(String base64) {
    for (Base64.Decoder decoder : List.of(Base64.getUrlDecoder(), Base64.getDecoder(), Base64.getMimeDecoder())) {
      try {
        return decoder.decode(base64);
      } catch (IllegalArgumentException notThisAlphabet) {
        // try the next
      }
    }
    return null;
  }

  private static List<String> scan(Path dataDir, List<Path> logs, Map<String, String> secrets) throws Exception {
    List<Path> files = new ArrayList<>(logs);
    try (Stream<Path> all = Files.list(dataDir)) {
      // operator.key, master.key and server.key hold their secret by design (owner-only files).
      all.filter(Files::isRegularFile)
          .filter(f -> !List.of("operator.key", "master.key", "server.key").contains(f.getFileName().toString()))
          .forEach(files::add);
    }
    assertThat(files.stream().map(f -> f.getFileName().toString())).contains("egosecure.db", "stderr.txt");
    List<String> leaks = new ArrayList<>();
    for (Path file : files) {
      leaks.addAll(leaksIn(file, secrets));
    }
    // The scanner itself: it finds the operator key where it is kept by design.
    assertThat(leaksIn(dataDir.resolve("operator.key"), secrets)).contains("operator key (as is) in operator.key");
    return leaks;
  }

  private static List<String> leaksIn(Path file, Map<String, String> secrets) throws Exception {
    List<String> leaks = new ArrayList<>();
    byte[] content = Files.readAllBytes(file);
    secrets.forEach((kind, secret) -> forms(secret).forEach((form, bytes) -> {
      if (indexOf(content, bytes) >= 0) {
        leaks.add(kind + " (" + form + ") in " + file.getFileName());
      }
    }));
    return leaks;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static URI awaitReady(Path stdout, Process process) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Matcher ready = READY.matcher(Files.readString(stdout, StandardCharsets.UTF_8));
      if (ready.find()) {
        return URI.create(ready.group(1));
      }
      assertThat(process.isAlive()).as("the server exited before it was ready").isTrue();
      Thread.sleep(50);
    }
    throw new AssertionError("no ready line within 60 s");
  }

  /** The admin and agent API as this test needs it: a call, its expected status, a member. */
  private static final class Api {
    private final HttpClient client;
    private final URI base;
    String lastCredential;
    String lastId;

    Api(HttpClient client, URI base) {
      this.client = client;
      this.base = base;
    }

    HttpResponse<String> call(String method, String path, String bearer, String json, int expected) throws Exception {
      HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
          .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
      if (json != null) {
        request.header("Content-Type", "application/json");
      }
      if (bearer != null) {
        request.header("Authorization", "Bearer " + bearer);
      }
      HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isEqualTo(expected);
      Matcher credential = Pattern.compile("\"credential\":\"([^\"]+)\"").matcher(response.body());
      if (credential.find()) {
        lastCredential = credential.group(1);
      }
      Matcher id = Pattern.compile("\"id\":\"([^\"]+)\"").matcher(response.body());
      if (id.find()) {
        lastId = id.group(1);
      }
      return response;
    }

    String json(String method, String path, String bearer, String json, int expected, String member) throws Exception {
      Matcher value = Pattern.compile("\"" + member + "\":\"([^\"]+)\"")
          .matcher(call(method, path, bearer, json, expected).body());
      assertThat(value.find()).as("%s in the answer to %s %s", member, method, path).isTrue();
      return value.group(1);
    }
  }
}
