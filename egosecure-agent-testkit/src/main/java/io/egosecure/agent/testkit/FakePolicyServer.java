package io.egosecure.agent.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.CanonicalPolicies;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import io.egosecure.core.wire.SignedPolicySet;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake EgoSecure server for testing an agent (and its {@code PolicyApplier}) without a real
 * server, in the spirit of OkHttp's MockWebServer. It speaks the v1 agent API over HTTPS on
 * {@code 127.0.0.1} with a fresh self-signed certificate, signs every PolicySet with its own
 * Ed25519 key, and records every request.
 *
 * <pre>{@code
 * try (FakePolicyServer server = FakePolicyServer.start()) {
 *   server.pollInterval(Duration.ofSeconds(1), 0);
 *   long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
 *
 *   // Start the agent under test against server.uri(), trusting server.certificatePem()
 *   // (or server.writeCertificate(path)), enrolling with server.enrollmentToken().
 *   startAgentUnderTest(server.uri(), server.certificatePem(), server.enrollmentToken());
 *
 *   AgentMessages.StatusReport report = server.takeStatusReport(Duration.ofSeconds(10));
 *   assertThat(report.revision()).isEqualTo(revision);
 *   assertThat(report.state()).isEqualTo(AgentState.APPLIED);
 *
 *   server.enqueue(FakeResponse.status(503).retryAfter(Duration.ofSeconds(2)));  // next answer
 *   server.revoke(server.agentIds().get(0));                                    // 401 from now on
 * }
 * }</pre>
 *
 * <p>What it answers (PROTOCOL.md, "Agent API"):
 *
 * <ul>
 *   <li>{@code POST /v1/agent/enroll} with a token from {@link #enrollmentToken()}: {@code 201}
 *       with the agent's id, credential, poll settings and this server's signing key. An unknown
 *       or used token: {@code 401}.
 *   <li>{@code GET /v1/agent/policies}: {@code 200} with the signed PolicySet of the current
 *       revision, or {@code 304} when {@code If-None-Match} names it; {@code ?wait=0..60} parks
 *       the poll until a {@link #publish}, {@link #reissue()} or the end of the wait. Before the
 *       first publish agents get revision 0 with no policies, signed.
 *   <li>{@code POST /v1/agent/status}: {@code 204}; the report is kept for {@link
 *       #takeStatusReport}.
 *   <li>{@code GET /v1/agent/notifications}: {@code 404}. The fake has no WebSocket push; an
 *       agent's regular poll (or long poll) picks up every change, which is what an agent must do
 *       anyway when push is down.
 * </ul>
 *
 * <p>Errors are {@code application/problem+json} as the real server's. {@link #enqueue} scripts
 * answers that replace the normal ones, first in, first out.
 *
 * <p>Thread-safe. Each request runs on a thread of its own (a parked long poll holds one), which
 * {@link #close()} stops.
 */
public final class FakePolicyServer implements AutoCloseable {
  public static final String ENROLL_PATH = "/v1/agent/enroll";
  public static final String POLICIES_PATH = "/v1/agent/policies";
  public static final String STATUS_PATH = "/v1/agent/status";
  public static final String NOTIFICATIONS_PATH = "/v1/agent/notifications";
  public static final String POLL_INTERVAL_HEADER = AgentMessages.POLL_INTERVAL_HEADER;
  public static final String POLL_JITTER_HEADER = AgentMessages.POLL_JITTER_HEADER;

  private static final Logger log = LoggerFactory.getLogger(FakePolicyServer.class);
  private static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(60);
  private static final int DEFAULT_JITTER_PERCENT = 10;
  private static final Duration DEFAULT_VALIDITY = Duration.ofDays(7);
  private static final int MAX_JITTER_PERCENT = 50;
  private static final long MAX_WAIT_SECONDS = 60;
  private static final int MAX_AGENT_BODY_BYTES = 64 * 1024;
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CLOSE_ANSWER_TIMEOUT = Duration.ofSeconds(1);

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final TenantId tenantId;
  private final SigningKey signingKey;
  private final SelfSignedCertificate certificate;
  private final ExecutorService executor;
  private final HttpsServer httpServer;
  private final URI uri;

  private final BlockingQueue<RecordedRequest> requests = new LinkedBlockingQueue<>();
  private final BlockingQueue<AgentMessages.StatusReport> statusReports = new LinkedBlockingQueue<>();
  private final AtomicInteger requestCount = new AtomicInteger();

  /** Guards everything below; parked long polls wait on it. */
  private final Object lock = new Object();
  /** Token to enrollments it has left. */
  private final Map<String, Integer> unusedTokens = new HashMap<>();
  private final Map<String, FakeAgent> agentsByCredential = new LinkedHashMap<>();
  private final Map<String, FakeAgent> agentsById = new LinkedHashMap<>();
  private final List<FakeResponse> script = new ArrayList<>();
  private Duration pollInterval = DEFAULT_POLL_INTERVAL;
  private int jitterPercent = DEFAULT_JITTER_PERCENT;
  private Duration validity = DEFAULT_VALIDITY;
  private Release current;
  private boolean closed;
  private int inFlight;

  /** What every agent gets now: one revision as of one issue time. */
  private record Release(long revision, Instant issuedAt, CanonicalPolicies policies) {}

  /** One agent's signed copy of a release; re-signed when the release or the validity changes. */
  private record SignedCopy(Release release, Duration validity, byte[] body, String etag) {}

  private static final class FakeAgent {
    final String id;
    final String credential;
    boolean revoked;
    int polls;
    SignedCopy copy;

    FakeAgent(String id, String credential) {
      this.id = id;
      this.credential = credential;
    }
  }

  private FakePolicyServer(Clock clock) {
    this.clock = clock;
    this.tenantId = TenantId.of("tenant-" + randomHex(6));
    this.signingKey = generateSigningKey();
    this.certificate = SelfSignedCertificate.create(random);
    this.current = new Release(0, now(), CanonicalPolicies.of(List.of()));
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory factory =
        runnable -> {
          Thread thread = new Thread(runnable, "fake-policy-server-" + threads.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        };
    this.executor = Executors.newCachedThreadPool(factory);
    try {
      InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
      this.httpServer = HttpsServer.create(new InetSocketAddress(loopback, 0), 0);
    } catch (IOException e) {
      executor.shutdownNow();
      throw new UncheckedIOException("cannot bind the fake policy server to 127.0.0.1", e);
    }
    httpServer.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
    httpServer.setExecutor(executor);
    httpServer.createContext("/", this::handle);
    this.uri = URI.create("https://127.0.0.1:" + httpServer.getAddress().getPort() + "/");
  }

  /** Starts a fake server on {@code 127.0.0.1}, on a free port, on the system clock. */
  public static FakePolicyServer start() {
    return start(Clock.systemUTC());
  }

  /**
   * Starts a fake server whose PolicySets are issued at {@code clock}'s time: give it the clock
   * your agent runs on, so its sets are neither expired nor not yet valid for the agent.
   */
  public static FakePolicyServer start(Clock clock) {
    Objects.requireNonNull(clock, "clock == null");
    FakePolicyServer server = new FakePolicyServer(clock);
    server.httpServer.start();
    log.debug("fake policy server for {} listening at {}", server.tenantId, server.uri);
    return server;
  }

  /** {@code https://127.0.0.1:PORT/}. */
  public URI uri() {
    return uri;
  }

  /** The server's self-signed certificate (PEM), which the agent under test must trust. */
  public String certificatePem() {
    return certificate.pem();
  }

  /** Writes {@link #certificatePem()} to {@code file} and returns it. */
  public Path writeCertificate(Path file) {
    Objects.requireNonNull(file, "file == null");
    try {
      return Files.writeString(file, certificatePem(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the certificate to " + file, e);
    }
  }

  /** The one tenant this server serves. */
  public String tenantId() {
    return tenantId.value();
  }

  /** The key every PolicySet is signed with, as agents receive it at enrollment. */
  public PublicSigningKey signingKey() {
    return signingKey.publicKey();
  }

  /** A fresh enrollment token, good for one enrollment. */
  public String enrollmentToken() {
    return enrollmentToken(1);
  }

  /** A fresh enrollment token, good for {@code uses} enrollments (a fleet sharing one token). */
  public String enrollmentToken(int uses) {
    if (uses < 1) {
      throw new IllegalArgumentException("a token is good for at least one enrollment, not " + uses);
    }
    String token = "enroll-" + randomSecret();
    synchronized (lock) {
      unusedTokens.put(token, uses);
    }
    return token;
  }

  /**
   * The interval and jitter the server tells agents, from now on, in the poll headers and the
   * enroll response. PolicySets signed later carry the interval too. Unlike the real server (5 s
   * at least) this takes intervals from one second, for fast tests.
   *
   * @return this server
   */
  public FakePolicyServer pollInterval(Duration interval, int jitterPercent) {
    Objects.requireNonNull(interval, "interval == null");
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("interval must be at least 1s, was " + interval);
    }
    if (jitterPercent < 0 || jitterPercent > MAX_JITTER_PERCENT) {
      throw new IllegalArgumentException(
          "jitterPercent must be 0 to " + MAX_JITTER_PERCENT + ", was " + jitterPercent);
    }
    synchronized (lock) {
      this.pollInterval = interval;
      this.jitterPercent = jitterPercent;
    }
    return this;
  }

  /**
   * How long after its {@code issuedAt} a PolicySet expires (default 7 days). Applies to every set
   * signed from now on, the current revision's included.
   *
   * @return this server
   */
  public FakePolicyServer validity(Duration validity) {
    Objects.requireNonNull(validity, "validity == null");
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity must be positive, was " + validity);
    }
    synchronized (lock) {
      this.validity = validity;
      lock.notifyAll();
    }
    return this;
  }

  /** A policy for {@link #publish}: named as its id, version 1. */
  public static PolicySet.Entry policy(String id, String kind, String settingsJson) {
    Objects.requireNonNull(settingsJson, "settingsJson == null");
    JsonNode settings;
    try {
      settings = Json.readTree(settingsJson.getBytes(StandardCharsets.UTF_8));
    } catch (ValidationException e) {
      throw new IllegalArgumentException("settingsJson is not JSON: " + e.getMessage(), e);
    }
    if (!(settings instanceof ObjectNode object)) {
      throw new IllegalArgumentException("settingsJson must be a JSON object, was " + settingsJson);
    }
    return new PolicySet.Entry(PolicyId.of(id), id, kind, 1, object);
  }

  /** Publishes a new revision holding exactly {@code policies}, for every agent. */
  public long publish(PolicySet.Entry... policies) {
    return publish(List.of(policies));
  }

  /**
   * Publishes a new revision holding exactly {@code policies} (ordered by id, as the real server
   * orders them), for every agent, and wakes parked long polls.
   *
   * @return the new revision
   */
  public long publish(List<PolicySet.Entry> policies) {
    List<PolicySet.Entry> sorted = new ArrayList<>(policies);
    sorted.sort(Comparator.comparing(PolicySet.Entry::id));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).id().equals(sorted.get(i - 1).id())) {
        throw new IllegalArgumentException("two policies have the id " + sorted.get(i).id());
      }
    }
    CanonicalPolicies canonical = CanonicalPolicies.of(sorted);
    synchronized (lock) {
      current = new Release(current.revision() + 1, now(), canonical);
      lock.notifyAll();
      log.debug("published revision {} with {} policies", current.revision(), sorted.size());
      return current.revision();
    }
  }

  /**
   * Re-issues the current revision as the real server does before it expires: same revision and
   * policies, a new {@code issuedAt} (now), {@code expiresAt} and ETag. Wakes parked long polls.
   *
   * @return the new {@code issuedAt}
   */
  public Instant reissue() {
    synchronized (lock) {
      Instant issuedAt = now();
      if (!issuedAt.isAfter(current.issuedAt())) {
        // A re-issue must move issuedAt forward, or agents would see an unchanged set.
        issuedAt = current.issuedAt().plusMillis(1);
      }
      current = new Release(current.revision(), issuedAt, current.policies());
      lock.notifyAll();
      return issuedAt;
    }
  }

  /** The current revision: 0 before the first publish. */
  public long revision() {
    synchronized (lock) {
      return current.revision();
    }
  }

  /**
   * Scripts the answer to the next agent-API request (or the next one to the response's {@link
   * FakeResponse#forPath path}); responses are served first in, first out, each once. The
   * request is recorded as usual; nothing else about the server changes.
   */
  public void enqueue(FakeResponse response) {
    Objects.requireNonNull(response, "response == null");
    synchronized (lock) {
      script.add(response);
    }
  }

  /**
   * A PolicySet signed by this server's key for its tenant, to craft sets for {@link
   * FakeResponse#policySet}: older revisions, expired sets, another agent's set.
   */
  public byte[] signedPolicySet(
      String agentId, long revision, Instant issuedAt, Instant expiresAt,
      List<PolicySet.Entry> policies) {
    Duration interval;
    synchronized (lock) {
      interval = pollInterval;
    }
    return sign(signingKey, tenantId, AgentId.of(agentId), revision, issuedAt, expiresAt, interval,
        sortedCopy(policies));
  }

  /**
   * A PolicySet signed by any key for any tenant, such as a {@link #generateSigningKey() foreign
   * key}, or a foreign key under this server's key id. Its {@code pollIntervalSeconds} is 60.
   */
  public static byte[] signedPolicySet(
      SigningKey key, String tenantId, String agentId, long revision, Instant issuedAt,
      Instant expiresAt, List<PolicySet.Entry> policies) {
    Objects.requireNonNull(key, "key == null");
    return sign(key, TenantId.of(tenantId), AgentId.of(agentId), revision, issuedAt, expiresAt,
        DEFAULT_POLL_INTERVAL, sortedCopy(policies));
  }

  /** A fresh Ed25519 key pair, named as the real server names keys. */
  public static SigningKey generateSigningKey() {
    try {
      KeyPair pair = KeyPairGenerator.getInstance(PublicSigningKey.ALGORITHM).generateKeyPair();
      return new SigningKey(PublicSigningKey.of(pair.getPublic()), pair.getPrivate());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java 15+ platform has Ed25519", e);
    }
  }

  /**
   * The next request received, in order, or {@code null} if none arrives within {@code timeout}.
   */
  public RecordedRequest takeRequest(Duration timeout) throws InterruptedException {
    return requests.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * The next status report the server accepted ({@code 204}), in order, or {@code null} if none
   * arrives within {@code timeout}.
   */
  public AgentMessages.StatusReport takeStatusReport(Duration timeout) throws InterruptedException {
    return statusReports.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Revokes an agent: its credential gets {@code 401} from now on, parked polls included. */
  public void revoke(String agentId) {
    synchronized (lock) {
      FakeAgent agent = agentsById.get(agentId);
      if (agent == null) {
        throw new IllegalArgumentException("no enrolled agent " + agentId + "; enrolled: " + agentsById.keySet());
      }
      agent.revoked = true;
      lock.notifyAll();
    }
  }

  /** The enrolled agents' ids, in enrollment order. */
  public List<String> agentIds() {
    synchronized (lock) {
      return List.copyOf(agentsById.keySet());
    }
  }

  /** How many {@code GET /v1/agent/policies} carried this agent's credential, whatever they got. */
  public int pollCount(String agentId) {
    synchronized (lock) {
      FakeAgent agent = agentsById.get(agentId);
      return agent == null ? 0 : agent.polls;
    }
  }

  /** How many requests the server has received, of any kind. */
  public int requestCount() {
    return requestCount.get();
  }

  /** Stops listening, answers parked polls and stops every thread of the server. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
      // Parked polls answer 503 now; let them write it before the connections close.
      long deadline = System.nanoTime() + CLOSE_ANSWER_TIMEOUT.toNanos();
      try {
        for (long left = CLOSE_ANSWER_TIMEOUT.toNanos(); inFlight > 0 && left > 0;
            left = deadline - System.nanoTime()) {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    httpServer.stop(0);
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("fake policy server threads still running {} after close", CLOSE_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- request handling ----

  private void handle(HttpExchange exchange) {
    synchronized (lock) {
      inFlight++;
    }
    try {
      answerAndRecord(exchange);
    } finally {
      synchronized (lock) {
        inFlight--;
        lock.notifyAll();
      }
    }
  }

  private void answerAndRecord(HttpExchange exchange) {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      byte[] body = readAtMost(exchange.getRequestBody(), MAX_AGENT_BODY_BYTES + 1);
      FakeAgent agent = agentFor(exchange.getRequestHeaders().getFirst("Authorization"));
      RecordedRequest request =
          new RecordedRequest(method, path, exchange.getRequestURI().getRawQuery(),
              exchange.getRequestHeaders(), body, agent == null ? null : agent.id);
      requestCount.incrementAndGet();
      requests.add(request);
      if (agent != null && path.equals(POLICIES_PATH) && method.equals("GET")) {
        synchronized (lock) {
          agent.polls++;
        }
      }
      log.debug("{} ({} bytes)", request, body.length);
      FakeResponse scripted = takeScripted(path);
      FakeResponse response = scripted != null ? scripted : answer(request, agent, body);
      send(exchange, response);
    } catch (IOException e) {
      // The client went away, or close() stopped the server mid-answer.
      log.debug("could not answer an agent: {}", e.toString());
    } catch (RuntimeException e) {
      log.error("the fake policy server failed on {} {}", exchange.getRequestMethod(),
          exchange.getRequestURI(), e);
    }
  }

  private FakeResponse answer(RecordedRequest request, FakeAgent agent, byte[] body) {
    String method = request.method();
    switch (request.path()) {
      case ENROLL_PATH:
        return method.equals("POST") ? enroll(request, body) : methodNotAllowed(method, "POST");
      case POLICIES_PATH:
        return method.equals("GET") ? poll(request, agent) : methodNotAllowed(method, "GET");
      case STATUS_PATH:
        return method.equals("POST") ? status(request, agent, body) : methodNotAllowed(method, "POST");
      case NOTIFICATIONS_PATH:
        return FakeResponse.problem(404, "not-found", "No such resource",
            "the fake policy server has no push channel; the agent's regular poll picks up every change");
      default:
        return FakeResponse.problem(404, "not-found", "No such resource",
            "no " + request.path() + " on the fake policy server");
    }
  }

  private FakeResponse enroll(RecordedRequest request, byte[] body) {
    FakeResponse unfit = unfitBody(request, body);
    if (unfit != null) {
      return unfit;
    }
    AgentMessages.EnrollRequest enroll;
    try {
      enroll = Json.read(body, AgentMessages.EnrollRequest.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS);
    } catch (ValidationException e) {
      return invalid(e.getMessage());
    }
    synchronized (lock) {
      Integer left = unusedTokens.remove(enroll.token());
      if (left == null) {
        return unauthenticated("unknown or used-up enrollment token");
      }
      if (left > 1) {
        unusedTokens.put(enroll.token(), left - 1);
      }
      FakeAgent agent = new FakeAgent("agent-" + randomHex(8), "agent-credential-" + randomSecret());
      agentsById.put(agent.id, agent);
      agentsByCredential.put(agent.credential, agent);
      log.debug("enrolled {} as {}", enroll.name(), agent.id);
      AgentMessages.EnrollResponse response =
          new AgentMessages.EnrollResponse(
              agent.id, tenantId.value(), agent.credential, pollInterval.toSeconds(), jitterPercent,
              List.of(AgentMessages.SigningKeyInfo.of(signingKey.publicKey())));
      return FakeResponse.json(201, Json.write(response));
    }
  }

  private FakeResponse poll(RecordedRequest request, FakeAgent agent) {
    if (agent == null || isRevoked(agent)) {
      return unauthenticated("a valid agent credential is required");
    }
    long waitSeconds;
    try {
      waitSeconds = waitSeconds(request.query());
    } catch (IllegalArgumentException e) {
      return invalid(e.getMessage());
    }
    String ifNoneMatch = request.header("If-None-Match").map(String::strip).orElse(null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
    synchronized (lock) {
      while (true) {
        if (closed) {
          return FakeResponse.problem(503, "overloaded", "The server is at capacity",
              "the fake policy server is stopping").header("Retry-After", "1");
        }
        if (agent.revoked) {
          return unauthenticated("a valid agent credential is required");
        }
        SignedCopy copy = copyFor(agent);
        if (!copy.etag().equals(ifNoneMatch)) {
          return withPollHeaders(FakeResponse.json(200, copy.body()).header("ETag", copy.etag()));
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return withPollHeaders(
              FakeResponse.status(304).header("ETag", copy.etag()).header("Cache-Control", "no-store"));
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, remaining);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return FakeResponse.problem(503, "overloaded", "The server is at capacity",
              "the fake policy server is stopping").header("Retry-After", "1");
        }
      }
    }
  }

  private FakeResponse status(RecordedRequest request, FakeAgent agent, byte[] body) {
    if (agent == null || isRevoked(agent)) {
      return unauthenticated("a valid agent credential is required");
    }
    FakeResponse unfit = unfitBody(request, body);
    if (unfit != null) {
      return unfit;
    }
    AgentMessages.StatusReport report;
    try {
      report = Json.read(body, AgentMessages.StatusReport.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS);
    } catch (ValidationException e) {
      return invalid(e.getMessage());
    }
    statusReports.add(report);
    log.debug("{} reports revision {} {}", agent.id, report.revision(), report.state());
    return FakeResponse.status(204);
  }

  /** 413 or 415 for a body the real server would refuse before reading it; null if it is fit. */
  private static FakeResponse unfitBody(RecordedRequest request, byte[] body) {
    if (body.length > MAX_AGENT_BODY_BYTES) {
      return FakeResponse.problem(413, "payload-too-large", "The request body is too large",
          "agent request bodies are limited to " + MAX_AGENT_BODY_BYTES + " bytes");
    }
    String contentType = request.header("Content-Type").orElse("");
    String mediaType = contentType.split(";", 2)[0].strip();
    if (!mediaType.equalsIgnoreCase(FakeResponse.JSON)) {
      return FakeResponse.problem(415, "unsupported-media-type", "The body must be application/json",
          "Content-Type must be application/json, was '" + contentType + "'");
    }
    return null;
  }

  /** The {@code wait} query parameter in seconds, 0 when absent. */
  private static long waitSeconds(String query) {
    for (String parameter : query.split("&")) {
      if (parameter.startsWith("wait=")) {
        String value = parameter.substring("wait=".length());
        long seconds;
        try {
          seconds = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("wait must be whole seconds from 0 to 60, was '" + value + "'");
        }
        if (seconds < 0 || seconds > MAX_WAIT_SECONDS) {
          throw new IllegalArgumentException("wait must be 0 to " + MAX_WAIT_SECONDS + " seconds, was " + seconds);
        }
        return seconds;
      }
    }
    return 0;
  }

  /** Must hold {@link #lock}. */
  private SignedCopy copyFor(FakeAgent agent) {
    SignedCopy copy = agent.copy;
    if (copy == null || copy.release() != current || !copy.validity().equals(validity)) {
      Release release = current;
      byte[] body =
          sign(signingKey, tenantId, AgentId.of(agent.id), release.revision(), release.issuedAt(),
              release.issuedAt().plus(validity), pollInterval, release.policies());
      copy = new SignedCopy(release, validity, body, etag(release.revision(), body));
      agent.copy = copy;
    }
    return copy;
  }

  private FakeResponse takeScripted(String path) {
    synchronized (lock) {
      for (Iterator<FakeResponse> it = script.iterator(); it.hasNext(); ) {
        FakeResponse response = it.next();
        if (response.matches(path)) {
          it.remove();
          return response.withPollHeaders() ? withPollHeaders(response) : response;
        }
      }
      return null;
    }
  }

  private FakeResponse withPollHeaders(FakeResponse response) {
    synchronized (lock) {
      FakeResponse withHeaders = response;
      if (response.firstHeader(POLL_INTERVAL_HEADER).isEmpty()) {
        withHeaders = withHeaders.header(POLL_INTERVAL_HEADER, Long.toString(pollInterval.toSeconds()));
      }
      if (response.firstHeader(POLL_JITTER_HEADER).isEmpty()) {
        withHeaders = withHeaders.header(POLL_JITTER_HEADER, Integer.toString(jitterPercent));
      }
      return withHeaders;
    }
  }

  private FakeAgent agentFor(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    synchronized (lock) {
      return agentsByCredential.get(authorization.substring(7).strip());
    }
  }

  private boolean isRevoked(FakeAgent agent) {
    synchronized (lock) {
      return agent.revoked;
    }
  }

  private static FakeResponse unauthenticated(String detail) {
    return FakeResponse.problem(401, "unauthenticated", "A valid credential is required", detail)
        .header("WWW-Authenticate", "Bearer realm=\"egosecure\"");
  }

  private static FakeResponse invalid(String detail) {
    return FakeResponse.problem(400, "invalid-request", "The request is invalid", detail);
  }

  private static FakeResponse methodNotAllowed(String method, String allowed) {
    return FakeResponse.problem(405, "method-not-allowed", "This method is not allowed here",
        method + " is not allowed here").header("Allow", allowed);
  }

  private static void send(HttpExchange exchange, FakeResponse response) throws IOException {
    response.headers().forEach((name, values) -> exchange.getResponseHeaders().put(name, values));
    byte[] body = response.bodyBytes();
    int status = response.statusCode();
    boolean bodiless = status == 204 || status == 304 || body.length == 0;
    // -1: no body at all, which 204 and 304 require.
    exchange.sendResponseHeaders(status, bodiless ? -1 : body.length);
    if (!bodiless) {
      exchange.getResponseBody().write(body);
    }
  }

  private static byte[] sign(
      SigningKey key, TenantId tenantId, AgentId agentId, long revision, Instant issuedAt,
      Instant expiresAt, Duration pollInterval, CanonicalPolicies policies) {
    SignedPolicySet signed =
        PolicySets.sign(tenantId, agentId, revision, issuedAt, expiresAt, pollInterval, policies, key);
    return signed.jsonString().getBytes(StandardCharsets.UTF_8);
  }

  private static CanonicalPolicies sortedCopy(List<PolicySet.Entry> policies) {
    Objects.requireNonNull(policies, "policies == null");
    List<PolicySet.Entry> sorted = new ArrayList<>(policies);
    sorted.sort(Comparator.comparing(PolicySet.Entry::id));
    return CanonicalPolicies.of(sorted);
  }

  /** Strong, quoted, opaque; changes whenever the bytes do. */
  private static String etag(long revision, byte[] body) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
      return "\"" + revision + "-" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** Stores keep milliseconds, so the fake's times look like the real server's. */
  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private String randomHex(int bytes) {
    byte[] value = new byte[bytes];
    random.nextBytes(value);
    return HexFormat.of().formatHex(value);
  }

  /** 256 random bits, as the real server's secrets. */
  private String randomSecret() {
    byte[] value = new byte[32];
    random.nextBytes(value);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(value);
  }

  private static byte[] readAtMost(InputStream in, int limit) throws IOException {
    byte[] body = in.readNBytes(limit);
    // Drain the rest so the connection stays usable for the answer.
    in.transferTo(OutputStream.nullOutputStream());
    return body;
  }
}
