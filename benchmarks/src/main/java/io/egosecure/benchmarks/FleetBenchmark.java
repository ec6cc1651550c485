package io.egosecure.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * A simulated fleet ({@link SimulatedFleet}) against one real node ({@link BenchmarkServer} in a
 * JVM of its own) over TLS on loopback: issue 7 items 3 (a fleet at the socket ceiling, and
 * 100,000 agents' request rate) and 7 (a reconnect storm after a server restart).
 *
 * <pre>
 * mvn -q -B install -DskipTests -DskipITs
 * benchmarks/fleet.sh --agents=19000 --connections=per-agent --store=sqlite
 * benchmarks/fleet.sh --agents=100000 --connections=shared:2000 --store=postgres
 * benchmarks/fleet.sh --storm --agents=10000 --store=sqlite --server-tls=conscrypt
 * benchmarks/fleet.sh --scale-out --agents=4000
 * </pre>
 *
 * <p>Steady mode: starts the server (enrolling the agents), ramps the fleet up (first polls spread
 * over one interval, handshakes bounded), warms up, then measures a window (default two
 * intervals) with one publish in its middle, sampling the server's gauges every 5 s.
 *
 * <p>Storm mode ({@code --storm}): every agent also holds a push socket; once all are up the
 * server is killed (or stopped, {@code --restart=close}) and a new one joins the same database
 * on the same port. It measures how long until every agent is back: its push socket open and
 * in step (the socket's greeting showed the revision it holds, or a poll started after the new
 * server was ready answered); the request rate per second over the storm; errors after the new
 * server was ready. Polls use a new connection each ({@code Connection: close}): 10,000 push
 * sockets and 10,000 kept poll connections would pass a process's 20,000 open files, and after a
 * restart every kept connection is dead anyway, so each agent's first poll after it needs a
 * handshake either way.
 *
 * <p>Scale-out mode ({@code --scale-out}, PostgreSQL, 4,000 agents with push by default): nodes A
 * and B on one database, the agents split between them with the other node as their second URI;
 * publishes on A are timed from A's commit to each agent's notification, for A's agents and B's;
 * then A is killed and B publishes, timed until every agent polled that revision from B and holds
 * a push socket there.
 *
 * <p>Options, {@code --name=value}, defaults in brackets (storm defaults after the slash):
 * {@code agents} [19000 / 10000], {@code connections} per-agent|shared:K|per-poll [per-agent /
 * per-poll], {@code store} memory|sqlite|postgres [sqlite], {@code interval} seconds [60],
 * {@code jitter} percent [10], {@code push} [false / true], {@code long-poll} [false],
 * {@code client-tls} jdk|conscrypt [jdk; Conscrypt client connections hold three files each here], {@code server-tls} jdk|conscrypt [jdk],
 * {@code connecting} handshakes in flight [16 / 128], {@code ramp} seconds over which the first polls
 * spread [max(interval, agents / 150), agents / 500 when shared], {@code warmup} seconds [interval / 2],
 * {@code window} intervals [2], {@code restart} kill|close [kill]. System property
 * {@code server.heap} [2g]. Only 127.0.0.1 is a target; every phase has a deadline and a watchdog
 * ends both JVMs if the whole run overstays.
 */
public final class FleetBenchmark {
  private static final Duration SAMPLE_EVERY = Duration.ofSeconds(5);
  private static final Duration STORM_DEADLINE = Duration.ofSeconds(180);
  /** Measured publishes on node A in a scale-out run, after one to warm up. */
  private static final int SCALE_OUT_ROUNDS = 10;
  private static final String POSTGRES_ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";

  private final Map<String, String> options;
  private final boolean storm;
  private final boolean scaleOut;
  private final int agents;
  private final SimulatedFleet.Connections connections;
  private final String store;
  private final int intervalSeconds;
  private final int jitterPercent;
  private final boolean push;
  private final boolean longPoll;
  private final String clientTls;
  private final String serverTls;
  private final int connecting;
  private final int warmupSeconds;
  private final int rampSeconds;
  private final int windowSeconds;
  private final String restart;
  private final String heap;
  private final Path work;
  private final AtomicReference<BenchmarkServerProcess> server = new AtomicReference<>();
  /** Node B of a scale-out run. */
  private final AtomicReference<BenchmarkServerProcess> secondServer = new AtomicReference<>();

  private FleetBenchmark(Map<String, String> options) throws IOException {
    this.options = options;
    storm = options.containsKey("storm");
    scaleOut = options.containsKey("scale-out");
    if (storm && scaleOut) {
      throw new IllegalArgumentException("--storm or --scale-out, not both");
    }
    agents = Integer.parseInt(options.getOrDefault("agents", storm ? "10000" : scaleOut ? "4000" : "19000"));
    connections = SimulatedFleet.Connections.parse(options.getOrDefault("connections", storm ? "per-poll" : "per-agent"));
    store = options.getOrDefault("store", scaleOut ? "postgres" : "sqlite");
    intervalSeconds = Integer.parseInt(options.getOrDefault("interval", "60"));
    jitterPercent = Integer.parseInt(options.getOrDefault("jitter", "10"));
    push = Boolean.parseBoolean(options.getOrDefault("push", Boolean.toString(storm || scaleOut)));
    longPoll = Boolean.parseBoolean(options.getOrDefault("long-poll", "false"));
    // Not Conscrypt by default, even for the storm: here each of its client connections holds a
    // pipe pair besides its socket, so a client JVM runs out of its 20,000 files at ~6,600.
    clientTls = options.getOrDefault("client-tls", "jdk");
    serverTls = options.getOrDefault("server-tls", "jdk");
    connecting = Integer.parseInt(options.getOrDefault("connecting", storm ? "128" : "16"));
    // A first poll costs the server a handshake and a signature (about 5 ms of CPU with the
    // client's handshake on the same cores): about 150 a second fit, so a large fleet starts over
    // longer than one interval. The steady rate is the same either way: each agent then polls
    // every interval from its own start.
    rampSeconds = Integer.parseInt(options.getOrDefault("ramp", Integer.toString(Math.max(intervalSeconds,
        agents / (connections.kind() == SimulatedFleet.Connections.Kind.SHARED ? 500 : 150)))));
    warmupSeconds = Integer.parseInt(options.getOrDefault("warmup", Integer.toString(intervalSeconds / 2)));
    windowSeconds = (int) (Double.parseDouble(options.getOrDefault("window", "2")) * intervalSeconds);
    restart = options.getOrDefault("restart", "kill");
    heap = System.getProperty("server.heap", "2g");
    if (!List.of("kill", "close").contains(restart)) {
      throw new IllegalArgumentException("--restart must be kill or close: " + restart);
    }
    if (!List.of("jdk", "conscrypt").contains(clientTls)) {
      throw new IllegalArgumentException("--client-tls must be jdk or conscrypt: " + clientTls);
    }
    if (scaleOut && !store.equals("postgres")) {
      throw new IllegalArgumentException("--scale-out runs two nodes on one database: --store=postgres");
    }
    if (scaleOut && !push) {
      throw new IllegalArgumentException("--scale-out times push notifications: keep --push=true");
    }
    if (storm && store.equals("memory")) {
      throw new IllegalArgumentException("--storm restarts the server on the same database: --store=sqlite or postgres");
    }
    work = Files.createTempDirectory("egosecure-fleet");
  }

  public static void main(String[] args) throws Exception {
    FleetBenchmark bench = new FleetBenchmark(BenchmarkServer.options(args));
    Duration deadline = bench.totalDeadline();
    bench.watchdog(deadline);
    System.out.printf("fleet %s: %d agents, %s connections, %s store, interval %d s ± %d %%, push %s, long poll %s,"
            + " client TLS %s, server TLS %s, %d handshakes in flight; started %s at load %s; whole run bounded by %d s%n",
        bench.storm ? "storm" : bench.scaleOut ? "scale-out" : "steady", bench.agents, bench.connections, bench.store, bench.intervalSeconds,
        bench.jitterPercent, bench.push, bench.longPoll, bench.clientTls, bench.serverTls, bench.connecting,
        LocalDateTime.now().withNano(0), loadAverage(), deadline.toSeconds());
    try {
      if (bench.storm) {
        bench.runStorm();
      } else if (bench.scaleOut) {
        bench.runScaleOut();
      } else {
        bench.runSteady();
      }
    } finally {
      for (BenchmarkServerProcess node : List.of(bench.server, bench.secondServer).stream()
          .map(AtomicReference::get).filter(java.util.Objects::nonNull).toList()) {
        node.close();
      }
      System.out.printf("finished %s at load %s%n", LocalDateTime.now().withNano(0), loadAverage());
    }
    System.exit(0);
  }

  // ---------------------------------------------------------------- steady

  private void runSteady() throws Exception {
    BenchmarkServerProcess node = startServer(false, 0);
    List<String> credentials = Files.readAllLines(work.resolve("credentials"));
    try (SimulatedFleet fleet = fleet(credentials, node.port(), new SimulatedFleet.Listener() { })) {
      ramp(fleet, node);

      System.out.printf("warm-up: %d s%n", warmupSeconds);
      Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds));
      fleet.takeStats();

      System.out.printf("measured window: %d s, one publish in its middle, server gauges every %d s%n",
          windowSeconds, SAMPLE_EVERY.toSeconds());
      GaugeSampler gauges = new GaugeSampler();
      long windowStart = System.nanoTime();
      long windowEnd = windowStart + TimeUnit.SECONDS.toNanos(windowSeconds);
      long publishAt = windowStart + TimeUnit.SECONDS.toNanos(windowSeconds) / 2;
      BenchmarkServerProcess.Published published = null;
      BenchmarkServerProcess.Gauges first = gauges.sample(node);
      BenchmarkServerProcess.Gauges last = first;
      while (System.nanoTime() < windowEnd) {
        Thread.sleep(Math.min(SAMPLE_EVERY.toMillis(), Math.max(1, (windowEnd - System.nanoTime()) / 1_000_000)));
        if (published == null && System.nanoTime() >= publishAt) {
          published = node.publish();
          System.out.printf("  published r%d%n", published.revision());
        }
        last = gauges.sample(node);
      }
      double seconds = (System.nanoTime() - windowStart) / 1e9;
      SimulatedFleet.FleetStats stats = fleet.takeStats();
      int pollConnections = fleet.pollConnectionsOpen();
      BenchmarkServerProcess.State after = node.state();

      Histogram latency = stats.latencyMicros();
      System.out.println();
      System.out.printf("=== fleet, steady: %d agents, %s, %s store, interval %d s ± %d %%, client TLS %s, server TLS %s ===%n",
          agents, connections, store, intervalSeconds, jitterPercent, clientTls, serverTls);
      System.out.printf("connections held: client %d poll connections%s; server open files %d – %d during the window%n",
          pollConnections, push ? " + " + fleet.pushSocketsOpen() + " push sockets" : "", gauges.minOpenFiles, gauges.maxOpenFiles);
      System.out.printf("polls in %.0f s: %d (%.1f/s; the server counted %d), 200: %d, 304: %d; fleet's expected rate %.1f/s%n",
          seconds, stats.polls(), stats.polls() / seconds, last.polls() - first.polls(), stats.ok(), stats.notModified(),
          agents / (double) intervalSeconds);
      System.out.printf("poll latency: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms%n",
          latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(90) / 1e3,
          latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3);
      System.out.printf("errors: %d %s%s; statuses %s%n", stats.errorCount(), stats.errors(),
          stats.causes().isEmpty() ? "" : " " + stats.causes(), stats.statuses());
      System.out.printf("server heap: max %.0f MiB in use during the window (no GC forced), %.0f MiB after a full GC at the end;"
              + " threads max %d during, %s at the end (-Xmx%s)%n",
          gauges.maxHeap / 1048576.0, after.heapBytes() / 1048576.0, gauges.maxThreads, after.threadsText(), heap);
    }
  }

  /** Phase 2: every agent polled once (and holds its push socket), within a deadline. */
  private void ramp(SimulatedFleet fleet, BenchmarkServerProcess node) throws Exception {
    Duration deadline = rampDeadline();
    System.out.printf("ramp: first polls spread over %d s, %d handshakes in flight at most (deadline %d s)%n",
        rampSeconds, connecting, deadline.toSeconds());
    long start = System.nanoTime();
    fleet.start(Duration.ofSeconds(rampSeconds));
    long end = start + deadline.toNanos();
    while (fleet.agentsPolled() < agents || (push && fleet.pushSocketsOpen() < agents)) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException("ramp deadline passed: " + fleet.agentsPolled() + " of " + agents
            + " agents polled, " + fleet.pushSocketsOpen() + " push sockets; " + fleet.takeStats());
      }
      Thread.sleep(SAMPLE_EVERY.toMillis());
      BenchmarkServerProcess.Gauges g = node.gauges();
      System.out.printf("  %4.0f s: %d agents polled, %d poll connections, %d push sockets, %d handshakes waiting;"
              + " server: %d open files, %d threads, %.0f MiB heap; errors so far %s%n",
          (System.nanoTime() - start) / 1e9, fleet.agentsPolled(), fleet.pollConnectionsOpen(), fleet.pushSocketsOpen(),
          fleet.connectsWaiting(), g.openFiles(), g.threads(), g.heapBytes() / 1048576.0, fleet.errorsSoFar());
    }
    SimulatedFleet.FleetStats ramp = fleet.takeStats();
    System.out.printf("ramp done in %.1f s: %d polls, %d connections opened, %d push sockets; errors %d %s %s%n",
        (System.nanoTime() - start) / 1e9, ramp.polls(), ramp.connectionsOpened(), ramp.pushOpened(),
        ramp.errorCount(), ramp.errors(), ramp.causes());
  }

  // ---------------------------------------------------------------- storm

  private void runStorm() throws Exception {
    BenchmarkServerProcess node = startServer(false, 0);
    int port = node.port();
    List<String> credentials = Files.readAllLines(work.resolve("credentials"));
    StormClock clock = new StormClock(agents, (int) STORM_DEADLINE.toSeconds() + 60);
    try (SimulatedFleet fleet = fleet(credentials, port, clock)) {
      ramp(fleet, node);
      Thread.sleep(5_000);
      fleet.takeStats();
      BenchmarkServerProcess.Gauges before = node.gauges();

      System.out.printf("restart (%s) under %d agents with push sockets%n", restart, agents);
      fleet.serverDown(true);
      clock.arm();
      if (restart.equals("kill")) {
        node.kill();
      } else {
        node.close();
      }
      long stopped = System.nanoTime();
      node = startServer(true, port);
      long ready = System.nanoTime();
      fleet.serverDown(false);
      clock.ready(ready);
      System.out.printf("  server stopped %.2f s after the %s, ready %.2f s after it%n",
          (stopped - clock.killNanos) / 1e9, restart, (ready - clock.killNanos) / 1e9);

      Duration serverCpuAtReady = node.cpuTime();
      long fleetCpuAtReady = ProcessCpu.nanos();
      GaugeSampler gauges = new GaugeSampler();
      long end = ready + STORM_DEADLINE.toNanos();
      while (clock.back() < agents && System.nanoTime() < end) {
        Thread.sleep(1_000);
        gauges.sample(node);
        long second = (System.nanoTime() - clock.killNanos) / 1_000_000_000L;
        if (second % 5 == 0) {
          System.out.printf("  %3d s after the %s: %d push sockets back, %d in step, %d fully back%n",
              second, restart, clock.pushBackCount(), clock.inStepCount(), clock.back());
        }
      }
      // Up to the second in which the last agent came back (the loop looks once a second).
      Duration serverCpu = node.cpuTime().minus(serverCpuAtReady);
      Duration fleetCpu = Duration.ofNanos(ProcessCpu.nanos() - fleetCpuAtReady);
      Thread.sleep(2_000);
      SimulatedFleet.FleetStats stats = fleet.takeStats();
      BenchmarkServerProcess.State after = node.state();
      report(clock, stats, gauges, before, after, ready);
      int back = clock.back();
      System.out.printf("CPU from @ready until all were back: new server %.1f s (%.2f ms per agent back, its JIT warming up included),"
              + " simulated agents %.1f s (%.2f ms per agent)%n",
          serverCpu.toMillis() / 1e3, serverCpu.toMillis() / (double) Math.max(1, back),
          fleetCpu.toMillis() / 1e3, fleetCpu.toMillis() / (double) Math.max(1, back));
    }
  }

  private void report(StormClock clock, SimulatedFleet.FleetStats stats, GaugeSampler gauges,
      BenchmarkServerProcess.Gauges before, BenchmarkServerProcess.State after, long ready) {
    System.out.println();
    System.out.printf("=== reconnect storm: %d agents, push on, polls per-poll connections (Connection: close), %s store,"
            + " restart by %s, client TLS %s, server TLS %s, %d handshakes in flight at most ===%n",
        agents, store, restart, clientTls, serverTls, connecting);
    long readyMs = (ready - clock.killNanos) / 1_000_000;
    long lastBack = clock.lastBackNanos();
    int back = clock.back();
    System.out.printf("server down for %.2f s (from the %s to the new server's @ready)%n", readyMs / 1e3, restart);
    if (back == agents) {
      System.out.printf("all %d back (push socket, and in step: its greeting showed the revision it holds (%d agents)"
              + " or a poll started after @ready answered): %.2f s after @ready, %.2f s after the %s%n",
          agents, clock.greetedCount(), (lastBack - ready) / 1e9, (lastBack - clock.killNanos) / 1e9, restart);
    } else {
      System.out.printf("only %d of %d back within %d s of @ready (DEADLINE PASSED): %d push sockets, %d in step%n",
          back, agents, STORM_DEADLINE.toSeconds(), clock.pushBackCount(), clock.inStepCount());
    }
    Histogram backAfterReady = clock.backAfterReady(ready);
    System.out.printf("agent back after @ready: p50 %.2f s  p90 %.2f s  p99 %.2f s  max %.2f s%n",
        backAfterReady.getValueAtPercentile(50) / 1e3, backAfterReady.getValueAtPercentile(90) / 1e3,
        backAfterReady.getValueAtPercentile(99) / 1e3, backAfterReady.getMaxValue() / 1e3);
    System.out.println("per second after the " + restart + ": push upgrades / poll connections opened (before their TLS handshake) / polls answered");
    StringBuilder line = new StringBuilder();
    int peakUpgrades = 0;
    int peakPolls = 0;
    int peakConnections = 0;
    int lastSecond = (int) Math.min(clock.upgrades.length() - 1, (lastBack - clock.killNanos) / 1_000_000_000L + 1);
    for (int s = 0; s <= lastSecond; s++) {
      int upgrades = clock.upgrades.get(s);
      int connections = clock.pollConnections.get(s);
      int polls = clock.polls.get(s);
      peakUpgrades = Math.max(peakUpgrades, upgrades);
      peakPolls = Math.max(peakPolls, polls);
      peakConnections = Math.max(peakConnections, upgrades + connections);
      line.append(String.format("  %3d s: %5d %5d %5d", s, upgrades, connections, polls));
      if (s % 4 == 3 || s == lastSecond) {
        System.out.println(line);
        line.setLength(0);
      }
    }
    double catchUpWindow = intervalSeconds * Math.max(jitterPercent, 10) / 100.0;
    System.out.printf("peaks: %d push upgrades/s, %d new connections/s (upgrades + poll connections), %d polls/s;"
            + " the SDK's catch-up window (when a greeting shows a missed publish) is %.1f s (interval × max(jitter, 10) %%), so %d agents at most %.0f polls/s on average;"
            + " sockets come back 1 s + full-jitter backoff (no wider than the outage so far) after each failed attempt: first push back %.2f s, last %.2f s after @ready%n",
        peakUpgrades, peakConnections, peakPolls, catchUpWindow, agents, agents / catchUpWindow,
        (clock.firstPushBackNanos() - ready) / 1e9, (clock.lastPushBackNanos() - ready) / 1e9);
    System.out.printf("errors after @ready: %d %s%s, statuses %s; failures while the server was down (expected): %d%n",
        stats.errorCount(), stats.errors(), stats.causes().isEmpty() ? "" : " " + stats.causes(), stats.statuses(),
        stats.failuresWhileDown());
    System.out.printf("server: before the restart %d open files, %d threads; new server during the storm: heap max %.0f MiB,"
            + " threads max %d, open files max %d; after it: %.0f MiB after a full GC, threads %s (-Xmx%s)%n",
        before.openFiles(), before.threads(), gauges.maxHeap / 1048576.0, gauges.maxThreads, gauges.maxOpenFiles,
        after.heapBytes() / 1048576.0, after.threadsText(), heap);
  }

  /** When each agent got back after the restart, and what happened per second (since the kill). */
  private static final class StormClock implements SimulatedFleet.Listener {
    private final AtomicLongArray pushBack;
    /** When the agent knew it held the tenant's revision: its greeting said so, or a poll started after @ready answered. */
    private final AtomicLongArray inStep;
    private final AtomicLongArray greeted;
    final AtomicIntegerArray upgrades;
    final AtomicIntegerArray pollConnections;
    final AtomicIntegerArray polls;
    private volatile boolean armed;
    private volatile long readyNanos = Long.MAX_VALUE;
    volatile long killNanos;

    StormClock(int agents, int seconds) {
      pushBack = new AtomicLongArray(agents);
      inStep = new AtomicLongArray(agents);
      greeted = new AtomicLongArray(agents);
      upgrades = new AtomicIntegerArray(seconds);
      pollConnections = new AtomicIntegerArray(seconds);
      polls = new AtomicIntegerArray(seconds);
    }

    void arm() {
      killNanos = System.nanoTime();
      armed = true;
    }

    void ready(long nanos) {
      readyNanos = nanos;
    }

    private void count(AtomicIntegerArray perSecond, long nanos) {
      int second = (int) ((nanos - killNanos) / 1_000_000_000L);
      if (second >= 0 && second < perSecond.length()) {
        perSecond.incrementAndGet(second);
      }
    }

    @Override
    public void connectionOpened(int agent, SimulatedFleet.Channel channel, long nanos) {
      if (!armed) {
        return;
      }
      if (channel == SimulatedFleet.Channel.PUSH) {
        count(upgrades, nanos);
        pushBack.compareAndSet(agent, 0, nanos);
      } else {
        count(pollConnections, nanos);
      }
    }

    @Override
    public void pollCompleted(int agent, int status, String etag, long latencyNanos) {
      if (!armed) {
        return;
      }
      long now = System.nanoTime();
      count(polls, now);
      // A poll that started before the new server was ready cannot be the catch-up.
      if (now - latencyNanos >= readyNanos) {
        inStep.compareAndSet(agent, 0, now);
      }
    }

    int pushBackCount() {
      return count(pushBack);
    }

    int inStepCount() {
      return count(inStep);
    }

    int greetedCount() {
      return count(greeted);
    }

    @Override
    public void caughtUpByGreeting(int agent, long nanos) {
      if (armed && nanos >= readyNanos) {
        greeted.compareAndSet(agent, 0, nanos);
        inStep.compareAndSet(agent, 0, nanos);
      }
    }

    int back() {
      int back = 0;
      for (int i = 0; i < pushBack.length(); i++) {
        if (pushBack.get(i) != 0 && inStep.get(i) != 0) {
          back++;
        }
      }
      return back;
    }

    long lastBackNanos() {
      long last = 0;
      for (int i = 0; i < pushBack.length(); i++) {
        if (pushBack.get(i) != 0 && inStep.get(i) != 0) {
          last = Math.max(last, Math.max(pushBack.get(i), inStep.get(i)));
        }
      }
      return last == 0 ? System.nanoTime() : last;
    }

    long firstPushBackNanos() {
      long first = Long.MAX_VALUE;
      for (int i = 0; i < pushBack.length(); i++) {
        if (pushBack.get(i) != 0) {
          first = Math.min(first, pushBack.get(i));
        }
      }
      return first == Long.MAX_VALUE ? readyNanos : first;
    }

    long lastPushBackNanos() {
      long last = 0;
      for (int i = 0; i < pushBack.length(); i++) {
        last = Math.max(last, pushBack.get(i));
      }
      return last == 0 ? readyNanos : last;
    }

    /** Milliseconds from @ready until each agent that came back was back. */
    Histogram backAfterReady(long ready) {
      Histogram histogram = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
      for (int i = 0; i < pushBack.length(); i++) {
        if (pushBack.get(i) != 0 && inStep.get(i) != 0) {
          histogram.recordValue(Math.max(0, (Math.max(pushBack.get(i), inStep.get(i)) - ready) / 1_000_000));
        }
      }
      return histogram;
    }

    private static int count(AtomicLongArray times) {
      int count = 0;
      for (int i = 0; i < times.length(); i++) {
        if (times.get(i) != 0) {
          count++;
        }
      }
      return count;
    }
  }

  // ---------------------------------------------------------------- scale-out

  /**
   * Issue 7 item 6: nodes A and B on one PostgreSQL, the agents split between them (agent i
   * starts on node i % 2, with the other as its second URI). Publishes on A, timed from A's
   * commit to each agent's notification, for A's agents and for B's (which hear of it through
   * the database's change feed). Then A is killed, B publishes, and the benchmark times until
   * every agent polled B's new revision and holds a push socket on B.
   */
  private void runScaleOut() throws Exception {
    BenchmarkServerProcess a = startServer(false, 0);
    BenchmarkServerProcess b = BenchmarkServerProcess.start(heap, work.resolve("server-b.log"),
        "--work=" + work, "--store=" + store, "--tls=" + serverTls, "--join");
    secondServer.set(b);
    System.out.printf("node B pid %d ready on port %d, joined A's database%n", b.pid(), b.port());
    List<String> credentials = Files.readAllLines(work.resolve("credentials"));
    Revisions revisions = new Revisions(agents);
    List<URI> nodes = List.of(URI.create("https://127.0.0.1:" + a.port() + "/"), URI.create("https://127.0.0.1:" + b.port() + "/"));
    try (SimulatedFleet fleet = fleet(credentials, nodes, true, revisions)) {
      ramp(fleet, a);
      System.out.printf("push sockets: %d on A, %d on B%n", a.sockets(), b.sockets());

      // Timed rounds: notifications alone (the agents do not re-poll), as in PushFanOutBenchmark.
      fleet.pollOnPush(false);
      Histogram warmOnA = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
      Histogram warmOnB = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
      for (int round = 0; round <= SCALE_OUT_ROUNDS; round++) {
        revisions.clearNotifications();
        BenchmarkServerProcess.Published published = a.publish();
        boolean all = revisions.awaitNotified(published.revision(), Duration.ofSeconds(30));
        Thread.sleep(300);
        Histogram onA = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        Histogram onB = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        for (int i = 0; i < agents; i++) {
          long received = revisions.notifiedMicros(i, published.revision());
          if (received != 0) {
            (i % 2 == 0 ? onA : onB).recordValue(Math.max(0, received - published.commitMicros()));
          }
        }
        System.out.printf("publish r%d on A%s: commit -> notification, A's %d agents p50 %.1f ms p99 %.1f ms max %.1f ms;"
                + " B's %d agents p50 %.1f ms p99 %.1f ms max %.1f ms%s%n",
            published.revision(), round == 0 ? " (cold)" : "", onA.getTotalCount(),
            onA.getValueAtPercentile(50) / 1e3, onA.getValueAtPercentile(99) / 1e3, onA.getMaxValue() / 1e3,
            onB.getTotalCount(), onB.getValueAtPercentile(50) / 1e3, onB.getValueAtPercentile(99) / 1e3,
            onB.getMaxValue() / 1e3, all ? "" : " (NOT ALL NOTIFIED)");
        if (round > 0) {
          warmOnA.add(onA);
          warmOnB.add(onB);
        }
        Thread.sleep(1_000);
      }

      // Then as the SDK: every notified agent fetches its new set at once.
      fleet.pollOnPush(true);
      BenchmarkServerProcess.Published wave = a.publish();
      long waveEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (revisions.polledAtLeast(wave.revision()) < agents && System.nanoTime() < waveEnd) {
        Thread.sleep(20);
      }
      long waveDoneMicros = BenchmarkServer.epochMicros();
      int waveGot = revisions.polledAtLeast(wave.revision());
      System.out.printf("publish r%d on A with the agents re-polling on notification: %d of %d had the new set %.2f s after the commit%n",
          wave.revision(), waveGot, agents, (waveDoneMicros - wave.commitMicros()) / 1e6);
      fleet.takeStats();

      System.out.printf("kill -9 node A; B publishes; every agent must reach B, poll the new revision and hold a push socket there%n");
      fleet.serverDown(true);
      long killed = System.nanoTime();
      a.kill();
      server.set(null);
      BenchmarkServerProcess.Published published = b.publish();
      long deadline = killed + TimeUnit.SECONDS.toNanos(2L * intervalSeconds + 60);
      int converged = 0;
      int sockets = 0;
      while (System.nanoTime() < deadline) {
        converged = revisions.polledAtLeast(published.revision());
        sockets = b.sockets();
        if (converged == agents && sockets == agents) {
          break;
        }
        Thread.sleep(1_000);
        long second = (System.nanoTime() - killed) / 1_000_000_000L;
        if (second % 5 == 0) {
          System.out.printf("  %3d s after the kill: %d agents have r%d, %d push sockets on B%n",
              second, converged, published.revision(), sockets);
        }
      }
      SimulatedFleet.FleetStats stats = fleet.takeStats();
      Histogram convergence = revisions.polledAfter(published.revision(), killed);
      System.out.println();
      System.out.printf("=== scale-out: 2 nodes on one PostgreSQL, %d agents split between them, push on, interval %d s ± %d %%,"
              + " server TLS %s ===%n", agents, intervalSeconds, jitterPercent, serverTls);
      System.out.printf("publish r%d on A, agents re-polling on notification: all %d had the new set %.2f s after the commit%s%n",
          wave.revision(), agents, (waveDoneMicros - wave.commitMicros()) / 1e6, waveGot == agents ? "" : " (DEADLINE PASSED: " + waveGot + ")");
      System.out.printf("publish on A -> notification, %d publishes after the first: A's agents p50 %.1f ms p99 %.1f ms max %.1f ms;"
              + " B's agents (through the database's change feed) p50 %.1f ms p99 %.1f ms max %.1f ms%n",
          SCALE_OUT_ROUNDS, warmOnA.getValueAtPercentile(50) / 1e3, warmOnA.getValueAtPercentile(99) / 1e3,
          warmOnA.getMaxValue() / 1e3, warmOnB.getValueAtPercentile(50) / 1e3, warmOnB.getValueAtPercentile(99) / 1e3,
          warmOnB.getMaxValue() / 1e3);
      System.out.printf("after A was killed: %d of %d agents polled r%d from B, %d push sockets on B%s;"
              + " time from the kill to an agent having r%d: p50 %.1f s  p99 %.1f s  max %.1f s%n",
          converged, agents, published.revision(), sockets, converged == agents && sockets == agents ? "" : " (DEADLINE PASSED)",
          published.revision(), convergence.getValueAtPercentile(50) / 1e3, convergence.getValueAtPercentile(99) / 1e3,
          convergence.getMaxValue() / 1e3);
      System.out.printf("failed attempts against the dead node (expected): %d; errors otherwise: %d %s, statuses %s%n",
          stats.failuresWhileDown(), stats.errorCount(), stats.errors(), stats.statuses());
    }
  }

  /** Which revision each agent heard of and polled, and when. */
  private static final class Revisions implements SimulatedFleet.Listener {
    private final AtomicLongArray notifiedRevision;
    private final AtomicLongArray notifiedMicros;
    private final AtomicLongArray polledRevision;
    private final AtomicLongArray polledNanos;

    Revisions(int agents) {
      notifiedRevision = new AtomicLongArray(agents);
      notifiedMicros = new AtomicLongArray(agents);
      polledRevision = new AtomicLongArray(agents);
      polledNanos = new AtomicLongArray(agents);
    }

    @Override
    public void notificationReceived(int agent, long revision, long receivedEpochMicros) {
      if (revision > notifiedRevision.get(agent)) {
        notifiedMicros.set(agent, receivedEpochMicros);
        notifiedRevision.set(agent, revision);
      }
    }

    @Override
    public void pollCompleted(int agent, int status, String etag, long latencyNanos) {
      if (status == 200 && etag != null) {
        long revision = SimulatedFleet.revisionOf(etag);
        if (revision > polledRevision.get(agent)) {
          polledNanos.set(agent, System.nanoTime());
          polledRevision.set(agent, revision);
        }
      }
    }

    void clearNotifications() {
      for (int i = 0; i < notifiedMicros.length(); i++) {
        notifiedMicros.set(i, 0);
      }
    }

    long notifiedMicros(int agent, long revision) {
      return notifiedRevision.get(agent) == revision ? notifiedMicros.get(agent) : 0;
    }

    boolean awaitNotified(long revision, Duration timeout) throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < end) {
        int notified = 0;
        for (int i = 0; i < notifiedRevision.length(); i++) {
          if (notifiedRevision.get(i) >= revision) {
            notified++;
          }
        }
        if (notified == notifiedRevision.length()) {
          return true;
        }
        Thread.sleep(20);
      }
      return false;
    }

    int polledAtLeast(long revision) {
      int count = 0;
      for (int i = 0; i < polledRevision.length(); i++) {
        if (polledRevision.get(i) >= revision) {
          count++;
        }
      }
      return count;
    }

    /** Milliseconds from {@code since} until each agent polled {@code revision} or later. */
    Histogram polledAfter(long revision, long since) {
      Histogram histogram = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
      for (int i = 0; i < polledRevision.length(); i++) {
        if (polledRevision.get(i) >= revision) {
          histogram.recordValue(Math.max(0, (polledNanos.get(i) - since) / 1_000_000));
        }
      }
      return histogram;
    }
  }

  // ---------------------------------------------------------------- plumbing

  private SimulatedFleet fleet(List<String> credentials, int port, SimulatedFleet.Listener listener) {
    return fleet(credentials, List.of(URI.create("https://127.0.0.1:" + port + "/")), false, listener);
  }

  private SimulatedFleet fleet(List<String> credentials, List<URI> servers, boolean spread, SimulatedFleet.Listener listener) {
    return SimulatedFleet.builder(work, credentials, servers)
        .spreadOverServers(spread)
        .initialInterval(Duration.ofSeconds(intervalSeconds))
        .jitterPercent(jitterPercent)
        .connections(connections)
        .push(push)
        .longPoll(longPoll)
        .conscrypt(clientTls.equals("conscrypt"))
        .connecting(connecting)
        .listener(listener)
        .build();
  }

  /** Starts a server, or (join) a new one on the same database and port; waits for @ready. */
  private BenchmarkServerProcess startServer(boolean join, int port) throws Exception {
    List<String> args = new ArrayList<>(List.of("--work=" + work, "--store=" + store, "--tls=" + serverTls));
    if (join) {
      args.addAll(List.of("--join", "--port=" + port));
    } else {
      LoopbackTls.createKeyStore(work);
      if (store.equals("postgres")) {
        recreateBenchDatabase();
      }
      args.addAll(List.of("--agents=" + agents, "--interval=" + intervalSeconds, "--jitter=" + jitterPercent));
      System.out.printf("server: enrolling %d agents in-process, log %s%n", agents, work.resolve("server.log"));
    }
    long start = System.nanoTime();
    BenchmarkServerProcess node = BenchmarkServerProcess.start(heap, work.resolve("server.log"), args.toArray(String[]::new));
    server.set(node);
    if (!join) {
      System.out.printf("server pid %d ready on port %d after %.1f s (-Xmx%s)%n", node.pid(), node.port(),
          (System.nanoTime() - start) / 1e9, heap);
    }
    return node;
  }

  /** A fresh, empty {@code egosecure_bench} on the local PostgreSQL. */
  private static void recreateBenchDatabase() throws Exception {
    try (Connection admin = DriverManager.getConnection(POSTGRES_ADMIN_URL, "postgres", "postgres");
        Statement statement = admin.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS egosecure_bench WITH (FORCE)");
      statement.execute("CREATE DATABASE egosecure_bench");
    }
  }

  private Duration rampDeadline() {
    return Duration.ofSeconds(rampSeconds + agents / 100 + 120);
  }

  private Duration totalDeadline() {
    Duration enroll = Duration.ofSeconds(120 + agents / 300);
    Duration rest = storm ? STORM_DEADLINE.plusSeconds(120)
        : scaleOut ? Duration.ofSeconds(SCALE_OUT_ROUNDS * 40L + 2L * intervalSeconds + 240)
        : Duration.ofSeconds(warmupSeconds + windowSeconds + 120);
    return enroll.plus(rampDeadline()).plus(rest);
  }

  /** Ends both JVMs if the run overstays: every run is bounded in time, whatever hangs. */
  private void watchdog(Duration deadline) {
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(deadline.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      System.out.printf("WATCHDOG: the run passed its %d s bound; killing the server and exiting%n", deadline.toSeconds());
      for (BenchmarkServerProcess node : new BenchmarkServerProcess[] {server.get(), secondServer.get()}) {
        if (node != null) {
          ProcessHandle.of(node.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
      Runtime.getRuntime().halt(2);
    }, "fleet-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** Server gauges sampled during a phase: the maxima matter. */
  private static final class GaugeSampler {
    long maxHeap;
    int maxThreads;
    long maxOpenFiles;
    long minOpenFiles = Long.MAX_VALUE;

    BenchmarkServerProcess.Gauges sample(BenchmarkServerProcess node) throws IOException {
      BenchmarkServerProcess.Gauges g = node.gauges();
      maxHeap = Math.max(maxHeap, g.heapBytes());
      maxThreads = Math.max(maxThreads, g.threads());
      maxOpenFiles = Math.max(maxOpenFiles, g.openFiles());
      minOpenFiles = Math.min(minOpenFiles, g.openFiles());
      return g;
    }
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException e) {
      return "unknown";
    }
  }
}
