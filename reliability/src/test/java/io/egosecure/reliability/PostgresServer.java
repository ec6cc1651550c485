package io.egosecure.reliability;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL server of the store's tests: {@code EGOSECURE_TEST_POSTGRES_URL}, {@code _USER}
 * and {@code _PASSWORD} (default {@code jdbc:postgresql://127.0.0.1:5432/postgres},
 * {@code postgres}/{@code postgres}). Every test works in a database of its own, created here and
 * dropped after, so it never touches anyone else's data.
 *
 * <p>Without a server these tests are skipped on a developer's machine and fail under
 * {@code CI=true}, as the store's are: a skipped fault test in CI would hide a broken recovery.
 */
final class PostgresServer {
  static final String URL = env("EGOSECURE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
  static final String USER = env("EGOSECURE_TEST_POSTGRES_USER", "postgres");
  static final String PASSWORD = env("EGOSECURE_TEST_POSTGRES_PASSWORD", "postgres");

  private PostgresServer() {}

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** Skips (locally) or fails (in CI) unless the server answers. */
  static void requireServer() {
    try (Connection ignored = connect(URL)) {
      // answers
    } catch (SQLException e) {
      skipOrFail("PostgreSQL at " + URL + " does not answer (" + e.getMessage() + ")");
    }
  }

  /** Skips (locally) or fails (in CI) unless this process may restart the local cluster. */
  static void requireRestartable() {
    requireServer();
    if (clusterVersion() == null || !"root".equals(System.getProperty("user.name"))) {
      skipOrFail("restarting PostgreSQL needs root and pg_ctlcluster with a cluster in /etc/postgresql");
    }
  }

  static void skipOrFail(String reason) {
    if (inCi()) {
      fail(reason + "; CI must run the PostgreSQL fault tests (.ci/run starts the server as root)");
    }
    Assumptions.abort(reason + "; set EGOSECURE_TEST_POSTGRES_URL to run these tests");
  }

  static Connection connect(String url) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("password", PASSWORD);
    properties.setProperty("connectTimeout", "3");
    properties.setProperty("socketTimeout", "30");
    return DriverManager.getConnection(url, properties);
  }

  /** Creates a fresh database and returns its name. */
  static String createDatabase(String prefix) {
    byte[] bytes = new byte[5];
    new SecureRandom().nextBytes(bytes);
    String name = prefix + HexFormat.of().formatHex(bytes);
    execute("CREATE DATABASE " + name);
    return name;
  }

  static void dropDatabase(String name) {
    execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }

  /** The test URL with its database replaced by {@code database}. */
  static String urlOf(String database) {
    int pathStart = URL.indexOf('/', "jdbc:postgresql://".length());
    int query = URL.indexOf('?', pathStart);
    return URL.substring(0, pathStart + 1) + database + (query < 0 ? "" : URL.substring(query));
  }

  /**
   * Ends every change-feed connection of {@code database} (the LISTEN connection and the one that
   * sends NOTIFY, of every node); returns how many. Found by the feed's application name: the
   * {@code query LIKE 'LISTEN%'} of pg_stat_activity stops matching once the feed's liveness
   * check has run its empty validation query on the connection.
   */
  static int terminateChangeFeeds(String database) {
    return changeFeedPids(database).stream().mapToInt(pid -> terminate(pid) ? 1 : 0).sum();
  }

  /** Backend pids of the change-feed connections of {@code database}. */
  static List<Integer> changeFeedPids(String database) {
    List<Integer> pids = new ArrayList<>();
    try (Connection connection = connect(URL);
        PreparedStatement query = connection.prepareStatement(
            "SELECT pid FROM pg_stat_activity WHERE datname = ? AND application_name LIKE 'egosecure-change-feed %'")) {
      query.setString(1, database);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          pids.add(rows.getInt(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("reading pg_stat_activity: " + e.getMessage(), e);
    }
    return pids;
  }

  /** When the server (postmaster) started: changes with every restart. */
  static java.time.Instant startTime() throws SQLException {
    try (Connection connection = connect(URL); Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT pg_postmaster_start_time()")) {
      rows.next();
      return rows.getTimestamp(1).toInstant();
    }
  }

  private static boolean terminate(int pid) {
    try (Connection connection = connect(URL);
        PreparedStatement terminate = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
      terminate.setInt(1, pid);
      try (ResultSet rows = terminate.executeQuery()) {
        return rows.next() && rows.getBoolean(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("pg_terminate_backend(" + pid + "): " + e.getMessage(), e);
    }
  }

  /** The newest cluster version in /etc/postgresql, as .ci/run picks it; null if there is none. */
  static String clusterVersion() {
    Path etc = Path.of("/etc/postgresql");
    if (!Files.isDirectory(etc)) {
      return null;
    }
    try (Stream<Path> versions = Files.list(etc)) {
      return versions.filter(p -> Files.isDirectory(p.resolve("main")))
          .map(p -> p.getFileName().toString())
          .max(Comparator.comparing(PostgresServer::versionKey))
          .orElse(null);
    } catch (IOException e) {
      return null;
    }
  }

  private static String versionKey(String version) {
    // "9.6" < "15": compare by zero-padded major and minor.
    String[] parts = version.split("\\.");
    StringBuilder key = new StringBuilder();
    for (String part : parts) {
      key.append(String.format("%06d", part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? Integer.parseInt(part) : 0));
    }
    return key.toString();
  }

  /** {@code pg_ctlcluster VERSION main restart} (fast shutdown: sessions are ended), bounded. */
  static void restart() throws IOException, InterruptedException {
    Process process = new ProcessBuilder("pg_ctlcluster", "--skip-systemctl-redirect", clusterVersion(), "main", "restart")
        .redirectErrorStream(true).start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("pg_ctlcluster restart did not finish within 60 s");
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IllegalStateException("pg_ctlcluster restart exited with " + process.exitValue() + ": " + output);
    }
  }

  private static void execute(String sql) {
    try (Connection connection = connect(URL); Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }
}
