package io.egosecure.store.jdbc;

import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.PolicyStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on a real SQLite file. */
class SqlitePolicyStoreTest extends PolicyStoreContract {
  @TempDir Path directory;

  @Override
  protected PolicyStore newStore() {
    return JdbcPolicyStore.sqlite(directory.resolve("egosecure.db"));
  }
}
