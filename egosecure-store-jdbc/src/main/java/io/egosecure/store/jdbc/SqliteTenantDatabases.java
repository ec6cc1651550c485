package io.egosecure.store.jdbc;

import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.TenantId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One SQLite file per tenant, under {@code <directory>/tenants/}. */
final class SqliteTenantDatabases implements TenantDatabases {
  private final Path directory;

  SqliteTenantDatabases(Path directory) {
    this.directory = directory;
  }

  private Path file(TenantId tenant) {
    return directory.resolve(tenant.value() + ".db");
  }

  @Override
  public void create(TenantId tenant) {
    if (Files.exists(file(tenant))) {
      throw new IllegalStateException("the database of tenant " + tenant + " exists: " + file(tenant));
    }
    JdbcPolicyStore.sqlite(file(tenant)).close();
  }

  @Override
  public JdbcPolicyStore open(TenantId tenant) {
    if (!Files.exists(file(tenant))) {
      throw new StoreUnavailableException("the database of tenant " + tenant + " is missing: " + file(tenant), null);
    }
    return JdbcPolicyStore.sqlite(file(tenant));
  }

  @Override
  public void drop(TenantId tenant) {
    Path file = file(tenant);
    try {
      for (String suffix : new String[] {"", "-wal", "-shm"}) {
        Files.deleteIfExists(file.resolveSibling(file.getFileName() + suffix));
      }
    } catch (IOException e) {
      throw new StoreUnavailableException("cannot delete the database of tenant " + tenant + ": " + file, e);
    }
  }

  @Override
  public void close() {}
}
