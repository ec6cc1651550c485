package io.egosecure.examples.server;

import io.egosecure.core.EgoSecureException;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.ChangeFeed;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.examples.server.ServerOptions.Tenancy;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import io.egosecure.store.jdbc.PostgresChangeFeed;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The store and change feed the options ask for: SQLite in the data dir by default, PostgreSQL
 * (with its cross-node feed) for a URL naming it, either in the shared or the per-tenant scheme.
 */
record Storage(PolicyStore store, Optional<ChangeFeed> changeFeed, String description) implements AutoCloseable {
  private static final String SQLITE = "jdbc:sqlite:";
  private static final String POSTGRES = "jdbc:postgresql:";

  static Storage open(ServerOptions options, DataDir dataDir) throws StartupException {
    String url = options.database;
    try {
      if (url == null || url.startsWith(SQLITE)) {
        return sqlite(options.tenancy, url == null ? Optional.empty() : Optional.of(Path.of(url.substring(SQLITE.length()))), dataDir);
      }
      if (url.startsWith(POSTGRES)) {
        return postgres(options, url);
      }
    } catch (EgoSecureException | IllegalArgumentException e) {
      throw new StartupException(e.getMessage(), e);
    }
    throw new StartupException("--database must be a jdbc:sqlite: or jdbc:postgresql: URL, was " + url.split("\\?", 2)[0]);
  }

  private static Storage sqlite(Tenancy tenancy, Optional<Path> given, DataDir dataDir) throws StartupException {
    if (tenancy == Tenancy.DATABASE_PER_TENANT) {
      Path directory = given.orElse(dataDir.root()).toAbsolutePath();
      Path catalog = directory.resolve("catalog.db");
      if (directory.equals(dataDir.root())) {
        dataDir.createEmptyIfMissing(catalog);
      }
      return new Storage(JdbcPolicyStore.sqlitePerTenant(directory), Optional.empty(),
          "SQLite, a database per tenant, in " + directory);
    }
    Path file = given.orElse(dataDir.file(DataDir.DATABASE)).toAbsolutePath();
    if (file.getParent() != null && file.getParent().equals(dataDir.root())) {
      dataDir.createEmptyIfMissing(file);
    }
    return new Storage(JdbcPolicyStore.sqlite(file), Optional.empty(), "SQLite " + file);
  }

  private static Storage postgres(ServerOptions options, String url) {
    JdbcPolicyStore.PostgresBuilder store = JdbcPolicyStore.postgres(url);
    PostgresChangeFeed.Builder feed = PostgresChangeFeed.builder(url);
    if (options.databaseUser != null) {
      store.user(options.databaseUser);
      feed.user(options.databaseUser);
    }
    if (options.databasePassword != null) {
      store.password(options.databasePassword);
      feed.password(options.databasePassword);
    }
    PolicyStore opened = options.tenancy == Tenancy.DATABASE_PER_TENANT ? store.openPerTenant() : store.open();
    // The query may carry a password: describe the database without it.
    String database = url.split("\\?", 2)[0];
    return new Storage(opened, Optional.of(feed.build()),
        "PostgreSQL " + database + (options.tenancy == Tenancy.DATABASE_PER_TENANT ? ", a database per tenant" : ""));
  }

  /** Whether nobody has used this store yet: no admin key bootstrapped, no tenant created. */
  boolean isNew() {
    return store.adminKeys(Optional.empty(), PageRequest.first(1)).items().isEmpty()
        && store.tenants(Optional.empty(), PageRequest.first(1)).items().isEmpty();
  }

  /** Some tenant, to check the master key opens its signing key. */
  Optional<TenantId> anyTenant() {
    return store.tenants(Optional.empty(), PageRequest.first(1)).items().stream().findFirst().map(Tenant::id);
  }

  @Override
  public void close() {
    changeFeed.ifPresent(ChangeFeed::close);
    store.close();
  }
}
