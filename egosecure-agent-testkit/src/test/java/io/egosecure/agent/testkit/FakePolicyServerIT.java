package io.egosecure.agent.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.spi.SigningKey;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fake server over real HTTPS on loopback, spoken to as an agent would. */
class FakePolicyServerIT {
  private static final Duration TAKE_TIMEOUT = Duration.ofSeconds(5);

  private FakePolicyServer server;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    server = FakePolicyServer.start();
    client = HttpClient.newBuilder().sslContext(trusting(server.certificatePem()))
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void enrolledAgentPollsVerifiesRevalidatesAndSeesTheNextRevision() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    assertThat(enrolled.tenantId()).isEqualTo(server.tenantId());
    assertThat(server.agentIds()).containsExactly(enrolled.agentId());
    PublicSigningKey key = enrolledKey(enrolled);
    assertThat(key).isEqualTo(server.signingKey());

    HttpResponse<byte[]> first = poll(enrolled.credential(), null, "");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-store");
    String etag = first.headers().firstValue("ETag").orElseThrow();
    assertThat(etag).matches("\"[^\"]+\"");
    JsonNode received = Json.readTree(first.body());
    assertThat(PolicySets.verify(received, key)).isTrue();
    PolicySet empty = PolicySets.parse(received);
    assertThat(empty.revision()).isZero();
    assertThat(empty.policies()).isEmpty();
    assertThat(empty.agentId().value()).isEqualTo(enrolled.agentId());
    assertThat(empty.expiresAt()).isEqualTo(empty.issuedAt().plus(Duration.ofDays(7)));

    HttpResponse<byte[]> unchanged = poll(enrolled.credential(), etag, "");
    assertThat(unchanged.statusCode()).isEqualTo(304);
    assertThat(unchanged.headers().firstValue("ETag")).hasValue(etag);
    assertThat(unchanged.headers().firstValue(FakePolicyServer.POLL_INTERVAL_HEADER)).hasValue("60");

    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    HttpResponse<byte[]> changed = poll(enrolled.credential(), etag, "");
    assertThat(changed.statusCode()).isEqualTo(200);
    assertThat(changed.headers().firstValue("ETag")).isPresent().get().isNotEqualTo(etag);
    JsonNode next = Json.readTree(changed.body());
    assertThat(PolicySets.verify(next, key)).isTrue();
    PolicySet set = PolicySets.parse(next);
    assertThat(set.revision()).isEqualTo(revision).isEqualTo(1);
    assertThat(set.policies()).singleElement().satisfies(policy -> {
      assertThat(policy.id().value()).isEqualTo("usb");
      assertThat(policy.kind()).isEqualTo("device-control");
      assertThat(policy.settings().get("block").booleanValue()).isTrue();
    });
    assertThat(server.pollCount(enrolled.agentId())).isEqualTo(3);
  }

  @Test
  void pollHeadersAndEnrollmentCarryTheConfiguredInterval() throws Exception {
    server.pollInterval(Duration.ofSeconds(5), 20);
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    assertThat(enrolled.pollIntervalSeconds()).isEqualTo(5);
    assertThat(enrolled.pollJitterPercent()).isEqualTo(20);
    HttpResponse<byte[]> response = poll(enrolled.credential(), null, "");
    assertThat(response.headers().firstValue(FakePolicyServer.POLL_INTERVAL_HEADER)).hasValue("5");
    assertThat(response.headers().firstValue(FakePolicyServer.POLL_JITTER_HEADER)).hasValue("20");
    assertThat(PolicySets.parse(Json.readTree(response.body())).pollInterval()).hasSeconds(5);
  }

  @Test
  void longPollParksUntilAPublishWakesIt() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    String etag = poll(enrolled.credential(), null, "").headers().firstValue("ETag").orElseThrow();

    CompletableFuture<HttpResponse<byte[]>> parked =
        client.sendAsync(pollRequest(enrolled.credential(), etag, "?wait=30"),
            HttpResponse.BodyHandlers.ofByteArray());
    Thread.sleep(300);
    assertThat(parked).isNotDone();
    long started = System.nanoTime();
    server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));

    HttpResponse<byte[]> woken = parked.get(5, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    assertThat(woken.statusCode()).isEqualTo(200);
    assertThat(PolicySets.parse(Json.readTree(woken.body())).revision()).isEqualTo(1);
  }

  @Test
  void longPollWithoutAChangeAnswers304WhenTheWaitEnds() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    String etag = poll(enrolled.credential(), null, "").headers().firstValue("ETag").orElseThrow();
    long started = System.nanoTime();
    HttpResponse<byte[]> response = poll(enrolled.credential(), etag, "?wait=1");
    assertThat(response.statusCode()).isEqualTo(304);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
  }

  @Test
  void waitOutsideZeroToSixtyIsRefused() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    for (String query : List.of("?wait=61", "?wait=-1", "?wait=soon")) {
      HttpResponse<byte[]> response = poll(enrolled.credential(), null, query);
      assertThat(response.statusCode()).as(query).isEqualTo(400);
      assertProblem(response, 400, "invalid-request");
    }
  }

  @Test
  void reissueKeepsRevisionAndPoliciesButMovesIssuedAtAndEtag() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    HttpResponse<byte[]> before = poll(enrolled.credential(), null, "");
    server.reissue();
    HttpResponse<byte[]> after =
        poll(enrolled.credential(), before.headers().firstValue("ETag").orElseThrow(), "");
    assertThat(after.statusCode()).isEqualTo(200);
    PolicySet first = PolicySets.parse(Json.readTree(before.body()));
    PolicySet second = PolicySets.parse(Json.readTree(after.body()));
    assertThat(second.revision()).isEqualTo(first.revision());
    assertThat(second.policies()).isEqualTo(first.policies());
    assertThat(second.issuedAt()).isAfter(first.issuedAt());
  }

  @Test
  void setsAreIssuedOnTheGivenClockAndExpireAfterTheValidity() throws Exception {
    Instant fixed = Instant.parse("2026-06-01T12:00:00Z");
    try (FakePolicyServer onClock = FakePolicyServer.start(Clock.fixed(fixed, ZoneOffset.UTC))) {
      onClock.validity(Duration.ofHours(1));
      HttpClient trustingIt = HttpClient.newBuilder().sslContext(trusting(onClock.certificatePem())).build();
      AgentMessages.EnrollResponse enrolled = Json.read(
          trustingIt.send(enrollRequest(onClock.uri(), onClock.enrollmentToken()),
              HttpResponse.BodyHandlers.ofByteArray()).body(),
          AgentMessages.EnrollResponse.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS);
      HttpResponse<byte[]> response = trustingIt.send(
          HttpRequest.newBuilder(onClock.uri().resolve(FakePolicyServer.POLICIES_PATH))
              .header("Authorization", "Bearer " + enrolled.credential()).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      PolicySet set = PolicySets.parse(Json.readTree(response.body()));
      assertThat(set.issuedAt()).isEqualTo(fixed);
      assertThat(set.expiresAt()).isEqualTo(fixed.plus(Duration.ofHours(1)));
    }
  }

  @Test
  void scriptedResponsesAreServedFirstInFirstOutThenNormalAnswersResume() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    Instant now = Instant.now();
    byte[] older = server.signedPolicySet(enrolled.agentId(), 0, now.minusSeconds(60),
        now.plus(Duration.ofDays(1)), List.of());
    server.enqueue(FakeResponse.status(503).retryAfter(Duration.ofSeconds(2)));
    server.enqueue(FakeResponse.policySet(older));
    server.enqueue(FakeResponse.status(200).body("text/plain", "not a set".getBytes(StandardCharsets.UTF_8)));

    HttpResponse<byte[]> unavailable = poll(enrolled.credential(), null, "");
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(unavailable.headers().firstValue("Retry-After")).hasValue("2");
    assertProblem(unavailable, 503, "scripted");

    HttpResponse<byte[]> crafted = poll(enrolled.credential(), null, "");
    assertThat(crafted.statusCode()).isEqualTo(200);
    assertThat(crafted.body()).isEqualTo(older);
    assertThat(crafted.headers().firstValue("ETag")).isPresent();
    assertThat(crafted.headers().firstValue(FakePolicyServer.POLL_INTERVAL_HEADER)).hasValue("60");

    HttpResponse<byte[]> raw = poll(enrolled.credential(), null, "");
    assertThat(raw.headers().firstValue("Content-Type")).hasValue("text/plain");
    assertThat(new String(raw.body(), StandardCharsets.UTF_8)).isEqualTo("not a set");

    HttpResponse<byte[]> normal = poll(enrolled.credential(), null, "");
    assertThat(normal.statusCode()).isEqualTo(200);
    assertThat(PolicySets.verify(Json.readTree(normal.body()), server.signingKey())).isTrue();
    assertThat(server.pollCount(enrolled.agentId())).isEqualTo(4);
  }

  @Test
  void aScriptedResponseForOnePathLeavesOtherPathsAlone() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    server.enqueue(FakeResponse.status(429).retryAfter(Duration.ofSeconds(1))
        .forPath(FakePolicyServer.POLICIES_PATH));
    assertThat(report(enrolled.credential(), "{\"revision\":0,\"state\":\"APPLIED\"}").statusCode())
        .isEqualTo(204);
    assertThat(poll(enrolled.credential(), null, "").statusCode()).isEqualTo(429);
    assertThat(poll(enrolled.credential(), null, "").statusCode()).isEqualTo(200);
  }

  @Test
  void aRevokedAgentGets401EvenWhileParked() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    String etag = poll(enrolled.credential(), null, "").headers().firstValue("ETag").orElseThrow();
    CompletableFuture<HttpResponse<byte[]>> parked =
        client.sendAsync(pollRequest(enrolled.credential(), etag, "?wait=30"),
            HttpResponse.BodyHandlers.ofByteArray());
    Thread.sleep(200);
    server.revoke(enrolled.agentId());

    HttpResponse<byte[]> woken = parked.get(5, TimeUnit.SECONDS);
    assertThat(woken.statusCode()).isEqualTo(401);
    HttpResponse<byte[]> later = poll(enrolled.credential(), null, "");
    assertThat(later.statusCode()).isEqualTo(401);
    assertThat(later.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
        value -> assertThat(value).startsWith("Bearer"));
    assertProblem(later, 401, "unauthenticated");
    assertThat(report(enrolled.credential(), "{\"revision\":0,\"state\":\"APPLIED\"}").statusCode())
        .isEqualTo(401);
  }

  @Test
  void anUnknownCredentialGets401() throws Exception {
    HttpResponse<byte[]> response = poll("not-a-credential", null, "");
    assertThat(response.statusCode()).isEqualTo(401);
    assertProblem(response, 401, "unauthenticated");
    HttpResponse<byte[]> bare = client.send(
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.POLICIES_PATH)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(bare.statusCode()).isEqualTo(401);
  }

  @Test
  void statusReportsAreRecordedInOrderAndValidated() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    assertThat(report(enrolled.credential(), "{\"revision\":0,\"state\":\"APPLIED\"}").statusCode())
        .isEqualTo(204);
    assertThat(report(enrolled.credential(),
        "{\"revision\":1,\"state\":\"FAILED\",\"message\":\"rollback\",\"extra\":true}").statusCode())
        .isEqualTo(204);
    HttpResponse<byte[]> invalid = report(enrolled.credential(), "{\"revision\":1,\"state\":\"DONE\"}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertProblem(invalid, 400, "invalid-request");

    assertThat(server.takeStatusReport(TAKE_TIMEOUT))
        .isEqualTo(new AgentMessages.StatusReport(0, AgentState.APPLIED, ""));
    assertThat(server.takeStatusReport(TAKE_TIMEOUT))
        .isEqualTo(new AgentMessages.StatusReport(1, AgentState.FAILED, "rollback"));
    assertThat(server.takeStatusReport(Duration.ofMillis(100))).isNull();
  }

  @Test
  void everyRequestIsRecorded() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    poll(enrolled.credential(), "\"x\"", "?wait=0");

    RecordedRequest enroll = server.takeRequest(TAKE_TIMEOUT);
    assertThat(enroll.method()).isEqualTo("POST");
    assertThat(enroll.path()).isEqualTo(FakePolicyServer.ENROLL_PATH);
    assertThat(enroll.bodyUtf8()).contains("\"name\":\"host-01\"");
    assertThat(enroll.agentId()).isEmpty();
    RecordedRequest poll = server.takeRequest(TAKE_TIMEOUT);
    assertThat(poll.toString()).isEqualTo("GET /v1/agent/policies?wait=0");
    assertThat(poll.query()).isEqualTo("wait=0");
    assertThat(poll.header("if-none-match")).hasValue("\"x\"");
    assertThat(poll.agentId()).hasValue(enrolled.agentId());
    assertThat(server.takeRequest(Duration.ofMillis(100))).isNull();
    assertThat(server.requestCount()).isEqualTo(2);
  }

  @Test
  void anUnknownOrUsedTokenGets401() throws Exception {
    HttpResponse<byte[]> unknown = client.send(enrollRequest(server.uri(), "no-such-token"),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(unknown.headers().firstValue("WWW-Authenticate")).isPresent();
    assertProblem(unknown, 401, "unauthenticated");

    String token = server.enrollmentToken();
    enroll(token);
    HttpResponse<byte[]> reused = client.send(enrollRequest(server.uri(), token),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(reused.statusCode()).isEqualTo(401);
  }

  @Test
  void aFleetTokenEnrollsAsManyAgentsAsItAllows() throws Exception {
    String token = server.enrollmentToken(2);
    assertThat(enroll(token).agentId()).isNotEqualTo(enroll(token).agentId());
    assertThat(client.send(enrollRequest(server.uri(), token), HttpResponse.BodyHandlers.ofByteArray()).statusCode())
        .isEqualTo(401);
    assertThatThrownBy(() -> server.enrollmentToken(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void enrollmentRefusesMalformedBodiesAndWrongContentTypes() throws Exception {
    HttpResponse<byte[]> malformed = client.send(
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.ENROLL_PATH))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"token\":")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(malformed.statusCode()).isEqualTo(400);
    HttpResponse<byte[]> text = client.send(
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.ENROLL_PATH))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(text.statusCode()).isEqualTo(415);
  }

  @Test
  void notificationsAnswer404BecauseTheFakeHasNoPush() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    HttpResponse<byte[]> response = client.send(
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.NOTIFICATIONS_PATH))
            .header("Authorization", "Bearer " + enrolled.credential()).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(404);
    assertProblem(response, 404, "not-found");
  }

  @Test
  void craftedSetsVerifyOnlyWithTheKeyThatSignedThem() {
    Instant now = Instant.parse("2026-06-01T12:00:00Z");
    List<PolicySet.Entry> policies =
        List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    byte[] own = server.signedPolicySet("agent-1", 3, now, now.plusSeconds(60), policies);
    assertThat(PolicySets.verify(Json.readTree(own), server.signingKey())).isTrue();

    SigningKey foreign = FakePolicyServer.generateSigningKey();
    SigningKey foreignUnderOurKeyId =
        new SigningKey(new PublicSigningKey(server.signingKey().keyId(),
            foreign.publicKey().publicKey()), foreign.privateKey());
    byte[] forged = FakePolicyServer.signedPolicySet(foreignUnderOurKeyId, server.tenantId(),
        "agent-1", 3, now, now.plusSeconds(60), policies);
    assertThat(Json.readTree(forged).at("/signature/keyId").asText())
        .isEqualTo(server.signingKey().keyId());
    assertThat(PolicySets.verify(Json.readTree(forged), server.signingKey())).isFalse();
    assertThat(PolicySets.verify(Json.readTree(forged), foreignUnderOurKeyId.publicKey())).isTrue();
  }

  @Test
  void theCertificateCanBeWrittenForAgentsThatTakeAFile(@TempDir Path directory) throws Exception {
    Path file = server.writeCertificate(directory.resolve("ca.pem"));
    assertThat(Files.readString(file)).isEqualTo(server.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(server.uri().toString()).matches("https://127\\.0\\.0\\.1:\\d+/");
  }

  @Test
  void closeAnswersParkedPollsAndStopsEveryThread() throws Exception {
    AgentMessages.EnrollResponse enrolled = enroll(server.enrollmentToken());
    String etag = poll(enrolled.credential(), null, "").headers().firstValue("ETag").orElseThrow();
    CompletableFuture<HttpResponse<byte[]>> parked =
        client.sendAsync(pollRequest(enrolled.credential(), etag, "?wait=60"),
            HttpResponse.BodyHandlers.ofByteArray());
    Thread.sleep(200);
    assertThat(serverThreads()).isPositive();

    long started = System.nanoTime();
    server.close();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    assertThat(serverThreads()).isZero();
    // The parked poll ends one way or the other: a 503 or a closed connection, never a hang.
    assertThat(parked).succeedsWithin(Duration.ofSeconds(5))
        .satisfies(response -> assertThat(response.statusCode()).isEqualTo(503));
  }

  private static long serverThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        // Its own handler threads and the JDK server's dispatcher and timer: an SDK test that
        // counts threads after close() must not see any of them.
        .filter(thread -> thread.isAlive() && (thread.getName().startsWith("fake-policy-server-")
            || thread.getName().startsWith("HTTP-Dispatcher") || thread.getName().contains("server-timer")))
        .count();
  }

  private AgentMessages.EnrollResponse enroll(String token) throws Exception {
    HttpResponse<byte[]> response =
        client.send(enrollRequest(server.uri(), token), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(201);
    return Json.read(response.body(), AgentMessages.EnrollResponse.class,
        Json.Strictness.IGNORE_UNKNOWN_FIELDS);
  }

  private static HttpRequest enrollRequest(URI uri, String token) {
    String body = "{\"token\":\"" + token + "\",\"name\":\"host-01\",\"labels\":{\"os\":\"linux\"}}";
    return HttpRequest.newBuilder(uri.resolve(FakePolicyServer.ENROLL_PATH))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private HttpResponse<byte[]> poll(String credential, String ifNoneMatch, String query) throws Exception {
    return client.send(pollRequest(credential, ifNoneMatch, query), HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpRequest pollRequest(String credential, String ifNoneMatch, String query) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.POLICIES_PATH + query))
            .header("Authorization", "Bearer " + credential);
    if (ifNoneMatch != null) {
      request.header("If-None-Match", ifNoneMatch);
    }
    return request.build();
  }

  private HttpResponse<byte[]> report(String credential, String json) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri().resolve(FakePolicyServer.STATUS_PATH))
            .header("Authorization", "Bearer " + credential)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static void assertProblem(HttpResponse<byte[]> response, int status, String slug) {
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode problem = Json.readTree(response.body());
    assertThat(problem.path("type").asText()).isEqualTo("https://egosecure.io/problems/" + slug);
    assertThat(problem.path("title").asText()).isNotBlank();
    assertThat(problem.path("status").asInt()).isEqualTo(status);
    assertThat(problem.path("detail").asText()).isNotBlank();
  }

  private static PublicSigningKey enrolledKey(AgentMessages.EnrollResponse enrolled) throws Exception {
    AgentMessages.SigningKeyInfo info = enrolled.signingKeys().get(0);
    assertThat(info.algorithm()).isEqualTo("Ed25519");
    return new PublicSigningKey(info.keyId(), KeyFactory.getInstance("Ed25519")
        .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(info.publicKey()))));
  }

  static SSLContext trusting(String pem) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("fake-policy-server", CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    return context;
  }
}
