package io.egosecure.store.jdbc;

import static org.junit.jupiter.api.Assertions.fail;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL server the tests use: {@code EGOSECURE_TEST_POSTGRES_URL}, {@code _USER} and
 * {@code _PASSWORD}, defaulting to {@code jdbc:postgresql://127.0.0.1:5432/postgres} as {@code
 * postgres}/{@code postgres}. Each test gets its own schema (or database prefix) and drops it.
 *
 * <p>With no server answering, the tests are skipped on a developer's machine but fail under
 * {@code CI=true}: a skipped database test in CI would hide a broken store.
 */
final class PostgresTestDatabase {
  static final String URL = env("EGOSECURE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
  static final String USER = env("EGOSECURE_TEST_POSTGRES_USER", "postgres");
  static final String PASSWORD = env("EGOSECURE_TEST_POSTGRES_PASSWORD", "postgres");

  private PostgresTestDatabase() {}

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** Skips (locally) or fails (in CI) unless the server answers. */
  static void requireServer() {
    try (Connection ignored = connect()) {
      // answers
    } catch (SQLException e) {
      String reason = "PostgreSQL at " + URL + " does not answer (" + e.getMessage() + ")";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(reason + "; CI must run the PostgreSQL tests, start the server first (.ci/run does)");
      }
      Assumptions.abort(reason + "; set EGOSECURE_TEST_POSTGRES_URL to run these tests");
    }
  }

  static Connection connect() throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("password", PASSWORD);
    properties.setProperty("connectTimeout", "3");
    return DriverManager.getConnection(URL, properties);
  }

  /** A fresh, unique lower-case name, for a schema, a channel or a database prefix. */
  static String uniqueName(String prefix) {
    byte[] bytes = new byte[5];
    new SecureRandom().nextBytes(bytes);
    return prefix + HexFormat.of().formatHex(bytes);
  }

  static JdbcPolicyStore.PostgresBuilder builder(String schema) {
    return JdbcPolicyStore.postgres(URL).user(USER).password(PASSWORD).schema(schema);
  }

  static void dropSchema(String schema) {
    execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }

  static void dropDatabases(String prefix) {
    List<String> names = new ArrayList<>();
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT datname FROM pg_database")) {
      while (rows.next()) {
        if (rows.getString(1).startsWith(prefix)) {
          names.add(rows.getString(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    names.forEach(name -> execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"));
  }

  static void execute(String sql) {
    try (Connection connection = connect(); Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }
}
