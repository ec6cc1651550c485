package io.egosecure.store.jdbc;

import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.PolicyStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on the database-per-tenant scheme over real PostgreSQL databases. */
class PostgresTenantRoutingStoreIT extends PolicyStoreContract {
  private String prefix;
  private String schema;

  @BeforeAll
  static void server() {
    PostgresTestDatabase.requireServer();
  }

  @Override
  protected PolicyStore newStore() {
    schema = PostgresTestDatabase.uniqueName("egosecure_it_");
    prefix = PostgresTestDatabase.uniqueName("egosecure_it_") + "_";
    return PostgresTestDatabase.builder(schema).tenantDatabasePrefix(prefix).openPerTenant();
  }

  @AfterEach
  void drop() {
    if (schema != null) {
      PostgresTestDatabase.dropSchema(schema);
      PostgresTestDatabase.dropDatabases(prefix);
    }
  }
}
