package io.egosecure.transport.https;

import static io.egosecure.transport.https.HttpsFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.wire.PolicySets;
import java.net.http.HttpResponse;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent API over real TLS on loopback, with a real HTTP client. */
class AgentApiIT {
  private final HttpsFixture fx;

  AgentApiIT() throws Exception {
    fx = new HttpsFixture();
  }

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void enrollAnswersTheProtocolsFields() throws Exception {
    String tenant = json(fx.post("/v1/tenants", fx.operatorKey, "{\"name\":\"Acme\"}")).get("id").asText();
    String token = json(fx.post("/v1/tenants/" + tenant + "/enrollment-tokens", fx.operatorKey,
        "{\"expiresInSeconds\":600,\"maxUses\":1,\"groups\":[\"sales\"]}")).get("token").asText();

    HttpResponse<String> response = fx.post("/v1/agent/enroll", null,
        "{\"token\":\"" + token + "\",\"name\":\"host-01\",\"labels\":{\"os\":\"linux\"},\"future\":1}");

    assertThat(response.statusCode()).isEqualTo(201);
    JsonNode body = json(response);
    assertThat(body.fieldNames()).toIterable().contains(
        "agentId", "tenantId", "credential", "pollIntervalSeconds", "pollJitterPercent", "signingKeys");
    assertThat(body.get("tenantId").asText()).isEqualTo(tenant);
    assertThat(body.get("pollIntervalSeconds").asLong()).isEqualTo(60);
    JsonNode key = body.get("signingKeys").get(0);
    assertThat(key.get("algorithm").asText()).isEqualTo("Ed25519");
    assertThat(fx.post("/v1/agent/enroll", null, "{\"token\":\"" + token + "\",\"name\":\"host-02\"}").statusCode())
        .as("a used-up token").isEqualTo(401);
  }

  @Test
  void pollAnswersASignedSetThenNotModifiedWithTheSameEtagAndPollingHeaders() throws Exception {
    HttpsFixture.Story story = fx.story();
    HttpResponse<String> first = fx.get("/v1/agent/policies", story.agentCredential());

    assertThat(first.statusCode()).isEqualTo(200);
    String etag = first.headers().firstValue("ETag").orElseThrow();
    assertThat(etag).matches("\"[^\"]+\"");
    assertThat(first.headers().firstValue("EgoSecure-Poll-Interval")).contains("60");
    assertThat(first.headers().firstValue("EgoSecure-Poll-Jitter-Percent")).contains("10");
    JsonNode set = json(first);
    assertThat(set.get("revision").asLong()).isEqualTo(1);
    assertThat(set.get("policies").get(0).get("name").asText()).isEqualTo("USB");
    assertThat(PolicySets.verify(set, signingKey(story))).isTrue();

    HttpResponse<String> second = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
        .header("If-None-Match", etag).GET().build());
    assertThat(second.statusCode()).isEqualTo(304);
    assertThat(second.headers().firstValue("ETag")).contains(etag);
    assertThat(second.headers().firstValue("EgoSecure-Poll-Interval")).contains("60");
    assertThat(second.body()).isEmpty();
  }

  private PublicSigningKey signingKey(HttpsFixture.Story story) throws Exception {
    JsonNode enrolled = json(fx.post("/v1/agent/enroll", null, "{\"token\":\"" + story.token() + "\",\"name\":\"probe\"}"));
    JsonNode key = enrolled.get("signingKeys").get(0);
    return new PublicSigningKey(key.get("keyId").asText(), KeyFactory.getInstance("Ed25519")
        .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(key.get("publicKey").asText()))));
  }

  @Test
  void aLongPollIsAnsweredWithinASecondOfAPublish() throws Exception {
    HttpsFixture.Story story = fx.story();
    String etag = fx.get("/v1/agent/policies", story.agentCredential()).headers().firstValue("ETag").orElseThrow();

    CompletableFuture<HttpResponse<String>> parked = fx.client.sendAsync(
        fx.request("/v1/agent/policies?wait=30", story.agentCredential()).header("If-None-Match", etag).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    awaitParked(1);
    fx.post("/v1/tenants/" + story.tenantId() + "/policies", fx.operatorKey,
        "{\"name\":\"More\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}");
    long published = System.nanoTime();
    fx.post("/v1/tenants/" + story.tenantId() + "/publish", fx.operatorKey, "{}");

    HttpResponse<String> response = parked.get(5, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - published)).isLessThan(Duration.ofSeconds(1));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("revision").asLong()).isEqualTo(2);
  }

  @Test
  void aLongPollWithoutChangeAnswersNotModifiedAfterTheWait() throws Exception {
    HttpsFixture.Story story = fx.story();
    String etag = fx.get("/v1/agent/policies", story.agentCredential()).headers().firstValue("ETag").orElseThrow();

    long start = System.nanoTime();
    HttpResponse<String> response = fx.send(fx.request("/v1/agent/policies?wait=1", story.agentCredential())
        .header("If-None-Match", etag).GET().build());

    assertThat(response.statusCode()).isEqualTo(304);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
  }

  @Test
  void stoppingTheServerAnswersParkedPollsAtOnceWithRetryAfter() throws Exception {
    HttpsFixture.Story story = fx.story();
    String etag = fx.get("/v1/agent/policies", story.agentCredential()).headers().firstValue("ETag").orElseThrow();
    CompletableFuture<HttpResponse<String>> parked = fx.client.sendAsync(
        fx.request("/v1/agent/policies?wait=60", story.agentCredential()).header("If-None-Match", etag).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    awaitParked(1);

    long start = System.nanoTime();
    fx.https.close();

    HttpResponse<String> response = parked.get(5, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Retry-After")).contains("1");
  }

  @Test
  void waitOutsideZeroToSixtyIsABadRequest() throws Exception {
    HttpsFixture.Story story = fx.story();
    for (String wait : new String[] {"61", "-1", "abc", "1.5"}) {
      HttpResponse<String> response = fx.get("/v1/agent/policies?wait=" + wait, story.agentCredential());
      assertThat(response.statusCode()).as("wait=" + wait).isEqualTo(400);
      assertThat(response.headers().firstValue("Content-Type")).contains("application/problem+json");
    }
  }

  @Test
  void statusReportsAreAcceptedAndShowInTheConsole() throws Exception {
    HttpsFixture.Story story = fx.story();

    HttpResponse<String> response = fx.post("/v1/agent/status", story.agentCredential(),
        "{\"revision\":1,\"state\":\"APPLIED\",\"message\":\"ok\",\"extra\":true}");

    assertThat(response.statusCode()).isEqualTo(204);
    JsonNode agents = json(fx.get("/v1/tenants/" + story.tenantId() + "/agents", fx.operatorKey));
    assertThat(agents.get("items").get(0).get("appliedRevision").asLong()).isEqualTo(1);
    assertThat(agents.get("items").get(0).get("state").asText()).isEqualTo("APPLIED");
    assertThat(fx.post("/v1/agent/status", story.agentCredential(), "{\"revision\":1,\"state\":\"DONE\"}").statusCode())
        .as("unknown enum value").isEqualTo(400);
  }

  @Test
  void badOrMissingCredentialsAre401WithWwwAuthenticate() throws Exception {
    HttpsFixture.Story story = fx.story();
    for (String bearer : new String[] {null, "", "nonsense", fx.operatorKey, story.agentCredential() + "x"}) {
      HttpResponse<String> response = fx.get("/v1/agent/policies", bearer);
      assertThat(response.statusCode()).as("bearer " + bearer).isEqualTo(401);
      assertThat(response.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer");
      assertThat(json(response).get("type").asText()).isEqualTo("https://egosecure.io/problems/unauthenticated");
    }
  }

  @Test
  void aRevokedAgentIsRefusedAtOnce() throws Exception {
    HttpsFixture.Story story = fx.story();
    assertThat(fx.delete("/v1/tenants/" + story.tenantId() + "/agents/" + story.agentId(), fx.operatorKey).statusCode())
        .isEqualTo(204);

    assertThat(fx.get("/v1/agent/policies", story.agentCredential()).statusCode()).isEqualTo(401);
  }

  @Test
  void aBodySentSlowerThanTheMinimumRateIsCutOff() throws Exception {
    try (java.net.Socket plain = new java.net.Socket("127.0.0.1", fx.https.port());
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) TestCertificates.clientContext(fx.serverIdentity, null)
            .getSocketFactory().createSocket(plain, "localhost", fx.https.port(), true)) {
      socket.setSoTimeout(30_000);
      var out = socket.getOutputStream();
      out.write(("POST /v1/agent/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 60000\r\n\r\n{").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      long start = System.nanoTime();
      // Trickle a byte a second: 1 B/s against a minimum of 1 KiB/s.
      String answer = "";
      for (int i = 0; i < 20 && answer.isEmpty(); i++) {
        try {
          out.write('x');
          out.flush();
        } catch (java.io.IOException closed) {
          break;
        }
        Thread.sleep(1000);
        if (socket.getInputStream().available() > 0) {
          answer = new String(socket.getInputStream().readNBytes(socket.getInputStream().available()),
              java.nio.charset.StandardCharsets.ISO_8859_1);
        }
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
      assertThat(answer).doesNotStartWith("HTTP/1.1 5");
    }
  }

  @Test
  void anAgentBodyOverItsLimitIs413() throws Exception {
    String huge = "{\"token\":\"x\",\"name\":\"" + "a".repeat(70_000) + "\"}";
    HttpResponse<String> response = fx.post("/v1/agent/enroll", null, huge);
    assertThat(response.statusCode()).isEqualTo(413);
  }

  @Test
  void pollsPastTheAgentRateLimitAre429WithRetryAfter() throws Exception {
    HttpsFixture.Story story = fx.story();
    int limited = 0;
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> response = fx.get("/v1/agent/policies", story.agentCredential());
      if (response.statusCode() == 429) {
        limited++;
        assertThat(Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow())).isPositive();
      }
    }
    assertThat(limited).isPositive();
  }

  private void awaitParked(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (fx.policyServer.parkedPolls() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(fx.policyServer.parkedPolls()).isEqualTo(count);
  }
}
