package io.egosecure.transport.https;

import static io.egosecure.transport.https.HttpsFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

/**
 * Conditional polls answered from memory on the I/O thread must answer exactly what the full
 * path answers, charge the rate limit once, and hand everything else to the pool.
 */
class PollsOnTheIoThreadIT {

  @Test
  void aCurrentEtagIs304WithThePollHeadersAndAStaleOneGetsTheNewSet() throws Exception {
    try (HttpsFixture fx = new HttpsFixture()) {
      HttpsFixture.Story story = fx.story();
      HttpResponse<String> first = fx.get("/v1/agent/policies", story.agentCredential());
      String etag = first.headers().firstValue("ETag").orElseThrow();

      HttpResponse<String> unchanged = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", etag).GET().build());
      HttpResponse<String> slow = fx.send(fx.request("/v1/agent/policies?wait=0", story.agentCredential())
          .header("If-None-Match", etag).GET().build());

      assertThat(unchanged.statusCode()).isEqualTo(304);
      assertThat(unchanged.body()).isEmpty();
      for (String header : List.of("ETag", "Cache-Control", AgentApi.POLL_INTERVAL_HEADER, AgentApi.POLL_JITTER_HEADER)) {
        assertThat(unchanged.headers().allValues(header)).as(header).isEqualTo(slow.headers().allValues(header));
      }
      assertThat(slow.statusCode()).isEqualTo(304);
      assertThat(fx.https.handler().answersPollsOnTheIoThread()).isTrue();

      fx.post("/v1/tenants/" + story.tenantId() + "/policies", fx.operatorKey,
          "{\"name\":\"More\",\"kind\":\"device-control\",\"settings\":{},\"targets\":{\"all\":true}}");
      fx.post("/v1/tenants/" + story.tenantId() + "/publish", fx.operatorKey, "{\"comment\":\"second\"}");
      HttpResponse<String> changed = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", etag).GET().build());
      assertThat(changed.statusCode()).isEqualTo(200);
      assertThat(json(changed).get("revision").asLong()).isEqualTo(2);

      HttpResponse<String> forged = fx.send(fx.request("/v1/agent/policies", story.agentCredential() + "x")
          .header("If-None-Match", etag).GET().build());
      assertThat(forged.statusCode()).isEqualTo(401);
      assertThat(forged.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }
  }

  @Test
  void aPollTheIoThreadCannotAnswerIsChargedToTheRateLimitOnce() throws Exception {
    // Three polls a minute: a 304, then a changed set (begun on the I/O thread, finished on the
    // pool), then one more. Charging the hand-off twice would refuse the second.
    try (HttpsFixture fx = new HttpsFixture(UnaryOperator.identity(), limits -> limits.agentRate(new RateLimit(0.05, 3)))) {
      HttpsFixture.Story story = fx.story();
      String etag = fx.policyServer.poll(fx.policyServer.authenticateAgent(story.agentCredential()),
          java.util.Optional.empty(), java.time.Duration.ZERO).join().etag();

      int notModified = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", etag).GET().build()).statusCode();
      int changed = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", "\"stale\"").GET().build()).statusCode();
      int third = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", etag).GET().build()).statusCode();
      HttpResponse<String> fourth = fx.send(fx.request("/v1/agent/policies", story.agentCredential())
          .header("If-None-Match", etag).GET().build());

      assertThat(List.of(notModified, changed, third)).containsExactly(304, 200, 304);
      assertThat(fourth.statusCode()).isEqualTo(429);
      assertThat(fourth.headers().firstValue("Retry-After")).isPresent();
    }
  }

  @Test
  void twoIoThreadsThatAlsoAcceptServeConcurrentPolls() throws Exception {
    try (HttpsFixture fx = new HttpsFixture(UnaryOperator.identity(),
        limits -> limits.agentRate(new RateLimit(10_000, 10_000)), server -> server.ioThreads(2).acceptors(0))) {
      HttpsFixture.Story story = fx.story();
      String etag = fx.get("/v1/agent/policies", story.agentCredential()).headers().firstValue("ETag").orElseThrow();
      List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> polls = new java.util.ArrayList<>();
      for (int i = 0; i < 100; i++) {
        polls.add(fx.client.sendAsync(fx.request("/v1/agent/policies", story.agentCredential())
            .header("If-None-Match", etag).GET().build(), HttpResponse.BodyHandlers.ofString()));
      }
      for (var poll : polls) {
        assertThat(poll.get().statusCode()).isEqualTo(304);
      }
    }
  }

  /**
   * An integrator's server with a blocking handler around ours already runs every request on a
   * pool thread: the handler must then answer in place rather than hand off again, and still work.
   */
  @Test
  void insideABlockingHandlerEveryRequestIsAnsweredOnTheThreadItArrivedOn() throws Exception {
    PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    policyServer.start();
    Server jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    List<String> handlerThreads = new CopyOnWriteArrayList<>();
    EgoSecureHandler ego = EgoSecureHandler.builder(policyServer).build(jetty);
    jetty.setHandler(new Handler.Wrapper(new Handler.Wrapper(ego) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        handlerThreads.add(Thread.currentThread().getName());
        return super.handle(request, response, callback);
      }
    }) {
      @Override
      public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
      }
    });
    try {
      jetty.start();
      URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> live = client.send(HttpRequest.newBuilder(base.resolve("/health/live")).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> unauthenticated = client.send(HttpRequest.newBuilder(base.resolve("/v1/agent/policies"))
          .header("Authorization", "Bearer nothing").header("If-None-Match", "\"x\"").build(), HttpResponse.BodyHandlers.ofString());

      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(unauthenticated.statusCode()).isEqualTo(401);
      assertThat(handlerThreads).hasSize(2);
      assertThat(ego.answersPollsOnTheIoThread()).as("Jetty hands every request to the pool already").isFalse();
    } finally {
      jetty.stop();
      policyServer.close();
    }
  }
}
