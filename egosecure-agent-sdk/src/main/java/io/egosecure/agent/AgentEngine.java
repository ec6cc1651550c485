package io.egosecure.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.agent.PolicyAgentException.Kind;
import io.egosecure.agent.StateDirectory.Identity;
import io.egosecure.agent.StateDirectory.StoredPolicySet;
import io.egosecure.agent.Verifier.Accepted;
import io.egosecure.agent.Verifier.Baseline;
import io.egosecure.agent.Verifier.Rejected;
import io.egosecure.agent.Verifier.Verified;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.AgentStatus;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.AgentMessages.EnrollResponse;
import io.egosecure.core.wire.AgentMessages.SigningKeyInfo;
import io.egosecure.core.wire.Json;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.java_websocket.framing.CloseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent at work. Everything here runs on one serial executor — the applier, the listener,
 * every state change — so nothing needs a lock and the applier never runs concurrently with
 * itself. HTTP is asynchronous on that same executor: a long poll holds no thread.
 */
final class AgentEngine {
  private static final Logger log = LoggerFactory.getLogger(PolicyAgent.class);
  private static final Duration MAX_LONG_POLL = Duration.ofSeconds(60);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
  private static final Duration MAX_INTERVAL = Duration.ofDays(1);
  private static final Duration PUSH_CLOSE_GRACE = Duration.ofSeconds(1);

  private enum Phase { STARTING, ENROLLING, POLLING, STOPPED, CLOSED }

  private final AgentSettings settings;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final SerialExecutor serial;
  private HttpClient http;
  private final Backoff backoff;

  // Confined to the serial executor.
  private Phase phase = Phase.STARTING;
  private volatile StateDirectory state; // volatile: released from the closing thread if the agent's is stuck
  private Identity identity;
  private Verifier verifier;
  private Verified inForce;
  private boolean enforcing;
  private String etag;
  private Duration pollInterval;
  private int jitterPercent;
  private int serverIndex;
  private int failures;
  private boolean ready;
  private ScheduledFuture<?> nextPoll;
  /** The poll a re-opened push socket asked for; dropped once the socket's greeting shows nothing was missed. */
  private ScheduledFuture<?> catchUpPoll;
  private ScheduledFuture<?> nextEnrollment;
  private final java.util.Set<CompletableFuture<?>> exchanges = new java.util.HashSet<>();
  private boolean pollInFlight;
  private boolean pollRequested;
  private ScheduledFuture<?> staleCheck;
  private boolean staleReported;
  private AgentMessages.StatusReport pendingReport;
  private AgentMessages.StatusReport lastReported;
  private boolean reportInFlight;
  private volatile PushConnection push; // volatile: as state
  /** When the push socket in force opened; null until it does (one that never did tells of its server). */
  private Instant pushOpenedAt;
  /** Since when push sockets have failed: the reconnect spread grows with it, not past it. Null while up. */
  private Instant pushFailingSince;
  private boolean pushEverOpened;
  /** A re-opened socket's first message is still to come: its greeting may stand in for a due poll. */
  private boolean awaitingGreeting;
  /** When a poll was last answered (200 or 304); null before the first. */
  private Instant lastPollAnswered;
  private int pushFailures;
  private ScheduledFuture<?> pushTimer;

  private volatile PolicySet current;

  AgentEngine(AgentSettings settings, ScheduledExecutorService scheduler, boolean ownsScheduler) {
    this.settings = settings;
    this.scheduler = scheduler;
    this.ownsScheduler = ownsScheduler;
    this.serial = new SerialExecutor(scheduler);
    this.backoff = new Backoff(settings.initialBackoff(), settings.maxBackoff(), settings.random());
    this.pollInterval = settings.defaultPollInterval();
  }

  Optional<PolicySet> current() {
    return Optional.ofNullable(current);
  }

  void start() {
    // Built here, not in the constructor: the client starts its selector thread at once.
    http = HttpClient.newBuilder()
        .sslContext(settings.tls())
        .sslParameters(Tls.parameters(settings.tls()))
        .proxy(settings.proxySelector())
        .connectTimeout(settings.connectTimeout())
        .followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1)
        // The client's own work runs on the agent's executor, and inline once that is closed,
        // so exchanges cancelled at close() can still complete inside the client.
        .executor(task -> {
          if (serial.isClosed()) {
            task.run();
          } else {
            serial.execute(task);
          }
        })
        .build();
    serial.execute(this::boot);
  }

  void pollNow() {
    serial.execute(this::poll);
  }

  /**
   * Stops within about {@code timeout}: cancels exchanges, closes the push socket, releases the
   * state directory. Called from the agent's own thread (a listener), it shuts down inline; if an
   * applier hangs past the timeout, the socket and the directory are released regardless.
   */
  void close(Duration timeout) {
    if (serial.isRunningTasksOnThisThread()) {
      shutDown();
    } else {
      CountDownLatch stopped = new CountDownLatch(1);
      serial.execute(() -> {
        try {
          shutDown();
        } finally {
          stopped.countDown();
        }
      });
      try {
        if (!stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("the agent did not stop within {} (a PolicyApplier still running?); releasing its socket"
              + " and state directory and interrupting it", timeout);
          releaseResources();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        releaseResources();
      }
    }
    serial.close();
    if (ownsScheduler) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    shutDownHttpClient();
  }

  /**
   * Java 21 can stop an HttpClient at once ({@code shutdownNow}; its {@code close} would wait for
   * a parked long poll). On 17 the client's selector thread ends once the client is unreachable
   * and its exchanges, cancelled by {@link #shutDown}, are done.
   */
  private void shutDownHttpClient() {
    if (http == null) {
      return;
    }
    try {
      HttpClient.class.getMethod("shutdownNow").invoke(http);
    } catch (NoSuchMethodException e) {
      // Java 17.
    } catch (ReflectiveOperationException e) {
      log.debug("stopping the HTTP client: {}", e.toString());
    }
    http = null;
  }

  /** What must not outlive close() even while the agent's thread is stuck: the socket and the lock. */
  private void releaseResources() {
    PushConnection connection = push;
    if (connection != null) {
      connection.closeConnection(CloseFrame.GOING_AWAY, "agent closing");
    }
    StateDirectory directory = state;
    if (directory != null) {
      directory.close();
    }
  }

  // ---------------------------------------------------------------- start

  private void boot() {
    try {
      state = StateDirectory.open(settings.stateDirectory());
    } catch (PolicyAgentException e) {
      stop(e);
      return;
    }
    try {
      identity = readIdentity().orElse(null);
    } catch (PolicyAgentException e) {
      stop(e);
      return;
    }
    if (identity != null) {
      verifier = verifierFor(identity);
      if (verifier == null) {
        identity = null;
      }
    }
    if (identity == null) {
      if (settings.enrollmentToken() == null) {
        stop(new PolicyAgentException(Kind.NOT_ENROLLED, "no credential in " + state.path()
            + " and no enrollment token to get one"));
        return;
      }
      phase = Phase.ENROLLING;
      enroll();
      return;
    }
    enforceLastKnownGood();
    phase = Phase.POLLING;
    // Enforcing already: spread the fleet's first polls over the jitter window (a restarted
    // office should not poll in one second). With nothing in force, ask at once.
    Duration delay = enforcing ? fraction(pollInterval, settings.random().nextDouble() * jitterPercent / 100.0)
        : Duration.ZERO;
    schedulePoll(delay);
  }

  /**
   * The saved identity. Only a file found corrupt is set aside; one that cannot be read now (a
   * virus scanner holding it, a permission) stops the agent and stays, so a passing I/O error
   * never un-enrolls an endpoint.
   */
  private Optional<Identity> readIdentity() throws PolicyAgentException {
    try {
      return state.readIdentity();
    } catch (PolicyAgentException e) {
      if (e.kind() != Kind.STATE_CORRUPT) {
        throw e;
      }
      report(e);
      setAside(StateDirectory.IDENTITY);
      setAside(StateDirectory.POLICY_SET);
      return Optional.empty();
    }
  }

  private Verifier verifierFor(Identity identity) {
    try {
      List<PublicSigningKey> keys = new ArrayList<>();
      KeyFactory factory = KeyFactory.getInstance(PublicSigningKey.ALGORITHM);
      for (SigningKeyInfo key : identity.signingKeys()) {
        if (!PublicSigningKey.ALGORITHM.equals(key.algorithm())) {
          continue; // a later algorithm this agent does not know; sets signed with it are unknown-key
        }
        keys.add(new PublicSigningKey(key.keyId(),
            factory.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(key.publicKey())))));
      }
      return new Verifier(keys, TenantId.of(identity.tenantId()), AgentId.of(identity.agentId()),
          settings.clockSkew());
    } catch (GeneralSecurityException | IllegalArgumentException | ValidationException e) {
      report(new PolicyAgentException(Kind.STATE_CORRUPT,
          "the saved identity holds an unusable signing key or id (" + e.getMessage() + "); enrolling again", e));
      setAside(StateDirectory.IDENTITY);
      setAside(StateDirectory.POLICY_SET);
      return null;
    }
  }

  /** Puts the saved set back in force before any network call: a restart while the server is down still enforces. */
  private void enforceLastKnownGood() {
    Optional<StoredPolicySet> stored;
    try {
      stored = state.readPolicySet();
    } catch (PolicyAgentException e) {
      report(e);
      if (e.kind() == Kind.STATE_CORRUPT) {
        setAside(StateDirectory.POLICY_SET);
      }
      return;
    }
    if (stored.isEmpty()) {
      return;
    }
    Verifier.Verdict verdict = verifier.reload(stored.get().policySet().getBytes(StandardCharsets.UTF_8));
    if (verdict instanceof Rejected rejected) {
      report(new PolicyAgentException(Kind.STATE_CORRUPT, state.path().resolve(StateDirectory.POLICY_SET)
          + " does not verify (" + rejected.rejection().message() + "); treating it as absent"));
      setAside(StateDirectory.POLICY_SET);
      return;
    }
    Verified verified = ((Accepted) verdict).verified();
    inForce = verified;
    pollInterval = clamp(Optional.ofNullable(stored.get().pollIntervalSeconds()).map(Duration::ofSeconds)
        .orElse(verified.set().pollInterval()));
    jitterPercent = clampJitter(Optional.ofNullable(stored.get().pollJitterPercent())
        .orElse(settings.defaultJitterPercent()));
    PolicySet set = verified.set();
    if (expired(set) && settings.lockDown() != null) {
      staleNow(set);
      return;
    }
    ApplyResult result = apply(set);
    if (result.succeeded()) {
      enforcing = true;
      etag = stored.get().etag();
      current = set;
      notifyListener(listener -> listener.applied(set));
      // Said again: the report of the last run may not have reached the server before it stopped.
      queueReport(new AgentMessages.StatusReport(set.revision(), AgentState.APPLIED, ""));
    } else {
      rejected(new Rejection(Rejection.Reason.APPLY_FAILED, OptionalLong.of(set.revision()), result.message()));
    }
    scheduleStaleCheck();
  }

  // ---------------------------------------------------------------- enrollment

  private void enroll() {
    if (phase != Phase.ENROLLING) {
      return;
    }
    AgentMessages.EnrollRequest body = new AgentMessages.EnrollRequest(
        settings.enrollmentToken(), agentName(), settings.labels());
    HttpRequest request = HttpRequest.newBuilder(server().resolve("v1/agent/enroll"))
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(body)))
        .build();
    send(request, this::enrolled);
  }

  private void enrolled(HttpResponse<byte[]> response, Throwable failure) {
    if (phase != Phase.ENROLLING) {
      return;
    }
    if (failure != null) {
      nextEnrollment = schedule(this::enroll, retryDelay(unavailable("enrolling at " + server(), failure), true,
          Duration.ZERO));
      return;
    }
    int status = response.statusCode();
    if (status == 201) {
      EnrollResponse answer;
      try {
        answer = Json.read(response.body(), EnrollResponse.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS);
      } catch (ValidationException e) {
        nextEnrollment = schedule(this::enroll, retryDelay(new PolicyAgentException(Kind.UNEXPECTED_RESPONSE,
            "the enrollment answer is unusable: " + e.getMessage(), e), false, Duration.ZERO));
        return;
      }
      Identity enrolled = new Identity(answer.agentId(), answer.tenantId(), answer.credential(), answer.signingKeys());
      Verifier candidate = verifierFor(enrolled);
      if (candidate == null) {
        stop(new PolicyAgentException(Kind.UNEXPECTED_RESPONSE, "the server sent unusable signing keys"));
        return;
      }
      try {
        state.writeIdentity(enrolled);
      } catch (PolicyAgentException e) {
        // Without a saved credential a restart would need a new token: stop rather than run on borrowed time.
        stop(e);
        return;
      }
      identity = enrolled;
      verifier = candidate;
      failures = 0;
      pollInterval = clamp(Duration.ofSeconds(answer.pollIntervalSeconds()));
      jitterPercent = clampJitter(answer.pollJitterPercent());
      log.info("enrolled as agent {} of tenant {}", answer.agentId(), answer.tenantId());
      notifyListener(listener -> listener.enrolled(AgentId.of(answer.agentId()), TenantId.of(answer.tenantId())));
      phase = Phase.POLLING;
      poll();
    } else if (status == 401 || status == 400) {
      stop(new PolicyAgentException(Kind.ENROLLMENT_REFUSED, "the server refused the enrollment: "
          + describe(response)));
    } else {
      nextEnrollment = schedule(this::enroll, retryDelay(problem(response), status >= 500, retryAfter(response)));
    }
  }

  // ---------------------------------------------------------------- polling

  private void poll() {
    if (phase != Phase.POLLING) {
      return;
    }
    if (pollInFlight) {
      pollRequested = true;
      return;
    }
    cancel(nextPoll);
    cancel(catchUpPoll); // a poll sent after the socket re-opened is the catch-up
    catchUpPoll = null;
    Duration wait = settings.longPoll() ? min(pollInterval, MAX_LONG_POLL) : Duration.ZERO;
    String query = wait.isZero() ? "" : "?wait=" + wait.toSeconds();
    HttpRequest.Builder request = HttpRequest.newBuilder(server().resolve("v1/agent/policies" + query))
        .timeout(REQUEST_TIMEOUT.plus(wait))
        .header("Authorization", "Bearer " + identity.credential())
        .header("Accept", "application/json")
        .GET();
    String sentEtag = sentEtag();
    if (sentEtag != null) {
      // Only the ETag of a set that is in force: a failed one must come again (opa#2220).
      request.header("If-None-Match", sentEtag);
    }
    pollInFlight = true;
    long started = System.nanoTime();
    send(request.build(), (response, failure) -> polled(response, failure, started, wait, sentEtag));
  }

  /** The ETag a poll sends now: that of the set in force, if any. */
  private String sentEtag() {
    return enforcing && etag != null && !etag.isEmpty() ? etag : null;
  }

  /**
   * Whether to park the next long poll at once: after a set that moved this agent on (the next
   * poll, with its new ETag, parks), or after a wait the server really held. A set that was
   * rejected or failed to apply, or a server that answers at once (no long polls, a low cap),
   * waits for the interval instead: never a tight loop.
   */
  private static boolean parkAgain(Duration wait, boolean movedOn, Duration took) {
    return !wait.isZero() && (movedOn || took.compareTo(wait.dividedBy(2)) >= 0);
  }

  private void polled(HttpResponse<byte[]> response, Throwable failure, long started, Duration wait,
      String sentEtag) {
    pollInFlight = false;
    if (phase != Phase.POLLING) {
      return;
    }
    if (failure != null) {
      schedulePoll(retryDelay(unavailable("polling " + server(), failure), true, Duration.ZERO));
      return;
    }
    int status = response.statusCode();
    if (status == 200 || status == 304) {
      lastPollAnswered = settings.clock().instant();
      pollingSettings(response);
      inStep();
      if (status == 200) {
        received(response.body(), response.headers().firstValue("ETag").orElse(""));
      }
      flushReport();
      startPush();
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      boolean movedOn = status == 200 && !Objects.equals(sentEtag, sentEtag());
      schedulePoll(pollRequested || parkAgain(wait, movedOn, took)
          ? Duration.ZERO : max(Duration.ZERO, jittered(pollInterval).minus(took)));
      pollRequested = false;
    } else if (status == 401) {
      revoked();
    } else {
      schedulePoll(retryDelay(problem(response), status >= 500, retryAfter(response)));
    }
  }

  private void received(byte[] body, String receivedEtag) {
    Optional<Baseline> baseline = Optional.ofNullable(inForce).map(Baseline::of);
    Verifier.Verdict verdict = verifier.verify(body, baseline, settings.clock().instant());
    if (verdict instanceof Rejected rejected) {
      rejected(rejected.rejection());
      return;
    }
    Verified verified = ((Accepted) verdict).verified();
    PolicySet set = verified.set();
    boolean apply = verified.kind() == Verifier.Kind.NEW || !enforcing;
    if (apply) {
      ApplyResult result = apply(set);
      if (!result.succeeded()) {
        rejected(new Rejection(Rejection.Reason.APPLY_FAILED, OptionalLong.of(set.revision()), result.message()));
        return;
      }
    }
    try {
      state.writePolicySet(new StoredPolicySet(receivedEtag, new String(body, StandardCharsets.UTF_8),
          pollInterval.toSeconds(), jitterPercent));
    } catch (PolicyAgentException e) {
      // In force, but a restart would come back with the older set: say so, and carry on.
      report(e);
    }
    inForce = verified;
    enforcing = true;
    etag = receivedEtag;
    current = set;
    staleReported = false;
    scheduleStaleCheck();
    if (apply) {
      log.info("applied revision {} ({} policies)", set.revision(), set.policies().size());
      notifyListener(listener -> listener.applied(set));
      queueReport(new AgentMessages.StatusReport(set.revision(), AgentState.APPLIED, ""));
    }
  }

  private void rejected(Rejection rejection) {
    log.warn("rejected a policy set: {}", rejection.message());
    notifyListener(listener -> listener.rejected(rejection));
    long revision = rejection.revision().orElse(inForce == null ? 0 : inForce.set().revision());
    String message = rejection.message();
    // The server keeps this much; more would only make every report bigger.
    if (message.length() > AgentStatus.MAX_MESSAGE_LENGTH) {
      message = message.substring(0, AgentStatus.MAX_MESSAGE_LENGTH);
    }
    queueReport(new AgentMessages.StatusReport(revision, AgentState.FAILED, message));
  }

  private void pollingSettings(HttpResponse<byte[]> response) {
    // The headers win over the set's own field: the tenant may have changed them since it was signed.
    response.headers().firstValue(AgentMessages.POLL_INTERVAL_HEADER).flatMap(AgentEngine::parseLong)
        .ifPresent(seconds -> pollInterval = clamp(Duration.ofSeconds(seconds)));
    response.headers().firstValue(AgentMessages.POLL_JITTER_HEADER).flatMap(AgentEngine::parseLong)
        .ifPresent(percent -> jitterPercent = clampJitter(percent));
  }

  private void inStep() {
    failures = 0;
    if (!ready) {
      ready = true;
      notifyListener(PolicyAgentListener::ready);
    }
  }

  private void schedulePoll(Duration delay) {
    cancel(nextPoll);
    nextPoll = schedule(this::poll, delay);
  }

  /** The interval moved by up to ± the jitter percent, uniformly. */
  private Duration jittered(Duration interval) {
    double spread = jitterPercent / 100.0;
    return fraction(interval, 1 + spread * (2 * settings.random().nextDouble() - 1));
  }

  private void revoked() {
    log.warn("the server refused this agent's credential: revoked; enforcing the last-known-good set");
    phase = Phase.STOPPED;
    cancel(nextPoll);
    cancel(catchUpPoll);
    stopPush();
    notifyListener(PolicyAgentListener::revoked);
  }

  // ---------------------------------------------------------------- expiry

  private boolean expired(PolicySet set) {
    return settings.clock().instant().isAfter(set.expiresAt().plus(settings.clockSkew()));
  }

  private void scheduleStaleCheck() {
    cancel(staleCheck);
    if (inForce == null || staleReported) {
      return;
    }
    Instant due = inForce.set().expiresAt().plus(settings.clockSkew());
    Duration delay = max(Duration.ZERO, Duration.between(settings.clock().instant(), due)).plusMillis(1);
    staleCheck = schedule(this::checkStale, delay);
  }

  private void checkStale() {
    if (inForce == null || staleReported || phase == Phase.CLOSED) {
      return;
    }
    if (expired(inForce.set())) {
      staleNow(inForce.set());
    } else {
      scheduleStaleCheck();
    }
  }

  private void staleNow(PolicySet set) {
    staleReported = true;
    Consumer<PolicySet> lockDown = settings.lockDown();
    if (lockDown != null) {
      // Fail closed: the expired set is no longer in force; the next good set is applied in full.
      log.warn("revision {} expired at {}: failing closed", set.revision(), set.expiresAt());
      enforcing = false;
      current = null;
      try {
        lockDown.accept(set);
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        log.error("the fail-closed handler threw", e);
      }
    } else {
      log.warn("revision {} expired at {} and no fresher set could be fetched; still enforcing it",
          set.revision(), set.expiresAt());
    }
    notifyListener(listener -> listener.stale(set));
  }

  // ---------------------------------------------------------------- status reports

  private void queueReport(AgentMessages.StatusReport report) {
    if (report.equals(lastReported) || report.equals(pendingReport)) {
      return; // the same rejection at every poll is said once
    }
    pendingReport = report;
    flushReport();
  }

  private void flushReport() {
    if (pendingReport == null || reportInFlight || phase != Phase.POLLING) {
      return;
    }
    AgentMessages.StatusReport report = pendingReport;
    HttpRequest request = HttpRequest.newBuilder(server().resolve("v1/agent/status"))
        .timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + identity.credential())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(report)))
        .build();
    reportInFlight = true;
    send(request, (response, failure) -> {
      reportInFlight = false;
      if (phase != Phase.POLLING) {
        return;
      }
      if (failure == null && response.statusCode() == 204) {
        lastReported = report;
        if (report.equals(pendingReport)) {
          pendingReport = null;
        }
        flushReport();
      } else if (failure == null && response.statusCode() == 401) {
        revoked();
      } else {
        // Kept; the next successful poll sends it again.
        log.debug("status report not delivered: {}", failure != null ? failure.toString() : describe(response));
      }
    });
  }

  // ---------------------------------------------------------------- push

  private void startPush() {
    if (!settings.push() || push != null || pushTimer != null || phase != Phase.POLLING) {
      return;
    }
    URI base = server();
    URI uri = URI.create(("https".equals(base.getScheme()) ? "wss" : "ws") + base.toString()
        .substring(base.getScheme().length())).resolve("v1/agent/notifications");
    Proxy proxy = settings.proxySelector().select(base).stream()
        .filter(candidate -> candidate.type() == Proxy.Type.HTTP).findFirst().orElse(null);
    PushConnection[] holder = new PushConnection[1];
    holder[0] = new PushConnection(uri, identity.credential(), settings.tls(), proxy, settings.clock(),
        () -> serial.execute(() -> pushOpened(holder[0])),
        revision -> serial.execute(() -> pushed(holder[0], revision)),
        code -> serial.execute(() -> pushClosed(holder[0], code)));
    push = holder[0];
    pushOpenedAt = null;
    push.connect();
  }

  private void pushOpened(PushConnection connection) {
    if (connection != push) {
      return;
    }
    pushOpenedAt = settings.clock().instant();
    pushTimer = schedule(this::watchPush, settings.pushSilenceTimeout().dividedBy(3));
    awaitingGreeting = pushEverOpened;
    if (pushEverOpened) {
      // A change may have come and gone while the socket was down. The server's greeting (the
      // tenant's revision, its first message on every socket) tells; a server that sends none is
      // caught up with by this poll, spread over the jitter window so that a fleet reconnecting
      // after a restart does not poll in one second.
      catchUpWithin(fraction(pollInterval, settings.random().nextDouble() * Math.max(jitterPercent, 10) / 100.0));
    }
    pushEverOpened = true;
  }

  /** Polls after {@code delay}, unless a poll is due sooner anyway. */
  private void catchUpWithin(Duration delay) {
    if (nextPoll != null && !nextPoll.isDone() && nextPoll.getDelay(TimeUnit.NANOSECONDS) <= delay.toNanos()) {
      return;
    }
    cancel(catchUpPoll);
    catchUpPoll = schedule(() -> {
      catchUpPoll = null;
      poll();
    }, delay);
  }

  /**
   * A notification on the socket in force: the tenant stood at {@code revision} after the socket
   * joined the server's push channel, so any later publish comes on it too. An agent with that
   * revision missed nothing and needs no catch-up poll; one behind it polls now, or, right after a
   * reconnect, at its catch-up poll (already spread over the jitter window).
   */
  private void pushed(PushConnection connection, long revision) {
    if (connection != push) {
      return;
    }
    boolean greeting = awaitingGreeting;
    awaitingGreeting = false;
    if (enforcing && inForce != null && revision <= inForce.set().revision()) {
      cancel(catchUpPoll);
      catchUpPoll = null;
      if (greeting) {
        pollAnIntervalAfterTheGreeting();
      }
      return;
    }
    if (catchUpPoll == null) {
      poll();
    }
  }

  /**
   * A re-opened socket's greeting showed this agent in step, which is what the poll due now would
   * find out: the next poll comes an interval from now instead, but never later than two intervals
   * after the last answered poll, so polling stays the source of truth under a socket that keeps
   * re-opening. After a server restart this spares the node a handshake for every agent whose poll
   * (or whose retry of a poll the outage failed) falls due while the fleet reconnects. Long polls
   * are left alone: their agents want a poll parked.
   */
  private void pollAnIntervalAfterTheGreeting() {
    if (settings.longPoll() || pollInFlight || lastPollAnswered == null || nextPoll == null || nextPoll.isDone()) {
      return;
    }
    Duration bound = Duration.between(settings.clock().instant(), lastPollAnswered.plus(pollInterval.multipliedBy(2)));
    Duration delay = min(jittered(pollInterval), bound);
    if (delay.toNanos() > nextPoll.getDelay(TimeUnit.NANOSECONDS)) {
      schedulePoll(delay);
    }
  }

  private void pushClosed(PushConnection connection, int code) {
    if (connection != push) {
      return;
    }
    push = null;
    cancel(pushTimer);
    pushTimer = null;
    if (phase != Phase.POLLING) {
      return;
    }
    pushFailures++;
    Instant now = settings.clock().instant();
    if (pushFailingSince == null) {
      pushFailingSince = now;
    }
    if (pushOpenedAt == null && settings.servers().size() > 1) {
      // The server did not take the socket at all (down, unreachable, 5xx): the next server is
      // tried now, as a failed poll would, instead of waiting up to an interval for the next poll
      // to find out. Polls follow; servers are equivalent nodes.
      serverIndex = (serverIndex + 1) % settings.servers().size();
    }
    // At least a second, plus full jitter: never the whole fleet at the same instant, and after a
    // short outage not much later than it lasted.
    Duration delay = MIN_INTERVAL.plus(backoff.delay(pushFailures, Duration.between(pushFailingSince, now)));
    log.debug("push socket closed ({}); reconnecting in {}", code, delay);
    pushTimer = schedule(() -> {
      pushTimer = null;
      startPush();
    }, delay);
  }

  /** The server pings every half minute or so: a socket silent for longer is dead, whatever TCP thinks. */
  private void watchPush() {
    PushConnection connection = push;
    if (connection == null) {
      return;
    }
    Instant now = settings.clock().instant();
    if (pushOpenedAt != null && Duration.between(pushOpenedAt, now).compareTo(settings.pushSilenceTimeout()) > 0) {
      // Up for a while: the server is really back, so the next drop backs off from the start.
      // Reset on open instead, a server accepting and dropping sockets would get a 1 s loop.
      pushFailures = 0;
      pushFailingSince = null;
    }
    Duration silent = Duration.between(connection.lastHeard(), now);
    if (silent.compareTo(settings.pushSilenceTimeout()) > 0) {
      log.debug("push socket silent for {}; dropping it", silent);
      connection.closeConnection(CloseFrame.ABNORMAL_CLOSE, "silent for " + silent);
      return;
    }
    pushTimer = schedule(this::watchPush, settings.pushSilenceTimeout().dividedBy(3));
  }

  private void stopPush() {
    cancel(pushTimer);
    pushTimer = null;
    PushConnection connection = push;
    push = null;
    if (connection != null) {
      connection.close(CloseFrame.GOING_AWAY, "agent stopping");
      // The close handshake runs on the socket's own threads; give it a moment, then cut it.
      schedule(() -> {
        if (!connection.isClosed()) {
          connection.closeConnection(CloseFrame.GOING_AWAY, "agent stopping");
        }
      }, PUSH_CLOSE_GRACE);
    }
  }

  // ---------------------------------------------------------------- failures

  /**
   * How long to wait before trying again: full-jitter backoff, but never longer than a regular
   * poll would wait (the jittered interval), or the server's Retry-After if longer. The cap keeps
   * the promise that an agent is in step within one interval and its jitter of the server's
   * return, however long the outage. A failure of the server itself (unreachable, 5xx) moves to
   * the next server URI first.
   */
  private Duration retryDelay(PolicyAgentException problem, boolean failOver, Duration retryAfter) {
    failures++;
    if (failOver && settings.servers().size() > 1) {
      serverIndex = (serverIndex + 1) % settings.servers().size();
    }
    Duration delay = max(min(backoff.delay(failures), jittered(pollInterval)), retryAfter);
    log.debug("{}; retrying in {}", problem.getMessage(), delay);
    report(problem);
    return delay;
  }

  private void stop(PolicyAgentException problem) {
    log.error("the agent stopped: {}", problem.getMessage());
    phase = Phase.STOPPED;
    cancel(nextPoll);
    cancel(catchUpPoll);
    cancel(nextEnrollment);
    stopPush();
    report(problem);
  }

  private void shutDown() {
    phase = Phase.CLOSED;
    cancel(nextPoll);
    cancel(catchUpPoll);
    cancel(nextEnrollment);
    cancel(staleCheck);
    cancel(pushTimer);
    for (CompletableFuture<?> exchange : List.copyOf(exchanges)) {
      exchange.cancel(true); // the JDK aborts the exchange, a parked long poll included
    }
    exchanges.clear();
    if (push != null) {
      PushConnection connection = push;
      push = null;
      cancel(pushTimer);
      connection.close(CloseFrame.GOING_AWAY, "agent closing");
      try {
        // Bounded: a server that does not answer the close frame gets its socket cut.
        if (!connection.awaitClosed(PUSH_CLOSE_GRACE)) {
          connection.closeConnection(CloseFrame.GOING_AWAY, "agent closing");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (state != null) {
      state.close();
    }
  }

  // ---------------------------------------------------------------- plumbing

  private URI server() {
    return settings.servers().get(serverIndex);
  }

  private void send(HttpRequest request, ResponseHandler handler) {
    CompletableFuture<HttpResponse<byte[]>> answer;
    try {
      answer = http.sendAsync(request, LimitedBody.handler(settings.maxResponseBytes()));
    } catch (RuntimeException e) {
      serial.execute(() -> handler.handle(null, e));
      return;
    }
    exchanges.add(answer);
    answer.whenCompleteAsync((response, failure) -> {
      exchanges.remove(answer);
      try {
        handler.handle(response, failure);
      } catch (RuntimeException e) {
        log.error("internal error handling {} {}", request.method(), request.uri().getPath(), e);
        keepPolling();
      }
    }, serial);
  }

  /** After an internal error in a handler: whatever happened, the agent must poll again. */
  private void keepPolling() {
    if (phase == Phase.POLLING && !pollInFlight && (nextPoll == null || nextPoll.isDone())) {
      schedulePoll(pollInterval);
    }
  }

  @FunctionalInterface
  private interface ResponseHandler {
    void handle(HttpResponse<byte[]> response, Throwable failure);
  }

  private ApplyResult apply(PolicySet set) {
    try {
      ApplyResult result = settings.applier().apply(set);
      return result != null ? result : ApplyResult.failure("the PolicyApplier returned null");
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      log.warn("the PolicyApplier threw on revision {}", set.revision(), e);
      return ApplyResult.failure("the PolicyApplier threw " + e);
    }
  }

  private void notifyListener(Consumer<PolicyAgentListener> event) {
    try {
      event.accept(settings.listener());
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      log.warn("a PolicyAgentListener threw", e);
    }
  }

  private void report(PolicyAgentException problem) {
    notifyListener(listener -> listener.error(problem));
  }

  /** Moves a corrupt file out of the way (kept as {@code *.corrupt} for a post-mortem). */
  private void setAside(String file) {
    try {
      state.setAside(file);
    } catch (PolicyAgentException e) {
      report(e);
    }
  }

  private String agentName() {
    if (settings.agentName() != null) {
      return settings.agentName();
    }
    String fromEnvironment = System.getenv("HOSTNAME");
    if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      return fromEnvironment.strip();
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "agent";
    }
  }

  /** Null once the agent's own scheduler has shut down: nothing is to run after close(). */
  private ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    try {
      return scheduler.schedule(() -> serial.execute(task), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  private static void cancel(ScheduledFuture<?> future) {
    if (future != null) {
      future.cancel(false);
    }
  }

  private static PolicyAgentException unavailable(String what, Throwable failure) {
    Throwable cause = failure.getCause() != null && failure instanceof java.util.concurrent.CompletionException
        ? failure.getCause() : failure;
    return new PolicyAgentException(Kind.SERVER_UNAVAILABLE, what + " failed: " + cause, cause);
  }

  private static PolicyAgentException problem(HttpResponse<byte[]> response) {
    Kind kind = response.statusCode() >= 500 || response.statusCode() == 429
        ? Kind.SERVER_UNAVAILABLE : Kind.UNEXPECTED_RESPONSE;
    return new PolicyAgentException(kind, response.request().method() + " " + response.uri().getPath()
        + " answered " + describe(response));
  }

  /** {@code 503 Service Unavailable: this node holds 10000 long polls} from a problem+json body. */
  static String describe(HttpResponse<byte[]> response) {
    String description = Integer.toString(response.statusCode());
    try {
      JsonNode problem = Json.readTree(response.body());
      String title = problem.path("title").asText("");
      String detail = problem.path("detail").asText("");
      description += title.isEmpty() ? "" : " " + title;
      description += detail.isEmpty() ? "" : ": " + detail;
    } catch (ValidationException | NullPointerException e) {
      // Not problem+json; the status says enough.
    }
    return description;
  }

  private static Duration retryAfter(HttpResponse<byte[]> response) {
    return response.headers().firstValue("Retry-After").flatMap(AgentEngine::parseLong)
        .filter(seconds -> seconds >= 0)
        .map(seconds -> Duration.ofSeconds(Math.min(seconds, MAX_INTERVAL.toSeconds())))
        .orElse(Duration.ZERO);
  }

  private static Optional<Long> parseLong(String value) {
    try {
      return Optional.of(Long.parseLong(value.strip()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Duration clamp(Duration interval) {
    return max(MIN_INTERVAL, min(interval, MAX_INTERVAL));
  }

  private static int clampJitter(long percent) {
    return (int) Math.max(0, Math.min(percent, 50));
  }

  private static Duration fraction(Duration duration, double factor) {
    return Duration.ofNanos((long) (duration.toNanos() * factor));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  /**
   * Runs tasks one at a time, in order, on whatever executor it is given: the agent's own thread,
   * or a scheduler an application shares with it. Tasks after {@link #close()} are dropped.
   */
  static final class SerialExecutor implements Executor {
    private final Executor base;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;
    private volatile boolean closed;
    private volatile Thread runner;

    SerialExecutor(Executor base) {
      this.base = base;
    }

    @Override
    public void execute(Runnable task) {
      synchronized (this) {
        if (closed) {
          return;
        }
        tasks.add(task);
        if (running) {
          return;
        }
        running = true;
      }
      try {
        base.execute(this::drain);
      } catch (RuntimeException e) {
        synchronized (this) {
          running = false;
          tasks.clear();
        }
      }
    }

    private void drain() {
      runner = Thread.currentThread();
      try {
        drainTasks();
      } finally {
        runner = null;
      }
    }

    private void drainTasks() {
      while (true) {
        Runnable task;
        synchronized (this) {
          task = closed ? null : tasks.poll();
          if (task == null) {
            running = false;
            return;
          }
        }
        try {
          task.run();
        } catch (VirtualMachineError e) {
          synchronized (this) {
            running = false;
          }
          throw e;
        } catch (Throwable e) {
          log.error("internal error in the agent", e);
        }
      }
    }

    synchronized void close() {
      closed = true;
      tasks.clear();
    }

    boolean isClosed() {
      return closed;
    }

    /** Whether the caller is one of this executor's tasks (a listener calling close(), say). */
    boolean isRunningTasksOnThisThread() {
      return runner == Thread.currentThread();
    }
  }
}
