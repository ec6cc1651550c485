package io.egosecure.store.jdbc;

import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.PolicyStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on the real PostgreSQL server, in a schema of its own per test. */
class PostgresPolicyStoreIT extends PolicyStoreContract {
  private String schema;

  @BeforeAll
  static void server() {
    PostgresTestDatabase.requireServer();
  }

  @Override
  protected PolicyStore newStore() {
    schema = PostgresTestDatabase.uniqueName("egosecure_it_");
    return PostgresTestDatabase.builder(schema).maximumPoolSize(4).open();
  }

  @AfterEach
  void dropSchema() {
    if (schema != null) {
      PostgresTestDatabase.dropSchema(schema);
    }
  }
}
