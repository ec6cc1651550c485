package io.egosecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.PageRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Status reports that arrive together are committed together, each with its own answer. */
class StatusReportsTest {
  private final ServerFixture fx = new ServerFixture();
  private final PolicyServer server = fx.server;

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void reportsWaitingForTheStoreAreCommittedInOneTransactionEachGettingItsOwnAnswer() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "one");
    int fleet = 40;
    List<AgentIdentity> agents = new ArrayList<>();
    for (int i = 0; i < fleet; i++) {
      agents.add(server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "agent-" + i).credential()));
    }
    AgentIdentity revoked = agents.get(7);
    server.revokeAgent(fx.operator, tenant.id(), revoked.agentId());

    // The first report's transaction waits at the gate while all the others queue behind it.
    CountDownLatch firstInStore = new CountDownLatch(1);
    CountDownLatch open = new CountDownLatch(1);
    fx.store.beforeEachTransaction(() -> {
      if (firstInStore.getCount() == 1) {
        firstInStore.countDown();
        await(open);
      }
    });
    long before = fx.store.transactions();
    Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
    List<Thread> reporters = new ArrayList<>();
    for (int i = 0; i < fleet; i++) {
      int agent = i;
      // Agent 9 names a revision the tenant has not published; agent 7 is revoked.
      long revision = agent == 9 ? 2 : 1;
      Thread reporter = new Thread(() -> {
        try {
          server.reportStatus(agents.get(agent), revision, AgentState.APPLIED, "applied " + agent);
        } catch (RuntimeException e) {
          failures.put(agent, e);
        }
      });
      reporters.add(reporter);
      reporter.start();
      if (agent == 0) {
        assertThat(firstInStore.await(10, TimeUnit.SECONDS)).isTrue();
      }
    }
    awaitAllWaiting(reporters.subList(1, fleet));
    open.countDown();
    for (Thread reporter : reporters) {
      reporter.join(TimeUnit.SECONDS.toMillis(10));
    }

    // One transaction for the first report, one for the 39 that waited behind it.
    assertThat(fx.store.transactions() - before).isEqualTo(2);
    assertThat(failures.keySet()).containsExactlyInAnyOrder(7, 9);
    assertThat(failures.get(7)).isInstanceOf(UnauthenticatedException.class);
    assertThat(failures.get(9)).isInstanceOf(ValidationException.class).hasMessageContaining("revision");
    List<Agent> listed = server.agents(fx.operator, tenant.id(),
        new AgentQuery(Optional.of(AgentState.APPLIED), Optional.empty(), Optional.empty()), PageRequest.first()).items();
    assertThat(listed).hasSize(fleet - 2)
        .allSatisfy(agent -> assertThat(agent.status().orElseThrow().message()).isEqualTo("applied " + agent.name().substring(6)));
  }

  @Test
  void aReportAfterCloseFailsAsUnavailable() {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "one");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "a").credential());
    server.reportStatus(agent, 1, AgentState.APPLIED, "");

    server.close();

    assertThatThrownBy(() -> server.reportStatus(agent, 1, AgentState.APPLIED, ""))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("shutting down");
  }

  /** Every thread blocked, waiting for its report's commit. */
  private static void awaitAllWaiting(List<Thread> threads) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
      assertThat(System.nanoTime()).as("reporters waiting").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
