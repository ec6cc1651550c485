package io.egosecure.benchmarks;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The burst of status reports after a publish: N agents of one tenant report what they applied,
 * T at a time (as T request threads would), straight through {@link PolicyServer} (no HTTP:
 * this is the store's side of it). Reports per second, on SQLite and PostgreSQL.
 *
 * <pre>
 * mvn -q -B install -DskipTests -DskipITs
 * mvn -q -B -pl benchmarks exec:java -Dexec.mainClass=io.egosecure.benchmarks.StatusReportBenchmark -Dexec.args="5000 32"
 * </pre>
 *
 * <p>Arguments: agents (default 5000), concurrent reporters (default 32). PostgreSQL: database
 * {@code egosecure_status} on 127.0.0.1:5432 (postgres/postgres), dropped and created per run.
 */
public final class StatusReportBenchmark {
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";
  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/egosecure_status";

  private StatusReportBenchmark() {}

  public static void main(String[] args) throws Exception {
    int agents = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    int reporters = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    try (PolicyStore sqlite = JdbcPolicyStore.sqlite(Files.createTempDirectory("egosecure-status").resolve("status.db"))) {
      run("SQLite", sqlite, agents, reporters);
    }
    try (Connection admin = DriverManager.getConnection(ADMIN_URL, "postgres", "postgres");
        Statement statement = admin.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS egosecure_status WITH (FORCE)");
      statement.execute("CREATE DATABASE egosecure_status");
    }
    try (PolicyStore postgres = JdbcPolicyStore.postgres(URL).user("postgres").password("postgres").open()) {
      run("PostgreSQL", postgres, agents, reporters);
    }
  }

  private static void run(String name, PolicyStore store, int agents, int reporters) throws Exception {
    try (PolicyServer server = PolicyServer.builder().store(store).masterKey(KeyVault.generateMasterKey()).build()) {
      server.start();
      Principal operator = server.authenticateAdmin(server.bootstrapOperatorKey("bench").orElseThrow().secret());
      Tenant tenant = server.createTenant(operator, BenchmarkServer.TENANT);
      BenchmarkTenant.createPolicies(server, operator, tenant.id());
      long revision = server.publish(operator, tenant.id(), "first").revision().number();
      String token = server.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(1), agents, Set.of()).secret();
      List<AgentIdentity> fleet = new ArrayList<>(agents);
      for (int i = 0; i < agents; i++) {
        fleet.add(server.authenticateAgent(server.enroll(token, "agent-" + i, Map.of()).credential()));
      }
      ExecutorService pool = Executors.newFixedThreadPool(reporters);
      try {
        long start = System.nanoTime();
        List<Future<?>> reports = new ArrayList<>(agents);
        for (AgentIdentity agent : fleet) {
          reports.add(pool.submit(() -> server.reportStatus(agent, revision, AgentState.APPLIED, "applied")));
        }
        for (Future<?> report : reports) {
          report.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%s: %d status reports, %d at a time, in %.2f s: %.0f a second%n",
            name, agents, reporters, seconds, agents / seconds);
      } finally {
        pool.shutdown();
      }
    }
  }
}
