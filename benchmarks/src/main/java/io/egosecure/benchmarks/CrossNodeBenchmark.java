package io.egosecure.benchmarks;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.PolicyServerListener;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import io.egosecure.store.jdbc.PostgresChangeFeed;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.HdrHistogram.Histogram;

/**
 * The cross-node hop alone: two policy servers (nodes A and B) on one PostgreSQL database, each
 * with its own store pool and change feed, in one quiet JVM with no agents and no HTTP. A
 * publishes the benchmark tenant (1,000 policies); the figure is how long after A's publish call
 * returned B had reloaded the tenant and told its listeners (where the push hub would start
 * sending), and B's lag behind A's own listeners. {@code FleetBenchmark --scale-out} measures the
 * same path end to end, with both nodes and thousands of simulated agents on the same two cores.
 *
 * <pre>
 * mvn -q -B install -DskipTests -DskipITs
 * mvn -q -B -pl benchmarks exec:java -Dexec.mainClass=io.egosecure.benchmarks.CrossNodeBenchmark -Dexec.args=50
 * </pre>
 *
 * <p>Argument: measured publishes (default 50), after 10 to warm up. Database {@code
 * egosecure_crossnode} on 127.0.0.1:5432 (postgres/postgres) is dropped and created for the run.
 */
public final class CrossNodeBenchmark {
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";
  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/egosecure_crossnode";
  private static final int WARM_UP = 10;

  private CrossNodeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    try (Connection admin = DriverManager.getConnection(ADMIN_URL, "postgres", "postgres");
        Statement statement = admin.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS egosecure_crossnode WITH (FORCE)");
      statement.execute("CREATE DATABASE egosecure_crossnode");
    }
    SecretKey masterKey = KeyVault.generateMasterKey();
    try (Node a = new Node(masterKey); Node b = new Node(masterKey)) {
      Principal operator = a.server.authenticateAdmin(a.server.bootstrapOperatorKey("bench").orElseThrow().secret());
      Tenant tenant = a.server.createTenant(operator, BenchmarkServer.TENANT);
      List<Policy> policies = BenchmarkTenant.createPolicies(a.server, operator, tenant.id());
      a.server.publish(operator, tenant.id(), "first");
      Thread.sleep(1_000);

      Histogram afterReturn = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      Histogram behindA = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      for (int round = 0; round < WARM_UP + rounds; round++) {
        a.told.clear();
        b.told.clear();
        policies.set(0, BenchmarkTenant.edit(a.server, operator, tenant.id(), policies.get(0), 1_000 + round));
        a.server.publish(operator, tenant.id(), "cross-node benchmark");
        long returned = System.nanoTime();
        long aTold = a.told.take();
        Long bTold = b.told.poll(10, TimeUnit.SECONDS);
        if (bTold == null) {
          throw new IllegalStateException("node B was not told of publish " + round + " within 10 s");
        }
        if (round >= WARM_UP) {
          afterReturn.recordValue(Math.max(0, (bTold - returned) / 1_000));
          behindA.recordValue(Math.max(0, (bTold - aTold) / 1_000));
        }
        Thread.sleep(200);
      }
      System.out.printf("cross-node, %d publishes of %d policies after %d to warm up:%n", rounds, BenchmarkTenant.POLICIES, WARM_UP);
      System.out.printf("  B told after A's publish returned: p50 %.1f ms  p99 %.1f ms  max %.1f ms%n",
          afterReturn.getValueAtPercentile(50) / 1e3, afterReturn.getValueAtPercentile(99) / 1e3, afterReturn.getMaxValue() / 1e3);
      System.out.printf("  B told after A told its own listeners: p50 %.1f ms  p99 %.1f ms  max %.1f ms%n",
          behindA.getValueAtPercentile(50) / 1e3, behindA.getValueAtPercentile(99) / 1e3, behindA.getMaxValue() / 1e3);
    }
  }

  /** A policy server on its own pool and change feed, noting when it tells listeners of a revision. */
  private static final class Node implements AutoCloseable, PolicyServerListener {
    final BlockingQueue<Long> told = new LinkedBlockingQueue<>();
    final JdbcPolicyStore store;
    final PostgresChangeFeed feed;
    final PolicyServer server;

    Node(SecretKey masterKey) {
      store = JdbcPolicyStore.postgres(URL).user("postgres").password("postgres").open();
      feed = PostgresChangeFeed.builder(URL).user("postgres").password("postgres").build();
      server = PolicyServer.builder().store(store).changeFeed(feed).masterKey(masterKey).build();
      server.addListener(this);
      server.start();
    }

    @Override
    public void revisionPublished(TenantId tenant, long revision) {
      told.add(System.nanoTime());
    }

    @Override
    public void close() {
      server.close();
      feed.close();
      store.close();
    }
  }
}
