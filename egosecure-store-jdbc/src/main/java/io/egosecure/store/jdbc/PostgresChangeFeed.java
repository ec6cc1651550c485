package io.egosecure.store.jdbc;

import static java.util.Objects.requireNonNull;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Change;
import io.egosecure.core.spi.ChangeFeed;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ChangeFeed} for several server nodes on one PostgreSQL database, over {@code
 * LISTEN}/{@code NOTIFY}: no broker beyond the database itself.
 *
 * <pre>{@code
 * PostgresChangeFeed feed = PostgresChangeFeed.builder("jdbc:postgresql://db:5432/egosecure")
 *     .user("egosecure").password(secret).build();
 * PolicyServer server = PolicyServer.builder().store(store).changeFeed(feed)...build();
 * }</pre>
 *
 * <p>{@link #publish} hands a change to this node's listeners at once and notifies the other
 * nodes. One thread per feed holds a dedicated connection that listens. Notifications are lost
 * while that connection is down, so each time it (re)connects, and every {@code
 * resynchronizeEvery} as a safety net for a node that died between its commit and its notify,
 * listeners are told to re-read everything. The thread starts with the first subscriber and stops
 * at {@link #close()}.
 */
public final class PostgresChangeFeed implements ChangeFeed {
  private static final Logger log = LoggerFactory.getLogger(PostgresChangeFeed.class);
  private static final int POLL_MILLIS = 250;
  private static final Duration LIVENESS_CHECK = Duration.ofSeconds(5);

  private final String jdbcUrl;
  private final Properties properties;
  private final String channel;
  private final Duration reconnectDelay;
  private final Duration maxReconnectDelay;
  private final Duration resynchronizeEvery;
  private final String nodeId;
  private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Object notifyLock = new Object();

  private Connection notifyConnection;
  private Thread thread;
  private volatile boolean closed;
  private volatile int listenerBackendPid;

  private PostgresChangeFeed(Builder builder) {
    this.jdbcUrl = builder.jdbcUrl;
    this.properties = new Properties();
    if (builder.user != null) {
      properties.setProperty("user", builder.user);
    }
    if (builder.password != null) {
      properties.setProperty("password", builder.password);
    }
    properties.setProperty("tcpKeepAlive", "true");
    // A half-open connection must fail, not hang a publish (and every admin write after it).
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("loginTimeout", "5");
    properties.setProperty("socketTimeout", "10");
    byte[] id = new byte[6];
    new SecureRandom().nextBytes(id);
    this.nodeId = HexFormat.of().formatHex(id);
    // Each node's listening session is told apart in pg_stat_activity.
    properties.setProperty("ApplicationName", "egosecure-change-feed " + nodeId);
    this.channel = builder.channel;
    this.reconnectDelay = builder.reconnectDelay;
    this.maxReconnectDelay = builder.maxReconnectDelay;
    this.resynchronizeEvery = builder.resynchronizeEvery;
  }

  public static Builder builder(String jdbcUrl) {
    return new Builder(jdbcUrl);
  }

  @Override
  public void publish(Change change) {
    requireNonNull(change, "change == null");
    // Other nodes first: this node's own reload (a tenant's agents, its revision) can wait.
    notifyOthers(change);
    deliver(listener -> listener.onChange(change));
  }

  private void notifyOthers(Change change) {
    String payload = nodeId + " " + encode(change);
    synchronized (notifyLock) {
      for (int attempt = 1; attempt <= 2; attempt++) {
        try {
          if (notifyConnection == null || notifyConnection.isClosed()) {
            notifyConnection = DriverManager.getConnection(jdbcUrl, properties);
          }
          try (PreparedStatement notify = notifyConnection.prepareStatement("SELECT pg_notify(?, ?)")) {
            notify.setString(1, channel);
            notify.setString(2, payload);
            notify.execute();
          }
          return;
        } catch (SQLException e) {
          closeQuietly(notifyConnection);
          notifyConnection = null;
          if (attempt == 2) {
            // The other nodes catch up at their next resynchronisation.
            log.error("could not notify other nodes of {}: {}", change, e.toString());
          }
        }
      }
    }
  }

  @Override
  public synchronized AutoCloseable subscribe(Listener listener) {
    requireNonNull(listener, "listener == null");
    if (closed) {
      throw new IllegalStateException("the change feed is closed");
    }
    listeners.add(listener);
    if (thread == null) {
      thread = new Thread(this::listen, "egosecure-change-feed");
      thread.setDaemon(true);
      thread.start();
    }
    return () -> listeners.remove(listener);
  }

  /** The backend process id of the listening connection, 0 while it is down (for tests). */
  int listenerBackendPid() {
    return listenerBackendPid;
  }

  private void listen() {
    Duration delay = reconnectDelay;
    while (!closed) {
      try (Connection connection = DriverManager.getConnection(jdbcUrl, properties)) {
        try (Statement statement = connection.createStatement()) {
          // The channel is checked to be a plain identifier by the builder.
          statement.execute("LISTEN " + channel);
        }
        PGConnection pg = connection.unwrap(PGConnection.class);
        listenerBackendPid = pg.getBackendPID();
        delay = reconnectDelay;
        log.debug("listening on {} (backend {})", channel, listenerBackendPid);
        deliver(Listener::resynchronize);
        long lastResync = System.nanoTime();
        long lastCheck = System.nanoTime();
        while (!closed) {
          PGNotification[] notifications = pg.getNotifications(POLL_MILLIS);
          if (notifications != null) {
            for (PGNotification notification : notifications) {
              receive(notification.getParameter());
            }
          }
          long now = System.nanoTime();
          if (now - lastResync >= resynchronizeEvery.toNanos()) {
            deliver(Listener::resynchronize);
            lastResync = now;
          }
          if (now - lastCheck >= LIVENESS_CHECK.toNanos()) {
            if (!connection.isValid((int) LIVENESS_CHECK.toSeconds())) {
              throw new SQLException("the listening connection stopped answering");
            }
            lastCheck = now;
          }
        }
      } catch (SQLException | RuntimeException e) {
        listenerBackendPid = 0;
        if (closed) {
          break;
        }
        log.warn("change feed connection lost ({}); reconnecting in {} ms", e.toString(), delay.toMillis());
        sleep(delay);
        delay = delay.multipliedBy(2).compareTo(maxReconnectDelay) > 0 ? maxReconnectDelay : delay.multipliedBy(2);
      }
    }
    listenerBackendPid = 0;
  }

  private void receive(String payload) {
    String[] parts = payload == null ? new String[0] : payload.split(" ");
    if (parts.length < 2 || parts[0].equals(nodeId)) {
      return;
    }
    decode(parts).ifPresentOrElse(
        change -> deliver(listener -> listener.onChange(change)),
        () -> log.warn("ignoring a notification this version does not understand: {}", payload));
  }

  static String encode(Change change) {
    if (change instanceof Change.AgentChanged agent) {
      return "a " + agent.tenantId().value() + " " + agent.agentId().value();
    }
    if (change instanceof Change.RevisionPublished) {
      return "r " + change.tenantId().value();
    }
    return "t " + change.tenantId().value();
  }

  private static Optional<Change> decode(String[] parts) {
    try {
      if (parts.length == 3 && parts[1].equals("t")) {
        return Optional.of(new Change.TenantChanged(TenantId.of(parts[2])));
      }
      if (parts.length == 3 && parts[1].equals("r")) {
        return Optional.of(new Change.RevisionPublished(TenantId.of(parts[2])));
      }
      if (parts.length == 4 && parts[1].equals("a")) {
        return Optional.of(new Change.AgentChanged(TenantId.of(parts[2]), AgentId.of(parts[3])));
      }
    } catch (RuntimeException malformed) {
      // falls through: not a change this version understands
    }
    return Optional.empty();
  }

  private void deliver(Consumer<Listener> call) {
    for (Listener listener : listeners) {
      try {
        call.accept(listener);
      } catch (RuntimeException e) {
        log.error("a change listener failed", e);
      }
    }
  }

  private void sleep(Duration delay) {
    try {
      Thread.sleep(delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // closing a broken connection: nothing left to do
      }
    }
  }

  /** Stops the listening thread within about a second and closes both connections. */
  @Override
  public void close() {
    Thread running;
    synchronized (this) {
      closed = true;
      running = thread;
    }
    if (running != null) {
      try {
        running.join(Duration.ofSeconds(5).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (notifyLock) {
      closeQuietly(notifyConnection);
      notifyConnection = null;
    }
    listeners.clear();
  }

  /** Configures a {@link PostgresChangeFeed}. */
  public static final class Builder {
    private final String jdbcUrl;
    private String user;
    private String password;
    private String channel = "egosecure_changes";
    private Duration reconnectDelay = Duration.ofMillis(500);
    private Duration maxReconnectDelay = Duration.ofSeconds(30);
    private Duration resynchronizeEvery = Duration.ofMinutes(5);

    private Builder(String jdbcUrl) {
      this.jdbcUrl = requireNonNull(jdbcUrl, "jdbcUrl == null");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + jdbcUrl);
      }
    }

    public Builder user(String user) {
      this.user = requireNonNull(user, "user == null");
      return this;
    }

    public Builder password(String password) {
      this.password = requireNonNull(password, "password == null");
      return this;
    }

    /**
     * The notification channel; nodes of one installation share it, installations sharing a
     * database must not. Default {@code egosecure_changes}.
     */
    public Builder channel(String channel) {
      requireNonNull(channel, "channel == null");
      if (!channel.matches("[a-z_][a-z0-9_]{0,62}")) {
        throw new IllegalArgumentException("channel must be a lower-case SQL identifier, was " + channel);
      }
      this.channel = channel;
      return this;
    }

    /** The first wait before reconnecting; it doubles up to 30 s. Default 500 ms. */
    public Builder reconnectDelay(Duration reconnectDelay) {
      requireNonNull(reconnectDelay, "reconnectDelay == null");
      if (reconnectDelay.toMillis() < 10) {
        throw new IllegalArgumentException("reconnectDelay cannot be less than 10ms, was " + reconnectDelay);
      }
      this.reconnectDelay = reconnectDelay;
      return this;
    }

    /** How often listeners re-read everything even with no connection lost. Default 5 minutes. */
    public Builder resynchronizeEvery(Duration resynchronizeEvery) {
      requireNonNull(resynchronizeEvery, "resynchronizeEvery == null");
      if (resynchronizeEvery.toSeconds() < 1) {
        throw new IllegalArgumentException("resynchronizeEvery cannot be less than 1s, was " + resynchronizeEvery);
      }
      this.resynchronizeEvery = resynchronizeEvery;
      return this;
    }

    /** A feed not yet connected: it connects when the first listener subscribes. */
    public PostgresChangeFeed build() {
      return new PostgresChangeFeed(this);
    }
  }
}
