package io.egosecure.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * Push fan-out, re-poll and parked long polls against the real HTTPS server over TLS on loopback
 * (issue 4's push benchmark, issue 7 items 4 and 5).
 *
 * <ol>
 *   <li>Starts {@link BenchmarkServer} in a JVM of its own (its heap and threads are then the
 *       server's alone) with the benchmark tenant and N enrolled agents.
 *   <li>Connects N push sockets (Jetty's WebSocket client: a few selector threads for all, the
 *       sources spread over 127.0.0.2 to 127.0.0.9); server heap per idle socket (after a full
 *       GC, before and after) and server threads before and after.
 *   <li>Publishes; for every agent, the time from the publish commit (the server's clock, read by
 *       the first listener of the revision) to the notification's receipt (HdrHistogram).
 *   <li>All N re-poll {@code GET /v1/agent/policies} over keep-alive TLS with limited concurrency:
 *       time until all have the new set.
 *   <li>Closes the sockets and parks P long polls ({@code ?wait=60}, {@code If-None-Match}):
 *       server threads before, at 1,000 and at P; then publishes and times until every parked
 *       poll has the new set.
 * </ol>
 *
 * <p>Each publish also reports the server's own part, its {@code egosecure.push.broadcast} timer:
 * from the push hub being told of the revision to the last frame's write completing. On one
 * machine the agents' receipt adds the simulated agents' own work (reading, decrypting and
 * parsing N frames on the same cores), which a real fleet does on N machines.
 *
 * <pre>
 * mvn -q -B install -DskipTests -DskipITs
 * benchmarks/push-fan-out.sh [agents] [parked polls] [memory|sqlite]     # 10000 10000 memory
 * </pre>
 *
 * System properties (through {@code BENCH_JAVA_OPTS}):
 * <ul>
 *   <li>{@code -Dclient.tls=conscrypt}: the simulated agents' TLS on Conscrypt (BoringSSL) instead
 *       of the JDK's, so that they take less of the shared cores; default {@code jdk}. Up to about
 *       6,000 agents: a Conscrypt connection holds a pipe (two descriptors) besides its socket,
 *       and a process here may open 20,000;
 *   <li>{@code -Dserver.tls=conscrypt}: the server's TLS on Conscrypt ({@code TlsConfig.withProvider}),
 *       the same bound; default {@code jdk}, the headline configuration;
 *   <li>{@code -Dagents.core=true}: the simulated agents on Jetty's WebSocket core rather than its
 *       API (no message assembly, String decoding or listener dispatch per notification), so that
 *       they take less of the cores the server needs; default false, as in earlier runs. It adds
 *       a last publish while the agents read nothing: the server's broadcast with both cores;
 *   <li>{@code -Dpublish.rounds=N}: measured publishes after the cold one, default 3;
 *   <li>{@code -Dhistogram=true}, {@code -Dheap.dump=true}: the server's class histograms, heap dumps.
 * </ul>
 *
 * Every phase has a deadline; only 127.0.0.1 is a target.
 */
public final class PushFanOutBenchmark {
  private static final int SOURCE_ADDRESSES = LoopbackTls.SOURCE_ADDRESSES;
  /** Handshakes in flight at once: a gentle ramp, so the server's pool does not grow for them. */
  private static final int CONNECTING = 16;
  /** The re-poll wave's requests in flight (and connections): agents do not all poll at once. */
  private static final int REPOLL_CONCURRENCY = 64;
  /** Measured publishes after the first (cold) one; more for a profile of the broadcast. */
  private static final int PUBLISH_ROUNDS = Integer.getInteger("publish.rounds", 3);
  private static final Duration PHASE_DEADLINE = Duration.ofSeconds(300);
  /** Whether the simulated agents' TLS runs on Conscrypt rather than the JDK's. */
  private static final boolean CONSCRYPT_AGENTS = clientTls().equals("conscrypt");

  private final Path work;
  private final int agents;
  private final int parkedPolls;
  private final BenchmarkServerProcess server;
  private final List<String> credentials;
  private final URI base;
  private final QueuedThreadPool clientThreads = new QueuedThreadPool(64, 8);

  private PushFanOutBenchmark(Path work, int agents, int parkedPolls, BenchmarkServerProcess server) throws IOException {
    this.work = work;
    this.agents = agents;
    this.parkedPolls = parkedPolls;
    this.server = server;
    this.credentials = Files.readAllLines(work.resolve("credentials"));
    this.base = URI.create("https://127.0.0.1:" + server.port() + "/");
    clientThreads.setName("bench-client");
  }

  public static void main(String[] args) throws Exception {
    int agents = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int parked = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    String store = args.length > 2 ? args[2] : "memory";
    Path work = Files.createTempDirectory("egosecure-push");
    LoopbackTls.createKeyStore(work);
    System.out.printf("push fan-out: %d agents, %d parked polls, %s store, server TLS %s, agents' TLS %s, started %s%n",
        agents, parked, store, System.getProperty("server.tls", "jdk"), clientTls(),
        LocalDateTime.now().withNano(0));
    String heap = System.getProperty("server.heap", "1g");
    try (BenchmarkServerProcess server = BenchmarkServerProcess.start(heap, work.resolve("server.log"),
        "--work=" + work, "--agents=" + agents, "--store=" + store, "--tls=" + System.getProperty("server.tls", "jdk"))) {
      System.out.printf("server JVM pid %d (-Xmx%s), its log: %s%n", server.pid(), heap, work.resolve("server.log"));
      PushFanOutBenchmark bench = new PushFanOutBenchmark(work, agents, parked, server);
      bench.clientThreads.start();
      try {
        String[] etags = bench.pushAndRepoll();
        bench.parkLongPolls(etags);
      } finally {
        bench.clientThreads.stop();
      }
    }
  }

  /** Phases 2 to 4; returns each agent's ETag after the re-poll. */
  private String[] pushAndRepoll() throws Exception {
    BenchmarkServerProcess.State idle = server.state();
    server.histogram("idle");
    AgentClients clients = Boolean.parseBoolean(System.getProperty("agents.core", "false"))
        ? new CoreAgentClients() : new ApiAgentClients();
    AtomicLongArray receivedMicros = new AtomicLongArray(agents);
    AtomicReference<CountDownLatch> notified = new AtomicReference<>(new CountDownLatch(agents));
    List<Consumer<CountDownLatch>> closers = new ArrayList<>(java.util.Collections.nCopies(agents, null));
    Semaphore connecting = new Semaphore(CONNECTING);
    AtomicInteger connectFailures = new AtomicInteger();
    AtomicReference<Throwable> firstConnectFailure = new AtomicReference<>();
    CountDownLatch connected = new CountDownLatch(agents);
    URI notifications = URI.create("wss://127.0.0.1:" + server.port() + "/v1/agent/notifications");
    long start = System.nanoTime();
    for (int i = 0; i < agents; i++) {
      connecting.acquire();
      int agent = i;
      clients.connect(i, notifications, credentials.get(i), receivedMicros, notified)
          .whenComplete((closer, failure) -> {
            closers.set(agent, closer);
            connecting.release();
            if (failure != null) {
              connectFailures.incrementAndGet();
              firstConnectFailure.compareAndSet(null, failure);
            }
            connected.countDown();
          });
    }
    await(connected, "push sockets to connect");
    double connectSeconds = (System.nanoTime() - start) / 1e9;
    Thread.sleep(3_000);
    BenchmarkServerProcess.State open = server.state();
    server.histogram("sockets");
    int sockets = open.pushSockets();
    if (sockets == 0) {
      throw new IllegalStateException("no push socket connected (" + connectFailures.get() + " failed)");
    }
    System.out.printf("connected %d push sockets in %.1f s (%.0f/s), %d failed%s%n",
        sockets, connectSeconds, agents / connectSeconds, connectFailures.get(),
        firstConnectFailure.get() == null ? "" : " (the first: " + firstConnectFailure.get() + ")");
    System.out.printf("server heap after GC: %.1f MiB with no sockets, %.1f MiB with %d: %.2f KiB per idle socket%n",
        idle.heapBytes() / 1048576.0, open.heapBytes() / 1048576.0, sockets,
        (open.heapBytes() - idle.heapBytes()) / 1024.0 / Math.max(1, sockets));
    System.out.printf("server threads: %s before, %s with the sockets open%n", idle.threadsText(), open.threadsText());

    // The first publish after start runs cold code; the rounds after it are the steady state.
    BenchmarkServerProcess.Published published = null;
    for (int round = 0; round <= PUBLISH_ROUNDS; round++) {
      for (int i = 0; i < agents; i++) {
        receivedMicros.set(i, 0);
      }
      notified.set(new CountDownLatch(sockets));
      if (round == PUBLISH_ROUNDS) {
        // This round's frames are read as usual (each socket already asked for one); the next
        // frame then waits unread for the round that times the server alone.
        clients.holdReads();
      }
      long clientCpuBefore = ProcessCpu.nanos();
      published = server.publish();
      boolean all = notified.get().await(PHASE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
      long clientCpuMicros = (ProcessCpu.nanos() - clientCpuBefore) / 1_000;
      Thread.sleep(500);
      Histogram latency = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
      for (int i = 0; i < agents; i++) {
        long received = receivedMicros.get(i);
        if (received != 0) {
          latency.recordValue(Math.max(0, received - published.commitMicros()));
        }
      }
      long[] broadcast = server.broadcast();
      System.out.printf("publish r%d%s: commit -> notification received, %d of %d sockets%s: p50 %.1f ms  p99 %.1f ms  max %.1f ms;"
              + " server broadcast (hub told -> last frame written) %.1f ms; CPU: server %.0f ms from the commit, agents %.0f ms"
              + " (the publish call returned %.1f ms after the commit)%n",
          published.revision(), round == 0 ? " (cold)" : "", latency.getTotalCount(), sockets,
          all ? "" : " (DEADLINE PASSED)", latency.getValueAtPercentile(50) / 1e3,
          latency.getValueAtPercentile(99) / 1e3, latency.getMaxValue() / 1e3, broadcast[0] / 1e3,
          broadcast[1] / 1e3, clientCpuMicros / 1e3, (published.returnedMicros() - published.commitMicros()) / 1e3);
    }

    if (clients.holdsReads()) {
      published = serverAlone(clients, receivedMicros, notified, sockets);
    }

    String[] etags = repoll(published);
    CountDownLatch closed = new CountDownLatch(agents);
    for (Consumer<CountDownLatch> closer : closers) {
      if (closer != null) {
        closer.accept(closed);
      } else {
        closed.countDown();
      }
    }
    closed.await(30, TimeUnit.SECONDS);
    clients.stop();
    return etags;
  }

  /**
   * One more publish while the agents read nothing: the frames wait in the kernel's socket
   * buffers, so the broadcast has both cores to itself, as it would with agents on machines of
   * their own. The agents then read them (not timed: the wait was on purpose).
   */
  private BenchmarkServerProcess.Published serverAlone(AgentClients clients, AtomicLongArray receivedMicros,
      AtomicReference<CountDownLatch> notified, int sockets) throws Exception {
    for (int i = 0; i < agents; i++) {
      receivedMicros.set(i, 0);
    }
    notified.set(new CountDownLatch(sockets));
    long clientCpuBefore = ProcessCpu.nanos();
    BenchmarkServerProcess.Published published = server.publish();
    long[] broadcast = server.broadcast();
    long clientCpuMicros = (ProcessCpu.nanos() - clientCpuBefore) / 1_000;
    clients.resumeReads();
    boolean all = notified.get().await(PHASE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    System.out.printf("publish r%d, agents not reading until it ended: server broadcast (hub told -> last frame written) %.1f ms;"
            + " CPU: server %.0f ms from the commit, agents %.0f ms; then read by %s agents%n",
        published.revision(), broadcast[0] / 1e3, broadcast[1] / 1e3, clientCpuMicros / 1e3,
        all ? "all " + sockets : "fewer than " + sockets + " (DEADLINE PASSED)");
    return published;
  }

  /** Phase 4: every agent fetches the new set once, {@value #REPOLL_CONCURRENCY} at a time. */
  private String[] repoll(BenchmarkServerProcess.Published published) throws Exception {
    HttpClient http = httpClient(0, REPOLL_CONCURRENCY);
    http.start();
    String[] etags = new String[agents];
    String expected = "\"" + published.revision() + "-";
    Semaphore inFlight = new Semaphore(REPOLL_CONCURRENCY);
    CountDownLatch done = new CountDownLatch(agents);
    AtomicInteger wrong = new AtomicInteger();
    Histogram latency = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    long start = System.nanoTime();
    long startMicros = BenchmarkServer.epochMicros();
    for (int i = 0; i < agents; i++) {
      inFlight.acquire();
      int agent = i;
      long sent = System.nanoTime();
      http.newRequest(base.resolve("/v1/agent/policies"))
          .headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + credentials.get(agent)))
          .timeout(60, TimeUnit.SECONDS)
          .send(new BufferingResponseListener(1 << 20) {
            @Override
            public void onComplete(Result result) {
              String etag = result.getResponse().getHeaders().get(HttpHeader.ETAG);
              if (result.isSucceeded() && result.getResponse().getStatus() == 200 && etag != null && etag.startsWith(expected)) {
                etags[agent] = etag;
                synchronized (latency) {
                  latency.recordValue((System.nanoTime() - sent) / 1_000);
                }
              } else {
                wrong.incrementAndGet();
              }
              inFlight.release();
              done.countDown();
            }
          });
    }
    await(done, "the re-poll");
    long endMicros = BenchmarkServer.epochMicros();
    System.out.printf("re-poll of %d agents, %d at a time: all had r%d %.2f s after the wave began"
            + " (%.2f s after the commit), %.0f polls/s; poll p50 %.1f ms p99 %.1f ms; %d failed or stale%n",
        agents, REPOLL_CONCURRENCY, published.revision(), (endMicros - startMicros) / 1e6,
        (endMicros - published.commitMicros()) / 1e6, agents / ((System.nanoTime() - start) / 1e9),
        latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3, wrong.get());
    http.stop();
    return etags;
  }

  /** Phase 5: park long polls, count the server's threads, then release them with a publish. */
  private void parkLongPolls(String[] etags) throws Exception {
    int count = Math.min(parkedPolls, agents);
    if (count == 0) {
      return;
    }
    awaitSockets(0);
    BenchmarkServerProcess.State before = server.state();
    List<HttpClient> clients = new ArrayList<>();
    for (int i = 0; i < SOURCE_ADDRESSES; i++) {
      HttpClient http = httpClient(i, count / SOURCE_ADDRESSES + 1);
      http.setMaxRequestsQueuedPerDestination(count);
      http.start();
      clients.add(http);
    }
    String expectedNext = "\"" + (revisionOf(etags[0]) + 1) + "-";
    AtomicLongArray answeredMicros = new AtomicLongArray(count);
    CountDownLatch answered = new CountDownLatch(count);
    AtomicInteger timedOut = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    Semaphore connecting = new Semaphore(CONNECTING);
    LongPoller poller = new LongPoller(clients, etags, expectedNext, answeredMicros, answered, timedOut, failures, connecting);
    int first = Math.min(1_000, count);
    for (int i = 0; i < count; i++) {
      if (i == first) {
        awaitParked(first);
        BenchmarkServerProcess.State thousand = server.state();
        System.out.printf("parked long polls: server threads %s before, %s with %d parked%n",
            before.threadsText(), thousand.threadsText(), thousand.parkedPolls());
      }
      connecting.acquire();
      poller.poll(i, true);
    }
    awaitParked(count);
    BenchmarkServerProcess.State all = server.state();
    System.out.printf("parked long polls: server threads %s with %d parked; heap %.1f MiB (%.2f KiB per parked poll); %d re-parked after 304, %d failed%n",
        all.threadsText(), all.parkedPolls(), all.heapBytes() / 1048576.0,
        (all.heapBytes() - before.heapBytes()) / 1024.0 / Math.max(1, all.parkedPolls()), timedOut.get(), failures.get());

    BenchmarkServerProcess.Published published = server.publish();
    boolean done = answered.await(PHASE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    long last = 0;
    for (int i = 0; i < count; i++) {
      last = Math.max(last, answeredMicros.get(i));
    }
    System.out.printf("publish r%d with %d parked: all answered with the new set %.2f s after the commit%s, %d failed%n",
        published.revision(), count, (last - published.commitMicros()) / 1e6, done ? "" : " (DEADLINE PASSED)",
        failures.get());
    for (HttpClient http : clients) {
      http.stop();
    }
  }

  private static long revisionOf(String etag) {
    return Long.parseLong(etag.substring(1, etag.indexOf('-')));
  }

  private void awaitSockets(int count) throws Exception {
    long deadline = System.nanoTime() + PHASE_DEADLINE.toNanos();
    while (server.sockets() != count) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the server still holds push sockets after " + PHASE_DEADLINE);
      }
      Thread.sleep(1_000);
    }
  }

  private void awaitParked(int count) throws Exception {
    long deadline = System.nanoTime() + PHASE_DEADLINE.toNanos();
    while (server.parked() < count) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + server.parked() + " of " + count + " polls parked after " + PHASE_DEADLINE);
      }
      Thread.sleep(500);
    }
  }

  private static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(PHASE_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException(latch.getCount() + " still waiting for " + what + " after " + PHASE_DEADLINE);
    }
  }

  /** A client bound to source address 127.0.0.(2 + index), sharing the benchmark's threads. */
  private HttpClient httpClient(int index, int connections) throws Exception {
    return LoopbackTls.httpClient(work, index, connections, clientThreads, CONSCRYPT_AGENTS);
  }

  /** Parks each agent's long poll; a wait that ends with a 304 polls again, as an agent would. */
  private final class LongPoller {
    private final List<HttpClient> clients;
    private final String[] etags;
    private final String expected;
    private final AtomicLongArray answeredMicros;
    private final CountDownLatch answered;
    private final AtomicInteger timedOut;
    private final AtomicInteger failures;
    private final Semaphore connecting;

    LongPoller(List<HttpClient> clients, String[] etags, String expected, AtomicLongArray answeredMicros,
        CountDownLatch answered, AtomicInteger timedOut, AtomicInteger failures, Semaphore connecting) {
      this.clients = clients;
      this.etags = etags;
      this.expected = expected;
      this.answeredMicros = answeredMicros;
      this.answered = answered;
      this.timedOut = timedOut;
      this.failures = failures;
      this.connecting = connecting;
    }

    /** @param first whether this is the agent's first poll, which holds a connecting permit */
    void poll(int agent, boolean first) {
      var request = clients.get(agent % SOURCE_ADDRESSES)
          .newRequest(base.resolve("/v1/agent/policies?wait=60"))
          .headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + credentials.get(agent))
              .put(HttpHeader.IF_NONE_MATCH, etags[agent]))
          .timeout(90, TimeUnit.SECONDS);
      if (first) {
        request.onRequestSuccess(r -> connecting.release()).onRequestFailure((r, x) -> connecting.release());
      }
      request.send(new BufferingResponseListener(1 << 20) {
        @Override
        public void onComplete(Result result) {
          int status = result.isSucceeded() ? result.getResponse().getStatus() : -1;
          String etag = status == 200 ? result.getResponse().getHeaders().get(HttpHeader.ETAG) : null;
          if (status == 304) {
            timedOut.incrementAndGet();
            poll(agent, false);
          } else if (etag != null && etag.startsWith(expected)) {
            answeredMicros.set(agent, BenchmarkServer.epochMicros());
            answered.countDown();
          } else {
            failures.incrementAndGet();
            answered.countDown();
          }
        }
      });
    }
  }

  /** The simulated agents' push sockets, one client (selector thread) per source address. */
  private interface AgentClients {
    /** Connects agent {@code index}; completes with what closes its socket and counts down. */
    CompletableFuture<Consumer<CountDownLatch>> connect(int index, URI uri, String credential,
        AtomicLongArray receivedMicros, AtomicReference<CountDownLatch> notified) throws IOException;

    void stop() throws Exception;

    /** From now on, each socket reads nothing after its next frame, if these agents can. */
    default void holdReads() {}

    /** Whether {@link #holdReads()} holds reads. */
    default boolean holdsReads() {
      return false;
    }

    /** Each socket reads again. */
    default void resumeReads() {}
  }

  /** Agents on Jetty's WebSocket API, as before: a text message is decoded into a String. */
  private final class ApiAgentClients implements AgentClients {
    private final List<WebSocketClient> clients = new ArrayList<>();

    ApiAgentClients() throws Exception {
      for (int i = 0; i < SOURCE_ADDRESSES; i++) {
        WebSocketClient client = new WebSocketClient(httpClient(i, 16));
        client.setIdleTimeout(Duration.ofMinutes(10));
        client.start();
        clients.add(client);
      }
    }

    @Override
    public CompletableFuture<Consumer<CountDownLatch>> connect(int index, URI uri, String credential,
        AtomicLongArray receivedMicros, AtomicReference<CountDownLatch> notified) throws IOException {
      ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
      upgrade.setHeader(HttpHeader.AUTHORIZATION.asString(), "Bearer " + credential);
      return clients.get(index % SOURCE_ADDRESSES)
          .connect(new AgentSocket(index, receivedMicros, notified), uri, upgrade)
          .thenApply(session -> closed -> {
            if (session.isOpen()) {
              session.close(1000, "benchmark done",
                  org.eclipse.jetty.websocket.api.Callback.from(closed::countDown, x -> closed.countDown()));
            } else {
              closed.countDown();
            }
          });
    }

    @Override
    public void stop() throws Exception {
      for (WebSocketClient client : clients) {
        client.stop();
        client.getHttpClient().stop();
      }
    }
  }

  /**
   * Agents on Jetty's WebSocket core: a frame is noted as it arrives, without the API's message
   * assembly, String decoding and listener dispatch, so that the simulated agents take less of the
   * cores they share with the server (a real agent has a machine of its own).
   */
  private final class CoreAgentClients implements AgentClients {
    private final List<WebSocketCoreClient> clients = new ArrayList<>();
    private final List<CoreAgentSocket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean hold = new AtomicBoolean();

    CoreAgentClients() throws Exception {
      for (int i = 0; i < SOURCE_ADDRESSES; i++) {
        HttpClient http = httpClient(i, 16);
        http.start();
        WebSocketCoreClient client = new WebSocketCoreClient(http, null);
        client.start();
        clients.add(client);
      }
    }

    @Override
    public CompletableFuture<Consumer<CountDownLatch>> connect(int index, URI uri, String credential,
        AtomicLongArray receivedMicros, AtomicReference<CountDownLatch> notified) throws IOException {
      WebSocketCoreClient client = clients.get(index % SOURCE_ADDRESSES);
      CoreAgentSocket socket = new CoreAgentSocket(index, receivedMicros, notified, hold);
      sockets.add(socket);
      CoreClientUpgradeRequest upgrade = CoreClientUpgradeRequest.from(client, uri, socket);
      upgrade.headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + credential));
      Configuration.ConfigurationCustomizer configuration = new Configuration.ConfigurationCustomizer();
      configuration.setIdleTimeout(Duration.ofMinutes(10));
      upgrade.setConfiguration(configuration);
      return client.connect(upgrade).thenApply(session -> closed -> {
        if (session.isOutputOpen()) {
          session.close(1000, "benchmark done",
              org.eclipse.jetty.util.Callback.from(closed::countDown, x -> closed.countDown()));
        } else {
          closed.countDown();
        }
      });
    }

    @Override
    public void holdReads() {
      hold.set(true);
    }

    @Override
    public boolean holdsReads() {
      return hold.get();
    }

    @Override
    public void resumeReads() {
      hold.set(false);
      synchronized (sockets) {
        sockets.forEach(CoreAgentSocket::resume);
      }
    }

    @Override
    public void stop() throws Exception {
      for (WebSocketCoreClient client : clients) {
        client.stop();
        client.getHttpClient().stop();
      }
    }
  }

  /** One agent's push socket on WebSocket core: notes when the first text frame arrives. */
  private static final class CoreAgentSocket implements FrameHandler {
    private final int index;
    private final AtomicLongArray receivedMicros;
    private final AtomicReference<CountDownLatch> notified;
    private final AtomicBoolean hold;
    private final AtomicBoolean held = new AtomicBoolean();
    private volatile CoreSession session;

    CoreAgentSocket(int index, AtomicLongArray receivedMicros, AtomicReference<CountDownLatch> notified,
        AtomicBoolean hold) {
      this.index = index;
      this.receivedMicros = receivedMicros;
      this.notified = notified;
      this.hold = hold;
    }

    void resume() {
      if (held.compareAndSet(true, false)) {
        session.demand();
      }
    }

    @Override
    public void onOpen(CoreSession coreSession, org.eclipse.jetty.util.Callback callback) {
      session = coreSession;
      callback.succeeded();
      coreSession.demand();
    }

    @Override
    public void onFrame(Frame frame, org.eclipse.jetty.util.Callback callback) {
      if (frame.getOpCode() == OpCode.TEXT && receivedMicros.compareAndSet(index, 0, BenchmarkServer.epochMicros())) {
        notified.get().countDown();
      }
      callback.succeeded();
      if (hold.get()) {
        held.set(true);
      } else {
        session.demand();
      }
    }

    @Override
    public void onError(Throwable cause, org.eclipse.jetty.util.Callback callback) {
      callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus closeStatus, org.eclipse.jetty.util.Callback callback) {
      callback.succeeded();
    }
  }

  /** One agent's push socket: notes when the first notification arrives. */
  public static final class AgentSocket extends Session.Listener.AbstractAutoDemanding {
    private final int index;
    private final AtomicLongArray receivedMicros;
    private final AtomicReference<CountDownLatch> notified;

    AgentSocket(int index, AtomicLongArray receivedMicros, AtomicReference<CountDownLatch> notified) {
      this.index = index;
      this.receivedMicros = receivedMicros;
      this.notified = notified;
    }

    @Override
    public void onWebSocketText(String message) {
      if (receivedMicros.compareAndSet(index, 0, BenchmarkServer.epochMicros())) {
        notified.get().countDown();
      }
    }

    @Override
    public void onWebSocketError(Throwable cause) {
      // Counted where it matters (connect failures, missing notifications); not logged 10,000 times.
    }
  }

  private static String clientTls() {
    String kind = System.getProperty("client.tls", "jdk");
    if (!kind.equals("jdk") && !kind.equals("conscrypt")) {
      throw new IllegalArgumentException("client.tls must be jdk or conscrypt: " + kind);
    }
    return kind;
  }
}
