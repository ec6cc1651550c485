package io.egosecure.transport.https;

import static java.util.Objects.requireNonNull;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.PolicyServerListener;
import io.egosecure.core.UnauthenticatedException;
import io.egosecure.core.model.TenantId;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;

/**
 * The v1 API as a Jetty 12 {@link Handler}, for integrators with a Jetty server of their own:
 * the agent and admin APIs, health and metrics, and the push socket on the same paths.
 *
 * <pre>{@code
 * Server jetty = ...; // your connectors, TLS, thread pool
 * jetty.setHandler(EgoSecureHandler.builder(policyServer).build(jetty));
 * jetty.start();
 * }</pre>
 *
 * <p>Starting the handler (with its server) subscribes the push channel to the policy server and
 * starts a daemon thread that pings push sockets; stopping it undoes both. The policy server
 * itself is the caller's to start and close. {@link EgoSecureHttpsServer} wraps all of this for
 * those without a Jetty server.
 */
public final class EgoSecureHandler extends Handler.Wrapper implements Graceful {
  static final String NOTIFICATIONS_PATH = "/v1/agent/notifications";
  /** Agents send nothing but pongs (and a close); anything larger is a protocol error. */
  static final int PUSH_MAX_INCOMING_BYTES = 4096;

  private final PolicyServer policyServer;
  private final TransportLimits limits;
  private final PushHub pushHub;
  private final Transport transport;
  private final ApiHandler api;
  private final PolicyServerListener publishCounter;
  private ScheduledExecutorService pinger;

  private EgoSecureHandler(Builder builder, Server server) {
    this.policyServer = builder.policyServer;
    this.limits = builder.limits;
    this.pushHub = new PushHub(policyServer::currentRevision, Transport.pushBroadcastTimer(builder.meterRegistry));
    this.transport = new Transport(policyServer, limits, builder.meterRegistry, builder.clock, pushHub);
    this.api = new ApiHandler(transport);
    this.publishCounter = new PolicyServerListener() {
      @Override
      public void revisionPublished(TenantId tenant, long revision) {
        transport.published();
      }
    };
    WebSocketUpgradeHandler upgrade = new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server));
    upgrade.addMapping(NOTIFICATIONS_PATH, new PushNegotiator());
    // Bodies are read on request threads: a sender slower than the minimum rate is cut off, so
    // a few hundred trickling connections cannot hold every thread.
    upgrade.setHandler(new MinimumRateForBodies(api, limits.minRequestBytesPerSecond()));
    setHandler(new PollsOnTheIoThread(new UpgradeUrisChecked(upgrade), api));
    server.setErrorHandler(new ProblemErrorHandler());
  }

  public static Builder builder(PolicyServer policyServer) {
    return new Builder(policyServer);
  }

  /** The meters of this handler (Prometheus); {@code GET /metrics} serves them to operators. */
  public PrometheusMeterRegistry meterRegistry() {
    return transport.registry();
  }

  Routes routes() {
    return api.routes();
  }

  boolean answersPollsOnTheIoThread() {
    return ((PollsOnTheIoThread) getHandler()).onIoThread;
  }

  int openPushSockets() {
    return pushHub.openSockets();
  }

  @Override
  protected void doStart() throws Exception {
    pushHub.executor(getServer().getThreadPool());
    policyServer.addListener(pushHub);
    policyServer.addListener(publishCounter);
    pinger = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "egosecure-push-ping");
      thread.setDaemon(true);
      return thread;
    });
    long every = limits.pushPingInterval().toMillis();
    pinger.scheduleWithFixedDelay(pushHub::pingAll, every, every, TimeUnit.MILLISECONDS);
    super.doStart();
  }

  /** Called by Jetty when a graceful stop begins: parked polls are answered at once. */
  @Override
  public CompletableFuture<Void> shutdown() {
    api.releaseParked();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public boolean isShutdown() {
    return true;
  }

  @Override
  protected void doStop() throws Exception {
    super.doStop();
    policyServer.removeListener(pushHub);
    policyServer.removeListener(publishCounter);
    pinger.shutdownNow();
  }

  /**
   * Authenticates the upgrade and sizes the socket for what push sends: short notifications out,
   * nothing but pongs in. Extensions are refused: compressing 50-byte messages gains nothing and
   * a deflater per socket would cost more than the socket.
   */
  private final class PushNegotiator extends WebSocketNegotiator.AbstractNegotiator {
    PushNegotiator() {
      setIdleTimeout(limits.pushPingInterval().multipliedBy(3));
      setMaxTextMessageSize(PUSH_MAX_INCOMING_BYTES);
      setMaxBinaryMessageSize(PUSH_MAX_INCOMING_BYTES);
      setMaxFrameSize(PUSH_MAX_INCOMING_BYTES);
    }

    @Override
    public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
      if (pushHub.openSockets() >= limits.maxPushSockets()) {
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "30");
        Response.writeError(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503,
            "this node holds " + limits.maxPushSockets() + " push sockets, its limit");
        return null;
      }
      try {
        Call call = new Call(request, Map.of(), transport);
        AgentIdentity agent = call.agent();
        response.setExtensions(List.of());
        return pushHub.socketFor(agent);
      } catch (UnauthenticatedException e) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"egosecure\"");
        Response.writeError(request, response, callback, HttpStatus.UNAUTHORIZED_401, e.getMessage());
        return null;
      } catch (HttpProblem e) {
        e.headers.forEach((name, value) -> response.getHeaders().put(name, value));
        Response.writeError(request, response, callback, e.problem.status, e.getMessage());
        return null;
      }
    }
  }

  /**
   * Answers an upgrade whose query is not percent-encoded UTF-8 with the 400 it is. Jetty's
   * handshake makes a {@link java.net.URI} of the request's URI and decodes its query before any
   * negotiator runs, and what either throws (a bad escape such as {@code %zz}; escapes that are
   * not UTF-8 such as {@code %FF%FE}) became a 500 (found by FuzzIT). Requests that are not
   * upgrades meet the same check where their query is read ({@link Call#query}).
   */
  static final class UpgradeUrisChecked extends Handler.Wrapper {
    UpgradeUrisChecked(Handler upgrade) {
      super(upgrade);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      if (request.getHttpURI().getQuery() != null && request.getHeaders().contains(HttpHeader.UPGRADE)) {
        try {
          request.getHttpURI().toURI();
          Request.extractQueryParameters(request);
        } catch (IllegalArgumentException e) {
          Response.writeError(request, response, callback, HttpStatus.BAD_REQUEST_400,
              "the query is not valid percent-encoded UTF-8");
          return true;
        }
      }
      return super.handle(request, response, callback);
    }
  }

  /**
   * Sends requests that carry a body through Jetty's minimum-data-rate check and the rest (every
   * poll) straight to the API: a request with nothing to read cannot read slowly, and the check's
   * request and response wrappers cost each poll more than the poll's own work.
   */
  static final class MinimumRateForBodies extends Handler.Wrapper {
    private final Handler api;

    MinimumRateForBodies(Handler api, long minRequestBytesPerSecond) {
      super(new MinimumDataRateHandler(api, minRequestBytesPerSecond, 0));
      this.api = api;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      return ApiHandler.mayHaveBody(request)
          ? super.handle(request, response, callback)
          : api.handle(request, response, callback);
    }
  }

  /**
   * Answers the request that makes up most of a fleet's traffic, a conditional poll whose ETag
   * is still current, on the I/O thread that parsed it, from memory: handing it to a pool thread
   * cost more than the answer (on 2 cores, a third of the throughput). Declaring the handler
   * non-blocking is what lets Jetty call it there, so everything else (bodies, the store, signing,
   * push upgrades, admin calls) is handed to the server's pool and handled as before.
   */
  static final class PollsOnTheIoThread extends Handler.Wrapper {
    private final ApiHandler api;
    /** Whether Jetty may call this on an I/O thread; false when a blocking handler around it made the server hand every request to the pool already. */
    private volatile boolean onIoThread = true;

    PollsOnTheIoThread(Handler next, ApiHandler api) {
      super(next);
      this.api = api;
    }

    @Override
    public InvocationType getInvocationType() {
      return InvocationType.NON_BLOCKING;
    }

    @Override
    protected void doStart() throws Exception {
      super.doStart();
      Server server = getServer();
      onIoThread = server == null || server.getInvocationType() == InvocationType.NON_BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      if (api.answerFromMemory(request, response, callback)) {
        return true;
      }
      if (!onIoThread) {
        return super.handle(request, response, callback);
      }
      try {
        request.getComponents().getExecutor().execute(() -> handleBlocking(request, response, callback));
      } catch (RejectedExecutionException e) {
        Response.writeError(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "the server is overloaded");
      }
      return true;
    }

    private void handleBlocking(Request request, Response response, Callback callback) {
      try {
        if (!super.handle(request, response, callback)) {
          Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
        }
      } catch (Throwable failure) {
        Response.writeError(request, response, callback, failure);
      }
    }
  }

  /** Configures an {@link EgoSecureHandler}. */
  public static final class Builder {
    private final PolicyServer policyServer;
    private TransportLimits limits = TransportLimits.defaults();
    private PrometheusMeterRegistry meterRegistry;
    private Clock clock = Clock.systemUTC();

    private Builder(PolicyServer policyServer) {
      this.policyServer = requireNonNull(policyServer, "policyServer == null");
    }

    /** Default: {@link TransportLimits#defaults()}. */
    public Builder limits(TransportLimits limits) {
      this.limits = requireNonNull(limits, "limits == null");
      return this;
    }

    /** Where the handler's meters go. Default: a new registry of its own. */
    public Builder meterRegistry(PrometheusMeterRegistry meterRegistry) {
      this.meterRegistry = requireNonNull(meterRegistry, "meterRegistry == null");
      return this;
    }

    /** The clock of the rate limiters. Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock == null");
      return this;
    }

    /** The handler, for {@code server}; sets the server's error handler to answer problem+json. */
    public EgoSecureHandler build(Server server) {
      requireNonNull(server, "server == null");
      if (meterRegistry == null) {
        meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // What bounds a node first (heap, threads, open files) belongs on the same page. A
        // registry the integrator gives is left alone: it binds its own, and once.
        new JvmMemoryMetrics().bindTo(meterRegistry);
        new JvmThreadMetrics().bindTo(meterRegistry);
        new FileDescriptorMetrics().bindTo(meterRegistry);
        new ProcessorMetrics().bindTo(meterRegistry);
        new UptimeMetrics().bindTo(meterRegistry);
      }
      return new EgoSecureHandler(this, server);
    }
  }
}
