package io.egosecure.benchmarks;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.PollResult;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.testing.CountingStore;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Publish latency for a tenant with 1,000 policies over 20 groups, whose agents fall into 50
 * distinct group combinations; then the poll path's store calls (there must be none).
 *
 * <pre>
 * mvn -q -B install -DskipTests
 * mvn -q -B -pl benchmarks exec:java -Dexec.args="sqlite postgres"
 * </pre>
 *
 * PostgreSQL is read from EGOSECURE_TEST_POSTGRES_URL / _USER / _PASSWORD (defaults as in the
 * tests) and uses a throw-away schema.
 */
public final class PublishBenchmark {
  private static final int POLICIES = BenchmarkTenant.POLICIES;
  private static final int GROUPS = BenchmarkTenant.GROUPS;
  private static final int COMBINATIONS = BenchmarkTenant.COMBINATIONS;
  private static final int AGENTS_PER_COMBINATION = 4;
  private static final int WARMUP = 10;
  private static final int PUBLISHES = 100;
  private static final int POLLS = 20_000;

  private PublishBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<String> stores = args.length == 0 ? List.of("sqlite") : Arrays.asList(args);
    System.out.printf("publish benchmark: %d policies, %d groups, %d group combinations, %d agents; %d publishes after %d warm-up%n",
        POLICIES, GROUPS, COMBINATIONS, COMBINATIONS * AGENTS_PER_COMBINATION, PUBLISHES, WARMUP);
    for (String kind : stores) {
      try (PolicyStore store = open(kind)) {
        run(kind, store);
      }
    }
  }

  private static PolicyStore open(String kind) throws Exception {
    return switch (kind) {
      case "sqlite" -> JdbcPolicyStore.sqlite(Files.createTempDirectory("egosecure-bench").resolve("bench.db"));
      case "postgres" -> JdbcPolicyStore
          .postgres(env("EGOSECURE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/postgres"))
          .user(env("EGOSECURE_TEST_POSTGRES_USER", "postgres"))
          .password(env("EGOSECURE_TEST_POSTGRES_PASSWORD", "postgres"))
          .schema("egosecure_bench_" + Long.toHexString(System.nanoTime()))
          .open();
      case "memory" -> PolicyStore.inMemory();
      default -> throw new IllegalArgumentException("store must be sqlite, postgres or memory: " + kind);
    };
  }

  private static void run(String kind, PolicyStore rawStore) {
    CountingStore store = new CountingStore(rawStore);
    try (PolicyServer server = PolicyServer.builder().store(store).masterKey(KeyVault.generateMasterKey()).build()) {
      server.start();
      Principal operator = server.authenticateAdmin(server.bootstrapOperatorKey("bench").orElseThrow().secret());
      Tenant tenant = server.createTenant(operator, "Bench");
      List<Policy> policies = BenchmarkTenant.createPolicies(server, operator, tenant.id());
      List<AgentIdentity> agents = new ArrayList<>();
      for (int c = 0; c < COMBINATIONS; c++) {
        Set<String> combination = BenchmarkTenant.combination(c);
        String token = server.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(1),
            AGENTS_PER_COMBINATION, combination).secret();
        for (int a = 0; a < AGENTS_PER_COMBINATION; a++) {
          agents.add(server.authenticateAgent(server.enroll(token, "agent-" + c + "-" + a, Map.of()).credential()));
        }
      }

      long[] nanos = new long[PUBLISHES];
      for (int i = -WARMUP; i < PUBLISHES; i++) {
        Policy current = policies.get(Math.floorMod(i, POLICIES));
        Policy edited = BenchmarkTenant.edit(server, operator, tenant.id(), current, i);
        policies.set(Math.floorMod(i, POLICIES), edited);
        long start = System.nanoTime();
        server.publish(operator, tenant.id(), "edit " + i);
        long took = System.nanoTime() - start;
        if (i >= 0) {
          nanos[i] = took;
        }
      }
      Arrays.sort(nanos);
      System.out.printf("%-8s publish  p50 %6.1f ms   p99 %6.1f ms   max %6.1f ms%n", kind,
          nanos[PUBLISHES / 2] / 1e6, nanos[(int) (PUBLISHES * 0.99)] / 1e6, nanos[PUBLISHES - 1] / 1e6);

      // First poll of each agent after the publish signs its set (per agent); then 304s.
      List<String> etags = new ArrayList<>();
      long callsBefore = store.calls();
      long start = System.nanoTime();
      for (AgentIdentity agent : agents) {
        etags.add(server.poll(agent, Optional.empty(), Duration.ZERO).join().etag());
      }
      long changedNanos = System.nanoTime() - start;
      start = System.nanoTime();
      long notModified = 0;
      for (int i = 0; i < POLLS; i++) {
        int a = i % agents.size();
        if (server.poll(agents.get(a), Optional.of(etags.get(a)), Duration.ZERO).join() instanceof PollResult.NotModified) {
          notModified++;
        }
      }
      long pollNanos = System.nanoTime() - start;
      System.out.printf("%-8s 200 poll (sign one agent's set) %.2f ms each; 304 poll %.1f µs each (%d of %d 304); store calls while polling: %d%n",
          kind, changedNanos / 1e6 / agents.size(), pollNanos / 1e3 / POLLS, notModified, POLLS,
          store.calls() - callsBefore);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
