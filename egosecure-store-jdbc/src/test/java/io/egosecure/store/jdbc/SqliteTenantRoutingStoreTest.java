package io.egosecure.store.jdbc;

import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.PolicyStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on the database-per-tenant scheme over SQLite files. */
class SqliteTenantRoutingStoreTest extends PolicyStoreContract {
  @TempDir Path directory;

  @Override
  protected PolicyStore newStore() {
    return JdbcPolicyStore.sqlitePerTenant(directory);
  }
}
