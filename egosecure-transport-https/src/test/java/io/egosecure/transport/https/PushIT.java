package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The push channel with the agent-side client library (Java-WebSocket) over wss on loopback. */
class PushIT {
  private final HttpsFixture fx;

  PushIT() throws Exception {
    fx = new HttpsFixture();
  }

  @AfterEach
  void close() {
    fx.close();
  }

  /** A client that records messages and how it was closed. */
  static final class Client extends WebSocketClient {
    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final CompletableFuture<Integer> handshake = new CompletableFuture<>();

    Client(URI uri, String bearer, SSLContext context) {
      super(uri, bearer == null ? Map.of() : Map.of("Authorization", "Bearer " + bearer));
      setSocketFactory(context.getSocketFactory());
      setConnectionLostTimeout(0);
    }

    @Override
    public void onOpen(ServerHandshake handshakedata) {
      handshake.complete((int) handshakedata.getHttpStatus());
    }

    @Override
    public void onMessage(String message) {
      messages.add(message);
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
      closed.complete(code);
      handshake.complete(-1);
    }

    @Override
    public void onError(Exception ex) {
      handshake.complete(-2);
    }
  }

  private Client connect(String bearer) throws Exception {
    URI uri = URI.create("wss://localhost:" + fx.https.port() + "/v1/agent/notifications");
    Client client = new Client(uri, bearer, TestCertificates.clientContext(fx.serverIdentity, null));
    client.connectBlocking(5, TimeUnit.SECONDS);
    return client;
  }

  @Test
  void aSocketIsGreetedWithItsTenantsRevisionAndAPublishIsPushedWithinASecond() throws Exception {
    HttpsFixture.Story story = fx.story();
    Client client = connect(story.agentCredential());
    assertThat(client.handshake.get(5, TimeUnit.SECONDS)).isEqualTo(101);
    awaitSockets(1);
    assertThat(client.messages.poll(5, TimeUnit.SECONDS)).as("the greeting: the story published revision 1")
        .isEqualTo("{\"type\":\"policies-changed\",\"revision\":1}");

    fx.post("/v1/tenants/" + story.tenantId() + "/policies", fx.operatorKey,
        "{\"name\":\"More\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}");
    long published = System.nanoTime();
    fx.post("/v1/tenants/" + story.tenantId() + "/publish", fx.operatorKey, "{}");

    String message = client.messages.poll(1, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - published)).isLessThan(Duration.ofSeconds(1));
    assertThat(message).isEqualTo("{\"type\":\"policies-changed\",\"revision\":2}");
    client.closeBlocking();

    Client again = connect(story.agentCredential());
    assertThat(again.messages.poll(5, TimeUnit.SECONDS)).as("a socket opened later is greeted with the revision now")
        .isEqualTo("{\"type\":\"policies-changed\",\"revision\":2}");
    again.closeBlocking();
  }

  @Test
  void aBroadcastIsTimedUntilItsFrameIsWrittenAndServedAtMetrics() throws Exception {
    HttpsFixture.Story story = fx.story();
    Client client = connect(story.agentCredential());
    awaitSockets(1);
    Timer broadcasts = fx.https.handler().meterRegistry().get("egosecure.push.broadcast").timer();
    assertThat(broadcasts.count()).isZero();

    fx.post("/v1/tenants/" + story.tenantId() + "/policies", fx.operatorKey,
        "{\"name\":\"More\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}");
    fx.post("/v1/tenants/" + story.tenantId() + "/publish", fx.operatorKey, "{}");

    assertThat(client.messages.poll(5, TimeUnit.SECONDS)).as("the greeting").contains("\"revision\":1}");
    assertThat(client.messages.poll(5, TimeUnit.SECONDS)).contains("\"revision\":2}");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (broadcasts.count() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(broadcasts.count()).isEqualTo(1);
    assertThat(broadcasts.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(fx.get("/metrics", fx.operatorKey).body()).containsPattern("(?m)^egosecure_push_broadcast_seconds_count 1(\\.0)?$");
    client.closeBlocking();
  }

  @Test
  void anUnauthenticatedUpgradeIsRefused() throws Exception {
    Client client = connect("nonsense");
    assertThat(client.handshake.get(5, TimeUnit.SECONDS)).isNotEqualTo(101);
    assertThat(client.isOpen()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"limit=%zz", "cursor=%FF%FE"})
  void anUpgradeWithABadPercentEscapeInItsQueryIs400Not500(String query) throws Exception {
    // Found by FuzzIT: Jetty's handshake parses the URI, then decodes the query as UTF-8, before
    // any negotiator runs; a bad escape (%zz) or escapes that are not UTF-8 (%FF%FE) threw.
    String upgrade = "GET " + EgoSecureHandler.NOTIFICATIONS_PATH + "?" + query + " HTTP/1.1\r\nHost: localhost\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer nonsense\r\n\r\n";
    String answer = fx.raw(upgrade.getBytes(StandardCharsets.US_ASCII), new byte[0]);
    assertThat(HttpsFixture.rawProblem(answer, 400).get("type").asText()).endsWith("/invalid-request");
  }

  @Test
  void revokingAnAgentClosesItsSocket() throws Exception {
    HttpsFixture.Story story = fx.story();
    Client client = connect(story.agentCredential());
    awaitSockets(1);

    fx.delete("/v1/tenants/" + story.tenantId() + "/agents/" + story.agentId(), fx.operatorKey);

    assertThat(client.closed.get(5, TimeUnit.SECONDS)).isEqualTo(PushHub.POLICY_VIOLATION);
    awaitSockets(0);
  }

  @Test
  void aNewerConnectionOfTheSameAgentReplacesTheOlder() throws Exception {
    HttpsFixture.Story story = fx.story();
    Client first = connect(story.agentCredential());
    awaitSockets(1);

    Client second = connect(story.agentCredential());

    assertThat(first.closed.get(5, TimeUnit.SECONDS)).isEqualTo(PushHub.NORMAL);
    assertThat(second.isOpen()).isTrue();
    awaitSockets(1);
    second.closeBlocking();
  }

  private void awaitSockets(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (fx.https.handler().openPushSockets() != count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(fx.https.handler().openPushSockets()).isEqualTo(count);
  }
}
