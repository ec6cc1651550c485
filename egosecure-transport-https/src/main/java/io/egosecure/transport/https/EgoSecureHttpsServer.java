package io.egosecure.transport.https;

import static java.util.Objects.requireNonNull;

import io.egosecure.core.PolicyServer;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ready HTTPS server for the v1 API: one connector, TLS 1.3 and 1.2, the agent and admin APIs,
 * push, health and metrics. Closing it stops accepting, lets requests in flight finish (up to the
 * stop timeout), then stops.
 *
 * <pre>{@code
 * try (EgoSecureHttpsServer https = EgoSecureHttpsServer.builder(policyServer)
 *     .tls(TlsConfig.pem(cert, key)).port(8443).build()) {
 *   https.start();
 *   log.info("serving at {}", https.uri());
 * }
 * }</pre>
 */
public final class EgoSecureHttpsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EgoSecureHttpsServer.class);

  private final Server server;
  private final ServerConnector connector;
  private final EgoSecureHandler handler;
  private final boolean secure;
  private final String host;

  private EgoSecureHttpsServer(Builder builder) {
    QueuedThreadPool threads = new QueuedThreadPool(builder.maxThreads);
    threads.setName("egosecure-https");
    this.server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(builder.limits.maxRequestHeaderBytes());
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    // Jetty's per-connection cache of request header fields costs about 100 KiB of heap for each
    // kept connection (measured with 5,000 agents), and an agent's headers (its credential, its
    // ETag) are its own: with one kept connection per agent it saves nothing and bounds the fleet.
    http.setHeaderCacheSize(0);
    this.secure = builder.tls != null;
    if (secure) {
      // No SNI/Host check: agents may reach the server by a name the certificate does not carry
      // (a load balancer, an alias), and a single-site server has no other host to confuse.
      http.addCustomizer(new SecureRequestCustomizer(false));
      SslConnectionFactory tls = new SslConnectionFactory(builder.tls.sslContextFactory(), HttpVersion.HTTP_1_1.asString());
      this.connector = new ServerConnector(server, builder.acceptors, builder.ioThreads, tls, new OneReaderHttpConnectionFactory(http));
    } else {
      this.connector = new ServerConnector(server, builder.acceptors, builder.ioThreads, new OneReaderHttpConnectionFactory(http));
    }
    this.host = builder.host;
    connector.setHost(builder.host);
    connector.setPort(builder.port);
    connector.setIdleTimeout(builder.limits.idleTimeout().toMillis());
    server.addConnector(connector);
    EgoSecureHandler.Builder handlerBuilder = EgoSecureHandler.builder(builder.policyServer).limits(builder.limits);
    this.handler = handlerBuilder.build(server);
    server.setHandler(new GracefulHandler(handler));
    server.setStopTimeout(builder.stopTimeout.toMillis());
    server.setStopAtShutdown(false);
  }

  /**
   * HTTP/1 connections that read their socket on one thread at a time. Jetty 12.1.14 refuses a
   * request it cannot parse (a 431 for headers past the limit, say) and, when that answer is sent,
   * resumes reading on a second thread while the first is still leaving {@code onFillable}; the
   * first then gives the request buffer back to the pool as the second fills it, and the next
   * connection to take that buffer parses another client's bytes as its own request (found by
   * FuzzIT; {@code AdminApiIT.aRequestRefusedMidBodyLeavesTheNextConnectionAlone} replays it).
   * Here the resumed reader waits for the first to leave, then takes a buffer of its own, so
   * pooled buffers stay pooled. The lock is contended only in that hand-over.
   */
  static final class OneReaderHttpConnectionFactory extends HttpConnectionFactory {
    OneReaderHttpConnectionFactory(HttpConfiguration http) {
      super(http);
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
      HttpConnection connection = new HttpConnection(getHttpConfiguration(), connector, endPoint) {
        private final Lock reading = new ReentrantLock();

        @Override
        public void onFillable() {
          reading.lock();
          try {
            super.onFillable();
          } finally {
            reading.unlock();
          }
        }
      };
      connection.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
      return configure(connection, connector, endPoint);
    }
  }

  public static Builder builder(PolicyServer policyServer) {
    return new Builder(policyServer);
  }

  /** Binds and starts serving. The policy server must have been started. */
  public void start() {
    if (!secure) {
      log.warn("SERVING PLAIN HTTP on {}:{}: credentials and policies cross the network unencrypted. "
          + "Use this for local development only.", host, connector.getPort());
    }
    try {
      server.start();
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException("cannot start the HTTPS server on " + host + ":" + connector.getPort() + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (useful with port 0), valid after {@link #start()}. */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code https://host:port/} as bound; a wildcard host is reported as {@code localhost}. */
  public URI uri() {
    String name = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    if (name.contains(":")) {
      name = "[" + name + "]";
    }
    return URI.create((secure ? "https" : "http") + "://" + name + ":" + port() + "/");
  }

  /** Threads of the server's pool running a job now (parked long polls hold none). */
  int busyThreads() {
    return ((QueuedThreadPool) server.getThreadPool()).getBusyThreads();
  }

  /** The handler inside, for its meters. */
  public EgoSecureHandler handler() {
    return handler;
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      log.warn("stopping the HTTPS server failed: {}", e.toString());
    }
  }

  /** Configures an {@link EgoSecureHttpsServer}. {@link #tls} or {@link #insecureHttp} is required. */
  public static final class Builder {
    private static final int MAX_IO_THREADS = 64;
    private static final int MAX_ACCEPTORS = 8;
    private static final int POOL_HEADROOM = 4;
    private final PolicyServer policyServer;
    private String host = "0.0.0.0";
    private int port = 8443;
    private TlsConfig tls;
    private boolean insecure;
    private TransportLimits limits = TransportLimits.defaults();
    private int maxThreads = 200;
    /** -1: Jetty's defaults. */
    private int ioThreads = -1;
    private int acceptors = -1;
    private Duration stopTimeout = Duration.ofSeconds(10);

    private Builder(PolicyServer policyServer) {
      this.policyServer = requireNonNull(policyServer, "policyServer == null");
    }

    /** The address to bind. Default {@code 0.0.0.0}. */
    public Builder host(String host) {
      this.host = requireNonNull(host, "host == null");
      return this;
    }

    /** The port; 0 picks a free one. Default 8443. */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    public Builder tls(TlsConfig tls) {
      this.tls = requireNonNull(tls, "tls == null");
      return this;
    }

    /** Plain HTTP, for local development only; the server logs a warning when it starts. */
    public Builder insecureHttp() {
      this.insecure = true;
      return this;
    }

    public Builder limits(TransportLimits limits) {
      this.limits = requireNonNull(limits, "limits == null");
      return this;
    }

    /** Request threads at most. Default 200; parked long polls hold none. */
    public Builder maxThreads(int maxThreads) {
      if (maxThreads < 8) {
        throw new IllegalArgumentException("maxThreads cannot be less than 8, was " + maxThreads);
      }
      this.maxThreads = maxThreads;
      return this;
    }

    /**
     * Threads that read, decrypt and parse requests (Jetty's selectors), and answer unchanged
     * polls from memory without a hand-off. Default: Jetty's, half the cores (1 on 2 cores).
     */
    public Builder ioThreads(int ioThreads) {
      if (ioThreads < 1 || ioThreads > MAX_IO_THREADS) {
        throw new IllegalArgumentException("ioThreads must be 1 to " + MAX_IO_THREADS + ", was " + ioThreads);
      }
      this.ioThreads = ioThreads;
      return this;
    }

    /**
     * Threads that accept connections; 0 lets the I/O threads accept too. Default: Jetty's (1
     * below 16 cores).
     */
    public Builder acceptors(int acceptors) {
      if (acceptors < 0 || acceptors > MAX_ACCEPTORS) {
        throw new IllegalArgumentException("acceptors must be 0 to " + MAX_ACCEPTORS + ", was " + acceptors);
      }
      this.acceptors = acceptors;
      return this;
    }

    /** How long {@link #close()} waits for requests in flight. Default 10 s. */
    public Builder stopTimeout(Duration stopTimeout) {
      this.stopTimeout = requireNonNull(stopTimeout, "stopTimeout == null");
      return this;
    }

    /** @throws IllegalStateException unless exactly one of TLS and plain HTTP was chosen */
    public EgoSecureHttpsServer build() {
      if (tls == null && !insecure) {
        throw new IllegalStateException("tls is required (or insecureHttp() for local development)");
      }
      if (tls != null && insecure) {
        throw new IllegalStateException("choose tls or insecureHttp(), not both");
      }
      // Jetty takes acceptors and I/O threads from the pool and keeps a few for itself.
      int fixed = Math.max(acceptors, 1) + Math.max(ioThreads, 1) + POOL_HEADROOM;
      if (maxThreads < fixed) {
        throw new IllegalStateException("maxThreads (" + maxThreads + ") cannot be less than acceptors + ioThreads + "
            + POOL_HEADROOM + " (" + fixed + ")");
      }
      return new EgoSecureHttpsServer(this);
    }
  }
}
