package io.egosecure.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.spi.PageRequest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A statement the database never answers fails after the store's socket timeout, as unavailable,
 * instead of holding its request for as long as TCP keeps a dead connection open.
 */
class PostgresSocketTimeoutIT {
  private final String schema = PostgresTestDatabase.uniqueName("egosecure_it_");

  @BeforeAll
  static void server() {
    PostgresTestDatabase.requireServer();
  }

  @AfterEach
  void dropSchema() {
    PostgresTestDatabase.dropSchema(schema);
  }

  @Test
  void aStatementLeftUnansweredFailsAfterTheSocketTimeoutAndTheStoreRecovers() throws Exception {
    try (JdbcPolicyStore store = PostgresTestDatabase.builder(schema).socketTimeout(Duration.ofSeconds(1)).open();
        Connection locker = PostgresTestDatabase.connect()) {
      assertThat(store.tenants(Optional.empty(), PageRequest.first(1)).items()).isEmpty();
      // Another session holds the table: the store's read waits, unanswered, as on a dead link.
      locker.setAutoCommit(false);
      try (Statement statement = locker.createStatement()) {
        statement.execute("LOCK TABLE " + schema + ".tenants IN ACCESS EXCLUSIVE MODE");
      }
      long start = System.nanoTime();
      assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
          assertThatThrownBy(() -> store.tenants(Optional.empty(), PageRequest.first(1)))
              .isInstanceOf(StoreUnavailableException.class));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
      locker.rollback();

      assertThat(store.tenants(Optional.empty(), PageRequest.first(1)).items()).isEmpty();
    }
  }

  @Test
  void theStoresSessionsNameThemselves() throws Exception {
    try (JdbcPolicyStore store = PostgresTestDatabase.builder(schema).open();
        Connection observer = PostgresTestDatabase.connect();
        Statement statement = observer.createStatement()) {
      store.tenants(Optional.empty(), PageRequest.first(1));
      try (ResultSet sessions = statement.executeQuery(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'egosecure-store'")) {
        sessions.next();
        assertThat(sessions.getInt(1)).isPositive();
      }
    }
  }

  @Test
  void aSocketTimeoutBelowOneSecondIsRefused() {
    assertThatThrownBy(() -> JdbcPolicyStore.postgres(PostgresTestDatabase.URL).socketTimeout(Duration.ofMillis(500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("socketTimeout");
  }
}
