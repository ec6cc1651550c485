package io.egosecure.agent;

import io.egosecure.core.model.PolicySet;
import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy agent an endpoint embeds: it enrolls once, then polls the server for the PolicySet
 * that targets it, verifies it, hands it to your {@link PolicyApplier}, keeps it on disk as the
 * last-known-good set, and reports what it applied.
 *
 * <pre>{@code
 * PolicyAgent agent = PolicyAgent.builder()
 *     .server(URI.create("https://policies.example.com/"))
 *     .trustCertificates(Path.of("/etc/myapp/egosecure-ca.pem"))
 *     .enrollmentToken(System.getenv("EGOSECURE_TOKEN")) // first start only
 *     .stateDirectory(Path.of("/var/lib/myapp/egosecure"))
 *     .applier(set -> { deviceControl.apply(set.policies()); return ApplyResult.success(); })
 *     .build();
 * agent.start();   // returns at once; never throws for the network or the server
 * ...
 * agent.close();   // bounded; no thread of the agent's survives
 * }</pre>
 *
 * <p>At {@link #start()} the agent re-applies the set saved in its state directory before any
 * network call, so a restart while the server is down still enforces policy. A set is applied only
 * if its Ed25519 signature verifies with a key received at enrollment, it names this tenant and
 * agent, its revision is not older than the one in force, and it has not expired (see {@link
 * Rejection.Reason}); anything else is rejected, reported to the server, and never applied.
 *
 * <p>Polls follow the server's interval with jitter over one kept-alive HTTPS connection; push
 * (a WebSocket) only makes a poll come sooner. Failures back off exponentially with full jitter and
 * honour {@code Retry-After}. Nothing is thrown into the application's threads: problems reach the
 * {@link PolicyAgentListener}.
 *
 * <p>Threads: one of the agent's own plus the HTTP client's selector; push adds the WebSocket
 * client's two. Several agents may run in one JVM, each with its own state directory.
 */
public final class PolicyAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PolicyAgent.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final AgentSettings settings;
  private final AgentEngine engine;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  private PolicyAgent(AgentSettings settings, ScheduledExecutorService scheduler, boolean ownsScheduler) {
    this.settings = settings;
    this.engine = new AgentEngine(settings, scheduler, ownsScheduler);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the agent and returns at once: re-applies the last-known-good set, enrolls if it has no
   * credential, then polls.
   *
   * @throws IllegalStateException if started before, or closed
   */
  public void start() {
    if (closed.get()) {
      throw new IllegalStateException("this agent is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("this agent is started already");
    }
    log.debug("starting: {}", settings);
    engine.start();
  }

  /** The set in force: applied successfully and not withdrawn by failing closed. */
  public Optional<PolicySet> current() {
    return engine.current();
  }

  /**
   * Polls now rather than at the next interval, for an application that knows something changed.
   * Coalesces with a poll under way.
   */
  public void pollNow() {
    engine.pollNow();
  }

  /**
   * Stops polling and push, waits for an apply in progress (up to five seconds, then interrupts
   * it) and releases the state directory. The set in force stays on disk for the next start.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      engine.close(CLOSE_TIMEOUT);
    }
  }

  /** Settings for a {@link PolicyAgent}; {@link #build()} checks them. */
  public static final class Builder {
    private final List<URI> servers = new ArrayList<>();
    private final List<X509Certificate> trustAnchors = new ArrayList<>();
    private final Set<String> pins = new LinkedHashSet<>();
    private final Map<String, String> labels = new LinkedHashMap<>();
    private KeyStore clientKeys;
    private char[] clientKeyPassword;
    private boolean insecureHttp;
    private ProxySelector proxySelector;
    private String enrollmentToken;
    private String agentName;
    private Path stateDirectory;
    private PolicyApplier applier;
    private PolicyAgentListener listener = new PolicyAgentListener() {};
    private boolean push = true;
    private boolean longPoll;
    private Consumer<PolicySet> lockDown;
    private Duration clockSkew = Duration.ofMinutes(5);
    private Duration maxBackoff = Duration.ofMinutes(5);
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration pushSilenceTimeout = Duration.ofSeconds(75);
    private long maxResponseBytes = 16L << 20;
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;
    private RandomGenerator random;

    private Builder() {}

    /**
     * A server to talk to, e.g. {@code https://policies.example.com/}. Give several to fail over:
     * the agent tries them in order and stays on the one that answers.
     */
    public Builder server(URI uri) {
      Objects.requireNonNull(uri, "uri == null");
      if (uri.getScheme() == null || uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
          || uri.getRawUserInfo() != null) {
        // User info would be a password in a URI, and URIs get logged.
        throw new IllegalArgumentException("a server is an absolute https URI without user info, query or fragment");
      }
      String text = uri.toString();
      servers.add(URI.create(text.endsWith("/") ? text : text + "/"));
      return this;
    }

    /** Trusts the CA certificate(s) in a PEM file, instead of the system's trust store. */
    public Builder trustCertificates(Path pemFile) {
      Objects.requireNonNull(pemFile, "pemFile == null");
      try {
        return trustCertificates(Files.readString(pemFile, StandardCharsets.US_ASCII));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + pemFile + ": " + e.getMessage(), e);
      }
    }

    /** Trusts the CA certificate(s) in a PEM text, instead of the system's trust store. */
    public Builder trustCertificates(String pem) {
      Objects.requireNonNull(pem, "pem == null");
      trustAnchors.addAll(Tls.certificates(pem));
      return this;
    }

    /**
     * Also requires one of the server's certificate chain keys to be this one, as {@code
     * sha256/<base64 of the SHA-256 of its SubjectPublicKeyInfo>} ({@code openssl x509 -pubkey
     * -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64}). Give
     * a backup pin too, or a key rotation locks the agents out.
     */
    public Builder pinPublicKey(String pin) {
      Objects.requireNonNull(pin, "pin == null");
      Tls.checkPin(pin);
      pins.add(pin);
      return this;
    }

    /** A client certificate for servers that authenticate agents by mTLS. */
    public Builder clientCertificate(KeyStore keyStore, char[] password) {
      clientKeys = Objects.requireNonNull(keyStore, "keyStore == null");
      clientKeyPassword = Objects.requireNonNull(password, "password == null").clone();
      return this;
    }

    /** Proxies to use (default: the JVM's, {@link ProxySelector#getDefault()}). */
    public Builder proxy(ProxySelector selector) {
      proxySelector = Objects.requireNonNull(selector, "selector == null");
      return this;
    }

    /**
     * Allows {@code http://} servers, for development against a server started with
     * {@code --insecure-http}. Never in production: credentials and policies travel in clear.
     */
    public Builder insecureHttpForDevelopment() {
      insecureHttp = true;
      return this;
    }

    /** The enrollment token; used only when the state directory holds no credential yet. */
    public Builder enrollmentToken(String token) {
      enrollmentToken = Objects.requireNonNull(token, "token == null");
      return this;
    }

    /** The name administrators see for this agent (default: the host name). */
    public Builder agentName(String name) {
      agentName = Objects.requireNonNull(name, "name == null");
      return this;
    }

    /** A label sent at enrollment, e.g. {@code os=linux}. */
    public Builder label(String key, String value) {
      labels.put(Objects.requireNonNull(key, "key == null"), Objects.requireNonNull(value, "value == null"));
      return this;
    }

    /**
     * Where the agent keeps its credential and its last-known-good set (created owner-only if
     * missing). Required; one agent per directory.
     */
    public Builder stateDirectory(Path directory) {
      stateDirectory = Objects.requireNonNull(directory, "directory == null");
      return this;
    }

    /** Puts verified sets into force. Required. */
    public Builder applier(PolicyApplier applier) {
      this.applier = Objects.requireNonNull(applier, "applier == null");
      return this;
    }

    public Builder listener(PolicyAgentListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener == null");
      return this;
    }

    /** Whether to hold a WebSocket the server pushes change notices on (default on). */
    public Builder push(boolean enabled) {
      push = enabled;
      return this;
    }

    /**
     * Whether each poll waits at the server for a change (up to the poll interval, at most 60 s;
     * default off), so changes arrive at once even where WebSockets cannot pass.
     */
    public Builder longPoll(boolean enabled) {
      longPoll = enabled;
      return this;
    }

    /**
     * Fails closed: when the set in force expires and no fresh one can be fetched, the agent stops
     * enforcing it and calls {@code lockDown} (on its own thread) so the application can fall back
     * to its most restrictive behaviour. Without this, an expired set stays in force and the
     * listener hears {@link PolicyAgentListener#stale}.
     */
    public Builder failClosed(Consumer<PolicySet> lockDown) {
      this.lockDown = Objects.requireNonNull(lockDown, "lockDown == null");
      return this;
    }

    /** How far this clock may be from the server's when checking validity (default 5 minutes). */
    public Builder clockSkew(Duration skew) {
      Objects.requireNonNull(skew, "skew == null");
      if (skew.isNegative()) {
        throw new IllegalArgumentException("clock skew cannot be negative, was " + skew);
      }
      clockSkew = skew;
      return this;
    }

    /** The longest wait between retries when the server is unreachable (default 5 minutes). */
    public Builder maxBackoff(Duration max) {
      Objects.requireNonNull(max, "max == null");
      if (max.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("max backoff cannot be under 1 s, was " + max);
      }
      maxBackoff = max;
      return this;
    }

    /**
     * How long a push socket may stay silent before the agent drops and reopens it (default 75 s,
     * two and a half of the server's default ping intervals).
     */
    public Builder pushSilenceTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout == null");
      if (timeout.compareTo(Duration.ofSeconds(3)) < 0) {
        throw new IllegalArgumentException("push silence timeout cannot be under 3 s, was " + timeout);
      }
      pushSilenceTimeout = timeout;
      return this;
    }

    /**
     * The largest response the agent reads (default 16 MiB, far above a set of a thousand
     * policies); a bigger one fails the exchange and is retried with backoff.
     */
    public Builder maxResponseBytes(long bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxResponseBytes cannot be under 1 KiB, was " + bytes);
      }
      maxResponseBytes = bytes;
      return this;
    }

    /** The clock validity is checked against (default the system's, UTC). For tests. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock == null");
      return this;
    }

    /**
     * Runs the agent on the application's scheduler instead of a thread of its own. The agent
     * still runs one task at a time, and does not shut the scheduler down; give it one with
     * {@code setRemoveOnCancelPolicy(true)}, so a timer the agent cancels at close is dropped.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler == null");
      return this;
    }

    /** Test hook: seeds the jitter. */
    Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random == null");
      return this;
    }

    /** Test hook: the first retry's ceiling (default 1 s). */
    Builder initialBackoff(Duration initial) {
      initialBackoff = Objects.requireNonNull(initial, "initial == null");
      return this;
    }

    /**
     * Checks the settings and builds the agent; it starts nothing until {@link PolicyAgent#start()}.
     *
     * @throws IllegalStateException naming the first setting missing
     * @throws IllegalArgumentException naming a setting that does not fit the others
     */
    public PolicyAgent build() {
      if (servers.isEmpty()) {
        throw new IllegalStateException("server(URI) is required");
      }
      for (URI server : servers) {
        boolean http = "http".equalsIgnoreCase(server.getScheme());
        if (!"https".equalsIgnoreCase(server.getScheme()) && !(http && insecureHttp)) {
          throw new IllegalArgumentException(http
              ? "refusing http://" + server.getAuthority() + ": use https, or insecureHttpForDevelopment()"
              : "a server URI is https://, not " + server);
        }
      }
      if (stateDirectory == null) {
        throw new IllegalStateException("stateDirectory(Path) is required");
      }
      if (applier == null) {
        throw new IllegalStateException("applier(PolicyApplier) is required");
      }
      boolean ownScheduler = scheduler == null;
      ScheduledExecutorService executor = ownScheduler ? ownThread(stateDirectory) : scheduler;
      AgentSettings settings = new AgentSettings(
          servers,
          Tls.context(trustAnchors, pins, clientKeys, clientKeyPassword),
          proxySelector != null ? proxySelector : ProxySelector.getDefault(),
          Duration.ofSeconds(10),
          enrollmentToken,
          agentName, // null: the host name, looked up when enrolling
          labels,
          stateDirectory,
          applier,
          listener,
          push,
          longPoll,
          lockDown,
          clockSkew,
          clock,
          random != null ? random : RandomGenerator.getDefault(),
          initialBackoff,
          maxBackoff.compareTo(initialBackoff) < 0 ? initialBackoff : maxBackoff,
          pushSilenceTimeout,
          Duration.ofSeconds(60),
          10,
          maxResponseBytes);
      return new PolicyAgent(settings, executor, ownScheduler);
    }

    /** A thread of the agent's own, named after its state directory; started by the first task. */
    private static ScheduledExecutorService ownThread(Path stateDirectory) {
      Path name = stateDirectory.toAbsolutePath().getFileName();
      ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
        Thread thread = new Thread(task, "egosecure-agent-" + (name == null ? "" : name));
        thread.setDaemon(true); // an embedded agent must not keep its host's JVM alive
        return thread;
      });
      executor.setRemoveOnCancelPolicy(true);
      executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      return executor;
    }
  }
}
