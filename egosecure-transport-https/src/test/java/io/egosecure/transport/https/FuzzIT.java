package io.egosecure.transport.https;

import static io.egosecure.transport.https.HttpsFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation fuzzer over every operation of {@code openapi.yaml}, written raw over TLS so
 * no client library cleans anything up: mutated JSON bodies, headers, paths, methods, query
 * strings, sizes around the body limits, and WebSocket upgrades and frames. Whatever it sends,
 * the server answers no 5xx (but a 503 with Retry-After), every error is problem+json with
 * {@code type}, {@code title}, {@code status} and {@code detail}, no body shows a stack trace or a
 * Java class, and the server is healthy after.
 *
 * <p>CI sends 2,000 requests; the documented run sends more and pins the seed to reproduce:
 * {@code mvn -Dit.test=FuzzIT -Dfuzz.requests=10000 -Dfuzz.seed=42 -pl egosecure-transport-https verify}.
 */
class FuzzIT {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FuzzIT.class);
  private static final int REQUESTS = Integer.getInteger("fuzz.requests", 2_000);
  private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
  /** What would betray internals: a stack frame, an exception, a Java or Jetty class name. */
  private static final Pattern INTERNALS =
      Pattern.compile("Exception|\\tat |at io\\.|java\\.|javax\\.|org\\.eclipse|jakarta\\.|com\\.fasterxml|io\\.egosecure\\.|JsonToken");
  private static final int TIMEOUT_MILLIS = 15_000;
  private static final String[] METHODS =
      {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "get", "PROPFIND"};
  private static final String[] BAD_IDS = {
      "%zz", "%", "%0", "%00", "%2F", "%2f..%2f", "..", "%2e%2e", "%C3%28", "%FF%FE", "%F0%9F%92%A9",
      "x".repeat(300), "t-" + "a".repeat(2_000), "-1", "99999999999999999999", "0", "%20", "+", "a;b=c",
      "<script>", "${jndi:ldap://127.0.0.1/a}", "t-aaaaaaaaaaaaaaaaaaaa", "p-aaaaaaaaaaaaaaaaaaaa", "%E2%80%8B",
      "%u0041", "\\..\\", "null", "undefined", "%0d%0aX-Injected:%20yes"};
  private static final String[] NUMBERS = {
      "-1", "0", "1", "60", "61", "1000", "1001", "abc", "", "1e3", "0x10", "99999999999999999999", "%00",
      "+5", "%205", "5.0", "NaN", "%E2%80%8B", "-0", "9223372036854775808", "%zz", "1,2"};
  private static final String[] CONTENT_TYPES = {
      "text/plain", "application/json; charset=latin1", "application/problem+json", "application/json;;",
      "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "APPLICATION/JSON",
      "application/jsonx", "application/json; charset=utf-16", "*/*", "application/json\u00ff"};
  private static final String[] ETAGS = {
      "*", "W/\"1\"", "\"abc\"", "\"\"", "\"", "\"1\", \"2\"", "\"99999999999999999999\"", "\"-1\"", "\u00ff\u00fe",
      "1", "\"1", "W/", "\"" + "9".repeat(500) + "\""};

  private final HttpsFixture fx;
  private final Random random = new Random(SEED);
  private final List<ApiOperations.Operation> operations = ApiOperations.all();
  private final RawHttps raw;
  private World world;

  FuzzIT() throws Exception {
    fx = new HttpsFixture(tls -> tls, limits -> limits
        .agentRate(new RateLimit(100_000, 100_000)).adminRate(new RateLimit(100_000, 100_000))
        .enrollRate(new RateLimit(100_000, 100_000))
        // A long poll with a current ETag parks: keep parked fuzz requests short.
        .maxWait(Duration.ofSeconds(1)));
    SSLContext context = TestCertificates.clientContext(fx.serverIdentity, null);
    raw = new RawHttps(context, fx.https.port());
  }

  @AfterEach
  void close() {
    fx.close();
  }

  /** The fuzzed tenant and every kind of credential; rebuilt when a request deletes part of it. */
  record World(String distributorKey, String distributorKeyId, String tenantId, String tenantAdminKey,
      String tenantAdminKeyId, String policyId, String enrollmentToken, String enrollmentTokenId,
      String agentCredential, String agentId, String etag) {}

  private World provision() throws Exception {
    String op = fx.operatorKey;
    JsonNode distributor = json(fx.post("/v1/admin-keys", op, "{\"name\":\"fuzz-distributor\",\"role\":\"DISTRIBUTOR\"}"));
    String distributorKey = distributor.get("key").asText();
    String tenant = json(fx.post("/v1/tenants", distributorKey, "{\"name\":\"fuzz-tenant\"}")).get("id").asText();
    String t = "/v1/tenants/" + tenant;
    JsonNode admin = json(fx.post(t + "/admin-keys", distributorKey, "{\"name\":\"fuzz-admin\",\"role\":\"TENANT_ADMIN\"}"));
    String policy = json(fx.post(t + "/policies", distributorKey,
        "{\"name\":\"fuzz-policy\",\"kind\":\"device-control\",\"settings\":{\"usb\":\"block\"},\"targets\":{\"all\":true}}"))
        .get("id").asText();
    fx.post(t + "/publish", distributorKey, "{\"comment\":\"fuzz\"}");
    JsonNode token = json(fx.post(t + "/enrollment-tokens", distributorKey,
        "{\"expiresInSeconds\":86400,\"maxUses\":100000,\"groups\":[\"sales\"]}"));
    JsonNode agent = json(fx.post("/v1/agent/enroll", null,
        "{\"token\":\"" + token.get("token").asText() + "\",\"name\":\"fuzz-host\"}"));
    String credential = agent.get("credential").asText();
    String etag = fx.get("/v1/agent/policies", credential).headers().firstValue("ETag").orElseThrow();
    return new World(distributorKey, distributor.get("id").asText(), tenant, admin.get("key").asText(),
        admin.get("id").asText(), policy, token.get("token").asText(), token.get("id").asText(),
        credential, agent.get("agentId").asText(), etag);
  }

  @Test
  void malformedRequestsOnEveryOperationAnswerNo5xxAndNoInternals() throws Exception {
    log.info(String.format("%d requests over %d operations, seed %d (rerun with -Dfuzz.seed=%d)",
        REQUESTS, operations.size(), SEED, SEED));
    HttpsFixture.Story control = fx.story();
    world = provision();
    List<String> failures = new ArrayList<>();
    Map<String, Integer> statuses = new TreeMap<>();
    Map<String, Integer> perOperation = new TreeMap<>();
    long started = System.nanoTime();
    int rebuilt = 0;
    List<String> slow = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      ApiOperations.Operation operation = operations.get(random.nextInt(operations.size()));
      Fuzzed request = request(operation);
      long sent = System.nanoTime();
      RawHttps.Answer answer = raw.send(request.bytes(), request.method().equals("HEAD"), TIMEOUT_MILLIS);
      long millis = (System.nanoTime() - sent) / 1_000_000;
      if (millis > 500) {
        slow.add(millis + " ms " + answer.statusLine() + " " + request.describe());
      }
      statuses.merge(answer.statusLine().length() > 3 ? "none" : answer.statusLine(), 1, Integer::sum);
      perOperation.merge(operation.route(), 1, Integer::sum);
      String problem = check(answer, request);
      if (problem != null && failures.size() < 50) {
        failures.add("#" + i + " " + request.describe() + ": " + problem);
      }
      if (answer.status() == 204 && request.method().equals("DELETE")) {
        world = provision(); // something of the world is gone: fuzz a whole one again
        rebuilt++;
      }
    }
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    log.info(String.format("%d requests in %d s, statuses %s, world rebuilt %d times",
        REQUESTS, seconds, statuses, rebuilt));
    slow.stream().limit(20).forEach(line -> log.info("slow: {}", line));

    assertThat(failures).as("seed %d: failures (first 50)", SEED).isEmpty();
    assertThat(perOperation.keySet()).as("every documented operation was fuzzed")
        .containsAll(operations.stream().map(ApiOperations.Operation::route).toList());
    assertHealthy(control);
  }

  @Test
  void webSocketUpgradesAndGarbageFramesLeaveTheServerHealthy() throws Exception {
    int sessions = Math.max(100, REQUESTS / 20);
    log.info("{} WebSocket sessions, seed {}", sessions, SEED);
    HttpsFixture.Story control = fx.story();
    world = provision();
    List<String> failures = new ArrayList<>();
    Map<String, Integer> outcomes = new TreeMap<>();
    for (int i = 0; i < sessions && failures.size() < 50; i++) {
      String outcome = random.nextInt(3) == 0 ? badUpgrade(i, failures) : garbageFrames(i, failures);
      outcomes.merge(outcome, 1, Integer::sum);
    }
    log.info("WebSocket outcomes {}", outcomes);

    assertThat(failures).as("seed %d: failures (first 50)", SEED).isEmpty();
    awaitPushSockets(0);
    // A well-behaved socket still gets its notification.
    try (SSLSocket socket = upgrade(control.agentCredential(), Map.of())) {
      assertThat(RawHttps.read(socket.getInputStream(), false).status()).isEqualTo(101);
      awaitPushSockets(1);
      fx.post("/v1/tenants/" + control.tenantId() + "/policies", fx.operatorKey,
          "{\"name\":\"after\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}");
      fx.post("/v1/tenants/" + control.tenantId() + "/publish", fx.operatorKey, "{}");
      Frame frame = Frame.read(socket.getInputStream());
      assertThat(frame.opcode()).isEqualTo(1);
      assertThat(new String(frame.payload(), StandardCharsets.UTF_8)).contains("policies-changed");
    }
    assertHealthy(control);
  }

  private void assertHealthy(HttpsFixture.Story control) throws Exception {
    assertThat(fx.get("/health/ready", null).statusCode()).isEqualTo(200);
    HttpResponse<String> poll = fx.get("/v1/agent/policies", control.agentCredential());
    assertThat(poll.statusCode()).isEqualTo(200);
    assertThat(json(poll).get("tenantId").asText()).isEqualTo(control.tenantId());
    HttpResponse<String> tenants = fx.get("/v1/tenants/" + control.tenantId(), fx.operatorKey);
    assertThat(tenants.statusCode()).isEqualTo(200);
    assertThat(fx.post("/v1/tenants/" + control.tenantId() + "/publish", fx.operatorKey, "{\"comment\":\"after fuzz\"}")
        .statusCode()).isIn(200, 201);
  }

  private void awaitPushSockets(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (fx.https.handler().openPushSockets() != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(fx.https.handler().openPushSockets()).as("open push sockets").isEqualTo(expected);
  }

  // --- checks ---

  /** What is wrong with {@code answer}, or null. */
  private static String check(RawHttps.Answer answer, Fuzzed request) {
    if (answer.status() == 0) {
      return "no answer: " + answer.failure();
    }
    String body = answer.bodyText();
    if (answer.status() >= 500 && !(answer.status() == 503 && answer.header("Retry-After").isPresent())) {
      return answer.status() + " " + clip(body);
    }
    if (INTERNALS.matcher(body).find() && !request.path().startsWith("/metrics")) {
      return "internals in the body: " + clip(body);
    }
    if (answer.status() >= 400 && !request.method().equals("HEAD")) {
      String contentType = answer.header("Content-Type").orElse("");
      if (!contentType.startsWith("application/problem+json")) {
        return answer.status() + " with Content-Type '" + contentType + "': " + clip(body);
      }
      JsonNode problem;
      try {
        problem = Json.readTree(answer.body());
      } catch (RuntimeException e) {
        return answer.status() + " with a body that is not JSON: " + clip(body);
      }
      for (String member : List.of("type", "title", "detail")) {
        if (!problem.path(member).isTextual() || problem.path(member).asText().isBlank()) {
          return answer.status() + " without '" + member + "': " + clip(body);
        }
      }
      if (problem.path("status").asInt() != answer.status()) {
        return answer.status() + " whose problem says status " + problem.path("status") + ": " + clip(body);
      }
      if (answer.status() == 401 && answer.header("WWW-Authenticate").isEmpty()) {
        return "401 without WWW-Authenticate";
      }
      if ((answer.status() == 429 || answer.status() == 503) && answer.header("Retry-After").isEmpty()) {
        return answer.status() + " without Retry-After";
      }
    }
    return null;
  }

  private static String clip(String text) {
    String line = text.replaceAll("\\p{Cntrl}", "?");
    return line.length() <= 300 ? line : line.substring(0, 300) + "…";
  }

  // --- HTTP requests ---

  /** One fuzzed request: its bytes and a short description to reproduce it from. */
  record Fuzzed(String method, String path, List<String> mutations, byte[] bytes) {
    String describe() {
      String shown = path.length() > 120 ? path.substring(0, 120) + "…(" + path.length() + ")" : path;
      return method + " " + shown + " " + mutations;
    }
  }

  private Fuzzed request(ApiOperations.Operation operation) {
    List<String> mutations = new ArrayList<>();
    String method = operation.method();
    if (chance(12)) {
      method = pick(METHODS);
      mutations.add("method");
    }
    String path = path(operation, mutations);
    String query = query(operation, mutations);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    add(headers, "Host", "localhost");
    credential(operation, headers, mutations);
    byte[] body = body(operation, mutations);
    if (body != null) {
      add(headers, "Content-Type", chance(80) ? "application/json" : pick(CONTENT_TYPES));
    }
    conditionals(operation, headers, mutations);
    if (operation.isWebSocket() && chance(50)) {
      add(headers, "Upgrade", "websocket");
      add(headers, "Connection", "Upgrade");
      add(headers, "Sec-WebSocket-Version", chance(70) ? "13" : pick(NUMBERS));
      add(headers, "Sec-WebSocket-Key", chance(70) ? webSocketKey() : pick(BAD_IDS));
      mutations.add("upgrade");
    }
    String target = path + query;
    byte[] bytes = serialize(method, target, headers, body, mutations);
    return new Fuzzed(method, target, List.copyOf(mutations), bytes);
  }

  private String path(ApiOperations.Operation operation, List<String> mutations) {
    String badParameter = !operation.pathParameters().isEmpty() && chance(25)
        ? pick(operation.pathParameters().toArray(String[]::new)) : null;
    String path = operation.path(name -> {
      if (name.equals(badParameter)) {
        mutations.add("bad {" + name + "}");
        return pick(BAD_IDS);
      }
      return id(operation, name);
    });
    if (chance(8)) {
      mutations.add("path shape");
      path = switch (random.nextInt(10)) {
        case 0 -> path + "/";
        case 1 -> "/v1/.." + path;
        case 2 -> path.replace("/v1/", "/V1/");
        case 3 -> path.replaceFirst("/", "//");
        case 4 -> path + ";jsessionid=1";
        case 5 -> path + "/../../../../etc/passwd";
        case 6 -> path.replace("/", "%2F");
        case 7 -> "https://localhost" + path;
        case 8 -> path + "/%2e%2e/%2e%2e/admin-keys";
        default -> path + "#fragment";
      };
    }
    return path;
  }

  /** The id of a real resource of the fuzzed world for path parameter {@code name}. */
  private String id(ApiOperations.Operation operation, String name) {
    return switch (name) {
      case "t" -> world.tenantId();
      case "p" -> world.policyId();
      case "k" -> operation.template().startsWith("/v1/admin-keys") ? world.distributorKeyId() : world.tenantAdminKeyId();
      case "e" -> world.enrollmentTokenId();
      case "a" -> world.agentId();
      case "n" -> "1";
      default -> throw new IllegalStateException("openapi.yaml has a path parameter the fuzzer does not know: {"
          + name + "} in " + operation.route() + "; teach FuzzIT.id its resource");
    };
  }

  private String query(ApiOperations.Operation operation, List<String> mutations) {
    boolean hasParameters = !operation.queryParameters().isEmpty();
    if (!chance(hasParameters ? 50 : 8)) {
      return "";
    }
    mutations.add("query");
    List<String> names = new ArrayList<>(operation.queryParameters());
    names.addAll(List.of("limit", "cursor", "wait", "zz-unknown"));
    StringBuilder query = new StringBuilder("?");
    int parameters = 1 + random.nextInt(3);
    for (int i = 0; i < parameters; i++) {
      String name = names.get(random.nextInt(names.size()));
      String value = switch (name) {
        case "cursor" -> chance(50) ? pick(BAD_IDS) : Base64.getUrlEncoder().encodeToString(bytes(1 + random.nextInt(40)));
        case "state" -> chance(50) ? "APPLIED" : pick(BAD_IDS);
        case "lastSeenBefore" -> chance(50) ? "2026-01-01T00:00:00Z" : pick(new String[] {"yesterday", "%ff", "2026-13-45T99:00:00Z", "1e9"});
        case "group" -> chance(50) ? "sales" : pick(BAD_IDS);
        default -> pick(NUMBERS);
      };
      query.append(i == 0 ? "" : "&").append(name).append(chance(10) ? "" : "=" + value);
    }
    if (chance(5)) {
      query.append("&pad=").append("q".repeat(9_000)); // over the request header limit
    }
    if (chance(5)) {
      query.append("&%zz=%");
    }
    return query.toString();
  }

  private void credential(ApiOperations.Operation operation, Map<String, List<String>> headers, List<String> mutations) {
    String right = switch (operation.scheme()) {
      case ADMIN_KEY -> pick(new String[] {fx.operatorKey, world.distributorKey(), world.tenantAdminKey()});
      case AGENT_CREDENTIAL -> world.agentCredential();
      case NONE -> null;
    };
    if (chance(45)) {
      if (right != null) {
        add(headers, "Authorization", "Bearer " + right);
      }
      return;
    }
    mutations.add("credential");
    String any = pick(new String[] {fx.operatorKey, world.distributorKey(), world.tenantAdminKey(),
        world.agentCredential(), world.enrollmentToken()});
    switch (random.nextInt(12)) {
      case 0 -> { } // none at all
      case 1 -> add(headers, "Authorization", "Basic dXNlcjpwYXNzd29yZA==");
      case 2 -> add(headers, "Authorization", "Bearer");
      case 3 -> add(headers, "Authorization", "bearer " + any);
      case 4 -> add(headers, "Authorization", "Bearer " + any + " extra");
      case 5 -> {
        add(headers, "Authorization", "Bearer " + any);
        add(headers, "Authorization", "Bearer " + pick(BAD_IDS));
      }
      case 6 -> add(headers, "Authorization", "Bearer " + "A".repeat(2_000 + random.nextInt(8_000)));
      case 7 -> add(headers, "Authorization", "Bearer " + any.substring(0, any.length() - 1) + "\u00ff");
      case 8 -> add(headers, "Authorization", "Bearer " + any.replace('.', '_'));
      case 9 -> add(headers, "Authorization", "Bearer esk." + world.distributorKeyId() + "." + "A".repeat(43));
      default -> add(headers, "Authorization", "Bearer " + any); // a valid credential, maybe of the wrong kind
    }
  }

  private void conditionals(ApiOperations.Operation operation, Map<String, List<String>> headers, List<String> mutations) {
    boolean policyItem = operation.template().endsWith("/policies/{p}");
    if (policyItem && chance(70) || chance(5)) {
      add(headers, "If-Match", chance(40) ? "\"1\"" : pick(ETAGS));
      mutations.add("If-Match");
    }
    if (operation.template().equals("/v1/agent/policies") && chance(60) || chance(5)) {
      add(headers, "If-None-Match", chance(50) ? world.etag() : pick(ETAGS));
      mutations.add("If-None-Match");
    }
    if (chance(3)) {
      add(headers, "X-Huge", "h".repeat(9_000));
      mutations.add("huge header");
    }
    if (chance(3)) {
      for (int i = 0; i < 150; i++) {
        add(headers, "X-Many-" + i, "v");
      }
      mutations.add("many headers");
    }
    if (chance(3)) {
      add(headers, "X-Binary", new String(bytes(20), StandardCharsets.ISO_8859_1).replaceAll("[\r\n]", "x"));
      mutations.add("binary header");
    }
    if (chance(2)) {
      add(headers, "Expect", chance(50) ? "100-continue" : "teapot");
      mutations.add("Expect");
    }
    if (chance(2)) {
      headers.remove("Host");
      mutations.add("no Host");
    }
    if (chance(2)) {
      add(headers, "Upgrade", "h2c");
      add(headers, "Connection", "Upgrade, HTTP2-Settings");
      mutations.add("h2c");
    }
  }

  // --- bodies ---

  private byte[] body(ApiOperations.Operation operation, List<String> mutations) {
    if (operation.body().isEmpty()) {
      if (!chance(10)) {
        return null;
      }
      mutations.add("unexpected body");
      return chance(50) ? "{}".getBytes(StandardCharsets.UTF_8) : bytes(random.nextInt(200));
    }
    Map<String, String> hints = Map.of("token", world.enrollmentToken(), "name", "fuzz-name", "comment", "fuzz");
    JsonNode valid = ApiOperations.validBody(operation.body().get(), random, hints);
    if (chance(25)) {
      return Json.write(valid);
    }
    boolean agent = operation.template().startsWith("/v1/agent/");
    long limit = agent ? TransportLimits.defaults().maxAgentBodyBytes() : TransportLimits.defaults().maxAdminBodyBytes();
    int kind = random.nextInt(22);
    mutations.add("body#" + kind);
    return switch (kind) {
      case 0 -> truncate(Json.write(valid));
      case 1 -> Json.write(swapType(valid.deepCopy()));
      case 2 -> replaceFirstValue(valid, pick(new String[] {"1e400", "99999999999999999999999999", "-9223372036854775809",
          "1.5", "-0", "0.0000000000000000000001", "123456789012345678901234567890e999999"}));
      case 3 -> replaceFirstValue(valid, "[".repeat(3_000 + random.nextInt(20_000)) + "]".repeat(10));
      case 4 -> invalidUtf8(Json.write(valid));
      case 5 -> duplicateKey(Json.write(valid));
      case 6 -> {
        ObjectNode object = valid.isObject() ? (ObjectNode) valid.deepCopy() : Json.object();
        object.put("zzUnknown", 1).putObject("nested").put("x", "y");
        yield Json.write(object);
      }
      case 7 -> {
        ObjectNode object = valid.isObject() ? (ObjectNode) valid.deepCopy() : Json.object();
        Iterator<String> names = object.fieldNames();
        if (names.hasNext()) {
          object.remove(names.next());
        }
        yield Json.write(object);
      }
      case 8 -> pick(new String[] {"null", "[]", "\"string\"", "1", "", " ", "{", "}", "{}", "true"}).getBytes(StandardCharsets.UTF_8);
      case 9 -> bytes(random.nextInt(3_000));
      case 10 -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Json.write(valid));
      case 11 -> concat(Json.write(valid), " trailing}".getBytes(StandardCharsets.UTF_8));
      case 12 -> replaceFirstValue(valid, "\"\\uD800\\uDBFF\\u0000\"");
      case 13 -> padded(valid, limit - 1 + random.nextInt(3));
      case 14 -> padded(valid, limit / 2 + random.nextInt((int) limit));
      case 15 -> replaceFirstValue(valid, "\"" + "\u0001\u0002\u001f".repeat(10) + "\"");
      case 16 -> replaceFirstValue(valid, pick(new String[] {"007", "+1", ".5", "1.", "0x1F", "Infinity", "NaN", "-"}));
      case 17 -> ("/* comment */" + new String(Json.write(valid), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
      case 18 -> ("{" + "\"a\":{".repeat(2_000) + "}".repeat(2_001)).getBytes(StandardCharsets.UTF_8);
      case 19 -> replaceFirstValue(valid, "{\"" + "k".repeat(100) + "\":" + "[1,".repeat(500) + "1" + "]".repeat(500) + "}");
      case 20 -> new String(Json.write(valid), StandardCharsets.UTF_8).replace("\"", "'").getBytes(StandardCharsets.UTF_8);
      default -> Json.write(swapType(swapType(valid.deepCopy())));
    };
  }

  private byte[] truncate(byte[] json) {
    return java.util.Arrays.copyOf(json, json.length <= 1 ? 0 : random.nextInt(json.length - 1) + 1);
  }

  /** The first member (or element) replaced by a value of another JSON type. */
  private JsonNode swapType(JsonNode node) {
    if (node instanceof ObjectNode object && object.size() > 0) {
      List<String> names = new ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      String name = names.get(random.nextInt(names.size()));
      JsonNode current = object.get(name);
      if (current.isContainerNode() && current.size() > 0 && chance(40)) {
        swapType(current);
      } else {
        object.set(name, pick(new JsonNode[] {Json.object(), Json.readTree("[]".getBytes()), Json.readTree("1".getBytes()),
            Json.readTree("\"x\"".getBytes()), Json.readTree("true".getBytes()), Json.readTree("null".getBytes()),
            Json.readTree("-1".getBytes()), Json.readTree("[[],{}]".getBytes())}));
      }
    }
    return node;
  }

  /** The JSON text with the value of a random member replaced by {@code raw}, valid JSON or not. */
  private byte[] replaceFirstValue(JsonNode valid, String raw) {
    if (!(valid instanceof ObjectNode object) || object.size() == 0) {
      return ("{\"x\":" + raw + "}").getBytes(StandardCharsets.UTF_8);
    }
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    String name = names.get(random.nextInt(names.size()));
    ObjectNode copy = object.deepCopy();
    copy.put(name, "\u0000MARKER\u0000");
    String text = new String(Json.write(copy), StandardCharsets.UTF_8);
    return text.replace("\"\\u0000MARKER\\u0000\"", raw).getBytes(StandardCharsets.UTF_8);
  }

  private byte[] invalidUtf8(byte[] json) {
    byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE2, (byte) 0x82}};
    String text = new String(json, StandardCharsets.ISO_8859_1);
    int quote = text.indexOf('"', text.indexOf(':') + 1);
    int at = quote < 0 ? json.length / 2 : quote + 1;
    return concat(concat(java.util.Arrays.copyOf(json, at), bad[random.nextInt(bad.length)]),
        java.util.Arrays.copyOfRange(json, at, json.length));
  }

  private byte[] duplicateKey(byte[] json) {
    String text = new String(json, StandardCharsets.UTF_8);
    if (!text.startsWith("{\"") || text.length() < 4) {
      return "{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8);
    }
    int colon = text.indexOf(':');
    String name = text.substring(1, colon);
    return ("{" + name + ":[\"dup\"]," + text.substring(1)).getBytes(StandardCharsets.UTF_8);
  }

  /** {@code valid} with an unknown padding member, {@code size} bytes in all. */
  private static byte[] padded(JsonNode valid, long size) {
    String text = new String(Json.write(valid.isObject() ? valid : Json.object()), StandardCharsets.UTF_8);
    String prefix = "{\"padding\":\"";
    String suffix = text.equals("{}") ? "\"}" : "\"," + text.substring(1);
    int pad = (int) Math.max(0, size - prefix.length() - suffix.length());
    return (prefix + "p".repeat(pad) + suffix).getBytes(StandardCharsets.UTF_8);
  }

  private byte[] serialize(String method, String target, Map<String, List<String>> headers, byte[] body,
      List<String> mutations) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String version = chance(2) ? pick(new String[] {"HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTX/1.1"}) : "HTTP/1.1";
    if (!version.equals("HTTP/1.1")) {
      mutations.add(version);
    }
    write(out, method + " " + target + " " + version + "\r\n");
    headers.forEach((name, values) -> values.forEach(value -> write(out, name + ": " + value + "\r\n")));
    byte[] content = body == null ? new byte[0] : body;
    int framing = random.nextInt(100);
    if (framing < 3 && content.length > 0) {
      mutations.add("chunked");
      write(out, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      String size = chance(70) ? Integer.toHexString(content.length) : pick(new String[] {"zz", "-1", "", "0x10", "1;ext=\"x"});
      write(out, size + "\r\n");
      out.writeBytes(content);
      write(out, "\r\n0\r\n\r\n");
      return out.toByteArray();
    }
    if (framing < 5) {
      mutations.add("two Content-Lengths");
      write(out, "Content-Length: " + content.length + "\r\nContent-Length: " + (content.length + 1) + "\r\n");
    } else if (framing < 8 && content.length > 2) {
      mutations.add("short Content-Length"); // the rest reads as a second, garbage request
      write(out, "Content-Length: " + (content.length / 2) + "\r\n");
    } else if (framing < 10) {
      mutations.add("bad Content-Length");
      write(out, "Content-Length: " + pick(new String[] {"-1", "abc", "99999999999999999999", "1e3", ""}) + "\r\n");
    } else if (body != null || chance(50)) {
      write(out, "Content-Length: " + content.length + "\r\n");
    }
    write(out, "Connection: close\r\n\r\n");
    out.writeBytes(content);
    return out.toByteArray();
  }

  // --- WebSocket ---

  private String badUpgrade(int i, List<String> failures) throws IOException {
    Map<String, String> extra = new LinkedHashMap<>();
    String credential = switch (random.nextInt(8)) {
      case 0 -> null;
      case 1 -> fx.operatorKey;
      case 2 -> world.tenantAdminKey();
      case 3 -> world.enrollmentToken();
      case 4 -> "esa." + world.tenantId() + "." + world.agentId() + "." + "A".repeat(43);
      case 5 -> pick(BAD_IDS);
      case 6 -> {
        extra.put("Sec-WebSocket-Version", pick(NUMBERS));
        yield world.agentCredential();
      }
      default -> {
        extra.put("Sec-WebSocket-Key", chance(50) ? "" : "not base64!");
        yield world.agentCredential();
      }
    };
    try (SSLSocket socket = upgrade(credential, extra)) {
      RawHttps.Answer answer = RawHttps.read(socket.getInputStream(), false);
      boolean authenticated = credential != null && credential.equals(world.agentCredential());
      if (answer.status() == 101) {
        if (!authenticated) {
          failures.add("ws#" + i + " upgraded with credential " + clip(String.valueOf(credential)));
        }
        sendClose(socket.getOutputStream(), 1000);
        return "101";
      }
      String problem = check(answer, new Fuzzed("GET", EgoSecureHandler.NOTIFICATIONS_PATH, List.of("upgrade"), new byte[0]));
      if (problem != null || answer.status() >= 500 || !authenticated && answer.status() != 401) {
        failures.add("ws#" + i + " upgrade with " + extra + ": " + (problem != null ? problem : answer.status() + " " + clip(answer.bodyText())));
      }
      return Integer.toString(answer.status());
    }
  }

  private String garbageFrames(int i, List<String> failures) throws IOException {
    try (SSLSocket socket = upgrade(world.agentCredential(), Map.of())) {
      RawHttps.Answer answer = RawHttps.read(socket.getInputStream(), false);
      if (answer.status() != 101) {
        failures.add("ws#" + i + " a valid upgrade answered " + answer.statusLine() + " " + clip(answer.bodyText()));
        return "refused";
      }
      OutputStream out = socket.getOutputStream();
      List<String> sent = new ArrayList<>();
      int frames = 1 + random.nextInt(4);
      try {
        for (int f = 0; f < frames; f++) {
          sent.add(garbageFrame(out));
        }
        sendClose(out, 1000);
      } catch (IOException closedByServer) {
        // The server closed on a protocol error before all frames went out: what the test wants.
      }
      return serverClose(socket.getInputStream(), i, sent, failures);
    }
  }

  /** Reads until the server closes; a close frame must carry a code a server may send. */
  private static String serverClose(InputStream in, int i, List<String> sent, List<String> failures) {
    try {
      while (true) {
        Frame frame = Frame.read(in);
        if (frame == null) {
          return "eof";
        }
        if (frame.opcode() == 8) {
          int code = frame.payload().length >= 2 ? ((frame.payload()[0] & 0xff) << 8) | (frame.payload()[1] & 0xff) : 1005;
          boolean sendable = code == 1005 || code >= 1000 && code <= 1003 || code >= 1007 && code <= 1011;
          if (!sendable || INTERNALS.matcher(new String(frame.payload(), StandardCharsets.UTF_8)).find()) {
            failures.add("ws#" + i + " after " + sent + " closed with " + code + " "
                + clip(new String(frame.payload(), StandardCharsets.UTF_8)));
          }
          return "close " + code;
        }
      }
    } catch (SocketTimeoutException e) {
      failures.add("ws#" + i + " after " + sent + " the server kept the socket open past our close");
      return "timeout";
    } catch (IOException e) {
      return "reset";
    }
  }

  private String garbageFrame(OutputStream out) throws IOException {
    int kind = random.nextInt(14);
    switch (kind) {
      case 0 -> Frame.write(out, 0x81, true, bytes(random.nextInt(200)));
      case 1 -> Frame.write(out, 0x82, true, bytes(random.nextInt(200)));
      case 2 -> Frame.write(out, 0x81, true, bytes(4_097 + random.nextInt(20_000))); // over 4 KiB
      case 3 -> Frame.write(out, 0x82, true, bytes(4_097 + random.nextInt(20_000)));
      case 4 -> { // fragmented past the limit
        Frame.write(out, 0x01, true, bytes(3_000));
        Frame.write(out, 0x00, true, bytes(3_000));
        Frame.write(out, 0x80, true, bytes(10));
      }
      case 5 -> { // fragmented within the limit, with a ping between
        Frame.write(out, 0x02, true, bytes(100));
        Frame.write(out, 0x89, true, bytes(4));
        Frame.write(out, 0x80, true, bytes(100));
      }
      case 6 -> Frame.write(out, 0x80, true, bytes(10)); // continuation with nothing to continue
      case 7 -> Frame.write(out, 0x88, true, closePayload(pick(new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}), false));
      case 8 -> Frame.write(out, 0x88, true, closePayload(1000, true)); // reason not UTF-8
      case 9 -> Frame.write(out, 0x80 | (3 + random.nextInt(5)), true, bytes(8)); // reserved opcode
      case 10 -> Frame.write(out, 0xF1, true, bytes(8)); // RSV bits set without an extension
      case 11 -> Frame.write(out, 0x89, true, bytes(126 + random.nextInt(100))); // control frame over 125
      case 12 -> Frame.write(out, 0x81, false, "unmasked".getBytes(StandardCharsets.UTF_8)); // clients must mask
      default -> Frame.write(out, 0x81, true, new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF}); // text, not UTF-8
    }
    return "frame#" + kind;
  }

  private static byte[] closePayload(int code, boolean badReason) {
    byte[] reason = badReason ? new byte[] {(byte) 0xFF, (byte) 0xFE} : "bye".getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[2 + reason.length];
    payload[0] = (byte) (code >> 8);
    payload[1] = (byte) code;
    System.arraycopy(reason, 0, payload, 2, reason.length);
    return payload;
  }

  private static void sendClose(OutputStream out, int code) throws IOException {
    Frame.write(out, 0x88, true, new byte[] {(byte) (code >> 8), (byte) code});
  }

  private SSLSocket upgrade(String credential, Map<String, String> extra) throws IOException {
    SSLSocket socket = raw.open(5_000);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Host", "localhost");
    headers.put("Upgrade", "websocket");
    headers.put("Connection", "Upgrade");
    headers.put("Sec-WebSocket-Key", webSocketKey());
    headers.put("Sec-WebSocket-Version", "13");
    if (credential != null) {
      headers.put("Authorization", "Bearer " + credential);
    }
    headers.putAll(extra);
    StringBuilder request = new StringBuilder("GET " + EgoSecureHandler.NOTIFICATIONS_PATH + " HTTP/1.1\r\n");
    headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return socket;
  }

  private String webSocketKey() {
    return Base64.getEncoder().encodeToString(bytes(16));
  }

  /** A WebSocket frame as read off the wire (server frames are unmasked). */
  record Frame(int opcode, byte[] payload) {
    static Frame read(InputStream in) throws IOException {
      int first = in.read();
      if (first < 0) {
        return null;
      }
      int second = in.read();
      if (second < 0) {
        return null;
      }
      long length = second & 0x7f;
      if (length == 126) {
        length = ((in.read() & 0xff) << 8) | (in.read() & 0xff);
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | (in.read() & 0xff);
        }
      }
      byte[] mask = (second & 0x80) != 0 ? in.readNBytes(4) : null;
      byte[] payload = in.readNBytes((int) Math.min(length, 1 << 20));
      if (mask != null) {
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i % 4];
        }
      }
      return new Frame(first & 0x0f, payload);
    }

    /** Writes a frame; {@code first} is FIN, RSV and opcode as on the wire. */
    static void write(OutputStream out, int first, boolean masked, byte[] payload) throws IOException {
      ByteArrayOutputStream frame = new ByteArrayOutputStream();
      frame.write(first);
      int maskBit = masked ? 0x80 : 0;
      if (payload.length < 126) {
        frame.write(maskBit | payload.length);
      } else if (payload.length < 65_536) {
        frame.write(maskBit | 126);
        frame.write(payload.length >> 8);
        frame.write(payload.length);
      } else {
        frame.write(maskBit | 127);
        for (int i = 7; i >= 0; i--) {
          frame.write((int) ((long) payload.length >> (8 * i)));
        }
      }
      byte[] body = payload.clone();
      if (masked) {
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        frame.writeBytes(mask);
        for (int i = 0; i < body.length; i++) {
          body[i] ^= mask[i % 4];
        }
      }
      frame.writeBytes(body);
      out.write(frame.toByteArray());
      out.flush();
    }
  }

  // --- randomness ---

  private boolean chance(int percent) {
    return random.nextInt(100) < percent;
  }

  private <T> T pick(T[] values) {
    return values[random.nextInt(values.length)];
  }

  private int pick(int[] values) {
    return values[random.nextInt(values.length)];
  }

  private byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  private static void add(Map<String, List<String>> headers, String name, String value) {
    headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
  }

  private static void write(ByteArrayOutputStream out, String text) {
    out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
  }
}
