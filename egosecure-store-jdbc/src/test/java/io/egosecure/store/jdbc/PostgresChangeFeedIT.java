package io.egosecure.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.Enrollment;
import io.egosecure.core.IssuedEnrollmentToken;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.PollResult;
import io.egosecure.core.Principal;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two server nodes on one PostgreSQL database, each with its own store pool and change feed: a
 * publish on one reaches a long poll parked on the other, also after the other's listening
 * connection was killed.
 */
class PostgresChangeFeedIT {
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final SecretKey masterKey = KeyVault.generateMasterKey();
  private String schema;
  private String channel;
  private Node a;
  private Node b;

  private record Node(PolicyStore store, PostgresChangeFeed feed, PolicyServer server) {}

  @BeforeAll
  static void server() {
    PostgresTestDatabase.requireServer();
  }

  @BeforeEach
  void twoNodes() {
    schema = PostgresTestDatabase.uniqueName("egosecure_it_");
    channel = PostgresTestDatabase.uniqueName("egosecure_it_");
    a = node();
    b = node();
  }

  private Node node() {
    JdbcPolicyStore store = PostgresTestDatabase.builder(schema).maximumPoolSize(4).open();
    PostgresChangeFeed feed = PostgresChangeFeed.builder(PostgresTestDatabase.URL)
        .user(PostgresTestDatabase.USER).password(PostgresTestDatabase.PASSWORD)
        .channel(channel).reconnectDelay(Duration.ofMillis(100)).build();
    PolicyServer server = PolicyServer.builder().store(store).changeFeed(feed).masterKey(masterKey).build();
    server.start();
    resources.add(store);
    resources.add(feed);
    resources.add(server);
    return new Node(store, feed, server);
  }

  @AfterEach
  void close() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    PostgresTestDatabase.dropSchema(schema);
  }

  @Test
  void aPublishOnOneNodeWakesALongPollOnTheOther() throws Exception {
    Principal operator = a.server().authenticateAdmin(
        a.server().bootstrapOperatorKey("op").orElseThrow().secret());
    Tenant tenant = a.server().createTenant(operator, "Acme");
    AgentIdentity agent = enrolledOn(b, operator, tenant);
    String etag = b.server().poll(agent, Optional.empty(), Duration.ZERO).get().etag();

    CompletableFuture<PollResult> parked = b.server().poll(agent, Optional.of(etag), Duration.ofSeconds(30));
    publishOn(a, operator, tenant, "first");

    PollResult result = parked.get(2, TimeUnit.SECONDS);
    assertThat(result).isInstanceOf(PollResult.Changed.class);
    assertThat(((PollResult.Changed) result).policySet().policySet().revision()).isEqualTo(1);
  }

  @Test
  void aPublishThatRegroupsAnAgentReachesItsSetOnTheOtherNode() throws Exception {
    Principal operator = a.server().authenticateAdmin(
        a.server().bootstrapOperatorKey("op").orElseThrow().secret());
    Tenant tenant = a.server().createTenant(operator, "Acme");
    AgentIdentity agent = enrolledOn(b, operator, tenant);
    var settings = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("usb", "block");
    a.server().createPolicy(operator, tenant.id(),
        new PolicySpec("for sales", "device-control", settings, Targets.groups(java.util.List.of("sales"))));
    String initial = b.server().poll(agent, Optional.empty(), Duration.ZERO).get().etag();
    CompletableFuture<PollResult> first = b.server().poll(agent, Optional.of(initial), Duration.ofSeconds(30));
    publishOn(a, operator, tenant, "everyone");
    PollResult before = first.get(5, TimeUnit.SECONDS);
    assertThat(((PollResult.Changed) before).policySet().policySet().policies()).hasSize(1);

    // Only the agent's groups change: the publish must make B re-read its agents, not just the revision.
    a.server().updateAgentGroups(operator, tenant.id(), agent.agentId(), Set.of("sales"));
    CompletableFuture<PollResult> parked = b.server().poll(agent, Optional.of(before.etag()), Duration.ofSeconds(30));
    a.server().publish(operator, tenant.id(), "regrouped");

    PollResult after = parked.get(5, TimeUnit.SECONDS);
    assertThat(after).isInstanceOf(PollResult.Changed.class);
    assertThat(((PollResult.Changed) after).policySet().policySet().policies()).hasSize(2);
  }

  @Test
  void aNodeWhoseListeningConnectionWasKilledStillConverges() throws Exception {
    Principal operator = a.server().authenticateAdmin(
        a.server().bootstrapOperatorKey("op").orElseThrow().secret());
    Tenant tenant = a.server().createTenant(operator, "Acme");
    AgentIdentity agent = enrolledOn(b, operator, tenant);
    String etag = b.server().poll(agent, Optional.empty(), Duration.ZERO).get().etag();
    int listener = awaitListener(b.feed(), 0);

    PostgresTestDatabase.execute("SELECT pg_terminate_backend(" + listener + ")");
    publishOn(a, operator, tenant, "while B was deaf");

    awaitListener(b.feed(), listener);
    PollResult result = b.server().poll(agent, Optional.of(etag), Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
    assertThat(result).isInstanceOf(PollResult.Changed.class);
    assertThat(((PollResult.Changed) result).policySet().policySet().revision()).isEqualTo(1);
  }

  private AgentIdentity enrolledOn(Node node, Principal operator, Tenant tenant) throws Exception {
    IssuedEnrollmentToken token = a.server().createEnrollmentToken(
        operator, tenant.id(), Duration.ofHours(1), 1, Set.of());
    Enrollment enrollment = node.server().enroll(token.secret(), "host", Map.of());
    return node.server().authenticateAgent(enrollment.credential());
  }

  private static void publishOn(Node node, Principal operator, Tenant tenant, String comment) {
    var settings = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("usb", "block");
    node.server().createPolicy(operator, tenant.id(), new PolicySpec(comment, "device-control", settings, Targets.allAgents()));
    node.server().publish(operator, tenant.id(), comment);
  }

  /** Waits for the feed to listen on a backend other than {@code not}; returns its pid. */
  private static int awaitListener(PostgresChangeFeed feed, int not) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      int pid = feed.listenerBackendPid();
      if (pid != 0 && pid != not) {
        return pid;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the change feed did not (re)connect within 10 s");
  }
}
