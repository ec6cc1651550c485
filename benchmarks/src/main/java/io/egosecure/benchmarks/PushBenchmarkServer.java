package io.egosecure.benchmarks;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.PolicyServerListener;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.TlsConfig;
import io.micrometer.core.instrument.Timer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.conscrypt.Conscrypt;

/**
 * The server side of {@link PushFanOutBenchmark}, in a JVM of its own so that its heap per
 * connection is not mixed with the client's. It starts the real HTTPS server on 127.0.0.1 with
 * the benchmark tenant, enrolls the agents through {@link PolicyServer} (thousands of HTTP
 * enrollments would only measure TLS handshakes), writes their credentials to
 * {@code WORK/credentials} and then answers commands on standard input, one a line, with one
 * {@code @}-line on standard output:
 *
 * <ul>
 *   <li>{@code state}: {@code @state HEAP_BYTES THREADS IDLE_POOL_THREADS PUSH_SOCKETS PARKED_POLLS},
 *       heap used after a full GC;
 *   <li>{@code sockets}, {@code parked}: {@code @sockets COUNT}, {@code @parked COUNT}, cheaply;
 *   <li>{@code publish}: edits a policy and publishes; {@code @published REVISION COMMIT_US
 *       RETURNED_US}, epoch microseconds (the same clock as the client's on this machine).
 *       COMMIT_US is taken by the first listener the policy server tells of the revision, before
 *       the push hub: the revision is committed and in the node's index;
 *   <li>{@code broadcast}: {@code @broadcast MICROS CPU_MICROS}, the last publish's push broadcast
 *       as the server's {@code egosecure.push.broadcast} timer recorded it (from the hub being told
 *       of the revision to the last frame's write completing), and the CPU time this whole JVM
 *       used from the commit until then (the broadcast, and whatever else ran: collections);
 *       waits up to a minute for it; -1 -1 if the timer recorded none (no socket open);
 *   <li>{@code quit}.
 * </ul>
 *
 * <p>Arguments: the work folder (holding {@code bench.p12}, password {@code benchmark}), the number
 * of agents, and the store: {@code memory} or {@code sqlite}. {@code -Dserver.tls=conscrypt} runs
 * the server's TLS on Conscrypt ({@link TlsConfig#withProvider}) instead of the JDK's; its TLS
 * state is then mostly native memory, which the heap figures do not see.
 */
public final class PushBenchmarkServer {
  private PushBenchmarkServer() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    int agents = Integer.parseInt(args[1]);
    String storeKind = args.length > 2 ? args[2] : "memory";
    PolicyStore store = switch (storeKind) {
      case "memory" -> PolicyStore.inMemory();
      case "sqlite" -> JdbcPolicyStore.sqlite(work.resolve("bench.db"));
      default -> throw new IllegalArgumentException("store must be memory or sqlite: " + storeKind);
    };
    PolicyServer policyServer = PolicyServer.builder().store(store).masterKey(KeyVault.generateMasterKey()).build();
    policyServer.start();
    Principal operator = policyServer.authenticateAdmin(policyServer.bootstrapOperatorKey("bench").orElseThrow().secret());
    Tenant tenant = policyServer.createTenant(operator, "Bench");
    List<Policy> policies = BenchmarkTenant.createPolicies(policyServer, operator, tenant.id());
    policyServer.publish(operator, tenant.id(), "first");

    List<String> credentials = new ArrayList<>(agents);
    int perCombination = (agents + BenchmarkTenant.COMBINATIONS - 1) / BenchmarkTenant.COMBINATIONS;
    for (int c = 0; c < BenchmarkTenant.COMBINATIONS && credentials.size() < agents; c++) {
      String token = policyServer.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(2),
          perCombination, BenchmarkTenant.combination(c)).secret();
      for (int a = 0; a < perCombination && credentials.size() < agents; a++) {
        credentials.add(policyServer.enroll(token, "agent-" + c + "-" + a, Map.of()).credential());
      }
    }
    Files.write(work.resolve("credentials"), credentials, StandardCharsets.US_ASCII);

    CommitClock commits = new CommitClock(tenant.id());
    // Added before the HTTPS server starts, so it is told before the push hub.
    policyServer.addListener(commits);
    TlsConfig tls = TlsConfig.pkcs12(work.resolve("bench.p12"), "benchmark".toCharArray());
    String tlsKind = System.getProperty("server.tls", "jdk");
    tls = switch (tlsKind) {
      case "jdk" -> tls;
      case "conscrypt" -> tls.withProvider(Conscrypt.newProvider());
      default -> throw new IllegalArgumentException("server.tls must be jdk or conscrypt: " + tlsKind);
    };
    EgoSecureHttpsServer https = EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(0)
        .tls(tls)
        .build();
    https.start();
    Timer broadcasts = https.handler().meterRegistry().get("egosecure.push.broadcast").timer();
    System.out.println("@ready " + https.port());

    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int edits = 0;
    BroadcastWatch watch = null;
    for (String command; (command = commands.readLine()) != null && !command.equals("quit"); ) {
      switch (command) {
        case "state" -> {
          long heap = heapAfterGc();
          ThreadInfo[] threads = ManagementFactory.getThreadMXBean().dumpAllThreads(false, false);
          System.out.println("@state " + heap + " " + threads.length + " " + idlePoolThreads(threads)
              + " " + pushSockets(https) + " " + policyServer.parkedPolls());
        }
        case "sockets" -> System.out.println("@sockets " + pushSockets(https));
        case "parked" -> System.out.println("@parked " + policyServer.parkedPolls());
        case "publish" -> {
          int index = edits % policies.size();
          policies.set(index, BenchmarkTenant.edit(policyServer, operator, tenant.id(), policies.get(index), 10_000 + edits));
          edits++;
          watch = new BroadcastWatch(broadcasts, commits);
          long revision = policyServer.publish(operator, tenant.id(), "push benchmark").revision().number();
          System.out.println("@published " + revision + " " + commits.lastMicros + " " + epochMicros());
        }
        case "broadcast" -> System.out.println("@broadcast " + (watch == null ? "-1 -1" : watch.result()));
        default -> System.out.println("@error unknown command " + command);
      }
    }
    https.close();
    policyServer.close();
    store.close();
  }

  private static long heapAfterGc() throws InterruptedException {
    // Two collections: the first may only queue finalizable or softly reachable objects.
    for (int i = 0; i < 2; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /**
   * Pool threads waiting for a job. Jetty's pool grows under a burst of TLS handshakes and
   * shrinks a minute later; the threads doing something are the total less these.
   */
  private static long idlePoolThreads(ThreadInfo[] threads) {
    return Arrays.stream(threads)
        .filter(t -> Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("idleJobPoll")))
        .count();
  }

  private static double pushSockets(EgoSecureHttpsServer https) {
    return https.handler().meterRegistry().get("egosecure.push.sockets").gauge().value();
  }

  static long epochMicros() {
    return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
  }

  /**
   * Waits, on a thread of its own, for the broadcast timer to record the publish started after
   * this was made, and notes the JVM's CPU time at that moment: the server's CPU for the
   * publish and its broadcast, apart from the simulated agents' on the same cores.
   */
  private static final class BroadcastWatch {
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Thread thread;
    private volatile String result = "-1 -1";

    BroadcastWatch(Timer broadcasts, CommitClock commits) {
      long count = broadcasts.count();
      double nanos = broadcasts.totalTime(TimeUnit.NANOSECONDS);
      thread = new Thread(() -> {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        try {
          while (broadcasts.count() == count && System.nanoTime() < deadline) {
            Thread.sleep(2);
          }
        } catch (InterruptedException e) {
          return;
        }
        if (broadcasts.count() != count) {
          result = Math.round((broadcasts.totalTime(TimeUnit.NANOSECONDS) - nanos) / 1e3) + " "
              + (OS.getProcessCpuTime() - commits.lastCpuNanos) / 1_000;
        }
      }, "broadcast-watch");
      thread.setDaemon(true);
      thread.start();
    }

    String result() throws InterruptedException {
      thread.join(TimeUnit.MINUTES.toMillis(2));
      return result;
    }
  }

  /** Records when the policy server announces a revision of the tenant: after its commit. */
  private static final class CommitClock implements PolicyServerListener {
    private final TenantId tenant;
    private volatile long lastMicros;
    private volatile long lastCpuNanos;

    CommitClock(TenantId tenant) {
      this.tenant = tenant;
    }

    @Override
    public void revisionPublished(TenantId published, long revision) {
      if (published.equals(tenant)) {
        lastMicros = epochMicros();
        lastCpuNanos = BroadcastWatch.OS.getProcessCpuTime();
      }
    }
  }
}
