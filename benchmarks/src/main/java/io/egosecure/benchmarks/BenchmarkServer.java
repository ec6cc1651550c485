package io.egosecure.benchmarks;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Change;
import io.egosecure.core.spi.ChangeFeed;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import io.egosecure.store.jdbc.PostgresChangeFeed;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.TlsConfig;
import io.micrometer.core.instrument.Timer;
import java.io.BufferedReader;
import java.io.IOException;
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
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import org.conscrypt.Conscrypt;

/**
 * The server side of the load benchmarks, in a JVM of its own so that its heap, threads and file
 * descriptors are its alone. It runs the real HTTPS server on 127.0.0.1 over a real store with the
 * benchmark tenant ({@link BenchmarkTenant}), and answers commands on standard input, one a line,
 * with one {@code @}-line on standard output.
 *
 * <p>Created fresh, it makes the tenant and enrolls the agents through {@link PolicyServer}
 * (thousands of HTTP enrollments would only measure TLS handshakes), and writes to the work folder
 * what another process needs to join the same database: {@code credentials} (one agent credential
 * a line), {@code master.key} and {@code operator.key}. With {@code --join} it opens that database
 * instead: a second node on the same PostgreSQL, or this node restarted.
 *
 * <p>Options ({@code --name=value}):
 * <ul>
 *   <li>{@code --work=DIR} (required): holds {@code bench.p12}, password {@code benchmark};
 *   <li>{@code --store=memory|sqlite|postgres} (default memory); {@code --postgres-url},
 *       {@code --postgres-user}, {@code --postgres-password} (default
 *       {@code jdbc:postgresql://127.0.0.1:5432/egosecure_bench}, postgres/postgres; the database
 *       must exist and, unless joining, be empty);
 *   <li>{@code --agents=N} (default 10000), {@code --interval=SECONDS} (default 60),
 *       {@code --jitter=PERCENT} (default 10): the tenant's polling;
 *   <li>{@code --join}: the database holds the benchmark tenant already;
 *   <li>{@code --port=P} (default 0), {@code --tls=jdk|conscrypt} (default jdk).
 * </ul>
 *
 * <p>Commands:
 * <ul>
 *   <li>{@code state}: {@code @state HEAP_BYTES THREADS IDLE_POOL_THREADS PUSH_SOCKETS PARKED_POLLS},
 *       heap used after a full GC;
 *   <li>{@code gauges}: {@code @gauges HEAP_BYTES THREADS OPEN_FILES POLLS PUSH_SOCKETS}, without a
 *       GC, cheap enough to sample during a run (POLLS: answered polls since start);
 *   <li>{@code sockets}, {@code parked}: {@code @sockets COUNT}, {@code @parked COUNT};
 *   <li>{@code publish}: edits a policy and publishes; {@code @published REVISION COMMIT_US
 *       RETURNED_US}, epoch microseconds (the same clock as the client's on this machine).
 *       COMMIT_US is when the policy server hands the committed publish to its change feed,
 *       before any node reloads the tenant or tells its agents;
 *   <li>{@code broadcast}: {@code @broadcast MICROS CPU_MICROS}, the last publish's push broadcast
 *       as the server's {@code egosecure.push.broadcast} timer recorded it (from the hub being told
 *       to the last frame's write completing), and the CPU this JVM used from the commit until
 *       then; {@code -1 -1} if none was recorded within a minute;
 *   <li>{@code quit}.
 * </ul>
 * When ready it prints {@code @ready PORT}.
 */
public final class BenchmarkServer {
  static final String PASSWORD = "benchmark";
  static final String TENANT = "Bench";
  static final String DEFAULT_POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/egosecure_bench";

  private BenchmarkServer() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    Path work = Path.of(required(options, "work"));
    boolean join = options.containsKey("join");
    String storeKind = options.getOrDefault("store", "memory");
    PolicyStore store;
    ChangeFeed changeFeed = ChangeFeed.inProcess();
    switch (storeKind) {
      case "memory" -> store = PolicyStore.inMemory();
      case "sqlite" -> store = JdbcPolicyStore.sqlite(work.resolve("bench.db"));
      case "postgres" -> {
        String url = options.getOrDefault("postgres-url", DEFAULT_POSTGRES_URL);
        String user = options.getOrDefault("postgres-user", "postgres");
        String password = options.getOrDefault("postgres-password", "postgres");
        store = JdbcPolicyStore.postgres(url).user(user).password(password).open();
        changeFeed = PostgresChangeFeed.builder(url).user(user).password(password).build();
      }
      default -> throw new IllegalArgumentException("--store must be memory, sqlite or postgres: " + storeKind);
    }
    if (join && storeKind.equals("memory")) {
      throw new IllegalArgumentException("--join needs a database: --store=sqlite or --store=postgres");
    }
    SecretKey masterKey = join
        ? KeyVault.masterKey(HexFormat.of().parseHex(Files.readString(work.resolve("master.key")).strip()))
        : KeyVault.generateMasterKey();
    if (!join) {
      Files.writeString(work.resolve("master.key"), HexFormat.of().formatHex(masterKey.getEncoded()));
    }
    CommitClock commits = new CommitClock(changeFeed);
    PolicyServer policyServer = PolicyServer.builder().store(store).changeFeed(commits).masterKey(masterKey).build();
    policyServer.start();

    Principal operator;
    Tenant tenant;
    List<Policy> policies;
    if (join) {
      operator = policyServer.authenticateAdmin(Files.readString(work.resolve("operator.key")).strip());
      tenant = policyServer.tenants(operator, PageRequest.first(10)).items().stream()
          .filter(t -> t.name().equals(TENANT)).findFirst()
          .orElseThrow(() -> new IllegalStateException("no tenant " + TENANT + " to join"));
      policies = new ArrayList<>(policyServer.policies(operator, tenant.id(), PageRequest.first(BenchmarkTenant.POLICIES)).items());
    } else {
      String operatorKey = policyServer.bootstrapOperatorKey("bench").orElseThrow().secret();
      Files.writeString(work.resolve("operator.key"), operatorKey);
      operator = policyServer.authenticateAdmin(operatorKey);
      tenant = policyServer.createTenant(operator, TENANT);
      policyServer.updatePolling(operator, tenant.id(), new PollingSettings(
          Duration.ofSeconds(Long.parseLong(options.getOrDefault("interval", "60"))),
          Integer.parseInt(options.getOrDefault("jitter", "10"))));
      policies = BenchmarkTenant.createPolicies(policyServer, operator, tenant.id());
      policyServer.publish(operator, tenant.id(), "first");
      enroll(policyServer, operator, tenant.id(), Integer.parseInt(options.getOrDefault("agents", "10000")),
          work.resolve("credentials"));
    }

    TlsConfig tls = TlsConfig.pkcs12(work.resolve("bench.p12"), PASSWORD.toCharArray());
    String tlsProvider = options.getOrDefault("tls", "jdk");
    switch (tlsProvider) {
      case "jdk" -> { }
      case "conscrypt" -> tls = tls.withProvider(Conscrypt.newProvider());
      default -> throw new IllegalArgumentException("--tls must be jdk or conscrypt: " + tlsProvider);
    }
    EgoSecureHttpsServer https = EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(Integer.parseInt(options.getOrDefault("port", "0")))
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
        case "gauges" -> System.out.println("@gauges " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
            + " " + ManagementFactory.getThreadMXBean().getThreadCount() + " " + openFiles()
            + " " + polls(https) + " " + pushSockets(https));
        case "sockets" -> System.out.println("@sockets " + pushSockets(https));
        case "parked" -> System.out.println("@parked " + policyServer.parkedPolls());
        case "publish" -> {
          int index = edits % policies.size();
          policies.set(index, BenchmarkTenant.edit(policyServer, operator, tenant.id(), policies.get(index),
              (int) (System.currentTimeMillis() % 1_000_000_000)));
          edits++;
          watch = new BroadcastWatch(broadcasts, commits);
          long revision = policyServer.publish(operator, tenant.id(), "benchmark").revision().number();
          System.out.println("@published " + revision + " " + commits.lastMicros + " " + epochMicros());
        }
        case "broadcast" -> System.out.println("@broadcast " + (watch == null ? "-1 -1" : watch.result()));
        default -> System.out.println("@error unknown command " + command);
      }
    }
    https.close();
    policyServer.close();
    changeFeed.close();
    store.close();
  }

  /**
   * Enrolls {@code count} agents spread over the tenant's 50 group combinations and writes their
   * credentials, one a line.
   */
  private static void enroll(PolicyServer server, Principal operator, TenantId tenant, int count, Path credentialsFile)
      throws IOException {
    List<String> credentials = new ArrayList<>(count);
    int perCombination = (count + BenchmarkTenant.COMBINATIONS - 1) / BenchmarkTenant.COMBINATIONS;
    for (int c = 0; c < BenchmarkTenant.COMBINATIONS && credentials.size() < count; c++) {
      String token = server.createEnrollmentToken(operator, tenant, Duration.ofHours(6),
          perCombination, BenchmarkTenant.combination(c)).secret();
      for (int a = 0; a < perCombination && credentials.size() < count; a++) {
        credentials.add(server.enroll(token, "agent-" + c + "-" + a, Map.of()).credential());
      }
    }
    Files.write(credentialsFile, credentials, StandardCharsets.US_ASCII);
  }

  /** {@code --name=value} arguments by name; a bare {@code --name} is {@code true}. */
  static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("options are --name=value: " + arg);
      }
      String[] pair = arg.substring(2).split("=", 2);
      options.put(pair[0], pair.length > 1 ? pair[1] : "true");
    }
    return options;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return value;
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

  /** This process's open file descriptors (-1: none left to count them): what bounds a node's sockets (20,000 here). */
  private static long openFiles() {
    try (Stream<Path> files = Files.list(Path.of("/proc/self/fd"))) {
      return files.count();
    } catch (IOException atTheLimit) {
      return -1; // listing needs a descriptor too: none left means the process is at its limit
    }
  }

  private static double pushSockets(EgoSecureHttpsServer https) {
    return https.handler().meterRegistry().get("egosecure.push.sockets").gauge().value();
  }

  private static long polls(EgoSecureHttpsServer https) {
    return (long) https.handler().meterRegistry().find("egosecure.polls").counters().stream()
        .mapToDouble(c -> c.count()).sum();
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
              + (ProcessCpu.nanos() - commits.lastCpuNanos) / 1_000;
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

  /**
   * Records when the policy server announces a tenant change to the feed: right after the
   * publish commits, before any node (this one included) reloads the tenant or tells its agents.
   * Draft edits announce nothing, so in these benchmarks the last tenant change is the last publish.
   */
  private static final class CommitClock implements ChangeFeed {
    private final ChangeFeed feed;
    private volatile long lastMicros;
    private volatile long lastCpuNanos;

    CommitClock(ChangeFeed feed) {
      this.feed = feed;
    }

    @Override
    public void publish(Change change) {
      if (!(change instanceof Change.AgentChanged)) {
        lastMicros = epochMicros();
        lastCpuNanos = ProcessCpu.nanos();
      }
      feed.publish(change);
    }

    @Override
    public AutoCloseable subscribe(Listener listener) {
      return feed.subscribe(listener);
    }

    @Override
    public void close() {
      feed.close();
    }
  }
}
