package io.egosecure.store.jdbc;

import io.egosecure.core.model.TenantId;

/**
 * Where a database-per-tenant store keeps each tenant: it creates, opens and drops one database
 * per tenant. Implementations for SQLite files and PostgreSQL databases live beside it.
 */
interface TenantDatabases extends AutoCloseable {

  /** Creates the tenant's empty database; fails if it exists. */
  void create(TenantId tenant);

  /** Opens (and migrates) the tenant's existing database. */
  JdbcPolicyStore open(TenantId tenant);

  /** Drops the tenant's database and everything in it; a missing one is not an error. */
  void drop(TenantId tenant);

  /** Releases what the provider holds itself (an admin pool), not the opened stores. */
  @Override
  void close();
}
