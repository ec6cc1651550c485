package io.egosecure.benchmarks;

import static java.util.Objects.requireNonNull;

import io.egosecure.core.wire.AgentMessages;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.Connection;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * Many simulated agents in one JVM, cheap enough for 100,000: no thread per agent, one scheduler
 * thread, and {@value LoopbackTls#SOURCE_ADDRESSES} Jetty clients (one selector each, sources
 * 127.0.0.2 to .9) on one shared pool.
 *
 * <pre>{@code
 * SimulatedFleet fleet = SimulatedFleet.builder(work, credentials, List.of(URI.create("https://127.0.0.1:" + port + "/")))
 *     .initialInterval(Duration.ofSeconds(60)).connections(Connections.perAgent())
 *     .push(true).listener(myListener).build();
 * fleet.start(fleet.initialInterval());   // first polls spread over one interval
 * ...
 * FleetStats window = fleet.takeStats();  // since start or the previous call
 * fleet.close();
 * }</pre>
 *
 * <p>Each agent behaves like the SDK's {@code AgentEngine}: it polls {@code GET
 * /v1/agent/policies} with {@code If-None-Match} at the interval the server announces ± its
 * jitter; after a failure it retries after a full-jitter backoff from 1 s capped by the jittered
 * interval (a connection failure or a 5xx first moves it to the next server URI); with push it
 * holds a WebSocket, polls at once on {@code policies-changed} for a newer revision, reconnects a
 * closed socket after 1 s plus a full-jitter backoff no wider than the time it has been failing,
 * and after a re-open schedules a catch-up poll within uniform(0, interval × max(jitter, 10) %)
 * that the socket's greeting (the tenant's revision) cancels if the agent holds that revision,
 * a greeting that also moves a due poll to an interval later (at most two after the last answered
 * poll); with long polls it parks {@code ?wait=} polls.
 *
 * <p>Every new TLS connection (a poll connection or a push upgrade) passes a gate that bounds
 * the handshakes in flight, so the simulated agents' own TLS does not starve the server they
 * share the cores with. Jetty's client opens a connection before its TLS handshake, which runs
 * with the first request; a poll connection therefore holds its permit until its first exchange
 * ends, and a push upgrade until the upgrade is answered. Failures while the caller has said the
 * server is down ({@link #serverDown(boolean)}) are counted apart from real errors.
 */
final class SimulatedFleet implements AutoCloseable {
  private static final String POLICIES = "v1/agent/policies";
  private static final String NOTIFICATIONS = "v1/agent/notifications";
  private static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
  private static final Duration MAX_LONG_POLL = Duration.ofSeconds(60);
  /** The SDK's: a socket open longer than this before it closed backs off from the start again. */
  private static final Duration PUSH_SILENCE_TIMEOUT = Duration.ofSeconds(75);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
  private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*(\\d+)");

  /** Which kind of connection a new TLS connection was for. */
  enum Channel { POLL, PUSH }

  /** Why a poll or a connection failed. */
  enum Failure {
    /** An HTTP status other than 200 and 304. */
    STATUS,
    TIMEOUT,
    REFUSED,
    /** Reset or closed by the peer, or end of stream. */
    RESET,
    TLS,
    OTHER
  }

  /** How the agents' polls reach the server. */
  record Connections(Kind kind, int count) {
    enum Kind { PER_AGENT, SHARED, PER_POLL }

    Connections {
      requireNonNull(kind, "kind == null");
      if (kind == Kind.SHARED && count < 1) {
        throw new IllegalArgumentException("a shared pool needs at least one connection, was " + count);
      }
    }

    /** Each agent keeps a keep-alive TLS connection of its own, as the SDK does. */
    static Connections perAgent() {
      return new Connections(Kind.PER_AGENT, 0);
    }

    /**
     * The agents share {@code count} keep-alive connections per server (agent i uses connection
     * i mod count), as behind an HTTP-level front: 100,000 agents' request rate within the
     * 20,000 sockets a process may open.
     */
    static Connections shared(int count) {
      return new Connections(Kind.SHARED, count);
    }

    /** A new TLS connection per poll, closed after it ({@code Connection: close}). */
    static Connections perPoll() {
      return new Connections(Kind.PER_POLL, 0);
    }

    /** {@code per-agent}, {@code shared:K} or {@code per-poll}. */
    static Connections parse(String text) {
      if (text.equals("per-agent")) {
        return perAgent();
      }
      if (text.equals("per-poll")) {
        return perPoll();
      }
      if (text.startsWith("shared:")) {
        return shared(Integer.parseInt(text.substring("shared:".length())));
      }
      throw new IllegalArgumentException("connections must be per-agent, shared:K or per-poll, was " + text);
    }

    @Override
    public String toString() {
      return switch (kind) {
        case PER_AGENT -> "per-agent";
        case PER_POLL -> "per-poll";
        case SHARED -> "shared:" + count;
      };
    }
  }

  /**
   * What a benchmark may record. Called on the clients' threads, never under a lock of the fleet;
   * keep it short. Times are {@link System#nanoTime()} unless named otherwise.
   */
  interface Listener {
    /** A poll answered 200 or 304 ({@code etag} is the agent's ETag after it). */
    default void pollCompleted(int agent, int status, String etag, long latencyNanos) {}

    /**
     * A poll that failed: {@code status} is the HTTP status for {@link Failure#STATUS}, else 0.
     * {@code serverDown}: the caller had said the server was down when it started or ended.
     */
    default void pollFailed(int agent, Failure failure, int status, boolean serverDown) {}

    /** A new TLS connection (a poll connection, or a push socket upgraded). */
    default void connectionOpened(int agent, Channel channel, long nanos) {}

    default void connectionFailed(int agent, Channel channel, Failure failure, boolean serverDown) {}

    default void pushClosed(int agent, int code) {}

    /** A push notification; {@code receivedEpochMicros} on the same clock as the server's. */
    default void notificationReceived(int agent, long revision, long receivedEpochMicros) {}

    /** A push socket's first message (its greeting) showed the agent holds the tenant's revision: nothing to catch up. */
    default void caughtUpByGreeting(int agent, long nanos) {}
  }

  /** Counts over an interval of the fleet's life (see {@link #takeStats()}). */
  record FleetStats(Histogram latencyMicros, long ok, long notModified, Map<Failure, Long> errors,
      Map<Integer, Long> statuses, Map<String, Long> causes, long failuresWhileDown, long connectionsOpened,
      long pushOpened, long notifications) {
    long polls() {
      return ok + notModified;
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private final Path work;
  private final List<String> credentials;
  private final List<URI> servers;
  private final Duration initialInterval;
  private final int initialJitterPercent;
  private final Connections connections;
  private final boolean push;
  private final boolean longPoll;
  private final boolean conscrypt;
  private final boolean spreadOverServers;
  private volatile boolean pollOnPush = true;
  private final Duration requestTimeout;
  private final Duration idleTimeout;
  private final Listener listener;
  private final RandomGenerator random;
  private final ConnectGate gate;

  private final QueuedThreadPool executor;
  private final ScheduledThreadPoolExecutor scheduler;
  private final List<HttpClient> clients = new ArrayList<>();
  private final List<WebSocketClient> pushClients = new ArrayList<>();
  private final Agent[] agents;
  /** lanes[server][k]: the kept connections, per agent or shared. */
  private final Lane[][] lanes;

  private volatile boolean closed;
  private volatile boolean down;
  /** Changes whenever {@link #serverDown(boolean)} is called: a request that spans one is excused. */
  private final AtomicLong availabilityEpoch = new AtomicLong();

  private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);
  private final Recorder latency = new Recorder(MAX_LATENCY_MICROS, 3);
  private final LongAdder ok = new LongAdder();
  private final LongAdder notModified = new LongAdder();
  private final Map<Failure, LongAdder> errors = new EnumMap<>(Failure.class);
  private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> causes = new ConcurrentHashMap<>();
  private final LongAdder failuresWhileDown = new LongAdder();
  private final LongAdder connectionsOpened = new LongAdder();
  private final LongAdder pushOpenedCount = new LongAdder();
  private final LongAdder notifications = new LongAdder();
  private final AtomicInteger agentsPolled = new AtomicInteger();
  private final AtomicInteger pushOpen = new AtomicInteger();
  private final AtomicInteger pollConnectionsOpen = new AtomicInteger();

  private SimulatedFleet(Builder builder) {
    this.work = builder.work;
    this.credentials = builder.credentials;
    this.servers = builder.servers;
    this.initialInterval = builder.initialInterval;
    this.initialJitterPercent = builder.jitterPercent;
    this.connections = builder.connections;
    this.push = builder.push;
    this.longPoll = builder.longPoll;
    this.conscrypt = builder.conscrypt;
    this.spreadOverServers = builder.spreadOverServers;
    this.requestTimeout = builder.requestTimeout;
    this.idleTimeout = builder.idleTimeout;
    this.listener = builder.listener;
    this.random = builder.random;
    for (Failure failure : Failure.values()) {
      errors.put(failure, new LongAdder());
    }
    executor = new QueuedThreadPool(builder.threads, Math.min(8, builder.threads));
    executor.setName("fleet");
    scheduler = new ScheduledThreadPoolExecutor(1, r -> {
      Thread thread = new Thread(r, "fleet-scheduler");
      thread.setDaemon(true);
      return thread;
    });
    // Each poll cancels a timeout; without this the queue would keep them all until due.
    scheduler.setRemoveOnCancelPolicy(true);
    gate = new ConnectGate(builder.connecting, executor);
    agents = new Agent[credentials.size()];
    for (int i = 0; i < agents.length; i++) {
      agents[i] = new Agent(i, "Bearer " + credentials.get(i));
    }
    int lanesPerServer = switch (connections.kind()) {
      case PER_AGENT -> agents.length;
      case SHARED -> Math.min(connections.count(), agents.length);
      case PER_POLL -> 0;
    };
    lanes = new Lane[servers.size()][lanesPerServer];
  }

  static Builder builder(Path work, List<String> credentials, List<URI> servers) {
    return new Builder(work, credentials, servers);
  }

  /**
   * Starts the clients and schedules every agent's first poll uniformly over {@code spread}
   * (the SDK's agents start at random times; one interval spreads them as a steady fleet is).
   */
  void start(Duration spread) throws Exception {
    executor.start();
    for (int i = 0; i < LoopbackTls.SOURCE_ADDRESSES; i++) {
      // Kept poll connections are the fleet's own (unpooled), so the pool serves only push upgrades.
      HttpClient http = LoopbackTls.httpClient(work, i, 1024, executor, conscrypt);
      http.setIdleTimeout(idleTimeout.toMillis());
      http.setMaxRequestsQueuedPerDestination(Math.max(1024, agents.length));
      http.start();
      clients.add(http);
      if (push) {
        WebSocketClient pushClient = new WebSocketClient(http);
        // The server pings every 30 s; the SDK drops a socket silent for 75 s.
        pushClient.setIdleTimeout(PUSH_SILENCE_TIMEOUT);
        pushClient.start();
        pushClients.add(pushClient);
      }
    }
    for (Agent agent : agents) {
      agent.schedulePoll((long) (random.nextDouble() * spread.toNanos()));
    }
  }

  Duration initialInterval() {
    return initialInterval;
  }

  int size() {
    return agents.length;
  }

  /**
   * Tells the fleet whether the server is known to be down (stopped or killed, not yet ready
   * again): failures of requests that start or end meanwhile are counted apart from errors.
   */
  void serverDown(boolean isDown) {
    down = isDown;
    availabilityEpoch.incrementAndGet();
  }

  /**
   * Whether a notification makes the agent poll at once, as the SDK's do (default true). Off, a
   * benchmark times notifications alone: on one machine the re-poll wave they start takes the
   * same cores as the notifications still being delivered.
   */
  void pollOnPush(boolean value) {
    pollOnPush = value;
  }

  /** Agents that have had at least one poll answered 200 or 304. */
  int agentsPolled() {
    return agentsPolled.get();
  }

  int pushSocketsOpen() {
    return pushOpen.get();
  }

  /** Kept poll connections open now (per-agent or shared), and per-poll connections in use. */
  int pollConnectionsOpen() {
    return pollConnectionsOpen.get();
  }

  /** Handshakes waiting for the gate now. */
  int connectsWaiting() {
    return gate.waiting();
  }

  /** Errors counted since the last {@link #takeStats()}, by cause, without resetting them: for progress lines. */
  Map<String, Long> errorsSoFar() {
    Map<String, Long> counts = new TreeMap<>();
    causes.forEach((cause, count) -> counts.put(cause, count.sum()));
    statuses.forEach((status, count) -> counts.put("STATUS " + status, count.sum()));
    counts.values().removeIf(count -> count == 0);
    return counts;
  }

  /** Counts since {@link #start} or the previous call; the counters start again from zero. */
  FleetStats takeStats() {
    Map<Failure, Long> errorCounts = new EnumMap<>(Failure.class);
    errors.forEach((failure, count) -> errorCounts.put(failure, count.sumThenReset()));
    errorCounts.values().removeIf(count -> count == 0);
    Map<Integer, Long> statusCounts = new TreeMap<>();
    statuses.forEach((status, count) -> statusCounts.put(status, count.sumThenReset()));
    statusCounts.values().removeIf(count -> count == 0);
    Map<String, Long> causeCounts = new TreeMap<>();
    causes.forEach((cause, count) -> causeCounts.put(cause, count.sumThenReset()));
    causeCounts.values().removeIf(count -> count == 0);
    return new FleetStats(latency.getIntervalHistogram(), ok.sumThenReset(), notModified.sumThenReset(),
        errorCounts, statusCounts, causeCounts, failuresWhileDown.sumThenReset(), connectionsOpened.sumThenReset(),
        pushOpenedCount.sumThenReset(), notifications.sumThenReset());
  }

  @Override
  public void close() throws Exception {
    closed = true;
    scheduler.shutdownNow();
    for (Agent agent : agents) {
      agent.close();
    }
    for (WebSocketClient pushClient : pushClients) {
      pushClient.stop();
    }
    for (HttpClient http : clients) {
      http.stop();
    }
    executor.stop();
  }

  // ---------------------------------------------------------------- bookkeeping

  private boolean excused(long epochAtStart) {
    return down || availabilityEpoch.get() != epochAtStart;
  }

  private void countFailure(Failure failure, int status, Throwable cause, boolean excused) {
    if (excused) {
      failuresWhileDown.increment();
      return;
    }
    errors.get(failure).increment();
    if (failure == Failure.STATUS) {
      statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
    } else if (cause != null) {
      causes.computeIfAbsent(failure + " " + rootCause(cause), c -> new LongAdder()).increment();
    }
  }

  private static String rootCause(Throwable failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message.lines().findFirst().orElse(""));
  }

  static Failure classify(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof TimeoutException) {
        return Failure.TIMEOUT;
      }
      if (cause instanceof ConnectException) {
        return Failure.REFUSED;
      }
      if (cause instanceof SSLException) {
        return Failure.TLS;
      }
      if (cause instanceof EOFException || cause instanceof ClosedChannelException
          || cause instanceof java.io.IOException io && io.getMessage() != null
              && (io.getMessage().contains("reset") || io.getMessage().contains("closed")
                  || io.getMessage().contains("Broken pipe"))) {
        return Failure.RESET;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return Failure.OTHER;
  }

  private HttpClient client(int agent) {
    return clients.get(agent % clients.size());
  }

  private void onScheduler(Runnable task, long delayNanos) {
    if (!closed) {
      scheduler.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }
  }

  // ---------------------------------------------------------------- one agent

  /** One simulated agent's state, guarded by its own monitor; it never calls out while holding it. */
  private final class Agent {
    private final int index;
    private final String bearer;
    private int serverIndex;
    private String etag;
    private long revision = -1;
    private boolean polledOnce;
    private long intervalNanos = initialInterval.toNanos();
    private int jitterPercent = initialJitterPercent;
    private int failures;
    private ScheduledFuture<?> nextPoll;
    private boolean pollInFlight;
    private boolean pollRequested;

    private int pushFailures;
    /** Since when push sockets have failed ({@link System#nanoTime()}); 0 while up. */
    private long pushFailingSince;
    private boolean pushEverOpened;
    private long pushOpenedAt;
    /** The catch-up poll a re-opened socket asked for; its greeting may cancel it. */
    private ScheduledFuture<?> catchUpPoll;
    private boolean greeted;
    /** The socket in force was re-opened: its greeting, if in step, stands in for a due poll (as the SDK). */
    private boolean reopened;
    /** When a poll was last answered ({@link System#nanoTime()}); 0 before the first. */
    private long lastPollAnswered;
    /** The socket attempt in force; a callback of an older one is ignored (as the SDK's {@code connection != push}). */
    private PushSocket pushSocket;
    private ScheduledFuture<?> pushTimer;

    Agent(int index, String bearer) {
      this.index = index;
      this.bearer = bearer;
      // As agents given the servers' URIs in different orders, or placed by a front.
      this.serverIndex = spreadOverServers ? index % servers.size() : 0;
    }

    synchronized void schedulePoll(long delayNanos) {
      if (nextPoll != null) {
        nextPoll.cancel(false);
      }
      if (!closed) {
        nextPoll = scheduler.schedule(this::poll, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
      }
    }

    /** Polls after {@code delayNanos}, unless a poll is due sooner anyway (the SDK's catchUpWithin). */
    synchronized void catchUpWithin(long delayNanos) {
      if (closed || nextPoll != null && !nextPoll.isDone() && nextPoll.getDelay(TimeUnit.NANOSECONDS) <= delayNanos) {
        return;
      }
      cancelCatchUp();
      catchUpPoll = scheduler.schedule(() -> {
        synchronized (this) {
          catchUpPoll = null;
        }
        poll();
      }, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** The SDK's pollAnIntervalAfterTheGreeting: the due poll moves to an interval from now, at most two after the last answer. */
    private void pollAnIntervalAfterTheGreeting() {
      if (longPoll || pollInFlight || lastPollAnswered == 0 || nextPoll == null || nextPoll.isDone()) {
        return;
      }
      long delay = Math.min(jittered(intervalNanos), lastPollAnswered + 2 * intervalNanos - System.nanoTime());
      if (delay > nextPoll.getDelay(TimeUnit.NANOSECONDS)) {
        schedulePoll(delay);
      }
    }

    private void cancelCatchUp() {
      if (catchUpPoll != null) {
        catchUpPoll.cancel(false);
        catchUpPoll = null;
      }
    }

    void poll() {
      Request request;
      Lane lane;
      long epoch = availabilityEpoch.get();
      long waitSeconds;
      synchronized (this) {
        if (closed) {
          return;
        }
        if (pollInFlight) {
          pollRequested = true;
          return;
        }
        pollInFlight = true;
        cancelCatchUp(); // a poll sent after the socket re-opened is the catch-up
        waitSeconds = longPoll ? Math.min(TimeUnit.NANOSECONDS.toSeconds(intervalNanos), MAX_LONG_POLL.toSeconds()) : 0;
        URI server = servers.get(serverIndex);
        String target = POLICIES + (waitSeconds > 0 ? "?wait=" + waitSeconds : "");
        request = client(index).newRequest(server.resolve(target))
            .headers(h -> {
              h.put(HttpHeader.AUTHORIZATION, bearer);
              h.put(HttpHeader.ACCEPT, "application/json");
              if (etag != null) {
                h.put(HttpHeader.IF_NONE_MATCH, etag);
              }
              if (connections.kind() == Connections.Kind.PER_POLL) {
                h.put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
              }
            });
        lane = switch (connections.kind()) {
          case PER_AGENT -> lane(index);
          case SHARED -> lane(index % lanes[serverIndex].length);
          case PER_POLL -> null;
        };
      }
      long started = System.nanoTime();
      long timeoutNanos = requestTimeout.toNanos() + TimeUnit.SECONDS.toNanos(waitSeconds);
      Exchange exchange = new Exchange(this, request, started, epoch, waitSeconds);
      // Our own timer, not Request.timeout: it covers the wait for a connection and the handshake too.
      exchange.timeout = scheduler.schedule(exchange::timedOut, timeoutNanos, TimeUnit.NANOSECONDS);
      if (lane != null) {
        lane.submit(exchange);
      } else {
        connectThenSend(exchange);
      }
    }

    private Lane lane(int k) {
      Lane[] serverLanes = lanes[serverIndex];
      synchronized (serverLanes) {
        if (serverLanes[k] == null) {
          serverLanes[k] = new Lane(client(k), servers.get(serverIndex), k);
        }
        return serverLanes[k];
      }
    }

    /** The SDK's {@code polled}: every answer and failure of a poll ends here, once. */
    void polled(Exchange exchange, Result result) {
      long now = System.nanoTime();
      long took = now - exchange.started;
      boolean excused = excused(exchange.epoch);
      Throwable failure = result == null ? exchange.failure : result.getFailure();
      int status = failure == null ? result.getResponse().getStatus() : 0;
      if (failure != null) {
        Failure kind = classify(failure);
        countFailure(kind, 0, failure, excused);
        listener.pollFailed(index, kind, 0, excused);
        long delay;
        synchronized (this) {
          pollInFlight = false;
          delay = retryDelay(true, 0);
        }
        schedulePoll(delay);
        return;
      }
      if (status == 200 || status == 304) {
        latency.recordValue(Math.min(TimeUnit.NANOSECONDS.toMicros(took), MAX_LATENCY_MICROS));
        (status == 200 ? ok : notModified).increment();
        String newEtag = result.getResponse().getHeaders().get(HttpHeader.ETAG);
        boolean first;
        long next;
        boolean startPush;
        synchronized (this) {
          pollInFlight = false;
          lastPollAnswered = now;
          pollingSettings(result);
          failures = 0;
          first = !polledOnce;
          polledOnce = true;
          boolean movedOn = false;
          if (status == 200 && newEtag != null && !newEtag.equals(etag)) {
            movedOn = true;
            etag = newEtag;
            revision = revisionOf(newEtag);
          }
          boolean parkAgain = exchange.waitSeconds > 0
              && (movedOn || took >= TimeUnit.SECONDS.toNanos(exchange.waitSeconds) / 2);
          next = pollRequested || parkAgain ? 0 : Math.max(0, jittered(intervalNanos) - took);
          pollRequested = false;
          startPush = push && pushSocket == null && pushTimer == null;
        }
        if (first) {
          agentsPolled.incrementAndGet();
        }
        listener.pollCompleted(index, status, newEtag, took);
        if (startPush) {
          startPush();
        }
        schedulePoll(next);
        return;
      }
      countFailure(Failure.STATUS, status, null, excused);
      listener.pollFailed(index, Failure.STATUS, status, excused);
      long delay;
      synchronized (this) {
        pollInFlight = false;
        delay = retryDelay(status >= 500, retryAfterNanos(result));
      }
      schedulePoll(delay);
    }

    private void pollingSettings(Result result) {
      // The headers win, as in the SDK: the tenant may have changed them since the set was signed.
      String interval = result.getResponse().getHeaders().get(AgentMessages.POLL_INTERVAL_HEADER);
      if (interval != null) {
        intervalNanos = Math.max(MIN_INTERVAL.toNanos(), TimeUnit.SECONDS.toNanos(Long.parseLong(interval.trim())));
      }
      String jitter = result.getResponse().getHeaders().get(AgentMessages.POLL_JITTER_HEADER);
      if (jitter != null) {
        jitterPercent = (int) Math.max(0, Math.min(50, Long.parseLong(jitter.trim())));
      }
    }

    /** The interval moved by up to ± the jitter percent, uniformly. */
    private long jittered(long nanos) {
      double spread = jitterPercent / 100.0;
      return (long) (nanos * (1 + spread * (2 * random.nextDouble() - 1)));
    }

    /** The SDK's retryDelay: full-jitter backoff from 1 s, capped by the jittered interval; fail over first. */
    private long retryDelay(boolean failOver, long retryAfterNanos) {
      failures++;
      if (failOver && servers.size() > 1) {
        serverIndex = (serverIndex + 1) % servers.size();
      }
      return Math.max(Math.min(backoff(failures), jittered(intervalNanos)), retryAfterNanos);
    }

    private long retryAfterNanos(Result result) {
      String value = result.getResponse().getHeaders().get(HttpHeader.RETRY_AFTER);
      try {
        return value == null ? 0 : TimeUnit.SECONDS.toNanos(Long.parseLong(value.trim()));
      } catch (NumberFormatException notSeconds) {
        return 0;
      }
    }

    // -------------------------------------------------------------- push

    void startPush() {
      PushSocket socket;
      synchronized (this) {
        if (closed || pushSocket != null) {
          return;
        }
        socket = new PushSocket(this, availabilityEpoch.get());
        pushSocket = socket;
      }
      URI base = servers.get(serverIndex);
      URI uri = URI.create("wss" + base.toString().substring(base.getScheme().length())).resolve(NOTIFICATIONS);
      ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
      upgrade.setHeader(HttpHeader.AUTHORIZATION.asString(), bearer);
      gate.run(() -> {
        CompletableFuture<Session> connect;
        try {
          connect = pushClients.get(index % pushClients.size()).connect(socket, uri, upgrade);
        } catch (Exception e) {
          connect = CompletableFuture.failedFuture(e);
        }
        connect.whenComplete((session, failure) -> {
          gate.release();
          if (failure != null) {
            Failure kind = classify(failure);
            boolean excused = excused(socket.epoch);
            countFailure(kind, 0, failure, excused);
            listener.connectionFailed(index, Channel.PUSH, kind, excused);
            pushClosed(socket, 1006);
          }
        });
      });
    }

    void pushOpened(PushSocket socket) {
      long delay = -1;
      synchronized (this) {
        if (socket != pushSocket) {
          return;
        }
        pushOpenedAt = System.nanoTime();
        greeted = false;
        reopened = pushEverOpened;
        if (pushEverOpened) {
          // As the SDK: a change may have come and gone while the socket was down.
          delay = (long) (random.nextDouble() * intervalNanos * Math.max(jitterPercent, 10) / 100.0);
        }
        pushEverOpened = true;
      }
      pushOpen.incrementAndGet();
      pushOpenedCount.increment();
      listener.connectionOpened(index, Channel.PUSH, System.nanoTime());
      if (delay >= 0) {
        catchUpWithin(delay);
      }
    }

    void pushed(PushSocket socket, String text) {
      long received = BenchmarkServer.epochMicros();
      Matcher matcher = REVISION.matcher(text);
      long pushedRevision = matcher.find() ? Long.parseLong(matcher.group(1)) : Long.MAX_VALUE;
      notifications.increment();
      listener.notificationReceived(index, pushedRevision, received);
      boolean pollNow;
      boolean caughtUp = false;
      synchronized (this) {
        if (socket != pushSocket) {
          return;
        }
        boolean greeting = !greeted;
        greeted = true;
        if (revision >= 0 && pushedRevision <= revision) {
          // As the SDK: the tenant stood at this revision after the socket joined; nothing missed.
          caughtUp = greeting;
          cancelCatchUp();
          if (greeting && reopened) {
            pollAnIntervalAfterTheGreeting();
          }
          pollNow = false;
        } else {
          pollNow = pollOnPush && catchUpPoll == null;
        }
      }
      if (caughtUp) {
        listener.caughtUpByGreeting(index, System.nanoTime());
      }
      if (pollNow) {
        poll();
      }
    }

    void pushClosed(PushSocket socket, int code) {
      synchronized (this) {
        if (socket != pushSocket) {
          return;
        }
        pushSocket = null;
        if (socket.opened) {
          pushOpen.decrementAndGet();
        }
        if (closed) {
          return;
        }
        // The SDK resets its backoff once a socket has stayed up past the silence timeout.
        long now = System.nanoTime();
        if (socket.opened && now - pushOpenedAt > PUSH_SILENCE_TIMEOUT.toNanos()) {
          pushFailures = 0;
          pushFailingSince = 0;
        }
        pushFailures++;
        if (pushFailingSince == 0) {
          pushFailingSince = now;
        }
        if (!socket.opened && servers.size() > 1) {
          // As the SDK: a server that did not take the socket at all is left for the next one.
          serverIndex = (serverIndex + 1) % servers.size();
        }
        long delay = MIN_INTERVAL.toNanos() + backoff(pushFailures, now - pushFailingSince);
        pushTimer = scheduler.schedule(() -> {
          synchronized (this) {
            pushTimer = null;
          }
          startPush();
        }, delay, TimeUnit.NANOSECONDS);
      }
      listener.pushClosed(index, code);
    }

    void close() {
      PushSocket socket;
      synchronized (this) {
        socket = pushSocket;
        pushSocket = null;
      }
      if (socket != null && socket.session != null) {
        socket.session.disconnect();
      }
    }

    /** The SDK's Backoff: uniform in [0, min(5 min, 1 s · 2^(attempt-1))]. */
    private long backoff(int attempt) {
      return (long) (random.nextDouble() * backoffCeiling(attempt));
    }

    /** The SDK's Backoff for push: as {@link #backoff(int)}, but never wider than the failure has lasted (or 1 s). */
    private long backoff(int attempt, long failingForNanos) {
      return (long) (random.nextDouble() * Math.min(backoffCeiling(attempt), Math.max(MIN_INTERVAL.toNanos(), failingForNanos)));
    }

    private static long backoffCeiling(int attempt) {
      int doublings = Math.min(Math.max(attempt, 1) - 1, 20);
      return Math.min(MAX_BACKOFF.toNanos(), MIN_INTERVAL.toNanos() << doublings);
    }
  }

  static long revisionOf(String etag) {
    int dash = etag.indexOf('-');
    try {
      return dash > 1 ? Long.parseLong(etag.substring(1, dash)) : -1;
    } catch (NumberFormatException notOurs) {
      return -1;
    }
  }

  /** One push socket attempt of one agent. Public: Jetty's WebSocket client needs it so. */
  public final class PushSocket extends Session.Listener.AbstractAutoDemanding {
    private final Agent agent;
    private final long epoch;
    private volatile Session session;
    private volatile boolean opened;

    PushSocket(Agent agent, long epoch) {
      this.agent = agent;
      this.epoch = epoch;
    }

    @Override
    public void onWebSocketOpen(Session openSession) {
      super.onWebSocketOpen(openSession);
      session = openSession;
      opened = true;
      agent.pushOpened(this);
    }

    @Override
    public void onWebSocketText(String message) {
      agent.pushed(this, message);
    }

    @Override
    public void onWebSocketClose(int code, String reason, org.eclipse.jetty.websocket.api.Callback callback) {
      callback.succeed();
      agent.pushClosed(this, code);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
      // A failed upgrade is counted where the connect completes; a failed open socket closes next.
    }
  }

  // ---------------------------------------------------------------- connections

  /** One poll in flight. Completes once: by its answer, its failure or its timeout. */
  private final class Exchange {
    final Agent agent;
    final Request request;
    final long started;
    final long epoch;
    final long waitSeconds;
    volatile ScheduledFuture<?> timeout;
    volatile Throwable failure;
    private final AtomicInteger done = new AtomicInteger();
    /** Called when the exchange ends, before the agent hears of it: frees its lane. */
    volatile Runnable onEnd = () -> { };

    Exchange(Agent agent, Request request, long started, long epoch, long waitSeconds) {
      this.agent = agent;
      this.request = request;
      this.started = started;
      this.epoch = epoch;
      this.waitSeconds = waitSeconds;
    }

    void timedOut() {
      request.abort(new TimeoutException("poll took longer than " + requestTimeout.plusSeconds(waitSeconds)));
      fail(new TimeoutException("poll took longer than " + requestTimeout.plusSeconds(waitSeconds)));
    }

    /** @return whether this ended the exchange (false: it had ended already) */
    boolean fail(Throwable cause) {
      if (done.compareAndSet(0, 1)) {
        failure = cause;
        end(null);
        return true;
      }
      return false;
    }

    void complete(Result result) {
      if (done.compareAndSet(0, 1)) {
        end(result);
      }
    }

    boolean isDone() {
      return done.get() != 0;
    }

    private void end(Result result) {
      ScheduledFuture<?> timer = timeout;
      if (timer != null) {
        timer.cancel(false);
      }
      onEnd.run();
      agent.polled(this, result);
    }

    void sendOn(Connection connection) {
      connection.send(request, new BufferingResponseListener(1 << 20) {
        @Override
        public void onComplete(Result result) {
          complete(result);
        }
      });
    }
  }

  /** Per-poll connections: a handshake, one request with {@code Connection: close}. */
  private void connectThenSend(Exchange exchange) {
    gate.run(() -> {
      if (exchange.isDone()) {
        // It timed out waiting for the gate: a handshake now would be for nobody (and, with the
        // retry's own, leak a connection per timeout until the server runs out of files).
        gate.release();
        return;
      }
      client(exchange.agent.index).resolveDestination(exchange.request).newConnection(new Promise<>() {
        @Override
        public void succeeded(Connection connection) {
          connectionsOpened.increment();
          pollConnectionsOpen.incrementAndGet();
          listener.connectionOpened(exchange.agent.index, Channel.POLL, System.nanoTime());
          AtomicBoolean closedOnce = new AtomicBoolean();
          exchange.onEnd = () -> {
            if (closedOnce.compareAndSet(false, true)) {
              gate.release(); // the handshake ran with the request
              pollConnectionsOpen.decrementAndGet();
              connection.close();
            }
          };
          if (exchange.isDone()) {
            exchange.onEnd.run(); // it timed out during the handshake, before onEnd was set
            return;
          }
          exchange.sendOn(connection);
        }

        @Override
        public void failed(Throwable failure) {
          gate.release();
          boolean excused = excused(exchange.epoch);
          listener.connectionFailed(exchange.agent.index, Channel.POLL, classify(failure), excused);
          exchange.fail(failure);
        }
      });
    });
  }

  /**
   * A kept connection and the polls waiting for it: HTTP/1.1 carries one request at a time. A
   * dead connection (the server closed it, or restarted) is replaced by a new handshake at the
   * next poll; a failed handshake fails the polls that waited for it.
   */
  private final class Lane {
    private final HttpClient client;
    private final URI server;
    private final int agentForEvents;
    private Connection connection;
    private boolean busy;
    private boolean connecting;
    private ArrayDeque<Exchange> waiting;

    Lane(HttpClient client, URI server, int agentForEvents) {
      this.client = client;
      this.server = server;
      this.agentForEvents = agentForEvents;
    }

    void submit(Exchange exchange) {
      synchronized (this) {
        if (busy) {
          if (waiting == null) {
            waiting = new ArrayDeque<>(4);
          }
          waiting.add(exchange);
          return;
        }
        busy = true;
      }
      dispatch(exchange);
    }

    private void dispatch(Exchange exchange) {
      AtomicBoolean freed = new AtomicBoolean();
      Runnable free = () -> {
        if (freed.compareAndSet(false, true)) {
          next();
        }
      };
      exchange.onEnd = free;
      if (exchange.isDone()) {
        free.run(); // it timed out while it waited
        return;
      }
      Connection kept;
      synchronized (this) {
        if (connection != null && connection.isClosed()) {
          connection = null;
          pollConnectionsOpen.decrementAndGet();
        }
        kept = connection;
      }
      if (kept != null) {
        exchange.sendOn(kept);
        return;
      }
      synchronized (this) {
        // Until the handshake ends the lane stays busy, even if the poll that asked for it times
        // out meanwhile: else a second handshake would start and one of the two connections leak.
        connecting = true;
      }
      gate.run(() -> client.resolveDestination(exchange.request).newConnection(new Promise<>() {
        @Override
        public void succeeded(Connection opened) {
          synchronized (Lane.this) {
            connection = opened;
            connecting = false;
          }
          connectionsOpened.increment();
          pollConnectionsOpen.incrementAndGet();
          listener.connectionOpened(agentForEvents, Channel.POLL, System.nanoTime());
          if (closed) {
            opened.close();
          }
          if (exchange.isDone()) {
            gate.release();
            next(); // it timed out while connecting; the connection serves the next poll
            return;
          }
          // The handshake runs with this first request: the permit goes when the exchange ends.
          AtomicBoolean released = new AtomicBoolean();
          Runnable freeLane = exchange.onEnd;
          exchange.onEnd = () -> {
            if (released.compareAndSet(false, true)) {
              gate.release();
            }
            freeLane.run();
          };
          if (exchange.isDone() && released.compareAndSet(false, true)) {
            gate.release(); // it ended just now, and the lane's own onEnd has moved the lane on
            return;
          }
          exchange.sendOn(opened);
        }

        @Override
        public void failed(Throwable failure) {
          gate.release();
          synchronized (Lane.this) {
            connecting = false;
          }
          listener.connectionFailed(agentForEvents, Channel.POLL, classify(failure), excused(exchange.epoch));
          if (!exchange.fail(failure)) {
            next();
          }
        }
      }));
    }

    /** The exchange on this lane ended: the next waiting one goes, or the lane is free. */
    private void next() {
      Exchange following;
      synchronized (this) {
        if (connecting) {
          return; // the handshake's end moves the lane on
        }
        following = waiting == null ? null : waiting.poll();
        if (following == null) {
          busy = false;
          return;
        }
      }
      // Not inline: the ending exchange's agent must hear of it first, on this thread.
      executor.execute(() -> dispatch(following));
    }

    @Override
    public String toString() {
      return "lane to " + server;
    }
  }

  /**
   * Bounds the TLS handshakes in flight: a task runs when a permit is free, else waits in order.
   * Every task must call {@link #release()} once its handshake ends, either way.
   */
  private static final class ConnectGate {
    private final int permits;
    private final Executor executor;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private int inUse;

    ConnectGate(int permits, Executor executor) {
      if (permits < 1) {
        throw new IllegalArgumentException("handshakes in flight must be at least 1, was " + permits);
      }
      this.permits = permits;
      this.executor = executor;
    }

    void run(Runnable task) {
      synchronized (this) {
        if (inUse >= permits) {
          queue.add(task);
          return;
        }
        inUse++;
      }
      task.run();
    }

    void release() {
      Runnable next;
      synchronized (this) {
        next = queue.poll();
        if (next == null) {
          inUse--;
          return;
        }
      }
      executor.execute(next);
    }

    synchronized int waiting() {
      return queue.size();
    }
  }

  /** What a fleet is made of; everything has a default but the credentials and servers. */
  static final class Builder {
    private final Path work;
    private final List<String> credentials;
    private final List<URI> servers;
    private Duration initialInterval = Duration.ofSeconds(60);
    private int jitterPercent = 10;
    private Connections connections = Connections.perAgent();
    private boolean push;
    private boolean longPoll;
    private boolean conscrypt;
    private boolean spreadOverServers;
    private int connecting = 16;
    private int threads = 64;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofSeconds(150);
    private Listener listener = new Listener() { };
    private RandomGenerator random = new ThreadLocalRandomGenerator();

    private Builder(Path work, List<String> credentials, List<URI> servers) {
      this.work = requireNonNull(work, "work == null");
      this.credentials = List.copyOf(credentials);
      this.servers = List.copyOf(servers);
      if (this.credentials.isEmpty()) {
        throw new IllegalArgumentException("a fleet needs at least one credential");
      }
      if (this.servers.isEmpty()) {
        throw new IllegalArgumentException("a fleet needs at least one server URI");
      }
      for (URI server : this.servers) {
        String host = server.getHost();
        if (host == null || !host.startsWith("127.")) {
          throw new IllegalArgumentException("only loopback (127.0.0.0/8) is ever a target: " + server);
        }
        if (!server.getPath().endsWith("/")) {
          throw new IllegalArgumentException("a server URI ends with /, e.g. https://127.0.0.1:8443/: " + server);
        }
      }
    }

    /** The interval until the server announces one (default 60 s, the server's default). */
    Builder initialInterval(Duration value) {
      initialInterval = requireNonNull(value, "initialInterval == null");
      return this;
    }

    /** The jitter until the server announces one (default 10 %). */
    Builder jitterPercent(int value) {
      jitterPercent = value;
      return this;
    }

    Builder connections(Connections value) {
      connections = requireNonNull(value, "connections == null");
      return this;
    }

    /** Whether each agent holds a push socket (default false). */
    Builder push(boolean value) {
      push = value;
      return this;
    }

    /** Whether polls are long polls, {@code ?wait=min(interval, 60)} (default false). */
    Builder longPoll(boolean value) {
      longPoll = value;
      return this;
    }

    /** Whether the agents' TLS runs on Conscrypt (default the JDK's). */
    Builder conscrypt(boolean value) {
      conscrypt = value;
      return this;
    }

    /**
     * Whether agent i starts on server i modulo the number of servers (default false: all start on
     * the first); each still fails over to the next on a failure.
     */
    Builder spreadOverServers(boolean value) {
      spreadOverServers = value;
      return this;
    }

    /** TLS handshakes in flight at most, over the whole fleet (default 16). */
    Builder connecting(int value) {
      connecting = value;
      return this;
    }

    /** The clients' shared pool, selectors included (default 64). */
    Builder threads(int value) {
      threads = value;
      return this;
    }

    /** How long a poll may take, beyond its {@code ?wait} (default 30 s, the SDK's). */
    Builder requestTimeout(Duration value) {
      requestTimeout = requireNonNull(value, "requestTimeout == null");
      return this;
    }

    /** How long a kept connection may idle on the client: above the jittered interval (default 150 s). */
    Builder idleTimeout(Duration value) {
      idleTimeout = requireNonNull(value, "idleTimeout == null");
      return this;
    }

    Builder listener(Listener value) {
      listener = requireNonNull(value, "listener == null");
      return this;
    }

    /** Thread-safe: agents draw from it on many threads (default: {@code ThreadLocalRandom}). */
    Builder random(RandomGenerator value) {
      random = requireNonNull(value, "random == null");
      return this;
    }

    SimulatedFleet build() {
      return new SimulatedFleet(this);
    }
  }

  /** {@link java.util.concurrent.ThreadLocalRandom} behind the interface, safe on every thread. */
  private static final class ThreadLocalRandomGenerator implements RandomGenerator {
    @Override
    public long nextLong() {
      return java.util.concurrent.ThreadLocalRandom.current().nextLong();
    }
  }
}
