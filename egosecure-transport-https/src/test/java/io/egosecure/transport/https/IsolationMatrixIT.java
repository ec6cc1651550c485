package io.egosecure.transport.https;

import static io.egosecure.transport.https.HttpsFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The isolation matrix of issue 8: three tenants of two distributors (D1 made T1 and T2, D2 made
 * T3), each with a tenant admin key, an agent and an enrollment token, and the operator. Every
 * caller calls every operation of {@code openapi.yaml} on every tenant it may not see, and on
 * the resources of other tenants under a tenant it may see: each answer is the one PROTOCOL.md
 * names (401 for a credential of the wrong kind, 403 for a role the endpoint is not for, 404 for
 * what the caller may not see), a 404 is identical to the 404 for a resource that never existed,
 * and no body carries anything of another tenant. Then each caller lists exactly the tenants it
 * may see, and nothing of any tenant changed.
 */
class IsolationMatrixIT {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(IsolationMatrixIT.class);
  /** Who may call the endpoints that are not under a tenant, by route. */
  private static final Map<String, Set<String>> SERVER_WIDE_ROLES = Map.of(
      "POST /v1/admin-keys", Set.of("OPERATOR"),
      "GET /v1/admin-keys", Set.of("OPERATOR"),
      "DELETE /v1/admin-keys/{k}", Set.of("OPERATOR"),
      "GET /v1/audit", Set.of("OPERATOR"),
      "GET /metrics", Set.of("OPERATOR"),
      "POST /v1/tenants", Set.of("OPERATOR", "DISTRIBUTOR"),
      "GET /v1/tenants", Set.of("OPERATOR", "DISTRIBUTOR", "TENANT_ADMIN"));

  private final HttpsFixture fx;
  private final List<ApiOperations.Operation> operations = ApiOperations.all();
  private final Random random = new Random(8);
  private final List<String> distributorKeyIds = new ArrayList<>();

  IsolationMatrixIT() throws Exception {
    fx = new HttpsFixture(tls -> tls, limits -> limits
        .adminRate(new RateLimit(100_000, 100_000)).agentRate(new RateLimit(100_000, 100_000)));
  }

  @AfterEach
  void close() {
    fx.close();
  }

  /** One tenant and everything of it the matrix aims at. */
  record Tenant(String name, String id, String distributor, String policyId, String policyName,
      String adminKey, String adminKeyId, String agentCredential, String agentId, String agentName,
      String token, String tokenId, String comment) {

    /** What of this tenant must never reach a caller who may not see it. */
    List<String> secrets() {
      return List.of(name, id, policyId, policyName, adminKey, adminKeyId, agentCredential, agentId, agentName,
          token, tokenId, comment);
    }

    String resource(String parameter) {
      return switch (parameter) {
        case "t" -> id;
        case "p" -> policyId;
        case "k" -> adminKeyId;
        case "e" -> tokenId;
        case "a" -> agentId;
        case "n" -> "1";
        default -> throw new IllegalStateException("openapi.yaml has a path parameter the matrix does not know: {"
            + parameter + "}; teach IsolationMatrixIT.Tenant.resource its resource");
      };
    }
  }

  enum Kind { OPERATOR, DISTRIBUTOR, TENANT_ADMIN, AGENT, ENROLLMENT_TOKEN }

  /** A caller: its credential, its kind and the tenants it may see. */
  record Caller(String label, Kind kind, String credential, Set<String> visibleTenants, String keyId) {}

  /** One checked cell, for the summary. */
  record Cell(String caller, String route, String target, int expected) {}

  @Test
  void everyCallerIsDeniedEveryOtherTenantExactlyAsTheProtocolSays() throws Exception {
    String op = fx.operatorKey;
    JsonNode d1 = json(fx.post("/v1/admin-keys", op, "{\"name\":\"distributor-one\",\"role\":\"DISTRIBUTOR\"}"));
    JsonNode d2 = json(fx.post("/v1/admin-keys", op, "{\"name\":\"distributor-two\",\"role\":\"DISTRIBUTOR\"}"));
    distributorKeyIds.addAll(List.of(d1.get("id").asText(), d2.get("id").asText()));
    Tenant t1 = tenant(d1.get("key").asText(), "one");
    Tenant t2 = tenant(d1.get("key").asText(), "two");
    Tenant t3 = tenant(d2.get("key").asText(), "three");
    List<Tenant> tenants = List.of(t1, t2, t3);
    Set<String> all = Set.of(t1.id(), t2.id(), t3.id());

    List<Caller> callers = new ArrayList<>();
    callers.add(new Caller("operator", Kind.OPERATOR, op, all, null));
    callers.add(new Caller("D1", Kind.DISTRIBUTOR, d1.get("key").asText(), Set.of(t1.id(), t2.id()), d1.get("id").asText()));
    callers.add(new Caller("D2", Kind.DISTRIBUTOR, d2.get("key").asText(), Set.of(t3.id()), d2.get("id").asText()));
    for (int i = 0; i < tenants.size(); i++) {
      Tenant t = tenants.get(i);
      String of = "-T" + (i + 1);
      callers.add(new Caller("admin" + of, Kind.TENANT_ADMIN, t.adminKey(), Set.of(t.id()), t.adminKeyId()));
      callers.add(new Caller("agent" + of, Kind.AGENT, t.agentCredential(), Set.of(t.id()), null));
      callers.add(new Caller("token" + of, Kind.ENROLLMENT_TOKEN, t.token(), Set.of(), null));
    }
    Map<String, Integer> before = snapshot(tenants);

    List<Cell> cells = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (Caller caller : callers) {
      for (ApiOperations.Operation operation : operations) {
        for (Target target : targets(caller, operation, tenants)) {
          int expected = expected(caller, operation, target);
          cells.add(new Cell(caller.label(), operation.route(), target.describe(), expected));
          check(caller, operation, target, expected, tenants, failures);
        }
      }
      checkListing(caller, tenants, failures);
    }

    printSummary(cells, callers);
    assertThat(failures).as("%d cells checked; failures", cells.size()).isEmpty();
    assertThat(snapshot(tenants)).as("nothing of any tenant changed").isEqualTo(before);
    for (Tenant t : tenants) {
      assertThat(fx.get("/v1/agent/policies", t.agentCredential()).statusCode()).isEqualTo(200);
    }
  }

  // --- the cells ---

  /**
   * Where {@code operation} is aimed: a tenant (or none, for routes not under a tenant) and the
   * owners of the ids in the path. {@code owner} differs from {@code tenant} in a mixed cell: a
   * visible tenant's path naming another tenant's resource.
   */
  record Target(Tenant tenant, Tenant owner, String path) {
    String describe() {
      return tenant == null ? "-" : tenant == owner ? tenant.name() : tenant.name() + "/" + owner.name() + "'s";
    }

    boolean mixed() {
      return tenant != null && tenant != owner;
    }
  }

  private List<Target> targets(Caller caller, ApiOperations.Operation operation, List<Tenant> tenants) {
    List<Target> targets = new ArrayList<>();
    if (operation.scheme() == ApiOperations.Scheme.NONE) {
      // Enrolling is by token, not by caller; the health endpoints are checked for tenant data.
      if (operation.template().startsWith("/health/")) {
        targets.add(new Target(null, null, operation.template()));
      }
      return targets;
    }
    if (!operation.pathParameters().contains("t")) {
      // Not under a tenant: the agent API, server-wide keys and audit, the tenant list, metrics.
      Tenant owner = tenants.stream().filter(t -> !caller.visibleTenants().contains(t.id())).findFirst()
          .orElse(tenants.get(0));
      if (operation.scheme() == ApiOperations.Scheme.AGENT_CREDENTIAL && caller.kind() == Kind.AGENT) {
        return targets; // an agent's own API: its set is checked in checkListing
      }
      targets.add(new Target(null, owner, operation.path(p -> p.equals("k") ? keyIdOfAnother(caller) : "x")));
      return targets;
    }
    for (Tenant tenant : tenants) {
      if (!caller.visibleTenants().contains(tenant.id())) {
        targets.add(new Target(tenant, tenant, operation.path(tenant::resource)));
      } else if (operation.pathParameters().stream().anyMatch(p -> !p.equals("t") && !p.equals("n"))) {
        for (Tenant other : tenants) {
          if (other != tenant) {
            targets.add(new Target(tenant, other, operation.path(p -> p.equals("t") ? tenant.id() : other.resource(p))));
          }
        }
      }
    }
    return targets;
  }

  /** For {@code DELETE /v1/admin-keys/{k}}: the other distributor's key, never the caller's own. */
  private String keyIdOfAnother(Caller caller) {
    return distributorKeyIds.stream().filter(id -> !id.equals(caller.keyId())).findFirst().orElseThrow();
  }

  private static int expected(Caller caller, ApiOperations.Operation operation, Target target) {
    boolean adminKey = caller.kind() == Kind.OPERATOR || caller.kind() == Kind.DISTRIBUTOR || caller.kind() == Kind.TENANT_ADMIN;
    if (operation.template().startsWith("/health/")) {
      return 200;
    }
    if (operation.scheme() == ApiOperations.Scheme.AGENT_CREDENTIAL) {
      return 401; // an admin key or a token on the agent API
    }
    if (!adminKey) {
      return 401; // an agent credential or a token on the admin API
    }
    if (target.tenant() != null) {
      return 404; // a tenant the caller may not see, or a resource not of the tenant named
    }
    Set<String> roles = SERVER_WIDE_ROLES.get(operation.route());
    if (roles == null) {
      throw new IllegalStateException(operation.route() + " is not under a tenant and not in SERVER_WIDE_ROLES: "
          + "say in IsolationMatrixIT which roles may use it");
    }
    return roles.contains(caller.kind().name()) ? -1 : 403;
  }

  private void check(Caller caller, ApiOperations.Operation operation, Target target, int expected,
      List<Tenant> tenants, List<String> failures) throws Exception {
    if (expected == -1) {
      return; // a server-wide endpoint the role may use: its listing is checked in checkListing
    }
    String cell = caller.label() + " " + operation.method() + " " + target.path();
    Answer answer = call(caller.credential(), operation, target.path());
    if (answer.status() != expected) {
      failures.add(cell + ": expected " + expected + ", was " + answer.status() + " " + clip(answer.body()));
      return;
    }
    for (String secret : forbidden(caller, target, tenants)) {
      if (answer.body().contains(secret) && !target.path().contains(secret)) {
        failures.add(cell + ": the body shows '" + secret + "' of another tenant: " + clip(answer.body()));
      }
    }
    if (expected >= 400) {
      JsonNode problem = Json.readTree(answer.body().getBytes(StandardCharsets.UTF_8));
      if (problem.path("status").asInt() != expected || !answer.contentType().startsWith("application/problem+json")) {
        failures.add(cell + ": not a problem+json " + expected + ": " + clip(answer.body()));
      }
      if (expected == 404) {
        String ghostPath = ghost(target.path(), target.owner());
        Answer ghost = call(caller.credential(), operation, ghostPath);
        JsonNode ghostProblem = Json.readTree(ghost.body().getBytes(StandardCharsets.UTF_8));
        String unghosted = unghost(ghostProblem.path("detail").asText(), target.path(), ghostPath);
        if (ghost.status() != 404 || !ghostProblem.path("type").equals(problem.path("type"))
            || !ghostProblem.path("title").equals(problem.path("title"))
            || !unghosted.equals(problem.path("detail").asText())) {
          failures.add(cell + ": answers unlike a resource that never existed: " + clip(answer.body())
              + " vs " + clip(ghost.body()));
        }
      }
    }
  }

  /** Everything of every tenant the caller may not see, and of the owner of a mixed cell's ids. */
  private static List<String> forbidden(Caller caller, Target target, List<Tenant> tenants) {
    List<String> forbidden = new ArrayList<>();
    for (Tenant t : tenants) {
      if (!caller.visibleTenants().contains(t.id()) || target.mixed() && t == target.owner()) {
        forbidden.addAll(t.secrets());
      }
    }
    return forbidden;
  }

  /** The path with the ids of {@code owner} replaced by well-formed ids that name nothing. */
  private static String ghost(String path, Tenant owner) {
    String ghost = path;
    for (String id : List.of(owner.id(), owner.policyId(), owner.adminKeyId(), owner.agentId(), owner.tokenId())) {
      ghost = ghost.replace(id, id.substring(0, id.indexOf('-') + 1) + "zz" + id.substring(id.indexOf('-') + 3));
    }
    return ghost;
  }

  /** The ghost's detail with its ids put back, to compare with the real answer's detail. */
  private static String unghost(String detail, String path, String ghostPath) {
    String[] real = path.split("/");
    String[] ghosts = ghostPath.split("/");
    String result = detail;
    for (int i = 0; i < real.length && i < ghosts.length; i++) {
      if (!real[i].equals(ghosts[i])) {
        result = result.replace(ghosts[i], real[i]);
      }
    }
    return result;
  }

  /** Each caller lists exactly the tenants it may see, and reads only what is its own. */
  private void checkListing(Caller caller, List<Tenant> tenants, List<String> failures) throws Exception {
    switch (caller.kind()) {
      case OPERATOR, DISTRIBUTOR, TENANT_ADMIN -> {
        HttpResponse<String> list = fx.get("/v1/tenants?limit=1000", caller.credential());
        if (list.statusCode() != 200) {
          failures.add(caller.label() + " cannot list tenants: " + list.statusCode() + " " + clip(list.body()));
          return;
        }
        Set<String> listed = new TreeSet<>();
        json(list).get("items").forEach(item -> listed.add(item.get("id").asText()));
        Set<String> known = tenants.stream().map(Tenant::id).collect(Collectors.toSet());
        listed.retainAll(known); // the fixture's own tenants aside
        if (!listed.equals(new TreeSet<>(caller.visibleTenants()))) {
          failures.add(caller.label() + " lists " + listed + ", may see " + caller.visibleTenants());
        }
        for (Tenant t : tenants) {
          if (caller.visibleTenants().contains(t.id())) {
            for (String path : List.of("", "/policies", "/agents", "/revisions", "/audit", "/enrollment-tokens",
                "/admin-keys", "/polling", "/compliance", "/policies/" + t.policyId())) {
              HttpResponse<String> own = fx.get("/v1/tenants/" + t.id() + path, caller.credential());
              if (own.statusCode() != 200) {
                failures.add(caller.label() + " GET its own /v1/tenants/" + t.name() + path + ": " + own.statusCode());
              }
              for (Tenant other : tenants) {
                if (other != t && !caller.visibleTenants().contains(other.id())) {
                  for (String secret : other.secrets()) {
                    if (own.body().contains(secret)) {
                      failures.add(caller.label() + " GET " + t.name() + path + " shows " + secret + " of " + other.name());
                    }
                  }
                }
              }
            }
          }
        }
      }
      case AGENT -> {
        HttpResponse<String> set = fx.get("/v1/agent/policies", caller.credential());
        Tenant own = tenants.stream().filter(t -> caller.visibleTenants().contains(t.id())).findFirst().orElseThrow();
        if (set.statusCode() != 200 || !json(set).get("tenantId").asText().equals(own.id())) {
          failures.add(caller.label() + " polls " + set.statusCode() + " " + clip(set.body()));
        }
        for (Tenant other : tenants) {
          if (other != own && other.secrets().stream().anyMatch(set.body()::contains)) {
            failures.add(caller.label() + "'s PolicySet shows something of " + other.name());
          }
        }
      }
      case ENROLLMENT_TOKEN -> { }
    }
  }

  // --- calls ---

  record Answer(int status, String contentType, String body) {}

  private Answer call(String credential, ApiOperations.Operation operation, String path) throws Exception {
    if (operation.isWebSocket()) {
      return upgrade(credential);
    }
    HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
    HttpRequest.Builder request = fx.request(path, credential).header("If-Match", "\"1\"");
    if (operation.body().isPresent()) {
      body = HttpRequest.BodyPublishers.ofByteArray(
          Json.write(ApiOperations.validBody(operation.body().get(), random, Map.of("name", "matrix"))));
      request.header("Content-Type", "application/json");
    }
    HttpResponse<String> response = fx.send(request.method(operation.method(), body).build());
    return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), response.body());
  }

  /** The push socket's upgrade, raw: the JDK's WebSocket client cannot show a refusal's body. */
  private Answer upgrade(String credential) throws Exception {
    RawHttps raw = new RawHttps(TestCertificates.clientContext(fx.serverIdentity, null), fx.https.port());
    byte[] key = new byte[16];
    random.nextBytes(key);
    String request = "GET " + EgoSecureHandler.NOTIFICATIONS_PATH + " HTTP/1.1\r\nHost: localhost\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
        + "Authorization: Bearer " + credential + "\r\n\r\n";
    RawHttps.Answer answer = raw.send(request.getBytes(StandardCharsets.ISO_8859_1), false, 10_000);
    return new Answer(answer.status(), answer.header("Content-Type").orElse(""), answer.bodyText());
  }

  // --- set-up and summary ---

  private Tenant tenant(String distributorKey, String label) throws Exception {
    String suffix = Integer.toString(random.nextInt(1_000_000), 36);
    String name = "tenant-" + label + "-" + suffix;
    String id = json(fx.post("/v1/tenants", distributorKey, "{\"name\":\"" + name + "\"}")).get("id").asText();
    String t = "/v1/tenants/" + id;
    String policyName = "policy-of-" + label + "-" + suffix;
    String policyId = json(fx.post(t + "/policies", distributorKey, "{\"name\":\"" + policyName
        + "\",\"kind\":\"device-control\",\"settings\":{\"usb\":\"block\"},\"targets\":{\"all\":true}}")).get("id").asText();
    String comment = "comment-of-" + label + "-" + suffix;
    fx.post(t + "/publish", distributorKey, "{\"comment\":\"" + comment + "\"}");
    JsonNode admin = json(fx.post(t + "/admin-keys", distributorKey, "{\"name\":\"admin-of-" + label + "\",\"role\":\"TENANT_ADMIN\"}"));
    JsonNode token = json(fx.post(t + "/enrollment-tokens", distributorKey,
        "{\"expiresInSeconds\":3600,\"maxUses\":5,\"groups\":[\"sales\"]}"));
    String agentName = "host-of-" + label + "-" + suffix;
    JsonNode agent = json(fx.post("/v1/agent/enroll", null,
        "{\"token\":\"" + token.get("token").asText() + "\",\"name\":\"" + agentName + "\"}"));
    return new Tenant(name, id, distributorKey, policyId, policyName, admin.get("key").asText(), admin.get("id").asText(),
        agent.get("credential").asText(), agent.get("agentId").asText(), agentName, token.get("token").asText(),
        token.get("id").asText(), comment);
  }

  /** Counts that any successful write would change, per tenant, read as the operator. */
  private Map<String, Integer> snapshot(List<Tenant> tenants) throws Exception {
    Map<String, Integer> counts = new TreeMap<>();
    for (Tenant t : tenants) {
      for (String collection : List.of("policies", "agents", "revisions", "enrollment-tokens", "admin-keys", "audit")) {
        HttpResponse<String> list = fx.get("/v1/tenants/" + t.id() + "/" + collection + "?limit=1000", fx.operatorKey);
        counts.put(t.name() + "/" + collection, json(list).get("items").size());
      }
      counts.put(t.name() + "/policy-version",
          json(fx.get("/v1/tenants/" + t.id() + "/policies/" + t.policyId(), fx.operatorKey)).get("version").asInt());
      counts.put(t.name() + "/polling",
          json(fx.get("/v1/tenants/" + t.id() + "/polling", fx.operatorKey)).get("intervalSeconds").asInt());
    }
    counts.put("server/admin-keys", json(fx.get("/v1/admin-keys?limit=1000", fx.operatorKey)).get("items").size());
    counts.put("server/tenants", json(fx.get("/v1/tenants?limit=1000", fx.operatorKey)).get("items").size());
    return counts;
  }

  private void printSummary(List<Cell> cells, List<Caller> callers) {
    Map<String, Map<Integer, Integer>> byCaller = new LinkedHashMap<>();
    callers.forEach(c -> byCaller.put(c.label(), new TreeMap<>()));
    cells.forEach(c -> byCaller.get(c.caller()).merge(c.expected(), 1, Integer::sum));
    long routes = cells.stream().map(Cell::route).distinct().count();
    StringBuilder summary = new StringBuilder("IsolationMatrixIT: ").append(cells.size()).append(" cells over ")
        .append(routes).append(" of ").append(operations.size()).append(" operations, ")
        .append(callers.size()).append(" callers (expected status: cells; -1 = allowed, listing checked)\n");
    byCaller.forEach((caller, counts) -> summary.append(String.format("  %-14s %s%n", caller, counts)));
    log.info("\n{}", summary);
  }

  private static String clip(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "…";
  }
}
