package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thousand long polls parked over real HTTPS hold no server threads: the server runs with a
 * pool of {@value #THREADS} threads, which could not hold a thousand requests, and its busy
 * threads are counted while they wait.
 */
class ParkedPollsIT {
  private static final int POLLS = 1000;
  private static final int THREADS = 16;
  private static final Logger log = LoggerFactory.getLogger(ParkedPollsIT.class);
  private final HttpsFixture fx;

  ParkedPollsIT() throws Exception {
    fx = new HttpsFixture(tls -> tls, limits -> limits.agentRate(new RateLimit(10_000, 10_000)),
        server -> server.maxThreads(THREADS));
  }

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void aThousandParkedPollsHoldNoServerThreadsAndAllWakeOnAPublish() throws Exception {
    HttpsFixture.Story story = fx.story();
    String etag = fx.get("/v1/agent/policies", story.agentCredential()).headers().firstValue("ETag").orElseThrow();
    int busyBefore = fx.https.busyThreads();

    // Four clients: one client does every TLS handshake on its one selector thread.
    List<HttpClient> clients = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      clients.add(HttpsFixture.client(TestCertificates.clientContext(fx.serverIdentity, null)));
    }
    long parkStart = System.nanoTime();
    HttpRequest poll = fx.request("/v1/agent/policies?wait=60", story.agentCredential())
        .header("If-None-Match", etag).GET().build();
    List<CompletableFuture<HttpResponse<String>>> parked = new ArrayList<>();
    for (int i = 0; i < POLLS; i++) {
      parked.add(clients.get(i % clients.size()).sendAsync(poll, HttpResponse.BodyHandlers.ofString()));
    }
    // On a loaded machine the first polls can wait out their 60 s before the last handshake is
    // done: send those again, so a thousand are outstanding until a thousand are parked at once.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (fx.policyServer.parkedPolls() < POLLS && System.nanoTime() < deadline) {
      Thread.sleep(50);
      for (int i = 0; i < POLLS; i++) {
        if (parked.get(i).isDone()) {
          parked.set(i, clients.get(i % clients.size()).sendAsync(poll, HttpResponse.BodyHandlers.ofString()));
        }
      }
    }
    // At least: a poll whose client gave up may still be parked when its replacement arrives.
    assertThat(fx.policyServer.parkedPolls()).isGreaterThanOrEqualTo(POLLS);
    int busyWhileParked = fx.https.busyThreads();
    log.info("{} polls parked in {} ms on a pool of {} threads; busy threads {} before, {} while parked",
        POLLS, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - parkStart), THREADS, busyBefore, busyWhileParked);

    fx.post("/v1/tenants/" + story.tenantId() + "/policies", fx.operatorKey,
        "{\"name\":\"More\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}");
    fx.post("/v1/tenants/" + story.tenantId() + "/publish", fx.operatorKey, "{}");
    CompletableFuture.allOf(parked.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    assertThat(busyWhileParked - busyBefore).as("busy server threads added by %d parked polls", POLLS)
        .isLessThanOrEqualTo(5);
    assertThat(parked).allMatch(response -> response.join().statusCode() == 200);
    assertThat(fx.policyServer.parkedPolls()).isZero();
  }
}
