package io.egosecure.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.wire.Json;
import io.egosecure.reliability.AdminApi.Draft;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8, item 3: two reference-server processes on one PostgreSQL database, under a light poll
 * and admin load, lose their change-feed connections, then PostgreSQL itself restarts. Nodes
 * resynchronise and every agent converges; during the restart requests get answers — a success,
 * or 503 problem+json with {@code Retry-After} — within bounded client timeouts, never a 500 or
 * a hang. Needs PostgreSQL (and root, to restart it): skipped locally without, failed under CI.
 */
class PostgresFaultsIT {
  private static final Logger log = LoggerFactory.getLogger(PostgresFaultsIT.class);
  private static final int INTERVAL_SECONDS = 5;
  private static final Duration CONVERGENCE = Duration.ofSeconds(30);
  private static final int AGENTS_PER_NODE = 3;
  private static final int POLLERS_PER_NODE = 4;

  @TempDir Path temp;
  private String database;
  private final List<AutoCloseable> resources = new ArrayList<>();

  @BeforeEach
  void database() {
    PostgresServer.requireRestartable();
    database = PostgresServer.createDatabase("egosecure_rel_faults_");
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    if (database != null) {
      PostgresServer.dropDatabase(database);
    }
  }

  @Test
  void nodesResynchroniseAfterLostListenersAndAPostgresRestart() throws Exception {
    List<String> arguments = List.of("--database", PostgresServer.urlOf(database), "--database-user", PostgresServer.USER);
    Map<String, String> environment = Map.of("EGOSECURE_DATABASE_PASSWORD", PostgresServer.PASSWORD);
    Path dirA = temp.resolve("node-a");
    ReferenceServerProcess a = track(ReferenceServerProcess.start(dirA, arguments, environment));
    // The second node needs the first one's master key to open the tenants' signing keys.
    Path dirB = Files.createDirectory(temp.resolve("node-b"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.copy(dirA.resolve("master.key"), dirB.resolve("master.key"));
    ReferenceServerProcess b = track(ReferenceServerProcess.start(dirB, arguments, environment));

    String operatorKey = a.operatorKey();
    AdminApi adminA = new AdminApi(a.httpClient(), a::uri, operatorKey);
    AdminApi adminB = new AdminApi(b.httpClient(), b::uri, operatorKey);
    String tenant = adminA.createTenant("pg faults");
    adminA.setPolling(tenant, INTERVAL_SECONDS, 10);
    Draft draft = adminA.createPolicy(tenant, "usb", Json.object().put("step", 1));
    long first = adminA.publish(tenant, "first").expect(201).json().path("revision").asLong();
    String token = adminA.enrollmentToken(tenant, 2 * (AGENTS_PER_NODE + POLLERS_PER_NODE));

    List<RecordingAgent> agents = new ArrayList<>();
    for (int i = 0; i < AGENTS_PER_NODE; i++) {
      agents.add(track(RecordingAgent.start("a-" + i, a.uri(), a.certificate(), token, temp.resolve("agent-a-" + i))));
      agents.add(track(RecordingAgent.start("b-" + i, b.uri(), b.certificate(), token, temp.resolve("agent-b-" + i))));
    }
    awaitAll(agents, first);

    // Light load on both nodes: polls with ETags, and admin reads that need the database.
    FleetLoad load = track(new FleetLoad(a.httpClient(), 4));
    FleetLoad loadB = track(new FleetLoad(b.httpClient(), 4));
    for (int i = 0; i < POLLERS_PER_NODE; i++) {
      load.pollers.add(FleetLoad.enroll(a.httpClient(), a.uri(), token, "poller-a-" + i));
      loadB.pollers.add(FleetLoad.enroll(b.httpClient(), b.uri(), token, "poller-b-" + i));
    }
    load.pollEvery(Duration.ofMillis(700));
    loadB.pollEvery(Duration.ofMillis(700));
    load.repeat("revisions on a", Duration.ofMillis(200), () -> adminRead(a.uri(), tenant, operatorKey));
    loadB.repeat("revisions on b", Duration.ofMillis(200), () -> adminRead(b.uri(), tenant, operatorKey));

    // (a) The change-feed connections keep being ended while A publishes: B cannot hear A's
    // NOTIFY (a listener that reconnects lives at most a few tens of milliseconds), so B's agents
    // converge only if B resynchronises once its listener stays up.
    AtomicInteger terminated = new AtomicInteger();
    AtomicBoolean publishing = new AtomicBoolean(true);
    Thread terminator = new Thread(() -> {
      while (publishing.get()) {
        terminated.addAndGet(PostgresServer.terminateChangeFeeds(database));
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "feed-terminator");
    terminator.start();
    long second;
    try {
      long listenersEnded = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (terminated.get() < 2) {
        assertThat(System.nanoTime() - listenersEnded).as("both nodes' listeners ended within 10 s").isNegative();
        Thread.sleep(10);
      }
      draft = adminA.policy(tenant, draft.id());
      adminA.updatePolicy(tenant, draft, "usb", Json.object().put("step", 2)).expect(200);
      second = adminA.publish(tenant, "while nobody listens").expect(201).json().path("revision").asLong();
    } finally {
      publishing.set(false);
      terminator.join(10_000);
    }
    long publishedAt = System.nanoTime();
    awaitAll(agents, second);
    log.info("ended {} change-feed connections while A published; all {} agents on revision {} {} ms after",
        terminated.get(), agents.size(), second, (System.nanoTime() - publishedAt) / 1_000_000);
    assertThat(load.outcomes.violations()).as("node A while its feed reconnects").isEmpty();
    assertThat(loadB.outcomes.violations()).as("node B while its feed reconnects").isEmpty();

    // (b) PostgreSQL restarts under that load.
    Instant startedBefore = PostgresServer.startTime();
    long restartBegan = System.nanoTime();
    PostgresServer.restart();
    long restartTook = (System.nanoTime() - restartBegan) / 1_000_000;
    assertThat(PostgresServer.startTime()).as("PostgreSQL really restarted").isAfter(startedBefore);
    String policyId = draft.id();
    Draft current = retryWhileUnavailable(() -> adminB.policy(tenant, policyId));
    retryWhileUnavailable(() -> adminB.updatePolicy(tenant, current, "usb", Json.object().put("step", 3)).expect(200));
    long third = retryWhileUnavailable(() -> adminB.publish(tenant, "after the restart").expect(201)).json().path("revision").asLong();
    awaitAll(agents, third);
    long deadline = System.nanoTime() + CONVERGENCE.toNanos();
    while (System.nanoTime() - deadline < 0 && !allPollersAt(third, load, loadB)) {
      Thread.sleep(100);
    }
    load.close();
    loadB.close();
    log.info("PostgreSQL restart took {} ms; node A: {}; node B: {}", restartTook, load.outcomes, loadB.outcomes);
    assertThat(allPollersAt(third, load, loadB)).as("every simulated agent on revision %d", third).isTrue();
    assertThat(load.outcomes.violations()).as("node A during the restart").isEmpty();
    assertThat(loadB.outcomes.violations()).as("node B during the restart").isEmpty();
    assertThat(Math.max(load.outcomes.slowestMillis(), loadB.outcomes.slowestMillis()))
        .as("slowest answer, bounded well inside the client timeout").isLessThan(FleetLoad.REQUEST_TIMEOUT.toMillis());
    assertThat(PostgresServer.changeFeedPids(database)).as("both nodes listening again").hasSizeGreaterThanOrEqualTo(2);
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  private static HttpRequest adminRead(URI server, String tenant, String key) {
    return HttpRequest.newBuilder(server.resolve("/v1/tenants/" + tenant + "/revisions?limit=5"))
        .timeout(FleetLoad.REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + key)
        .GET().build();
  }

  private static boolean allPollersAt(long revision, FleetLoad... loads) {
    for (FleetLoad load : loads) {
      for (FleetLoad.Poller poller : load.pollers) {
        if (poller.revision < revision) {
          return false;
        }
      }
    }
    return true;
  }

  private static void awaitAll(List<RecordingAgent> agents, long revision) throws InterruptedException {
    for (RecordingAgent agent : agents) {
      assertThat(agent.awaitRevision(revision, CONVERGENCE)).as("%s reaches revision %d", agent.name, revision).isTrue();
    }
  }

  @FunctionalInterface
  private interface AdminCall<T> {
    T call() throws Exception;
  }

  /** An admin step right after the restart may meet 503 (the pool reconnecting): retried, bounded. */
  private static <T> T retryWhileUnavailable(AdminCall<T> call) throws Exception {
    long deadline = System.nanoTime() + CONVERGENCE.toNanos();
    while (true) {
      try {
        return call.call();
      } catch (AssertionError e) {
        if (!e.getMessage().contains("got 503") || System.nanoTime() - deadline > 0) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }
}
